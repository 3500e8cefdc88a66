"""Label-free monitoring of deployed models: binary, multiclass and regression.

Fit a :class:`Monitor` on a labelled reference window, then check each production window while
its labels are still weeks away: output shift, feature shift, uncertainty, expected performance
(confidence-based for classifiers, direct loss estimation for regression) and operational
signals, each against a threshold calibrated on the reference at the window's size, combined
into a composite score and a severity level. When the labels mature, :meth:`Monitor.reconcile`
compares the estimates with what happened. Results go to an append-only, hash-chained
:class:`~labelwise.monitor.store.MonitorStore`.

No label-free signal can see a pure change of P(Y|X); every report says so.

>>> from labelwise.monitor import Monitor, composite_score, LEVELS
>>> LEVELS
('ok', 'watch', 'warn', 'alert', 'critical')
"""

from labelwise.monitor._composite import (
    DEFAULT_WEIGHTS,
    LEVELS,
    MONITORS,
    PRESETS,
    SeverityTracker,
    composite_score,
    level_of,
)
from labelwise.monitor._config import DEFAULT_FLOORS
from labelwise.monitor._counts import Layout, WindowCounts
from labelwise.monitor._fit import default_features
from labelwise.monitor._monitor import Monitor
from labelwise.monitor._results import (
    BLIND_SPOT,
    METRIC_RANGES,
    MetricRow,
    Reconciliation,
    WindowResult,
)
from labelwise.monitor._stats import (
    binned_ks,
    binned_wasserstein,
    expected_auc,
    g_test_pvalue,
    psi,
    psi_null_mean,
)

__all__ = [
    "BLIND_SPOT",
    "DEFAULT_FLOORS",
    "DEFAULT_WEIGHTS",
    "LEVELS",
    "METRIC_RANGES",
    "MONITORS",
    "PRESETS",
    "Layout",
    "MetricRow",
    "Monitor",
    "Reconciliation",
    "SeverityTracker",
    "WindowCounts",
    "WindowResult",
    "binned_ks",
    "binned_wasserstein",
    "composite_score",
    "default_features",
    "expected_auc",
    "g_test_pvalue",
    "level_of",
    "psi",
    "psi_null_mean",
]
