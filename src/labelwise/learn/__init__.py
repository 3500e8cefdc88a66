"""Learning with noisy labels: classifiers that train around the label errors they find."""

from labelwise.learn.clean import CleanClassifier
from labelwise.learn.refine import BootstrapVotes, OnlineLabelRefiner, fit_with_refinement
from labelwise.learn.spectral import SpectralTruncation, spectral_probe

__all__ = [
    "BootstrapVotes",
    "CleanClassifier",
    "OnlineLabelRefiner",
    "SpectralTruncation",
    "fit_with_refinement",
    "spectral_probe",
]
