"""labelwise: find, measure and learn with imperfect labels.

>>> import labelwise as lw
>>> issues = lw.find_label_issues(labels, pred_probs)          # doctest: +SKIP
>>> noise = lw.estimate_noise(labels, pred_probs)              # doctest: +SKIP
>>> report = lw.audit(df, label="y")                           # doctest: +SKIP

Names are imported on first use, so ``import labelwise`` stays cheap: a command-line call or a
script that needs one room does not pay for scikit-learn, scipy or the others it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (a name equal to its module is the module itself).
_WHERE = {
    "ISSUE_TYPES": "labelwise.issues",
    "METHODS": "labelwise.issues",
    "SCORE_METHODS": "labelwise.issues",
    "LabelIssues": "labelwise.issues",
    "MultiLabelIssues": "labelwise.issues",
    "NoiseEstimate": "labelwise.issues",
    "RegressionIssues": "labelwise.issues",
    "estimate_noise": "labelwise.issues",
    "find_data_issues": "labelwise.issues",
    "find_label_issues": "labelwise.issues",
    "find_multilabel_issues": "labelwise.issues",
    "find_regression_issues": "labelwise.issues",
    "label_quality_scores": "labelwise.issues",
    "multilabel_quality_scores": "labelwise.issues",
    "AuditReport": "labelwise.issues.audit",
    "audit": "labelwise.issues.audit",
    "audit_predictions": "labelwise.issues.audit",
    "CleanClassifier": "labelwise.learn",
    "Consensus": "labelwise.annotators",
    "consensus": "labelwise.annotators",
    "relabel_priority": "labelwise.annotators",
    "cross_val_pred_probs": "labelwise.predict",
    "default_model": "labelwise.predict",
    "NoisyLabels": "labelwise.simulate",
    "inject_noise": "labelwise.simulate",
}
_SUBMODULES = {
    "annotators",
    "card",
    "datasets",
    "errors",
    "io",
    "issues",
    "learn",
    "models",
    "monitor",
    "neighbours",
    "predict",
    "simulate",
    "simulate_weak",
    "study",
    "vision",
}

__all__ = [
    "AuditReport",
    "CleanClassifier",
    "Consensus",
    "ISSUE_TYPES",
    "LabelIssues",
    "METHODS",
    "MultiLabelIssues",
    "NoiseEstimate",
    "NoisyLabels",
    "RegressionIssues",
    "SCORE_METHODS",
    "audit",
    "audit_predictions",
    "consensus",
    "cross_val_pred_probs",
    "datasets",
    "default_model",
    "errors",
    "estimate_noise",
    "find_data_issues",
    "find_label_issues",
    "find_multilabel_issues",
    "find_regression_issues",
    "inject_noise",
    "label_quality_scores",
    "learn",
    "multilabel_quality_scores",
    "relabel_priority",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"labelwise.{name}")
    else:
        raise AttributeError(f"module 'labelwise' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE, *_SUBMODULES})


if TYPE_CHECKING:  # what static tools see; at run time, __getattr__ imports on first use
    from labelwise import datasets, errors, learn, simulate
    from labelwise.annotators import Consensus, consensus, relabel_priority
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
