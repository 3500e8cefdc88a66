"""Row-level checks: duplicates, near-duplicates, splits and leakage, annotators, a reference.

Rows are compared by hashing: every column is hashed once to 64-bit values
(:func:`pandas.util.hash_pandas_object`) and the column hashes are mixed into one row hash,
so finding repeated rows is one pass and one hash-table lookup, whatever the number of columns.
Near-duplicates come from :func:`labelwise.find_data_issues` (``near_duplicate``): rows of one
near-copy group share an id, which is compared the same way (see ``card/_issues.py``).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from labelwise.annotators import consensus
from labelwise.card._stats import normalized_entropy, plain
from labelwise.errors import LabelwiseError

#: Example groups of duplicate rows kept in the card.
EXAMPLES = 5

_MIX = np.uint64(0x9E3779B97F4A7C15)


def column_hash(series: pd.Series) -> np.ndarray:
    """64-bit hash of each value of a column (equal values, equal hashes)."""
    return pd.util.hash_pandas_object(series, index=False).to_numpy()


def row_hash(hashes: list[np.ndarray], n: int) -> np.ndarray:
    """Mix per-column hashes into one hash per row (order-dependent, 64-bit)."""
    out = np.full(n, 0x345678, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, h in enumerate(hashes):
            out ^= h + _MIX + (out << np.uint64(6)) + (out >> np.uint64(2)) + np.uint64(i)
            out *= np.uint64(0xBF58476D1CE4E5B9)
    return out


def _groups(hashes: np.ndarray, limit: int = EXAMPLES) -> list[list[int]]:
    """Up to ``limit`` groups of row positions sharing a hash, largest first."""
    repeated = pd.Series(hashes).duplicated(keep=False).to_numpy()
    rows = np.flatnonzero(repeated)
    if rows.size == 0:
        return []
    groups = pd.Series(rows).groupby(hashes[rows]).agg(list)
    groups = sorted(groups.tolist(), key=lambda g: (-len(g), g[0]))[:limit]
    return [[int(r) for r in g] for g in groups]


def duplicates(
    feature_hash: np.ndarray, near: np.ndarray, label_codes: np.ndarray | None
) -> dict[str, Any]:
    """Exact duplicates (features and label), conflicting labels and near-duplicates.

    ``near`` holds one id per row, shared by the rows of a near-copy group.
    """
    n = feature_hash.size
    full = (
        row_hash([feature_hash, label_codes.astype(np.uint64)], n)
        if label_codes is not None
        else feature_hash
    )
    dup = pd.Series(full).duplicated().to_numpy()
    feature_dup = pd.Series(feature_hash).duplicated(keep=False).to_numpy()
    conflicting = 0
    if label_codes is not None and feature_dup.any():
        rows = np.flatnonzero(feature_dup)
        spread = pd.Series(label_codes[rows]).groupby(feature_hash[rows]).nunique()
        conflicted = spread.index[spread.to_numpy() > 1]
        conflicting = int(np.isin(feature_hash[rows], conflicted.to_numpy()).sum())
    repeated = pd.Series(feature_hash).duplicated().to_numpy()
    near = pd.Series(near).duplicated().to_numpy() & ~repeated
    return {
        "method": "row hashing; near: copies closer than a threshold adapted to the data's own "
        "nearest-neighbour distances (the near_duplicate data check)",
        "duplicate_rows": int(dup.sum()),
        "duplicate_share": float(dup.mean()) if n else 0.0,
        "conflicting_label_rows": conflicting,
        "near_duplicate_rows": int(near.sum()),
        "near_duplicate_share": float(near.mean()) if n else 0.0,
        "example_groups": _groups(full),
    }


def class_balance(label_codes: np.ndarray, classes: list) -> dict[str, Any]:
    """Counts and shares per class, max/min ratio and normalized entropy."""
    counts = np.bincount(label_codes, minlength=len(classes))
    present = counts[counts > 0]
    n = int(counts.sum())
    return {
        "n": n,
        "counts": counts.tolist(),
        "shares": (counts / n).tolist() if n else [0.0] * len(classes),
        "max_min_ratio": float(present.max() / present.min()) if present.size else None,
        "normalized_entropy": normalized_entropy(counts),
        "missing_classes": [plain(c) for c, k in zip(classes, counts, strict=True) if k == 0],
    }


def _leak_count(a: np.ndarray, b: np.ndarray) -> int:
    """Rows of ``b`` whose hash also occurs in ``a`` (a hash-table lookup, not a sort)."""
    return int(pd.Series(b).isin(pd.Series(a)).sum())


def splits(
    split_values: pd.Series,
    label_codes: np.ndarray,
    classes: list,
    feature_hash: np.ndarray,
    near: np.ndarray,
) -> dict[str, Any]:
    """Class balance per split, label shift between splits, and rows leaking across them."""
    codes, names = pd.factorize(split_values, use_na_sentinel=True, sort=True)
    overall = np.bincount(label_codes, minlength=len(classes)) / label_codes.size
    per_split, masks = [], []
    for i, name in enumerate(names):
        mask = codes == i
        masks.append(mask)
        balance = class_balance(label_codes[mask], classes)
        shares = np.asarray(balance["shares"])
        balance["tv_distance_to_overall"] = float(0.5 * np.abs(shares - overall).sum())
        balance["js_divergence_to_overall"] = float(_js(shares, overall))
        per_split.append({"split": plain(name), **balance})
    table = np.array([s["counts"] for s in per_split])
    table = table[:, table.sum(axis=0) > 0] if table.size else table
    chi2_p = None
    if table.shape[0] > 1 and table.shape[1] > 1:
        chi2_p = float(sps.chi2_contingency(table)[1])
    leakage = []
    for (i, a), (j, b) in combinations(enumerate(names), 2):
        ha, hb = feature_hash[masks[i]], feature_hash[masks[j]]
        sa, sb = near[masks[i]], near[masks[j]]
        leakage.append(
            {
                "a": plain(a),
                "b": plain(b),
                "identical_rows": _leak_count(ha, hb),
                "near_identical_rows": _leak_count(sa, sb),
                "rows_in_b": int(hb.size),
            }
        )
    return {
        "column": plain(split_values.name),
        "missing": int((codes < 0).sum()),
        "splits": per_split,
        "label_shift_chi2_pvalue": chi2_p,
        "leakage": leakage,
    }


def _js(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (nats) of two distributions."""
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float((a[nz] * np.log(a[nz] / m[nz])).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def annotators(
    table: pd.DataFrame,
    columns: list,
    label: Any,
    *,
    pred_probs: Any = None,
    classes: list | None = None,
) -> dict[str, Any]:
    """Fleiss' kappa over annotator columns, pairwise agreement, agreement with the label, and
    the crowd's consensus with each annotator's estimated quality.

    Items may miss some ratings: the observed agreement of each item uses its own number of
    ratings (items with fewer than two are left out), which reduces to Fleiss' kappa when every
    item has the same count. The consensus is :func:`labelwise.consensus` (Dawid-Skene); see
    :func:`crowd` for when ``pred_probs`` (columns in the order of ``classes``) weighs in.
    """
    stacked = pd.concat([table[c] for c in columns], ignore_index=True)
    codes, cats = pd.factorize(stacked, use_na_sentinel=True)
    codes = codes.reshape(len(columns), len(table)).T
    k = cats.size
    counts = np.zeros((len(table), max(k, 1)), dtype=np.int64)
    for j in range(len(columns)):
        rated = codes[:, j] >= 0
        np.add.at(counts, (np.flatnonzero(rated), codes[rated, j]), 1)
    n_i = counts.sum(axis=1)
    usable = n_i >= 2
    kappa = None
    if usable.any() and k > 1:
        c, n = counts[usable], n_i[usable]
        p_i = ((c * c).sum(axis=1) - n) / (n * (n - 1))
        p_bar = float(p_i.mean())
        p_j = c.sum(axis=0) / c.sum()
        p_e = float((p_j * p_j).sum())
        kappa = (p_bar - p_e) / (1 - p_e) if p_e < 1 else None
    pairwise = []
    for a, b in combinations(range(len(columns)), 2):
        both = (codes[:, a] >= 0) & (codes[:, b] >= 0)
        agree = float((codes[both, a] == codes[both, b]).mean()) if both.any() else None
        pairwise.append(
            {
                "a": plain(columns[a]),
                "b": plain(columns[b]),
                "items": int(both.sum()),
                "agreement": agree,
            }
        )
    given = table[label].astype(object).to_numpy()
    with_label = []
    for j, column in enumerate(columns):
        values = table[column].astype(object).to_numpy()
        rated = codes[:, j] >= 0
        share = float((values[rated] == given[rated]).mean()) if rated.any() else None
        with_label.append({"annotator": plain(column), "agreement_with_label": share})
    return {
        "columns": [plain(c) for c in columns],
        "items_rated_twice": int(usable.sum()),
        "fleiss_kappa": kappa,
        "pairwise": pairwise,
        "with_label": with_label,
        **crowd(table, columns, label, pred_probs=pred_probs, classes=classes),
    }


#: The consensus keys of the annotators section, all None when no consensus could be computed.
CONSENSUS_KEYS = (
    "consensus_method",
    "consensus_with_model",
    "consensus_model_weight",
    "items_with_votes",
    "mean_item_agreement",
    "items_with_disagreement",
    "consensus_vs_label",
    "annotator_quality",
)


def _model_lines_up(pred_probs: Any, n_rows: int, classes: list | None, votes: pd.Series) -> bool:
    """Whether ``pred_probs`` has one row per item, one column per class of ``classes``, and
    every vote names one of those classes (else the consensus leaves the model out)."""
    if pred_probs is None or classes is None:
        return False
    if np.shape(pred_probs) != (n_rows, len(classes)):
        return False
    found = pd.Index(classes).get_indexer(pd.unique(votes.dropna()))
    return bool((found >= 0).all())


def crowd(
    table: pd.DataFrame,
    columns: list,
    label: Any,
    *,
    pred_probs: Any = None,
    classes: list | None = None,
) -> dict[str, Any]:
    """The annotators' consensus (Dawid-Skene) and each annotator's estimated quality.

    ``pred_probs`` is weighed in (at a temperature fitted to how well it agrees with the
    annotators) when it has one row per table row and one column per class of ``classes`` (the
    label's classes, sorted) and every vote names one of those classes; otherwise, or when the
    model cannot be used, the consensus is the annotators' alone. When no consensus can be found
    (no votes at all, labels that cannot be told apart) every key is None and
    ``consensus_skipped`` says why.
    """
    votes = table[columns]
    stacked = pd.concat([votes[c] for c in columns], ignore_index=True)
    tries = [None]
    if _model_lines_up(pred_probs, len(table), classes, stacked):
        tries.insert(0, pred_probs)
    result, skipped = None, None
    for probs in tries:
        try:
            result = consensus(
                votes,
                probs,
                method="dawid_skene",
                classes=None if probs is None else classes,
            )
            break
        except (LabelwiseError, ValueError, TypeError) as error:
            skipped = str(error)
    if result is None:
        return {**dict.fromkeys(CONSENSUS_KEYS), "consensus_skipped": skipped}
    n_votes = np.asarray(result.n_votes)
    agreement = np.asarray(result.agreement, dtype=float)
    voted, twice = n_votes >= 1, n_votes >= 2
    given = table[label].astype(object).to_numpy()
    settled = np.asarray(result.labels, dtype=object)
    matches = np.fromiter(
        (a == b for a, b in zip(settled[voted], given[voted], strict=True)), bool, int(voted.sum())
    )
    quality = [
        {
            "annotator": plain(row.annotator),
            "quality": plain(row.quality),
            "n_labels": int(row.n_labels),
            "agreement": plain(row.agreement),
            "worst_class": plain(row.worst_class),
        }
        for row in result.worst_annotators(None).itertuples(index=False)
    ]
    return {
        "consensus_method": result.method,
        "consensus_with_model": result.model_weight is not None,
        "consensus_model_weight": plain(result.model_weight),
        "items_with_votes": int(voted.sum()),
        "mean_item_agreement": float(agreement[twice].mean()) if twice.any() else None,
        "items_with_disagreement": int((twice & (agreement < 1)).sum()),
        "consensus_vs_label": float(matches.mean()) if matches.size else None,
        "annotator_quality": quality,
        "consensus_skipped": None,
    }


def ground_truth(table: pd.DataFrame, reference: pd.DataFrame) -> dict[str, Any]:
    """Compare row counts per key value with a reference table's quantities.

    The key is the reference's first column that the table also has; each other numeric column
    of the reference is compared with the table's row count per key value (Pearson and Spearman
    over the key values found in both).
    """
    from labelwise.errors import InputError

    shared = [c for c in reference.columns if c in table.columns]
    if not shared:
        raise InputError(
            "the reference table shares no column with the data; name its key column like the "
            f"data's column (reference columns: {list(reference.columns)[:10]})."
        )
    key = shared[0]
    values = [
        c for c in reference.columns if c != key and pd.api.types.is_numeric_dtype(reference[c])
    ]
    if not values:
        raise InputError(
            f"the reference table has no numeric column besides its key {key!r} to compare with."
        )
    repeated = reference[key].astype(str)
    repeated = repeated[repeated.duplicated()].unique().tolist()
    if repeated:
        raise InputError(
            f"the reference table repeats key values in column {key!r} ({len(repeated)} repeated, "
            f"e.g. {repeated[:3]}); give one row per key value (aggregate the reference first, "
            "e.g. reference.groupby(key).sum())."
        )
    counts = table[key].astype(str).value_counts()
    ref = reference.assign(**{"__key": reference[key].astype(str)}).set_index("__key")
    common = [k for k in ref.index if k in counts.index]
    comparisons = []
    for column in values:
        data = counts.reindex(common).to_numpy(dtype=float)
        truth = ref.loc[common, column].to_numpy(dtype=float)
        ok = np.isfinite(truth)
        enough = ok.sum() > 2 and np.std(data[ok]) > 0 and np.std(truth[ok]) > 0
        comparisons.append(
            {
                "reference_column": plain(column),
                "pearson": float(sps.pearsonr(data[ok], truth[ok])[0]) if enough else None,
                "spearman": float(sps.spearmanr(data[ok], truth[ok])[0]) if enough else None,
                "rows": [
                    {
                        "key": k,
                        "data_count": int(d),
                        "data_share": float(d) / len(table),
                        "reference": plain(t),
                    }
                    for k, d, t in zip(common, data, truth, strict=True)
                ],
            }
        )
    return {
        "key": plain(key),
        "keys_in_both": len(common),
        "keys_only_in_reference": int(len(ref.index) - len(common)),
        "keys_only_in_data": int(len(counts.index.difference(ref.index))),
        "comparisons": comparisons,
        "caveat": "The reference is itself a dataset, collected with its own methods and biases; "
        "agreement with it is evidence, not proof, that the data represents the population.",
    }
