"""Compiled kernels of the confident-learning passes, each equal to a numpy reference.

The engine's passes do almost no arithmetic per value; in numpy their time goes to temporaries
and to the many small operations a row needs. Compiled with numba, one kernel reads each row
once and does all of that row's work. Every kernel here has a numpy reference in
:mod:`labelwise.issues._counting`, the definition of its result: the two are tested equal on
random inputs with ties (``tests/test_kernels.py``), and ``LABELWISE_KERNELS=numpy`` makes the
engine use the references alone.

Float arithmetic follows numpy's exactly: values stay in the input's dtype (a float32 margin
is a float32 subtraction, the 1e-6 edge of rule 6 is a float32 constant for float32 input),
no fast-math, and comparisons of a float32 value with a float64 threshold are done in float64,
as numpy's are. Kernels release the GIL and are called from :func:`labelwise._parallel.ordered_map`
threads, so ``n_jobs`` means the same as everywhere else and results do not depend on it.
"""

from __future__ import annotations

import os

import numpy as np

try:  # numba is a dependency, but the engine must still run where it cannot load
    import numba
except Exception:  # a broken install fails in many ways, not only with ImportError
    numba = None

__all__ = [
    "compact",
    "cut_values",
    "enabled",
    "estimate_floors",
    "keep_largest",
    "mark_above",
    "merge_kept",
    "scan_rows",
    "scatter_own",
]

#: The environment variable that turns the compiled kernels off (value "numpy").
SWITCH = "LABELWISE_KERNELS"


def compact(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels in the smallest unsigned type that holds them: the kernels' loops run several
    times faster over uint8 codes than over int64 ones."""
    return labels.astype(np.min_scalar_type(max(n_classes - 1, 0)), copy=False)


def enabled() -> bool:
    """Whether the compiled kernels are used: numba loads, compiles (``NUMBA_DISABLE_JIT``
    would leave the kernels as slow Python loops) and ``LABELWISE_KERNELS`` is not numpy."""
    return (
        numba is not None
        and not numba.config.DISABLE_JIT
        and os.environ.get(SWITCH, "").strip().lower() != "numpy"
    )


def _compiled(func):
    if numba is None:
        return func
    # cache=True keeps the machine code next to this file (or in the user's cache when the
    # package folder is read-only), so only the first run on a machine pays for compiling.
    # Where no cache folder can be written at all, numba refuses to cache: compile each run.
    try:
        return numba.njit(nogil=True, cache=True)(func)
    except RuntimeError:
        return numba.njit(nogil=True)(func)


@_compiled
def scatter_own(labels, probs, next_slot, own, order):
    """Rows grouped by given class, a stable counting sort: each row's given-label probability
    goes to the next free slot of its class in ``own`` (slots grouped by class, rows in order),
    advancing ``next_slot``; unless ``order`` is empty, the row's number goes to the same slot.

    Over a whole input starting at the classes' first slots, ``order`` is
    ``np.argsort(labels, kind="stable")`` and ``own`` is ``probs[order, labels[order]]``.
    (Outputs are allocated by the caller, where Python's memory tracing sees them.)
    """
    ordering = order.shape[0] > 0
    for i in range(labels.shape[0]):
        given = np.int64(labels[i])
        slot = next_slot[given]
        own[slot] = probs[i, given]
        if ordering:
            order[slot] = i
        next_slot[given] = slot + 1


#: Pairs that want at most this many values keep them sorted (see ``_offer``).
SORTED_WANTED = 16
#: From this many classes on, the confident pass sweeps each row in separate simple loops
#: that the compiler vectorizes; below it one loop per row costs less.
WIDE_ROWS = 32


@_compiled
def scan_rows(labels, probs, bits, cut, edge, cells, codes, off, predicted, wins):
    """The confident pass over a block of rows: one read of each row does all its work.

    Each row's (given, confident guess) cell, coded ``given * (K + 1) + guess`` (guess K meaning
    "confident of no class"), is counted in ``cells`` or, when ``cells`` is empty (many classes,
    few rows), written to ``codes``. ``off`` is set where the guess is another class; the row's
    argmax (first maximum) and rule-6 flag go to ``predicted`` and ``wins``. Flags are combined
    bitwise, not short-circuit: a branch each would be mispredicted on noisy rows.

    Rows of :data:`WIDE_ROWS` classes or more are swept by one simple loop, which the compiler
    vectorizes, and the argmax is then the first place that holds the maximum. ``bits`` is
    ``probs`` viewed as integers of the same width: validated probabilities are never negative,
    and the bit patterns of non-negative floats order as the floats do, so the row's maximum is an
    integer reduction (a float one would need fast-math); -0.0, the one sign-bit value, is never
    a row's maximum.
    """
    k = probs.shape[1]
    wide = k >= WIDE_ROWS
    counting = cells.shape[0] > 0
    for i in range(probs.shape[0]):
        if wide:
            top_bits = bits[i, 0]
            n_confident = 0
            only = 0
            for j in range(k):
                top_bits = max(top_bits, bits[i, j])
                confident = probs[i, j] >= cut[j]
                n_confident += confident
                only += j * confident  # the index itself when exactly one is confident
            best = 0
            while bits[i, best] != top_bits:
                best += 1
            top = probs[i, best]
        else:
            top = probs[i, 0]
            best = 0
            n_confident = 0
            only = k
            for j in range(k):
                value = probs[i, j]
                if value > top:
                    top = value
                    best = j
                if value >= cut[j]:
                    n_confident += 1
                    only = j
        given = np.int64(labels[i])
        guess = best if n_confident > 1 else (only if n_confident == 1 else k)
        if counting:
            cells[given * (k + 1) + guess] += 1
        else:
            codes[i] = given * (k + 1) + guess
        off[i] = (guess != given) & (guess < k)
        predicted[i] = best
        edged = probs[i, given] + edge
        wins[i] = (best == given) | (edged > top) | ((edged == top) & (given < best))


@_compiled
def _nth_smallest(values, n):
    """The n-th smallest (0-based) of ``values``, which it reorders in place (no copy)."""
    low, high = 0, values.shape[0] - 1
    while low < high:
        pivot = values[(low + high) >> 1]
        i, j = low, high
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if n <= j:
            high = j
        elif n >= i:
            low = i
        else:
            break
    return values[n]


@_compiled
def _compact(kept, starts, sizes, table, at, pair, wanted):
    """Shrink pair's kept values to its ``wanted`` largest, raising its floor to the smallest.

    Values equal to the new floor beyond the ``wanted`` are dropped: they cannot change which
    value is the ``wanted``-th largest, the only thing the selection needs from this pass.
    """
    start, size = starts[pair], sizes[pair]
    values = kept[start : start + size]
    floor = _nth_smallest(values, size - wanted)
    n_kept = 0
    for e in range(size):  # the values above the floor (fewer than wanted) ...
        if values[e] > floor:
            values[n_kept] = values[e]
            n_kept += 1
    for _ in range(wanted - n_kept):  # ... then the floor itself up to wanted
        values[n_kept] = floor
        n_kept += 1
    sizes[pair] = wanted
    table[at[pair]] = floor


@_compiled
def _offer(kept, starts, sizes, table, at, wanted, pair, value):
    """Keep ``value`` as a candidate for pair's ``wanted[pair]`` largest.

    A pair that wants few values keeps exactly its largest so far, sorted, so that its floor
    (``table[at[pair]]``, the smallest of them once it has all it wants) is exact after every
    value. A pair that wants more has room for twice as many (and a few): when full it is
    compacted to its wanted largest, which raises the floor. Either way the floor turns away
    every later value that can no longer be among them.
    """
    start, size, want = starts[pair], sizes[pair], wanted[pair]
    if want <= SORTED_WANTED:
        slot = size
        if size == want:  # full: the smallest gives way
            slot = 0
            while slot + 1 < size and kept[start + slot + 1] < value:
                kept[start + slot] = kept[start + slot + 1]
                slot += 1
        else:
            while slot > 0 and kept[start + slot - 1] > value:
                kept[start + slot] = kept[start + slot - 1]
                slot -= 1
            sizes[pair] = size + 1
        kept[start + slot] = value
        if sizes[pair] == want:
            table[at[pair]] = kept[start]
        return
    if size == starts[pair + 1] - start:
        _compact(kept, starts, sizes, table, at, pair, want)
        if value <= table[at[pair]]:
            return
    kept[start + sizes[pair]] = value
    sizes[pair] += 1


@_compiled
def keep_largest(labels, probs, pair_at, at, wanted, kept, starts, sizes, table):
    """Selection, pass 1 over a block: each pair keeps candidates for its largest values.

    Pair p of given class k ranks ``p_j - p_k`` for its other class j (``-p_k`` when j == k:
    pruning by class) and wants its ``wanted[p]`` largest. Bounds and pairs share one layout:
    ``table[k * K + j]`` holds pair (k, j)'s floor and ``pair_at[k * K + j]`` its number,
    ``K * K + k`` is pair (k, k)'s place, and a place with no pair holds +inf and -1 (``at[p]``
    is pair p's place). So one branch-free sweep over a row tells whether any of its values
    passes a floor, and after the first rows of a class almost no row does; only such a row is
    swept again to find which.
    """
    n_classes = probs.shape[1]
    for i in range(probs.shape[0]):
        k = np.int64(labels[i])
        own = probs[i, k]
        base = k * n_classes
        by_class = n_classes * n_classes + k
        hits = -own > table[by_class]
        for j in range(n_classes):
            hits |= probs[i, j] - own > table[base + j]
        if not hits:
            continue
        if -own > table[by_class]:
            _offer(kept, starts, sizes, table, at, wanted, pair_at[by_class], -own)
        for j in range(n_classes):
            value = probs[i, j] - own
            if value > table[base + j]:
                _offer(kept, starts, sizes, table, at, wanted, pair_at[base + j], value)


@_compiled
def merge_kept(kept, starts, sizes, table, at, wanted, other_kept, other_sizes):
    """Offer every candidate another block kept to this block's pairs."""
    for pair in range(sizes.shape[0]):
        start = starts[pair]
        for e in range(other_sizes[pair]):
            value = other_kept[start + e]
            if value > table[at[pair]]:
                _offer(kept, starts, sizes, table, at, wanted, pair, value)


@_compiled
def cut_values(kept, starts, sizes, wanted, lowest):
    """Each pair's ``wanted``-th largest value; ``lowest`` for a pair with fewer values."""
    cuts = np.empty(sizes.shape[0], kept.dtype)
    for pair in range(sizes.shape[0]):
        size = sizes[pair]
        if size < wanted[pair]:
            cuts[pair] = lowest
            continue
        values = kept[starts[pair] : starts[pair] + size]
        cuts[pair] = _nth_smallest(values, size - wanted[pair])  # the values are done with
    return cuts


@_compiled
def estimate_floors(labels, probs, first, others, wanted, class_rows):
    """A floor for each pair, below its ``wanted``-th largest value with near certainty.

    ``labels`` and ``probs`` are a sample of the rows (every so many); ``class_rows`` counts
    each class's rows in the whole input. A pair expecting e of its wanted values in the
    sample gets the value ranked e + 4 sqrt(e) + 1 there. Minus infinity stays for pairs
    expecting fewer than 16 (a floor would not speed them up), pairs wanting all their class's
    rows, and pairs whose rank falls beyond the sample's rows of the class. The selection checks
    every floor afterwards: one that was too high is found (fewer than ``wanted`` values above
    it) and that pair done again.
    """
    n_classes = probs.shape[1]
    floors = np.full(others.shape[0], -np.inf, probs.dtype)
    counts = np.zeros(n_classes + 1, np.int64)
    for i in range(labels.shape[0]):
        counts[np.int64(labels[i]) + 1] += 1
    for k in range(n_classes):
        counts[k + 1] += counts[k]
    order = np.empty(labels.shape[0], np.int64)
    slot = counts[:-1].copy()
    for i in range(labels.shape[0]):
        k = np.int64(labels[i])
        order[slot[k]] = i
        slot[k] += 1
    for k in range(n_classes):
        rows = order[counts[k] : counts[k + 1]]
        if class_rows[k] == 0:
            continue
        values = np.empty(rows.shape[0], probs.dtype)  # one buffer for the class's pairs
        for pair in range(first[k], first[k + 1]):
            expected = wanted[pair] * rows.shape[0] / class_rows[k]
            rank = int(np.ceil(expected + 4.0 * np.sqrt(expected) + 1.0))
            if expected < 16.0 or rank > rows.shape[0] or wanted[pair] >= class_rows[k]:
                continue
            j = others[pair]
            for r in range(rows.shape[0]):
                own = probs[rows[r], k]
                values[r] = -own if j == k else probs[rows[r], j] - own
            floors[pair] = _nth_smallest(values, rows.shape[0] - rank)
    return floors


@_compiled
def mark_above(labels, probs, pair_at, table, chosen, above, at_cut, tie_rows, tie_pairs):
    """Selection, pass 2 over a block: mark the rows above some pair's cut (``table``, laid out
    as in :func:`keep_largest`), count and list those at it. Returns how many rows were at a cut
    (more than ``tie_rows`` holds means: call again with room for them all)."""
    n_classes = probs.shape[1]
    n_ties = 0
    for i in range(probs.shape[0]):
        k = np.int64(labels[i])
        own = probs[i, k]
        base = k * n_classes
        by_class = n_classes * n_classes + k
        hits = -own >= table[by_class]
        for j in range(n_classes):
            hits |= probs[i, j] - own >= table[base + j]
        if not hits:
            continue
        for j in range(-1, n_classes):
            place = by_class if j < 0 else base + j
            value = -own if j < 0 else probs[i, j] - own
            cut = table[place]
            if value > cut:
                chosen[i] = True
                above[pair_at[place]] += 1
            elif value == cut:
                at_cut[pair_at[place]] += 1
                if n_ties < tie_rows.shape[0]:
                    tie_rows[n_ties] = i
                    tie_pairs[n_ties] = pair_at[place]
                n_ties += 1
    return n_ties
