"""A monitor's configuration: its parameters, what each may be, and the settings they resolve to.

One reason to change: what a :class:`~labelwise.monitor.Monitor` can be told. The constraints
are declared once, in :attr:`MonitorConfig._parameter_constraints`, and checked whenever a monitor
is fitted or loaded; the settings resolved from them (weights, cut-offs, floors, the k-of-m rule)
are what the monitor then uses.

>>> from labelwise.errors import ConfigError
>>> MonitorConfig.check_values({"n_bins": np.int64(10), "fine_bins": 1000})
>>> try:
...     MonitorConfig.check_values({"n_bins": 1, "fine_bins": 1000})
... except ConfigError as exc:
...     print(exc)
n_bins must be an integer >= 2, got 1.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np

from labelwise._parallel import resolve_n_jobs
from labelwise._params import BOOLEAN, InstanceOf, Interval, Options, check_params
from labelwise._shared.serialize import jsonable
from labelwise.errors import ConfigError
from labelwise.monitor._composite import MONITORS, PRESETS

__all__ = ["DEFAULT_FLOORS", "SHARED_THRESHOLDED", "MonitorConfig"]

#: Materiality floors: a statistic must exceed both its null quantile and this value to fire.
DEFAULT_FLOORS = {
    "score_psi": 0.10,
    "score_ks": 0.05,
    "score_wasserstein": 0.05,
    "features_max_psi": 0.10,
    "features_weighted_psi": 0.05,
    "feature_psi": 0.10,
    "missing_max_delta": 0.02,
    "entropy_delta": 0.01,
    "near_delta": 0.02,
    "confidence_ks": 0.05,
    "multivariate_delta": 0.10,
    "out_of_range_share": 0.01,
    "prediction_mix_psi": 0.10,
}
#: Statistics of every kind that get a null-quantile threshold.
SHARED_THRESHOLDED = (
    "features_max_psi",
    "features_weighted_psi",
    "missing_max_delta",
    "multivariate_delta",
)

_A_DICT = InstanceOf(Mapping, "a dict")


class MonitorConfig:
    """Parameters of a monitor: reading, changing, validating and fingerprinting them.

    The subclass's ``__init__`` stores each keyword argument under its own name, as
    scikit-learn estimators do; nothing is checked until the monitor is fitted or loaded.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_bins": [Interval(Integral, 2, None)],
        "fine_bins": [Interval(Integral, 2, None)],  # and >= n_bins: see check_values
        "smoothing": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "n_null": [Interval(Integral, 20, None)],
        "null_rows": [Interval(Integral, 1, None)],
        "floors": [_A_DICT, None],
        "fdr": [Interval(Real, 0, 1, closed="neither")],
        "near_band": [Interval(Real, 0, None)],
        "importance": [_A_DICT, None],
        "preset": [Options(PRESETS)],
        "weights": [_A_DICT, None],
        "composite": [Options(("graded", "fired")), None],
        "hysteresis": [Interval(Real, 0, None)],
        "n_sigma": [Interval(Real, 0, None)],
        "calibrate": [Options(("auto", "isotonic", "none")), BOOLEAN, None],
        # As scikit-learn's PCA takes it: a share of variance, or a number of components.
        "pca_variance": [Interval(Real, 0, 1, closed="neither"), Interval(Integral, 1, None)],
        "random_state": [Interval(Integral, 0, None), None],
        "cutoffs": [InstanceOf((tuple, list), "a sequence of level cutoffs"), None],
        "persistence": [InstanceOf((tuple, list), "a pair (k, m) of window counts")],
    }

    def get_params(self) -> dict:
        """Constructor parameters, as given."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> MonitorConfig:
        """Set constructor parameters by name; returns self. Refit for statistical ones."""
        unknown = sorted(set(params) - set(self.get_params()))
        if unknown:
            raise ConfigError(f"unknown parameter(s) {unknown}; known: {list(self.get_params())}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> None:
        """Raise ConfigError naming the first parameter in ``values`` that is not allowed."""
        check_params(cls._parameter_constraints, values)
        if "fine_bins" in values and values["fine_bins"] < values.get("n_bins", 0):
            raise ConfigError(
                f"fine_bins must be an integer >= n_bins, got {values['fine_bins']!r}."
            )

    def _settings(self) -> dict:
        """The validated parameters, resolved: weights, cut-offs, floors and the k-of-m rule."""
        params = self.get_params()
        self.check_values(params)
        resolve_n_jobs(self.n_jobs)
        base = PRESETS[self.preset]
        k, m = self.persistence
        return {
            "composite": self.composite or base["composite"],
            "weights": _weights(base["weights"], self.weights),
            "cutoffs": tuple(float(c) for c in (self.cutoffs or base["cutoffs"])),
            "floors": _floors(self.floors),
            "k": int(k),
            "m": int(m),
        }

    @property
    def config_hash(self) -> str:
        """sha256 of the constructor parameters and fit-time settings (canonical JSON)."""
        params = self.get_params()
        params.pop("n_jobs")  # how fast, not what: results do not depend on it
        fit = getattr(self, "fit_params_", {})
        text = json.dumps(jsonable({"params": params, "fit": fit}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _weights(preset: Mapping[str, float], given: Mapping[str, float] | None) -> dict:
    """The preset's monitor weights, overridden by those given."""
    weights = {**preset, **dict(given or {})}
    unknown = sorted(set(weights) - set(MONITORS))
    if unknown:
        raise ConfigError(f"weights name unknown monitors {unknown}; known: {list(MONITORS)}.")
    if any(not np.isfinite(w) or w < 0 for w in weights.values()):
        raise ConfigError("monitor weights must be finite and non-negative.")
    return weights


def _floors(given: Mapping[str, float] | None) -> dict:
    """The default materiality floors, overridden by those given."""
    floors = {**DEFAULT_FLOORS, **dict(given or {})}
    unknown = sorted(set(floors) - set(DEFAULT_FLOORS))
    if unknown:
        raise ConfigError(f"floors name unknown statistics {unknown}.")
    return floors
