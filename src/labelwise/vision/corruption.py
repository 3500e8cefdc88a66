"""Detect corrupted regions of an image by hierarchical contrastive learning.

A corrupted region (a patch of another photo pasted in, a blob of paint, noise, graffiti) is
found without knowing what it looks like: a small convolutional encoder maps every pixel to a
unit vector, trained so that the clean pixels of an image point one way and the corrupted pixels
another. At test time each image's pixel vectors are split in two by spherical soft k-means,
first at the coarsest scale; only the pixels left uncertain there are re-clustered at the finer
scales, and a small classifier on the two cluster centres (taken in the finest features) says
which cluster is the corruption. In training, each finer scale is also taught the pixels the
coarser clustering leaves unresolved, against the coarser scale's locked-in pixels (the
hierarchical interaction between scales). Because the encoder learns *that* two regions differ
rather than what a corruption looks like, it can find corruption patterns it was not trained on
(the idea of Hierarchical Contrastive Learning, ICCV 2023, shrunk to a CPU: 64 x 64 crops,
widths 16/32/64).

Training data are made on the fly from real photographs: scikit-image's bundled photographs and
scikit-learn's two when scikit-image is installed, else scikit-learn's two alone; nothing is
downloaded. Masks use 1 for corrupted pixels.
"""

from __future__ import annotations

import io as _io
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labelwise._optional import require
from labelwise.errors import ConfigError, DataFileError, InputError, ShapeError
from labelwise.io import atomic_write

__all__ = [
    "MODES",
    "PATTERNS",
    "CorruptionDetector",
    "corrupt_images",
    "corruption_iou",
    "load_photos",
    "split_photos",
    "train_detector",
]

#: Side of the square training crops.
CROP = 64
#: The detector variants: the full method, its single-scale ablation, a supervised baseline.
MODES = ("hierarchical", "single_scale", "supervised")
#: Corruption patterns :func:`corrupt_images` makes. ``image`` is the training pattern.
PATTERNS = ("image", "constant", "noise", "graffiti")
#: scikit-image's bundled photographs used when scikit-image is importable (the synthetic
#: images, and those it would have to download, are left out).
SKIMAGE_PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "stereo_motorcycle",
    "text",
)
#: Photographs held out for evaluation when scikit-image's set is available.
SKIMAGE_TEST = ("chelsea", "coins", "gravel")
#: Scales at which photographs are cropped: a 64 x 64 crop then holds a recognisable part.
PHOTO_SCALES = (0.5, 0.3)
#: Width of the held-out right part of each photograph when only scikit-learn's two exist.
SPATIAL_TEST_FRACTION = 0.3


# --- photographs -------------------------------------------------------------------------------


def _as_rgb_float(image: np.ndarray) -> np.ndarray:
    """A uint8 or float photograph as float32 H x W x 3 in [0, 1]."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ShapeError(f"an image must be H x W (grey) or H x W x 3/4, got shape {array.shape}.")
    array = array[:, :, :3]
    if np.issubdtype(array.dtype, np.integer):
        return (array.astype(np.float32) / 255.0).clip(0.0, 1.0)
    return array.astype(np.float32).clip(0.0, 1.0)


def load_photos(source: str = "auto") -> dict[str, np.ndarray]:
    """The bundled photographs the detector is trained and evaluated on, as float RGB arrays.

    Parameters
    ----------
    source : {"auto", "skimage", "sklearn"}
        ``"skimage"``: scikit-image's bundled photographs (:data:`SKIMAGE_PHOTOS`) and
        scikit-learn's two sample images (china, flower). ``"sklearn"``: scikit-learn's two
        only. ``"auto"``: ``"skimage"`` when scikit-image is importable, else ``"sklearn"``.
        Nothing is downloaded.

    Returns
    -------
    dict
        Name -> float32 array H x W x 3 in [0, 1].

    Examples
    --------
    >>> photos = load_photos("sklearn")
    >>> sorted(photos), photos["china"].shape
    (['china', 'flower'], (427, 640, 3))
    """
    if source not in ("auto", "skimage", "sklearn"):
        raise ConfigError(f"source must be 'auto', 'skimage' or 'sklearn', got {source!r}.")
    photos = {}
    if source in ("auto", "skimage"):
        try:
            photos = _skimage_photos()
        except ImportError:
            if source == "skimage":
                raise ConfigError(
                    "source='skimage' needs scikit-image; install it or use source='sklearn'."
                ) from None
    return photos | _sklearn_photos()


def _skimage_photos() -> dict[str, np.ndarray]:
    import skimage.data as skdata

    photos = {}
    for name in SKIMAGE_PHOTOS:
        image = getattr(skdata, name)()
        # The stereo pair comes as (left, right, disparity): its left view is the photograph.
        photos[name] = _as_rgb_float(image[0] if isinstance(image, tuple) else image)
    return photos


def _sklearn_photos() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    names = [Path(name).stem.split(".")[0] for name in bunch.filenames]
    return {name: _as_rgb_float(img) for name, img in zip(names, bunch.images, strict=True)}


def split_photos(
    photos: dict[str, np.ndarray],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split photographs into a training and a held-out evaluation part.

    scikit-image's set holds out whole photographs (:data:`SKIMAGE_TEST`); with scikit-learn's
    two photographs the right :data:`SPATIAL_TEST_FRACTION` of each is held out instead, so no
    evaluation crop shares a pixel with a training crop.

    Examples
    --------
    >>> train, test = split_photos(load_photos("sklearn"))
    >>> len(train), len(test), train[0].shape[1] + test[0].shape[1]
    (2, 2, 640)
    """
    held = [name for name in SKIMAGE_TEST if name in photos]
    if held and len(photos) > len(held):
        train = [img for name, img in photos.items() if name not in held]
        return train, [photos[name] for name in held]
    train, test = [], []
    for img in photos.values():
        cut = int(round(img.shape[1] * (1.0 - SPATIAL_TEST_FRACTION)))
        train.append(img[:, :cut])
        test.append(img[:, cut:])
    return train, test


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float H x W x C image with PIL's bilinear filter (per channel, float mode)."""
    from PIL import Image

    channels = [
        np.asarray(Image.fromarray(image[:, :, c]).resize((width, height), Image.BILINEAR))
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=2).astype(np.float32)


def _pyramid(photos: Sequence[np.ndarray], size: int = CROP) -> list[tuple[int, np.ndarray]]:
    """Each photograph at each of :data:`PHOTO_SCALES` with the photograph's index, keeping
    those that hold a ``size`` x ``size`` crop."""
    out = []
    for owner, img in enumerate(photos):
        for scale in PHOTO_SCALES:
            h, w = int(img.shape[0] * scale), int(img.shape[1] * scale)
            if h >= size and w >= size:
                out.append((owner, _resize(img, h, w)))
    if not out:
        raise InputError(
            f"no photograph is large enough for {size} x {size} crops after scaling by "
            f"{' or '.join(map(str, PHOTO_SCALES))}; pass larger photographs or a smaller size."
        )
    return out


def _crop(
    rng: np.random.Generator,
    pool: Sequence[tuple[int, np.ndarray]],
    size: int,
    avoid: int | None = None,
) -> tuple[np.ndarray, int]:
    """A random crop with a random flip and a mild colour jitter, as float H x W x 3, and the
    index of the photograph it came from.

    ``avoid`` names a photograph not to crop from (when the pool holds another one).
    """
    choices = [k for k, (owner, _) in enumerate(pool) if owner != avoid] or range(len(pool))
    owner, img = pool[choices[rng.integers(len(choices))]]
    top = rng.integers(img.shape[0] - size + 1)
    left = rng.integers(img.shape[1] - size + 1)
    crop = img[top : top + size, left : left + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    gain = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    shift = rng.uniform(-0.08, 0.08, size=3).astype(np.float32)
    return np.clip(crop * gain + shift, 0.0, 1.0), owner


# --- masks and corruptions ---------------------------------------------------------------------


def _stroke_points(rng: np.random.Generator, size: int, n: int, step: float) -> list[tuple]:
    """A random walk of ``n`` points with a slowly turning heading."""
    x, y = rng.uniform(0, size, size=2)
    angle = rng.uniform(0, 2 * math.pi)
    points = [(x, y)]
    for _ in range(n):
        angle += rng.normal(0, 0.6)
        x = float(np.clip(x + step * math.cos(angle), 0, size - 1))
        y = float(np.clip(y + step * math.sin(angle), 0, size - 1))
        points.append((x, y))
    return points


def _draw_strokes(
    rng: np.random.Generator, size: int, n_strokes: int, width: tuple, n_points: tuple, step: float
) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(n_strokes):
        w = int(rng.integers(*width))
        points = _stroke_points(rng, size, int(rng.integers(*n_points)), step)
        draw.line(points, fill=255, width=w)
        for px, py in points:  # round joints: no notches where the stroke turns
            draw.ellipse([px - w / 2, py - w / 2, px + w / 2, py + w / 2], fill=255)
    return np.asarray(canvas) > 127


def _training_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """Brush strokes plus rectangles covering 8-45% of the crop (the training pattern)."""
    from PIL import Image, ImageDraw

    for _ in range(20):
        mask = _draw_strokes(rng, size, int(rng.integers(1, 4)), (5, 11), (3, 8), size / 6)
        canvas = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(0, 3))):
            h, w = rng.integers(size // 8, size // 2, size=2)
            top, left = rng.integers(0, size - h), rng.integers(0, size - w)
            draw.rectangle([left, top, left + w, top + h], fill=255)
        mask = mask | (np.asarray(canvas) > 127)
        if 0.08 <= mask.mean() <= 0.45:
            return mask
    return mask


def _graffiti_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """Many thin, long, curly strokes: a shape the training masks never have."""
    return _draw_strokes(rng, size, int(rng.integers(3, 7)), (2, 4), (8, 16), size / 10)


def _blur(mask: np.ndarray) -> np.ndarray:
    """Soften a mask's edge by one pixel so that the paste has no perfectly sharp border."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(mask.astype(np.float32), sigma=0.7)


def corrupt_images(
    n: int,
    pattern: str = "image",
    photos: Sequence[np.ndarray] | None = None,
    random_state: int | np.random.Generator | None = None,
    size: int = CROP,
    fill_from: str = "other",
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``n`` corrupted crops of real photographs with their ground-truth masks.

    Each crop is ``(1 - m) * x + m * fill`` with ``m`` a slightly blurred irregular mask.

    Parameters
    ----------
    n : int
        Number of images.
    pattern : {"image", "constant", "noise", "graffiti"}
        ``image``: brush strokes and rectangles filled with another photograph's content (the
        training pattern); ``constant``: the same masks filled with one random colour;
        ``noise``: filled with uniform noise; ``graffiti``: thin curly strokes of one colour.
    photos : sequence of float H x W x 3 arrays, optional
        Photographs to crop from (default: the training part of :func:`load_photos`).
    random_state : int or numpy Generator, optional
    size : int
        Side of the square crops.
    fill_from : {"other", "any"}
        Where the ``image`` pattern's patches come from: ``"other"``, another photograph than
        the crop's own (when there is one), so that no corruption is invisible by construction
        (gravel pasted onto the same gravel); ``"any"``, any crop of any photograph, the crop's
        own included. Evaluation uses ``"other"``. Training uses ``"any"``: its hard cases (a
        shifted piece of the same texture with another colour cast) gave detectors that scored
        higher on the training pattern than training on other photographs' patches only.

    Returns
    -------
    images : ndarray (n, 3, size, size) float32 in [0, 1]
    masks : ndarray (n, size, size) bool, True where corrupted

    Examples
    --------
    >>> images, masks = corrupt_images(2, "noise", random_state=0)
    >>> images.shape, masks.shape, masks.dtype
    ((2, 3, 64, 64), (2, 64, 64), dtype('bool'))
    """
    if pattern not in PATTERNS:
        raise ConfigError(f"pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}.")
    if fill_from not in ("other", "any"):
        raise ConfigError(f"fill_from must be 'other' or 'any', got {fill_from!r}.")
    if photos is None:
        photos = split_photos(load_photos())[0]
    rng = np.random.default_rng(random_state)
    return _corrupt(rng, _pyramid(photos, size), n, pattern, size, fill_from == "other")


def _corrupt(
    rng: np.random.Generator,
    pool: Sequence[tuple[int, np.ndarray]],
    n: int,
    pattern: str,
    size: int,
    other_photo: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`corrupt_images` on photographs already at their crop scales."""
    images = np.empty((n, 3, size, size), dtype=np.float32)
    masks = np.empty((n, size, size), dtype=bool)
    for i in range(n):
        clean, owner = _crop(rng, pool, size)
        if pattern == "graffiti":
            mask = _graffiti_mask(rng, size)
        else:
            mask = _training_mask(rng, size)
        if pattern == "image":
            fill, _ = _crop(rng, pool, size, avoid=owner if other_photo else None)
        elif pattern == "noise":
            fill = rng.random((size, size, 3), dtype=np.float32)
        else:
            fill = np.broadcast_to(rng.random(3, dtype=np.float32), (size, size, 3))
        soft = _blur(mask)[:, :, None]
        images[i] = ((1.0 - soft) * clean + soft * fill).transpose(2, 0, 1)
        masks[i] = mask
    return images, masks


def corruption_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of the corrupted class, pooled over all pixels of all images.

    Examples
    --------
    >>> corruption_iou(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]]))
    0.5
    """
    pred = np.asarray(pred).astype(bool)
    truth = np.asarray(truth).astype(bool)
    if pred.shape != truth.shape:
        raise ShapeError(f"pred has shape {pred.shape} but truth has shape {truth.shape}.")
    union = np.logical_or(pred, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, truth).sum() / union)


# --- the network -------------------------------------------------------------------------------


def _torch():
    return require("torch", "the corruption detector")


def _build_network(mode: str, widths: tuple[int, int, int], dim: int):
    """The encoder, the per-scale projection heads and the head each mode needs."""
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    def block(c_in: int, c_out: int, stride: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
            nn.BatchNorm2d(c_out),
            nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1),
            nn.BatchNorm2d(c_out),
            nn.GELU(),
        )

    class Network(nn.Module):
        """Three stages at 1, 1/2 and 1/4 resolution; heads fed their stage and the next."""

        def __init__(self) -> None:
            super().__init__()
            w1, w2, w3 = widths
            self.stages = nn.ModuleList([block(3, w1, 1), block(w1, w2, 2), block(w2, w3, 2)])
            # Each head also sees the next coarser stage: context from the coarse scale.
            inputs = (w1 + w2, w2 + w3, w3)
            self.heads = nn.ModuleList(
                nn.Sequential(nn.Conv2d(c, 2 * dim, 1), nn.GELU(), nn.Conv2d(2 * dim, dim, 1))
                for c in inputs
            )
            # Cluster classifier: (centre a, centre b, area a) -> logit "a is the corruption".
            self.classifier = nn.Sequential(nn.Linear(2 * dim + 1, 32), nn.GELU(), nn.Linear(32, 1))
            # The supervised baseline's per-pixel classifier reads all three heads, so it uses
            # the whole encoder as the clustering does (a head on the finest scale alone never
            # trains the coarsest stage).
            self.segment = nn.Conv2d(3 * dim, 1, 1) if mode == "supervised" else None

        def segment_logits(self, zs: Sequence[Any]) -> Any:
            """Per-pixel logits of the supervised baseline at full resolution (n x H x W)."""
            size = zs[0].shape[-2:]
            up = [F.interpolate(z, size=size, mode="bilinear", align_corners=False) for z in zs]
            return self.segment(torch.cat(up, dim=1))[:, 0]

        def forward(self, x: Any) -> list[Any]:
            feats = []
            for stage in self.stages:
                x = stage(x)
                feats.append(x)
            out = []
            for k, head in enumerate(self.heads):
                f = feats[k]
                if k + 1 < len(feats):
                    up = F.interpolate(feats[k + 1], size=f.shape[-2:], mode="nearest")
                    f = torch.cat([f, up], dim=1)
                z = head(f)
                out.append(z if mode == "supervised" else F.normalize(z, dim=1))
            return out  # finest first

        def cluster_logit(self, a: Any, b: Any, area_a: Any) -> Any:
            # Antisymmetric in the two clusters, so the answer does not depend on their order.
            fa = self.classifier(torch.cat([a, b, area_a[:, None]], dim=1))
            fb = self.classifier(torch.cat([b, a, 1.0 - area_a[:, None]], dim=1))
            return (fa - fb).squeeze(1)

    return Network()


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


# --- the estimator -----------------------------------------------------------------------------


class CorruptionDetector:
    """Find the corrupted pixels of images without knowing the corruption's pattern.

    Parameters
    ----------
    mode : {"hierarchical", "single_scale", "supervised"}
        ``hierarchical``: contrastive loss at three scales plus a cross-scale term on the
        pixels the coarser clustering leaves unresolved, clustering at the coarsest scale and
        refinement of the uncertain pixels at the finer ones (the method). ``single_scale``:
        contrastive loss and clustering at full resolution only (the ablation). ``supervised``:
        the same network with a per-pixel classifier on all three heads' outputs, trained by
        class-balanced cross-entropy (the baseline).
    n_steps : int
        Training steps; each draws a fresh batch of corrupted crops.
    batch_size : int
    learning_rate : float
        AdamW learning rate (cosine-decayed to zero).
    widths : tuple of three ints
        Channels of the three encoder stages.
    dim : int
        Size of the projected pixel vectors.
    temperature : float
        Temperature of the contrastive loss and of the soft k-means (0.1 in the paper).
    kmeans_iters : int
        Soft k-means iterations per scale.
    lock_fraction : float
        Fraction of each cluster's most confident pixels locked in at a coarse scale.
    n_samples : int
        Pixels sampled per image and scale for the contrastive loss.
    photos : sequence of float H x W x 3 arrays, optional
        Photographs to train on (default: the training part of :func:`load_photos`).
    random_state : int
        Seed of the data stream and of the network's initialisation.
    n_threads : int or None
        Torch threads during training and prediction (None leaves torch's setting).

    Attributes
    ----------
    network_ : torch.nn.Module
    history_ : list of float
        Training loss every 50 steps.
    fit_seconds_ : float

    Examples
    --------
    >>> det = CorruptionDetector(n_steps=2, batch_size=2).fit()  # doctest: +SKIP
    >>> images, truth = corrupt_images(4, "image", random_state=1)
    >>> det.predict(images).shape  # doctest: +SKIP
    (4, 64, 64)
    """

    def __init__(
        self,
        mode: str = "hierarchical",
        n_steps: int = 2000,
        batch_size: int = 8,
        learning_rate: float = 3e-3,
        widths: tuple[int, int, int] = (16, 32, 64),
        dim: int = 16,
        temperature: float = 0.1,
        kmeans_iters: int = 3,
        lock_fraction: float = 0.95,
        n_samples: int = 128,
        photos: Sequence[np.ndarray] | None = None,
        random_state: int = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.mode = mode
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.widths = widths
        self.dim = dim
        self.temperature = temperature
        self.kmeans_iters = kmeans_iters
        self.lock_fraction = lock_fraction
        self.n_samples = n_samples
        self.photos = photos
        self.random_state = random_state
        self.n_threads = n_threads

    # -- fitting --

    def _validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}.")
        for name in ("n_steps", "batch_size", "dim", "n_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        if len(tuple(self.widths)) != 3:
            raise ConfigError(f"widths must hold three channel counts, got {self.widths!r}.")
        if not 0.0 < self.lock_fraction <= 1.0:
            raise ConfigError(f"lock_fraction must be in (0, 1], got {self.lock_fraction!r}.")
        if not self.temperature > 0:
            raise ConfigError(f"temperature must be positive, got {self.temperature!r}.")

    def fit(
        self, progress: Callable[[int, int], None] | None = None, X: Any = None
    ) -> CorruptionDetector:
        """Train on corrupted crops generated on the fly (the ``image`` pattern).

        ``progress(done, total)`` is called every 25 steps. ``X`` is ignored (the data are
        generated); it is accepted for scikit-learn's calling convention.
        """
        self._validate()
        torch = _torch()
        F = torch.nn.functional
        photos = self.photos if self.photos is not None else split_photos(load_photos())[0]
        pool = _pyramid(photos)
        rng = np.random.default_rng(self.random_state)
        with _threads(self.n_threads):
            torch.manual_seed(self.random_state)
            gen = torch.Generator().manual_seed(self.random_state)
            net = _build_network(self.mode, tuple(self.widths), self.dim)
            opt = torch.optim.AdamW(net.parameters(), lr=self.learning_rate, weight_decay=1e-4)
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=self.learning_rate, total_steps=self.n_steps, pct_start=0.1
            )
            self.history_ = []
            start, running = time.perf_counter(), []
            net.train()
            for step in range(self.n_steps):
                images, masks = _corrupt(rng, pool, self.batch_size, "image", CROP, False)
                x, truth = torch.from_numpy(images), torch.from_numpy(masks)
                zs = net(x)
                if self.mode == "supervised":
                    logits = net.segment_logits(zs)
                    # Weigh the classes equally: corrupted pixels are the minority.
                    target = truth.float()
                    balance = (1.0 - target).sum() / target.sum().clamp(min=1.0)
                    loss = F.binary_cross_entropy_with_logits(logits, target, pos_weight=balance)
                else:
                    scales = zs if self.mode == "hierarchical" else zs[:1]
                    loss = sum(
                        _contrastive_loss(z, truth, self.temperature, self.n_samples, gen)
                        for z in scales
                    )
                    clusterings = self._clusterings(zs)
                    if self.mode == "hierarchical":
                        loss = loss + _hierarchy_loss(
                            zs, truth, clusterings, self.temperature, self.n_samples, gen
                        )
                    loss = loss + self._classifier_loss(net, zs, truth, clusterings)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                running.append(loss.item())
                if (step + 1) % 50 == 0 or step + 1 == self.n_steps:
                    self.history_.append(float(np.mean(running)))
                    running = []
                if progress is not None and ((step + 1) % 25 == 0 or step + 1 == self.n_steps):
                    progress(step + 1, self.n_steps)
            net.eval()
        self.network_ = net
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _clusterings(self, zs: Sequence[Any]) -> list[_Clustering]:
        """Each image's clustering, exactly as at prediction time (no gradient)."""
        torch = _torch()
        with torch.no_grad():
            return [
                _cluster_image(
                    [z[i].detach() for z in zs],
                    self.temperature,
                    self.kmeans_iters,
                    self.lock_fraction,
                    self.mode == "hierarchical",
                )
                for i in range(zs[0].shape[0])
            ]

    def _classifier_inputs(self, result: _Clustering, finest: Any) -> tuple[Any, Any]:
        """The two centres and cluster 0's area the cluster classifier reads for one image.

        Hierarchical: the refined clusters' centres in the finest features ``finest``
        (D x H x W). Single-scale: the centres and area of its only clustering.
        """
        if self.mode == "hierarchical":
            return _fine_centres(finest.detach(), result.labels)
        return result.centres, result.area

    def _classifier_loss(
        self, net: Any, zs: Sequence[Any], truth: Any, clusterings: Sequence[_Clustering]
    ) -> Any:
        """Teach the classifier which cluster is the corruption, on detached cluster centres of
        the clusterings it will see at prediction time."""
        torch = _torch()
        a, b, area, target = [], [], [], []
        for i, result in enumerate(clusterings):
            centres, area0 = self._classifier_inputs(result, zs[0][i])
            labels = result.labels.flatten()
            corr = truth[i].float().flatten()
            share = [corr[labels == k].mean() if bool((labels == k).any()) else 0.0 for k in (0, 1)]
            a.append(centres[0])
            b.append(centres[1])
            area.append(area0)
            target.append(torch.tensor(float(share[0] > share[1])))
        logit = net.cluster_logit(torch.stack(a), torch.stack(b), torch.stack(area))
        return torch.nn.functional.binary_cross_entropy_with_logits(logit, torch.stack(target))

    # -- prediction --

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise ConfigError("this CorruptionDetector is not fitted yet; call fit() or load().")

    def predict_scores(self, images: Any) -> np.ndarray:
        """Per-pixel score of being corrupted in [0, 1], shape (n, H, W).

        For the contrastive modes the score is the classifier's probability that the pixel's
        cluster is the corruption (so it is constant within a cluster).
        """
        self._check_fitted()
        torch = _torch()
        x = _images_tensor(images)
        with _threads(self.n_threads), torch.no_grad():
            zs = self.network_(x)
            if self.mode == "supervised":
                return torch.sigmoid(self.network_.segment_logits(zs)).numpy()
            out = np.empty((x.shape[0], x.shape[2], x.shape[3]), dtype=np.float32)
            for i, result in enumerate(self._clusterings(zs)):
                centres, area0 = self._classifier_inputs(result, zs[0][i])
                logit = self.network_.cluster_logit(centres[0:1], centres[1:2], area0[None])
                p0 = float(torch.sigmoid(logit)[0])  # probability that cluster 0 is corrupted
                out[i] = np.where(result.labels.numpy() == 0, p0, 1.0 - p0)
            return out

    def predict(self, images: Any) -> np.ndarray:
        """Boolean masks (n, H, W), True where a pixel is predicted corrupted.

        ``images`` is an array (n, 3, H, W) or (n, H, W, 3) of floats in [0, 1] (uint8 is
        scaled), with H and W multiples of 4 and at least 16.
        """
        return self.predict_scores(images) > 0.5

    def score(self, images: Any, masks: Any) -> float:
        """IoU of the corrupted class between the predicted and the true masks."""
        return corruption_iou(self.predict(images), masks)

    # -- persistence --

    def save(self, path: str | os.PathLike) -> Path:
        """Write the parameters and trained weights to ``path`` (atomically)."""
        self._check_fitted()
        torch = _torch()
        params = {k: v for k, v in self.__dict__.items() if not k.endswith("_") and k != "photos"}
        payload = {"params": params, "state": self.network_.state_dict()}
        buffer = _io.BytesIO()
        torch.save(payload, buffer)
        with atomic_write(path, "wb") as handle:
            handle.write(buffer.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> CorruptionDetector:
        """Read a detector written by :meth:`save`."""
        torch = _torch()
        try:
            payload = torch.load(Path(path), map_location="cpu", weights_only=True)
            det = cls(**payload["params"])
            det.network_ = _build_network(det.mode, tuple(det.widths), det.dim)
            det.network_.load_state_dict(payload["state"])
        except (OSError, RuntimeError, KeyError, TypeError, EOFError) as exc:
            raise DataFileError(
                f"could not load a corruption detector from {str(path)!r}: {exc}. "
                "Delete the file to retrain, or pass another --model."
            ) from exc
        det.network_.eval()
        return det


def _images_tensor(images: Any):
    torch = _torch()
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ShapeError(f"images must be (n, 3, H, W) or (n, H, W, 3), got shape {array.shape}.")
    if array.shape[1] != 3 and array.shape[3] == 3:
        array = array.transpose(0, 3, 1, 2)
    if array.shape[1] != 3:
        raise ShapeError(f"images must have 3 colour channels, got shape {array.shape}.")
    h, w = array.shape[2:]
    if h % 4 or w % 4 or h < 16 or w < 16:
        raise ShapeError(
            f"image sides must be multiples of 4 and at least 16, got {h} x {w}; "
            "resize the images first (the command line does this for you)."
        )
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


class _threads:
    """Set torch's thread count for a block and restore it afterwards."""

    def __init__(self, n: int | None) -> None:
        self.n = n

    def __enter__(self) -> None:
        torch = _torch()
        self.before = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        _torch().set_num_threads(self.before)


def train_detector(
    mode: str = "hierarchical",
    n_steps: int = 2000,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
    **params: Any,
) -> CorruptionDetector:
    """Train a :class:`CorruptionDetector` on the bundled photographs and return it.

    Examples
    --------
    >>> det = train_detector(n_steps=1, batch_size=2)  # doctest: +SKIP
    """
    det = CorruptionDetector(mode=mode, n_steps=n_steps, random_state=random_state, **params)
    return det.fit(progress=progress)
