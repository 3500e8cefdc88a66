"""The data issues of a table beside its label issues: the glue between a table and the checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from labelwise.errors import ConfigError
from labelwise.issues.data_issues import (
    ISSUE_TYPES,
    DataIssues,
    find_data_issues,
    find_nulls,
)
from labelwise.predict import table_preprocessor

__all__ = ["check_issue_types", "table_data_issues"]

#: Neighbours per row for the distance checks (fewer on a table with fewer rows).
NEIGHBOURS = 10
#: Below this many rows the neighbour and group checks are skipped, with the reason.
MIN_ROWS = 10
NEEDS_ROWS = ("near_duplicate", "outlier", "non_iid", "underperforming_group")


def check_issue_types(issue_types: Any) -> list[str]:
    """``"all"``, ``"none"`` or names from :data:`ISSUE_TYPES`, as a list (empty for none)."""
    if issue_types is None:
        return []
    if isinstance(issue_types, str):
        if issue_types.strip() == "none":
            return []
        issue_types = list(ISSUE_TYPES) if issue_types == "all" else issue_types.split(",")
    names = [str(name).strip() for name in issue_types if str(name).strip()]
    unknown = [name for name in names if name not in ISSUE_TYPES]
    if unknown:
        raise ConfigError(
            f"issue types {unknown} are not known; choose from {', '.join(ISSUE_TYPES)}, 'all' "
            "or 'none'."
        )
    return list(dict.fromkeys(names))


def table_data_issues(
    table: pd.DataFrame,
    X: pd.DataFrame,
    labels: Any,
    pred_probs: np.ndarray | None,
    issue_types: list[str],
    random_state: Any = 0,
) -> DataIssues:
    """Run the chosen checks on a table's features, encoded as the model sees them.

    The distance-based checks read the default table encoding (median-imputed, scaled numbers
    and one-hot categories, densely); ``null`` reads the raw columns, before any empty one is
    dropped; ``underperforming_group`` reads the audit's out-of-sample probabilities. Without
    labels (a numeric target) the class-based checks are skipped as classification only.
    """
    results, skipped = {}, {}
    if "null" in issue_types:
        results["null"] = find_nulls(table)
    numeric = [name for name in issue_types if name != "null"]
    if len(X) < MIN_ROWS:  # too few rows for neighbours or groups to mean anything
        for name in numeric:
            if name in NEEDS_ROWS:
                skipped[name] = f"needs at least {MIN_ROWS} rows"
        numeric = [name for name in numeric if name not in NEEDS_ROWS]
    if numeric and not set(numeric) & set(NEEDS_ROWS):  # labels alone: no encoding needed
        found = find_data_issues(None, labels=labels, pred_probs=pred_probs, issue_types=numeric)
        results.update(found.results)
        skipped.update(found.skipped)
    elif numeric:
        # Infinity has no distance to anything: the encoding imputes it like a missing value.
        X = X.replace([np.inf, -np.inf], np.nan)
        encoding = table_preprocessor(X, dense=True)
        encoded = np.asarray(encoding.fit_transform(X), dtype=np.float64)
        names = [str(n).split("__", 1)[-1] for n in encoding.get_feature_names_out()]
        found = find_data_issues(
            encoded,
            labels=labels,
            pred_probs=pred_probs,
            issue_types=numeric,
            feature_names=names,
            random_state=random_state,
            k=min(NEIGHBOURS, len(X) - 1),
        )
        results.update(found.results)
        skipped.update(found.skipped)
    if labels is None:
        for name in ("class_imbalance", "underperforming_group"):
            if name in issue_types:
                skipped[name] = "classification only"
    return DataIssues(results={n: results[n] for n in issue_types if n in results}, skipped=skipped)
