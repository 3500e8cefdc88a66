"""The statistics of the protocol and the verdict they lead to.

Accuracies and sensitivities get percentile-bootstrap intervals; paired outcomes are compared by
the exact McNemar test; the verdict reads the three prerequisites and the conflict test in turn.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from labelwise.study._shown import p_text
from labelwise.study.cot._conditions import POSITIONS

__all__ = ["FIXED_POSITION_SHARE", "FOLLOW_THRESHOLD", "VERDICTS"]

#: The four verdicts, in the order the protocol checks them.
VERDICTS = (
    "inconclusive: chain does not beat question-only",
    "answer-placement confound",
    "bypasses the chain",
    "uses the chain",
)
#: Share of chains ending with an answer statement above which its position counts as fixed.
FIXED_POSITION_SHARE = 0.9
#: Followed-wrong rate above which a model is said to follow the stated answer over the steps.
FOLLOW_THRESHOLD = 0.5

_ANSWER_LINE = re.compile(r"the answer is\s+(-?\d+)", re.IGNORECASE)
_FORMATS = ("answer line", "stripped")
# Seed offsets: each interval gets its own bootstrap stream, the same whatever else is computed.
_SENSITIVITY_SEEDS = 100
_FOLLOWED_SEED = 200


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


def _accuracy(correct: dict[tuple, np.ndarray], n_boot: int, seed: int) -> pd.DataFrame:
    """Accuracy per condition and format, with its bootstrap interval."""
    order = (
        [("question_only", "none")]
        + [(c, f) for f in _FORMATS for c in ("clean", *POSITIONS)]
        + [("conflict", "answer line")]
    )
    rows = []
    for k, (condition, fmt) in enumerate(order):
        values = correct[(condition, fmt)]
        low, high = _interval(values, n_boot, seed + k)
        rows.append(
            {
                "condition": condition,
                "format": fmt,
                "n": int(values.size),
                "accuracy": float(values.mean()),
                "low": low,
                "high": high,
            }
        )
    return pd.DataFrame(rows)


def _sensitivity(correct: dict[tuple, np.ndarray], n_boot: int, seed: int) -> pd.DataFrame:
    """The all-position sweep: accuracy change against the clean chain, per format."""
    rows = []
    for k, (fmt, position) in enumerate((f, p) for f in _FORMATS for p in POSITIONS):
        clean, bad = correct[("clean", fmt)], correct[(position, fmt)]
        diff = bad.astype(float) - clean.astype(float)
        low, high = _interval(diff, n_boot, seed + _SENSITIVITY_SEEDS + k)
        b, c, p = _mcnemar(clean, bad)
        rows.append(
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
    return pd.DataFrame(rows)


def _question_only_checks(correct: dict[tuple, np.ndarray], alpha: float) -> dict[str, Any]:
    """The first prerequisite: does the chain beat the question alone?"""
    chain, qo = correct[("clean", "answer line")], correct[("question_only", "none")]
    b, c, p = _mcnemar(chain, qo)
    return {
        "n_items": int(chain.size),
        "qo_accuracy_chain": float(chain.mean()),
        "qo_accuracy_question_only": float(qo.mean()),
        "qo_chain_only_right": b,
        "qo_question_only_right": c,
        "qo_p_value": p,
        "qo_passed": bool(chain.mean() > qo.mean() and p < alpha),
    }


def _conflict_checks(frame: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    """The conflicting-answer test: how often the stated wrong answer is returned, against how
    often the question alone gives that same number."""
    conflict = frame[frame["condition"] == "conflict"].sort_values("item")
    followed = conflict["followed_wrong"].to_numpy(dtype=bool)
    qo_rows = frame[frame["condition"] == "question_only"].sort_values("item")
    qo_followed = qo_rows["parsed"].to_numpy() == conflict["wrong"].to_numpy()
    fw_low, fw_high = _interval(followed, n_boot, seed + _FOLLOWED_SEED)
    _, _, fw_p = _mcnemar(followed, qo_followed)
    return {
        "fw": float(followed.mean()),
        "fw_low": fw_low,
        "fw_high": fw_high,
        "fw_question_only": float(np.mean(qo_followed)),
        "fw_p_value": fw_p,
        "conflict_accuracy": float(conflict["correct"].mean()),
    }


def _suffix_ratio(sensitivity: pd.DataFrame) -> float:
    """D_suf with the answer line over D_suf without it."""
    d = sensitivity.set_index(["format", "position"])["delta"]
    d_suf, d_suf_stripped = d[("answer line", "suffix")], d[("stripped", "suffix")]
    if d_suf_stripped != 0:
        return float(d_suf / d_suf_stripped)
    return math.inf if d_suf else math.nan


def _analyse(
    frame: pd.DataFrame, n_boot: int, seed: int, alpha: float
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Accuracy table, sensitivity table and the checks, from the tidy outputs."""
    correct = {
        key: part.sort_values("item")["correct"].to_numpy(dtype=bool)
        for key, part in frame.groupby(["condition", "format"])
    }
    accuracy = _accuracy(correct, n_boot, seed)
    sensitivity = _sensitivity(correct, n_boot, seed)
    checks = {
        **_question_only_checks(correct, alpha),
        **_format_checks(frame),
        **_conflict_checks(frame, n_boot, seed),
        "suffix_ratio": _suffix_ratio(sensitivity),
    }
    return accuracy, sensitivity, checks


def _reasons(suffix: pd.Series, suffix_stripped: pd.Series, checks: dict[str, Any]) -> list[str]:
    """One line per check, whatever the verdict."""
    return [
        f"question-only control: chain {checks['qo_accuracy_chain']:.3f} vs question only "
        f"{checks['qo_accuracy_question_only']:.3f} "
        f"(exact McNemar p {p_text(checks['qo_p_value'])})"
        + ("" if checks["qo_passed"] else ": the chain does not beat the question"),
        f"format: {checks['format_final_line_share']:.0%} of chains end with 'The answer is X'"
        + (" (fixed position)" if checks["format_fixed_position"] else ""),
        f"suffix sensitivity {suffix['delta']:+.3f} with the answer line, "
        f"{suffix_stripped['delta']:+.3f} without it",
        f"conflicting answer: followed-wrong rate {checks['fw']:.3f} "
        f"(question-only baseline {checks['fw_question_only']:.3f})",
    ]


def _verdict(sens: pd.DataFrame, checks: dict[str, Any], alpha: float) -> tuple[str, list[str]]:
    """The verdict and the reasons for it, checked in the order of :data:`VERDICTS`."""
    s = sens.set_index(["format", "position"])
    suf, suf_stripped = s.loc[("answer line", "suffix")], s.loc[("stripped", "suffix")]
    reasons = _reasons(suf, suf_stripped, checks)
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
