"""The shared PyTorch training loop, its MLP and the base neural classifier."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from labelwise.errors import ConfigError, InputError, LabelError  # noqa: E402
from labelwise.learn._torch import (  # noqa: E402
    NeuralClassifier,
    TorchUnavailableError,
    evaluate,
    make_mlp,
    require_torch,
    train,
)


@pytest.fixture(autouse=True)
def _one_thread():
    # Small models: extra threads only fight over the shared cores.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


def _blobs(n=120, d=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, d)) + 2.0 * np.eye(d)[y]
    return X.astype(np.float32), y


def test_make_mlp_exposes_penultimate_features():
    net = make_mlp(5, 3, hidden=(16, 8), seed=0)
    x = torch.zeros(4, 5)
    assert net.features(x).shape == (4, 8)
    assert net(x).shape == (4, 3)
    assert net.n_features == 8
    assert torch.equal(make_mlp(5, 3, (16, 8), seed=0).head.weight, net.head.weight)
    assert not torch.equal(make_mlp(5, 3, (16, 8), seed=1).head.weight, net.head.weight)


def test_make_mlp_rejects_bad_shapes():
    with pytest.raises(ConfigError, match="hidden"):
        make_mlp(5, 3, hidden=(16, 0))
    with pytest.raises(ConfigError, match="n_out"):
        make_mlp(5, 0)
    with pytest.raises(ConfigError, match="dropout"):
        make_mlp(5, 3, dropout=1.5)


def test_train_records_losses_preds_and_features():
    X, y = _blobs()
    net = make_mlp(5, 3, hidden=(16,), seed=0)
    history = train(net, X, y, epochs=30, batch_size=32, lr=1e-2, record_epochs=[0, 30])
    assert len(history.train_loss) == 30 and history.stopped_epoch == 30
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.features(30).shape == (120, 16)
    assert history.losses(30).shape == (120,)
    # Training lowers the per-example losses and fits the labels.
    assert history.losses(30).mean() < history.losses(0).mean()
    assert np.mean(history.preds(30) == y) > 0.9
    with pytest.raises(ConfigError, match="not recorded"):
        history.features(5)


def test_train_is_deterministic_and_leaves_global_rng_alone():
    X, y = _blobs()
    runs = []
    for _ in range(2):
        state = torch.get_rng_state()
        net = make_mlp(5, 3, hidden=(16,), dropout=0.2, seed=3)
        history = train(net, X, y, epochs=5, batch_size=16, seed=7, record_epochs=[5])
        assert torch.equal(torch.get_rng_state(), state)
        runs.append(history.features(5))
    np.testing.assert_array_equal(runs[0], runs[1])
    other = make_mlp(5, 3, hidden=(16,), dropout=0.2, seed=3)
    shuffled = train(other, X, y, epochs=5, batch_size=16, seed=8, record_epochs=[5])
    assert not np.array_equal(shuffled.features(5), runs[0])


def test_custom_loss_gets_indices_and_on_epoch_can_stop():
    X, y = _blobs()
    weights = torch.zeros(120)
    weights[:60] = 1.0  # only the first half counts
    seen = set()

    def loss_fn(logits, targets, index):
        seen.update(index.tolist())
        ce = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
        return ce * weights[index]

    history = train(
        make_mlp(5, 3, hidden=(8,)),
        X,
        y,
        loss_fn=loss_fn,
        epochs=10,
        record_epochs=[2],
        on_epoch=lambda epoch, model, hist: epoch == 2,
    )
    assert seen == set(range(120))
    assert history.stopped_epoch == 2 and len(history.train_loss) == 2
    assert np.all(history.losses(2)[60:] == 0)


def test_scalar_loss_and_step_fn():
    X, y = _blobs()
    scalar = train(
        make_mlp(5, 3, hidden=(8,)),
        X,
        y,
        loss_fn=lambda logits, t, i: torch.nn.functional.cross_entropy(logits, t),
        epochs=2,
        record_epochs=[2],
    )
    assert np.isnan(scalar.losses(2)).all()
    calls = []

    def step(model, xb, tb, ib):
        calls.append(len(ib))
        return torch.nn.functional.cross_entropy(model(xb + 0.1), tb)

    train(make_mlp(5, 3, hidden=(8,)), X, y, epochs=1, batch_size=50, step_fn=step)
    assert calls == [50, 50, 20]


def test_train_takes_a_dataset():
    X, y = _blobs()
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    a = train(make_mlp(5, 3, (8,), seed=0), dataset, epochs=3, batch_size=32, record_epochs=[3])
    b = train(make_mlp(5, 3, (8,), seed=0), X, y, epochs=3, batch_size=32, record_epochs=[3])
    np.testing.assert_allclose(a.features(3), b.features(3), atol=1e-5)
    with pytest.raises(ConfigError, match="Dataset"):
        train(make_mlp(5, 3, (8,)), dataset, y, epochs=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": -1}, ConfigError, "epochs"),
        ({"batch_size": 0}, ConfigError, "batch_size"),
        ({"lr": 0.0}, ConfigError, "lr"),
        ({"weight_decay": -1.0}, ConfigError, "weight_decay"),
        ({"record_epochs": [3], "epochs": 2}, ConfigError, "record_epochs"),
    ],
)
def test_train_rejects_bad_arguments(kwargs, error, match):
    X, y = _blobs()
    with pytest.raises(error, match=match):
        train(make_mlp(5, 3, (8,)), X, y, **kwargs)


def test_train_rejects_mismatched_targets():
    X, y = _blobs()
    with pytest.raises(InputError, match="targets"):
        train(make_mlp(5, 3, (8,)), X, y[:-1], epochs=1)


def test_evaluate_returns_logits_and_features():
    X, _ = _blobs()
    logits, feats = evaluate(make_mlp(5, 3, (8,)), X)
    assert logits.shape == (120, 3) and feats.shape == (120, 8)
    plain = torch.nn.Linear(5, 3)
    logits, feats = evaluate(plain, X)
    assert logits.shape == (120, 3) and feats is None


def test_neural_classifier_takes_string_labels_and_is_deterministic():
    X, y = _blobs()
    names = np.array(["ant", "bee", "cat"])[y]
    clf = NeuralClassifier(hidden=(16,), epochs=20, lr=1e-2).fit(X, names)
    assert list(clf.classes_) == ["ant", "bee", "cat"]
    assert np.mean(clf.predict(X) == names) > 0.8
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    again = NeuralClassifier(hidden=(16,), epochs=20, lr=1e-2).fit(X, names)
    np.testing.assert_array_equal(proba, again.predict_proba(X))
    assert clf.features(X).shape == (120, 16)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


def test_neural_classifier_clones():
    clf = NeuralClassifier(hidden=(8,), epochs=3, random_state=4)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert copy.get_params()["hidden"] == (8,)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"hidden": (0,)}, "hidden"), ({"epochs": -2}, "epochs"), ({"random_state": -1}, "random")],
)
def test_neural_classifier_rejects_bad_params(params, match):
    X, y = _blobs()
    with pytest.raises(ConfigError, match=match):
        NeuralClassifier(**params).fit(X, y)


def test_neural_classifier_rejects_bad_labels():
    X, y = _blobs()
    with pytest.raises(LabelError, match="single class"):
        NeuralClassifier(epochs=1).fit(X, np.zeros(120, dtype=int))
    with pytest.raises(LabelError):
        NeuralClassifier(epochs=1).fit(X, np.linspace(0, 1, 120))


def test_require_torch_returns_torch():
    assert require_torch() is torch
    assert issubclass(TorchUnavailableError, ImportError)
    assert issubclass(TorchUnavailableError, ConfigError)


def test_everything_imports_without_torch_and_fit_says_how_to_install():
    code = textwrap.dedent(
        """
        import sys

        class NoTorch:  # makes `import torch` fail as if it were not installed
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError(f"No module named {name!r}")

        sys.meta_path.insert(0, NoTorch())
        import labelwise, labelwise.learn
        from labelwise.learn._torch import NeuralClassifier, TorchUnavailableError
        from labelwise.learn.spectral_net import SpectralTruncatedNet
        from labelwise.learn.class_aware import ClassAwareCleaner
        from labelwise.study.noise_benchmark import noise_benchmark
        import numpy as np
        X, y = np.random.rand(20, 3), np.arange(20) % 2
        for cls in (NeuralClassifier, SpectralTruncatedNet, ClassAwareCleaner):
            try:
                cls().fit(X, y)
            except TorchUnavailableError as exc:
                assert "pip install torch==2.13.0" in str(exc), exc
            else:
                raise AssertionError("fit without torch did not raise")
        bench = noise_benchmark(["wine"], ["symmetric"], [0.2], ["plain", "net_plain"], seeds=[0])
        assert set(bench.results["method"]) == {"plain"}, bench.results
        assert any("net_plain" in note for note in bench.notes), bench.notes
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_noise_benchmark_runs_torch_methods_by_name(monkeypatch):
    nb = importlib.import_module("labelwise.study.noise_benchmark")

    assert "net_plain" not in nb.METHODS  # not in the default grid
    monkeypatch.setattr(nb, "NET_HIDDEN", (16,))
    monkeypatch.setattr(nb, "NET_EPOCHS", 12)
    bench = nb.noise_benchmark(
        ["wine"],
        ["symmetric"],
        [0.2],
        ["plain", "net_plain", "spectral_net", "net_early_stopped", "class_aware_cleaner"],
        seeds=[0],
    )
    assert list(bench.results["method"]) == [
        "plain",
        "net_plain",
        "spectral_net",
        "net_early_stopped",
        "class_aware_cleaner",
    ]
    assert (bench.results["accuracy"] > 0.5).all()
    assert "net_plain" in bench.pivot().columns


def test_progress_bar_does_not_change_training():
    X, y = _blobs()
    quiet = train(make_mlp(5, 3, (8,)), X, y, epochs=3, record_epochs=[3])
    shown = train(make_mlp(5, 3, (8,)), X, y, epochs=3, record_epochs=[3], progress=True)
    np.testing.assert_array_equal(quiet.features(3), shown.features(3))
