"""How the studies write statistics into their reports: p-values and confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Report columns of formatted numbers (signs, intervals in brackets), written as they are.
OWN_CELLS = ("coef", "95% interval", "delta")


def p_text(p: float) -> str:
    """A p-value for tables and sentences: two significant digits, scientific below 1e-4."""
    return "n/a" if not np.isfinite(p) else (f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}")


def interval_cells(frame: pd.DataFrame, spec: str) -> list[str]:
    """The ``low`` and ``high`` columns of ``frame`` as one ``[low, high]`` cell per row, each
    bound written with the format ``spec``."""
    pairs = zip(frame["low"], frame["high"], strict=True)
    return [f"[{low:{spec}}, {high:{spec}}]" for low, high in pairs]
