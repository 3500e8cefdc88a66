"""The ``labelwise`` command line: thin shells around the library's functions.

Each command group lives in its own module; this one assembles them into :data:`app` and
provides :func:`main`, the console-script entry point.
"""

from __future__ import annotations

import typer

from labelwise import __version__
from labelwise.cli import _ui
from labelwise.cli.audit import audit_command
from labelwise.cli.benchmark import benchmark_command
from labelwise.cli.benchmark_noise import benchmark_noise_command
from labelwise.cli.budget import budget_command
from labelwise.cli.card import card_command
from labelwise.cli.consensus import consensus_command
from labelwise.cli.cot import cot_command
from labelwise.cli.demo import demo_command
from labelwise.cli.detect_corruption import detect_corruption_command
from labelwise.cli.monitor import monitor_app
from labelwise.cli.preferences import preferences_command
from labelwise.cli.serve import serve_command

__all__ = ["app", "main"]

app = typer.Typer(
    cls=_ui.LabelwiseGroup,
    name="labelwise",
    help="Audit, learn from, document and monitor imperfect labels.",
    no_args_is_help=True,
    add_completion=False,
    # Locals would print whole arrays, and the data in them, into a bug report.
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"labelwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
    """Audit, learn from, document and monitor imperfect labels."""


# LabelwiseCommand: `--help` shows no value type (<bool>) beside flags, which take no value.
app.command("audit", cls=_ui.LabelwiseCommand)(audit_command)
app.command("demo", cls=_ui.LabelwiseCommand)(demo_command)
app.command("card", cls=_ui.LabelwiseCommand)(card_command)
app.command("benchmark-noise", cls=_ui.LabelwiseCommand)(benchmark_noise_command)
app.add_typer(monitor_app, name="monitor")
app.command("serve", cls=_ui.LabelwiseCommand)(serve_command)
app.command("benchmark", cls=_ui.LabelwiseCommand)(benchmark_command)
app.command("budget", cls=_ui.LabelwiseCommand)(budget_command)
app.command("cot", cls=_ui.LabelwiseCommand)(cot_command)
app.command("preferences", cls=_ui.LabelwiseCommand)(preferences_command)
app.command("detect-corruption", cls=_ui.LabelwiseCommand)(detect_corruption_command)
app.command("consensus", cls=_ui.LabelwiseCommand)(consensus_command)


def main() -> None:
    """Run the command line (the ``labelwise`` console script)."""
    app()
