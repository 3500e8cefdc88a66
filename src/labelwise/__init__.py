"""labelwise: find, measure and learn with imperfect labels."""

from labelwise import errors
from labelwise.issues import (
    LabelIssues,
    NoiseEstimate,
    estimate_noise,
    find_label_issues,
    label_quality_scores,
)

__version__ = "0.1.0"

__all__ = [
    "LabelIssues",
    "NoiseEstimate",
    "errors",
    "estimate_noise",
    "find_label_issues",
    "label_quality_scores",
]
