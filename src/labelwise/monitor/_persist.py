"""Saving and loading a fitted monitor: its configuration as JSON data and files.

One reason to change: the monitor file's format. A file holds the fitted configuration only
(format 2); the window-to-window state lives in a store. Format 1 files, which also held that
state, still load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from labelwise._shared.serialize import jsonable
from labelwise.errors import ConfigError, DataFileError
from labelwise.io import write_json
from labelwise.monitor._counts import Layout
from labelwise.monitor._reference import read_sample

if TYPE_CHECKING:
    from labelwise.monitor._monitor import Monitor

__all__ = ["FORMAT_VERSION", "PersistentMonitor"]

#: Version 2 holds only the fitted configuration; version 1 also held the window state.
FORMAT_VERSION = 2


class PersistentMonitor:
    """:meth:`to_dict`, :meth:`to_json`, :meth:`from_dict` and :meth:`from_json`."""

    def to_dict(self) -> dict:
        """The fitted configuration, as JSON-able data (window state lives in a store)."""
        self._check_fitted()
        return jsonable(
            {
                "format": FORMAT_VERSION,
                "params": self.get_params(),
                "fit_params": self.fit_params_,
                "layout": self.layout_.to_dict(),
                "reference_counts": self.reference_counts_,
                "null_sample": {k: v for k, v in self.null_sample_.items() if k != "unseen"},
                "importance": self.importance_,
                "calibration_info": self.calibration_info_,
                "n_reference": self.n_reference_,
                "reference_hash": self.reference_hash,
                "config_hash": self.config_hash,
            }
        )

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the fitted monitor to ``path`` atomically; returns the path."""
        return write_json(self.to_dict(), path, indent=None)

    @classmethod
    def from_dict(cls, data: Mapping) -> Monitor:
        """A fitted monitor from :meth:`to_dict`'s data (format 1 or 2)."""
        if data.get("format") not in (1, FORMAT_VERSION):
            raise DataFileError(f"unsupported monitor format {data.get('format')!r}.")
        mon = cls(**_params(data["params"]))
        mon.settings_ = mon._settings()
        _load_fitted(mon, data)
        mon._reset_state()
        _load_window_state(mon, data)
        if data.get("config_hash") and data["config_hash"] != mon.config_hash:
            raise DataFileError("monitor file is inconsistent: its config hash does not match.")
        return mon

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> Monitor:
        """Load a monitor written by :meth:`to_json`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataFileError(f"could not read monitor file {str(path)!r}: {exc}") from exc
        try:
            return cls.from_dict(data)
        except (AttributeError, KeyError, TypeError, IndexError, ConfigError) as exc:
            raise DataFileError(
                f"{str(path)!r} is JSON but not a monitor file ({type(exc).__name__}: {exc}); "
                "write one with `labelwise monitor fit` or Monitor.to_json."
            ) from None


def _params(stored: Mapping) -> dict:
    """Constructor parameters as saved, with the tuples JSON turned into lists made tuples again."""
    params = dict(stored)
    params["persistence"] = tuple(params["persistence"])
    if params.get("cutoffs") is not None:
        params["cutoffs"] = tuple(params["cutoffs"])
    return params


def _load_fitted(mon: Monitor, data: Mapping) -> None:
    """Set what :meth:`Monitor.fit` learns from the saved data."""
    fit = data["fit_params"]
    mon.fit_params_ = dict(fit)
    mon.model, mon.model_version = fit["model"], fit["model_version"]
    layout = dict(data["layout"])
    if "score_std" in data and "output" not in layout:
        layout["score_std"] = data["score_std"]  # format 1 kept it beside the layout
    mon.layout_ = Layout.from_dict(layout)
    mon.reference_counts_ = {k: np.asarray(v, float) for k, v in data["reference_counts"].items()}
    mon.null_sample_ = read_sample(data["null_sample"])
    mon.importance_ = dict(data["importance"])
    mon.calibration_info_ = dict(data["calibration_info"])
    mon.n_reference_ = int(data["n_reference"])
    mon.reference_hash = data["reference_hash"]


def _load_window_state(mon: Monitor, data: Mapping) -> None:
    """Format 1 files carried the window state; it still loads, for this object only."""
    mon.null_cache_ = {int(k): v for k, v in data.get("null_cache", {}).items()}
    if "tracker" in data:
        mon.tracker_.load(data["tracker"])
    mon.estimates_ = {k: dict(v) for k, v in data.get("estimates", {}).items()}
