"""The HTML card in a headless browser: offline, no errors, every section, charts drawn."""

from __future__ import annotations

import pytest
from sklearn.naive_bayes import GaussianNB

from labelwise.card import build
from labelwise.cli.demo import DEMO_METADATA
from labelwise.datasets import load_digits_demo
from labelwise.issues.audit import audit
from tests.conftest import shared_path

SECTIONS = (
    "facts", "alerts", "metadata", "provenance", "variables", "statistics", "pair-plots", "model",
    "ground-truth", "label-health", "splits", "duplicates", "annotators",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory):
    """The digits demo's card (a quick stand-in model keeps the audit to a second or two)."""
    demo = load_digits_demo(noise_rate=0.1, random_state=0)
    report = audit(demo.frame, "label", model=GaussianNB(), cv=3, n_bootstrap=100)
    card = build(demo.frame, "label", metadata=DEMO_METADATA, audit=report)
    return card.to_html(tmp_path_factory.mktemp("card") / "card.html")


def _open_offline(page, html: str) -> list[str]:
    """Load the page with every network request refused; return the URLs that were tried."""
    requested: list[str] = []

    def refuse(route):
        requested.append(route.request.url)
        route.abort()

    page.route("**/*", refuse)
    page.set_content(html, wait_until="load")
    return requested


def _check_page(page) -> None:
    assert page.errors == []
    heights = page.evaluate(
        "ids => ids.map(id => { const s = document.getElementById(id);"
        " return s && s.tagName === 'SECTION' ? s.getBoundingClientRect().height : 0; })",
        list(SECTIONS),
    )
    assert all(h > 0 for h in heights), dict(zip(SECTIONS, heights, strict=True))
    charts = page.evaluate(
        "() => [...document.querySelectorAll('svg.chart')].map(s => {"
        " const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(charts) > 10
    assert all(w > 0 and h > 0 for w, h in charts)


def test_demo_card_in_the_browser(page, demo_html, build_dir):
    assert _open_offline(page, demo_html) == []
    _check_page(page)
    assert page.locator("section#label-health svg.chart").count() >= 2
    page.screenshot(path=str(build_dir / "card-demo.png"), full_page=True)


def test_demo_card_fits_a_phone(page, demo_html, build_dir):
    # The page must not scroll sideways on a phone: wide tables scroll inside their own box.
    page.set_viewport_size({"width": 390, "height": 844})
    _open_offline(page, demo_html)
    assert page.errors == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=str(build_dir / "card-demo-phone.png"))  # the first screen


def test_german_credit_card_in_the_browser(page):
    path = shared_path("german-credit", "germancredit.csv")
    card = build(path, "creditability", cv=3, n_bootstrap=100)
    assert _open_offline(page, card.to_html()) == []
    _check_page(page)
