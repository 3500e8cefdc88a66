"""The card's data-issues module: the same checks as ``labelwise audit``, on the card's table.

The feature checks (near copies, outliers, row order, empty rows and columns) run on the
columns two rows are compared on (identifier-like columns left out); the label checks (rare
classes, weak regions of the feature space) run once the label-health audit has out-of-sample
probabilities. Near-copy groups also feed the duplicates and split-leakage modules.
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


def feature_issues(frame: pd.DataFrame, columns: list, seed: int) -> DataIssues | None:
    """The feature checks on ``frame[columns]``; None when there is no column to compare."""
    if not columns:
        return None
    X = frame[columns]
    return table_data_issues(X, X, None, None, FEATURE_CHECKS, random_state=seed)


def label_issues(
    frame: pd.DataFrame, columns: list, labels: Any, pred_probs: np.ndarray, seed: int
) -> DataIssues:
    """Rare classes and weak regions, from the label-health audit's probabilities."""
    X = frame[columns]
    checks = LABEL_CHECKS if columns else ["class_imbalance"]
    return table_data_issues(X, X, labels, pred_probs, checks, random_state=seed)


def near_ids(found: DataIssues | None, exact: np.ndarray) -> np.ndarray:
    """One id per row shared by the rows of each near-copy group; otherwise the exact hash."""
    if found is None or "near_duplicate" not in found:
        return exact
    group = found["near_duplicate"].details["group"].to_numpy()
    ids = exact.copy()
    flagged = group >= 0
    salted = pd.Series(group[flagged].astype(np.int64)).map("near-group {}".format)
    ids[flagged] = pd.util.hash_array(salted.to_numpy(dtype=object))
    return ids


def section(parts: list[DataIssues | None]) -> dict[str, Any]:
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
                    "row": None if pd.isna(r["row"]) else int(r["row"]),
                    "column": None if pd.isna(r["column"]) else str(r["column"]),
                    "score": plain(r["score"]),
                    "detail": str(r["detail"]),
                }
                for r in findings.to_dict(orient="records")
            ]
            types.append({"issue": name, **result.summary(), "examples": examples})
        elif name in skipped:
            types.append({"issue": name, "skipped": skipped[name]})
    return {
        "method": "labelwise.find_data_issues on the compared feature columns (scaled numbers, "
        "one-hot categories); near copies closer than a threshold adapted to the data's own "
        "neighbour distances",
        "types": types,
    }
