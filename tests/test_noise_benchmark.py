"""The noise benchmark study and its ``benchmark-noise`` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
from sklearn.datasets import load_wine
from typer.testing import CliRunner

from labelwise.errors import ConfigError
from labelwise.study import NoiseBenchmark, noise_benchmark

COLUMNS = ["dataset", "noise", "rate", "seed", "method", "accuracy"]
TINY = dict(
    datasets=["wine"],
    noise_types=["symmetric"],
    rates=[0.4],
    methods=["plain", "clean_classifier", "oracle"],
    seeds=[0],
)


@pytest.fixture(scope="module")
def tiny() -> NoiseBenchmark:
    return noise_benchmark(**TINY)


def test_tiny_grid_is_tidy(tiny):
    frame = tiny.results
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 3
    assert frame["method"].tolist() == ["plain", "clean_classifier", "oracle"]
    assert frame["accuracy"].between(0, 1).all()
    acc = frame.set_index("method")["accuracy"]
    assert acc["oracle"] >= acc["plain"] - 0.02


def test_summary_markdown_and_plot(tiny, tmp_path):
    summary = tiny.summary()
    assert {"mean", "low", "high", "n_seeds"} <= set(summary.columns)
    assert summary["low"].isna().all()  # one seed: no interval
    text = tiny.to_markdown()
    assert text.startswith("| dataset | noise | rate | plain | clean_classifier | oracle |")
    path = tiny.plot(tmp_path / "sub" / "plot.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["plot.png"]  # no temp file left


def test_interval_over_seeds():
    frame = pd.DataFrame(
        {
            "dataset": "d",
            "noise": "symmetric",
            "rate": 0.2,
            "seed": [0, 1, 2],
            "method": "plain",
            "accuracy": [0.8, 0.9, 1.0],
        }
    )
    row = NoiseBenchmark(frame).summary().iloc[0]
    half = 4.302653 * 0.1 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert row["mean"] == pytest.approx(0.9)
    assert row["high"] - row["mean"] == pytest.approx(half, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"datasets": ["mnist"]},
        {"noise_types": ["gaussian"]},
        {"methods": ["magic"]},
        {"methods": []},
        {"rates": [1.0]},
        {"rates": [-0.1]},
        {"seeds": [-1]},
        {"seeds": []},
        {"test_size": 1.5},
        {"label": "y"},
        {"table": pd.DataFrame({"a": [1, 2]}), "label": "missing"},
        {"base": "forest"},
        {"n_jobs": 0},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ConfigError):
        noise_benchmark(**{**TINY, **kwargs})


def test_user_table_and_progress():
    X, y = load_wine(return_X_y=True, as_frame=True)
    table = X.iloc[:, :5].assign(colour=np.where(X["alcohol"] > 13, "dark", "light"))
    table["target"] = y.map({0: "a", 1: "b", 2: "c"})
    calls = []
    bench = noise_benchmark(
        noise_types=["pair", "instance"],
        rates=[0.2],
        methods=["plain", "oracle"],
        seeds=[0],
        table=table,
        label="target",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert set(bench.results["dataset"]) == {"table"}
    assert len(bench.results) == 4
    assert calls == [(1, 2), (2, 2)]
    assert bench.results["accuracy"].between(0, 1).all()


def test_cli_writes_files(tmp_path):
    from labelwise.cli._ui import LabelwiseGroup
    from labelwise.cli.benchmark_noise import benchmark_noise_command

    # A stand-alone app: the command is registered in labelwise.cli separately.
    app = typer.Typer(cls=LabelwiseGroup)
    app.command("benchmark-noise")(benchmark_noise_command)
    app.command("noop")(lambda: None)  # two commands keep the subcommand name required
    args = ["benchmark-noise", "--datasets", "wine", "--noise", "symmetric", "--rates", "0.4"]
    args += ["--seeds", "1", "--methods", "plain,oracle", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["noise_benchmark.csv", "noise_benchmark.md", "noise_benchmark.png"]
    assert list(pd.read_csv(tmp_path / "noise_benchmark.csv").columns) == COLUMNS
    assert "oracle" in result.output

    bad = CliRunner().invoke(app, [*args[:-2], "--rates", "x", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "--rates" in bad.output


def test_wide_mlp_base_runs_every_model_on_it():
    bench = noise_benchmark(**{**TINY, "methods": ["plain", "spectral_truncation"]}, base="mlp")
    assert bench.results["accuracy"].between(0, 1).all()
    assert "MLPClassifier(256, 256)" in bench.notes[0]


def test_processes_give_the_same_results(tiny):
    parallel = noise_benchmark(**TINY, n_jobs=2)
    pd.testing.assert_frame_equal(parallel.results, tiny.results)


def test_cleanlab_runs_inside_worker_processes():
    """cleanlab's own process pool crashed inside the workers (NameError); it now runs in one."""
    pytest.importorskip("cleanlab")
    grid = {**TINY, "methods": ["cleanlab"], "seeds": [0, 1]}
    parallel = noise_benchmark(**grid, n_jobs=2)
    assert parallel.results["accuracy"].between(0, 1).all()
    pd.testing.assert_frame_equal(parallel.results, noise_benchmark(**grid, n_jobs=1).results)
