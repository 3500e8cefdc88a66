"""The monitoring dashboard, through FastAPI's test client on a store filled by hand."""

from __future__ import annotations

import re
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
