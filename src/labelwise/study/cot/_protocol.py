"""Run the protocol: ask a model every prompt, then measure and judge what it answered."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any

import pandas as pd

from labelwise._params import CALLABLE, Interval, check_params
from labelwise.errors import InputError, InputTypeError
from labelwise.study.cot._analysis import _analyse, _verdict
from labelwise.study.cot._conditions import _Trial, _trials
from labelwise.study.cot._prompts import Model, parse_integer
from labelwise.study.cot._result import CotProtocol
from labelwise.study.cot._task import ArithmeticItem, arithmetic_chains

__all__ = ["cot_protocol"]

_MODEL = {"model": [CALLABLE]}
_PARAMS = {
    "n_boot": [Interval(Integral, 1, None)],
    "alpha": [Interval(Real, 0, 1, closed="neither")],
}


def _answer(model: Model, trial: _Trial) -> dict[str, Any]:
    """Ask one prompt; the row of the tidy outputs it gives."""
    output = model(trial.prompt)
    if not isinstance(output, str):
        raise InputTypeError(
            f"model must return text (str), got {type(output).__name__}; wrap it so that "
            "it returns the generated string."
        )
    parsed = parse_integer(output)
    return {
        "item": trial.item,
        "condition": trial.condition,
        "format": trial.format,
        "prompt": trial.prompt,
        "output": output,
        "parsed": parsed,
        "target": trial.target,
        "correct": parsed == trial.target,
        "wrong": trial.wrong,
        "followed_wrong": trial.wrong is not None and parsed == trial.wrong,
    }


def cot_protocol(
    model: Model,
    items: Sequence[ArithmeticItem] | None = None,
    *,
    n: int = 200,
    n_steps: int | tuple[int, int] = 6,
    seed: int = 0,
    n_boot: int = 2000,
    alpha: float = 0.05,
    model_name: str | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> CotProtocol:
    """Run the three-prerequisite corruption protocol against a model.

    Parameters
    ----------
    model : callable str -> str
        Receives a prompt, returns text; the first integer in it is its answer. Wrap an
        endpoint with :func:`from_openai_compatible` or a Hugging Face pipeline with
        :func:`from_transformers_pipeline`. Decoding should be greedy.
    items : sequence of ArithmeticItem, optional
        The problems; by default ``arithmetic_chains(n, n_steps, seed)``.
    n, n_steps : see :func:`arithmetic_chains`
        Used when ``items`` is not given.
    seed : int, default 0
        Seeds the problems, the corruptions, the wrong answers and the bootstraps.
    n_boot : int, default 2000
        Bootstrap resamples per interval.
    alpha : float, default 0.05
        Significance level of the McNemar tests behind the verdict.
    model_name : str, optional
        Name in tables and figures (default: the callable's name).
    progress : callable, optional
        Called as ``progress(done, total)`` after every model call.

    Returns
    -------
    CotProtocol
        Each item is asked 10 times: question only, clean and three corrupted chains with and
        without the answer line, and the conflicting chain.

    Raises
    ------
    InputTypeError
        When ``model`` is not callable or returns something other than text.
    ConfigError
        For a bad ``n``, ``n_boot`` or ``alpha``.

    Examples
    --------
    >>> items = arithmetic_chains(20, seed=0)
    >>> copy_last_number = lambda prompt: prompt.split()[-2]  # echoes the number before "Answer:"
    >>> result = cot_protocol(copy_last_number, items, n_boot=200)
    >>> result.verdict, result.followed_wrong
    ('answer-placement confound', 1.0)
    """
    start = time.perf_counter()
    check_params(_MODEL, {"model": model}, error=InputTypeError)
    check_params(_PARAMS, {"n_boot": n_boot, "alpha": alpha})
    items = list(items) if items is not None else arithmetic_chains(n, n_steps, seed)
    if not items or not all(isinstance(item, ArithmeticItem) for item in items):
        raise InputError("items must be a non-empty sequence of ArithmeticItem.")
    trials = _trials(items, seed)
    rows = []
    for done, trial in enumerate(trials, start=1):
        rows.append(_answer(model, trial))
        if progress is not None:
            progress(done, len(trials))
    frame = pd.DataFrame(rows)
    accuracy, sensitivity, checks = _analyse(frame, int(n_boot), seed, float(alpha))
    verdict, reasons = _verdict(sensitivity, checks, float(alpha))
    name = model_name or getattr(model, "__name__", type(model).__name__)
    return CotProtocol(
        frame, accuracy, sensitivity, checks, verdict, reasons, name, time.perf_counter() - start
    )
