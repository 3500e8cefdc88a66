"""Finding label errors from out-of-sample predicted probabilities (confident learning)."""

from labelwise.issues.data_issues import (
    ISSUE_TYPES,
    DataIssues,
    IssueResult,
    find_class_imbalance,
    find_data_issues,
    find_near_duplicates,
    find_non_iid,
    find_null_columns,
    find_nulls,
    find_outliers,
    find_outliers_from_pred_probs,
    find_underperforming_groups,
    outlier_scores_from_pred_probs,
)
from labelwise.issues.filter import METHODS, LabelIssues, find_label_issues
from labelwise.issues.multilabel import (
    MULTILABEL_METHODS,
    MultiLabelIssues,
    find_multilabel_issues,
    multilabel_quality_scores,
)
from labelwise.issues.noise import NoiseEstimate, estimate_noise
from labelwise.issues.regression import (
    RegressionIssues,
    cross_val_predictions,
    find_regression_issues,
    regression_quality_scores,
    residual_scale,
)
from labelwise.issues.scores import SCORE_METHODS, label_quality_scores

__all__ = [
    "ISSUE_TYPES",
    "DataIssues",
    "IssueResult",
    "RegressionIssues",
    "cross_val_predictions",
    "find_class_imbalance",
    "find_data_issues",
    "find_near_duplicates",
    "find_non_iid",
    "find_null_columns",
    "find_nulls",
    "find_outliers",
    "find_outliers_from_pred_probs",
    "find_regression_issues",
    "find_underperforming_groups",
    "outlier_scores_from_pred_probs",
    "regression_quality_scores",
    "residual_scale",
    "METHODS",
    "MULTILABEL_METHODS",
    "MultiLabelIssues",
    "find_multilabel_issues",
    "multilabel_quality_scores",
    "SCORE_METHODS",
    "LabelIssues",
    "NoiseEstimate",
    "estimate_noise",
    "find_label_issues",
    "label_quality_scores",
]
