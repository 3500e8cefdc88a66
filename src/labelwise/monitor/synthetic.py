"""Synthetic credit-scoring data with known, injectable changes, for testing monitors.

A monitor is judged on data whose changes are known. :class:`CreditSimulator` draws loan
applicants with credit-like features, a true default probability ``p_bad`` from a fixed logistic
model, the realized outcome ``bad``, and the ``score`` of a deployed model that was fit once on a
development sample. Three changes can be injected, each with a strength in [0, 1]:

``covariate_degradation``
    A broken upstream pipeline: important features arrive missing, in the wrong unit or
    default-filled. The true risk is unchanged (it depends on the real applicant); the deployed
    model scores the corrupted features.
``temporal_drift``
    Ordinary change of the population (strength 1 is about three years): nominal income and loan
    amounts inflate, applicants age, more rent and apply online. P(bad | X) is unchanged.
``concept_drift``
    A pure change of P(bad | X), as in a downturn: the features and the scores are exactly those
    of the unchanged window (the same draws); only ``p_bad`` and ``bad`` differ.

Every random quantity comes from its own seeded stream (features, labels, corruption), and
counts and categories are drawn by inverse CDF from uniforms, so a window drawn with and without
a change holds the same applicants: differences between the two are the change alone.

Examples
--------
>>> from labelwise.monitor.synthetic import make_credit_data
>>> frame = make_credit_data(1_000, n_features=6, seed=1)
>>> list(frame.columns)  # doctest: +NORMALIZE_WHITESPACE
['income', 'debt_to_income', 'revolving_utilization', 'delinquencies_2y', 'age',
 'home_ownership', 'score', 'p_bad', 'bad']
>>> later = make_credit_data(1_000, n_features=6, seed=1, concept_drift=1.0)
>>> bool(frame["score"].equals(later["score"])), bool(later["bad"].mean() > frame["bad"].mean())
(True, True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats

from labelwise._params import Interval, check_params
from labelwise.errors import ConfigError

__all__ = [
    "CATEGORICAL",
    "CHANGES",
    "DEGRADED",
    "FEATURES",
    "CreditSimulator",
    "credit_features",
    "make_credit_data",
    "make_windows",
    "ramp",
]

#: The 20 base features, in the order ``n_features`` takes them (most telling first).
FEATURES: tuple[str, ...] = (
    "income",
    "debt_to_income",
    "revolving_utilization",
    "delinquencies_2y",
    "age",
    "home_ownership",
    "purpose",
    "inquiries_6m",
    "loan_amount",
    "loan_term_months",
    "credit_history_years",
    "employment_years",
    "open_accounts",
    "verification_status",
    "public_records",
    "total_credit_limit",
    "months_since_last_delinquency",
    "mortgage_accounts",
    "application_channel",
    "installment_to_income",
)

#: Categorical features and their categories (a missing value is a missing category).
CATEGORICAL: dict[str, tuple[str, ...]] = {
    "home_ownership": ("MORTGAGE", "RENT", "OWN", "OTHER"),
    "purpose": (
        "debt_consolidation",
        "credit_card",
        "home_improvement",
        "car",
        "medical",
        "small_business",
        "other",
    ),
    "verification_status": ("verified", "source_verified", "not_verified"),
    "application_channel": ("online", "branch", "broker"),
}

#: The changes :meth:`CreditSimulator.sample` can inject.
CHANGES: tuple[str, ...] = ("covariate_degradation", "temporal_drift", "concept_drift")

#: Features a ``covariate_degradation`` corrupts (where present): the model's strongest inputs.
DEGRADED: tuple[str, ...] = (
    "income",
    "debt_to_income",
    "revolving_utilization",
    "delinquencies_2y",
    "inquiries_6m",
    "months_since_last_delinquency",
)

#: Share of rows a full-strength degradation corrupts in each affected feature.
DEGRADED_SHARE = 0.4
#: Rows of the development sample the deployed model is fit on.
FIT_SIZE = 20_000

# Independent random streams: a change drawn in one never shifts the draws of another.
_FEATURES, _LABELS, _CORRUPTION, _FIT = 0, 1, 2, 3
# Counts drawn by inverse CDF run from 0 to 60 (the tail beyond is folded into 60).
_SUPPORT = np.arange(61)
# Intercept of the true model: about 10% bad at no change.
_INTERCEPT = -3.55

_COUNT = Interval(Integral, 1, None)
_STRENGTH = Interval(Real, 0, 1)
#: What the public functions' parameters may be; numpy integers count as integers.
_CONSTRAINTS = {
    "n": [_COUNT],
    "n_features": [_COUNT],
    "n_windows": [_COUNT],
    "window_size": [_COUNT],
    "covariate_degradation": [_STRENGTH],
    "temporal_drift": [_STRENGTH],
    "concept_drift": [_STRENGTH],
}


def credit_features(n_features: int = 20) -> list[str]:
    """The names of the first ``n_features`` features; beyond 20, ``noise_01``, ``noise_02``, ...

    >>> credit_features(3)
    ['income', 'debt_to_income', 'revolving_utilization']
    >>> credit_features(22)[-2:]
    ['noise_01', 'noise_02']
    """
    check_params(_CONSTRAINTS, {"n_features": n_features})
    extra = [f"noise_{i:02d}" for i in range(1, n_features - len(FEATURES) + 1)]
    return list(FEATURES[:n_features]) + extra


# --- drawing the applicants ----------------------------------------------------------------------


def _rng(seed: int, window: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, window, stream])


def _counts(u: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Counts by inverse CDF of uniforms ``u``; ``pmf`` lists P(0), P(1), ... (tail folded in)."""
    cdf = np.cumsum(pmf)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


def _negbin(u: np.ndarray, mean: float, size: float) -> np.ndarray:
    """Negative-binomial counts (over-dispersed, as delinquencies are) with this mean."""
    return _counts(u, stats.nbinom(size, size / (size + mean)).pmf(_SUPPORT))


def _poisson(u: np.ndarray, mean: float) -> np.ndarray:
    return _counts(u, stats.poisson(mean).pmf(_SUPPORT))


def _category(u: np.ndarray, probs: Sequence[float], missing: np.ndarray | None) -> np.ndarray:
    """Category codes by inverse CDF of ``u``; -1 (pandas' missing code) where ``missing``."""
    cdf = np.cumsum(probs) / np.sum(probs)
    codes = np.minimum(np.searchsorted(cdf, u, side="right"), len(probs) - 1).astype(np.int8)
    if missing is not None:
        codes[missing] = -1
    return codes


def _draw(n: int, rng: np.random.Generator, drift: float) -> dict[str, np.ndarray]:
    """All 20 base features. Every draw happens whatever ``drift`` is, in a fixed order, so the
    same rows come out with and without drift; drift only moves the parameters."""
    u = rng.random((13, n))  # uniforms for counts, categories and missing flags
    z = rng.standard_normal((3, n))
    gamma = rng.standard_gamma(3.0, n)
    beta_dti = rng.beta(2.2, 6.0, n)
    beta_util = rng.beta(1.1, 2.0, n)
    beta_hist = rng.beta(4.0, 2.0, n)
    expo = rng.standard_exponential(n)

    log_income = 10.9 + 0.10 * drift + 0.55 * z[0]
    age = np.clip(np.floor(18.0 + 1.5 * drift + 6.5 * gamma), 18, 90).astype(np.int64)
    delinquencies = _negbin(u[0], 0.25 + 0.05 * drift, 0.5)
    home = _category(u[3], (0.45 - 0.06 * drift, 0.40 + 0.06 * drift, 0.12, 0.03), u[11] < 0.02)
    loan = np.exp(9.3 + 0.12 * drift + 0.45 * z[0] + 0.55 * z[1])
    term = np.where(u[4] < 0.28 + 0.05 * drift, 60, 36).astype(np.int64)
    annuity = 0.01 / (1.0 - 1.01 ** (-term.astype(float)))  # monthly payment per unit at 12% APR
    employment = np.minimum(age - 18, np.floor(6.0 * expo)).astype(float)
    employment[u[12] < 0.04] = np.nan  # not reported
    purpose_probs = (0.50 - 0.05 * drift, 0.22 + 0.05 * drift, 0.08, 0.06, 0.04, 0.03, 0.07)
    return {
        "income": np.round(np.exp(log_income), -1),
        "debt_to_income": np.clip(beta_dti * 0.9 * np.exp(-0.15 * z[0]), 0.0, 1.5),
        "revolving_utilization": beta_util ** (1.0 - 0.2 * drift),
        "delinquencies_2y": delinquencies,
        "age": age,
        "home_ownership": home,
        "purpose": _category(u[5], purpose_probs, (u[11] >= 0.02) & (u[11] < 0.03)),
        "inquiries_6m": _negbin(u[1], 0.9 + 0.2 * drift, 1.0),
        "loan_amount": np.round(loan, -2),
        "loan_term_months": term,
        "credit_history_years": np.round((age - 18) * beta_hist, 1),
        "employment_years": employment,
        "open_accounts": 1 + _poisson(u[2], 8.0),
        "verification_status": _category(u[6], (0.35, 0.30, 0.35), None),
        "public_records": _poisson(u[7], 0.06),
        "total_credit_limit": np.round(np.exp(log_income - 0.6 + 0.4 * z[2]), -2),
        "months_since_last_delinquency": np.where(
            delinquencies > 0, 1.0 + np.floor(23.0 * u[8]), np.nan
        ),
        "mortgage_accounts": np.where(
            home == 0, 1 + _poisson(u[9], 0.5), _poisson(u[9], 0.1)
        ).astype(np.int64),
        "application_channel": _category(
            u[10], (0.45 + 0.15 * drift, 0.40 - 0.12 * drift, 0.15 - 0.03 * drift), None
        ),
        "installment_to_income": 12.0 * loan * annuity / np.exp(log_income),
    }


# --- the true risk ------------------------------------------------------------------------------


def _true_logit(x: dict[str, np.ndarray], concept: float) -> np.ndarray:
    """log-odds of default given all 20 base features (observed or not).

    The effects are of the size and sign credit bureaus report. ``concept`` mixes in a downturn
    that the deployed model cannot see coming: everyone defaults more, most of all applicants from
    the online channel (first-payment fraud) and higher earners (layoffs in a well-paid sector),
    while old delinquencies predict less. The ranking of the fixed score weakens.
    """
    z_income = (np.log(x["income"]) - 10.9) / 0.55
    z_dti = (x["debt_to_income"] - 0.22) / 0.12
    util = x["revolving_utilization"]
    delinq = np.minimum(x["delinquencies_2y"], 5)
    employment = x["employment_years"]
    logit = (
        _INTERCEPT
        - 0.65 * z_income
        + 0.45 * z_dti
        + 0.50 * (util - 0.35) / 0.22
        + 1.0 * np.maximum(util - 0.9, 0.0) / 0.1  # maxed-out cards: a kink a linear model misses
        + 0.45 * delinq
        + 0.18 * np.minimum(x["inquiries_6m"], 6)
        - 0.25 * (x["age"] - 39.0) / 10.0
        + np.array([0.0, 0.20, -0.10, 0.10, 0.0])[x["home_ownership"]]  # code -1: missing
        + np.array([0.0, -0.10, 0.0, -0.05, 0.25, 0.55, 0.10, 0.0])[x["purpose"]]
        + 0.12 * (np.log(x["loan_amount"]) - 9.3) / 0.7
        + 0.35 * (x["loan_term_months"] == 60)
        - 0.20 * (x["credit_history_years"] - 14.0) / 8.0
        + np.where(np.isnan(employment), 0.15, -0.12 * (np.nan_to_num(employment) - 5.0) / 5.0)
        - 0.03 * (x["open_accounts"] - 9.0) / 3.0
        + np.array([0.0, 0.05, 0.15])[x["verification_status"]]
        + 0.40 * np.minimum(x["public_records"], 3)
        - 0.08 * (np.log(x["total_credit_limit"] + 100.0) - 10.3) / 0.7
        - 0.10 * np.minimum(x["mortgage_accounts"], 3)
        + np.array([0.05, 0.0, 0.20])[x["application_channel"]]
        + 0.30 * (x["installment_to_income"] - 0.08) / 0.05
    )
    if concept:
        online = x["application_channel"] == 0
        logit = logit + concept * (0.6 + 0.8 * online + 0.3 * z_income - 0.35 * delinq)
    return logit


def _sigmoid(logit: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * logit))  # overflow-free logistic


# --- a broken upstream pipeline -----------------------------------------------------------------


def _corrupt(x: dict[str, np.ndarray], strength: float, rng: np.random.Generator) -> None:
    """Corrupt ``x`` in place as failing feeds do; the draws are made whatever ``strength`` is."""
    n = len(x["income"])
    u = rng.random((3, n))
    noise = rng.standard_normal(n)
    share = DEGRADED_SHARE * strength
    if not strength:
        return
    income = x["income"].astype(float)
    income[u[0] < share] = np.nan  # the income-verification join fails
    x["income"] = income
    x["revolving_utilization"] = np.where(
        u[1] < share, 100.0 * x["revolving_utilization"], x["revolving_utilization"]
    )  # one source switches to percent
    bureau_down = u[2] < share  # bureau timeout: counts default-filled with 0
    x["delinquencies_2y"] = np.where(bureau_down, 0, x["delinquencies_2y"])
    x["inquiries_6m"] = np.where(bureau_down, 0, x["inquiries_6m"])
    x["months_since_last_delinquency"] = np.where(
        bureau_down, np.nan, x["months_since_last_delinquency"]
    )
    # parsing noise on a ratio computed upstream
    x["debt_to_income"] = np.maximum(x["debt_to_income"] + 0.06 * strength * noise, 0.0)


# --- the deployed model ------------------------------------------------------------------------


_LOGGED = ("income", "loan_amount", "total_credit_limit")


@dataclass(frozen=True)
class _Column:
    """How the deployed model turns one feature into standardized inputs."""

    name: str
    fill: float  # median imputation of a missing value
    mean: float
    std: float
    indicator: bool  # a missing-value flag as an extra input
    categories: int  # > 0: one-hot over that many categories, missing -> all zero


def _prepare(values: np.ndarray, column: _Column) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if column.name in _LOGGED:
        values = np.log1p(np.maximum(values, 0.0))
    return np.where(np.isnan(values), column.fill, values)


def _inputs(x: Mapping[str, np.ndarray], columns: Sequence[_Column]) -> Iterator[np.ndarray]:
    """The model's input columns one at a time (never the whole matrix: 1M rows stay cheap)."""
    for column in columns:
        values = x[column.name]
        if column.categories:
            for code in range(column.categories):
                yield (values == code).astype(float)
            continue
        if column.indicator:
            yield np.isnan(np.asarray(values, dtype=float)).astype(float)
        yield (_prepare(values, column) - column.mean) / column.std


def _columns(x: Mapping[str, np.ndarray], features: Sequence[str]) -> tuple[_Column, ...]:
    out = []
    for name in features:
        if name in CATEGORICAL:
            out.append(_Column(name, 0.0, 0.0, 1.0, False, len(CATEGORICAL[name])))
            continue
        raw = np.asarray(x[name], dtype=float)
        prepared = np.log1p(np.maximum(raw, 0.0)) if name in _LOGGED else raw
        fill = float(np.nanmedian(prepared))
        filled = np.where(np.isnan(prepared), fill, prepared)
        std = float(filled.std()) or 1.0
        out.append(_Column(name, fill, float(filled.mean()), std, bool(np.isnan(raw).any()), 0))
    return tuple(out)


# --- the simulator -----------------------------------------------------------------------------


class CreditSimulator:
    """A fixed credit population, its true risk and a deployed model fit once on it.

    Parameters
    ----------
    n_features : int, default 20
        Features the model sees: the first ``n_features`` of :data:`FEATURES`; beyond 20, extra
        standard-normal ``noise_NN`` columns with no effect. Base features left out still drive
        the true risk (as unobserved variables do).
    seed : int, default 0
        Seeds the development sample the model is fit on and every window drawn.
    fit_size : int, default 20_000
        Rows of the development sample (stream of its own, no change injected).

    Notes
    -----
    The deployed model is a logistic regression (ridge penalty 1, fit by Newton's method on the
    development sample's outcomes) on median-imputed, standardized numeric features (income,
    loan amount and credit limit on a log scale), a missing-value flag for features with missing
    values in the development sample, and one-hot categories. It misses the true model's kink at
    high utilization and any base feature left out, so its scores are good but not perfect
    (ROC AUC about 0.8 with all 20 features, against about 0.81 for the true ``p_bad``).

    Examples
    --------
    >>> sim = CreditSimulator(n_features=8, seed=3)
    >>> ref = sim.sample(2_000)
    >>> broken = sim.sample(2_000, covariate_degradation=1.0)
    >>> float(ref["income"].isna().mean()), round(float(broken["income"].isna().mean()), 1)
    (0.0, 0.4)
    >>> bool(np.allclose(sim.score(ref), ref["score"]))
    True
    """

    def __init__(self, n_features: int = 20, seed: int = 0, fit_size: int = FIT_SIZE) -> None:
        self.features = credit_features(n_features)
        self.categorical = [f for f in self.features if f in CATEGORICAL]
        self.seed = int(seed)
        development = self._observed(self._base(fit_size, 0, _FIT, 0.0), fit_size, 0, _FIT)
        labels = _rng(self.seed, 0, _LABELS + 10).random(fit_size) < _sigmoid(
            _true_logit(development, 0.0)
        )
        self._model_columns = _columns(development, self.features)
        self.intercept, self.coefficients = self._fit(development, labels)

    def _base(self, n: int, window: int, stream: int, drift: float) -> dict[str, np.ndarray]:
        return _draw(n, _rng(self.seed, window, stream), drift)

    def _observed(
        self, base: dict[str, np.ndarray], n: int, window: int, stream: int
    ) -> dict[str, np.ndarray]:
        extra = [f for f in self.features if f.startswith("noise_")]
        x = dict(base)
        if extra:
            noise = _rng(self.seed, window, stream + 100).standard_normal((len(extra), n))
            x.update(zip(extra, noise, strict=True))
        return x

    def _fit(self, x: dict[str, np.ndarray], labels: np.ndarray) -> tuple[float, np.ndarray]:
        from threadpoolctl import threadpool_limits

        design = np.column_stack([np.ones(len(labels)), *_inputs(x, self._model_columns)])
        # Small matrices: BLAS threads only contend (10x slower on a busy machine).
        with threadpool_limits(1, user_api="blas"):
            beta = _logistic_newton(design, labels.astype(float))
        return float(beta[0]), beta[1:]

    def _logit(self, x: Mapping[str, np.ndarray]) -> np.ndarray:
        logit = np.full(len(next(iter(x.values()))), self.intercept)
        for weight, column in zip(self.coefficients, _inputs(x, self._model_columns), strict=True):
            logit += weight * column
        return logit

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The deployed model's P(bad) for the rows of ``frame`` (its feature columns).

        Categorical columns may hold category names or the codes :meth:`sample` writes.
        """
        x = {}
        for name in self.features:
            column = frame[name]
            if name in CATEGORICAL:
                categories = pd.Categorical(column, categories=CATEGORICAL[name])
                x[name] = np.asarray(categories.codes)
            else:
                x[name] = column.to_numpy(dtype=float, na_value=np.nan)
        return _sigmoid(self._logit(x))

    def sample(
        self,
        n: int,
        *,
        window: int = 0,
        covariate_degradation: float = 0.0,
        temporal_drift: float = 0.0,
        concept_drift: float = 0.0,
    ) -> pd.DataFrame:
        """Draw ``n`` applicants of window ``window``, with the changes given.

        Parameters
        ----------
        n : int
            Rows.
        window : int, default 0
            Which draw: the same seed and window give the same applicants, whatever the
            changes. By convention window 0 is the reference.
        covariate_degradation, temporal_drift, concept_drift : float in [0, 1]
            Strength of each change (see the module docstring); 0 is none.

        Returns
        -------
        pandas.DataFrame
            The feature columns (categoricals as ``category`` dtype), then ``score`` (the
            deployed model's P(bad) on the features as observed), ``p_bad`` (the true P(bad))
            and ``bad`` (0/1, drawn from ``p_bad``).
        """
        strengths = {
            "covariate_degradation": covariate_degradation,
            "temporal_drift": temporal_drift,
            "concept_drift": concept_drift,
        }
        check_params(_CONSTRAINTS, {"n": n, **strengths})
        n = int(n)
        base = self._base(n, window, _FEATURES, float(temporal_drift))
        p_bad = _sigmoid(_true_logit(base, float(concept_drift)))
        bad = (_rng(self.seed, window, _LABELS).random(n) < p_bad).astype(np.int64)
        x = self._observed(base, n, window, _FEATURES)
        _corrupt(x, float(covariate_degradation), _rng(self.seed, window, _CORRUPTION))
        score = _sigmoid(self._logit(x))
        columns = {name: _as_column(name, x[name]) for name in self.features}
        columns.update(score=score, p_bad=p_bad, bad=bad)
        return pd.DataFrame(columns)

    def windows(
        self,
        n_windows: int,
        window_size: int | Sequence[int],
        schedule: Mapping[str, Sequence[float] | Callable[[int], float] | float] | None = None,
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        """Yield ``("w01", frame), ("w02", frame), ...``: windows 1 to n_windows, as scheduled.

        ``schedule`` maps a change name to a strength per window: a sequence (one per window), a
        function of the window number (1-based), or one number for all. See :func:`make_windows`.
        """
        sizes = _sizes(n_windows, window_size)
        plan = _plan(schedule or {}, n_windows)
        for index in range(1, n_windows + 1):
            strengths = {name: strength[index - 1] for name, strength in plan.items()}
            yield f"w{index:02d}", self.sample(sizes[index - 1], window=index, **strengths)


def _as_column(name: str, values: np.ndarray) -> pd.Categorical | np.ndarray:
    if name in CATEGORICAL:
        return pd.Categorical.from_codes(values, categories=list(CATEGORICAL[name]))
    return values


def _sizes(n_windows: int, window_size: int | Sequence[int]) -> list[int]:
    """One row count per window, from one count or a sequence of them."""
    check_params(_CONSTRAINTS, {"n_windows": n_windows})
    if isinstance(window_size, Integral):
        check_params(_CONSTRAINTS, {"window_size": window_size})
        return [int(window_size)] * n_windows
    for size in window_size:
        check_params(_CONSTRAINTS, {"window_size": size})
    sizes = [int(size) for size in window_size]
    if len(sizes) != n_windows:
        raise ConfigError(f"window_size has {len(sizes)} sizes for {n_windows} windows.")
    return sizes


def _plan(
    schedule: Mapping[str, Sequence[float] | Callable[[int], float] | float], n_windows: int
) -> dict[str, list[float]]:
    plan = {}
    for name, strength in schedule.items():
        if name not in CHANGES:
            raise ConfigError(f"Unknown change {name!r}; the changes are {', '.join(CHANGES)}.")
        if callable(strength):
            values = [float(strength(i)) for i in range(1, n_windows + 1)]
        elif isinstance(strength, Real):
            values = [float(strength)] * n_windows
        else:
            values = [float(v) for v in strength]
            if len(values) != n_windows:
                raise ConfigError(f"{name} has {len(values)} strengths for {n_windows} windows.")
        for value in values:
            check_params({name: [_STRENGTH]}, {name: value})
        plan[name] = values
    return plan


def _logistic_newton(
    design: np.ndarray, y: np.ndarray, ridge: float = 1.0, iterations: int = 50
) -> np.ndarray:
    """Ridge-penalized logistic regression by Newton's method (intercept, column 0, unpenalized).

    A dozen exact Newton steps on the small development sample: deterministic, and no solver
    tolerance or library version changes the scores.
    """
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = _sigmoid(design @ beta)
        gradient = design.T @ (y - p) - penalty * beta
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


@functools.lru_cache(maxsize=16)
def _simulator(n_features: int, seed: int) -> CreditSimulator:
    # Fitting the model is the slow part of a small draw: reuse it across calls.
    return CreditSimulator(n_features=n_features, seed=seed)


def make_credit_data(
    n: int,
    n_features: int = 20,
    seed: int = 0,
    *,
    window: int = 0,
    covariate_degradation: float = 0.0,
    temporal_drift: float = 0.0,
    concept_drift: float = 0.0,
) -> pd.DataFrame:
    """Credit-scoring data: features, the deployed model's ``score``, true ``p_bad`` and ``bad``.

    A shortcut for ``CreditSimulator(n_features, seed).sample(n, window=window, ...)``, with
    the fitted simulator cached. See :class:`CreditSimulator` for the model and the module
    docstring for the changes.

    Examples
    --------
    >>> frame = make_credit_data(5_000, seed=0)
    >>> frame.shape
    (5000, 23)
    >>> bool(0.07 < frame["bad"].mean() < 0.13)
    True
    """
    return _simulator(int(n_features), int(seed)).sample(
        n,
        window=window,
        covariate_degradation=covariate_degradation,
        temporal_drift=temporal_drift,
        concept_drift=concept_drift,
    )


def make_windows(
    n_windows: int = 12,
    window_size: int | Sequence[int] = 10_000,
    *,
    n_features: int = 20,
    seed: int = 0,
    schedule: Mapping[str, Sequence[float] | Callable[[int], float] | float] | None = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield a time series of windows ``(window_id, frame)`` after the reference window.

    The reference is ``make_credit_data(n, n_features, seed)`` (window 0); the windows are
    windows 1, 2, ... of the same population and model, each changed as ``schedule`` says.

    Parameters
    ----------
    n_windows : int
        How many windows.
    window_size : int or sequence of int
        Rows per window, one number or one per window.
    n_features, seed
        As for :func:`make_credit_data`.
    schedule : mapping, optional
        Change name (one of :data:`CHANGES`) to its strength per window: a sequence with one
        value per window, a function of the 1-based window number, or one number. Changes not
        named stay at 0. :func:`ramp` builds the usual gradual onset.

    Examples
    --------
    >>> plan = {"temporal_drift": ramp(4), "covariate_degradation": [0, 0, 0, 1]}
    >>> for window_id, frame in make_windows(4, 1_000, n_features=4, seed=0, schedule=plan):
    ...     print(window_id, round(float(frame["income"].isna().mean()), 2))
    w01 0.0
    w02 0.0
    w03 0.0
    w04 0.38
    """
    return _simulator(int(n_features), int(seed)).windows(n_windows, window_size, schedule)


def ramp(n_windows: int, start: int = 1, end: int | None = None, peak: float = 1.0) -> list[float]:
    """Strengths for a gradual onset: 0 up to window ``start``, rising linearly to ``peak`` at
    window ``end`` (default: the last), then held. Windows are numbered from 1.

    >>> ramp(5)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> ramp(5, start=3, end=4, peak=0.5)
    [0.0, 0.0, 0.0, 0.5, 0.5]
    """
    end = n_windows if end is None else end
    if not 1 <= start <= end <= n_windows:
        raise ConfigError(f"ramp needs 1 <= start <= end <= n_windows, got {start}, {end}.")
    out = []
    for index in range(1, n_windows + 1):
        if index <= start:
            out.append(0.0)
        elif index >= end:
            out.append(float(peak))
        else:
            out.append(float(peak) * (index - start) / (end - start))
    return out
