"""``labelwise demo``: audit handwritten digits with known injected label noise."""

from __future__ import annotations

from pathlib import Path

import typer
from sklearn.metrics import precision_score, recall_score

from labelwise.cli import _report, _ui
from labelwise.datasets import DemoData, load_digits_demo
from labelwise.issues.audit import AuditReport, audit

DEFAULT_OUT = Path("labelwise-demo")
LABEL = "label"


def _with_truth(report: AuditReport, demo: DemoData):
    """The issues table with each flagged row's true (pre-noise) label as an extra column."""
    frame = report.to_frame()
    frame["true"] = demo.true_labels[frame["row"].to_numpy()]
    return frame


def _print_truth(report: AuditReport, demo: DemoData) -> None:
    """How the flagged set and the noise estimate compare with the injected noise."""
    flagged, noisy = report.issues.mask, demo.is_noisy
    # sklearn's metrics, so that the shell computes nothing itself; 0 when nothing is flagged.
    precision = precision_score(noisy, flagged, zero_division=0)
    recall = recall_score(noisy, flagged, zero_division=0)
    hits = int((flagged & noisy).sum())
    console = _ui.out()
    console.print(
        f"Injected noise: [bold]{int(noisy.sum())}[/bold] of {noisy.size} labels "
        f"([bold]{demo.noise_rate:.1%}[/bold]); estimated noise rate "
        f"[bold]{report.noise.noise_rate:.1%}[/bold]"
    )
    console.print(
        f"Flagged [bold]{int(flagged.sum())}[/bold]: {hits} truly wrong. "
        f"Precision [bold]{precision:.1%}[/bold], recall [bold]{recall:.1%}[/bold]"
    )


def demo_command(
    noise: float = typer.Option(
        0.1, "--noise", min=0.0, max=0.99, help="Share of the labels to flip at random."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise, the folds and the bootstrap."),
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="Directory for the result files."),
    top: int = typer.Option(10, "--top", min=0, help="Issues shown on the console."),
) -> None:
    """Flip some labels of scikit-learn's digits, audit them, and score what was found.

    Writes the same files as `labelwise audit`; the console table adds each row's true label.
    """
    demo = load_digits_demo(noise_rate=noise, random_state=seed)
    console = _ui.out()
    console.print(
        f"Digits demo: {demo.frame.shape[0]} images, {demo.classes.size} classes, "
        f"{noise:.0%} of labels flipped (seed {seed})."
    )
    with _ui.fold_progress() as progress:
        report = audit(demo.frame, LABEL, random_state=seed, progress=progress)
    written = _report.finish(report, out, top, issues=_with_truth(report, demo), extra=("true",))
    _print_truth(report, demo)
    _report.print_written(console, written)
