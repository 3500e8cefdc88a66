"""``labelwise serve``: the read-only monitoring dashboard over a monitor store."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer
from rich.markup import escape

from labelwise.cli import _ui

__all__ = ["serve_command", "is_loopback"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    db: str | None = typer.Option(
        None,
        "--db",
        help="Store URL or SQLite path (default: monitor.db in the current directory).",
    ),
    host: str = typer.Option(
        DEFAULT_HOST, "--host", help="Address to listen on; the default serves this machine only."
    ),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the monitoring dashboard (read-only) until interrupted with Ctrl+C."""
    from labelwise._optional import require
    from labelwise._shared.urls import display_url
    from labelwise.monitor.dashboard import create_app
    from labelwise.monitor.store import default_store_url

    uvicorn = require("uvicorn", "labelwise serve")
    url = db if db is not None else default_store_url(Path.cwd())
    app = create_app(url)
    console = _ui.err()
    if not is_loopback(host):
        # The dashboard has no login: on a public address anyone who can reach it reads it.
        console.print(
            f"[yellow]warning:[/yellow] serving on {escape(host)}, which other machines can "
            "reach; the dashboard has no authentication.",
            soft_wrap=True,
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"Dashboard of {escape(display_url(url))} at http://{escape(shown)}:{port}/ (Ctrl+C stops)",
        soft_wrap=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
