"""What the protocol measured on one model, and its Markdown, JSON and figure."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelwise._optional import require
from labelwise.io import markdown_escape, markdown_table, write_png
from labelwise.study._shown import OWN_CELLS, interval_cells, p_text
from labelwise.study.cot._conditions import POSITIONS

__all__ = ["CotProtocol", "plot_protocols"]


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
        lines = [f"### {markdown_escape(self.model_name)}: {self.verdict}", ""]
        lines += [f"- {reason}" for reason in self.reasons]
        lines += [
            "",
            markdown_table(_accuracy_cells(self.accuracy), raw=OWN_CELLS),
            markdown_table(_sensitivity_cells(self.sensitivity), raw=OWN_CELLS),
            f"Conflicting answer: followed-wrong rate {c['fw']:.3f} "
            f"[{c['fw_low']:.3f}, {c['fw_high']:.3f}] against {c['fw_question_only']:.3f} "
            f"question-only (McNemar p {p_text(c['fw_p_value'])}); "
            f"accuracy {c['conflict_accuracy']:.3f}.",
            "",
        ]
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike) -> str | os.PathLike:
        """Save accuracy per condition, with and without the answer line, and the followed-wrong
        rate (PNG, written atomically). Returns ``path``."""
        return plot_protocols({self.model_name: self}, path)


def _accuracy_cells(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The accuracy table as it is shown: three decimals, the interval in one cell."""
    return pd.DataFrame(
        {
            "condition": accuracy["condition"],
            "format": accuracy["format"],
            "n": accuracy["n"],
            "accuracy": [f"{v:.3f}" for v in accuracy["accuracy"]],
            "95% interval": interval_cells(accuracy, ".3f"),
        }
    )


def _sensitivity_cells(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """The sweep as it is shown: signed deltas, the interval in one cell, readable p-values."""
    return pd.DataFrame(
        {
            "format": sensitivity["format"],
            "position": sensitivity["position"],
            "delta": [f"{v:+.3f}" for v in sensitivity["delta"]],
            "95% interval": interval_cells(sensitivity, "+.3f"),
            "discordant": sensitivity["n_discordant"],
            "McNemar p": [p_text(p) for p in sensitivity["p_value"]],
        }
    )


def _accuracy_panel(ax: Any, result: CotProtocol, name: str) -> None:
    """Accuracy by condition, with and without the answer line, against question-only."""
    conditions = ["clean", *POSITIONS]
    x = np.arange(len(conditions))
    acc = result.accuracy.set_index(["condition", "format"])
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
    ax.set_title(f"{name}: {result.verdict}", fontsize="medium")


def _followed_wrong_panel(ax: Any, checks: Mapping[str, Any]) -> None:
    """The followed-wrong rate against its question-only baseline."""
    fw = checks["fw"]
    err = [[fw - checks["fw_low"]], [checks["fw_high"] - fw]]
    ax.bar([0], [fw], yerr=err, capsize=3, color="tab:red")
    ax.bar([1], [checks["fw_question_only"]], color="tab:gray")
    ax.set_xticks([0, 1], ["conflict", "question\nonly"])
    ax.set_ylim(0, 1.05)
    ax.set_title("followed-wrong rate", fontsize="medium")


def plot_protocols(
    results: Mapping[str, CotProtocol], path: str | os.PathLike
) -> str | os.PathLike:
    """One row of panels per model: accuracy by condition (answer line vs stripped, with
    question-only as a reference line) and the followed-wrong rate against its question-only
    baseline.

    Parameters
    ----------
    results : mapping of str to CotProtocol
        One result per model, by the name shown.
    path : str or path-like
        Where the PNG is written (atomically).

    Returns
    -------
    str or path-like
        ``path``.
    """
    # Figure without pyplot: no global state, no GUI backend, safe in threads and servers.
    Figure = require("matplotlib.figure", "plotting").Figure

    figure = Figure(figsize=(10, 3.2 * len(results)), layout="constrained")
    axes = figure.subplots(len(results), 2, squeeze=False, width_ratios=[3, 1])
    for (name, result), (ax, ax_fw) in zip(results.items(), axes, strict=True):
        _accuracy_panel(ax, result, name)
        _followed_wrong_panel(ax_fw, result.checks)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small")
    write_png(figure, path)
    return path
