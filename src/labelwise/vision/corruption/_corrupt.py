"""Corrupted crops with their ground-truth masks, and the IoU that scores a predicted mask.

Masks use 1 (True) for corrupted pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from labelwise._params import Options, check_params
from labelwise.errors import ShapeError
from labelwise.vision.corruption._photos import (
    CROP,
    _crop,
    _pyramid,
    load_photos,
    split_photos,
)

__all__ = ["PATTERNS", "corrupt_images", "corruption_iou"]

#: Corruption patterns :func:`corrupt_images` makes. ``image`` is the training pattern.
PATTERNS = ("image", "constant", "noise", "graffiti")

_CORRUPT_PARAMS = {"pattern": [Options(PATTERNS)], "fill_from": [Options(("other", "any"))]}


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
    check_params(_CORRUPT_PARAMS, {"pattern": pattern, "fill_from": fill_from})
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
