"""``labelwise cot``: the chain-of-thought corruption protocol against an endpoint or a demo."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from labelwise.cli import _report, _ui
from labelwise.errors import ConfigError
from labelwise.study.cot import CotProtocol, cot_protocol, demo_model, from_openai_compatible

DEFAULT_OUT = Path("labelwise-cot")
STEM = "cot_protocol"


def _table(result: CotProtocol) -> Table:
    table = _ui.ResultTable(title=f"{result.model_name}: {result.verdict}")
    for column in ("condition", "format", "accuracy", "95% interval", "delta vs clean", "p"):
        table.add_column(column, justify="left" if column in ("condition", "format") else "right")
    sens = result.sensitivity.set_index(["format", "position"])
    for r in result.accuracy.itertuples(index=False):
        key = (r.format, r.condition)
        delta, p = ("", "")
        if key in sens.index:
            delta, p = f"{sens.loc[key, 'delta']:+.3f}", f"{sens.loc[key, 'p_value']:.2g}"
        interval = f"[{r.low:.3f}, {r.high:.3f}]"
        table.add_row(r.condition, r.format, f"{r.accuracy:.3f}", interval, delta, p)
    return table


def cot_command(
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="Base URL of an OpenAI-compatible API, e.g. http://HOST:8000/v1."
    ),
    model: str | None = typer.Option(None, "--model", help="Model name served by --endpoint."),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="LABELWISE_API_KEY", help="Bearer key for --endpoint, if any."
    ),
    demo: str | None = typer.Option(
        None, "--demo", help="A built-in learned model instead: computes or copies."
    ),
    n: int = typer.Option(200, "--n", min=1, help="Number of arithmetic problems."),
    steps: int = typer.Option(6, "--steps", min=1, help="Steps per chain."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of problems, corruptions, bootstrap."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per endpoint request."),
    out: Path = _ui.out_option(DEFAULT_OUT),
) -> None:
    """Run the three-prerequisite CoT corruption protocol on synthetic arithmetic chains.

    Question-only control, format characterization, all-position sweep with and without the
    final answer line, and the conflicting-answer test. Writes cot_protocol.md and
    cot_protocol.json to --out.
    """
    if (endpoint is None) == (demo is None):
        raise ConfigError("give either --endpoint URL --model NAME, or --demo computes|copies.")
    if endpoint is not None:
        if not model:
            raise ConfigError("--endpoint needs --model NAME (the model the endpoint serves).")
        ask = from_openai_compatible(endpoint, model, api_key=api_key, timeout=timeout)
    else:
        with _ui.spinner(f"Training the '{demo}' demo model"):
            ask = demo_model(str(demo), seed=seed)
    with _ui.count_progress("Asking") as progress:
        result = cot_protocol(ask, n=n, n_steps=steps, seed=seed, progress=progress)
    files = {f"{STEM}.md": result.to_markdown(), f"{STEM}.json": result.to_dict()}
    reasons = [f"- {reason}" for reason in result.reasons]
    verdict = f"[bold]verdict:[/bold] {result.verdict}"
    _report.finish_study(out, files, [_table(result), *reasons, verdict], result.seconds)
