"""The compiled kernels equal their numpy references, bit for bit, on inputs full of ties.

``LABELWISE_KERNELS=numpy`` makes the engine use the numpy references alone; every test here
runs both paths (or a kernel beside its reference) and asserts identical results: masks,
indices, scores, suggested labels, cells, cuts, for float32 and float64 and any ``n_jobs``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

import labelwise as lw
from labelwise import errors
from labelwise.issues import _counting, _passes, _selection
from labelwise.issues import _kernels as kernels
from labelwise.issues._counting import (
    TOLERANCE,
    ClassGroups,
    group_by_class,
    scan_block_numpy,
    smallest_n,
    thresholds_from,
)
from labelwise.issues._selection import (
    Pairs,
    first_floors,
    keep_block,
    keep_rows,
    mark_block,
    mark_rows,
    pair_values,
    select,
)
from labelwise.issues._sparse import column
from labelwise.issues._stream import InMemoryProbs
from labelwise.issues.filter import METHODS
from tests.conftest import noisy_problems

pytest.importorskip("numba")


def confident_thresholds(probs: np.ndarray, groups: ClassGroups) -> np.ndarray:
    """The reference thresholds: numpy's own mean of each class's given-label probabilities."""
    own = _counting._own_probs_by_class(probs, groups)
    return thresholds_from(np.split(own, groups.bounds[1:-1]))


def confident_pass(labels, probs, thresholds, n_jobs):
    """The scan pass over rows held whole, as the engine runs it."""
    codes = labels.astype(np.min_scalar_type(probs.shape[1]))
    source = InMemoryProbs.checked(probs, n_jobs)
    return _passes._scan_pass(codes, source, thresholds, [])[0]


SEEDS = list(range(20))
#: Ways of making ties: none, rounded probabilities, repeated rows, rows of 1/k everywhere.
VARIANTS = ("dirichlet", "round1", "round2", "duplicated", "flat")
TIED = VARIANTS[1:]
DTYPES = (np.float32, np.float64)


# --- inputs -------------------------------------------------------------------------------


def make_probs(rng: np.random.Generator, n: int, k: int, variant: str, dtype) -> np.ndarray:
    """Rows of probabilities (each summing to 1) with the ties of ``variant``."""
    alpha = float(rng.choice([0.1, 0.5, 1.0, 3.0]))
    probs = rng.dirichlet(np.full(k, alpha), size=n)
    if variant in ("round1", "round2"):
        rounded = np.round(probs, 1 if variant == "round1" else 2)
        empty = rounded.sum(axis=1) == 0
        rounded[empty, probs[empty].argmax(axis=1)] = 1.0
        probs = rounded
    elif variant == "duplicated":
        distinct = probs[: int(rng.integers(1, 12))]
        if rng.random() < 0.5:
            distinct = np.round(distinct, 2) + 1e-3
        probs = distinct[rng.integers(0, distinct.shape[0], n)]
    elif variant == "flat":
        share = float(rng.choice([0.3, 0.7, 1.0]))
        probs[rng.random(n) < share] = 1.0 / k
    probs = probs / probs.sum(axis=1, keepdims=True)
    return np.ascontiguousarray(probs.astype(dtype))


def make_labels(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Mostly the argmax, some flipped; often some classes with 0, 1 or 2 members."""
    n, k = probs.shape
    labels = probs.argmax(axis=1)
    flip = rng.random(n) < rng.uniform(0.0, 0.5)
    labels[flip] = rng.integers(0, k, int(flip.sum()))
    if rng.random() < 0.7:
        n_small = min(3, k - 1)
        small = rng.choice(k, size=n_small, replace=False)
        sizes = rng.permutation([0, 1, 2])[:n_small]
        others = np.setdiff1d(np.arange(k), small)
        taken = np.isin(labels, small)
        labels[taken] = rng.choice(others, int(taken.sum()))
        rows = rng.permutation(n)
        used = 0
        for cls, size in zip(small, sizes, strict=True):
            labels[rows[used : used + size]] = cls
            used += size
    return labels


def problem(seed: int, variant: str, dtype, n_range=(50, 3000), k_range=(2, 40)):
    rng = np.random.default_rng([seed, VARIANTS.index(variant), DTYPES.index(dtype)])
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    k = int(rng.integers(k_range[0], k_range[1] + 1))
    probs = make_probs(rng, n, k, variant, dtype)
    return make_labels(rng, probs), probs


# --- running both paths -------------------------------------------------------------------


def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads split even a few hundred rows (by default each takes thousands)."""
    monkeypatch.setattr(_counting, "_MIN_COMPILED_ROWS", 16)
    monkeypatch.setattr(_selection, "_MIN_SPAN_ROWS", 16)


def use_kernels(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    if on:
        monkeypatch.delenv(kernels.SWITCH, raising=False)
        assert kernels.enabled()
    else:
        monkeypatch.setenv(kernels.SWITCH, "numpy")
        assert not kernels.enabled()


def find(labels, probs, method, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SmallClassWarning)
        return lw.find_label_issues(labels, probs, method=method, **kwargs)


def assert_same(got, want) -> None:
    for name in ("mask", "indices", "scores", "suggested_codes", "given_codes"):
        a, b = getattr(got, name), getattr(want, name)
        np.testing.assert_array_equal(a, b, err_msg=name)
        # (chunked results code the given labels in the smallest type, in memory as intp)
        assert name == "given_codes" or a.dtype == b.dtype, name
    np.testing.assert_array_equal(got.suggested, want.suggested)


def options_for(seed: int) -> dict:
    """Engine options varied by seed (defaults most of the time)."""
    return [
        {},
        {"frac_noise": 0.5},
        {"min_examples_per_class": 3},
        {},
        {"rank_by": "normalized_margin"},
    ][seed % 5]


# --- 1. the engine, kernels against numpy ---------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", SEEDS)
def test_find_label_issues_kernels_equal_numpy(seed, variant, monkeypatch):
    for dtype in DTYPES:
        labels, probs = problem(seed, variant, dtype)
        kwargs = options_for(seed)
        if seed % 3 == 0:  # string class names
            names = [f"class {c:02d}" for c in range(probs.shape[1])]
            labels = np.asarray(names)[labels]
            kwargs = {**kwargs, "classes": names}
        if seed % 4 == 2:  # column-major input
            probs = np.asfortranarray(probs)
        for method in METHODS:
            use_kernels(monkeypatch, False)
            want = find(labels, probs, method, n_jobs=1, **kwargs)
            use_kernels(monkeypatch, True)
            assert_same(find(labels, probs, method, n_jobs=1, **kwargs), want)
            with monkeypatch.context() as mp:
                split_small(mp)
                assert_same(find(labels, probs, method, n_jobs=2, **kwargs), want)


@pytest.mark.parametrize("seed", range(6))
def test_many_blocks_and_threads(seed, monkeypatch):
    """Small compiled blocks and more threads than cores: still the reference's results."""
    split_small(monkeypatch)
    variant = TIED[seed % len(TIED)]
    labels, probs = problem(seed, variant, DTYPES[seed % 2], n_range=(300, 2000), k_range=(2, 8))
    for method in METHODS:
        use_kernels(monkeypatch, False)
        want = find(labels, probs, method, n_jobs=1)
        use_kernels(monkeypatch, True)
        for n_jobs in (3, 7, None):
            assert_same(find(labels, probs, method, n_jobs=n_jobs), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_rows_equal(dtype, monkeypatch):
    """Every probability 1/k: every value ties with every other."""
    rng = np.random.default_rng(7)
    for n, k in ((60, 2), (500, 3), (1000, 13)):
        probs = np.full((n, k), 1.0 / k, dtype=dtype)
        labels = rng.integers(0, k, n)
        for method in METHODS:
            use_kernels(monkeypatch, False)
            want = find(labels, probs, method, n_jobs=1)
            use_kernels(monkeypatch, True)
            assert_same(find(labels, probs, method, n_jobs=1), want)
            with monkeypatch.context() as mp:
                split_small(mp)
                assert_same(find(labels, probs, method, n_jobs=2), want)


# A class whose pruned column has no noise divides by zero, in the reference's formula too.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(4))
def test_num_to_remove_per_class(seed, monkeypatch):
    labels, probs = problem(seed, TIED[seed], DTYPES[seed % 2], n_range=(200, 1500), k_range=(2, 6))
    counts = np.bincount(labels, minlength=probs.shape[1])
    remove = np.minimum(counts // 3, 40)
    for method in ("prune_by_noise_rate", "prune_by_class", "both"):
        use_kernels(monkeypatch, False)
        want = find(labels, probs, method, n_jobs=1, num_to_remove_per_class=remove)
        use_kernels(monkeypatch, True)
        split_small(monkeypatch)
        got = find(labels, probs, method, n_jobs=2, num_to_remove_per_class=remove)
        assert_same(got, want)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=30, deadline=None)
@given(problem=noisy_problems(max_n=80, max_k=6), n_jobs=st.sampled_from([1, 2, 3]))
def test_tiny_tied_problems(method, problem, n_jobs):
    labels, probs = problem
    with pytest.MonkeyPatch.context() as mp:
        split_small(mp)
        use_kernels(mp, False)
        want = find(labels, probs, method, n_jobs=1)
        use_kernels(mp, True)
        assert_same(find(labels, probs, method, n_jobs=n_jobs), want)


def test_floors_too_high_in_the_engine(monkeypatch):
    """The selection's starting floors all too high: every pair is found again, same result."""

    def too_high(sample, sample_labels, pairs, class_rows):
        return np.full(len(pairs), 3.0, dtype=sample.dtype)

    split_small(monkeypatch)
    for seed, variant in enumerate(TIED):
        labels, probs = problem(seed, variant, DTYPES[seed % 2], n_range=(200, 2000))
        for method in ("prune_by_noise_rate", "prune_by_class", "both"):
            use_kernels(monkeypatch, False)
            want = find(labels, probs, method, n_jobs=1)
            use_kernels(monkeypatch, True)
            with monkeypatch.context() as mp:
                mp.setattr(_passes, "first_floors", too_high)
                assert_same(find(labels, probs, method, n_jobs=2), want)
            with monkeypatch.context() as mp:  # and in chunks
                mp.setattr(_passes, "first_floors", too_high)
                assert_same(find(labels, probs, method, n_jobs=2, chunk_rows=150), want)
            with monkeypatch.context() as mp:  # every row in the sample: floors set, never high
                mp.setattr(_passes, "sample_stride", lambda n, k: 1)
                assert_same(find(labels, probs, method, n_jobs=2), want)


# --- 2. the confident pass and the grouping ---------------------------------------------------


def assert_scans_equal(got, want) -> None:
    (got_cells, got_counts), got_off, got_argmax, got_wins = got
    (want_cells, want_counts), want_off, want_argmax, want_wins = want
    for a, b, name in (
        (got_cells, want_cells, "cells"),
        (got_counts, want_counts, "counts"),
        (got_off, want_off, "off-diagonal"),
        (got_argmax, want_argmax, "argmax"),
        (got_wins, want_wins, "given_wins"),
    ):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert got_argmax.dtype == want_argmax.dtype
    assert got_wins.dtype == want_wins.dtype


SCAN_CASES = [
    # (n, k, variant, empty class, cut from the data's own values)
    (400, 3, "round1", False, False),
    (400, 3, "round1", True, False),
    (1000, 7, "duplicated", True, False),
    (1000, 7, "duplicated", False, True),
    (600, 12, "round2", True, True),
    (300, 5, "flat", False, False),
    (300, 5, "flat", True, True),
    (2000, 2, "round1", False, True),
    (40, 300, "round2", True, False),  # n_cells > 4 * rows: the kernel writes codes
    (90, 300, "duplicated", False, True),
    (5, 60, "flat", True, False),
    # from kernels.WIDE_ROWS classes on, the rows are swept in separate loops
    (500, 31, "round1", True, False),
    (500, 32, "round1", True, False),
    (500, 32, "round2", False, True),
    (700, 40, "flat", False, False),
    (700, 40, "duplicated", True, True),
    (300, 64, "round2", False, True),
]


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("n", "k", "variant", "empty", "data_cut"), SCAN_CASES)
def test_scan_block_equals_numpy(n, k, variant, empty, data_cut, dtype, layout, monkeypatch):
    rng = np.random.default_rng([n, k, DTYPES.index(dtype)])
    probs = make_probs(rng, n, k, variant, dtype)
    if layout == "F":
        probs = np.asfortranarray(probs)
    labels = make_labels(rng, probs)
    if empty:
        labels[labels == k - 1] = 0
    groups = ClassGroups.of(labels, k)
    thresholds = confident_thresholds(probs, groups)
    if empty:  # the empty class's threshold is the integer 2: the array is float64
        assert thresholds.dtype == np.float64 and thresholds[k - 1] == 2
    cut = thresholds - TOLERANCE
    if data_cut:  # thresholds equal to values of the rows: "at least" meets equality
        cut = probs[rng.integers(0, n, k), np.arange(k)].astype(cut.dtype)
    use_kernels(monkeypatch, True)
    for codes in (labels, kernels.compact(labels, k)):
        for start, stop in ((0, n), (n // 3, n - n // 4), (n - 1, n)):
            got = _counting._scan_block(codes, probs, cut, start, stop)
            want = scan_block_numpy(codes, probs, cut, start, stop)
            assert_scans_equal(got, want)


def edge_rows(rng: np.random.Generator, n: int, k: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose given label is exactly the 1e-6 edge of rule 6 below the top (or near it),
    the given label standing before or after the top class."""
    edge = dtype(TOLERANCE)
    probs = np.empty((n, k), dtype=dtype)
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):
        given, best = rng.choice(k, size=2, replace=False)
        own = dtype(rng.choice([0.3, 0.35, 0.4, 0.45]) if k > 2 else 0.4999995)
        top = own + edge + dtype(rng.choice([0.0, 0.0, 0.0, edge, -edge / 2]))
        rest = (1.0 - float(own) - float(top)) / (k - 2) if k > 2 else 0.0
        probs[i] = rest
        probs[i, given], probs[i, best] = own, top
        labels[i] = given
    return labels, probs


@pytest.mark.parametrize("k", [2, 3, 40])
@pytest.mark.parametrize("dtype", DTYPES)
def test_rule6_edge_equals_numpy(k, dtype, monkeypatch):
    """The given label's probability plus the edge equals the top one exactly: rule 6 breaks the
    tie by class order, in the input's dtype, on both paths."""
    rng = np.random.default_rng(k)
    labels, probs = edge_rows(rng, 300, k, dtype)
    edged = probs[np.arange(300), labels] + dtype(TOLERANCE)
    assert (edged == probs.max(axis=1)).sum() > 100  # the case is really there
    thresholds = confident_thresholds(probs, ClassGroups.of(labels, k))
    use_kernels(monkeypatch, True)
    cut = thresholds - TOLERANCE
    got = _counting._scan_block(labels, probs, cut, 0, 300)
    assert_scans_equal(got, scan_block_numpy(labels, probs, cut, 0, 300))
    for method in METHODS:
        use_kernels(monkeypatch, False)
        want = find(labels, probs, method, n_jobs=1)
        use_kernels(monkeypatch, True)
        assert_same(find(labels, probs, method, n_jobs=1), want)


@pytest.mark.parametrize("n_jobs", [1, 2, 5])
@pytest.mark.parametrize("variant", TIED)
def test_confident_pass_equals_numpy(variant, n_jobs, monkeypatch):
    monkeypatch.setattr(_counting, "_MIN_COMPILED_ROWS", 64)
    for dtype in DTYPES:
        labels, probs = problem(11, variant, dtype, n_range=(500, 3000))
        k = probs.shape[1]
        groups = ClassGroups.of(labels, k)
        thresholds = confident_thresholds(probs, groups)
        use_kernels(monkeypatch, False)
        want = confident_pass(labels, probs, thresholds, 1)
        use_kernels(monkeypatch, True)
        got = confident_pass(labels, probs, thresholds, n_jobs)
        np.testing.assert_array_equal(got.cells, want.cells)
        np.testing.assert_array_equal(got.off_diagonal, want.off_diagonal)
        np.testing.assert_array_equal(got.predicted, want.predicted)
        np.testing.assert_array_equal(got.given_wins, want.given_wins)
        assert got.predicted.dtype == want.predicted.dtype


@pytest.mark.parametrize("seed", range(3))
def test_sparse_joint_in_the_engine(seed, monkeypatch):
    """Above DENSE_MAX_CLASSES classes the joint and R are sparse: the pairs come from CSR."""
    monkeypatch.setattr(_counting, "DENSE_MAX_CLASSES", 4)  # the selection stays compiled
    split_small(monkeypatch)
    labels, probs = problem(
        seed, TIED[seed], DTYPES[seed % 2], n_range=(200, 1500), k_range=(5, 20)
    )
    for method in ("prune_by_noise_rate", "prune_by_class", "both", "pervasive2021"):
        use_kernels(monkeypatch, False)
        want = find(labels, probs, method, n_jobs=1)
        use_kernels(monkeypatch, True)
        for n_jobs in (1, 2):
            assert_same(find(labels, probs, method, n_jobs=n_jobs), want)
            assert_same(find(labels, probs, method, n_jobs=n_jobs, chunk_rows=90), want)


def test_confident_pass_many_classes_sparse(monkeypatch):
    """Above DENSE_MAX_CLASSES classes the cells are a sparse table on both paths."""
    monkeypatch.setattr(_counting, "DENSE_MAX_CLASSES", 16)
    monkeypatch.setattr(_counting, "_MIN_COMPILED_ROWS", 32)
    rng = np.random.default_rng(3)
    probs = make_probs(rng, 300, 40, "round2", np.float32)
    labels = make_labels(rng, probs)
    thresholds = confident_thresholds(probs, ClassGroups.of(labels, 40))
    use_kernels(monkeypatch, False)
    want = confident_pass(labels, probs, thresholds, 1)
    use_kernels(monkeypatch, True)
    got = confident_pass(labels, probs, thresholds, 3)
    np.testing.assert_array_equal(got.cells.toarray(), want.cells.toarray())
    np.testing.assert_array_equal(got.off_diagonal, want.off_diagonal)
    np.testing.assert_array_equal(got.predicted, want.predicted)
    np.testing.assert_array_equal(got.given_wins, want.given_wins)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_group_by_class_equals_numpy(seed, dtype, layout, monkeypatch):
    labels, probs = problem(seed, TIED[seed], dtype, n_range=(50, 1500))
    if layout == "F":
        probs = np.asfortranarray(probs)
    elif layout == "strided":
        probs, labels = probs[::2], labels[::2]
    use_kernels(monkeypatch, False)
    want_groups, want_own = group_by_class(labels, probs)
    use_kernels(monkeypatch, True)
    got_groups, got_own = group_by_class(labels, probs)
    np.testing.assert_array_equal(got_groups.order, want_groups.order)
    np.testing.assert_array_equal(got_groups.bounds, want_groups.bounds)
    np.testing.assert_array_equal(got_own, want_own)
    assert got_own.dtype == want_own.dtype == probs.dtype
    for k in range(probs.shape[1]):
        np.testing.assert_array_equal(got_groups.rows(k), np.flatnonzero(labels == k))


# --- 3. the two-pass selection ------------------------------------------------------------------


def pairs_from(wanted: dict, n_classes: int) -> Pairs:
    """Any {(j, c): n} as :class:`Pairs` (margin and by-class pairs mixed, listed by class)."""
    keys = sorted(wanted, key=lambda pair: (pair[1], pair[0]))
    classes = np.array([c for _, c in keys], dtype=np.int64)
    others = np.array([j for j, _ in keys], dtype=np.int64)
    counts = np.array([wanted[key] for key in keys], dtype=np.int64)
    return Pairs._of(classes, others, counts, n_classes)


def random_pairs(rng: np.random.Generator, labels: np.ndarray, k: int) -> dict:
    """{(j, c): n}: margin pairs and by-class pairs (j == c), n sometimes above the class size."""
    counts = np.bincount(labels, minlength=k)
    wanted = {}
    for c in range(k):
        if counts[c] == 0 and rng.random() < 0.7:
            continue
        top = int(counts[c]) + 3
        if rng.random() < 0.4:
            wanted[(c, c)] = int(rng.integers(1, top + 1))
        others = [j for j in range(k) if j != c]
        for j in rng.choice(others, size=int(rng.integers(0, len(others) + 1)), replace=False):
            big = rng.random() < 0.5  # many wanted: floors come from the sample
            wanted[(int(j), c)] = int(rng.integers(max(1, top // 2) if big else 1, top + 1))
    return wanted


def reference_selection(probs: np.ndarray, labels: np.ndarray, wanted: dict) -> np.ndarray:
    """The union over pairs of the reference's choice: ``smallest_n`` of the class's values."""
    mask = np.zeros(probs.shape[0], dtype=bool)
    for (j, c), count in wanted.items():
        rows = np.flatnonzero(labels == c)
        mask[rows[smallest_n(pair_values(probs[rows], j, c), count)]] = True
    return mask


def run_select(
    probs,
    labels,
    wanted,
    *,
    mode="blocks",
    n_blocks=2,
    n_jobs=2,
    floors="sample",
    stride=2,
    seed=0,
    calls=None,
):
    """Drive :func:`select` as ``filter._selected`` does (``mode="rows"``: threads over spans)
    or as the chunked path does (``mode="blocks"``: one part per block, in shuffled order)."""
    rng = np.random.default_rng(seed)
    n, k = probs.shape
    codes = kernels.compact(labels, k)
    groups = ClassGroups.of(labels, k)
    pairs = pairs_from(wanted, k)
    inner = np.sort(rng.choice(np.arange(1, n), size=min(n_blocks - 1, n - 1), replace=False))
    bounds = [0, *inner.tolist(), n]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    if floors == "sample":
        floors = first_floors(probs[::stride], labels[::stride], pairs, groups.counts)
    elif floors == "high":
        floors = np.full(len(pairs), 5.0, dtype=probs.dtype)
    elif floors == "low":
        floors = np.full(len(pairs), -5.0, dtype=probs.dtype)
    elif floors == "median":  # too high for every pair wanting more than half its class
        floors = np.full(len(pairs), -np.inf, dtype=probs.dtype)
        for p in range(len(pairs)):
            j, c = pairs.key(p)
            values = -pair_values(probs[groups.rows(c)], j, c)
            if values.size:
                floors[p] = np.median(values)

    def keep(floors):
        if mode == "rows":
            return [keep_rows(probs, labels, pairs, floors, n_jobs)]
        order = rng.permutation(len(spans))
        return [
            keep_block(probs[s:e], codes[s:e], pairs, floors) for s, e in np.take(spans, order, 0)
        ]

    def mark(table):
        if mode == "rows":
            return [mark_rows(probs, labels, 0, pairs, table, n_jobs)]
        order = rng.permutation(len(spans))
        return [
            mark_block(probs[s:e], codes[s:e], s, pairs, table) for s, e in np.take(spans, order, 0)
        ]

    def resolve(unsettled):
        if calls is not None and unsettled:
            calls.append(dict(unsettled))
        out = {}
        for (j, c), count in unsettled.items():
            rows = groups.rows(c)
            out[(j, c)] = rows[smallest_n(pair_values(probs[rows], j, c), count)]
        return out

    return select(keep, mark, pairs, floors, resolve, n)


@pytest.mark.parametrize("floors", ["sample", "high", "low", "median"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", range(6))
def test_select_equals_smallest_n(seed, variant, floors, monkeypatch):
    use_kernels(monkeypatch, True)
    monkeypatch.setattr(_selection, "_MIN_SPAN_ROWS", 64)  # threads even over few rows
    for dtype in DTYPES:
        labels, probs = problem(seed, variant, dtype, n_range=(30, 1500), k_range=(2, 9))
        rng = np.random.default_rng(seed)
        wanted = random_pairs(rng, labels, probs.shape[1])
        want = reference_selection(probs, labels, wanted)
        for mode, n_blocks in (("blocks", 1), ("blocks", 3), ("rows", 1)):
            got = run_select(probs, labels, wanted, mode=mode, n_blocks=n_blocks, floors=floors)
            np.testing.assert_array_equal(got, want)


def test_select_resolves_ties_straddling_the_cut(monkeypatch):
    """Identical rows: every value of a pair is at its cut, so ``resolve`` sorts like numpy."""
    use_kernels(monkeypatch, True)
    monkeypatch.setattr(_selection, "_TIE_ROOM", 3)  # and mark_block re-counts with more room
    monkeypatch.setattr(_selection, "_MIN_SPAN_ROWS", 50)
    rng = np.random.default_rng(5)
    for dtype in DTYPES:
        probs = np.tile(np.array([0.5, 0.3, 0.2]), (600, 1)).astype(dtype)
        probs[::7] = np.array([0.2, 0.3, 0.5], dtype=dtype)
        labels = rng.integers(0, 3, 600)
        wanted = {(1, 0): 17, (2, 0): 40, (0, 0): 25, (0, 1): 300, (2, 2): 10}
        want = reference_selection(probs, labels, wanted)
        calls = []
        for floors in ("sample", "high", "median"):
            for mode in ("blocks", "rows"):
                options = {"mode": mode, "n_blocks": 4, "n_jobs": 3, "floors": floors}
                got = run_select(probs, labels, wanted, stride=1, calls=calls, **options)
                np.testing.assert_array_equal(got, want)
        assert calls, "resolve was never asked to settle a tie"
        assert all((1, 0) in call for call in calls)


def test_select_floors_from_the_sample_are_set(monkeypatch):
    """Pairs wanting many values get finite floors from the sample, and the result holds."""
    use_kernels(monkeypatch, True)
    rng = np.random.default_rng(9)
    for dtype in DTYPES:
        probs = make_probs(rng, 3000, 3, "round2", dtype)
        labels = rng.integers(0, 3, 3000)
        counts = np.bincount(labels, minlength=3)
        wanted = {(1, 0): 400, (2, 0): int(counts[0]) - 1, (1, 1): 500, (0, 2): 333}
        floors = first_floors(probs[::2], labels[::2], pairs_from(wanted, 3), counts)
        assert np.isfinite(floors).sum() >= 3
        want = reference_selection(probs, labels, wanted)
        for floors_kind in ("sample", "high", "median"):
            got = run_select(probs, labels, wanted, n_blocks=3, floors=floors_kind, stride=2)
            np.testing.assert_array_equal(got, want)


def test_select_edge_cases(monkeypatch):
    use_kernels(monkeypatch, True)
    probs = np.full((5, 2), 0.5)
    labels = np.zeros(5, dtype=int)
    assert not run_select(probs, labels, {}, n_blocks=1).any()
    for wanted in ({(1, 0): 1}, {(1, 0): 5}, {(1, 0): 9}, {(0, 0): 2}, {(1, 1): 3}):
        for n_blocks in (1, 5):
            got = run_select(probs, labels, wanted, n_blocks=n_blocks)
            np.testing.assert_array_equal(got, reference_selection(probs, labels, wanted))


def reference_wanted(prune, checked, counts, by_class) -> dict:
    """Pruning's pairs as the numpy path reads them, column by column."""
    wanted = {}
    for k in checked:
        toward = column(prune, k)
        if by_class:
            if counts[k] - toward[k] >= 1:
                wanted[(k, k)] = int(counts[k] - toward[k])
            continue
        for j in np.flatnonzero(toward > 0):
            if j != k:
                wanted[(int(j), k)] = int(toward[j])
    return wanted


@pytest.mark.parametrize("seed", range(5))
def test_pairs_of_a_prune_matrix(seed):
    """The pairs built from R (dense or sparse) are those the numpy path reads from it."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    prune = rng.integers(0, 4, (k, k)) * (rng.random((k, k)) < 0.5)
    counts = rng.integers(0, 6, k) + np.diag(prune)
    checked = sorted(rng.choice(k, size=int(rng.integers(0, k + 1)), replace=False).tolist())
    for matrix in (prune, sparse.csr_array(prune)):
        for by_class in (False, True):
            pairs = Pairs.of(matrix, checked, counts, by_class)
            got = {pairs.key(p): int(n) for p, n in enumerate(pairs.wanted)}
            assert got == reference_wanted(matrix, checked, counts, by_class)
            assert list(pairs.classes) == sorted(pairs.classes)
            for c in range(k):
                assert set(pairs.classes[pairs.first[c] : pairs.first[c + 1]]) <= {c}


# --- 4. chunked, on disk and Dask --------------------------------------------------------------


@pytest.mark.parametrize("kernels_on", [True, False])
@pytest.mark.parametrize("seed", range(5))
def test_chunked_equals_in_memory(seed, kernels_on, monkeypatch, tmp_path):
    """Chunks of any size, a .npy path, threads: the in-memory reference's results."""
    variant = TIED[seed % len(TIED)]
    labels, probs = problem(seed, variant, DTYPES[seed % 2], n_range=(50, 400), k_range=(2, 40))
    n = probs.shape[0]
    kwargs = {}
    if seed % 2:
        names = [f"c{c}" for c in range(probs.shape[1])]
        labels, kwargs = np.asarray(names)[labels], {"classes": names}
    path = tmp_path / "probs.npy"
    np.save(path, probs)
    split_small(monkeypatch)
    for method in METHODS:
        use_kernels(monkeypatch, False)
        want = find(labels, probs, method, n_jobs=1, **kwargs)
        use_kernels(monkeypatch, kernels_on)
        for chunk in (7, 100, n):
            assert_same(find(labels, probs, method, chunk_rows=chunk, n_jobs=1, **kwargs), want)
        assert_same(find(labels, probs, method, chunk_rows=100, n_jobs=2, **kwargs), want)
        assert_same(find(labels, str(path), method, **kwargs), want)
        assert_same(find(labels, path, method, chunk_rows=33, **kwargs), want)


@pytest.mark.parametrize("kernels_on", [True, False])
def test_dask_equals_in_memory(kernels_on, monkeypatch):
    da = pytest.importorskip("dask.array")
    for seed, variant in enumerate(("round1", "duplicated", "flat")):
        labels, probs = problem(
            seed, variant, DTYPES[seed % 2], n_range=(100, 300), k_range=(2, 35)
        )
        for method in METHODS:
            use_kernels(monkeypatch, False)
            want = find(labels, probs, method, n_jobs=1)
            use_kernels(monkeypatch, kernels_on)
            for chunk in (37, probs.shape[0]):
                got = find(labels, da.from_array(probs, chunks=(chunk, -1)), method)
                assert_same(got, want)
