"""The card's annotator section: the crowd's consensus, annotator quality, the worst annotators."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from labelwise.card import Card, build
from tests.test_text_outputs import (
    RENDERERS,
    assert_inert,
    assert_rows_keep_their_cells,
    visible_text,
)

SCRIPT = "<script>alert(1)</script>"
CLASSES = np.array(["bird", "cat", "dog"])
GOOD = ["ann", "bo", "cy"]
CARELESS, CONSTANT = SCRIPT, "constant"  # the careless annotator has a hostile name
ANNOTATORS = [*GOOD, CARELESS, CONSTANT]
N = 120


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Three good annotators (about 90% right), one who answers at random, one who always says
    "cat"; a fifth of the votes missing; a label column that is the truth with 5% noise."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, N)

    def noisy(accuracy: float) -> np.ndarray:
        codes = np.where(rng.random(N) < accuracy, truth, rng.integers(0, 3, N))
        return CLASSES[codes].astype(object)

    frame = pd.DataFrame({"x": truth + rng.normal(0, 0.5, N)})
    for name in GOOD:
        frame[name] = noisy(0.9)
    frame[CARELESS] = CLASSES[rng.integers(0, 3, N)].astype(object)
    frame[CONSTANT] = np.full(N, "cat", dtype=object)
    for name in ANNOTATORS:
        frame.loc[rng.random(N) < 0.2, name] = None
    frame["y"] = noisy(0.95)
    return frame


@pytest.fixture(scope="module")
def card(table) -> Card:
    return build(table, "y", annotators=ANNOTATORS, label_health=False)


def test_the_worst_annotators_are_the_careless_and_the_constant(card, table):
    section = card.annotators
    records = section["annotator_quality"]
    assert [set(r) for r in records] == [
        {"annotator", "quality", "n_labels", "agreement", "worst_class"}
    ] * len(ANNOTATORS)
    assert {r["annotator"] for r in records[:2]} == {CARELESS, CONSTANT}
    assert {r["annotator"] for r in records[2:]} == set(GOOD)
    qualities = [r["quality"] for r in records]
    assert qualities == sorted(qualities) and all(0 <= q <= 1 for q in qualities)
    assert max(qualities[:2]) < 0.6 < min(qualities[2:])
    for r in records:
        assert r["n_labels"] == int(table[r["annotator"]].notna().sum())
        assert 0 <= r["agreement"] <= 1 and r["worst_class"] in CLASSES
    assert section["consensus_method"] == "dawid_skene" and not section["consensus_with_model"]
    assert section["consensus_skipped"] is None
    voted = table[ANNOTATORS].notna().sum(axis=1)
    assert section["items_with_votes"] == int((voted >= 1).sum())
    assert 0 < section["items_with_disagreement"] <= int((voted >= 2).sum())
    assert 0.4 < section["mean_item_agreement"] < 1
    assert section["consensus_vs_label"] > 0.85  # the crowd backs the given labels


def test_low_quality_annotators_raise_a_warning(card):
    flagged = card.alerts[card.alerts["kind"] == "annotator_quality"]
    assert set(flagged["column"]) == {CARELESS, CONSTANT}
    assert set(flagged["severity"]) == {"warning"}
    assert all(flagged["value"] < 0.5) and all(flagged["mitigation"].str.contains("annotator"))


def test_a_unanimous_crowd_measures_the_label_exactly():
    # Integer classes with gaps (the columns are float): the crowd is unanimous on every row,
    # and the label disagrees with it on two of ten.
    votes = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0] * 3, dtype=float)
    frame = pd.DataFrame({f"r{i}": votes for i in range(3)})
    frame.loc[[0, 5], "r1"] = np.nan
    frame["y"] = votes.astype(int)
    frame.loc[[3, 4, 13, 14, 23, 24], "y"] = 2
    card = build(frame, "y", annotators=["r0", "r1", "r2"], label_health=False)
    section = card.annotators
    assert section["consensus_vs_label"] == pytest.approx(0.8)
    assert section["mean_item_agreement"] == 1.0 and section["items_with_disagreement"] == 0
    assert section["items_with_votes"] == 30
    assert not (card.alerts["kind"] == "annotator_quality").any()


def test_the_card_json_holds_plain_values(card):
    json.dumps(card.annotators, allow_nan=False)
    data = json.loads(card.to_json())
    assert data["annotators"]["annotator_quality"] == card.annotators["annotator_quality"]
    assert Card.from_dict(data).to_html() == card.to_html()


class _Cells(HTMLParser):
    """The tags of a page and the text of each cell of the table with a given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id, self.tags, self.rows = table_id, [], []
        self._in_table = self._cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th"):
            self._cell = False

    def handle_data(self, data):
        if self._in_table and self._cell:
            self.rows[-1][-1] += data


def test_the_html_shows_the_worst_annotators_escaped(card):
    html = card.to_html()
    page = _Cells("worst-annotators")
    page.feed(html)
    page.close()
    assert "script" not in page.tags and SCRIPT not in html
    header, *rows = [[" ".join(cell.split()) for cell in row] for row in page.rows]
    assert header == ["Annotator", "Quality", "Labels", "Agreement with consensus", "Worst class"]
    assert len(rows) == 5 and {rows[0][0], rows[1][0]} == {CARELESS, CONSTANT}
    worst = card.annotators["annotator_quality"][0]
    assert rows[0][1] == f"{worst['quality']:.1%}" and rows[0][2] == str(worst["n_labels"])
    text = " ".join(html.split())
    assert "items have disagreement" in text and "The consensus matches the given label" in text


def test_the_worst_annotators_in_the_browser(card, page):
    # A real browser: the hostile name is the cell's text, no dialog opens, and the page does
    # not scroll sideways on a phone.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(card.to_html(), wait_until="load")
    cells = page.locator("#worst-annotators tbody tr td:first-child").all_inner_texts()
    assert len(cells) == 5 and SCRIPT in cells[:2]
    assert page.locator("script").count() == 0 and dialogs == [] and page.errors == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_the_markdown_shows_the_worst_annotators_as_text(card, renderer):
    markdown = card.to_markdown()
    assert "## Annotators" in markdown and "Worst annotators" in markdown
    rendered = RENDERERS[renderer].render(markdown)
    assert_inert(rendered)
    assert_rows_keep_their_cells(rendered)
    seen = visible_text(rendered)
    assert SCRIPT in seen and "items have disagreement" in seen
    share = f"{card.annotators['consensus_vs_label']:.1%}"
    assert f"The consensus matches the given label on {share}" in seen


def test_no_votes_leave_the_consensus_out(table):
    frame = table[["x", "y"]].assign(a=None, b=None, c=np.nan)
    card = build(frame, "y", annotators=["a", "b", "c"], label_health=False)
    section = card.annotators
    assert section["annotator_quality"] is None and section["consensus_vs_label"] is None
    assert "no labels" in section["consensus_skipped"]
    assert "No consensus computed" in card.to_html()
    assert "No consensus computed" in card.to_markdown()
    assert not (card.alerts["kind"] == "annotator_quality").any()


def test_pred_probs_weigh_in_when_their_classes_line_up(table):
    codes = pd.factorize(table["y"], sort=True)[0]
    probs = np.full((N, 3), 0.15)
    probs[np.arange(N), codes] = 0.7
    card = build(table, "y", annotators=ANNOTATORS, pred_probs=probs, n_bootstrap=0)
    section = card.annotators
    assert section["consensus_with_model"] and section["consensus_model_weight"] > 0
    assert {r["annotator"] for r in section["annotator_quality"][:2]} == {CARELESS, CONSTANT}
    # Four columns cannot be the label's three classes: the crowd alone.
    wrong = np.full((N, 4), 0.25)
    card = build(table, "y", annotators=ANNOTATORS, pred_probs=wrong, label_health=False)
    assert card.annotators["consensus_with_model"] is False
    assert card.annotators["annotator_quality"] is not None
