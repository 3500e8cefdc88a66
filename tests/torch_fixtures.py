"""Fixtures shared by the PyTorch tests: one CPU thread, and digits with 40% symmetric noise.

Loaded for every test module as a plugin (``pytest_plugins`` in ``conftest.py``); torch is
imported only when ``one_thread`` runs, so a module asks for it with
``pytestmark = pytest.mark.usefixtures("one_thread")`` after ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from labelwise.simulate import inject_noise


@pytest.fixture
def one_thread():
    """Torch and BLAS on one thread: the suite runs two workers on two cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def noisy_digits():
    """(X_train, X_test, y_train, y_test, noisy_train): 800/400 digits, 40% symmetric noise."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=800, test_size=400, stratify=y, random_state=0
    )
    noisy = np.asarray(inject_noise(y_train, kind="symmetric", rate=0.4, random_state=0).labels)
    return X_train, X_test, y_train, y_test, noisy
