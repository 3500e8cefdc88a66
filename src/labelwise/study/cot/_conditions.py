"""The conditions each problem is asked under: question only, clean and corrupted chains with
and without the answer line, and a chain that states a wrong answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labelwise.study.cot._prompts import build_prompt
from labelwise.study.cot._task import ArithmeticItem, answer_line, corrupt_step

__all__ = ["ANSWER_PLACEHOLDER", "POSITIONS"]

#: What replaces the final "The answer is X" line in the answer-stripped rerun: no number, no
#: "answer", so nothing in it can be copied.
ANSWER_PLACEHOLDER = "That completes the steps."
#: The thirds of a chain that are corrupted in turn.
POSITIONS = ("prefix", "middle", "suffix")


@dataclass(frozen=True)
class _Trial:
    item: int
    condition: str
    format: str
    prompt: str
    target: int
    wrong: int | None = None


def _thirds(n_steps: int) -> dict[str, np.ndarray]:
    parts = np.array_split(np.arange(n_steps), 3)
    return dict(zip(POSITIONS, parts, strict=True))


def _steps(item: ArithmeticItem, position: str | None, rng: np.random.Generator) -> list[str]:
    """The steps with those of ``position`` (a third of the chain) corrupted."""
    corrupted = set(_thirds(len(item.ops))[position].tolist()) if position else set()
    return [
        corrupt_step(item, k, rng) if k in corrupted else item.step(k) for k in range(len(item.ops))
    ]


def _wrong_answer(answer: int, rng: np.random.Generator) -> int:
    """A plausible wrong answer: the right one moved by 2 to 9 either way (never by 1, which
    is what a corrupted answer line states)."""
    return answer + int(rng.choice([-1, 1])) * int(rng.integers(2, 10))


def _item_trials(i: int, item: ArithmeticItem, rng: np.random.Generator) -> list[_Trial]:
    q, a = item.question, item.answer
    trials = [_Trial(i, "question_only", "none", build_prompt(q), a)]
    # One corruption per position, shown with and without the answer line: the stripped
    # rerun differs from the original in that line only.
    steps = {position: _steps(item, position, rng) for position in (None, *POSITIONS)}
    for fmt, final in (("answer line", answer_line(a)), ("stripped", ANSWER_PLACEHOLDER)):
        for position, lines in steps.items():
            # The suffix owns the answer line: corrupting it is X -> X + 1.
            end = answer_line(a + 1) if position == "suffix" and fmt == "answer line" else final
            chain = "\n".join([*lines, end])
            trials.append(_Trial(i, position or "clean", fmt, build_prompt(q, chain), a))
    wrong = _wrong_answer(a, rng)
    chain = "\n".join([*steps[None], answer_line(wrong)])
    trials.append(_Trial(i, "conflict", "answer line", build_prompt(q, chain), a, wrong))
    return trials


def _trials(items: Sequence[ArithmeticItem], seed: int) -> list[_Trial]:
    """Every prompt of the protocol, ten per item, in the order they are asked."""
    rng = np.random.default_rng([seed, 1])
    return [trial for i, item in enumerate(items) for trial in _item_trials(i, item, rng)]
