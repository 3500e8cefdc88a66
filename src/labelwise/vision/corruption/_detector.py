"""The corruption detector: an estimator that trains the network on generated crops and
predicts masks from its pixel clusters."""

from __future__ import annotations

import io as _io
import os
import time
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from labelwise._params import Interval, Options, check_params
from labelwise.errors import ConfigError, DataFileError
from labelwise.io import atomic_write
from labelwise.vision.corruption._clustering import _cluster_image, _Clustering, _fine_centres
from labelwise.vision.corruption._corrupt import _corrupt, corruption_iou
from labelwise.vision.corruption._losses import _contrastive_loss, _hierarchy_loss
from labelwise.vision.corruption._network import _build_network, _images_tensor, _threads, _torch
from labelwise.vision.corruption._photos import CROP, _pyramid, default_training_photos

__all__ = ["MODES", "CorruptionDetector", "train_detector"]

#: The detector variants: the full method, its single-scale ablation, a supervised baseline.
MODES = ("hierarchical", "single_scale", "supervised")


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
        Photographs to train on (default: the training part of :func:`load_photos`; pass
        ``list(load_photos(folder).values())`` for your own); ``training_photos_`` says which.
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
    training_photos_ : str
        The photographs trained on, in words ("17 bundled photographs").

    Examples
    --------
    >>> from labelwise.vision.corruption import CorruptionDetector, corrupt_images
    >>> det = CorruptionDetector(n_steps=2, batch_size=2).fit()  # doctest: +SKIP
    >>> images, truth = corrupt_images(4, "image", random_state=1)
    >>> det.predict(images).shape  # doctest: +SKIP
    (4, 64, 64)
    """

    _parameter_constraints = {
        "mode": [Options(MODES)],
        "n_steps": [Interval(Integral, 1, None)],
        "batch_size": [Interval(Integral, 1, None)],
        "dim": [Interval(Integral, 1, None)],
        "n_samples": [Interval(Integral, 1, None)],
        "lock_fraction": [Interval(Real, 0, 1, closed="right")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

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
        check_params(self._parameter_constraints, vars(self))
        if len(tuple(self.widths)) != 3:
            raise ConfigError(f"widths must hold three channel counts, got {self.widths!r}.")

    def fit(
        self, progress: Callable[[int, int], None] | None = None, X: Any = None
    ) -> CorruptionDetector:
        """Train on corrupted crops generated on the fly (the ``image`` pattern).

        ``progress(done, total)`` is called every 25 steps. ``X`` is ignored (the data are
        generated); it is accepted for scikit-learn's calling convention.
        """
        self._validate()
        torch = _torch()
        if self.photos is None:
            photos, self.training_photos_ = default_training_photos()
        else:
            photos, self.training_photos_ = self.photos, f"{len(self.photos)} given photographs"
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
                loss = self._loss(net, torch.from_numpy(images), torch.from_numpy(masks), gen)
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

    def _loss(self, net: Any, x: Any, truth: Any, gen: Any) -> Any:
        """The training loss of one batch of images ``x`` with their true masks."""
        zs = net(x)
        if self.mode == "supervised":
            logits = net.segment_logits(zs)
            # Weigh the classes equally: corrupted pixels are the minority.
            target = truth.float()
            balance = (1.0 - target).sum() / target.sum().clamp(min=1.0)
            bce = _torch().nn.functional.binary_cross_entropy_with_logits
            return bce(logits, target, pos_weight=balance)
        scales = zs if self.mode == "hierarchical" else zs[:1]
        loss = sum(
            _contrastive_loss(z, truth, self.temperature, self.n_samples, gen) for z in scales
        )
        clusterings = self._clusterings(zs)
        if self.mode == "hierarchical":
            loss = loss + _hierarchy_loss(
                zs, truth, clusterings, self.temperature, self.n_samples, gen
            )
        return loss + self._classifier_loss(net, zs, truth, clusterings)

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
