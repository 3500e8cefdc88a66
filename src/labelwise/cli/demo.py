"""``labelwise demo``: audit handwritten digits with known injected label noise."""

from __future__ import annotations

from pathlib import Path

import typer
from sklearn.metrics import precision_score, recall_score

from labelwise.card import build
from labelwise.cli import _report, _ui
from labelwise.cli.card import print_card
from labelwise.datasets import DemoData, load_digits_demo
from labelwise.issues.audit import AuditReport, audit

DEFAULT_OUT = Path("labelwise-demo")
LABEL = "label"
#: The metadata of the demo's card.
DEMO_METADATA = {
    "name": "Digits with injected label noise",
    "description": "scikit-learn's 1,797 handwritten 8x8 digit images (pixel intensities 0 to "
    "16), with a known share of labels flipped at random by labelwise's demo.",
    "license": "CC BY 4.0 (UCI Machine Learning Repository)",
    "url": "https://archive.ics.uci.edu/dataset/80",
    "domain": "computer vision",
    "keywords": ["handwritten digits", "label noise", "demo"],
    "source": "UCI Optical Recognition of Handwritten Digits, as bundled with scikit-learn",
    "collection": "Bitmaps of digits written by 43 people, down-sampled to 8x8 blocks.",
    "annotation_protocol": "The writers' intended digit; the demo then flips a seeded share of "
    "the labels to another digit uniformly at random.",
    "limitations": "The flipped labels are synthetic, symmetric noise; real annotation errors "
    "concentrate on look-alike classes.",
    "intended_uses": ["Trying out label-error detection with known ground truth"],
}


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
    out: Path = _ui.out_option(DEFAULT_OUT),
    top: int = typer.Option(10, "--top", min=0, help="Issues shown on the console."),
    model: str = typer.Option(
        "auto", "--model", "-m", help="The model, as in `labelwise audit --model` (default: auto)."
    ),
) -> None:
    """Flip some labels of scikit-learn's digits, audit them, and score what was found.

    Writes the same files as `labelwise audit`, and the demo's dataset card (card.html, card.json,
    card.md, card.croissant.json); the console table adds each row's true label.
    """
    demo = load_digits_demo(noise_rate=noise, random_state=seed)
    console = _ui.out()
    console.print(
        f"Digits demo: {demo.frame.shape[0]} images, {demo.classes.size} classes, "
        f"{noise:.0%} of labels flipped (seed {seed})."
    )
    with _ui.count_progress("Fitting models", "fits") as progress:
        report = audit(demo.frame, LABEL, model=model, random_state=seed, progress=progress)
    written = _report.finish(report, out, top, issues=_with_truth(report, demo), extra=("true",))
    _print_truth(report, demo)
    _report.print_written(console, written)
    # The demo's card reuses the audit just run, so it costs no second cross-validation.
    card = build(demo.frame, LABEL, metadata=DEMO_METADATA, audit=report, random_state=seed)
    print_card(card, card.save(out))
