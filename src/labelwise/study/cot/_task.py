"""The built-in task: multi-step integer arithmetic problems with their step-by-step chains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from labelwise._params import Interval, check_params, is_integer
from labelwise.errors import ConfigError

__all__ = ["ArithmeticItem", "answer_line", "arithmetic_chains", "corrupt_step"]

# Operator spellings per chain style, and the swap that corrupts each (same slot, same syntax).
_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
_SYMBOLS = {"+": "+", "-": "-", "*": "x", "/": "/"}
_EQUALS = {"words": "is", "symbols": "="}
_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*"}
_VERBS = {"+": "add {b}", "-": "subtract {b}", "*": "multiply by {b}", "/": "divide by {b}"}

_CHAINS_PARAMS = {"n": [Interval(Integral, 1, None)]}


@dataclass(frozen=True)
class ArithmeticItem:
    """One multi-step integer arithmetic problem with its step-by-step chain.

    Attributes
    ----------
    question : str
        The problem in words ("Start with 7, then add 5, ... What is the result?").
    start : int
        The starting number.
    ops : tuple of str
        One operation per step, from ``+ - * /`` (divisions are exact).
    operands : tuple of int
        The number each step applies.
    results : tuple of int
        The running value after each step; the last one is the answer.
    style : {"words", "symbols"}
        How the chain spells its steps: "7 plus 5 is 12." or "7 + 5 = 12.".
    """

    question: str
    start: int
    ops: tuple[str, ...]
    operands: tuple[int, ...]
    results: tuple[int, ...]
    style: str

    @property
    def answer(self) -> int:
        """The correct final value."""
        return self.results[-1]

    def step(self, k: int, op: str | None = None, operand: int | None = None) -> str:
        """Step ``k`` as text, optionally with another operator or operand (the stated result
        is kept, which is what makes such a step wrong)."""
        left = self.start if k == 0 else self.results[k - 1]
        op = self.ops[k] if op is None else op
        operand = self.operands[k] if operand is None else operand
        spelled = (_WORDS if self.style == "words" else _SYMBOLS)[op]
        return f"{left} {spelled} {operand} {_EQUALS[self.style]} {self.results[k]}."

    def steps(self) -> list[str]:
        """Every step, uncorrupted."""
        return [self.step(k) for k in range(len(self.ops))]


def _one_step(value: int, rng: np.random.Generator) -> tuple[str, int, int]:
    """A random operation that keeps the running value a positive integer of moderate size."""
    choices = ["+", "-"]
    if value <= 60:
        choices.append("*")
    divisors = [d for d in range(2, 6) if value % d == 0 and value // d > 1]
    if divisors:
        choices.append("/")
    op = str(rng.choice(choices))
    if op == "+":
        b = int(rng.integers(2, 21))
        return op, b, value + b
    if op == "-":
        if value <= 3:
            b = int(rng.integers(2, 21))
            return "+", b, value + b
        b = int(rng.integers(1, min(value - 1, 20) + 1))
        return op, b, value - b
    if op == "*":
        b = int(rng.integers(2, 5))
        return op, b, value * b
    b = int(rng.choice(divisors))
    return op, b, value // b


def _question(start: int, ops: Sequence[str], operands: Sequence[int]) -> str:
    verbs = [_VERBS[op].format(b=b) for op, b in zip(ops, operands, strict=True)]
    return f"Start with {start}, then " + ", then ".join(verbs) + ". What is the result?"


def _step_range(n_steps: int | tuple[int, int]) -> tuple[int, int]:
    """``n_steps`` as an inclusive (low, high) range of steps per chain."""
    low, high = (n_steps, n_steps) if is_integer(n_steps) else tuple(n_steps)
    if not (is_integer(low) and is_integer(high) and 1 <= low <= high):
        raise ConfigError(f"n_steps must be an int >= 1 or a (low, high) pair, got {n_steps!r}.")
    return int(low), int(high)


def _item(rng: np.random.Generator, low: int, high: int) -> ArithmeticItem:
    start = int(rng.integers(2, 21))
    value, ops, operands, results = start, [], [], []
    for _ in range(int(rng.integers(low, high + 1))):
        op, b, value = _one_step(value, rng)
        ops.append(op)
        operands.append(b)
        results.append(value)
    style = "words" if rng.random() < 0.5 else "symbols"
    question = _question(start, ops, operands)
    return ArithmeticItem(question, start, tuple(ops), tuple(operands), tuple(results), style)


def arithmetic_chains(
    n: int = 200, n_steps: int | tuple[int, int] = 6, seed: int = 0
) -> list[ArithmeticItem]:
    """Generate multi-step integer arithmetic problems with step-by-step chains.

    Parameters
    ----------
    n : int, default 200
        Number of problems.
    n_steps : int or (low, high), default 6
        Steps per chain, fixed or drawn uniformly from ``low..high`` inclusive. With 6 steps
        each third of the chain holds two steps.
    seed : int, default 0
        Seeds everything: numbers, operations and the spelling style of each chain.

    Returns
    -------
    list of ArithmeticItem

    Examples
    --------
    >>> item = arithmetic_chains(1, n_steps=3, seed=1)[0]
    >>> len(item.steps()), item.steps()[-1].endswith(f" {item.answer}.")
    (3, True)
    """
    check_params(_CHAINS_PARAMS, {"n": n})
    low, high = _step_range(n_steps)
    rng = np.random.default_rng(seed)
    return [_item(rng, low, high) for _ in range(int(n))]


def answer_line(value: int) -> str:
    """The terminal answer statement of a chain.

    Parameters
    ----------
    value : int
        The answer stated.

    Returns
    -------
    str
    """
    return f"The answer is {value}."


def corrupt_step(item: ArithmeticItem, k: int, rng: np.random.Generator) -> str:
    """Step ``k`` made wrong with length and syntax kept: the operator swapped ("plus" <->
    "minus", "x" <-> "/") or ``+1`` on the step's own number; the stated result is unchanged.

    Parameters
    ----------
    item : ArithmeticItem
    k : int
        Index of the step.
    rng : numpy Generator
        Chooses between the two corruptions.

    Returns
    -------
    str

    Examples
    --------
    >>> item = arithmetic_chains(1, n_steps=2, seed=0)[0]
    >>> corrupt_step(item, 0, np.random.default_rng(0)) != item.step(0)
    True
    """
    if rng.random() < 0.5:
        return item.step(k, op=_SWAP[item.ops[k]])
    return item.step(k, operand=item.operands[k] + 1)
