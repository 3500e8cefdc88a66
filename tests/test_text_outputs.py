"""Text outputs from data: Markdown without live HTML, valid Croissant, CSV without formulas."""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket

import numpy as np
import pandas as pd
import pytest
import yaml
from markdown_it import MarkdownIt

from labelwise import io
from labelwise.card import Card, build
from labelwise.errors import InputError
from labelwise.study.noise_benchmark import NoiseBenchmark

# rdflib, under mlcroissant, uses a class it deprecates itself.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"

# Markdown renderers: CommonMark with raw HTML passed through (the dangerous setting), with and
# without GitHub tables (a pipe from the data must not add a cell).
RENDERERS = {
    "commonmark": MarkdownIt("commonmark", {"html": True}),
    "tables": MarkdownIt("commonmark", {"html": True}).enable("table"),
}


def visible_text(rendered: str) -> str:
    """What a reader sees: tags dropped, entities decoded, runs of space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", rendered)))


def assert_inert(rendered: str) -> None:
    """No script, no image with a handler, no javascript: link in rendered HTML."""
    assert "<script" not in rendered.lower()
    assert "<img" not in rendered.lower()
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", rendered, re.IGNORECASE)
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", rendered, re.IGNORECASE)


def assert_rows_keep_their_cells(rendered: str) -> None:
    """Every row of every rendered table has as many cells as its header."""
    for table in re.findall(r"<table>.*?</table>", rendered, re.DOTALL):
        counts = [
            len(re.findall(r"<t[hd][ >]", row))
            for row in re.findall(r"<tr>.*?</tr>", table, re.DOTALL)
        ]
        assert len(set(counts)) == 1, counts


@pytest.fixture(scope="module")
def hostile_table() -> pd.DataFrame:
    """Hostile text everywhere a card copies data: column names, values, classes, splits."""
    rng = np.random.default_rng(0)
    n = 120
    x = rng.normal(size=n)
    classes = np.array([SCRIPT, IMG, LINK])
    return pd.DataFrame(
        {
            SCRIPT: x,
            IMG: rng.normal(size=n),
            LINK: rng.choice(["a|b", "two\nlines", SCRIPT], size=n),
            "label a|b": classes[(x > -0.4).astype(int) + (x > 0.4).astype(int)],
            "split": np.where(np.arange(n) < 80, IMG, "b|c\nd"),
        }
    )


@pytest.fixture(scope="module")
def hostile_metadata() -> dict:
    return {
        "name": f"Data {SCRIPT}",
        "description": f"{IMG} and {LINK}\n# not a heading\n| not | a table |",
        "license": LINK,
        "url": f"javascript:alert(1) {SCRIPT}",
        "release_date": SCRIPT,
        "version": IMG,
        "creator": SCRIPT,
        "contact": IMG,
        "source": LINK,
        "citation": SCRIPT,
        "collection": IMG,
        "annotation_protocol": LINK,
        "keywords": [SCRIPT, LINK],
        "intended_uses": [IMG, "- a\n- b"],
        "out_of_scope_uses": [LINK],
        "sensitive_info": SCRIPT,
        "biases": IMG,
        "limitations": "1. first\n2. second",
        "maintenance": LINK,
        "variables": {SCRIPT: IMG, LINK: "a | b"},
    }


@pytest.fixture(scope="module")
def hostile_card(hostile_table, hostile_metadata) -> Card:
    label = "label a|b"
    codes = pd.factorize(hostile_table[label], sort=True)[0]
    probs = np.full((len(codes), 3), 0.1)
    probs[np.arange(len(codes)), (codes + (np.arange(len(codes)) % 7 == 0)) % 3] = 0.8
    return build(hostile_table, label, metadata=hostile_metadata, pred_probs=probs, n_bootstrap=0)


# --- Markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize("renderer", list(RENDERERS))
def test_card_markdown_renders_no_html_from_the_data(hostile_card, renderer):
    markdown = hostile_card.to_markdown()
    rendered = RENDERERS[renderer].render(markdown)
    assert_inert(rendered)
    assert_rows_keep_their_cells(rendered)
    seen = visible_text(rendered)
    # The hostile text is still there, as text.
    for text in (SCRIPT, IMG, LINK, "label a|b", "b|c d", "# not a heading"):
        assert text in seen
    assert "Data <script>alert(1)</script>" in seen  # the title
    assert "1. first 2. second" in seen  # a list from the metadata stays one line of text


def test_card_markdown_tables_hold_the_hostile_classes(hostile_card):
    rendered = RENDERERS["tables"].render(hostile_card.to_markdown())
    cells = [visible_text(c).strip() for c in re.findall(r"<td>(.*?)</td>", rendered, re.DOTALL)]
    for name in (SCRIPT, IMG, LINK, "label a|b", "b|c d"):
        assert name in cells


def test_card_front_matter_keeps_the_metadata_exactly(hostile_card, hostile_metadata):
    markdown = hostile_card.to_markdown()
    front = yaml.safe_load(markdown.split("---\n")[1])
    assert front["pretty_name"] == hostile_metadata["name"]
    assert front["license"] == hostile_metadata["license"]
    assert front["tags"] == hostile_metadata["keywords"]
    head = markdown.split("---\n")[1]
    assert not re.search(r"<[A-Za-z/!?]", head) and "[" not in head  # no tag, no link
    assert "- n<1K" in head  # the rest stays as it was


def test_markdown_escape():
    escape = io.markdown_escape
    assert escape(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape("a|b\nc\r\nd") == "a\\|b c d"
    assert escape("[x](y) *a* _b_ `c` ~d~ \\") == "\\[x\\](y) \\*a\\* \\_b\\_ \\`c\\` \\~d\\~ \\\\"
    assert escape("Tom & Jerry") == "Tom &amp; Jerry"
    # _ inside a word is never emphasis in CommonMark, so it stays readable.
    assert escape("validated_errors") == "validated_errors"
    assert escape("__init__") == "\\_\\_init\\_\\_"
    assert escape("# h") == "\\# h" and escape("- item") == "\\- item"
    assert escape("1. one") == "1\\. one" and escape("0.912 ± 0.010") == "0.912 ± 0.010"
    assert escape(3) == "3" and escape(-0.5) == "-0.5"


def test_markdown_table_escapes_text_and_keeps_numbers():
    frame = pd.DataFrame(
        {SCRIPT: [IMG, LINK, "x|y\nz"], "value": [-0.5, 1.23456, np.nan], "n": [-3, 0, 7]}
    )
    text = io.markdown_table(frame)
    lines = text.splitlines()
    assert lines[2] == "| &lt;img src=x onerror=alert(1)&gt; | -0.5 | -3 |"
    assert lines[3].endswith("| 1.235 | 0 |") and lines[4].endswith("| – | 7 |")
    rendered = RENDERERS["tables"].render(text)
    assert_inert(rendered)
    assert_rows_keep_their_cells(rendered)
    assert "x|y z" in visible_text(rendered) and SCRIPT in visible_text(rendered)


def test_noise_benchmark_markdown_escapes_a_user_dataset_name():
    frame = pd.DataFrame(
        {
            "dataset": SCRIPT,
            "noise": "symmetric",
            "rate": 0.2,
            "seed": [0, 1, 2],
            "method": "plain",
            "accuracy": [0.8, 0.9, 1.0],
        }
    )
    text = NoiseBenchmark(frame).to_markdown()
    assert text.startswith("| dataset | noise | rate | plain |")
    rendered = RENDERERS["tables"].render(text)
    assert_inert(rendered)
    assert SCRIPT in visible_text(rendered) and "| 0.2 |" in text


# --- Croissant -------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the Croissant validator tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def validate(path) -> None:
    """Load the JSON-LD with mlcroissant, the reference validator; it raises on any error."""
    mlc = pytest.importorskip("mlcroissant")
    mlc.Dataset(jsonld=str(path))


@pytest.fixture(scope="module")
def plain_table() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "count": rng.integers(0, 9, size=n),
            "colour name": rng.choice(["red", "blue"], size=n),
            "y": np.where(np.arange(n) % 2 == 0, "p", "q"),
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_croissant_of_a_file_validates(tmp_path, plain_table, no_network, suffix):
    data = tmp_path / "data" / f"table{suffix}"
    data.parent.mkdir()
    if suffix == ".csv":
        plain_table.to_csv(data, index=False)
    else:
        plain_table.to_parquet(data, index=False)
    card = build(data, "y", metadata={"license": "CC BY 4.0"}, label_health=False)
    path = tmp_path / "out" / "card.croissant.json"
    card.to_croissant(path)
    validate(path)
    doc = json.loads(path.read_text())
    (obj,) = doc["distribution"]
    assert obj["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert obj["contentUrl"] == data.name
    fields = {f["name"]: f for f in doc["recordSet"][0]["field"]}
    assert fields["colour name"]["source"]["extract"]["column"] == "colour name"
    assert not (tmp_path / "out" / "card.csv").exists()  # the file's own card copies nothing


def test_croissant_of_a_dataframe_validates_and_reads(tmp_path, hostile_card, no_network):
    paths = hostile_card.save(tmp_path)
    validate(paths["croissant"])
    data = paths["data"]
    assert data == tmp_path / "card.csv"
    doc = json.loads(paths["croissant"].read_text())
    (obj,) = doc["distribution"]
    assert obj["contentUrl"] == "card.csv" and obj["encodingFormat"] == "text/csv"
    assert obj["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    names = [f["name"] for f in doc["recordSet"][0]["field"]]
    assert names == [SCRIPT, IMG, LINK, "label a|b", "split"]
    assert pd.read_csv(data).columns.tolist() == names  # the copy is the frame, untouched
    assert "<" not in paths["croissant"].read_text()  # safe inside an HTML <script> element
    # The text without a path names the same file and checksum as the written one.
    assert hostile_card.to_croissant() == paths["croissant"].read_text()


def test_croissant_of_a_dataframe_records_can_be_read(tmp_path, plain_table, no_network):
    mlc = pytest.importorskip("mlcroissant")
    card = build(plain_table, "y", label_health=False)
    path = tmp_path / "x.croissant.json"
    card.to_croissant(path)
    assert (tmp_path / "x.csv").is_file()
    records = list(mlc.Dataset(jsonld=str(path)).records("records"))
    assert len(records) == len(plain_table)


def test_croissant_of_a_card_read_back_without_its_frame(plain_table, tmp_path):
    card = Card.from_dict(build(plain_table, "y", label_health=False).to_dict())
    with pytest.raises(InputError, match="DataFrame"):
        card.to_croissant()
    with pytest.raises(InputError, match="DataFrame"):
        card.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- CSV formulas ----------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd", "-2+3", "@SUM(1)", "\tx"]


def test_write_csv_defuses_formulas(tmp_path):
    frame = pd.DataFrame(
        {
            "text": [*FORMULAS, "safe", "a=b", None],
            "string": pd.array(["=1+1", "ok"] * 4, dtype="string"),
            "category": pd.Categorical(["=a", "'=a", "b", "=a"] * 2),
            "number": [-0.5, 1.0, -2.0, 3.5, -1e-3, 0.0, 7.0, -8.0],
            "integer": [-1, 2, -3, 4, 5, 6, 7, -8],
            "=header": 1,
            "mixed": ["-x", 1, -2.5, None, "ok", "@y", 3, "=z"],
        }
    )
    before = frame.copy()
    path = io.write_csv(frame, tmp_path / "out.csv")
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched
    back = pd.read_csv(path, keep_default_na=False)
    assert back.columns.tolist() == ["text", "string", "category", "number", "integer",
                                     "'=header", "mixed"]  # fmt: skip
    assert back["text"].tolist() == ["'" + f for f in FORMULAS] + ["safe", "a=b", ""]
    assert back["string"].tolist()[:2] == ["'=1+1", "ok"]
    assert back["category"].tolist()[:4] == ["'=a", "'=a", "b", "'=a"]
    assert back["number"].tolist() == frame["number"].tolist()  # numbers stay numbers
    assert back["integer"].tolist() == frame["integer"].tolist()
    assert back["mixed"].tolist() == ["'-x", "1", "-2.5", "", "ok", "'@y", "3", "'=z"]


def test_write_csv_defuses_a_leading_carriage_return(tmp_path):
    path = io.write_csv(pd.DataFrame({"a": ["\r=1+1"]}), tmp_path / "cr.csv")
    assert path.read_bytes().startswith(b"a\n'\r=1+1")


def test_write_csv_leaves_a_clean_frame_as_it_is(tmp_path):
    frame = pd.DataFrame({"x": [-0.5, 1.5], "label": ["cat", "dog"]})
    path = io.write_csv(frame, tmp_path / "clean.csv")
    assert path.read_text() == "x,label\n-0.5,cat\n1.5,dog\n"
