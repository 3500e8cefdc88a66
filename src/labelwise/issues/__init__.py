"""Finding label errors from out-of-sample predicted probabilities (confident learning)."""

from labelwise.issues.filter import METHODS, LabelIssues, find_label_issues
from labelwise.issues.multilabel import (
    MULTILABEL_METHODS,
    MultiLabelIssues,
    find_multilabel_issues,
    multilabel_quality_scores,
)
from labelwise.issues.noise import NoiseEstimate, estimate_noise
from labelwise.issues.scores import SCORE_METHODS, label_quality_scores

__all__ = [
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
