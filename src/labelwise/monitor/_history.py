"""What a monitor carries from one window to the next: severity state and estimates to reconcile.

One reason to change: how windows relate over time. A window's severity depends on the windows
before it (hysteresis, the k-of-m rule), and its label-free estimates wait for its labels to
mature, when :meth:`Monitor.reconcile <labelwise.monitor.Monitor.reconcile>` compares them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labelwise.errors import InputError
from labelwise.monitor._composite import LEVELS, SeverityTracker
from labelwise.monitor._results import (
    BLIND_SPOT,
    MetricRow,
    Reconciliation,
    WindowResult,
    clip_to_range,
)

__all__ = ["WindowHistory", "estimates_of"]


class WindowHistory:
    """Severity over windows (:meth:`new_tracker`, :meth:`resume_severity`) and
    :meth:`reconcile`."""

    # --- severity over windows ----------------------------------------------------------------

    def new_tracker(self, state: Mapping | None = None) -> SeverityTracker:
        """A severity tracker of this monitor's settings, resumed from ``state`` if given."""
        self._check_fitted()
        settings = self.settings_
        tracker = SeverityTracker(
            settings["cutoffs"], self.hysteresis, settings["k"], settings["m"]
        )
        if state:
            tracker.load(state)
        return tracker

    def resume_severity(
        self, results: Sequence[Mapping[str, Any]], state: Mapping | None
    ) -> tuple[list[dict], dict]:
        """Severities of ``results`` (``WindowResult.to_dict()``, in order) after ``state``.

        The severity of a window depends on the windows before it (hysteresis and the k-of-m
        rule). A store keeps the tracker's state with the last window written, so a check run
        against the store resumes from what the store holds, inside the transaction that writes
        the new windows: concurrent runs on one monitor cannot lose or fork that history.

        Returns the results with ``severity``, ``details.raw_level`` and
        ``details.previous_raw_level`` set, and the state to store after them.
        """
        tracker = self.new_tracker(state)
        out = []
        for result in results:
            before = tracker.raw
            severity = tracker.step(float(result["composite"]))
            details = {
                **result.get("details", {}),
                "raw_level": LEVELS[tracker.raw],
                "previous_raw_level": LEVELS[before],
            }
            out.append({**result, "severity": severity, "details": details})
        return out, tracker.to_dict()

    # --- reconciliation -----------------------------------------------------------------------

    def reconcile(
        self, window: str | WindowResult | Mapping, labels: Any, scores: Any = None
    ) -> Reconciliation:
        """Compare a past window's label-free estimates with its matured labels.

        Parameters
        ----------
        window : str, WindowResult or dict
            A window checked earlier: its result (``WindowResult`` or its ``to_dict()``, as a
            store returns it), or its id when it was checked by this monitor object.
        labels : array-like
            Realized outcomes: 0/1 (binary), class names (multiclass) or targets (regression).
        scores : array-like or DataFrame, optional
            The window's outputs, row-aligned with ``labels``: scores (binary; needed for AUC,
            precision and recall), the probability columns as a DataFrame or rows x classes
            (multiclass), predictions (regression).

        Returns
        -------
        Reconciliation
        """
        self._check_fitted()
        window_id, estimates = self._estimates_of(window)
        realized, notes = self.layout_.output.realize(labels, scores)
        rows = []
        for name, value in realized.items():
            est = estimates.get(name)
            if est is None or est["estimated"] is None:
                continue
            # Clipped again: a monitor saved before bands were clipped holds raw ones.
            low, high = clip_to_range(name, est["low"]), clip_to_range(name, est["high"])
            inside = low is None or (low <= value <= high)
            band = {"low": low, "high": high}
            rows.append({"metric": name, "realized": value, **est, **band, "inside_band": inside})
        notes.append(BLIND_SPOT)
        return Reconciliation(window_id, int(np.asarray(labels).shape[0]), rows, notes)

    def _estimates_of(self, window: Any) -> tuple[str, dict]:
        """The window's id and its performance estimates, from a result or this session."""
        if isinstance(window, WindowResult):
            window = window.to_dict()
        if isinstance(window, Mapping):
            config = window.get("details", {}).get("config_hash")
            if config is not None and config != self.config_hash:
                raise InputError(
                    f"window {window.get('window')!r} was checked by another monitor "
                    "configuration (its config hash differs); reconcile it with that monitor."
                )
            rows = [MetricRow(**m) for m in window.get("metrics", [])]
            return str(window["window"]), estimates_of(rows)
        if str(window) not in self.estimates_:
            raise InputError(
                f"window {window!r} was not checked by this monitor object; pass its result (a "
                "WindowResult, or the dict a MonitorStore returns from window_detail) instead. "
                f"Windows checked here: {list(self.estimates_)[-10:]}."
            )
        return str(window), self.estimates_[str(window)]


def estimates_of(metrics: Sequence[MetricRow]) -> dict:
    """A window's performance estimates and bands, by metric name, for :meth:`reconcile`."""
    out = {}
    for row in metrics:
        if row.monitor == "performance" and row.metric.startswith("expected_"):
            d = row.to_dict()
            name = row.metric.removeprefix("expected_")
            out[name] = {"estimated": d["value"], "low": d["low"], "high": d["high"]}
    return out
