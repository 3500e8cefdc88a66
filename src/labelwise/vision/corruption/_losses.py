"""The training losses: contrastive per scale, and the cross-scale term of the hierarchy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelwise.vision.corruption._clustering import _Clustering, _Stage
from labelwise.vision.corruption._network import _torch


def _circle_loss(sim: Any, same: Any, exclude: Any) -> Any:
    """Circle-style loss per anchor row of ``sim`` (similarities already divided by t).

    ``L = log(1 + sum_neg exp(s_n / t) * sum_pos exp(-s_p / t))``, written with log-sum-exps;
    ``same`` marks positives, ``exclude`` the pairs that count as neither (an anchor and itself).
    """
    torch = _torch()
    neg_inf = torch.finfo(sim.dtype).min
    lse_neg = torch.logsumexp(sim.masked_fill(same | exclude, neg_inf), dim=-1)
    lse_pos = torch.logsumexp((-sim).masked_fill(~same | exclude, neg_inf), dim=-1)
    return torch.nn.functional.softplus(lse_neg + lse_pos).mean()


def _purity(truth: Any, size: int) -> Any:
    """Corrupted fraction of each cell when the masks (n x H x W) are pooled to ``size``."""
    torch = _torch()
    scale = truth.shape[-1] // size
    if scale == 1:
        return truth.float()
    return torch.nn.functional.avg_pool2d(truth[:, None].float(), scale)[:, 0]


def _contrastive_loss(z: Any, truth: Any, temperature: float, n_samples: int, gen: Any) -> Any:
    """Contrastive loss per image on pixels from pure patches of the mask.

    Positives of an anchor share its label and negatives do not (see :func:`_circle_loss`).
    """
    torch = _torch()
    frac = _purity(truth, z.shape[-1]).flatten(1)
    clean, corrupt = frac == 0.0, frac == 1.0
    n_clean, n_corrupt = clean.sum(1, keepdim=True), corrupt.sum(1, keepdim=True)
    usable = (n_clean > 1).squeeze(1) & (n_corrupt > 1).squeeze(1)
    if not bool(usable.any()):
        return z.sum() * 0.0
    # Balanced sampling: half the anchors from each side, whatever the corrupted area.
    weights = clean / n_clean.clamp(min=1) + corrupt / n_corrupt.clamp(min=1)
    weights = weights[usable]
    idx = torch.multinomial(weights, n_samples, replacement=True, generator=gen)
    feats = z[usable].flatten(2).transpose(1, 2)  # B x HW x D
    feats = torch.gather(feats, 1, idx[:, :, None].expand(-1, -1, feats.shape[2]))
    labels = torch.gather(corrupt[usable], 1, idx)
    sim = torch.bmm(feats, feats.transpose(1, 2)) / temperature
    same = labels[:, :, None] == labels[:, None, :]
    eye = torch.eye(n_samples, dtype=torch.bool, device=z.device)[None]
    return _circle_loss(sim, same, eye)


def _balanced_draw(labels: Any, pool: Any, weights: Any, n: int, gen: Any) -> Any:
    """Indices of ``n`` draws (with replacement) from ``pool``, half per label where both exist."""
    torch = _torch()
    sides = [pool & (labels == k) for k in (0, 1)]
    present = [side for side in sides if bool(side.any())]
    picks = []
    for j, side in enumerate(present):
        count = n // len(present) + (j < n % len(present))
        picks.append(torch.multinomial(weights * side, count, replacement=True, generator=gen))
    return torch.cat(picks)


def _hierarchy_loss(
    zs: Sequence[Any],
    truth: Any,
    clusterings: Sequence[_Clustering],
    temperature: float,
    n_samples: int,
    gen: Any,
) -> Any:
    """The cross-scale term of the hierarchical loss: each finer scale learns the pixels the
    coarser clustering left unresolved, against detached reference vectors of the pixels the
    coarser scale locked in.

    The references carry the coarser clustering's labels (oriented by the ground truth), drawn
    preferably next to the unresolved region, where they are hardest; so the finer features of an
    uncertain pixel are pulled to the coarser features of its own side. This is what keeps the
    re-clustering of the uncertain pixels consistent with the locked ones (HCL's hierarchical
    interaction between scales).
    """
    torch = _torch()
    fracs = [_purity(truth, z.shape[-1]) for z in zs]  # once per scale, not per stage and image
    anchors, refs, anchor_labels, ref_labels = [], [], [], []
    for i, result in enumerate(clusterings):
        for stage in result.stages:
            coarser_frac, frac = fracs[stage.scale + 1][i], fracs[stage.scale][i]
            drawn = _stage_draws(stage, coarser_frac, frac, n_samples, gen)
            if drawn is None:
                continue
            a_idx, a_lab, r_idx, r_lab = drawn
            anchors.append(zs[stage.scale][i].flatten(1).T[a_idx])
            refs.append(zs[stage.scale + 1][i].detach().flatten(1).T[r_idx])
            anchor_labels.append(a_lab)
            ref_labels.append(r_lab)
    if not anchors:
        return zs[0].sum() * 0.0
    a, r = torch.stack(anchors), torch.stack(refs)  # K x n x D
    la, lr = torch.stack(anchor_labels), torch.stack(ref_labels)
    sim = torch.cat([a @ a.transpose(1, 2), a @ r.transpose(1, 2)], dim=2) / temperature
    same = torch.cat([la[:, :, None] == la[:, None, :], la[:, :, None] == lr[:, None, :]], dim=2)
    exclude = torch.zeros_like(same)
    exclude[:, :, :n_samples] = torch.eye(n_samples, dtype=torch.bool, device=a.device)
    return _circle_loss(sim, same, exclude)


def _stage_draws(
    stage: _Stage, coarser_frac: Any, frac: Any, n_samples: int, gen: Any
) -> tuple[Any, Any, Any, Any] | None:
    """Anchor and reference pixels of one refinement step of one training image, or None.

    Anchors: pixels of pure patches inside the region the step re-clusters, labelled by the
    ground truth. References: locked pixels of the coarser scale, labelled by the coarser
    clustering, oriented so that 1 is the cluster holding more of the corruption.
    ``coarser_frac`` and ``frac`` are the image's corrupted fractions (:func:`_purity`) at the
    coarser and the finer scale.
    """
    torch = _torch()
    F = torch.nn.functional
    locked = ~stage.coarser_unresolved.flatten()
    coarser = stage.coarser_labels.flatten()
    coarser_frac, frac = coarser_frac.flatten(), frac.flatten()
    if not bool((coarser == 0).any()) or not bool((coarser == 1).any()):
        return None
    corrupt_cluster = int(coarser_frac[coarser == 1].mean() > coarser_frac[coarser == 0].mean())
    r_all = (coarser == corrupt_cluster).long()
    pool = stage.unresolved.flatten() & ((frac == 0.0) | (frac == 1.0))
    if not bool(pool.any()) or not (
        bool((locked & (r_all == 0)).any()) and bool((locked & (r_all == 1)).any())
    ):
        return None
    near = F.max_pool2d(stage.coarser_unresolved[None, None].float(), 3, 1, 1).flatten()
    r_weights = locked.float() * (1.0 + 3.0 * near)
    a_all = (frac == 1.0).long()
    a_idx = _balanced_draw(a_all, pool, torch.ones_like(frac), n_samples, gen)
    r_idx = _balanced_draw(r_all, locked, r_weights, n_samples, gen)
    return a_idx, a_all[a_idx], r_idx, r_all[r_idx]
