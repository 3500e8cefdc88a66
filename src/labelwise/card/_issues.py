"""The card's data-issues module: the same checks as ``labelwise audit``, on the card's table.

The feature checks (near copies, outliers, row order, empty rows and columns) run on the
columns two rows are compared on (identifier-like columns left out); the label checks (rare
classes, weak regions of the feature space) run once the label-health audit has out-of-sample
probabilities. Near-copy groups also feed the duplicates and split-leakage modules.

A table of more than :data:`MAX_ROWS` rows is checked on a uniform sample of that many rows (in
table order), so that the card stays a profile of seconds rather than minutes; the card says
so, and its row numbers are positions in the whole table. ``labelwise audit`` checks every row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from labelwise.card._stats import plain
from labelwise.issues.audit_data import table_data_issues
from labelwise.issues.data_issues import ISSUE_TYPES, DataIssues

#: Checks that read the features alone, and checks that also need labels and predictions.
FEATURE_CHECKS = ["near_duplicate", "outlier", "non_iid", "null"]
LABEL_CHECKS = ["class_imbalance", "underperforming_group"]
#: Findings per issue type kept in the card.
EXAMPLES = 5
#: Rows checked at most; a larger table is checked on a uniform sample of this many rows.
MAX_ROWS = 200_000


def sample_positions(n: int, seed: int) -> np.ndarray:
    """The table positions the checks read: all rows, or a sorted uniform sample."""
    if n <= MAX_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False))


def feature_issues(
    frame: pd.DataFrame, columns: list, positions: np.ndarray, seed: int
) -> DataIssues | None:
    """The feature checks on ``frame[columns]`` at ``positions``; None without columns."""
    if not columns:
        return None
    X = frame[columns].iloc[positions].reset_index(drop=True)
    return table_data_issues(X, X, None, None, FEATURE_CHECKS, random_state=seed)


def label_issues(
    frame: pd.DataFrame,
    columns: list,
    labels: Any,
    pred_probs: np.ndarray | None,
    positions: np.ndarray,
    seed: int,
) -> DataIssues:
    """Rare classes and weak regions, from the label-health audit's probabilities."""
    X = frame[columns].iloc[positions].reset_index(drop=True)
    checks = LABEL_CHECKS if columns else ["class_imbalance"]
    probs = None if pred_probs is None else np.asarray(pred_probs)[positions]
    labels = np.asarray(labels, dtype=object)[positions]
    return table_data_issues(X, X, labels, probs, checks, random_state=seed)


def near_ids(found: DataIssues | None, exact: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One id per row shared by the rows of each near-copy group; otherwise the exact hash."""
    if found is None or "near_duplicate" not in found:
        return exact
    group = found["near_duplicate"].details["group"].to_numpy()
    ids = exact.copy()
    flagged = group >= 0
    salted = pd.Series(group[flagged].astype(np.int64)).map("near-group {}".format)
    ids[positions[flagged]] = pd.util.hash_array(salted.to_numpy(dtype=object))
    return ids


def section(parts: list[DataIssues | None], positions: np.ndarray, n: int) -> dict[str, Any]:
    """The card's ``data_issues`` record: per type a summary and the worst findings."""
    results, skipped = {}, {}
    for part in parts:
        if part is None:
            continue
        results.update(part.results)
        skipped.update(part.skipped)
    types = []
    for name in ISSUE_TYPES:
        if name in results:
            result = results[name]
            findings = result.to_frame().head(EXAMPLES)
            examples = [
                {
                    "row": None if pd.isna(r["row"]) else int(positions[int(r["row"])]),
                    "column": None if pd.isna(r["column"]) else str(r["column"]),
                    "score": plain(r["score"]),
                    "detail": str(r["detail"]),
                }
                for r in findings.to_dict(orient="records")
            ]
            types.append({"issue": name, **result.summary(), "examples": examples})
        elif name in skipped:
            types.append({"issue": name, "skipped": skipped[name]})
    sampled = positions.size < n
    method = (
        "labelwise.find_data_issues on the compared feature columns (scaled numbers, one-hot "
        "categories); near copies closer than a threshold adapted to the data's own neighbour "
        "distances"
    )
    if sampled:
        method += (
            f"; checked on a uniform sample of {positions.size:,} of the {n:,} rows (counts "
            "are of the sample; run labelwise audit for every row)"
        )
    return {"method": method, "rows_checked": int(positions.size), "types": types}
