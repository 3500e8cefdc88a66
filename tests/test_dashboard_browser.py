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


def _serve(path):
    """Serve the dashboard over ``path`` with uvicorn in a background thread; yield its URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(create_app(path), host="127.0.0.1", port=port, log_level="warning")
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


@pytest.fixture(scope="module")
def server(store_path):
    """The dashboard over the credit store; yields its base URL."""
    yield from _serve(store_path)


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


# --- odd names and every kind of model -----------------------------------------------------------

ODD_MODEL = "team/credit #1?50% ü"
ODD_WINDOW = "q1/2024 #a?b=.."
#: Class names are data; the first would run if it reached the page as markup.
CLASSES = ["<img src=x onerror=window.pwned=1>", "</td>\"'", "x]y", "[z", "plain"]
KIND_WINDOWS = ["2024-02-01", "2024-02-08", "2024-02-15"]


def _metric(monitor, metric, value, threshold=None, half=None) -> dict:
    low, high = (None, None) if half is None else (value - half, value + half)
    fired = None if threshold is None else value > threshold
    return {"monitor": monitor, "metric": metric, "value": value, "threshold": threshold,
            "low": low, "high": high, "fired": fired}  # fmt: skip


def _window(window: str, i: int, metrics: list[dict], details: dict) -> dict:
    return {"window": window, "start": None, "end": None, "n_rows": 500,
            "composite": 0.2 * i, "severity": ("ok", "watch", "alert")[i % 3],
            "metrics": metrics, "details": details}  # fmt: skip


def _multiclass(window: str, i: int) -> dict:
    metrics = [
        _metric("performance", name, 0.8 - 0.03 * i, half=0.03)
        for name in ("expected_accuracy", "expected_macro_precision", "expected_macro_recall",
                     "expected_macro_f1")
    ]  # fmt: skip
    for k, cls in enumerate(CLASSES):
        metrics += [
            _metric("performance", f"expected_{stat}[{cls}]", 0.5 + 0.06 * k - 0.02 * i, half=0.04)
            for stat in ("precision", "recall", "f1")
        ]
        metrics.append(_metric("score", f"psi[{cls}]", 0.03 * (k + 1) * (i + 1), threshold=0.1))
        metrics.append(_metric("operational", f"prediction_share[{cls}]", 0.2, half=0.03))
    metrics += [
        _metric("score", "psi", 0.15 * (i + 1), threshold=0.1),
        _metric("score", "ks", 0.02 * (i + 1), threshold=0.08),
        _metric("operational", "prediction_mix_psi", 0.03 * i, threshold=0.1),
    ]
    return _window(window, i, metrics, {"kind": "multiclass", "classes": CLASSES})


def _regression(window: str, i: int) -> dict:
    metrics = [
        _metric("performance", "expected_mae", 1200.0 + 100 * i, half=80.0),
        _metric("performance", "expected_rmse", 1700.0 + 150 * i, half=120.0),
        _metric("score", "psi", 0.04 * (i + 1), threshold=0.1),
        _metric("score", "ks", 0.02 * (i + 1), threshold=0.08),
        _metric("score", "wasserstein_norm", 0.01 * (i + 1), threshold=0.05),
    ]
    return _window(window, i, metrics, {"kind": "regression"})


def _binary(window: str, i: int) -> dict:
    metrics = [
        _metric("performance", "expected_auc", 0.74 - 0.01 * i, half=0.02),
        _metric("score", "psi", 0.05 * (i + 1), threshold=0.1),
    ]
    return _window(window, i, metrics, {})


@pytest.fixture(scope="module")
def kinds_server(tmp_path_factory):
    """A binary model with an odd name, a multiclass and a regression model; yields the URL."""
    path = tmp_path_factory.mktemp("kinds") / "monitor.db"
    models = {
        ODD_MODEL: [_binary(w, i) for i, w in enumerate([*KIND_WINDOWS[:2], ODD_WINDOW])],
        "species": [_multiclass(w, i) for i, w in enumerate(KIND_WINDOWS)],
        "prices": [_regression(w, i) for i, w in enumerate(KIND_WINDOWS)],
    }
    with MonitorStore(path) as store:
        for model, windows in models.items():
            store.record_run(
                model=model, model_version="1", reference_hash="r", config_hash="c",
                windows=windows,
            )  # fmt: skip
    yield from _serve(path)


def test_click_through_to_an_odd_model_and_window(page, kinds_server):
    _open(page, kinds_server + "/", ["models"])
    page.locator("#models a", has_text=ODD_MODEL).click()
    page.wait_for_load_state()
    assert page.url == kinds_server + "/models/" + quote(ODD_MODEL, safe="")
    assert page.locator("h1").inner_text() == f"Model {ODD_MODEL}"
    assert page.locator("#windows tbody tr").count() == 3
    _charts_have_size(page)
    page.locator("#windows a", has_text=ODD_WINDOW).click()
    page.wait_for_load_state()
    assert page.url.endswith("/windows/" + quote(ODD_WINDOW, safe=""))
    assert page.locator("h1").inner_text() == f"Window {ODD_WINDOW} of {ODD_MODEL}"
    assert page.locator("#metrics tbody tr").count() == 2
    page.locator("main a", has_text=ODD_MODEL).first.click()  # back to the model
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Model {ODD_MODEL}"
    assert page.errors == [], page.errors


def test_multiclass_pages_render(page, kinds_server, build_dir):
    _open(page, kinds_server + "/models/species", ["composite", "monitors", "windows"])
    assert page.locator("#kind .v").inner_text() == "multiclass"
    _charts_have_size(page)
    for chart in ("chart-performance", "chart-score", "chart-class-expected_f1"):
        assert page.locator(f"#{chart} svg polyline").count() >= 1, chart
    legend = page.locator("#chart-class-expected_f1 svg text").all_text_contents()
    assert set(CLASSES) <= set(legend)
    page.screenshot(path=str(build_dir / "dashboard-multiclass.png"), full_page=True)
    _open(page, kinds_server + "/models/species/windows/" + KIND_WINDOWS[-1], ["per-class"])
    rows = page.locator("#per-class tbody tr")
    assert rows.count() == len(CLASSES)
    assert [rows.nth(i).locator("th").inner_text() for i in range(len(CLASSES))] == CLASSES
    assert page.locator("#per-class thead th").all_inner_texts()[:4] == [
        "Class", "precision", "recall", "F1",
    ]  # fmt: skip
    assert page.evaluate("window.pwned") is None  # the class names stayed text
    page.screenshot(path=str(build_dir / "dashboard-multiclass-window.png"), full_page=True)
    assert page.locator("#per-class img").count() == 0


def test_regression_pages_render(page, kinds_server):
    _open(page, kinds_server + "/models/prices", ["composite", "monitors", "windows"])
    assert page.locator("#kind .v").inner_text() == "regression"
    _charts_have_size(page)
    legend = page.locator("#chart-performance svg text").all_text_contents()
    assert {"expected_mae", "expected_rmse"} <= set(legend)
    assert page.locator("#chart-performance svg polygon").count() >= 2  # the bands
    assert page.locator("#chart-entropy").count() == 0
    _open(page, kinds_server + "/models/prices/windows/" + KIND_WINDOWS[0], ["estimates"])
    assert page.locator("#estimates h2").inner_text() == "Error estimates"
    assert page.locator("#estimates tbody tr").count() == 2
    assert page.locator("#per-class").count() == 0
