"""A read-only web dashboard over a monitor store: server-rendered HTML with inline SVG charts.

:func:`create_app` builds a FastAPI application over a
:class:`~labelwise.monitor.store.MonitorStore`. Pages are rendered on the server from the
jinja2 templates in this package; charts are SVG drawn in Python.
Nothing is fetched from the network (no scripts, fonts or styles from a CDN) and nothing is
sent anywhere, so the dashboard works offline. It only reads: no route writes to the store.

Routes
------
``/``                                   models, with the severity of their last window
``/models/{model}``                     windows of a model, a chart per monitor, the composite
``/models/{model}/windows/{window}``    one window: metrics, features, reconciliation
``/alerts``                             windows whose severity reached an alert
``/api/...``                            the same data as JSON

Model and window names are written as one percent-encoded path segment each (``/`` as ``%2F``)
and read back from the raw path, so any name opens (see :func:`path_segment`). Binary,
multiclass and regression models share the pages: charts and tables are drawn from the metrics
a model has, with per-class statistics (``expected_f1[cat]``) gathered into a table.
"""

from labelwise._shared.charts import PALETTE, nice_ticks  # noqa: F401
from labelwise._shared.formatting import format_time as when  # noqa: F401
from labelwise._shared.urls import display_url  # noqa: F401
from labelwise.monitor._composite import SEVERITIES  # noqa: F401
from labelwise.monitor._results import BLIND_SPOT  # noqa: F401
from labelwise.monitor.dashboard._app import create_app  # noqa: F401
from labelwise.monitor.dashboard._cells import fmt  # noqa: F401
from labelwise.monitor.dashboard._charts import Band, Series, bar_chart, line_chart  # noqa: F401
from labelwise.monitor.dashboard._figures import (  # noqa: F401 - importable from here as before
    CLASS_CHARTS,
    DEFAULT_BANDS,
    MAX_SERIES,
    SCALE_RATIO,
    class_series,
    model_charts,
    monitor_series,
    scale_groups,
    score_bins_chart,
    severity_bands,
)
from labelwise.monitor.dashboard._metrics import (  # noqa: F401 - importable from here as before
    CLASS_COLUMNS,
    class_table,
    estimate_rows,
    model_kind,
    split_metric,
    window_classes,
)
from labelwise.monitor.dashboard._queries import (  # noqa: F401 - importable from here as before
    FEATURE_COLUMNS,
    StoreView,
    feature_rows,
    plain,
    records,
)
from labelwise.monitor.dashboard._urls import (  # noqa: F401 - importable from here as before
    NotFound,
    alerts_url,
    locate,
    model_url,
    path_segment,
    segment_name,
    window_url,
)

# Everything above stays importable from here; the documented API is this list.
__all__ = [
    "BLIND_SPOT",
    "SEVERITIES",
    "Band",
    "Series",
    "create_app",
    "fmt",
    "line_chart",
]
