"""Learning with noisy labels: classifiers that train around the label errors they find."""

from labelwise.learn.clean import CleanClassifier

__all__ = ["CleanClassifier"]
