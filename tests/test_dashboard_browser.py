"""The dashboard in a real browser: a uvicorn server on 127.0.0.1 and headless chromium.

The store is filled by a real :class:`~labelwise.monitor.Monitor` on synthetic credit data whose
later windows degrade, so the charts hold real statistics, thresholds and bands.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest

from labelwise.monitor import Monitor
from labelwise.monitor.dashboard import create_app
from labelwise.monitor.store import MonitorStore

#: Strength of the injected covariate degradation in each checked window.
DEGRADATION = [0.0, 0.0, 0.3, 0.7, 1.0]
WINDOWS = [f"2024-0{i + 1}-01" for i in range(len(DEGRADATION))]
FEATURES_N = 6


def _credit(n: int, window: int, degradation: float) -> pd.DataFrame:
    """Synthetic credit windows: the package's simulator, else a small numpy stand-in."""
    try:
        from labelwise.monitor.synthetic import make_credit_data
    except ImportError:  # pragma: no cover - the simulator ships with the monitor
        rng = np.random.default_rng(window)
        income = rng.normal(0, 1, n)
        broken = rng.random(n) < 0.4 * degradation
        income[broken] = np.nan
        score = 1 / (1 + np.exp(-(np.nan_to_num(income) - 1.5)))
        return pd.DataFrame(
            {"income": income, "age": rng.normal(40, 9, n), "score": score,
             "bad": rng.binomial(1, score)}
        )  # fmt: skip
    return make_credit_data(
        n, n_features=FEATURES_N, seed=7, window=window, covariate_degradation=degradation
    )


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    """A store with five monthly windows of model "credit", the first one reconciled."""
    reference = _credit(3000, 0, 0.0)
    features = [c for c in reference.columns if c not in ("score", "p_bad", "bad")]
    monitor = Monitor(n_null=40).fit(
        reference, score="score", features=features, label="bad", cutoff=0.2,
        model="credit", model_version="3",
    )  # fmt: skip
    path = tmp_path_factory.mktemp("browser") / "monitor.db"
    with MonitorStore(path) as store:
        run = store.record_run(
            model="credit",
            model_version="3",
            reference_hash=monitor.reference_hash,
            config_hash=monitor.config_hash,
            config={"n_null": 40},
        )
        frames = {}
        for i, (window, strength) in enumerate(zip(WINDOWS, DEGRADATION, strict=True)):
            frames[window] = _credit(800, i + 1, strength)
            end = WINDOWS[i + 1] if i + 1 < len(WINDOWS) else "2024-06-01"
            result = monitor.check(frames[window], window_id=window, start=window, end=end)
            store.record_window(run, result.to_dict())
        first = frames[WINDOWS[0]]
        recon = monitor.reconcile(WINDOWS[0], first["bad"], scores=first["score"])
        store.record_reconciliation(run, window=WINDOWS[0], rows=recon.to_rows())
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(store_path):
    """The dashboard served by uvicorn in a background thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        create_app(store_path), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


def _open(page, url: str, sections: list[str], status: int = 200) -> None:
    """Load ``url``; check status, sections, the absence of errors and off-host requests."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    response = page.goto(url)
    assert response is not None and response.status == status
    for section in sections:
        assert page.locator(f"#{section}").count() == 1, f"{url} lacks #{section}"
    # Chromium logs a 404 document as a failed resource load; anything else is a real error.
    errors = [e for e in page.errors if not (status == 404 and "404" in e)]
    assert errors == [], errors
    base = url.split("/", 3)[:3]
    off_host = [r for r in requests if r.split("/", 3)[:3] != base and not r.startswith("data:")]
    assert off_host == [], off_host  # the dashboard works offline: nothing from elsewhere


def _charts_have_size(page) -> int:
    """Every SVG chart on the page is laid out with a non-zero box; returns how many."""
    charts = page.locator("figure.chart svg")
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, box
        assert charts.nth(i).is_visible()
    return charts.count()


def test_index(page, server):
    _open(page, server + "/", ["models"])
    link = page.locator('#models a[href="/models/credit"]')
    assert link.count() == 1
    assert page.locator("#models .sev").count() == 1


def test_model_page_charts_render(page, server, build_dir):
    _open(page, server + "/models/credit", ["composite", "monitors", "windows", "reconciliations"])
    n_charts = _charts_have_size(page)
    monitors = page.locator("#monitors figure.chart")
    names = {monitors.nth(i).get_attribute("id") for i in range(monitors.count())}
    assert {"chart-score", "chart-features", "chart-performance"} <= names
    assert n_charts >= 1 + len(names)
    # Lines were drawn: the composite has one point per window.
    assert page.locator("#composite svg circle").count() == len(WINDOWS)
    assert page.locator("#windows tbody tr").count() == len(WINDOWS)
    assert "P(Y|X)" in page.locator("#reconciliations").inner_text()
    shot = build_dir / "dashboard-model.png"
    page.screenshot(path=str(shot), full_page=True)
    _check_screenshot(shot)


def _check_screenshot(path) -> None:
    """A real rendering: large, and with many colours (charts, bands, badges), not a blank page."""
    image_module = pytest.importorskip("PIL.Image")
    assert path.stat().st_size > 20_000
    with image_module.open(path) as image:
        width, height = image.size
        assert width >= 1200 and height >= 900
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50


def test_window_page(page, server, build_dir):
    degraded = WINDOWS[-1]
    _open(
        page,
        f"{server}/models/credit/windows/{degraded}",
        ["metrics", "features", "reconciliation", "blind-spot", "score-bins"],
    )
    _charts_have_size(page)
    assert page.locator("#metrics tbody tr").count() > 10
    assert page.locator("#features tbody tr").count() == FEATURES_N
    assert page.locator("#metrics .fired").count() >= 1  # the degradation fired monitors
    assert "invisible without labels" in page.locator("#blind-spot").inner_text()
    page.screenshot(path=str(build_dir / "dashboard-window.png"), full_page=True)
    reconciled = f"{server}/models/credit/windows/{WINDOWS[0]}"
    _open(page, reconciled, ["reconciliation"])
    assert "bad_rate" in page.locator("#reconciliation").inner_text()


def test_alerts_page(page, server):
    _open(page, server + "/alerts", ["alerts"])
    rows = page.locator("#alerts tbody tr")
    assert rows.count() >= 1  # full-strength degradation alerts
    assert WINDOWS[-1] in page.locator("#alerts").inner_text()


def test_not_found_page(page, server):
    _open(page, server + "/models/" + quote("no such model"), ["not-found"], status=404)
    _open(page, server + "/models/credit/windows/1999-01-01", ["not-found"], status=404)
