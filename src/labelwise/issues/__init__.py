"""Finding label errors from out-of-sample predicted probabilities (confident learning)."""

# The data checks' public names are listed once, in their module's __all__.
from labelwise.issues import data_issues
from labelwise.issues._dask import dask_array_from_npy, dask_client
from labelwise.issues.data_issues import *  # noqa: F403
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
    *data_issues.__all__,
    "RegressionIssues",
    "cross_val_predictions",
    "find_regression_issues",
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
    "dask_array_from_npy",
    "dask_client",
]
