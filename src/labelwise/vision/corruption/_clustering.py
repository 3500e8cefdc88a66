"""Clustering of one image's pixel vectors in two, coarse to fine.

Spherical soft k-means splits the coarsest scale; the pixels it leaves uncertain are handed on
and re-clustered at each finer scale, around the pixels already locked in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labelwise.vision.corruption._network import _torch


def _soft_kmeans(
    feats: Any, centres: Any, temperature: float, iters: int, fixed: Any = None
) -> tuple[Any, Any]:
    """Spherical soft k-means with two clusters on unit vectors ``feats`` (N x D).

    ``fixed`` (2 x D, unnormalized sums) are locked-in members that stay in their cluster.
    Returns the responsibilities (N x 2) and the centres (2 x D).
    """
    torch = _torch()
    resp = torch.softmax(feats @ centres.T / temperature, dim=1)
    for _ in range(iters):
        sums = resp.T @ feats
        if fixed is not None:
            sums = sums + fixed
        centres = torch.nn.functional.normalize(sums, dim=1)
        resp = torch.softmax(feats @ centres.T / temperature, dim=1)
    return resp, centres


def _initial_centres(feats: Any) -> Any:
    """Split by the sign along the first principal direction: a deterministic, robust start."""
    torch = _torch()
    centred = feats - feats.mean(0, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    side = centred @ vh[0] >= 0
    if bool(side.all()) or not bool(side.any()):
        return torch.nn.functional.normalize(torch.stack([feats[0], -feats[0]]), dim=1)
    centres = torch.stack([feats[side].mean(0), feats[~side].mean(0)])
    return torch.nn.functional.normalize(centres, dim=1)


def _boundary(labels: Any) -> Any:
    """Pixels with a 4-neighbour of the other label (H x W bool)."""
    torch = _torch()
    lab = labels.float()[None, None]
    padded = torch.nn.functional.pad(lab, (1, 1, 1, 1), mode="replicate")
    hi = torch.nn.functional.max_pool2d(padded, 3, stride=1)
    lo = -torch.nn.functional.max_pool2d(-padded, 3, stride=1)
    return (hi != lo)[0, 0]


def _uncertain(labels: Any, confidence: Any, lock_fraction: float) -> Any:
    """The pixels not locked in: the least confident ``1 - lock_fraction`` of each cluster,
    and the cluster boundary, where a coarse pixel straddles both regions."""
    torch = _torch()
    out = _boundary(labels)
    for k in (0, 1):
        member = labels == k
        if int(member.sum()) > 1:
            cut = torch.quantile(confidence[member], 1.0 - lock_fraction)
            out = out | (member & (confidence < cut))
    return out


@dataclass
class _Stage:
    """One refinement step: what the coarser scale handed to the finer one."""

    scale: int  # index of the finer scale in ``zs`` (finest first)
    coarser_labels: Any  # h' x w' long, cluster index per pixel at the coarser scale
    coarser_unresolved: Any  # h' x w' bool, the pixels not locked in at the coarser scale
    unresolved: Any  # h x w bool, the pixels re-clustered at the finer scale


@dataclass
class _Clustering:
    labels: Any  # H x W long, cluster index per pixel at full resolution
    centres: Any  # 2 x D at the first clustered scale (the single-scale classifier reads them)
    area: Any  # fraction of pixels in cluster 0 at that scale
    stages: list = field(default_factory=list)  # the refinement steps, coarse to fine


def _fine_centres(z: Any, labels: Any) -> tuple[Any, Any]:
    """Unit centres of the two clusters in the finest features z (D x H x W) and cluster 0's area.

    ``labels`` (h x w) are upsampled to the finest resolution first.
    """
    torch = _torch()
    F = torch.nn.functional
    d, h, w = z.shape
    if labels.shape != (h, w):
        labels = F.interpolate(labels[None, None].float(), size=(h, w), mode="nearest")[0, 0]
    labels = labels.long().flatten()
    onehot = F.one_hot(labels, 2).float()
    centres = F.normalize(onehot.T @ z.reshape(d, -1).T, dim=1)
    return centres, (labels == 0).float().mean()


def _cluster_image(
    zs: Sequence[Any], temperature: float, iters: int, lock_fraction: float, hierarchical: bool
) -> _Clustering:
    """Cluster one image's pixel vectors; ``zs`` are D x H x W per scale, finest first."""
    torch = _torch()
    F = torch.nn.functional
    coarse = zs[-1] if hierarchical else zs[0]
    d, h, w = coarse.shape
    feats = coarse.reshape(d, -1).T
    resp, centres = _soft_kmeans(feats, _initial_centres(feats), temperature, iters)
    confidence, labels = resp.max(1)
    labels, confidence = labels.reshape(h, w), confidence.reshape(h, w)
    result = _Clustering(labels, centres, (labels == 0).float().mean())
    if not hierarchical:
        return result
    unresolved = _uncertain(labels, confidence, lock_fraction)
    for k, z in enumerate(reversed(zs[:-1])):
        d, h, w = z.shape
        coarser_labels, coarser_unresolved = labels, unresolved
        labels = F.interpolate(labels[None, None].float(), size=(h, w), mode="nearest")[0, 0]
        labels = labels.long()
        unresolved = F.interpolate(unresolved[None, None].float(), size=(h, w), mode="nearest")
        unresolved = unresolved[0, 0].bool()
        stage = _Stage(len(zs) - 2 - k, coarser_labels, coarser_unresolved, unresolved)
        result.stages.append(stage)
        feats = z.reshape(d, -1).T
        flat_lab, flat_unres = labels.flatten(), unresolved.flatten()
        locked = ~flat_unres
        # Keep the cluster orientation: the centres start from the locked pixels at this scale.
        onehot = F.one_hot(flat_lab[locked], 2).float()
        fixed = onehot.T @ feats[locked]
        if bool((onehot.sum(0) == 0).any()) or not bool(flat_unres.any()):
            continue
        start = F.normalize(fixed, dim=1)
        resp, _ = _soft_kmeans(feats[flat_unres], start, temperature, iters, fixed=fixed)
        conf, new = resp.max(1)
        flat_lab = flat_lab.clone()
        flat_lab[flat_unres] = new
        labels = flat_lab.reshape(h, w)
        if k < len(zs) - 2:  # not yet the finest scale: pass on what is still uncertain
            confidence = torch.ones(h * w)
            confidence[flat_unres] = conf
            unresolved = _uncertain(labels, confidence.reshape(h, w), lock_fraction)
            unresolved = unresolved & flat_unres.reshape(h, w) | _boundary(labels)
    result.labels = labels
    return result
