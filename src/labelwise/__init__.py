"""labelwise: find, measure and learn with imperfect labels.

>>> import labelwise as lw
>>> issues = lw.find_label_issues(labels, pred_probs)          # doctest: +SKIP
>>> noise = lw.estimate_noise(labels, pred_probs)              # doctest: +SKIP
>>> report = lw.audit(df, label="y")                           # doctest: +SKIP
"""

from labelwise import datasets, errors, learn, simulate
from labelwise.issues import (
    ISSUE_TYPES,
    METHODS,
    SCORE_METHODS,
    LabelIssues,
    MultiLabelIssues,
    NoiseEstimate,
    RegressionIssues,
    estimate_noise,
    find_data_issues,
    find_label_issues,
    find_multilabel_issues,
    find_regression_issues,
    label_quality_scores,
    multilabel_quality_scores,
)
from labelwise.issues.audit import AuditReport, audit, audit_predictions
from labelwise.learn import CleanClassifier
from labelwise.predict import cross_val_pred_probs, default_model
from labelwise.simulate import NoisyLabels, inject_noise

__version__ = "0.1.0"

__all__ = [
    "ISSUE_TYPES",
    "METHODS",
    "SCORE_METHODS",
    "AuditReport",
    "CleanClassifier",
    "LabelIssues",
    "MultiLabelIssues",
    "NoiseEstimate",
    "NoisyLabels",
    "RegressionIssues",
    "audit",
    "audit_predictions",
    "cross_val_pred_probs",
    "datasets",
    "default_model",
    "errors",
    "estimate_noise",
    "find_data_issues",
    "find_label_issues",
    "find_regression_issues",
    "find_multilabel_issues",
    "inject_noise",
    "learn",
    "label_quality_scores",
    "multilabel_quality_scores",
    "simulate",
]
