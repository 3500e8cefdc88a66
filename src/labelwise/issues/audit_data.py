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
    find_null_columns,
)
from labelwise.predict import table_preprocessor

__all__ = ["check_issue_types", "table_data_issues"]


def check_issue_types(issue_types: Any) -> list[str]:
    """``"all"`` or a list of names from :data:`ISSUE_TYPES`, as a list (empty for None)."""
    if issue_types is None:
        return []
    if isinstance(issue_types, str):
        issue_types = list(ISSUE_TYPES) if issue_types == "all" else issue_types.split(",")
    names = [str(name).strip() for name in issue_types if str(name).strip()]
    unknown = [name for name in names if name not in ISSUE_TYPES]
    if unknown:
        raise ConfigError(
            f"issue types {unknown} are not known; choose from {', '.join(ISSUE_TYPES)} or 'all'."
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
    dropped; ``underperforming_group`` reads the audit's out-of-sample probabilities.
    """
    results, skipped = {}, {}
    if "null" in issue_types:
        results["null"] = find_null_columns(table)
    numeric = [name for name in issue_types if name != "null"]
    if numeric:
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
        )
        results.update(found.results)
        skipped.update(found.skipped)
    return DataIssues(results={n: results[n] for n in issue_types if n in results}, skipped=skipped)
