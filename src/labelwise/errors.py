"""The exceptions and warnings that labelwise raises.

Every check in labelwise raises a subclass of :class:`LabelwiseError`, so callers can catch one
type. Each subclass also derives from the built-in exception a numpy or scikit-learn user would
expect (``ValueError``, ``TypeError``), so existing ``except ValueError`` code keeps working.
Messages name the problem and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "LabelwiseError",
    "InputError",
    "InputTypeError",
    "ShapeError",
    "ProbabilityError",
    "LabelError",
    "ConfigError",
    "MissingDependencyError",
    "DataFileError",
    "StoreError",
    "EndpointError",
    "LabelwiseWarning",
    "RenormalizedWarning",
    "SmallClassWarning",
]


class LabelwiseError(Exception):
    """Base class of every error labelwise raises on purpose."""


class InputError(LabelwiseError, ValueError):
    """An input has the right type but an invalid value (empty, wrong length, NaN...)."""


class InputTypeError(LabelwiseError, TypeError):
    """An input is of a type labelwise cannot use (a dict where an array is expected...)."""


class ShapeError(InputError):
    """Arrays have the wrong number of dimensions or disagree in length."""


class ProbabilityError(InputError):
    """``pred_probs`` is not a matrix of probabilities (NaN, negative, rows not summing to 1)."""


class LabelError(InputError):
    """Labels are missing, unknown, or cannot be matched to ``pred_probs`` columns."""


class ConfigError(LabelwiseError, ValueError):
    """A parameter has an invalid value (unknown method name, negative count...)."""


class MissingDependencyError(ConfigError, ImportError):
    """An optional package a feature needs is not installed; the message names the extra."""


class DataFileError(LabelwiseError, OSError):
    """A data file cannot be read, or a result file cannot be written."""


class StoreError(DataFileError):
    """The monitor store cannot be opened, read or written (unreachable server, locked file...)."""


class EndpointError(DataFileError):
    """A model endpoint could not be reached, or answered something unreadable."""


class LabelwiseWarning(UserWarning):
    """Base class of labelwise's warnings."""


class RenormalizedWarning(LabelwiseWarning):
    """Some ``pred_probs`` rows drifted slightly from summing to 1 and were renormalized."""


class SmallClassWarning(LabelwiseWarning):
    """A class has too few examples for its labels to be checked."""
