"""A missing optional package is the same one-line error everywhere, naming the extra."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from labelwise._optional import EXTRAS, require
from labelwise.cli import app
from labelwise.errors import ConfigError, MissingDependencyError


def _block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import module`` fail as if the package were not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, "uvicorn")
    with pytest.raises(MissingDependencyError, match=r"pip install 'labelwise\[serve\]'"):
        require("uvicorn", "labelwise serve")


def test_the_error_is_a_config_and_an_import_error() -> None:
    assert issubclass(MissingDependencyError, ConfigError)
    assert issubclass(MissingDependencyError, ImportError)


def test_every_extra_named_is_declared() -> None:
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    declared = project["project"]["optional-dependencies"]
    for extra, _ in EXTRAS.values():
        assert extra in declared, f"labelwise[{extra}] is named but not declared"
    for extra in declared:
        if extra not in ("all", "test"):
            assert extra in declared["all"][0] or any(extra in d for d in declared["all"])


def test_serve_without_uvicorn_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    _block(monkeypatch, "uvicorn")
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'm.db'}"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "labelwise serve: uvicorn is not installed" in result.output
    assert "labelwise[serve]" in result.output


def test_postgres_store_without_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    from labelwise.monitor.store import MonitorStore

    _block(monkeypatch, "psycopg")
    with pytest.raises(MissingDependencyError, match=r"labelwise\[postgres\]"):
        MonitorStore("postgresql+psycopg://user:secret@localhost:5432/monitoring")


def test_monitor_serve_without_psycopg_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvicorn")  # else the missing uvicorn is named first
    _block(monkeypatch, "psycopg")
    result = CliRunner().invoke(app, ["serve", "--db", "postgresql+psycopg://u:p@localhost/m"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "labelwise[postgres]" in result.output


def test_dashboard_without_fastapi(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from labelwise.monitor.dashboard import create_app

    _block(monkeypatch, "fastapi")
    with pytest.raises(MissingDependencyError, match=r"labelwise\[serve\]"):
        create_app(f"sqlite:///{tmp_path / 'm.db'}")


def test_plots_without_matplotlib(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from labelwise.study import noise_benchmark

    bench = noise_benchmark(
        datasets=["wine"], noise_types=["symmetric"], rates=[0.2], methods=["plain"], seeds=[0]
    )
    _block(monkeypatch, "matplotlib", "matplotlib.figure")
    with pytest.raises(MissingDependencyError, match=r"labelwise\[plot\]"):
        bench.plot(tmp_path / "plot.png")


def test_dask_backend_without_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    from labelwise.issues._dask import _require_dask

    _block(monkeypatch, "dask", "dask.array")
    with pytest.raises(MissingDependencyError, match=r"labelwise\[dask\]"):
        _require_dask()


def test_neural_methods_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    from labelwise.learn._torch import TorchUnavailableError, require_torch

    _block(monkeypatch, "torch")
    with pytest.raises(TorchUnavailableError, match=r"labelwise\[torch\]"):
        require_torch()
    assert issubclass(TorchUnavailableError, MissingDependencyError)


def test_zarr_store_without_zarr(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import labelwise as lw

    store = tmp_path / "probs.zarr"
    store.mkdir()
    (store / "zarr.json").write_text("{}")
    _block(monkeypatch, "zarr")
    with pytest.raises(MissingDependencyError, match=r"labelwise\[zarr\]"):
        lw.find_label_issues(np.zeros(3, dtype=int), store, chunk_rows=2)
