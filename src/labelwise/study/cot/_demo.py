"""Two small learned models that show the two behaviours the protocol separates: one computes
from the steps, the other copies the stated answer."""

from __future__ import annotations

import math
import re
from numbers import Integral, Real
from typing import Any

import numpy as np

from labelwise._params import Interval, Options, check_params
from labelwise.study.cot._prompts import _INTEGER, Model, build_prompt, parse_integer
from labelwise.study.cot._task import ArithmeticItem, answer_line, arithmetic_chains

__all__ = ["demo_model", "train_computing_model", "train_copying_model"]

_N_TRAIN = {"n_train": [Interval(Integral, 1, None)]}
_SHARE = [Interval(Real, 0, 1, closed="left")]
_COPYING_PARAMS = {**_N_TRAIN, "slip": _SHARE, "without_answer_line": _SHARE}

_STEP = re.compile(r"^\s*(-?\d+)\s+(.+?)\s+(-?\d+)\s+(\S+)\s+(-?\d+)\.?\s*$")
_APPLY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.nan,
}
_TOKEN = re.compile(r"-?\d+|[A-Za-z]+|[^\sA-Za-z0-9]")


def _training_items(n_train: int, seed: int) -> list[ArithmeticItem]:
    # Other seeds than the evaluation chains, and chains of several lengths.
    return arithmetic_chains(int(n_train), n_steps=(3, 7), seed=seed + 10_000)


def _mask(step: str) -> str:
    return _INTEGER.sub(" ", step)


class _Computer:
    """Reads the steps: a classifier learned from worked steps names each step's operation
    (from its words and symbols, numbers masked), and the steps are then evaluated in order
    from the first number, ignoring every stated result and answer line."""

    def __init__(self, classifier: Any):
        self.classifier = classifier
        self.__name__ = "computes"

    def __call__(self, prompt: str) -> str:
        steps = [m for m in map(_STEP.match, prompt.splitlines()) if m]
        if not steps:
            # No worked steps to read: it falls back on the first number it sees.
            return str(parse_integer(prompt) or 0)
        ops = self.classifier.predict([_mask(m.group(0)) for m in steps])
        value: float = float(steps[0].group(1))
        for m, op in zip(steps, ops, strict=True):
            value = _APPLY[op](value, float(m.group(3)))
        return str(round(value)) if np.isfinite(value) else "0"


def train_computing_model(n_train: int = 300, seed: int = 0) -> Model:
    """Train a model that computes from the steps (a few tenths of a second).

    A bag-of-tokens logistic regression learns each step's operation from worked steps of
    synthetic chains (both spellings, numbers hidden); the model then evaluates the steps it
    reads. It never looks at stated results or at "The answer is X".

    Parameters
    ----------
    n_train : int, default 300
        Training chains; their steps are the examples.
    seed : int, default 0
        Seeds the training chains, drawn apart from the evaluation chains of the same seed.

    Returns
    -------
    callable str -> str
        The model, named ``"computes"``.

    Examples
    --------
    >>> model = train_computing_model(100)
    >>> model(build_prompt("?", "7 plus 5 is 12.\\n12 x 3 = 36.\\nThe answer is 99."))
    '36'
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    check_params(_N_TRAIN, {"n_train": n_train})
    texts, ops = [], []
    for item in _training_items(n_train, seed):
        for k, op in enumerate(item.ops):
            texts.append(_mask(item.step(k)))
            ops.append(op)
    vectorizer = CountVectorizer(token_pattern=r"[A-Za-z]+|[^\sA-Za-z0-9.]")
    classifier = make_pipeline(vectorizer, LogisticRegression(max_iter=1000))
    return _Computer(classifier.fit(texts, ops))


def _shape(tokens: list[str], i: int) -> str:
    if i < 0 or i >= len(tokens):
        return "<edge>"
    return "<num>" if _INTEGER.fullmatch(tokens[i]) else tokens[i]


def _number_features(prompt: str) -> tuple[list[int], list[dict[str, Any]]]:
    """Each number in the text with features of where it sits: how many numbers follow it,
    its relative position, and the two tokens before it and the one after."""
    tokens = [t.lower() for t in _TOKEN.findall(prompt)]
    where = [i for i, t in enumerate(tokens) if _INTEGER.fullmatch(t)]
    values, features = [], []
    for rank, i in enumerate(where):
        after = len(where) - 1 - rank
        values.append(int(tokens[i]))
        features.append(
            {
                f"from_end={min(after, 4)}": 1,
                "relative_position": rank / max(len(where) - 1, 1),
                f"prev1={_shape(tokens, i - 1)}": 1,
                f"prev2={_shape(tokens, i - 2)}": 1,
                f"next={_shape(tokens, i + 1)}": 1,
            }
        )
    return values, features


class _Copier:
    """Picks the number most likely to be the answer from where each number sits in the
    text, as learned from worked solutions whose final line carries the label."""

    def __init__(self, vectorizer: Any, classifier: Any):
        self.vectorizer, self.classifier = vectorizer, classifier
        self.__name__ = "copies"

    def __call__(self, prompt: str) -> str:
        values, features = _number_features(prompt)
        if not values:
            return "0"
        scores = self.classifier.predict_proba(self.vectorizer.transform(features))[:, 1]
        return str(values[int(np.argmax(scores))])


def _scraped_chain(
    item: ArithmeticItem, slip: float, without_answer_line: float, rng: np.random.Generator
) -> list[str]:
    """A worked solution as scraped data hold it: with or without its answer line, and with a
    sloppy intermediate result in a share of those that have one."""
    steps = item.steps()
    if rng.random() < without_answer_line:
        return steps
    if rng.random() < slip:
        k = int(rng.integers(len(steps)))
        off = int(rng.choice([-2, -1, 1, 2]))
        steps[k] = steps[k].rsplit(" ", 1)[0] + f" {item.results[k] + off}."
    return [*steps, answer_line(item.answer)]


def train_copying_model(
    n_train: int = 300, slip: float = 0.3, without_answer_line: float = 0.3, seed: int = 0
) -> Model:
    """Train a model that learns to copy the stated answer (a few tenths of a second).

    Its training data are worked solutions as scraped data hold them: most end in "The answer
    is X", where X is the label, and in a share ``slip`` of those a step's stated result is off
    (sloppy intermediate work), so the number after "answer is" predicts the label best; a share
    ``without_answer_line`` end at the last step, whose stated result is then the label. A
    logistic regression over position features of every number token learns which token is the
    answer; the model returns the highest-scoring one. It never computes anything.

    Parameters
    ----------
    n_train : int, default 300
        Training chains.
    slip : float in [0, 1), default 0.3
    without_answer_line : float in [0, 1), default 0.3
    seed : int, default 0
        Seeds the training chains and which of them are sloppy or lack their answer line.

    Returns
    -------
    callable str -> str
        The model, named ``"copies"``.

    Examples
    --------
    >>> model = train_copying_model(100)
    >>> model(build_prompt("?", "7 plus 5 is 12.\\n12 x 3 = 36.\\nThe answer is 99."))
    '99'
    >>> model(build_prompt("?", "7 plus 5 is 12.\\n12 x 3 = 35."))
    '35'
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    check_params(
        _COPYING_PARAMS,
        {"n_train": n_train, "slip": slip, "without_answer_line": without_answer_line},
    )
    rng = np.random.default_rng([seed, 2])
    rows, labels = [], []
    for item in _training_items(n_train, seed):
        chain = _scraped_chain(item, slip, without_answer_line, rng)
        values, features = _number_features(build_prompt(item.question, "\n".join(chain)))
        rows += features
        labels += [int(v == item.answer) for v in values]
    vectorizer = DictVectorizer()
    classifier = LogisticRegression(max_iter=1000).fit(vectorizer.fit_transform(rows), labels)
    return _Copier(vectorizer, classifier)


_TRAINERS = {"computes": train_computing_model, "copies": train_copying_model}
_KIND = {"kind": [Options(_TRAINERS)]}


def demo_model(kind: str, n_train: int = 300, seed: int = 0) -> Model:
    """One of the two learned demo models.

    Parameters
    ----------
    kind : {"computes", "copies"}
    n_train : int, default 300
    seed : int, default 0

    Returns
    -------
    callable str -> str
    """
    check_params(_KIND, {"kind": kind})
    return _TRAINERS[kind](n_train=n_train, seed=seed)
