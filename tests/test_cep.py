"""Condition Embedding Perturbation, condition corruption, and the diffusion study's smoke run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labelwise.errors import ConfigError, LabelError
from labelwise.vision.conditions import flip_conditions, swap_captions

torch = pytest.importorskip("torch")

from labelwise.learn.cep import (  # noqa: E402
    ConditionEmbeddingPerturbation,
    cep_study,
    gaussian_w2,
    sample_w2,
)

D = 64


class _Zero(torch.nn.Module):
    """An embedding that is all zeros, so the wrapper's output is the perturbation itself."""

    def forward(self, y):
        return torch.zeros(len(y), D)


def _delta(noise: str, gamma: float, n: int = 4000) -> torch.Tensor:
    torch.manual_seed(0)
    cep = ConditionEmbeddingPerturbation(_Zero(), gamma=gamma, noise=noise).train()
    return cep(torch.zeros(n, dtype=torch.long))


def test_gaussian_perturbation_has_mean_zero_and_std_gamma_over_sqrt_d():
    delta = _delta("gaussian", gamma=2.0)
    assert abs(float(delta.mean())) < 0.01
    assert float(delta.std()) == pytest.approx(2.0 / math.sqrt(D), rel=0.02)


def test_uniform_perturbation_stays_within_gamma_over_sqrt_d():
    delta = _delta("uniform", gamma=1.5)
    bound = 1.5 / math.sqrt(D)
    assert float(delta.abs().max()) <= bound
    assert float(delta.abs().max()) > 0.99 * bound  # it fills the range
    assert abs(float(delta.mean())) < 0.005
    assert float(delta.std()) == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_eval_mode_and_zero_gamma_are_the_identity():
    emb = torch.nn.Embedding(5, 8)
    y = torch.arange(5)
    cep = ConditionEmbeddingPerturbation(emb, gamma=1.0).eval()
    assert torch.equal(cep(y), emb(y))
    assert torch.equal(ConditionEmbeddingPerturbation(emb, gamma=0.0).train()(y), emb(y))
    assert not torch.equal(cep.train()(y), emb(y))


def test_gradient_flows_to_the_wrapped_embedding():
    emb = torch.nn.Embedding(3, 8)
    cep = ConditionEmbeddingPerturbation(emb, gamma=1.0, noise="gaussian").train()
    cep(torch.tensor([0, 2])).sum().backward()
    grad = emb.weight.grad
    assert torch.equal(grad[[0, 2]], torch.ones(2, 8))  # additive noise: d out / d emb = 1
    assert torch.equal(grad[1], torch.zeros(8))


def test_bad_cep_parameters_are_refused():
    with pytest.raises(ConfigError, match="noise"):
        ConditionEmbeddingPerturbation(torch.nn.Embedding(2, 2), noise="laplace")
    with pytest.raises(ConfigError, match="gamma"):
        ConditionEmbeddingPerturbation(torch.nn.Embedding(2, 2), gamma=-1.0)


@pytest.mark.parametrize("rate", [0.0, 0.025, 0.1, 0.5])
def test_flip_rate_is_exact_and_every_flip_changes_the_class(rate):
    y = np.repeat(np.arange(4), 100)
    noisy, changed = flip_conditions(y, rate, n_classes=4, random_state=3)
    assert changed.sum() == round(rate * len(y))
    assert (noisy != y).sum() == changed.sum()
    assert noisy.dtype == y.dtype and set(np.unique(noisy)) <= {0, 1, 2, 3}


def test_flips_reach_every_other_class_and_work_on_strings():
    y = np.array(["cat", "dog", "fox"] * 200)
    noisy, changed = flip_conditions(y, 0.5, random_state=0)
    assert changed.sum() == 300
    pairs = set(zip(y[changed], noisy[changed], strict=True))
    assert len(pairs) == 6  # each class goes to both others
    with pytest.raises(LabelError, match="n_classes"):
        flip_conditions([0, 5], 0.5, n_classes=3)


def test_swap_captions_is_a_derangement_of_the_chosen_ones():
    captions = [f"caption {i}" for i in range(40)]
    swapped, changed = swap_captions(captions, 0.25, random_state=1)
    assert changed.sum() == 10
    assert all(swapped[i] != captions[i] for i in np.flatnonzero(changed))
    assert all(swapped[i] == captions[i] for i in np.flatnonzero(~changed))
    assert sorted(swapped) == sorted(captions)


def test_w2_distances_match_known_values():
    assert gaussian_w2([0, 0], np.eye(2), [0, 0], np.eye(2)) == pytest.approx(0.0, abs=1e-6)
    assert gaussian_w2([1, 2], np.diag([1, 4]), [1, 2], np.diag([4, 1])) == pytest.approx(
        math.sqrt(2.0)
    )
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 2))
    assert sample_w2(a, a + [3.0, 4.0]) == pytest.approx(5.0)


def test_diffusion_study_smoke_run():
    study = cep_study(
        rates=(0.0, 0.1),
        cep=("gaussian",),
        seeds=(0, 1),
        n_per_class=60,
        n_steps=150,
        n_samples=60,
        diffusion_steps=20,
    )
    frame = study.results
    assert len(frame) == 2 * 3 * 4  # seeds x settings x classes
    assert np.isfinite(frame[["w2_gauss", "w2_exact", "entropy"]].to_numpy()).all()
    # Even this short training lands near the components (their means are 2 apart from 0).
    assert frame["w2_gauss"].mean() < 1.0
    summary = study.summary()
    assert summary.loc[summary["rate"].eq(0) & summary["cep"].eq(""), "d_w2_gauss"].item() == 0
    assert "CEP gaussian" in study.to_markdown()
    with pytest.raises(ConfigError, match="0.0"):
        cep_study(rates=(0.1,), seeds=(0,))
