"""Which model output a monitor watches: resolved from the fit arguments, rebuilt from a file."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelwise.errors import ConfigError, DataFileError
from labelwise.monitor._binary import BinaryOutput
from labelwise.monitor._multiclass import MulticlassOutput, class_names
from labelwise.monitor._output import KINDS, Output
from labelwise.monitor._regression import RegressionOutput

__all__ = ["OutputSpec", "resolve_output", "output_from_dict"]

_CLASSES: dict[str, type[Output]] = {
    "binary": BinaryOutput,
    "multiclass": MulticlassOutput,
    "regression": RegressionOutput,
}


@dataclass(frozen=True)
class OutputSpec:
    """The model output named at fit time: its kind, its columns and (multiclass) its classes."""

    kind: str
    columns: list[str]
    classes: list | None = None


def resolve_output(
    task: str | None,
    score: str | Sequence[str] | None,
    prediction: str | None,
    classes: Sequence[Hashable] | None,
) -> OutputSpec:
    """The kind and columns from ``fit``'s arguments, or a ConfigError saying what to give.

    ``task=None`` infers it: one score column is binary, several are multiclass, a prediction
    column is regression.

    >>> resolve_output(None, ["p_a", "p_b"], None, None)
    OutputSpec(kind='multiclass', columns=['p_a', 'p_b'], classes=['a', 'b'])
    """
    if task is not None and task not in KINDS:
        raise ConfigError(f"task={task!r} is unknown; choose one of {list(KINDS)}.")
    if (score is None) == (prediction is None):
        raise ConfigError(
            "give the model's output: score= (a probability column, or one per class) for a "
            "classifier, or prediction= for a regression model; not both, and not neither."
        )
    if prediction is not None:
        if task not in (None, "regression"):
            raise ConfigError(f"prediction= is for regression; task={task!r} needs score=.")
        if not isinstance(prediction, str):
            raise ConfigError(f"prediction must be one column name, not {prediction!r}.")
        return OutputSpec("regression", [prediction])
    if task == "regression":
        raise ConfigError("a regression monitor reads prediction=, not score=.")
    columns = [score] if isinstance(score, str) else list(score)
    if not columns or len(set(columns)) != len(columns):
        raise ConfigError(f"score columns must be distinct and non-empty, got {columns!r}.")
    if task == "binary" or (task is None and len(columns) == 1):
        if len(columns) != 1:
            raise ConfigError("a binary monitor reads one score column, P(bad).")
        if classes is not None:
            raise ConfigError("classes= is for multiclass monitors (one score column per class).")
        return OutputSpec("binary", columns)
    if len(columns) < 2:
        raise ConfigError(
            "a multiclass monitor needs one probability column per class (two or more)."
        )
    return OutputSpec("multiclass", columns, class_names(columns, classes))


def output_from_dict(kind: str, data: Mapping[str, Any]) -> Output:
    """Rebuild an output written by its ``to_dict``."""
    if kind not in _CLASSES:
        raise DataFileError(f"monitor file names an unknown model kind {kind!r}.")
    return _CLASSES[kind].from_dict(data)
