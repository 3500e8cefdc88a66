"""Out of core: pred_probs read in chunks gives exactly the in-memory results."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labelwise as lw
from labelwise import errors
from labelwise.issues._stream import chunk_rows_for, parse_bytes
from labelwise.issues.audit import audit_predictions
from tests.conftest import noisy_problems, random_problem


def find(labels, pred_probs, method, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SmallClassWarning)
        return lw.find_label_issues(labels, pred_probs, method=method, **kwargs)


def assert_same_issues(a, b):
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.suggested, b.suggested)


@pytest.mark.parametrize("method", lw.METHODS)
@settings(max_examples=40)
@given(problem=noisy_problems(max_n=40), chunk=st.sampled_from([1, 2, 3, 7, 1000]))
def test_chunked_equals_in_memory_with_ties(method, problem, chunk):
    labels, pred_probs = problem
    expected = find(labels, pred_probs, method)
    assert_same_issues(find(labels, pred_probs, method, chunk_rows=chunk), expected)


@pytest.mark.parametrize("chunk", [1, 64, 999, 5000, 10_000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_equals_in_memory_on_random_data(chunk, dtype):
    labels, pred_probs = random_problem(np.random.default_rng(21), 5000, 7, dtype=dtype)
    for method in ["prune_by_noise_rate", "both", "low_normalized_margin"]:
        if chunk == 1 and method == "both":
            continue  # one-row chunks are slow; the tie test covers them
        expected = find(labels, pred_probs, method)
        assert_same_issues(find(labels, pred_probs, method, chunk_rows=chunk), expected)


@given(problem=noisy_problems(max_n=50), chunk=st.sampled_from([1, 4, 1000]))
def test_chunked_noise_estimate_is_identical(problem, chunk):
    labels, pred_probs = problem
    a = lw.estimate_noise(labels, pred_probs, n_bootstrap=20)
    b = lw.estimate_noise(labels, pred_probs, n_bootstrap=20, chunk_rows=chunk)
    np.testing.assert_array_equal(a.thresholds, b.thresholds)
    np.testing.assert_array_equal(a.calibrated_joint, b.calibrated_joint)
    np.testing.assert_array_equal(a.joint, b.joint)
    assert a.noise_rate_interval == b.noise_rate_interval


def test_files_on_disk_are_read_in_chunks(tmp_path):
    labels, pred_probs = random_problem(np.random.default_rng(22), 3000, 4, dtype=np.float32)
    names = np.array(["ant", "bee", "cat", "dog"])
    expected = find(names[labels], pred_probs, "prune_by_noise_rate")
    np.save(tmp_path / "p.npy", pred_probs)
    pd.DataFrame(pred_probs, columns=names).to_parquet(tmp_path / "p.parquet", row_group_size=700)
    memmap = np.load(tmp_path / "p.npy", mmap_mode="r")
    for source in [str(tmp_path / "p.npy"), tmp_path / "p.parquet", memmap]:
        got = find(names[labels], source, "prune_by_noise_rate", chunk_rows=450)
        assert_same_issues(got, expected)
    # Parquet columns name the classes.
    assert list(find(names[labels], tmp_path / "p.parquet", "both").classes) == list(names)


def test_zarr_stores_are_read_in_chunks(tmp_path):
    zarr = pytest.importorskip("zarr")
    labels, pred_probs = random_problem(np.random.default_rng(27), 2500, 4, dtype=np.float32)
    store = zarr.create_array(
        store=str(tmp_path / "p.zarr"), shape=pred_probs.shape, chunks=(600, 4), dtype="float32"
    )
    store[:] = pred_probs
    expected = find(labels, pred_probs, "prune_by_noise_rate")
    assert_same_issues(find(labels, tmp_path / "p.zarr", "prune_by_noise_rate"), expected)
    assert_same_issues(find(labels, store, "prune_by_noise_rate", chunk_rows=700), expected)


def test_memory_limit_picks_a_chunk_size():
    labels, pred_probs = random_problem(np.random.default_rng(23), 4000, 5)
    expected = find(labels, pred_probs, "prune_by_noise_rate")
    assert_same_issues(
        find(labels, pred_probs, "prune_by_noise_rate", memory_limit="2MB"), expected
    )
    assert parse_bytes("1GB") == 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes(2048) == 2048
    assert chunk_rows_for(10**9, 50_000_000, 10) > 100_000
    with pytest.raises(errors.ConfigError, match="too small for 50,000,000 rows"):
        chunk_rows_for(5 * 10**8, 50_000_000, 10)
    with pytest.raises(errors.ConfigError, match="not a size"):
        find(labels, pred_probs, "both", memory_limit="lots")


def test_bad_rows_in_a_later_chunk_are_named():
    labels, pred_probs = random_problem(np.random.default_rng(24), 1000, 3)
    pred_probs[777, 1] = np.nan
    with pytest.raises(errors.ProbabilityError, match="row 777"):
        lw.find_label_issues(labels, pred_probs, chunk_rows=100)


def test_drift_is_renormalized_once_with_one_warning():
    labels, pred_probs = random_problem(np.random.default_rng(25), 1000, 3)
    pred_probs[::10] *= 1 + 4e-4
    with pytest.warns(errors.RenormalizedWarning) as caught:
        expected = lw.find_label_issues(labels, pred_probs, n_jobs=1)
    with pytest.warns(errors.RenormalizedWarning):
        got = lw.find_label_issues(labels, pred_probs, chunk_rows=64)
    assert len(caught) == 1
    assert_same_issues(got, expected)


def test_audit_predictions_reports_progress_per_pass(tmp_path):
    labels, pred_probs = random_problem(np.random.default_rng(26), 2000, 4)
    np.save(tmp_path / "p.npy", pred_probs)
    seen = []
    report = audit_predictions(
        labels,
        str(tmp_path / "p.npy"),
        chunk_rows=300,
        n_bootstrap=10,
        progress=lambda task, done, total: seen.append((task, done, total)),
    )
    assert {"thresholds", "confident joint", "pruning"} <= {task for task, _, _ in seen}
    assert ("pruning", 2000, 2000) in seen
    assert_same_issues(report.issues, find(labels, pred_probs, "prune_by_noise_rate"))


def test_missing_or_unknown_files_raise_clear_errors(tmp_path):
    labels = np.zeros(3, dtype=int)
    with pytest.raises(errors.DataFileError, match="does not exist"):
        lw.find_label_issues(labels, tmp_path / "nope.npy")
    (tmp_path / "p.txt").write_text("0.5,0.5\n")
    with pytest.raises(errors.DataFileError, match=".npy"):
        lw.find_label_issues(labels, tmp_path / "p.txt")
    np.save(tmp_path / "short.npy", np.full((2, 2), 0.5))
    with pytest.raises(errors.ShapeError, match="3 entries but pred_probs has 2 rows"):
        lw.find_label_issues(labels, tmp_path / "short.npy")


def multilabel_problem(seed: int, n: int, k: int, grid: bool = False):
    rng = np.random.default_rng(seed)
    pred_probs = rng.random((n, k))
    if grid:
        pred_probs = np.round(pred_probs * 4) / 4  # many ties
    given = (pred_probs > 0.5) ^ (rng.random((n, k)) < 0.15)
    return [list(np.flatnonzero(row)) for row in given], pred_probs


@pytest.mark.parametrize("method", lw.issues.MULTILABEL_METHODS)
@pytest.mark.parametrize("chunk", [1, 37, 10_000])
def test_chunked_multilabel_equals_in_memory(method, chunk):
    labels, pred_probs = multilabel_problem(41, 300, 4, grid=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SmallClassWarning)
        expected = lw.find_multilabel_issues(labels, pred_probs, method=method)
        got = lw.find_multilabel_issues(labels, pred_probs, method=method, chunk_rows=chunk)
    np.testing.assert_array_equal(got.mask, expected.mask)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.scores, expected.scores)
    np.testing.assert_array_equal(got.per_class_mask, expected.per_class_mask)


def test_chunked_multilabel_from_disk_and_scores(tmp_path):
    labels, pred_probs = multilabel_problem(42, 4000, 6)
    np.save(tmp_path / "p.npy", pred_probs.astype(np.float32))
    expected = lw.find_multilabel_issues(labels, pred_probs.astype(np.float32))
    got = lw.find_multilabel_issues(labels, tmp_path / "p.npy", memory_limit="5MB")
    np.testing.assert_array_equal(got.mask, expected.mask)
    scores = lw.multilabel_quality_scores(labels, pred_probs, chunk_rows=333)
    np.testing.assert_array_equal(scores, lw.multilabel_quality_scores(labels, pred_probs))


def test_chunked_multilabel_checks_every_chunk():
    labels, pred_probs = multilabel_problem(43, 500, 3)
    pred_probs[444, 2] = 1.5
    with pytest.raises(errors.ProbabilityError, match="row 444"):
        lw.find_multilabel_issues(labels, pred_probs, chunk_rows=100)


def test_a_reused_reader_checks_its_data_again():
    """Passes after the first skip the checks, but a reader given again checks anew: its
    data may have changed between the calls."""
    from labelwise.issues._stream import ChunkedProbs

    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(4), 2000)
    labels = probs.argmax(axis=1)
    reader = ChunkedProbs(probs, 500)
    first = lw.find_label_issues(labels, reader)
    assert first.mask.shape == (2000,)
    probs[10] = [np.nan, 0.5, 0.5, 0.0]
    with pytest.raises(errors.ProbabilityError, match="row 10"):
        lw.find_label_issues(labels, reader)


def test_ordered_map_raises_the_first_error_in_order_and_keeps_order():
    from labelwise._parallel import ordered_map

    def double_or_fail(x: int) -> int:
        if x in (3, 4, 6):
            raise ValueError(x)
        return 2 * x

    assert ordered_map(lambda x: 2 * x, range(9), 3) == [2 * x for x in range(9)]
    with pytest.raises(ValueError, match="3"):
        ordered_map(double_or_fail, range(9), 2)
