"""The Dask backend, on a real two-process LocalCluster: results identical to in memory."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import labelwise as lw
from labelwise import errors
from tests.conftest import random_problem

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with distributed.Client(cluster) as client:
            yield client
        cluster.close()


def tied_problem(seed: int, n: int, k: int):
    """Probabilities on a coarse grid, so that many margins tie at the cut-offs."""
    labels, pred_probs = random_problem(np.random.default_rng(seed), n, k)
    pred_probs = np.round(pred_probs * 8) + (pred_probs.argmax(axis=1)[:, None] == np.arange(k))
    return labels, pred_probs / pred_probs.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("method", lw.METHODS)
def test_dask_equals_in_memory_with_ties(client, method):
    labels, pred_probs = tied_problem(31, 3000, 5)
    expected = lw.find_label_issues(labels, pred_probs, method=method)
    got = lw.find_label_issues(labels, da.from_array(pred_probs, chunks=(700, 5)), method=method)
    np.testing.assert_array_equal(got.mask, expected.mask)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.scores, expected.scores)


def test_dask_noise_estimate_and_audit_are_identical(client, tmp_path):
    from labelwise.issues._dask import dask_array_from_npy
    from labelwise.issues.audit import audit_predictions

    labels, pred_probs = random_problem(np.random.default_rng(32), 5000, 4, dtype=np.float32)
    np.save(tmp_path / "p.npy", pred_probs)
    source = dask_array_from_npy(tmp_path / "p.npy", 1200)
    expected = lw.estimate_noise(labels, pred_probs, n_bootstrap=30)
    got = lw.estimate_noise(labels, source, n_bootstrap=30)
    np.testing.assert_array_equal(got.calibrated_joint, expected.calibrated_joint)
    assert got.noise_rate_interval == expected.noise_rate_interval
    report = audit_predictions(labels, source, n_bootstrap=0)
    np.testing.assert_array_equal(report.issues.mask, lw.find_label_issues(labels, pred_probs).mask)


def test_dask_reports_bad_rows(client):
    labels, pred_probs = random_problem(np.random.default_rng(33), 1000, 3)
    pred_probs[901, 0] = -0.5
    with pytest.raises(errors.ProbabilityError, match="row 901"):
        lw.find_label_issues(labels, da.from_array(pred_probs, chunks=(300, 3)))


def test_columns_split_across_chunks_are_joined():
    labels, pred_probs = random_problem(np.random.default_rng(34), 800, 6)
    expected = lw.find_label_issues(labels, pred_probs).mask
    source = da.from_array(pred_probs, chunks=(250, 4))  # local scheduler, no client
    np.testing.assert_array_equal(lw.find_label_issues(labels, source).mask, expected)


def test_cli_runs_the_passes_on_a_local_cluster(tmp_path):
    from typer.testing import CliRunner

    from labelwise.cli import app

    labels, pred_probs = random_problem(np.random.default_rng(35), 3000, 3)
    names = np.array(["ant", "bee", "cat"])
    np.save(tmp_path / "labels.npy", names[labels])
    np.save(tmp_path / "p.npy", pred_probs)
    result = CliRunner().invoke(
        app,
        ["audit", "--labels", str(tmp_path / "labels.npy"), "--pred-probs"]
        + [str(tmp_path / "p.npy"), "--dask", "local", "--chunk-rows", "700"]
        + ["--out", str(tmp_path / "out"), "--bootstrap", "0"],
    )
    assert result.exit_code == 0, result.output
    written = np.loadtxt(
        tmp_path / "out" / "label_issues.csv",
        delimiter=",",
        skiprows=1,
        usecols=1,
        dtype=int,
        ndmin=1,
    )
    expected = lw.find_label_issues(names[labels], pred_probs).indices
    np.testing.assert_array_equal(written, expected)


def test_dask_multilabel_equals_in_memory(client):
    rng = np.random.default_rng(36)
    pred_probs = np.round(rng.random((2000, 4)) * 8) / 8
    given = (pred_probs > 0.5) ^ (rng.random((2000, 4)) < 0.1)
    labels = [list(np.flatnonzero(row)) for row in given]
    for method in ["prune_by_noise_rate", "low_self_confidence"]:
        expected = lw.find_multilabel_issues(labels, pred_probs, method=method)
        source = da.from_array(pred_probs, chunks=(600, 4))
        got = lw.find_multilabel_issues(labels, source, method=method)
        np.testing.assert_array_equal(got.mask, expected.mask)
        np.testing.assert_array_equal(got.per_class_mask, expected.per_class_mask)
        np.testing.assert_array_equal(got.scores, expected.scores)
