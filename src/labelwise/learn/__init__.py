"""Learning with noisy labels: classifiers that train around the label errors they find.

The neural estimators need PyTorch (``pip install torch==2.13.0``, the CPU build); they import
it only when fit, so this package imports without it.
"""

from labelwise.learn._torch import NeuralClassifier, TorchUnavailableError
from labelwise.learn.class_aware import ClassAwareCleaner
from labelwise.learn.clean import CleanClassifier
from labelwise.learn.imprecise import ImpreciseLabelClassifier
from labelwise.learn.pu_multilabel import PositiveUnlabeledMultiLabel
from labelwise.learn.refine import BootstrapVotes, OnlineLabelRefiner, fit_with_refinement
from labelwise.learn.spectral import SpectralTruncation, spectral_probe
from labelwise.learn.spectral_net import SpectralTruncatedNet

__all__ = [
    "BootstrapVotes",
    "ClassAwareCleaner",
    "CleanClassifier",
    "ImpreciseLabelClassifier",
    "NeuralClassifier",
    "OnlineLabelRefiner",
    "PositiveUnlabeledMultiLabel",
    "SpectralTruncatedNet",
    "SpectralTruncation",
    "TorchUnavailableError",
    "fit_with_refinement",
    "spectral_probe",
]
