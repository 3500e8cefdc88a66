"""The monitoring dashboard, through FastAPI's test client on a store filled by hand."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs labelwise[serve]")
from fastapi.testclient import TestClient  # noqa: E402

from labelwise.errors import DataFileError
from labelwise.monitor import dashboard
from labelwise.monitor.dashboard import Series, create_app, line_chart, scale_groups
from labelwise.monitor.store import MonitorStore

WINDOWS = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
COMPOSITES = [0.02, 0.12, 0.5, 0.8]
SEVERITIES = ["ok", "watch", "alert", "critical"]


def _result(i: int, window: str) -> dict:
    """A window result like ``WindowResult.to_dict()``, drifting more with every window."""
    psi = 0.02 + 0.15 * i
    return {
        "window": window,
        "start": f"{window}T00:00:00",
        "end": None,
        "n_rows": 500 + 10 * i,
        "composite": COMPOSITES[i],
        "severity": SEVERITIES[i],
        "metrics": [
            {"monitor": "score", "metric": "psi", "value": psi, "threshold": 0.1,
             "low": None, "high": None, "fired": psi > 0.1},
            {"monitor": "score", "metric": "ks", "value": 0.01 + 0.05 * i, "threshold": 0.08,
             "low": None, "high": None, "fired": 0.01 + 0.05 * i > 0.08},
            {"monitor": "features", "metric": "psi_max", "value": 0.1 * i, "threshold": 0.2,
             "low": None, "high": None, "fired": 0.1 * i > 0.2},
            {"monitor": "performance", "metric": "expected_auc", "value": 0.75 - 0.01 * i,
             "threshold": None, "low": 0.72 - 0.01 * i, "high": 0.78 - 0.01 * i, "fired": None},
            {"monitor": "operational", "metric": "volume", "value": 500.0 + 10 * i,
             "threshold": None, "low": None, "high": None, "fired": None},
            {"monitor": "operational", "metric": "approval_rate", "value": 0.8,
             "threshold": None, "low": None, "high": None, "fired": None},
            {"monitor": "entropy", "metric": "mean_entropy", "value": float("nan"),
             "threshold": 0.5, "low": None, "high": None, "fired": None},
        ],
        "details": {
            "features": {
                "income": {"psi": 0.01 * i, "missing_delta": 0.0, "shifted": i > 2,
                           "bins": [0.1, 0.2]},
                "age": {"psi": 0.002, "missing_delta": 0.01, "shifted": False},
            },
            "notes": ["synthetic"],
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    """A SQLite store with model "credit" (four weekly windows, one reconciled) and "fraud"."""
    path = tmp_path_factory.mktemp("dashboard") / "monitor.db"
    with MonitorStore(path) as store:
        run = store.record_run(
            model="credit", model_version="1", reference_hash="r", config_hash="c", config={}
        )
        for i, window in enumerate(WINDOWS):
            store.record_window(run, _result(i, window))
        store.record_reconciliation(
            run,
            window=WINDOWS[0],
            rows=[
                {"metric": "bad_rate", "estimated": 0.1, "realized": 0.16, "gap": 0.06,
                 "low": 0.08, "high": 0.12, "inside_band": False},
            ],
        )  # fmt: skip
        other = store.record_run(
            model="fraud", model_version="7", reference_hash="r2", config_hash="c2", config={}
        )
        store.record_window(other, {**_result(0, "q1/2024"), "start": None})
    return path


@pytest.fixture(scope="module")
def client(store_path):
    with TestClient(create_app(store_path)) as test_client:
        yield test_client


def test_index_lists_models_with_last_severity(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'href="/models/credit"' in html and 'href="/models/fraud"' in html
    assert 'class="sev sev-critical"' in html  # credit's last window
    assert "<script" not in html  # no scripts at all, let alone from a CDN
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing fetched from elsewhere


def test_model_page_has_charts_windows_and_reconciliation(client):
    html = client.get("/models/credit").text
    for section in ("composite", "monitors", "windows", "reconciliations"):
        assert f'id="{section}"' in html
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    # The composite, score (psi and ks share a scale), features, entropy, performance, and
    # operational split into volume and approval rate by scale.
    assert len(svgs) >= 6
    assert all('viewBox="0 0 ' in svg for svg in svgs)
    composite = svgs[0]
    assert all(level in composite for level in ("ok", "watch", "warn", "alert", "critical"))
    assert "stroke-dasharray" in html  # thresholds drawn dashed
    assert "<polygon" in html  # the sampling band of the expected AUC
    for window in WINDOWS:
        assert f'href="/models/credit/windows/{window}"' in html
    assert "bad_rate" in html
    assert "P(Y|X)" in html


def test_window_page_has_metrics_features_reconciliation_and_blind_spot(client):
    html = client.get(f"/models/credit/windows/{WINDOWS[0]}").text
    for section in ("metrics", "features", "reconciliation", "blind-spot"):
        assert f'id="{section}"' in html
    assert "expected_auc" in html and "income" in html and "missing_delta" in html
    assert "bad_rate" in html
    assert "P(Y|X)" in html
    later = client.get(f"/models/credit/windows/{WINDOWS[3]}").text
    assert 'class="fired"' in later
    assert "have not been reconciled" in later


def test_window_id_with_a_slash(client):
    url = "/models/fraud/windows/" + quote("q1/2024", safe="")
    assert client.get(url).status_code == 200
    assert client.get("/api" + url).json()["window"] == "q1/2024"


def test_alerts_page_and_filter(client):
    html = client.get("/alerts").text
    assert 'id="alerts"' in html
    assert WINDOWS[2] in html and WINDOWS[3] in html
    assert WINDOWS[0] not in html  # an ok window is not an alert
    assert "fired: score" in html
    only_fraud = client.get("/alerts", params={"model": "fraud"}).text
    assert "No alerts recorded" in only_fraud


def test_api_mirrors_pages(client):
    models = client.get("/api/models").json()
    by_name = {m["model"]: m for m in models["models"]}
    assert by_name["credit"]["last_severity"] == "critical"
    assert by_name["credit"]["n_windows"] == len(WINDOWS)
    assert len(models["head"]) == 64
    model = client.get("/api/models/credit").json()
    assert [w["window"] for w in model["windows"]] == WINDOWS
    assert [w["severity"] for w in model["windows"]] == SEVERITIES
    assert model["windows"][3]["fired"] == ["score", "features"]
    window = client.get(f"/api/models/credit/windows/{WINDOWS[0]}").json()
    assert window["composite"] == COMPOSITES[0]
    assert {m["metric"] for m in window["metrics"]} >= {"psi", "expected_auc"}
    assert {row["feature"] for row in window["features"]} == {"income", "age"}
    assert window["reconciliation"][0]["metric"] == "bad_rate"
    assert "P(Y|X)" in window["blind_spot"]
    entropy = [m for m in window["metrics"] if m["metric"] == "mean_entropy"]
    assert entropy[0]["value"] is None  # NaN is stored and served as null
    alerts = client.get("/api/alerts").json()["alerts"]
    assert {a["window"] for a in alerts} == {WINDOWS[2], WINDOWS[3]}


@pytest.mark.parametrize(
    "path",
    [
        "/models/nope",
        "/models/credit/windows/1999-01-01",
        "/models/nope/windows/x",
        "/no/such/page",
    ],
)
def test_unknown_pages_are_friendly_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="not-found"' in response.text and 'href="/"' in response.text


@pytest.mark.parametrize("path", ["/api/models/nope", "/api/models/credit/windows/nope"])
def test_unknown_api_paths_are_json_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_dashboard_only_reads(store_path):
    with MonitorStore(store_path) as store:
        head = store.head()
    with TestClient(create_app(store_path)) as test_client:
        for path in ("/", "/models/credit", f"/models/credit/windows/{WINDOWS[1]}", "/alerts"):
            assert test_client.get(path).status_code == 200
        assert test_client.post("/models/credit").status_code in (404, 405)
        assert test_client.delete("/api/models/credit").status_code in (404, 405)
    with MonitorStore(store_path) as store:
        assert store.verify().ok
        assert store.head() == head  # nothing was appended
        assert len(store.windows("credit")) == len(WINDOWS)


def test_no_interactive_docs_that_would_load_a_cdn(client):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404


def test_missing_store_is_an_error_not_a_new_file(tmp_path):
    with pytest.raises(DataFileError, match="no monitor store"):
        create_app(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()


def test_empty_store_renders(tmp_path):
    path = tmp_path / "empty.db"
    MonitorStore(path).close()
    with TestClient(create_app(path)) as test_client:
        assert "No model has been checked yet" in test_client.get("/").text
        assert test_client.get("/api/models").json()["models"] == []
        assert test_client.get("/alerts").status_code == 200


def test_chart_handles_gaps_single_points_and_no_data():
    gap = line_chart(["a", "b", "c"], [Series("x", (1.0, None, 2.0), threshold=(1.5,) * 3)])
    assert gap.count("<circle") == 2 and "<polyline" in gap  # the threshold line; no value line
    single = line_chart(["a"], [Series("x", (0.3,))])
    assert single.count("<circle") == 1
    empty = line_chart(["a"], [Series("x", (None,))])
    assert "no values recorded" in empty
    escaped = line_chart(["<b>"], [Series("<i>", (1.0,))])
    assert "<b>" not in escaped and "&lt;b&gt;" in escaped


def test_chart_legend_fits_long_names():
    names = [f"expected_macro_{stat}" for stat in ("precision", "recall", "f1", "accuracy")]
    svg = line_chart(["a", "b"], [Series(n, (0.5, 0.6), threshold=(0.7, 0.7)) for n in names])
    height = float(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))
    legend = re.findall(r'<text x="[\d.]+" y="([\d.]+)">(expected_[^<]*)</text>', svg)
    assert {text for _, text in legend} == {*names, *(f"{n} threshold" for n in names)}
    assert all(float(y) < height for y, _ in legend)  # no entry is cut off below the drawing


def test_scale_groups_caps_series_per_chart():
    series = [Series(f"s{i}", (0.1 * (i + 1),)) for i in range(6)]
    groups = scale_groups(series)
    assert [len(g) for g in groups] == [dashboard.MAX_SERIES, 2]


def test_a_window_checked_twice_shows_its_latest_check(tmp_path):
    path = tmp_path / "twice.db"
    with MonitorStore(path) as store:
        run = store.record_run(
            model="credit", model_version="1", reference_hash="r", config_hash="c"
        )
        store.record_window(run, _result(3, WINDOWS[0]))  # critical at first
        store.record_window(run, _result(0, WINDOWS[0]))  # ok once rechecked
    with TestClient(create_app(path)) as test_client:
        windows = test_client.get("/api/models/credit").json()["windows"]
        assert [(w["window"], w["severity"]) for w in windows] == [(WINDOWS[0], "ok")]
        assert test_client.get("/api/alerts").json()["alerts"] == []
        detail = test_client.get(f"/api/models/credit/windows/{WINDOWS[0]}").json()
        assert detail["severity"] == "ok"


# --- names that need escaping in a URL ----------------------------------------------------------

#: Model names with every character a URL path treats specially. "team", "team/credit" and
#: "team/windows/q1/2024" all exist, so a "/" read as a separator would open the wrong page.
ODD_MODELS = [
    *("team", "team/credit", "team/windows/q1/2024", "a/b/c"),
    *("50% off?#top", "credit v2 ü/модель", "..", "a/../b", "~.."),
]
#: Window names with the same characters.
ODD_WINDOWS = ["q1/2024", "w?x=1#frag", "50%", "..", "ü /.. x"]


@pytest.fixture(scope="module")
def odd_client(tmp_path_factory):
    path = tmp_path_factory.mktemp("names") / "monitor.db"
    with MonitorStore(path) as store:
        for name in ODD_MODELS:
            windows = [
                {**_result(i % len(WINDOWS), window), "start": None, "severity": "alert"}
                for i, window in enumerate(ODD_WINDOWS)
            ]
            store.record_run(
                model=name, model_version="1", reference_hash="r", config_hash="c",
                windows=windows,
            )  # fmt: skip
    with TestClient(create_app(path)) as test_client:
        yield test_client


def _hrefs(html: str, prefix: str) -> dict[str, str]:
    """Link text -> href of the links whose href starts with ``prefix``."""
    links = _Page.parse(html).links
    return {text: href for href, text in links if href.startswith(prefix)}


def test_every_model_name_opens_from_the_index(odd_client):
    links = _hrefs(odd_client.get("/").text, "/models/")
    assert set(links) == set(ODD_MODELS)
    for name, href in links.items():
        # One encoded segment per name: the name's own "/" is %2F, never a separator.
        assert href.count("/") == 2 and "?" not in href and "#" not in href, href
        response = odd_client.get(href)
        assert response.status_code == 200, (name, href)
        assert _Page.parse(response.text).text("h1") == f"Model {name}"
        api = odd_client.get("/api" + href)
        assert api.status_code == 200 and api.json()["model"] == name
        assert [w["window"] for w in api.json()["windows"]] == ODD_WINDOWS


def test_every_window_name_opens_from_its_model_page(odd_client):
    for model in ("team/credit", "50% off?#top", ".."):
        page = odd_client.get(dashboard.model_url(model)).text
        links = _hrefs(page, dashboard.model_url(model) + "/windows/")
        assert set(links) == set(ODD_WINDOWS)
        for window, href in links.items():
            response = odd_client.get(href)
            assert response.status_code == 200, (model, window, href)
            assert _Page.parse(response.text).text("h1") == f"Window {window} of {model}"
            back = _hrefs(response.text, "/models/")
            assert back[f"← {model}"] == dashboard.model_url(model)
            api = odd_client.get("/api" + href).json()
            assert (api["model"], api["window"]) == (model, window)


def test_encoded_urls_route_to_the_named_model():
    assert dashboard.model_url("team/credit") == "/models/team%2Fcredit"
    assert dashboard.window_url("a/b", "..") == "/models/a%2Fb/windows/~.."


def test_a_slash_is_never_taken_for_a_separator(odd_client):
    assert odd_client.get("/api/models/team").json()["model"] == "team"
    assert odd_client.get("/api/models/team%2Fcredit").json()["model"] == "team/credit"
    assert odd_client.get("/api/models/a%2F..%2Fb").json()["model"] == "a/../b"
    # Typed by hand with a bare "/", the longest model name that exists is meant.
    assert odd_client.get("/api/models/a/b/c").json()["model"] == "a/b/c"
    detail = odd_client.get("/api/models/team/credit/windows/q1/2024").json()
    assert (detail["model"], detail["window"]) == ("team/credit", "q1/2024")
    assert odd_client.get("/api/models/team%2Fcredi").status_code == 404


def test_alert_links_keep_odd_names(odd_client):
    model = "50% off?#top"
    html = odd_client.get(dashboard.model_url(model)).text
    href = [h for h, _ in _Page.parse(html).links if h.startswith("/alerts?")]
    assert href == ["/alerts?model=50%25+off%3F%23top"]
    alerts = _Page.parse(odd_client.get(href[0]).text)
    assert {href for href, _ in alerts.links if href.startswith("/models/")} == {
        dashboard.model_url(model),
        *(dashboard.window_url(model, w) for w in ODD_WINDOWS),
    }


# --- every kind of model -----------------------------------------------------------------------

#: Class names are data: markup, quotes and brackets must come through as text.
CLASSES = ["<script>window.pwned=1</script>", "say \"hi\" 'now'", "x]y", "[z", "plain"]
KIND_WINDOWS = ["2024-02-01", "2024-02-08", "2024-02-15"]


def _row(monitor, metric, value, threshold=None, low=None, high=None, fired=None) -> dict:
    return {"monitor": monitor, "metric": metric, "value": value, "threshold": threshold,
            "low": low, "high": high, "fired": fired}  # fmt: skip


def _band(monitor: str, metric: str, value: float, half: float) -> dict:
    return _row(monitor, metric, value, low=value - half, high=value + half)


def multiclass_result(i: int, window: str, classes=CLASSES) -> dict:
    """A multiclass window result: macro estimates, per-class estimates and class shifts."""
    metrics = [
        _band("performance", "expected_accuracy", 0.81 - 0.02 * i, 0.02),
        _band("performance", "expected_macro_precision", 0.78 - 0.02 * i, 0.03),
        _band("performance", "expected_macro_recall", 0.76 - 0.02 * i, 0.03),
        _band("performance", "expected_macro_f1", 0.77 - 0.02 * i, 0.03),
    ]
    for k, cls in enumerate(classes):
        metrics += [
            _band("performance", f"expected_precision[{cls}]", 0.6 + 0.05 * k, 0.04),
            _band("performance", f"expected_recall[{cls}]", 0.55 + 0.05 * k, 0.04),
            _band("performance", f"expected_f1[{cls}]", 0.5 + 0.05 * k - 0.01 * i, 0.04),
        ]
    psi = [0.01 * (k + 1) * (i + 1) for k in range(len(classes))]
    metrics += [
        _row("score", f"psi[{cls}]", p, threshold=0.1, fired=p > 0.1)
        for cls, p in zip(classes, psi, strict=True)
    ]
    metrics += [
        _row("score", "psi", max(psi), threshold=0.1, fired=max(psi) > 0.1),
        _row("score", "ks", 0.02 * (i + 1), threshold=0.08, fired=False),
        _row("operational", "volume", 400.0),
        _row("operational", "prediction_mix_psi", 0.02 * i, threshold=0.1, fired=False),
    ]
    metrics += [
        _band("operational", f"prediction_share[{cls}]", 1 / len(classes), 0.03) for cls in classes
    ]
    return {
        "window": window, "start": f"{window}T00:00:00", "end": None, "n_rows": 400,
        "composite": 0.1 * i, "severity": SEVERITIES[i], "metrics": metrics,
        "details": {"kind": "multiclass", "classes": list(classes),
                    "features": {"income": {"psi": 0.01 * i}}},
    }  # fmt: skip


def regression_result(i: int, window: str) -> dict:
    """A regression window result: error estimates and the prediction's distribution."""
    metrics = [
        _band("performance", "expected_mae", 1200.0 + 150 * i, 80.0),
        _band("performance", "expected_rmse", 1800.0 + 200 * i, 120.0),
        _row("score", "psi", 0.03 * (i + 1), threshold=0.1, fired=0.03 * (i + 1) > 0.1),
        _row("score", "ks", 0.02 * (i + 1), threshold=0.08, fired=False),
        _row("score", "wasserstein_norm", 0.01 * (i + 1), threshold=0.05, fired=False),
        _row("features", "max_psi", 0.05 * i, threshold=0.2, fired=False),
        _row("operational", "volume", 900.0),
    ]
    return {
        "window": window, "start": f"{window}T00:00:00", "end": None, "n_rows": 900,
        "composite": 0.05 * i, "severity": SEVERITIES[i], "metrics": metrics,
        "details": {"kind": "regression", "features": {"sqft": {"psi": 0.02 * i}}},
    }  # fmt: skip


@pytest.fixture(scope="module")
def kinds_client(tmp_path_factory):
    """Model "binary" (an older store's windows: no kind), "multi" and "prices" side by side."""
    path = tmp_path_factory.mktemp("kinds") / "monitor.db"
    built = {
        "binary": [_result(i, w) for i, w in enumerate(KIND_WINDOWS)],
        "multi": [multiclass_result(i, w) for i, w in enumerate(KIND_WINDOWS)],
        "prices": [regression_result(i, w) for i, w in enumerate(KIND_WINDOWS)],
    }
    with MonitorStore(path) as store:
        for model, windows in built.items():
            store.record_run(
                model=model, model_version="1", reference_hash="r", config_hash="c",
                windows=windows,
            )  # fmt: skip
    with TestClient(create_app(path)) as test_client:
        yield test_client


def test_index_and_api_name_each_models_kind(kinds_client):
    index = _Page.parse(kinds_client.get("/").text)
    kinds = {row[0]: row[1] for row in index.rows("models")[1:]}
    assert kinds == {"binary": "binary", "multi": "multiclass", "prices": "regression"}
    api = {m["model"]: m["kind"] for m in kinds_client.get("/api/models").json()["models"]}
    assert api == kinds
    multi = kinds_client.get("/api/models/multi").json()
    assert (multi["kind"], multi["classes"]) == ("multiclass", CLASSES)
    prices = kinds_client.get("/api/models/prices").json()
    assert (prices["kind"], prices["classes"]) == ("regression", [])
    assert kinds_client.get("/api/models/binary").json()["kind"] == "binary"


def test_multiclass_model_page_charts_its_own_estimates(kinds_client):
    html = kinds_client.get("/models/multi").text
    page = _Page.parse(html)
    assert "script" not in page.tags  # the class named <script> is text, not markup
    assert page.text("#kind .v") == "multiclass"
    assert page.text("#classes .muted") == ", ".join(CLASSES)
    performance = page.element("chart-performance")
    legend = _Page.parse(performance).texts("text")
    for name in ("expected_accuracy", "expected_macro_precision", "expected_macro_f1"):
        assert name in legend
    # Model-level lines only: fifteen per-class lines would bury them.
    assert not any("[" in text for text in legend)
    assert "expected_auc" not in legend and "expected_bad_rate" not in legend
    f1 = _Page.parse(page.element("chart-class-expected_f1"))
    assert set(CLASSES) <= set(f1.texts("text"))  # a line per class, named as given
    assert f1.tags.count("svg") == 2  # five classes: four lines a chart at most
    assert page.element("chart-class-prediction_share") is not None
    score = _Page.parse(page.element("chart-score")).texts("text")
    assert "psi" in score and not any(text.startswith("psi[") for text in score)


def test_multiclass_window_shows_a_per_class_table(kinds_client):
    window = KIND_WINDOWS[2]
    page = _Page.parse(kinds_client.get(dashboard.window_url("multi", window)).text)
    assert "script" not in page.tags
    rows = page.rows("per-class")
    header, body = rows[0], rows[1:]
    assert header == ["Class", "precision", "recall", "F1", "score PSI", "prediction share"]
    assert [row[0] for row in body] == CLASSES
    result = multiclass_result(2, window)["metrics"]
    by_name = {m["metric"]: m for m in result}
    for row, cls in zip(body, CLASSES, strict=True):
        f1 = by_name[f"expected_f1[{cls}]"]
        assert row[3] == f"{dashboard.fmt(f1['value'])} {dashboard.fmt(f1['low'])} – " + (
            dashboard.fmt(f1["high"])
        )
        psi = by_name[f"psi[{cls}]"]
        assert row[4] == f"{dashboard.fmt(psi['value'])} threshold 0.1"
    # The classes whose score shifted past the threshold are marked.
    fired = [cls for cls in CLASSES if by_name[f"psi[{cls}]"]["fired"]]
    assert fired and len(page.select("#per-class .fired")) == len(fired)
    estimates = [row[0] for row in page.rows("estimates")[1:]]
    assert estimates == [
        "expected_accuracy",
        "expected_macro_precision",
        "expected_macro_recall",
        "expected_macro_f1",
    ]
    assert page.text("#estimates h2") == "Performance estimates"
    assert page.text("#kind .v") == "multiclass"
    listed = [row[1] for row in page.rows("metrics")[1:]]
    assert "expected_macro_f1" in listed and "prediction_mix_psi" in listed
    assert not any("[" in metric for metric in listed)  # those are in the per-class table


def test_multiclass_window_api(kinds_client):
    detail = kinds_client.get("/api" + dashboard.window_url("multi", KIND_WINDOWS[0])).json()
    assert (detail["kind"], detail["classes"]) == ("multiclass", CLASSES)
    table = detail["per_class"]
    assert [c["metric"] for c in table["columns"]] == [
        "expected_precision", "expected_recall", "expected_f1", "psi", "prediction_share",
    ]  # fmt: skip
    assert [row["class"] for row in table["rows"]] == CLASSES
    cell = table["rows"][2]["cells"]["expected_f1"]  # class "x]y": the bracket kept
    assert cell["value"] == pytest.approx(0.6) and cell["low"] == pytest.approx(0.56)
    assert [m["metric"] for m in detail["estimates"]][0] == "expected_accuracy"


def test_regression_pages_show_error_estimates(kinds_client):
    html = kinds_client.get("/models/prices").text
    page = _Page.parse(html)
    assert page.text("#kind .v") == "regression"
    assert page.element("classes") is None
    legend = _Page.parse(page.element("chart-performance")).texts("text")
    assert {"expected_mae", "expected_rmse"} <= set(legend)
    assert _Page.parse(page.element("chart-performance")).tags.count("polygon") >= 2  # bands
    score = _Page.parse(page.element("chart-score")).texts("text")
    assert {"psi", "ks", "wasserstein_norm"} <= set(score)
    for absent in ("chart-entropy", "chart-confidence", "chart-class-expected_f1"):
        assert page.element(absent) is None
    window = _Page.parse(kinds_client.get("/models/prices/windows/" + KIND_WINDOWS[1]).text)
    assert window.text("#estimates h2") == "Error estimates"
    assert window.rows("estimates")[1:] == [
        ["expected_mae", "1350", "1270", "1430", "—"],
        ["expected_rmse", "2000", "1880", "2120", "—"],
    ]
    assert window.element("per-class") is None
    detail = kinds_client.get("/api/models/prices/windows/" + KIND_WINDOWS[1]).json()
    assert detail["kind"] == "regression" and detail["per_class"]["rows"] == []
    assert [m["metric"] for m in detail["estimates"]] == ["expected_mae", "expected_rmse"]


def test_binary_is_the_kind_of_a_window_that_names_none(kinds_client):
    page = _Page.parse(kinds_client.get("/models/binary/windows/" + KIND_WINDOWS[0]).text)
    assert page.text("#kind .v") == "binary"
    assert page.text("#estimates h2") == "Performance estimates"
    assert [row[0] for row in page.rows("estimates")[1:]] == ["expected_auc"]
    assert page.element("per-class") is None


# --- reading the rendered HTML -----------------------------------------------------------------


class _Page(HTMLParser):
    """A rendered page parsed back: its tags, links, texts and tables, as a browser reads them.

    ``select`` understands the few selectors these tests use: ``#id``, ``#id tag``,
    ``#id .class``.
    """

    VOID = {"meta", "link", "br", "img", "input", "hr", "line", "circle", "rect", "polyline",
            "polygon"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.source = ""
        self.tags: list[str] = []
        self.links: list[tuple[str, str]] = []
        # Every element: (tag, attributes, start offset, end offset, text).
        self.elements: list[dict] = []
        self._open: list[dict] = []

    @classmethod
    def parse(cls, html: str) -> _Page:
        page = cls()
        page.source = html
        page._line_starts = [0]
        page._line_starts += [i + 1 for i, char in enumerate(html) if char == "\n"]
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        element = {"tag": tag, "attrs": dict(attrs), "start": self._offset(), "text": [],
                   "parents": list(self._open)}  # fmt: skip
        self.elements.append(element)
        if tag in self.VOID:
            element["end"] = self._offset() + len(self.get_starttag_text() or "")
        else:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._open and self._open[-1]["tag"] == tag and tag not in self.VOID:
            self._open.pop()["end"] = self._offset()

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                for element in self._open[i:]:
                    element["end"] = self._offset() + len(f"</{tag}>")
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"].append(data)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def close(self):
        super().close()
        for element in self.elements:
            element["text"] = " ".join("".join(element["text"]).split())
            if element["tag"] == "a" and "href" in element["attrs"]:
                self.links.append((element["attrs"]["href"], element["text"]))

    def element(self, element_id: str) -> str | None:
        """The HTML of the element with this id, or None."""
        for element in self.elements:
            if element["attrs"].get("id") == element_id:
                return self.source[element["start"] : element["end"]]
        return None

    def select(self, selector: str) -> list[dict]:
        scope, _, inner = selector.partition(" ")
        found = [e for e in self.elements if e["attrs"].get("id") == scope.lstrip("#")]
        if not inner:
            return found
        return [
            e
            for e in self.elements
            if any(p in found for p in e["parents"])
            and (
                e["tag"] == inner
                or (inner.startswith(".") and inner[1:] in e["attrs"].get("class", "").split())
            )
        ]

    def text(self, selector: str) -> str:
        """The text of the first element the selector matches (a tag name alone: the first)."""
        if not selector.startswith("#"):
            return next(e["text"] for e in self.elements if e["tag"] == selector)
        return self.select(selector)[0]["text"]

    def texts(self, tag: str) -> list[str]:
        return [e["text"] for e in self.elements if e["tag"] == tag]

    def rows(self, element_id: str) -> list[list[str]]:
        """The cell texts of each row of the tables inside the element with this id."""
        rows = self.select(f"#{element_id} tr")
        return [
            [c["text"] for c in self.elements if c["tag"] in ("td", "th") and row in c["parents"]]
            for row in rows
        ]
