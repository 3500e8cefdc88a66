"""``labelwise benchmark-noise``: compare noisy-label learners under injected label noise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from labelwise import io
from labelwise.cli import _ui
from labelwise.errors import ConfigError
from labelwise.study.noise_benchmark import (
    METHODS,
    TORCH_METHODS,
    NoiseBenchmark,
    noise_benchmark,
)

DEFAULT_OUT = Path("labelwise-noise-benchmark")
STEM = "noise_benchmark"


def _split(text: str | None, option: str) -> list[str] | None:
    """A comma-separated option as a list; None when the option was not given."""
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ConfigError(f"{option} is empty; give a comma-separated list.")
    return items


def _floats(text: str | None) -> list[float] | None:
    items = _split(text, "--rates")
    if items is None:
        return None
    try:
        return [float(item) for item in items]
    except ValueError:
        raise ConfigError(f"--rates must be numbers separated by commas, got {text!r}.") from None


@contextmanager
def _cell_progress() -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar over benchmark cells on stderr."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cells"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_ui.err(), transient=True) as bar:
        task = bar.add_task("Benchmarking", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def _table(bench: NoiseBenchmark) -> Table:
    wide = bench.pivot()
    table = _ui.ResultTable(title="Clean test accuracy (mean ± 95% half-width over repeats)")
    for column in wide.columns:
        table.add_column(str(column), justify="left" if column in ("dataset", "noise") else "right")
    for row in wide.itertuples(index=False):
        table.add_row(*(f"{v:g}" if isinstance(v, float) else str(v) for v in row))
    return table


def _write(bench: NoiseBenchmark, out: Path) -> list[Path]:
    return [
        io.write_csv(bench.results, out / f"{STEM}.csv"),
        io.write_text(bench.to_markdown(), out / f"{STEM}.md"),
        Path(bench.plot(out / f"{STEM}.png")),
    ]


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
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="Directory for the result files."),
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
    if (data is None) != (label is None):
        raise ConfigError("--data and --label go together: give both or neither.")
    table = io.read_table(data) if data is not None else None
    with _cell_progress() as progress:
        bench = noise_benchmark(
            datasets=_split(datasets, "--datasets"),
            noise_types=_split(noise, "--noise"),
            rates=_floats(rates),
            methods=_split(methods, "--methods"),
            seeds=list(range(repeats)),
            table=table,
            label=label,
            progress=progress,
            base=base,
            n_jobs=jobs,
        )
    written = _write(bench, out)
    console = _ui.out()
    console.print(_table(bench))
    for note in bench.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print(f"Ran in {bench.seconds:.1f} s. Wrote:")
    for path in written:
        console.print(f"  {path}")
