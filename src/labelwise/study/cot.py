"""Chain-of-thought corruption studies with the three-prerequisite protocol.

Corruption studies read a model's reliance on a reasoning chain from how its accuracy falls
when steps are corrupted. "The Last Word Often Wins" (2026) shows the confound: when every chain
ends with "The answer is X", corrupting the last third of the chain also corrupts the answer
line, and a model that merely copies that line looks as if the suffix were where it computes.
The protocol run here asks, of any model given as a callable ``str -> str``:

1. **Question-only control**: is accuracy with the chain higher than with the question alone
   (exact McNemar test on the paired outcomes)? If not, positional effects mean nothing.
2. **Format characterization**: where do the chains state their answer, and is that position
   fixed (the final line of nearly every chain)?
3. **All-position sweep**: accuracy with the prefix, middle or suffix third of the steps
   corrupted (operator swapped, ``+1`` on the step's number, "plus" <-> "minus": length and
   syntax kept), reported whether significant or not, and rerun with the final answer line
   replaced by a neutral placeholder. The suffix condition also corrupts the answer line
   (``X -> X + 1``), as in chains where the answer line is the last step.

A conflicting-answer test completes it: correct steps ending in "The answer is <wrong>"; the
followed-wrong rate (FW) is the share of outputs equal to the wrong answer, judged against the
same share under the question-only prompt. Intervals are percentile bootstraps (2,000 resamples,
seeded).

The built-in task is synthetic multi-step integer arithmetic (:func:`arithmetic_chains`), and two
small learned demo models (:func:`train_computing_model`, :func:`train_copying_model`) show the
two behaviours the protocol separates.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from labelwise._optional import require
from labelwise.errors import ConfigError, EndpointError, InputError, InputTypeError
from labelwise.io import markdown_escape, write_png

__all__ = [
    "ANSWER_PLACEHOLDER",
    "ArithmeticItem",
    "CotProtocol",
    "EndpointError",
    "VERDICTS",
    "answer_line",
    "arithmetic_chains",
    "build_prompt",
    "corrupt_step",
    "cot_protocol",
    "demo_model",
    "from_openai_compatible",
    "from_transformers_pipeline",
    "parse_integer",
    "plot_protocols",
    "train_computing_model",
    "train_copying_model",
]

Model = Callable[[str], str]

#: What replaces the final "The answer is X" line in the answer-stripped rerun: no number, no
#: "answer", so nothing in it can be copied.
ANSWER_PLACEHOLDER = "That completes the steps."
#: The four verdicts, in the order the protocol checks them.
VERDICTS = (
    "inconclusive: chain does not beat question-only",
    "answer-placement confound",
    "bypasses the chain",
    "uses the chain",
)
POSITIONS = ("prefix", "middle", "suffix")
#: Share of chains ending with an answer statement above which its position counts as fixed.
FIXED_POSITION_SHARE = 0.9
#: Followed-wrong rate above which a model is said to follow the stated answer over the steps.
FOLLOW_THRESHOLD = 0.5

_CHAIN_PROMPT = (
    "Solve the problem using the provided reasoning. Return exactly one integer.\n"
    "Question: {question}\nReasoning:\n{chain}\nAnswer:"
)
_QUESTION_PROMPT = "Solve the problem. Return exactly one integer.\nQuestion: {question}\nAnswer:"
_INTEGER = re.compile(r"-?\d+")
_ANSWER_LINE = re.compile(r"the answer is\s+(-?\d+)", re.IGNORECASE)

# Operator spellings per chain style, and the swap that corrupts each (same slot, same syntax).
_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
_SYMBOLS = {"+": "+", "-": "-", "*": "x", "/": "/"}
_EQUALS = {"words": "is", "symbols": "="}
_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*"}
_VERBS = {"+": "add {b}", "-": "subtract {b}", "*": "multiply by {b}", "/": "divide by {b}"}


# --- the task ------------------------------------------------------------------------------------


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
    n = _positive_int("n", n)
    low, high = (n_steps, n_steps) if isinstance(n_steps, Integral) else tuple(n_steps)
    if not (isinstance(low, Integral) and isinstance(high, Integral) and 1 <= low <= high):
        raise ConfigError(f"n_steps must be an int >= 1 or a (low, high) pair, got {n_steps!r}.")
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n):
        start = int(rng.integers(2, 21))
        value, ops, operands, results = start, [], [], []
        for _ in range(int(rng.integers(low, high + 1))):
            op, b, value = _one_step(value, rng)
            ops.append(op)
            operands.append(b)
            results.append(value)
        style = "words" if rng.random() < 0.5 else "symbols"
        items.append(
            ArithmeticItem(
                _question(start, ops, operands),
                start,
                tuple(ops),
                tuple(operands),
                tuple(results),
                style,
            )
        )
    return items


def answer_line(value: int) -> str:
    """The terminal answer statement of a chain."""
    return f"The answer is {value}."


def corrupt_step(item: ArithmeticItem, k: int, rng: np.random.Generator) -> str:
    """Step ``k`` made wrong with length and syntax kept: the operator swapped ("plus" <->
    "minus", "x" <-> "/") or ``+1`` on the step's own number; the stated result is unchanged.

    Examples
    --------
    >>> item = arithmetic_chains(1, n_steps=2, seed=0)[0]
    >>> corrupt_step(item, 0, np.random.default_rng(0)) != item.step(0)
    True
    """
    if rng.random() < 0.5:
        return item.step(k, op=_SWAP[item.ops[k]])
    return item.step(k, operand=item.operands[k] + 1)


def _thirds(n_steps: int) -> dict[str, np.ndarray]:
    parts = np.array_split(np.arange(n_steps), 3)
    return dict(zip(POSITIONS, parts, strict=True))


def _steps(item: ArithmeticItem, position: str | None, rng: np.random.Generator) -> list[str]:
    """The steps with those of ``position`` (a third of the chain) corrupted."""
    corrupted = set(_thirds(len(item.ops))[position].tolist()) if position else set()
    return [
        corrupt_step(item, k, rng) if k in corrupted else item.step(k) for k in range(len(item.ops))
    ]


def build_prompt(question: str, chain: str | None = None) -> str:
    """The prompt a model sees: with a chain ("solve using the provided reasoning") or, when
    ``chain`` is None, the question alone. Both ask for exactly one integer.

    Examples
    --------
    >>> print(build_prompt("What is 2 plus 3?", "2 plus 3 is 5.\\nThe answer is 5."))
    Solve the problem using the provided reasoning. Return exactly one integer.
    Question: What is 2 plus 3?
    Reasoning:
    2 plus 3 is 5.
    The answer is 5.
    Answer:
    """
    if chain is None:
        return _QUESTION_PROMPT.format(question=question)
    return _CHAIN_PROMPT.format(question=question, chain=chain)


def parse_integer(text: Any) -> int | None:
    """The first integer in a model's output, or None when it holds none.

    Examples
    --------
    >>> parse_integer(" 42\\n"), parse_integer("The result is -3."), parse_integer("no idea")
    (42, -3, None)
    """
    match = _INTEGER.search(str(text))
    return int(match.group()) if match else None


def _wrong_answer(answer: int, rng: np.random.Generator) -> int:
    """A plausible wrong answer: the right one moved by 2 to 9 either way (never by 1, which
    is what a corrupted answer line states)."""
    return answer + int(rng.choice([-1, 1])) * int(rng.integers(2, 10))


# --- the conditions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trial:
    item: int
    condition: str
    format: str
    prompt: str
    target: int
    wrong: int | None = None


def _trials(items: Sequence[ArithmeticItem], seed: int) -> list[_Trial]:
    rng = np.random.default_rng([seed, 1])
    trials = []
    for i, item in enumerate(items):
        q, a = item.question, item.answer
        trials.append(_Trial(i, "question_only", "none", build_prompt(q), a))
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


# --- statistics ----------------------------------------------------------------------------------


def _interval(values: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of a mean."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or np.all(values == values[0]):
        # Every resample has the same mean: the interval is that point.
        point = float(values.mean()) if values.size else math.nan
        return point, point
    result = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=n_boot,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _mcnemar(first: np.ndarray, second: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar test of paired 0/1 outcomes: discordant counts and the two-sided p."""
    b = int(np.sum(first & ~second))
    c = int(np.sum(~first & second))
    p = 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)
    return b, c, p


# --- the result ----------------------------------------------------------------------------------


@dataclass(eq=False)
class CotProtocol:
    """Everything the three-prerequisite protocol measured on one model.

    Attributes
    ----------
    outputs : DataFrame
        Tidy: one row per item and condition with ``item, condition, format, prompt, output,
        parsed, target, correct, wrong, followed_wrong``.
    accuracy : DataFrame
        ``condition, format, n, accuracy, low, high`` (bootstrap 95% interval).
    sensitivity : DataFrame
        The all-position sweep: ``format, position, delta, low, high, n_discordant, p_value``
        where ``delta = acc(corrupted) - acc(clean)`` and ``p_value`` is the exact McNemar test
        against the clean chain, for the chains with their answer line and with it stripped.
    checks : dict
        The prerequisites and the conflict test: ``qo_*`` (chain vs question-only), ``format_*``
        (where answers are stated), ``fw*`` (followed-wrong rate, its interval and its
        question-only baseline), ``suffix_ratio`` (D_suf with the answer line over D_suf
        without it).
    verdict : str
        One of :data:`VERDICTS`.
    reasons : list of str
        Why the verdict was reached, one line per check.
    model_name : str
    seconds : float
    """

    outputs: pd.DataFrame
    accuracy: pd.DataFrame
    sensitivity: pd.DataFrame
    checks: dict[str, Any]
    verdict: str
    reasons: list[str] = field(default_factory=list)
    model_name: str = "model"
    seconds: float = 0.0

    def delta(self, position: str, fmt: str = "answer line") -> float:
        """Sensitivity ``acc(position corrupted) - acc(clean)`` for one format."""
        rows = self.sensitivity
        row = rows[(rows["position"] == position) & (rows["format"] == fmt)]
        return float(row["delta"].iloc[0])

    @property
    def followed_wrong(self) -> float:
        """The followed-wrong rate of the conflicting-answer test."""
        return float(self.checks["fw"])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (outputs excluded)."""
        return {
            "model": self.model_name,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "checks": dict(self.checks),
            "accuracy": self.accuracy.to_dict(orient="records"),
            "sensitivity": self.sensitivity.to_dict(orient="records"),
            "seconds": self.seconds,
        }

    def to_markdown(self) -> str:
        """The prerequisites, the sweep and the verdict as GitHub markdown.

        The model name and the condition labels are escaped with
        :func:`~labelwise.io.markdown_escape`, as they can come from the caller.
        """
        c = self.checks
        md = markdown_escape
        lines = [f"### {md(self.model_name)}: {self.verdict}", ""]
        lines += [f"- {reason}" for reason in self.reasons]
        lines += [
            "",
            "| condition | format | n | accuracy | 95% interval |",
            "|---|---|---|---|---|",
        ]
        for r in self.accuracy.itertuples(index=False):
            lines.append(
                f"| {md(r.condition)} | {md(r.format)} | {r.n} | {r.accuracy:.3f} "
                f"| [{r.low:.3f}, {r.high:.3f}] |"
            )
        lines += [
            "",
            "| format | position | delta | 95% interval | discordant | McNemar p |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.sensitivity.itertuples(index=False):
            lines.append(
                f"| {md(r.format)} | {md(r.position)} | {r.delta:+.3f} "
                f"| [{r.low:+.3f}, {r.high:+.3f}] "
                f"| {r.n_discordant} | {_p(r.p_value)} |"
            )
        lines += [
            "",
            f"Conflicting answer: followed-wrong rate {c['fw']:.3f} "
            f"[{c['fw_low']:.3f}, {c['fw_high']:.3f}] against {c['fw_question_only']:.3f} "
            f"question-only (McNemar p {_p(c['fw_p_value'])}); "
            f"accuracy {c['conflict_accuracy']:.3f}.",
            "",
        ]
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike) -> str | os.PathLike:
        """Save accuracy per condition, with and without the answer line, and the followed-wrong
        rate (PNG, written atomically). Returns ``path``."""
        return plot_protocols({self.model_name: self}, path)


def _p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else (f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}")


def plot_protocols(
    results: Mapping[str, CotProtocol], path: str | os.PathLike
) -> str | os.PathLike:
    """One row of panels per model: accuracy by condition (answer line vs stripped, with
    question-only as a reference line) and the followed-wrong rate against its question-only
    baseline. Written atomically as PNG; returns ``path``."""
    # Figure without pyplot: no global state, no GUI backend, safe in threads and servers.
    Figure = require("matplotlib.figure", "plotting").Figure

    rows = len(results)
    figure = Figure(figsize=(10, 3.2 * rows), layout="constrained")
    axes = figure.subplots(rows, 2, squeeze=False, width_ratios=[3, 1])
    conditions = ["clean", *POSITIONS]
    x = np.arange(len(conditions))
    for (name, res), (ax, ax_fw) in zip(results.items(), axes, strict=True):
        acc = res.accuracy.set_index(["condition", "format"])
        for shift, fmt in ((-0.2, "answer line"), (0.2, "stripped")):
            part = acc.xs(fmt, level="format").reindex(conditions)
            err = np.vstack([part["accuracy"] - part["low"], part["high"] - part["accuracy"]])
            label = "with 'The answer is X'" if fmt == "answer line" else "answer line stripped"
            ax.bar(x + shift, part["accuracy"], 0.4, yerr=err, capsize=3, label=label)
        qo = float(acc.loc[("question_only", "none"), "accuracy"])
        ax.axhline(qo, color="black", linestyle="--", linewidth=1, label="question only")
        ax.set_xticks(x, [f"{c}\ncorrupted" if c in POSITIONS else c for c in conditions])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("accuracy")
        ax.set_title(f"{name}: {res.verdict}", fontsize="medium")
        c = res.checks
        ax_fw.bar(
            [0],
            [c["fw"]],
            yerr=[[c["fw"] - c["fw_low"]], [c["fw_high"] - c["fw"]]],
            capsize=3,
            color="tab:red",
        )
        ax_fw.bar([1], [c["fw_question_only"]], color="tab:gray")
        ax_fw.set_xticks([0, 1], ["conflict", "question\nonly"])
        ax_fw.set_ylim(0, 1.05)
        ax_fw.set_title("followed-wrong rate", fontsize="medium")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small")
    write_png(figure, path)
    return path


# --- the protocol --------------------------------------------------------------------------------


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _format_checks(frame: pd.DataFrame) -> dict[str, Any]:
    """Where the clean chains state their answer, as a share of chain length."""
    prompts = frame.loc[(frame["condition"] == "clean") & (frame["format"] == "answer line")]
    positions, final = [], []
    for prompt in prompts["prompt"]:
        chain = prompt.split("Reasoning:\n", 1)[-1].rsplit("\nAnswer:", 1)[0]
        # The last statement is the one a reader would take.
        match = ([None, *_ANSWER_LINE.finditer(chain)])[-1]
        positions.append(match.start() / max(len(chain), 1) if match else math.nan)
        final.append(
            bool(match) and chain.rstrip().splitlines()[-1].lower().startswith("the answer is")
        )
    share = float(np.mean(final)) if final else 0.0
    return {
        "format_answer_stated": float(np.mean(~np.isnan(positions))) if positions else 0.0,
        "format_final_line_share": share,
        "format_mean_relative_position": float(np.nanmean(positions))
        if any(np.isfinite(positions))
        else math.nan,
        "format_fixed_position": share >= FIXED_POSITION_SHARE,
    }


def _analyse(frame: pd.DataFrame, n_boot: int, seed: int, alpha: float):
    correct = {
        key: part.sort_values("item")["correct"].to_numpy(dtype=bool)
        for key, part in frame.groupby(["condition", "format"])
    }
    acc_rows = []
    order = (
        [("question_only", "none")]
        + [(c, f) for f in ("answer line", "stripped") for c in ("clean", *POSITIONS)]
        + [("conflict", "answer line")]
    )
    for k, key in enumerate(order):
        values = correct[key]
        low, high = _interval(values, n_boot, seed + k)
        acc_rows.append(
            {
                "condition": key[0],
                "format": key[1],
                "n": int(values.size),
                "accuracy": float(values.mean()),
                "low": low,
                "high": high,
            }
        )
    sens_rows = []
    for k, (fmt, position) in enumerate(
        (f, p) for f in ("answer line", "stripped") for p in POSITIONS
    ):
        clean, bad = correct[("clean", fmt)], correct[(position, fmt)]
        diff = bad.astype(float) - clean.astype(float)
        low, high = _interval(diff, n_boot, seed + 100 + k)
        b, c, p = _mcnemar(clean, bad)
        sens_rows.append(
            {
                "format": fmt,
                "position": position,
                "delta": float(diff.mean()),
                "low": low,
                "high": high,
                "n_discordant": b + c,
                "p_value": p,
            }
        )
    chain, qo = correct[("clean", "answer line")], correct[("question_only", "none")]
    b, c, p = _mcnemar(chain, qo)
    conflict = frame[frame["condition"] == "conflict"].sort_values("item")
    followed = conflict["followed_wrong"].to_numpy(dtype=bool)
    qo_rows = frame[frame["condition"] == "question_only"].sort_values("item")
    qo_followed = qo_rows["parsed"].to_numpy() == conflict["wrong"].to_numpy()
    fw_low, fw_high = _interval(followed, n_boot, seed + 200)
    _, _, fw_p = _mcnemar(followed, qo_followed)
    checks = {
        "n_items": int(chain.size),
        "qo_accuracy_chain": float(chain.mean()),
        "qo_accuracy_question_only": float(qo.mean()),
        "qo_chain_only_right": b,
        "qo_question_only_right": c,
        "qo_p_value": p,
        "qo_passed": bool(chain.mean() > qo.mean() and p < alpha),
        **_format_checks(frame),
        "fw": float(followed.mean()),
        "fw_low": fw_low,
        "fw_high": fw_high,
        "fw_question_only": float(np.mean(qo_followed)),
        "fw_p_value": fw_p,
        "conflict_accuracy": float(conflict["correct"].mean()),
    }
    sensitivity = pd.DataFrame(sens_rows)
    d = sensitivity.set_index(["format", "position"])["delta"]
    d_suf, d_suf_stripped = d[("answer line", "suffix")], d[("stripped", "suffix")]
    checks["suffix_ratio"] = (
        float(d_suf / d_suf_stripped) if d_suf_stripped != 0 else (math.inf if d_suf else math.nan)
    )
    return pd.DataFrame(acc_rows), sensitivity, checks


def _verdict(sens: pd.DataFrame, checks: dict[str, Any], alpha: float) -> tuple[str, list[str]]:
    reasons = [
        f"question-only control: chain {checks['qo_accuracy_chain']:.3f} vs question only "
        f"{checks['qo_accuracy_question_only']:.3f} (exact McNemar p {_p(checks['qo_p_value'])})"
        + ("" if checks["qo_passed"] else ": the chain does not beat the question"),
        f"format: {checks['format_final_line_share']:.0%} of chains end with 'The answer is X'"
        + (" (fixed position)" if checks["format_fixed_position"] else ""),
    ]
    s = sens.set_index(["format", "position"])
    suf, suf_stripped = s.loc[("answer line", "suffix")], s.loc[("stripped", "suffix")]
    reasons.append(
        f"suffix sensitivity {suf['delta']:+.3f} with the answer line, "
        f"{suf_stripped['delta']:+.3f} without it"
    )
    reasons.append(
        f"conflicting answer: followed-wrong rate {checks['fw']:.3f} "
        f"(question-only baseline {checks['fw_question_only']:.3f})"
    )
    if not checks["qo_passed"]:
        return VERDICTS[0], reasons
    suffix_significant = suf["delta"] < 0 and suf["p_value"] < alpha
    collapses = suffix_significant and (
        suf_stripped["p_value"] >= alpha or abs(suf_stripped["delta"]) <= abs(suf["delta"]) / 2
    )
    if checks["format_fixed_position"] and collapses:
        reasons.append("suffix sensitivity collapses without the answer line")
        return VERDICTS[1], reasons
    stripped = s.xs("stripped", level="format")
    steps_matter = bool(((stripped["delta"] < 0) & (stripped["p_value"] < alpha)).any())
    follows = checks["fw"] >= FOLLOW_THRESHOLD and checks["fw_p_value"] < alpha
    if follows or not steps_matter:
        reasons.append(
            "the stated answer overrides the steps"
            if follows
            else "no corrupted position changes accuracy once the answer line is gone"
        )
        return VERDICTS[2], reasons
    reasons.append("corrupting the steps changes the answer at some position, answer line or not")
    return VERDICTS[3], reasons


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
    if not callable(model):
        raise InputTypeError(f"model must be a callable str -> str, got {type(model).__name__}.")
    n_boot = _positive_int("n_boot", n_boot)
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ConfigError(f"alpha must be a number in (0, 1), got {alpha!r}.")
    items = list(items) if items is not None else arithmetic_chains(n, n_steps, seed)
    if not items or not all(isinstance(item, ArithmeticItem) for item in items):
        raise InputError("items must be a non-empty sequence of ArithmeticItem.")
    trials = _trials(items, seed)
    rows = []
    for done, trial in enumerate(trials, start=1):
        output = model(trial.prompt)
        if not isinstance(output, str):
            raise InputTypeError(
                f"model must return text (str), got {type(output).__name__}; wrap it so that "
                "it returns the generated string."
            )
        parsed = parse_integer(output)
        rows.append(
            {
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
        )
        if progress is not None:
            progress(done, len(trials))
    frame = pd.DataFrame(rows)
    accuracy, sensitivity, checks = _analyse(frame, n_boot, seed, float(alpha))
    verdict, reasons = _verdict(sensitivity, checks, float(alpha))
    name = model_name or getattr(model, "__name__", type(model).__name__)
    return CotProtocol(
        frame, accuracy, sensitivity, checks, verdict, reasons, name, time.perf_counter() - start
    )


# --- model adapters ------------------------------------------------------------------------------


def from_transformers_pipeline(pipe: Any, max_new_tokens: int = 16) -> Model:
    """Wrap a Hugging Face ``transformers`` text-generation pipeline as ``str -> str``.

    Decoding is greedy and only the continuation is returned. ``transformers`` is not imported
    here: any callable with the pipeline's calling convention works.

    Examples
    --------
    >>> fake = lambda prompt, **kw: [{"generated_text": " 7"}]
    >>> from_transformers_pipeline(fake)("2 + 5 = ?")
    ' 7'
    """
    if not callable(pipe):
        raise InputTypeError(f"pipe must be a transformers pipeline, got {type(pipe).__name__}.")
    max_new_tokens = _positive_int("max_new_tokens", max_new_tokens)

    def generate(prompt: str) -> str:
        out = pipe(prompt, max_new_tokens=max_new_tokens, do_sample=False, return_full_text=False)
        first = out[0] if isinstance(out, list) else out
        if isinstance(first, list):  # batched pipelines nest one more level
            first = first[0]
        return str(first["generated_text"])

    generate.__name__ = getattr(getattr(pipe, "model", None), "name_or_path", "transformers")
    return generate


def from_openai_compatible(
    base_url: str,
    model: str,
    api_key: str | None = None,
    timeout: float = 60.0,
    max_tokens: int = 16,
) -> Model:
    """Wrap an OpenAI-compatible chat-completions endpoint as ``str -> str`` (standard library
    only; nothing is sent until the returned callable is called).

    Each call POSTs ``{"model", "messages": [{"role": "user", "content": prompt}],
    "temperature": 0, "max_tokens"}`` to ``base_url + "/chat/completions"`` and returns the
    first choice's message content.

    Parameters
    ----------
    base_url : str
        E.g. ``http://127.0.0.1:8000/v1`` (vLLM, llama.cpp server, Ollama...).
    model : str
        The model name the endpoint serves.
    api_key : str, optional
        Sent as ``Authorization: Bearer <key>``.
    timeout : float, default 60.0
        Seconds per request.
    max_tokens : int, default 16

    Raises
    ------
    ConfigError
        For a URL that is not http(s).
    EndpointError
        From the callable, when the endpoint cannot be reached or its answer cannot be read.

    Examples
    --------
    >>> ask = from_openai_compatible("http://127.0.0.1:8000/v1", "qwen2.5-3b")
    >>> ask.__name__
    'qwen2.5-3b'
    """
    parts = urllib.parse.urlparse(str(base_url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base_url must be an http(s) URL, got {base_url!r}.")
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or timeout <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    url = str(base_url).rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"

    def generate(prompt: str) -> str:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": int(max_tokens),
        }
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=float(timeout)) as response:
                data = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise EndpointError(f"{url} answered HTTP {exc.code}: {exc.reason}.") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EndpointError(
                f"cannot reach {url}: {reason}; check --endpoint and that the server runs."
            ) from None
        except ValueError:
            raise EndpointError(f"{url} did not answer JSON.") from None
        try:
            return str(data["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise EndpointError(
                f"{url} answered without choices[0].message.content; is it OpenAI-compatible?"
            ) from None

    generate.__name__ = str(model)
    return generate


# --- learned demo models -------------------------------------------------------------------------


def _training_items(n_train: int, seed: int) -> list[ArithmeticItem]:
    return arithmetic_chains(n_train, n_steps=(3, 7), seed=seed + 10_000)


_STEP = re.compile(r"^\s*(-?\d+)\s+(.+?)\s+(-?\d+)\s+(\S+)\s+(-?\d+)\.?\s*$")
_APPLY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.nan,
}


class _Computer:
    """Reads the steps: a classifier learned from worked steps names each step's operation
    (from its words and symbols, numbers masked), and the steps are then evaluated in order
    from the first number, ignoring every stated result and answer line."""

    def __init__(self, classifier: Any):
        self.classifier = classifier
        self.__name__ = "computes"

    def __call__(self, prompt: str) -> str:
        steps = [m for m in map(_STEP.match, prompt.splitlines()) if m]
        if not steps:
            # No worked steps to read: it falls back on the first number it sees.
            return str(parse_integer(prompt) or 0)
        ops = self.classifier.predict([_mask(m.group(0)) for m in steps])
        value: float = float(steps[0].group(1))
        for m, op in zip(steps, ops, strict=True):
            value = _APPLY[op](value, float(m.group(3)))
        return str(round(value)) if np.isfinite(value) else "0"


def _mask(step: str) -> str:
    return _INTEGER.sub(" ", step)


def train_computing_model(n_train: int = 300, seed: int = 0) -> Model:
    """Train a model that computes from the steps (a few tenths of a second).

    A bag-of-tokens logistic regression learns each step's operation from worked steps of
    synthetic chains (both spellings, numbers hidden); the model then evaluates the steps it
    reads. It never looks at stated results or at "The answer is X".

    Examples
    --------
    >>> model = train_computing_model(100)
    >>> model(build_prompt("?", "7 plus 5 is 12.\\n12 x 3 = 36.\\nThe answer is 99."))
    '36'
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, ops = [], []
    for item in _training_items(_positive_int("n_train", n_train), seed):
        for k, op in enumerate(item.ops):
            texts.append(_mask(item.step(k)))
            ops.append(op)
    vectorizer = CountVectorizer(token_pattern=r"[A-Za-z]+|[^\sA-Za-z0-9.]")
    classifier = make_pipeline(vectorizer, LogisticRegression(max_iter=1000))
    return _Computer(classifier.fit(texts, ops))


_TOKEN = re.compile(r"-?\d+|[A-Za-z]+|[^\sA-Za-z0-9]")


def _number_features(prompt: str) -> tuple[list[int], list[dict[str, Any]]]:
    """Each number in the text with features of where it sits: how many numbers follow it,
    its relative position, and the two tokens before it and the one after."""
    tokens = [t.lower() for t in _TOKEN.findall(prompt)]
    where = [i for i, t in enumerate(tokens) if _INTEGER.fullmatch(t)]
    values, features = [], []
    for rank, i in enumerate(where):
        after = len(where) - 1 - rank
        values.append(int(tokens[i]))
        features.append(
            {
                f"from_end={min(after, 4)}": 1,
                "relative_position": rank / max(len(where) - 1, 1),
                f"prev1={_shape(tokens, i - 1)}": 1,
                f"prev2={_shape(tokens, i - 2)}": 1,
                f"next={_shape(tokens, i + 1)}": 1,
            }
        )
    return values, features


def _shape(tokens: list[str], i: int) -> str:
    if i < 0 or i >= len(tokens):
        return "<edge>"
    return "<num>" if _INTEGER.fullmatch(tokens[i]) else tokens[i]


class _Copier:
    """Picks the number most likely to be the answer from where each number sits in the
    text, as learned from worked solutions whose final line carries the label."""

    def __init__(self, vectorizer: Any, classifier: Any):
        self.vectorizer, self.classifier = vectorizer, classifier
        self.__name__ = "copies"

    def __call__(self, prompt: str) -> str:
        values, features = _number_features(prompt)
        if not values:
            return "0"
        scores = self.classifier.predict_proba(self.vectorizer.transform(features))[:, 1]
        return str(values[int(np.argmax(scores))])


def train_copying_model(
    n_train: int = 300, slip: float = 0.3, without_answer_line: float = 0.3, seed: int = 0
) -> Model:
    """Train a model that learns to copy the stated answer (a few tenths of a second).

    Its training data are worked solutions as scraped data hold them: most end in "The answer
    is X", where X is the label, and in a share ``slip`` of those a step's stated result is off
    (sloppy intermediate work), so the number after "answer is" predicts the label best; a share
    ``without_answer_line`` end at the last step, whose stated result is then the label. A
    logistic regression over position features of every number token learns which token is the
    answer; the model returns the highest-scoring one. It never computes anything.

    Examples
    --------
    >>> model = train_copying_model(100)
    >>> model(build_prompt("?", "7 plus 5 is 12.\\n12 x 3 = 36.\\nThe answer is 99."))
    '99'
    >>> model(build_prompt("?", "7 plus 5 is 12.\\n12 x 3 = 35."))
    '35'
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    for name, share in (("slip", slip), ("without_answer_line", without_answer_line)):
        if isinstance(share, bool) or not isinstance(share, Real) or not 0 <= share < 1:
            raise ConfigError(f"{name} must be a share in [0, 1), got {share!r}.")
    rng = np.random.default_rng([seed, 2])
    rows, labels = [], []
    for item in _training_items(_positive_int("n_train", n_train), seed):
        steps = item.steps()
        if rng.random() < without_answer_line:
            chain = steps
        else:
            if rng.random() < slip:
                k = int(rng.integers(len(steps)))
                off = int(rng.choice([-2, -1, 1, 2]))
                steps[k] = steps[k].rsplit(" ", 1)[0] + f" {item.results[k] + off}."
            chain = [*steps, answer_line(item.answer)]
        values, features = _number_features(build_prompt(item.question, "\n".join(chain)))
        rows += features
        labels += [int(v == item.answer) for v in values]
    vectorizer = DictVectorizer()
    classifier = LogisticRegression(max_iter=1000).fit(vectorizer.fit_transform(rows), labels)
    return _Copier(vectorizer, classifier)


def demo_model(kind: str, n_train: int = 300, seed: int = 0) -> Model:
    """One of the two learned demo models: ``"computes"`` or ``"copies"``."""
    trainers = {"computes": train_computing_model, "copies": train_copying_model}
    if kind not in trainers:
        raise ConfigError(f"demo model must be one of {sorted(trainers)}, got {kind!r}.")
    return trainers[kind](n_train=n_train, seed=seed)
