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

from labelwise.monitor import BLIND_SPOT
from labelwise.monitor.dashboard._app import create_app
from labelwise.monitor.dashboard._cells import fmt
from labelwise.monitor.dashboard._charts import Band, Series, line_chart
from labelwise.monitor.dashboard._figures import MAX_SERIES, scale_groups
from labelwise.monitor.dashboard._urls import model_url, window_url
from labelwise.monitor.store import SEVERITIES

__all__ = [
    "BLIND_SPOT",
    "MAX_SERIES",
    "SEVERITIES",
    "Band",
    "Series",
    "create_app",
    "fmt",
    "line_chart",
    "model_url",
    "scale_groups",
    "window_url",
]
