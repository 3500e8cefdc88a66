"""Shared fixtures and hypothesis strategies."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Fixtures of the PyTorch tests (torch is imported only when they run).
pytest_plugins = ["tests.torch_fixtures"]

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("default")

#: Real data beside the repository (absent in a user's fresh clone: tests using it skip).
SHARED_DATA = Path(
    os.environ.get("LABELWISE_SHARED", Path(__file__).resolve().parents[2] / "shared")
)


def shared_path(*parts: str) -> Path:
    path = SHARED_DATA.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the ../shared data folder ships only with the dev setup)")
    return path


@st.composite
def noisy_problems(draw, max_n: int = 60, max_k: int = 5, grid: int = 4):
    """(labels, pred_probs) with many ties: probabilities on a coarse grid, some classes empty."""
    k = draw(st.integers(2, max_k))
    n = draw(st.integers(1, max_n))
    weights = np.array(
        draw(st.lists(st.integers(0, grid), min_size=n * k, max_size=n * k)), dtype=float
    ).reshape(n, k)
    top = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    weights[np.arange(n), top] += 1  # no all-zero row
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    pred_probs = (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return labels, pred_probs


def random_problem(rng: np.random.Generator, n: int, k: int, noise: float = 0.2, dtype=np.float64):
    """Dirichlet predictions whose argmax agrees with the label except on a ``noise`` share."""
    pred_probs = rng.dirichlet(np.full(k, 0.5), size=n).astype(dtype)
    pred_probs /= pred_probs.sum(axis=1, keepdims=True)
    labels = pred_probs.argmax(axis=1)
    flip = rng.random(n) < noise
    labels[flip] = rng.integers(0, k, flip.sum())
    return labels, pred_probs


# --- services: a headless browser and a PostgreSQL server (set up by scripts/test-services.sh) ---

#: Flags for Debian's chromium on a closed network, as root, with no display.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _missing_service(what: str) -> None:
    message = f"{what} is not available here (`make test` sets it up when run as root)"
    if os.environ.get("LABELWISE_REQUIRE_SERVICES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    """A headless Debian chromium driven by playwright (no browser download)."""
    import shutil

    path = os.environ.get("LABELWISE_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        _missing_service("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_service("playwright")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and page errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    yield tab
    context.close()


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """``build/test-artifacts``: screenshots and files the tests leave for a person to open."""
    path = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def postgres_url():
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    import uuid

    admin = os.environ.get("LABELWISE_TEST_POSTGRES_URL")
    if not admin:
        _missing_service("PostgreSQL (LABELWISE_TEST_POSTGRES_URL)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"lw_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
