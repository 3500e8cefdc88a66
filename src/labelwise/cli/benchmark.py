"""``labelwise benchmark``: model rankings on original vs human-corrected test labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from labelwise import io
from labelwise.cli import _report, _ui
from labelwise.errors import ConfigError, LabelwiseError
from labelwise.study.benchmark import (
    BenchmarkStability,
    benchmark_stability,
    read_crowd_votes,
    read_review_csv,
)

DEFAULT_OUT = Path("labelwise-benchmark")
STEM = "benchmark_stability"


def _predictions(items: list[str]) -> dict[str, np.ndarray]:
    """``NAME=PATH`` options as arrays: predicted labels (N,) or pred_probs (N, K)."""
    models = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ConfigError(f"--model takes NAME=PATH (e.g. resnet50=preds.npy), got {item!r}.")
        path = path.strip()
        try:
            array = io.read_array(path)
        except LabelwiseError:  # not numeric: a file of label names
            array = None
        models[name.strip()] = (
            array if array is not None and array.ndim == 2 else io.read_labels(path)
        )
    return models


def _cell(column: str, value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _table(study: BenchmarkStability) -> Table:
    title = "Accuracy on original vs corrected test labels"
    return _ui.frame_table(study.accuracy, title, ("model",), _cell)


def _flip_lines(study: BenchmarkStability) -> list[str]:
    """Where in the sweep each trailing model overtakes the leader, one line a pair."""
    lines = []
    for flip in study.flips.itertuples(index=False):
        where = (
            "never in the sweep"
            if not np.isfinite(flip.flip_prevalence)
            else (f"at prevalence {flip.flip_prevalence:.1%} (+{flip.flip_increase:.1%})")
        )
        lines.append(f"{flip.trailer} overtakes {flip.leader} {where}.")
    return lines


def _found_line(study: BenchmarkStability) -> str:
    """How many test labels the reviews found wrong, and what became of them."""
    counts = study.test_set.counts()
    return (
        f"{counts['validated_errors']} validated errors of {counts['reviewed']} reviewed "
        f"({counts['correctable']} relabeled, {counts['removed']} removed); base prevalence "
        f"{study.base_prevalence:.2%}."
    )


def benchmark_command(
    labels: Path = typer.Option(..., "--labels", help="The original test labels (.npy/.csv/.txt)."),
    model: list[str] = typer.Option(
        ..., "--model", "-m", help="NAME=PATH of a model's test predictions or pred_probs; repeat."
    ),
    votes: Path | None = typer.Option(
        None, "--votes", help="Crowd votes in the mturk.json format of the 2021 study."
    ),
    reviews: Path | None = typer.Option(
        None, "--reviews", help="A CSV of reviewed labels: index, reviewer (or votes), label."
    ),
    agreement: int = typer.Option(
        3, "--agreement", min=1, help="Votes needed for a consensus: 3 ('3 of 5') or 5 ('5 of 5')."
    ),
    multilabel: str = typer.Option("drop", "--multilabel", help="Multi-label items: drop or keep."),
    repeats: int = typer.Option(20, "--repeats", min=1, help="Random removals per prevalence."),
    max_prevalence: float = typer.Option(0.3, "--max-prevalence", help="End of the sweep."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random removals."),
    out: Path = _ui.out_option(DEFAULT_OUT),
) -> None:
    """Score models on original and corrected test labels and find where rankings flip.

    Writes benchmark_stability.md, benchmark_stability_accuracy.csv, benchmark_stability_sweep.csv
    and benchmark_stability.png (accuracy vs prevalence, flips marked) to --out.
    """
    if (votes is None) == (reviews is None):
        raise ConfigError(
            "give the human reviews as --votes (JSON) or --reviews (CSV), one of them."
        )
    given = io.read_labels(labels)
    table = read_crowd_votes(votes) if votes is not None else read_review_csv(reviews, given)
    with _ui.spinner("Running the prevalence sweep"):
        study = benchmark_stability(
            _predictions(model),
            given,
            table,
            agreement=agreement,
            multilabel=multilabel,
            max_prevalence=max_prevalence,
            repeats=repeats,
            random_state=seed,
        )
    files = {
        f"{STEM}.md": study.to_markdown(),
        f"{STEM}_accuracy.csv": study.accuracy,
        f"{STEM}_sweep.csv": study.sweep,
        f"{STEM}.png": study.plot,
    }
    _report.finish_study(out, files, [_found_line(study), _table(study), *_flip_lines(study)])
