"""Checking a window: counting its rows, its null distribution, its statistics and its result.

One reason to change: how one production window is judged against the reference. Reading the
rows is :mod:`._window_reading`, the statistics every kind shares are :mod:`._evaluate`, the
thresholds of the null draws are :mod:`._null`; this module puts them together into a
:class:`~labelwise.monitor.WindowResult`.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise._parallel import resolve_n_jobs
from labelwise.errors import InputError, InputTypeError
from labelwise.monitor._composite import LEVELS, MONITORS, composite_score
from labelwise.monitor._config import SHARED_THRESHOLDED
from labelwise.monitor._counts import WindowCounts, tally_many
from labelwise.monitor._evaluate import (
    feature_rows,
    feature_statistics,
    multivariate_rows,
    multivariate_statistics,
    shifted_features,
)
from labelwise.monitor._history import estimates_of
from labelwise.monitor._null import null_entry, row_weights, size_key
from labelwise.monitor._output import Rows, as_float
from labelwise.monitor._reference import sample_rows
from labelwise.monitor._results import BLIND_SPOT, WindowResult
from labelwise.monitor._window_reading import count_window, rows_hint, thread_pool

__all__ = ["WindowChecks"]


class WindowChecks:
    """:meth:`check` and what it rests on: counts, null thresholds and window statistics."""

    # --- statistics ---------------------------------------------------------------------------

    def _statistics(self, ref: dict, cur: dict, light: bool = False) -> dict:
        """Every window statistic from two tallies; ``light`` skips p-values and tables.

        Tallies may be stacked (a leading draw axis, as :func:`tally_many` gives): every
        statistic then comes out as an array with one value per draw.
        """
        output = self.layout_.output
        s = output.statistics(ref, cur, self.smoothing, light)
        table = {}
        feats = feature_statistics(self.layout_, self.importance_, ref, cur, self.smoothing, light)
        if not light:
            table = {"feature_table": feats.pop("feature_table")}
        s.update(feats)
        s.update(multivariate_statistics(ref, cur))
        s.update(output.performance(cur))
        # Shifts against the reference's own estimate: their spread over the null draws carries
        # the reference's sampling error too, which matters when the window dwarfs the reference.
        for name, value in output.performance(ref, realized=False).items():
            s[name + "_shift"] = s[name] - value
        s = {k: (as_float(v) if not isinstance(v, list) else v) for k, v in s.items()}
        s.update(table)
        return s

    # --- null distribution --------------------------------------------------------------------

    def null_thresholds(self, n_rows: int) -> dict:
        """Thresholds and sampling errors for windows of about ``n_rows`` rows (cached).

        Each of ``n_null`` draws pairs a resampled reference (of the reference's size) with a
        resampled window of ``n_rows`` rows, both drawn from the stored reference sample as row
        multiplicities (see :func:`~labelwise.monitor._null.row_weights`, so the cost does not
        grow with the window size), and computes every statistic on the pair. The reference
        draws do not depend on the window size and are shared by all sizes. See
        :func:`~labelwise.monitor._null.null_entry` for the thresholds and bands.
        """
        self._check_fitted()
        key = size_key(n_rows)
        if key in self.null_cache_:
            return self.null_cache_[key]
        current = self._null_tallies(key, seed=key)
        stats = self._statistics(self._null_references(), current, light=True)
        # A statistic that is undefined for this monitor (no PCA, no features) is one NaN.
        draws = {k: np.broadcast_to(np.asarray(v, float), (self.n_null,)) for k, v in stats.items()}
        output = self.layout_.output
        entry = null_entry(
            draws,
            key,
            (*output.thresholded, *SHARED_THRESHOLDED),
            output.banded,
            self.settings_["floors"],
            self.alpha,
        )
        self.null_cache_[key] = entry
        return entry

    def _null_references(self) -> dict:
        """The stacked tallies of the resampled references (drawn once, for every window size)."""
        cached = getattr(self, "_null_reference_tallies", None)
        if cached is None:
            cached = self._null_tallies(self.n_reference_, seed=0)
            self._null_reference_tallies = cached
        return cached

    def _null_tallies(self, n_rows: int, seed: int) -> dict:
        """``n_null`` stacked tallies of ``n_rows`` rows resampled from the reference sample."""
        rng = np.random.default_rng([int(self.random_state), seed])
        weights = row_weights(rng, n_rows, sample_rows(self.null_sample_), self.n_null)
        return tally_many(self.layout_, self.null_sample_, weights)

    # --- counting -----------------------------------------------------------------------------

    def counts(self) -> WindowCounts:
        """An empty :class:`WindowCounts` on this monitor's bins, to feed chunk by chunk."""
        self._check_fitted()
        return WindowCounts(self.layout_)

    def count(self, window: Any, chunk_rows: int = 200_000) -> WindowCounts:
        """Counts of a DataFrame, a Parquet path or a Dask DataFrame (chunked where possible)."""
        self._check_fitted()
        with thread_pool(self.n_jobs) as pool:
            return self._count(window, chunk_rows, pool)

    def _count(self, window: Any, chunk_rows: int, pool: Executor | None) -> WindowCounts:
        in_flight = 2 * resolve_n_jobs(self.n_jobs)
        return count_window(self.layout_, window, chunk_rows, pool, in_flight)

    # --- checking -----------------------------------------------------------------------------

    def check(
        self,
        window: Any,
        window_id: str | None = None,
        start: Any = None,
        end: Any = None,
        *,
        chunk_rows: int = 200_000,
    ) -> WindowResult:
        """Check one production window.

        Parameters
        ----------
        window : DataFrame, path to a Parquet file, Dask DataFrame or WindowCounts
            The window's rows (the model's output and feature columns); paths are streamed in
            chunks.
        window_id : str, optional
            Identifier used by :meth:`reconcile`; default ``"w<k>"`` numbering the checks.
        start, end : datetime-like or str, optional
            Stored as ISO strings.
        chunk_rows : int
            Rows per chunk when streaming.

        Returns
        -------
        WindowResult
        """
        self._check_fitted()
        with thread_pool(self.n_jobs) as pool:
            early = self._draw_null_early(window, pool)
            counts = self._count(window, chunk_rows, pool)
            if early is not None:
                early.result()
        if counts.n_rows == 0:
            raise InputError("the window is empty: there are no scored rows to check.")
        window_id = str(window_id) if window_id is not None else f"w{len(self.estimates_) + 1}"
        return self._evaluate(counts, window_id, start, end)

    def _draw_null_early(self, window: Any, pool: Executor | None) -> Any:
        """Start drawing the window's null distribution in the pool while its rows are counted."""
        n = rows_hint(window) if pool is not None else None
        if not n or size_key(n) in self.null_cache_:
            return None
        if isinstance(window, pd.DataFrame):
            self.layout_.check_columns(window.columns)  # fail before spending a second
        return pool.submit(self.null_thresholds, n)

    def check_parquet(
        self, path: str | os.PathLike, chunk_rows: int = 200_000, **kwargs: Any
    ) -> WindowResult:
        """:meth:`check` a Parquet file read ``chunk_rows`` rows at a time (bounded memory)."""
        return self.check(Path(path), chunk_rows=chunk_rows, **kwargs)

    def check_dask(self, frame: Any, **kwargs: Any) -> WindowResult:
        """:meth:`check` a Dask DataFrame: counts per partition on the workers, summed here."""
        if not type(frame).__module__.startswith("dask."):
            raise InputTypeError(f"check_dask needs a Dask DataFrame, not {type(frame).__name__}.")
        return self.check(frame, **kwargs)

    # --- the result ---------------------------------------------------------------------------

    def _evaluate(self, counts: WindowCounts, window_id: str, start: Any, end: Any) -> WindowResult:
        n = counts.n_rows
        stats = self._statistics(self.reference_counts_, counts.arrays)
        null = self.null_thresholds(n)
        output = self.layout_.output
        rows = Rows(stats, self.reference_stats_, null, self.n_sigma, n)
        ratios = dict(output.drift_rows(rows))
        shifted = shifted_features(
            stats["feature_table"], self.fdr, self.settings_["floors"]["feature_psi"]
        )
        ratios["features"] = feature_rows(rows, shifted)
        ratios.update(output.rows(rows))
        ratios["multivariate"] = multivariate_rows(rows)
        settings = self.settings_
        composite = composite_score(ratios, settings["weights"], settings["composite"])
        raw_before = self.tracker_.raw
        severity = self.tracker_.step(composite)
        fired = [m for m in MONITORS if np.isfinite(ratios.get(m, np.nan)) and ratios[m] > 1]
        details = self._details(stats, ratios, fired, shifted, counts, null, raw_before)
        self.estimates_[window_id] = estimates_of(rows.metrics)
        return WindowResult(window_id, start, end, n, composite, severity, rows.metrics, details)

    def _details(
        self,
        stats: dict,
        ratios: dict,
        fired: list[str],
        shifted: list[str],
        counts: WindowCounts,
        null: dict,
        raw_before: int,
    ) -> dict:
        output = self.layout_.output
        return {
            **output.details(),
            "model": self.model,
            "model_version": self.model_version,
            "reference_hash": self.reference_hash,
            "config_hash": self.config_hash,
            "ratios": {k: (v if np.isfinite(v) else None) for k, v in ratios.items()},
            "fired_monitors": fired,
            "raw_level": LEVELS[self.tracker_.raw],
            "previous_raw_level": LEVELS[raw_before],
            "score_bins": output.bin_details(stats),
            "features": stats["feature_table"],
            "shifted_features": shifted,
            "null": {"n_rows": null["n_rows"], "alpha": self.alpha, "n_null": self.n_null},
            "notes": self._notes(stats, counts),
        }

    def _notes(self, stats: dict, counts: WindowCounts) -> list[str]:
        """What a reader of the window's result should know beside its numbers."""
        output = self.layout_.output
        notes = [BLIND_SPOT]
        if counts.unseen:
            notes.append(
                "unseen categories (counted in each feature's 'unseen' bin): "
                + "; ".join(f"{k}: {v}" for k, v in counts.unseen.items())
            )
        all_missing = [r["feature"] for r in stats["feature_table"] if r["missing_current"] >= 1]
        if all_missing:
            notes.append(f"features entirely missing in this window: {all_missing}")
        notes.extend(output.notes(stats))
        if (
            output.kind != "regression"
            and not self.calibration_info_.get("calibrated")
            and self.fit_params_["label"] is None
        ):
            notes.append("no reference labels: expected performance assumes calibrated scores")
        return notes
