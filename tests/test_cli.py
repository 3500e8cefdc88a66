"""The command line, driven through typer's test runner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import labelwise
from labelwise import cli
from labelwise.cli import demo as demo_module
from labelwise.issues.audit import audit as real_audit

CLASSES = np.array(["ant", "bee", "cat"])
ISSUE_COLUMNS = ["rank", "row", "given", "suggested", "score"]
NOISE_KEYS = {
    "classes",
    "n_examples",
    "noise_rate",
    "noise_rate_interval",
    "expected_issues",
    "joint",
    "noise_matrix",
    "confused_pairs",
    "class_quality",
    "method",
    "summary",
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(cli.app, [str(a) for a in args])


@pytest.fixture
def arrays(tmp_path):
    """String labels with some flipped, and Dirichlet pred_probs agreeing with the clean ones."""
    rng = np.random.default_rng(0)
    pred_probs = rng.dirichlet([0.4, 0.4, 0.4], size=150)
    labels = CLASSES[pred_probs.argmax(axis=1)]
    flip = rng.choice(150, size=15, replace=False)
    labels[flip] = CLASSES[(pred_probs[flip].argmax(axis=1) + 1) % 3]
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "probs.npy", pred_probs)
    return tmp_path / "labels.npy", tmp_path / "probs.npy", labels, pred_probs


@pytest.fixture
def table_csv(tmp_path):
    """Three well-separated blobs with string labels, a few of them wrong."""
    rng = np.random.default_rng(1)
    centers = np.array([[0, 0], [6, 0], [0, 6]])
    codes = np.repeat(np.arange(3), 40)
    xy = centers[codes] + rng.normal(size=(codes.size, 2))
    labels = CLASSES[codes]
    labels[[3, 50, 90]] = ["cat", "ant", "bee"]
    path = tmp_path / "table.csv"
    pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "species": labels}).to_csv(path, index=False)
    return path


def check_outputs(out, n_examples: int) -> tuple[pd.DataFrame, dict]:
    issues = pd.read_csv(out / "label_issues.csv")
    assert issues.columns.tolist()[:5] == ISSUE_COLUMNS
    # `row` numbers the rows, as in every labelwise file; an `index` would only repeat it.
    assert not {"index", "table_index"} & set(issues.columns)
    assert issues["rank"].tolist() == list(range(1, len(issues) + 1))
    assert issues["score"].is_monotonic_increasing
    noise = json.loads((out / "noise.json").read_text())
    assert NOISE_KEYS <= noise.keys()
    assert noise["n_examples"] == n_examples
    assert noise["summary"]["num_issues"] == len(issues)
    return issues, noise


def assert_clean_error(result, *fragments: str) -> None:
    """Exit status 2 and a one-line red ``error:`` message, without a traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# --- audit from arrays ------------------------------------------------------------------------


def test_audit_from_arrays(runner, arrays, tmp_path):
    labels_path, probs_path, labels, pred_probs = arrays
    out = tmp_path / "out"
    result = invoke(runner, "audit", "--labels", labels_path, "--pred-probs", probs_path, "-o", out)
    assert result.exit_code == 0, result.output
    issues, noise = check_outputs(out, n_examples=150)
    assert set(issues["given"]) <= set(CLASSES)
    assert noise["classes"] == CLASSES.tolist()
    assert noise["method"] == "prune_by_noise_rate"
    assert noise["summary"]["model"] is None
    # the CLI adds nothing to the library's answer
    expected = labelwise.find_label_issues(labels, pred_probs)
    assert issues["row"].tolist() == expected.indices.tolist()
    for text in ("label issues", "noise rate", "Most confused", "label_issues.csv", "noise.json"):
        assert text in result.stdout


def test_audit_from_arrays_with_classes_and_codes(runner, arrays, tmp_path):
    _, probs_path, labels, _ = arrays
    codes = pd.Index(CLASSES).get_indexer(labels)
    np.save(tmp_path / "codes.npy", codes)
    out = tmp_path / "out"
    result = invoke(
        runner,
        *("audit", "--labels", tmp_path / "codes.npy", "--pred-probs", probs_path),
        *("--classes", "ant,bee,cat", "--out", out, "--method", "confident_learning"),
    )
    assert result.exit_code == 0, result.output
    _, noise = check_outputs(out, n_examples=150)
    assert noise["classes"] == ["ant", "bee", "cat"]
    assert noise["method"] == "confident_learning"


def test_audit_from_text_labels_and_csv_probs(runner, arrays, tmp_path):
    _, _, labels, pred_probs = arrays
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    pd.DataFrame(pred_probs, columns=CLASSES).to_csv(tmp_path / "probs.csv", index=False)
    out = tmp_path / "out"
    result = invoke(
        runner,
        *("audit", "--labels", tmp_path / "labels.txt", "--pred-probs", tmp_path / "probs.csv"),
        *("--out", out, "--top", "0", "--bootstrap", "0"),
    )
    assert result.exit_code == 0, result.output
    _, noise = check_outputs(out, n_examples=150)
    assert noise["noise_rate_interval"] == [None, None]
    assert "bootstrap disabled" in result.stdout


def test_library_warnings_are_one_line(runner, arrays, tmp_path):
    labels_path, _, _, pred_probs = arrays
    drifted = pred_probs * (1 + 5e-4)  # float16-level drift: renormalized, with a warning
    np.save(tmp_path / "drift.npy", drifted)
    result = invoke(
        runner,
        "audit",
        "--labels",
        labels_path,
        "--pred-probs",
        tmp_path / "drift.npy",
        "-o",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    assert "warning: 150 pred_probs rows did not sum to 1" in " ".join(result.stderr.split())


# --- audit from a table -----------------------------------------------------------------------


def test_audit_from_csv_table(runner, table_csv, tmp_path):
    out = tmp_path / "out"
    result = invoke(
        runner,
        *("audit", table_csv, "--label", "species", "--cv", "3", "--out", out, "--top", "5"),
        *("--features", "x,y", "--bootstrap", "50"),
    )
    assert result.exit_code == 0, result.output
    issues, noise = check_outputs(out, n_examples=120)
    assert {3, 50, 90} <= set(issues["row"])
    assert noise["summary"]["label"] == "species"
    assert noise["summary"]["features"] == ["x", "y"]
    assert "Top" in result.stdout


def test_audit_from_parquet_table(runner, table_csv, tmp_path):
    pd.read_csv(table_csv).to_parquet(tmp_path / "table.parquet")
    out = tmp_path / "out"
    result = invoke(
        runner,
        *("audit", tmp_path / "table.parquet", "-l", "species", "--cv", "2", "-o", out),
        *("--bootstrap", "0"),
    )
    assert result.exit_code == 0, result.output
    check_outputs(out, n_examples=120)


def test_a_parquet_tables_own_index_is_kept_apart_from_row(runner, table_csv, tmp_path):
    table = pd.read_csv(table_csv)
    table.index = pd.Index([f"id{i}" for i in range(len(table))], name="id")
    table.to_parquet(tmp_path / "table.parquet")
    out = tmp_path / "out"
    result = invoke(
        runner,
        *("audit", tmp_path / "table.parquet", "-l", "species", "--cv", "2", "-o", out),
        *("--bootstrap", "0"),
    )
    assert result.exit_code == 0, result.output
    issues = pd.read_csv(out / "label_issues.csv")
    assert issues.columns.tolist() == [*ISSUE_COLUMNS, "table_index"]
    assert (issues["table_index"] == "id" + issues["row"].astype(str)).all()


# --- bad input: exit status 2 and one readable line -------------------------------------------


def test_nan_in_pred_probs(runner, arrays, tmp_path):
    labels_path, _, _, pred_probs = arrays
    bad = pred_probs.copy()
    bad[7, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    result = invoke(runner, "audit", "--labels", labels_path, "--pred-probs", tmp_path / "nan.npy")
    assert_clean_error(result, "NaN", "row 7")
    assert not (tmp_path / "labelwise-audit").exists()


def test_missing_label_column(runner, table_csv):
    result = invoke(runner, "audit", table_csv, "--label", "specie")
    assert_clean_error(result, "no label column 'specie'", "Did you mean 'species'?")


def test_missing_label_column_with_features(runner, table_csv):
    result = invoke(runner, "audit", table_csv, "--label", "kind", "--features", "x")
    assert_clean_error(result, "no column 'kind'")


def test_missing_file(runner, tmp_path):
    result = invoke(runner, "audit", tmp_path / "absent.csv", "--label", "y")
    assert_clean_error(result, "does not exist")


def test_unknown_suffix(runner, tmp_path):
    (tmp_path / "data.json").write_text("{}")
    result = invoke(runner, "audit", tmp_path / "data.json", "--label", "y")
    assert_clean_error(result, ".csv, .tsv, .parquet, .pq")


def test_unknown_method(runner, arrays):
    labels_path, probs_path, _, _ = arrays
    result = invoke(
        runner, "audit", "--labels", labels_path, "--pred-probs", probs_path, "--method", "vibes"
    )
    assert_clean_error(result, "method='vibes'", "prune_by_class")


def test_short_m_is_the_model(runner, table_csv):
    # -m is --model in every command; a --method name given to it is refused, not misread.
    result = invoke(runner, "audit", table_csv, "-l", "species", "-m", "prune_by_noise_rate")
    assert_clean_error(result, "model='prune_by_noise_rate'")


def test_labels_that_do_not_match_pred_probs(runner, arrays, tmp_path):
    _, probs_path, _, _ = arrays
    np.save(tmp_path / "short.npy", np.array(["ant", "bee"]))
    result = invoke(runner, "audit", "--labels", tmp_path / "short.npy", "--pred-probs", probs_path)
    assert_clean_error(result, "labels has 2 entries but pred_probs has 150 rows")


def test_error_message_with_brackets_is_printed_verbatim(runner, arrays, tmp_path):
    _, probs_path, _, _ = arrays
    np.save(tmp_path / "odd.npy", np.array(["[b]ee"] * 150))
    result = invoke(
        runner,
        *("audit", "--labels", tmp_path / "odd.npy", "--pred-probs", probs_path),
        *("--classes", "ant,bee,cat"),
    )
    assert_clean_error(result, "['[b]ee']")


def test_unwritable_out_directory(runner, arrays, tmp_path):
    labels_path, probs_path, _, _ = arrays
    (tmp_path / "taken").write_text("a file where the folder should go")
    result = invoke(
        runner,
        "audit",
        "--labels",
        labels_path,
        "--pred-probs",
        probs_path,
        "-o",
        tmp_path / "taken",
    )
    assert_clean_error(result, "cannot write", "taken")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["DATA", "--label", "species", "--labels", "L"], "not both"),
        (["DATA", "--label", "species", "--pred-probs", "P"], "not both"),
        ([], "give DATA"),
        (["DATA"], "--label COLUMN is required"),
        (["--labels", "L"], "--pred-probs is required"),
        (["--labels", "L", "--pred-probs", "P", "--cv", "3"], "apply to DATA only"),
    ],
)
def test_usage_errors(runner, table_csv, arrays, args, fragment):
    labels_path, probs_path, _, _ = arrays
    names = {"DATA": table_csv, "L": labels_path, "P": probs_path}
    result = invoke(runner, "audit", *(names.get(a, a) for a in args))
    assert result.exit_code == 2
    assert fragment in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.output


# --- demo, version, entry point ---------------------------------------------------------------


def test_demo(runner, tmp_path, monkeypatch):
    def quick_audit(table, label, **kwargs):
        # The default model takes tens of seconds on a busy machine; the shell is what is tested.
        from sklearn.naive_bayes import GaussianNB

        assert kwargs.pop("model") == "auto"  # the demo's default
        return real_audit(table, label, **kwargs, model=GaussianNB(), cv=3, n_bootstrap=50)

    monkeypatch.setattr(demo_module, "audit", quick_audit)
    out = tmp_path / "demo"
    result = invoke(runner, "demo", "--noise", "0.15", "--seed", "3", "--out", out)
    assert result.exit_code == 0, result.output
    issues, noise = check_outputs(out, n_examples=1797)
    assert issues.columns.tolist()[-1] == "true"
    assert issues["given"].str.startswith("digit_").all()
    text = " ".join(result.stdout.split())
    for fragment in ("Injected noise: 270 of 1797 labels (15.0%)", "Precision", "recall", "true"):
        assert fragment in text
    assert str(out) in text.replace(" ", "")


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"labelwise {labelwise.__version__}"


def test_main_is_the_console_script(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["labelwise", "--version"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 0
    assert labelwise.__version__ in capsys.readouterr().out


def test_help_lists_the_commands(runner):
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    assert "audit" in result.stdout and "demo" in result.stdout
