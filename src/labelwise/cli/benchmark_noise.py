"""``labelwise benchmark-noise``: compare noisy-label learners under injected label noise."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from labelwise.cli import _report, _ui
from labelwise.study.noise_benchmark import (
    METHODS,
    TORCH_METHODS,
    NoiseBenchmark,
    noise_benchmark,
)

DEFAULT_OUT = Path("labelwise-noise-benchmark")
STEM = "noise_benchmark"


def _cell(column: str, value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(bench: NoiseBenchmark) -> Table:
    title = "Clean test accuracy (mean ± 95% half-width over repeats)"
    # Method names are headers as they are typed on the command line.
    return _ui.frame_table(bench.pivot(), title, ("dataset", "noise"), _cell, name=str)


def benchmark_noise_command(
    ctx: typer.Context,
    datasets: str = typer.Option(
        "digits,breast_cancer,wine", "--datasets", help="Comma-separated bundled datasets."
    ),
    noise: str = typer.Option(
        "symmetric,pair,instance", "--noise", help="Comma-separated noise types."
    ),
    rates: str = typer.Option("0.2,0.4,0.6", "--rates", help="Comma-separated noise rates."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Runs of each cell, seeded 0, 1, 2..."),
    old_repeats: int | None = typer.Option(None, "--seeds", min=1, hidden=True),
    methods: str = typer.Option(
        ",".join(METHODS),
        "--methods",
        help=f"Comma-separated methods to compare, by default {', '.join(METHODS)}; with "
        f"PyTorch also {', '.join(TORCH_METHODS)}.",
        # The default spelled with commas alone is one long word that help would cut short.
        show_default=False,
    ),
    out: Path = _ui.out_option(DEFAULT_OUT),
    data: Path | None = typer.Option(
        None, "--data", help="A CSV/TSV/Parquet table to use instead of --datasets."
    ),
    label: str | None = typer.Option(None, "--label", help="The label column of --data."),
    base: str = typer.Option(
        "logistic", "--base", help="The model every method trains: logistic or mlp (wide, slow)."
    ),
    jobs: int = typer.Option(-1, "--jobs", "-j", help="Processes running cells (-1: all cores)."),
) -> None:
    """Inject label noise into training labels and score each method on clean test labels.

    Writes noise_benchmark.csv (every accuracy), noise_benchmark.md (the summary) and
    noise_benchmark.png (accuracy vs noise rate) to --out.
    """
    repeats = _ui.renamed_option(ctx, "--repeats", repeats, "--seeds", old_repeats)
    table = _ui.optional_table(data, label)
    with _ui.count_progress("Benchmarking", "cells") as progress:
        bench = noise_benchmark(
            datasets=_ui.comma_list(datasets, "--datasets"),
            noise_types=_ui.comma_list(noise, "--noise"),
            rates=_ui.numbers(rates, "--rates"),
            methods=_ui.comma_list(methods, "--methods"),
            seeds=list(range(repeats)),
            table=table,
            label=label,
            progress=progress,
            base=base,
            n_jobs=jobs,
        )
    files = {
        f"{STEM}.csv": bench.results,
        f"{STEM}.md": bench.to_markdown(),
        f"{STEM}.png": bench.plot,
    }
    notes = [f"[yellow]note:[/yellow] {note}" for note in bench.notes]
    _report.finish_study(out, files, [_table(bench), *notes], bench.seconds)
