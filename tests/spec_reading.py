"""A slow, literal reading of docs/confident-learning.md, one example at a time.

It shares no code with labelwise, so agreement with it checks the fast engine against the spec.
Ties at a cut-off are taken in numpy's default argsort order, as the spec's reference does.
"""

from __future__ import annotations

import numpy as np


def thresholds(labels, pred_probs):
    k_count = pred_probs.shape[1]
    out = []
    for k in range(k_count):
        members = [pred_probs[i, k] for i in range(len(labels)) if labels[i] == k]
        out.append(np.mean(np.array(members, dtype=pred_probs.dtype)) if members else 2)
    return np.clip(np.asarray(out), 2e-6, None)


def confident_joint(labels, pred_probs):
    k_count = pred_probs.shape[1]
    t = thresholds(labels, pred_probs)
    joint = np.zeros((k_count, k_count), dtype=int)
    off = []
    for i, row in enumerate(pred_probs):
        confident = [j for j in range(k_count) if row[j] >= t[j] - 1e-6]
        if not confident:
            continue
        guess = confident[0] if len(confident) == 1 else int(np.argmax(row))
        joint[labels[i], guess] += 1
        if guess != labels[i]:
            off.append(i)
    for k in range(k_count):
        joint[k, k] = max(joint[k, k], 1)
    return joint, off


def round_row(values):
    floats = np.asarray(values, dtype=float)
    ints = floats.round()
    target = floats.sum().round()
    while abs(ints.sum().round() - target) > 1e-6:
        diff = np.round(target - ints.sum().round())
        step = 1 if diff > 0 else -1
        order = np.argsort(floats - ints)
        order = order[::-1] if step == 1 else order
        for i in order[: min(int(abs(diff)), len(floats))]:
            ints[i] += step
    return ints.astype(int)


def calibrated(labels, pred_probs):
    joint, _ = confident_joint(labels, pred_probs)
    k_count = joint.shape[0]
    counts = np.array([np.sum(labels == k) for k in range(k_count)])
    rows = np.array(
        [joint[i] / max(joint[i].sum(), 1e-100) * counts[i] for i in range(k_count)], dtype=float
    )
    # The total is summed column by column, as the reference's column-major matrix is, so that
    # the last bits (and so ties in the rounding below) come out the same.
    rows = rows / max(rows.T.ravel().sum(), 1e-100) * counts.sum()
    return np.array([round_row(r) for r in rows])


def prune_matrix(labels, pred_probs, minimum=1):
    counts = calibrated(labels, pred_probs).T  # [true, given]
    k_count = counts.shape[0]
    out = counts.astype(float)
    for col in range(k_count):
        increase = max(counts[col, col], minimum) - counts[col, col]
        nonzero_others = max(np.count_nonzero(counts[:, col]) - 1.0, 1.0)
        for row in range(k_count):
            out[row, col] = max(counts[row, col] - increase / nonzero_others, 0)
        out[col, col] = max(counts[col, col], minimum)
    return np.array([round_row(r) for r in out.astype(int)])


def given_wins(labels, pred_probs):
    wins = []
    for i, row in enumerate(pred_probs):
        edged = row.copy()
        edged[labels[i]] += 1e-6
        wins.append(int(np.argmax(edged)) == labels[i])
    return np.array(wins)


def flagged(labels, pred_probs, method):
    n, k_count = pred_probs.shape
    mask = np.zeros(n, dtype=bool)
    if method == "confident_learning":
        mask[confident_joint(labels, pred_probs)[1]] = True
    elif method == "predicted_neq_given":
        mask = np.array([int(np.argmax(row)) != labels[i] for i, row in enumerate(pred_probs)])
    else:
        prune = prune_matrix(labels, pred_probs)
        by_rate = np.zeros(n, dtype=bool)
        by_class = np.zeros(n, dtype=bool)
        for k in range(k_count):
            members = np.array([i for i in range(n) if labels[i] == k])
            if len(members) <= 1:
                continue
            probs = pred_probs[members]
            for j in range(k_count):
                if j != k and prune[j, k] > 0:
                    order = np.argsort(-(probs[:, j] - probs[:, k]))
                    by_rate[members[order[: prune[j, k]]]] = True
            drop = len(members) - prune[k, k]
            if drop >= 1:
                by_class[members[np.argsort(probs[:, k])[:drop]]] = True
        mask = {
            "prune_by_noise_rate": by_rate,
            "prune_by_class": by_class,
            "both": by_rate & by_class,
        }[method]
    return mask & ~given_wins(labels, pred_probs)
