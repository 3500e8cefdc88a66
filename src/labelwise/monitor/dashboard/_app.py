"""The dashboard as a FastAPI application: routes, and pages rendered from the templates.

The pages are ``templates/*.html`` in this package; every route only reads the store (through
:class:`~labelwise.monitor.dashboard._view.StoreView`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import asynccontextmanager
from typing import Any

from labelwise._shared.templates import template_environment
from labelwise._shared.urls import display_url
from labelwise.monitor import BLIND_SPOT
from labelwise.monitor.dashboard._cells import fmt
from labelwise.monitor.dashboard._figures import model_charts, score_bins_chart
from labelwise.monitor.dashboard._metrics import split_metric
from labelwise.monitor.dashboard._urls import NotFound, alerts_url, locate, model_url
from labelwise.monitor.dashboard._view import FEATURE_COLUMNS, StoreView
from labelwise.monitor.store import SEVERITIES


def _columns(rows: Sequence[dict[str, Any]], first: Sequence[str] = ()) -> list[str]:
    """The union of the rows' keys, ``first`` ones leading, private (``_``) ones dropped."""
    seen = dict.fromkeys(first)
    for row in rows:
        seen.update(dict.fromkeys(k for k in row if not str(k).startswith("_")))
    return [c for c in seen if any(c in row for row in rows)] if rows else list(first)


def _open_store(store_url: str | os.PathLike) -> Any:
    """Open an existing store for reading; the dashboard never creates one."""
    from labelwise.monitor.store import MonitorStore

    # create=False: a mistyped path is an error, not a new empty database, and no table or
    # trigger is created on the way.
    return MonitorStore(store_url, create=False)


def _model_context(view: StoreView, model: str, known: bool) -> dict[str, Any]:
    """What the model page shows."""
    page = view.model_page(model, known)
    composite_chart, charts = model_charts(page)
    return {
        **page,
        "last": page["windows"][-1] if page["windows"] else None,
        "n_alerts": len(page["alerts"]),
        "alerts_link": alerts_url(model),
        "composite_chart": composite_chart,
        "monitor_charts": charts,
        "reconciliation_columns": _columns(page["reconciliations"], ("window",)),
    }


def _window_context(view: StoreView, model: str, window: str, known: bool) -> dict[str, Any]:
    """What the window page shows."""
    page = view.window_page(model, window, known)
    return {
        **page,
        # Per-class rows have their own table; the list keeps the model-level ones.
        "metrics": [m for m in page["metrics"] if split_metric(m["metric"])[1] is None],
        "score_chart": score_bins_chart(page["details"]),
        "model_url": model_url(model),
        "feature_columns": _columns(page["features"], FEATURE_COLUMNS),
        "reconciliation_columns": _columns(page["reconciliation"]),
    }


def create_app(store_url: str | os.PathLike, store: Any = None) -> Any:
    """The dashboard as a FastAPI application over the store at ``store_url``.

    Parameters
    ----------
    store_url : str or path-like
        A SQLAlchemy URL (``sqlite:///monitor.db``, ``postgresql+psycopg://...``) or a SQLite
        file path. The store must exist; the dashboard only reads it.
    store : MonitorStore, optional
        An already open store to read instead of opening ``store_url``.

    Returns
    -------
    fastapi.FastAPI
    """
    from labelwise._optional import require

    require("fastapi", "the monitoring dashboard")
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    opened = store is None
    store = _open_store(store_url) if store is None else store
    view = StoreView(store)
    env = template_environment("monitor/dashboard/templates")
    env.globals.update(
        fmt=fmt,
        severities=SEVERITIES,
        store_label=display_url(str(store_url)),
        blind_spot=BLIND_SPOT,
    )

    @asynccontextmanager
    async def lifespan(_: Any):
        yield
        if opened:
            store.close()

    app = FastAPI(
        title="labelwise monitor",
        lifespan=lifespan,
        # The interactive API docs load scripts from a CDN: off, so that nothing leaves the host.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.store = store

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(head=view.head(), **context)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return render("not_found.html", status=404, message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code != 404:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return await _not_found(request, NotFound(f"There is no page at {request.url.path}."))

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return render("index.html", models=view.models())

    # One route per tree: model and window names may hold "/" (sent as %2F), which the server
    # decodes before routing, so the names are read back from the raw path instead. Plain
    # Starlette routes: the handler needs the request's scope, not parsed parameters.
    def model_pages(request: Request) -> HTMLResponse:
        names = view.model_names()  # one read of the models, for locating and for the page
        model, window = locate(request.scope, "/models/", names)
        known = model in names
        if window is None:
            return render("model.html", **_model_context(view, model, known))
        return render("window.html", **_window_context(view, model, window, known))

    def api_model_pages(request: Request) -> JSONResponse:
        names = view.model_names()
        model, window = locate(request.scope, "/api/models/", names)
        if window is None:
            return JSONResponse(view.model_page(model, model in names))
        page = view.window_page(model, window, model in names)
        return JSONResponse({**page, "blind_spot": BLIND_SPOT})

    app.add_route("/models/{rest:path}", model_pages, methods=["GET"])
    app.add_route("/api/models/{rest:path}", api_model_pages, methods=["GET"])

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts_page(model: str | None = None) -> HTMLResponse:
        return render("alerts.html", alerts=view.alerts(model), model=model)

    @app.get("/api/models")
    def api_models() -> JSONResponse:
        return JSONResponse({"models": view.models(), "head": view.head()})

    @app.get("/api/alerts")
    def api_alerts(model: str | None = None) -> JSONResponse:
        return JSONResponse({"alerts": view.alerts(model)})

    return app
