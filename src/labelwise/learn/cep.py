"""Condition Embedding Perturbation (CEP), and a diffusion study of corrupted conditions.

Conditional diffusion models are trained on (data, condition) pairs of which some are wrong.
"Slight Corruption in Pre-training Data Makes Better Diffusion Models" (2024) reports that a few
percent of wrong conditions *improve* the generated distribution, proves it for a Gaussian
mixture (higher entropy, lower 2-Wasserstein distance to the truth), and proposes to get the
benefit on clean data by perturbing the condition embedding during training:

    c_hat = c(y) + delta,   delta ~ U[-gamma / sqrt(d), gamma / sqrt(d)]^d   (uniform form)
                            delta ~ N(0, (gamma / sqrt(d))^2 I_d)           (Gaussian form)

with ``d`` the embedding size and ``gamma = 1`` by default. Readings of the paper's equation
differ on the scale; this module uses the per-coordinate scale ``gamma / sqrt(d)`` above for both
forms, so the perturbation's norm is about ``gamma / sqrt(3)`` (uniform) or ``gamma`` (Gaussian)
whatever ``d`` is.

:class:`ConditionEmbeddingPerturbation` wraps any module that returns condition embeddings.
:func:`cep_study` trains a small class-conditional DDPM on a 2-D Gaussian mixture (the paper's
theoretical setting) with 0-10% flipped conditions and with CEP, and measures each class's
2-Wasserstein distance to its true Gaussian component and the entropy of its samples.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats
from scipy.optimize import linear_sum_assignment

from labelwise._optional import require
from labelwise._params import Interval, Options, check_params
from labelwise._shared.markdown import Markdown, markdown_rows
from labelwise.errors import ConfigError
from labelwise.io import write_png
from labelwise.vision.conditions import flip_conditions

torch = require("torch", "labelwise.learn.cep")
nn = torch.nn

__all__ = [
    "NOISES",
    "CEPStudy",
    "ConditionEmbeddingPerturbation",
    "cep_study",
    "gaussian_w2",
    "sample_w2",
]

#: The perturbation distributions :class:`ConditionEmbeddingPerturbation` draws from.
NOISES = ("uniform", "gaussian")
_PERTURBATION_CONSTRAINTS = {
    "noise": [Options(NOISES)],
    "gamma": [Interval(Real, 0, math.inf, closed="left")],
}


class ConditionEmbeddingPerturbation(nn.Module):
    """Add random noise to a condition embedding while training; pass it through in eval mode.

    Parameters
    ----------
    embedding : torch.nn.Module
        Any module whose output's last axis is the embedding (``nn.Embedding``, a text
        encoder's projection...). Gradients flow to it unchanged: the noise is additive.
    gamma : float
        Perturbation scale; each coordinate gets noise of scale ``gamma / sqrt(d)``.
    noise : {"uniform", "gaussian"}
        ``uniform``: U[-gamma/sqrt(d), gamma/sqrt(d)]; ``gaussian``: N(0, (gamma/sqrt(d))^2).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> cep = ConditionEmbeddingPerturbation(nn.Embedding(3, 4), gamma=1.0)
    >>> y = torch.tensor([0, 1, 2])
    >>> bool((cep(y) - cep.embedding(y)).abs().max() <= 0.5)  # |delta| <= 1 / sqrt(4)
    True
    >>> _ = cep.eval()
    >>> bool(torch.equal(cep(y), cep.embedding(y)))
    True
    """

    def __init__(self, embedding: nn.Module, gamma: float = 1.0, noise: str = "uniform") -> None:
        super().__init__()
        check_params(_PERTURBATION_CONSTRAINTS, {"noise": noise, "gamma": gamma})
        self.embedding = embedding
        self.gamma = float(gamma)
        self.noise = noise

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        c = self.embedding(*args, **kwargs)
        if not self.training or self.gamma == 0.0:
            return c
        scale = self.gamma / math.sqrt(c.shape[-1])
        if self.noise == "gaussian":
            delta = torch.randn_like(c) * scale
        else:
            delta = (torch.rand_like(c) * 2.0 - 1.0) * scale
        return c + delta

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, noise={self.noise!r}"


# --- distances ---------------------------------------------------------------------------------


def gaussian_w2(mean1: Any, cov1: Any, mean2: Any, cov2: Any) -> float:
    """2-Wasserstein distance between two Gaussians (closed form).

    ``W2^2 = |m1 - m2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2)``.

    Examples
    --------
    >>> round(gaussian_w2([0, 0], np.eye(2), [3, 4], np.eye(2)), 6)
    5.0
    >>> round(gaussian_w2([0, 0], np.eye(2), [0, 0], 4 * np.eye(2)), 6)  # sqrt(2 * (2 - 1)^2)
    1.414214
    """
    m1, m2 = np.asarray(mean1, float), np.asarray(mean2, float)
    s1, s2 = np.atleast_2d(cov1).astype(float), np.atleast_2d(cov2).astype(float)
    root2 = linalg.sqrtm(s2)
    cross = linalg.sqrtm(root2 @ s1 @ root2)
    value = float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2.0 * np.real(cross)))
    return math.sqrt(max(value, 0.0))


def sample_w2(a: Any, b: Any) -> float:
    """Exact 2-Wasserstein distance between two equal-size samples (optimal matching).

    Examples
    --------
    >>> sample_w2([[0.0, 0.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]])
    1.0
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ConfigError(f"samples must have equal shapes, got {a.shape} and {b.shape}.")
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    return float(math.sqrt(cost[rows, cols].mean()))


def _gaussian_entropy(samples: np.ndarray) -> float:
    """Differential entropy (nats) of the Gaussian fitted to ``samples``."""
    cov = np.atleast_2d(np.cov(samples, rowvar=False))
    d = cov.shape[0]
    return float(0.5 * (d * math.log(2 * math.pi * math.e) + np.linalg.slogdet(cov)[1]))


# --- the mixture and the model -----------------------------------------------------------------


def _mixture(n_classes: int, radius: float, std: float) -> tuple[np.ndarray, np.ndarray]:
    """Component means on a circle and anisotropic covariances (elongated along the tangent)."""
    angles = 2 * math.pi * np.arange(n_classes) / n_classes
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    covs = []
    for a in angles:
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        covs.append(rot @ np.diag([std**2, (1.6 * std) ** 2]) @ rot.T)
    return means, np.stack(covs)


def _time_embedding(t: torch.Tensor, size: int = 16) -> torch.Tensor:
    freqs = torch.exp(-math.log(1000.0) * torch.arange(size // 2) / (size // 2))
    angles = t[:, None].float() * freqs[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class _Denoiser(nn.Module):
    """epsilon(x_t, t, c): an MLP on the point, a time embedding and the condition embedding."""

    def __init__(self, n_classes: int, dim: int, hidden: int, cep: str | None, gamma: float):
        super().__init__()
        embedding = nn.Embedding(n_classes, dim)
        self.condition = ConditionEmbeddingPerturbation(embedding, gamma, cep) if cep else embedding
        self.net = nn.Sequential(
            nn.Linear(2 + 16 + dim, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, _time_embedding(t), self.condition(y)], dim=1))


@dataclass
class _Schedule:
    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor

    @classmethod
    def linear(cls, steps: int) -> _Schedule:
        # The usual 1e-4..0.02 over 1000 steps, stretched to fewer steps.
        betas = (torch.linspace(1e-4, 0.02, steps) * (1000.0 / steps)).clamp(max=0.3)
        alphas = 1.0 - betas
        return cls(betas, alphas, torch.cumprod(alphas, 0))


def _train_ddpm(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    cep: str | None,
    gamma: float,
    n_steps: int,
    schedule: _Schedule,
    seed: int,
) -> _Denoiser:
    torch.manual_seed(seed)
    model = _Denoiser(n_classes, dim=16, hidden=128, cep=cep, gamma=gamma)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, n_steps)
    xt, yt = torch.from_numpy(x).float(), torch.from_numpy(y).long()
    gen = torch.Generator().manual_seed(seed)
    batch = min(256, len(x))
    model.train()
    for _ in range(n_steps):
        idx = torch.randint(len(x), (batch,), generator=gen)
        t = torch.randint(len(schedule.betas), (batch,), generator=gen)
        noise = torch.randn(batch, 2, generator=gen)
        ab = schedule.alpha_bars[t][:, None]
        noisy = ab.sqrt() * xt[idx] + (1 - ab).sqrt() * noise
        loss = ((model(noisy, t, yt[idx]) - noise) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@torch.no_grad()
def _sample(model: _Denoiser, label: int, n: int, schedule: _Schedule, seed: int) -> np.ndarray:
    """Ancestral DDPM sampling of ``n`` points of one class."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=gen)
    y = torch.full((n,), label, dtype=torch.long)
    for step in reversed(range(len(schedule.betas))):
        t = torch.full((n,), step, dtype=torch.long)
        beta, alpha, ab = schedule.betas[step], schedule.alphas[step], schedule.alpha_bars[step]
        eps = model(x, t, y)
        x = (x - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()
        if step > 0:
            x = x + beta.sqrt() * torch.randn(n, 2, generator=gen)
    return x.numpy()


# --- the study ---------------------------------------------------------------------------------


def _settings(rates: Sequence[float], ceps: Sequence[str], gamma: float) -> list[dict]:
    out = [{"setting": f"{100 * r:g}% flipped", "rate": r, "cep": None} for r in rates]
    out += [{"setting": f"CEP {c} (gamma={gamma:g})", "rate": 0.0, "cep": c} for c in ceps]
    return out


def _half_width(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))


@dataclass
class CEPStudy:
    """Results of :func:`cep_study`.

    Attributes
    ----------
    results : DataFrame
        One row per seed x setting x class: ``w2_gauss`` (closed form between the Gaussian
        fitted to the samples and the true component), ``w2_exact`` (optimal matching against
        as many fresh true samples), ``entropy`` (nats, of the fitted Gaussian) and
        ``true_entropy``.
    params : dict
        The study's parameters.
    seconds : float
    """

    results: pd.DataFrame
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def per_seed(self) -> pd.DataFrame:
        """Class-averaged metrics per seed and setting, with the paired change from 0%."""
        keys = ["setting", "rate", "cep", "seed"]
        frame = (
            self.results.fillna({"cep": ""})
            .groupby(keys, sort=False)[["w2_gauss", "w2_exact", "entropy"]]
            .mean()
            .reset_index()
        )
        base = frame[(frame["rate"] == 0) & (frame["cep"] == "")].set_index("seed")
        for metric in ("w2_gauss", "w2_exact", "entropy"):
            frame[f"d_{metric}"] = frame[metric] - frame["seed"].map(base[metric])
        return frame

    def summary(self) -> pd.DataFrame:
        """Mean and 95% t half-width over seeds of each metric and of its paired change."""
        frame = self.per_seed()
        metrics = ["w2_gauss", "w2_exact", "entropy", "d_w2_gauss", "d_w2_exact", "d_entropy"]
        rows = []
        for (setting, rate, cep), part in frame.groupby(["setting", "rate", "cep"], sort=False):
            row: dict[str, Any] = {"setting": setting, "rate": rate, "cep": cep}
            for metric in metrics:
                values = part[metric].to_numpy(float)
                row[metric] = float(values.mean())
                row[f"{metric}_hw"] = _half_width(values)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_markdown(self) -> str:
        """A Markdown table of the summary, with the true entropy for reference."""
        summary = self.summary()
        true_h = float(self.results["true_entropy"].mean())
        headers = ["setting", "W2 (Gaussian fit)", "change vs 0%", "W2 (exact, samples)"]
        headers += ["change vs 0%", "entropy (nats)", "change vs 0%"]
        measures = ("w2_gauss", "d_w2_gauss", "w2_exact", "d_w2_exact", "entropy", "d_entropy")
        rows = [
            [r["setting"]]
            + [Markdown(_pm(r[m], r[f"{m}_hw"], signed=m.startswith("d_"))) for m in measures]
            for r in (row._asdict() for row in summary.itertuples(index=False))
        ]
        lines = [markdown_rows(headers, rows)]
        lines.append("")
        lines.append(
            f"Means over {len(set(self.results['seed']))} seeds and {self.params.get('n_classes')} "
            f"classes; ± is the 95% t half-width over seeds (changes are paired by seed). "
            f"True component entropy: {true_h:.3f} nats."
        )
        return "\n".join(lines) + "\n"

    def plot(self, path: str | os.PathLike) -> str | os.PathLike:
        """Save W2 and entropy against the corruption rate, CEP as horizontal bands (PNG)."""
        Figure = require("matplotlib.figure", "plotting").Figure

        summary = self.summary()
        flips = summary[summary["cep"] == ""].sort_values("rate")
        ceps = summary[summary["cep"] != ""]
        figure = Figure(figsize=(11, 3.4), layout="constrained")
        axes = figure.subplots(1, 3)
        panels = [
            ("w2_gauss", "W2 to the true component (Gaussian fit)"),
            ("w2_exact", "W2 to the true component (exact, samples)"),
            ("entropy", "entropy of the samples (nats)"),
        ]
        rates = 100 * flips["rate"].to_numpy()
        for ax, (metric, title) in zip(axes, panels, strict=True):
            ax.errorbar(
                rates,
                flips[metric],
                yerr=np.nan_to_num(flips[f"{metric}_hw"].to_numpy()),
                marker="o",
                capsize=3,
                label="flipped conditions",
            )
            for k, row in enumerate(ceps.itertuples(index=False)):
                r = row._asdict()
                color = f"C{k + 1}"
                ax.axhline(r[metric], color=color, ls="--", label=r["setting"])
                hw = r[f"{metric}_hw"] if np.isfinite(r[f"{metric}_hw"]) else 0.0
                ax.axhspan(r[metric] - hw, r[metric] + hw, color=color, alpha=0.12)
            if metric == "entropy":
                ax.axhline(self.results["true_entropy"].mean(), color="k", lw=0.8, label="truth")
            ax.set_xlabel("flipped conditions (%)")
            ax.set_title(title, fontsize=9)
        axes[0].legend(fontsize=7)
        axes[2].legend(fontsize=7)
        write_png(figure, path)
        return path


_TABLE_COLUMNS = ("w2_gauss", "d_w2_gauss", "w2_exact", "d_w2_exact", "entropy", "d_entropy")


def _pm(mean: float, half: float, signed: bool = False) -> str:
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text if not np.isfinite(half) else f"{text} ± {half:.3f}"


def cep_study(
    rates: Sequence[float] = (0.0, 0.025, 0.05, 0.1),
    cep: Sequence[str] = ("uniform", "gaussian"),
    gamma: float = 1.0,
    seeds: Sequence[int] = (0, 1, 2),
    n_classes: int = 4,
    n_per_class: int = 250,
    n_steps: int = 1000,
    n_samples: int = 400,
    diffusion_steps: int = 100,
    radius: float = 2.0,
    std: float = 0.35,
    progress: Callable[[int, int], None] | None = None,
    n_threads: int | None = 1,
) -> CEPStudy:
    """Train class-conditional DDPMs on a 2-D Gaussian mixture under corrupted conditions.

    For each seed one training set of ``n_per_class`` points per class is drawn; each setting
    (every rate of flipped conditions, and CEP on clean conditions for each noise in ``cep``)
    trains a model from the same initialisation on it, samples ``n_samples`` points per class
    and compares them with the true component. The 0% setting must be in ``rates``: changes are
    reported against it, paired by seed.

    Parameters
    ----------
    rates : sequence of float
        Fractions of training conditions flipped to another class
        (:func:`labelwise.vision.conditions.flip_conditions`).
    cep : sequence of {"uniform", "gaussian"}
        CEP forms to train with (on 0% flipped conditions); empty for none.
    gamma : float
        CEP scale.
    seeds : sequence of int
    n_classes, n_per_class, radius, std : mixture size and shape (means on a circle).
    n_steps : int
        Training steps (batch 256, Adam, cosine-decayed learning rate).
    n_samples : int
        Samples per class for the metrics.
    diffusion_steps : int
        DDPM steps (linear schedule).
    progress : callable, optional
        ``progress(done, total)`` after each trained model.
    n_threads : int or None
        Torch threads (None leaves torch's setting).

    Returns
    -------
    CEPStudy

    Examples
    --------
    >>> study = cep_study(rates=(0.0, 0.1), cep=("uniform",), seeds=(0,), n_per_class=20,
    ...                   n_steps=5, n_samples=10, diffusion_steps=5)
    >>> sorted(set(study.results["setting"]))
    ['0% flipped', '10% flipped', 'CEP uniform (gamma=1)']
    """
    if 0.0 not in [float(r) for r in rates]:
        raise ConfigError("rates must include 0.0: changes are reported against clean training.")
    for form in cep:
        if form not in NOISES:
            raise ConfigError(f"cep must hold values from {', '.join(NOISES)}, got {form!r}.")
    if not seeds:
        raise ConfigError("seeds is empty; give at least one seed.")
    start = time.perf_counter()
    before = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        rows = _run_study(
            rates, cep, gamma, seeds, n_classes, n_per_class, n_steps, n_samples,
            diffusion_steps, radius, std, progress,
        )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    params = {
        "rates": list(rates),
        "cep": list(cep),
        "gamma": gamma,
        "seeds": list(seeds),
        "n_classes": n_classes,
        "n_per_class": n_per_class,
        "n_steps": n_steps,
        "n_samples": n_samples,
        "diffusion_steps": diffusion_steps,
        "radius": radius,
        "std": std,
    }
    return CEPStudy(pd.DataFrame(rows), params, time.perf_counter() - start)


def _run_study(
    rates, ceps, gamma, seeds, n_classes, n_per_class, n_steps, n_samples, diffusion_steps,
    radius, std, progress,
) -> list[dict]:  # fmt: skip
    means, covs = _mixture(n_classes, radius, std)
    true_entropy = [
        float(stats.multivariate_normal(means[k], covs[k]).entropy()) for k in range(n_classes)
    ]
    schedule = _Schedule.linear(diffusion_steps)
    settings = _settings(rates, ceps, gamma)
    total, done, rows = len(seeds) * len(settings), 0, []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        y = np.repeat(np.arange(n_classes), n_per_class)
        x = np.concatenate(
            [rng.multivariate_normal(means[k], covs[k], n_per_class) for k in range(n_classes)]
        )
        truth = [rng.multivariate_normal(means[k], covs[k], n_samples) for k in range(n_classes)]
        for setting in settings:
            labels, _ = flip_conditions(y, setting["rate"], n_classes, random_state=seed + 1000)
            model = _train_ddpm(
                x, labels, n_classes, setting["cep"], gamma, n_steps, schedule, seed
            )
            for k in range(n_classes):
                samples = _sample(model, k, n_samples, schedule, seed + 7 * k)
                mean, cov = samples.mean(0), np.cov(samples, rowvar=False)
                rows.append(
                    {
                        "seed": seed,
                        "setting": setting["setting"],
                        "rate": setting["rate"],
                        "cep": setting["cep"],
                        "class": k,
                        "w2_gauss": gaussian_w2(mean, cov, means[k], covs[k]),
                        "w2_exact": sample_w2(samples, truth[k]),
                        "entropy": _gaussian_entropy(samples),
                        "true_entropy": true_entropy[k],
                    }
                )
            done += 1
            if progress is not None:
                progress(done, total)
    return rows
