"""The detector's network, and what it needs around it: torch itself, its thread count, and
images as tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labelwise._optional import require
from labelwise.errors import ShapeError


def _torch():
    """PyTorch, imported on first use: the rest of the package works without it."""
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


def _images_tensor(images: Any):
    """Images (n, 3, H, W) or (n, H, W, 3), or one image, as a float32 tensor (n, 3, H, W)."""
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
