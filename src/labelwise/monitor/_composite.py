"""The composite score, severity levels and the persistence state machine.

Each monitor reports a statistic and its threshold; the composite turns the ratios
statistic / threshold into one number in [0, 1] that never decreases when a statistic grows.
Two forms: ``"fired"`` (the seed paper's weighted share of monitors over threshold) and
``"graded"`` (each monitor contributes min(1, max(0, ratio - 0.5)), so a monitor at its threshold
counts half and one at 1.5 times its threshold counts fully).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from labelwise.errors import ConfigError

__all__ = [
    "LEVELS",
    "SEVERITIES",
    "MONITORS",
    "DEFAULT_WEIGHTS",
    "PRESETS",
    "composite_score",
    "level_of",
    "SeverityTracker",
]

#: Severity levels, least to most severe.
LEVELS = ("ok", "watch", "warn", "alert", "critical")
#: The severities a window may carry: the levels, under the name the store and the pages use.
SEVERITIES = LEVELS
#: Monitor names, in report order.
MONITORS = (
    "score",
    "features",
    "entropy",
    "confidence",
    "performance",
    "operational",
    "multivariate",
)
#: Default weights of the graded composite.
DEFAULT_WEIGHTS = {
    "score": 0.15,
    "features": 0.20,
    "entropy": 0.10,
    "confidence": 0.10,
    "performance": 0.20,
    "operational": 0.10,
    "multivariate": 0.15,
}

#: Named settings. "governance-paper" is the seed paper's credit-scoring configuration: four proxy
#: monitors, fired-share composite, cut-offs warning 0.25 / alert 0.45 / critical 0.65 (the
#: "watch" level at 0.10 is this package's addition).
PRESETS: dict[str, dict] = {
    "default": {
        "composite": "graded",
        "weights": DEFAULT_WEIGHTS,
        "cutoffs": (0.10, 0.25, 0.45, 0.65),
    },
    "governance-paper": {
        "composite": "fired",
        "weights": {
            "score": 0.10,
            "features": 0.20,
            "entropy": 0.15,
            "confidence": 0.15,
            "performance": 0.0,
            "operational": 0.0,
            "multivariate": 0.0,
        },
        "cutoffs": (0.10, 0.25, 0.45, 0.65),
    },
}


def _contribution(ratio: float, method: str) -> float:
    if method == "fired":
        return 1.0 if ratio > 1.0 else 0.0
    return float(min(1.0, max(0.0, ratio - 0.5)))


def composite_score(
    ratios: Mapping[str, float], weights: Mapping[str, float], method: str = "graded"
) -> float:
    """Weighted composite of per-monitor ratios statistic / threshold, in [0, 1].

    Monitors with a zero weight or a NaN ratio (not computable for this window) are inactive and
    leave the denominator. Non-decreasing in every ratio.

    >>> w = PRESETS["governance-paper"]["weights"]
    >>> r = {"score": 0.0, "features": 2.0, "entropy": 2.0, "confidence": 0.0}
    >>> round(composite_score(r, w, "fired"), 3)
    0.583
    """
    if method not in ("graded", "fired"):
        raise ConfigError(f"composite={method!r} is not supported; use 'graded' or 'fired'.")
    total = active = 0.0
    for name, ratio in ratios.items():
        weight = float(weights.get(name, 0.0))
        if weight <= 0 or ratio is None or not np.isfinite(ratio):
            continue
        active += weight
        total += weight * _contribution(float(ratio), method)
    return total / active if active > 0 else 0.0


def level_of(composite: float, cutoffs: tuple[float, ...]) -> int:
    """Index into :data:`LEVELS`: how many cut-offs the composite reaches.

    >>> LEVELS[level_of(0.5, (0.1, 0.25, 0.45, 0.65))]
    'alert'
    """
    return int(sum(composite >= c for c in cutoffs))


@dataclass
class SeverityTracker:
    """Severity over successive windows, with hysteresis and a k-of-m persistence rule.

    A window's raw level is the highest cut-off its composite reaches; once at a level, the raw
    level only drops when the composite falls ``hysteresis`` below that level's cut-off, which
    stops a composite hovering at a cut-off from flapping. The reported level is the highest level
    that the raw level reached in at least ``k`` of the last ``m`` windows.

    >>> t = SeverityTracker((0.1, 0.25, 0.45, 0.65), hysteresis=0.05, k=2, m=3)
    >>> [t.step(c) for c in (0.5, 0.5, 0.42, 0.3)]
    ['ok', 'alert', 'alert', 'alert']
    """

    cutoffs: tuple[float, ...]
    hysteresis: float = 0.05
    k: int = 1
    m: int = 1
    raw: int = 0
    history: deque = field(default_factory=deque)

    def __post_init__(self) -> None:
        if len(self.cutoffs) != len(LEVELS) - 1 or list(self.cutoffs) != sorted(self.cutoffs):
            raise ConfigError(
                f"cutoffs must be {len(LEVELS) - 1} increasing numbers (watch, warn, alert, "
                f"critical), got {self.cutoffs!r}."
            )
        if not (1 <= self.k <= self.m):
            raise ConfigError(f"persistence needs 1 <= k <= m, got k={self.k}, m={self.m}.")
        if self.hysteresis < 0:
            raise ConfigError(f"hysteresis must be >= 0, got {self.hysteresis}.")
        self.history = deque(self.history, maxlen=self.m)

    def raw_level(self, composite: float) -> int:
        """The instantaneous level, held up by hysteresis."""
        level = level_of(composite, self.cutoffs)
        if level >= self.raw:
            return level
        held = self.raw
        while held > level and composite < self.cutoffs[held - 1] - self.hysteresis:
            held -= 1
        return held

    def step(self, composite: float) -> str:
        """Feed one window's composite; return the reported level name."""
        self.raw = self.raw_level(composite)
        self.history.append(self.raw)
        levels = sorted(self.history, reverse=True)
        reported = levels[self.k - 1] if len(levels) >= self.k else 0
        return LEVELS[reported]

    def to_dict(self) -> dict:
        return {"raw": self.raw, "history": list(self.history)}

    def load(self, state: Mapping) -> None:
        self.raw = int(state["raw"])
        self.history = deque((int(x) for x in state["history"]), maxlen=self.m)
