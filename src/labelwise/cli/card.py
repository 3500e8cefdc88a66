"""``labelwise card``: the dataset nutrition label of a labeled table."""

from __future__ import annotations

from pathlib import Path

import typer

from labelwise import io
from labelwise.card import Card, build
from labelwise.cli import _report, _ui

DEFAULT_OUT = Path("labelwise-card")


def print_card(card: Card, paths: dict[str, Path]) -> None:
    """One summary line of the card, then the files written."""
    console = _ui.out()
    meta, health = card.metadata, card.label_health
    severities = card.alerts["severity"].value_counts().to_dict()
    noise = f"; estimated label noise {health['noise_rate']:.1%}" if health else ""
    console.print(
        f"Card of {meta['name']}: {meta['rows']:,} rows, {meta['columns']} columns{noise}; "
        f"alerts: {severities.get('critical', 0)} critical, {severities.get('warning', 0)} "
        f"warning, {severities.get('info', 0)} info",
        soft_wrap=True,
    )
    _report.print_paths(console, paths.values())


def card_command(
    data: Path = typer.Argument(
        ..., help="A table (.csv, .tsv, .parquet, .pq) with one row per example.", metavar="DATA"
    ),
    label: str = typer.Option(..., "--label", "-l", help="The label column of DATA."),
    metadata: Path | None = typer.Option(
        None, "--metadata", help="YAML metadata: provenance, uses, variables (docs/card.md)."
    ),
    out: Path = _ui.out_option(DEFAULT_OUT, "Directory for the card files."),
    split: str = typer.Option(
        "split", "--split", help="The split column (train/test...), if DATA has one."
    ),
    annotators: str | None = typer.Option(
        None, "--annotators", help="Comma-separated columns of individual annotators' labels."
    ),
    reference: Path | None = typer.Option(
        None, "--reference", help="A reference table for the ground-truth comparison."
    ),
    pred_probs: Path | None = typer.Option(
        None,
        "--pred-probs",
        help="Out-of-sample predicted probabilities (.npy, .csv, .parquet), columns in sorted "
        "class order: skips cross-validation.",
    ),
    health: bool = typer.Option(
        True, "--health/--no-health", help="Compute the label-health section (runs an audit)."
    ),
    cv: int = typer.Option(5, "--cv", min=2, help="Cross-validation folds of the audit."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds, samples and bootstrap."),
) -> None:
    """Describe a labeled table: metadata, statistics, alerts, splits and label health.

    Writes OUT/card.html (self-contained), card.json, card.md and card.croissant.json.
    """
    probs = io.read_array(pred_probs) if pred_probs is not None else None
    # Without pred_probs, label health cross-validates a model: the slow part, worth naming.
    slow = " (cross-validating the labels)" if health and probs is None else ""
    with _ui.spinner(f"Building the card{slow}"):
        card = build(
            data,
            label=label,
            metadata=metadata,
            reference=reference,
            pred_probs=probs,
            split=split,
            annotators=_ui.split_names(annotators),
            label_health=health,
            cv=cv,
            random_state=seed,
        )
    print_card(card, card.save(out))
