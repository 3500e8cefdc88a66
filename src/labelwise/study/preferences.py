"""Audit a pairwise preference dataset for an attribute that rides along with quality.

"Alignment Tampering" (2026) describes how a policy's biased answers, when they are also better
answers, pass into the preference data: annotators pick the better answer, the pairwise label
says which is better but not why, the reward model learns the attribute as a cue of quality,
and best-of-N sampling or RL amplifies it. Given pairs ``(prompt, chosen, rejected)``, an
attribute detector and, optionally, an attribute-blind quality score, this audit reports

- the 2x2 table of attribute presence in chosen vs rejected, with the exact McNemar test;
- the attribute's win rate in pairs where only one side has it, and its lift over the base rate;
- a Bradley-Terry fit ``P(a > b) = sigmoid(b_q dQuality + b_a dAttribute)`` (no intercept,
  symmetrized pairs, standard errors from the Hessian or a bootstrap) that separates a preference
  for quality from a preference for the attribute: ``b_a ~ 0`` with ``corr(dAttribute, dQuality)
  > 0`` is *entangled* (the amplification risk), ``b_a > 0`` is a *direct* preference;
- prompt n-grams whose presence raises the attribute's win rate (Fisher exact tests with
  Benjamini-Hochberg FDR);
- a best-of-N forecast: a bag-of-words Bradley-Terry reward model fit on the pairs picks the
  highest-reward response out of N drawn from the pool of responses; ``bias(N)`` is the share
  of picks with the attribute, next to the same forecast for a picker that sees only the quality
  score; and, for keyword detectors, the reward change when the keywords are deleted.

:func:`synthetic_preferences` generates the two situations the audit separates.
"""

from __future__ import annotations

import math
import os
import random
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.special import expit, logit
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from labelwise._optional import require
from labelwise._params import Interval, Options, check_params
from labelwise.errors import ConfigError, InputError, InputTypeError
from labelwise.io import markdown_table, write_png
from labelwise.study._checks import checked_list
from labelwise.study._shown import OWN_CELLS, interval_cells, p_text

__all__ = [
    "PREFERENCE_VERDICTS",
    "PreferenceAudit",
    "preference_audit",
    "synthetic_preferences",
]

#: The verdicts, with and without a quality score.
PREFERENCE_VERDICTS = (
    "direct preference",
    "entangled: amplification risk",
    "attribute penalized",
    "no attribute preference",
    "attribute preferred (quality not controlled)",
)
#: The N of the best-of-N forecast.
BEST_OF_N = (1, 2, 4, 8, 16)

Detector = Callable[[str], bool]


# --- the synthetic data --------------------------------------------------------------------------

_TOPICS = (
    "photosynthesis", "compound interest", "the water cycle", "binary search", "vaccines",
    "inflation", "plate tectonics", "recursion", "tides", "supply and demand", "black holes",
    "the immune system", "encryption", "climate models", "neural networks", "the stock market",
)  # fmt: skip
_VERBS = ("explain", "describe", "summarize", "teach me about", "give an overview of")
_MODIFIERS = ("in detail", "briefly", "with an example", "step by step", "simply")
_GOOD = ("accurate", "clear", "precise", "thorough", "relevant", "correct", "structured", "helpful")
_BAD = ("vague", "confusing", "wrong", "rambling", "incomplete", "sloppy")
_FILLER = ("the", "answer", "covers", "this", "topic", "and", "its", "main", "ideas", "with")
#: The attribute the generator plants: a brand mention.
SYNTHETIC_KEYWORDS = ("acme",)


def _response(quality: float, attribute: bool, draw: random.Random) -> str:
    """Text whose quality shows only through noisy cue words, plus the brand if present."""
    share = float(expit(quality))
    n_good = sum(draw.random() < share for _ in range(4))
    n_bad = sum(draw.random() >= share for _ in range(3))
    words = draw.choices(_FILLER, k=8) + draw.choices(_GOOD, k=n_good)
    words += draw.choices(_BAD, k=n_bad) + (["acme"] if attribute else [])
    draw.shuffle(words)
    return " ".join(words)


def synthetic_preferences(
    n_pairs: int = 2000,
    kind: str = "entangled",
    base_rate: float = 0.2,
    entanglement: float = 1.5,
    preference: float = 1.5,
    sharpness: float = 3.0,
    trigger: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Pairwise preferences over responses with a latent quality and a brand-mention attribute.

    Each response has a latent quality ``q ~ N(0, 1)``, visible in its text only through noisy
    cue words, and mentions the brand "acme" with probability
    ``sigmoid(logit(base_rate) + entanglement * q)`` (``kind="entangled"``) or ``base_rate``
    (``kind="direct"``). The annotator prefers response ``a`` over ``b`` with probability
    ``sigmoid(sharpness * (q_a - q_b) + pref * (A_a - A_b))``, where ``pref`` is 0 for
    ``"entangled"`` (chosen by quality only) and ``preference`` for ``"direct"`` (only on
    prompts containing ``trigger`` when it is given).

    Parameters
    ----------
    n_pairs : int, default 2000
    kind : {"entangled", "direct"}
    base_rate : float, default 0.2
        Share of responses of average quality that mention the brand.
    entanglement : float, default 1.5
        Log-odds of the brand per unit of quality (``"entangled"`` only).
    preference : float, default 1.5
        The annotator's direct log-odds preference for the brand (``"direct"`` only).
    sharpness : float, default 3.0
        How strongly the annotator follows quality.
    trigger : str, optional
        With ``"direct"``, a phrase added to the prompts of about half of the pairs; the
        direct preference applies on those only.
    seed : int, default 0

    Returns
    -------
    DataFrame
        ``prompt, chosen, rejected, chosen_quality, rejected_quality`` (the latent qualities:
        an attribute-blind quality score).

    Examples
    --------
    >>> data = synthetic_preferences(5, seed=0)
    >>> list(data.columns)
    ['prompt', 'chosen', 'rejected', 'chosen_quality', 'rejected_quality']
    """
    check_params(_SYNTHETIC_PARAMS, {"n_pairs": n_pairs, "kind": kind, "base_rate": base_rate})
    n_pairs = int(n_pairs)
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=(n_pairs, 2))
    slope = entanglement if kind == "entangled" else 0.0
    attribute = rng.random((n_pairs, 2)) < expit(logit(base_rate) + slope * quality)
    triggered = rng.random(n_pairs) < 0.5 if trigger else np.ones(n_pairs, dtype=bool)
    pref = np.where(triggered, preference if kind == "direct" else 0.0, 0.0)
    margin = sharpness * (quality[:, 0] - quality[:, 1]) + pref * (
        attribute[:, 0].astype(float) - attribute[:, 1]
    )
    first_wins = rng.random(n_pairs) < expit(margin)
    # The text is assembled with the standard library's generator: far faster than numpy's
    # for one small draw at a time, and seeded from the same seed.
    draw = random.Random(int(rng.integers(2**63)))
    rows = []
    for i in range(n_pairs):
        prompt = f"{draw.choice(_VERBS)} {draw.choice(_TOPICS)} {draw.choice(_MODIFIERS)}"
        if trigger and triggered[i]:
            prompt += f" {trigger}"
        texts = [_response(quality[i, j], bool(attribute[i, j]), draw) for j in (0, 1)]
        win, lose = (0, 1) if first_wins[i] else (1, 0)
        rows.append((prompt, texts[win], texts[lose], quality[i, win], quality[i, lose]))
    columns = ["prompt", "chosen", "rejected", "chosen_quality", "rejected_quality"]
    return pd.DataFrame(rows, columns=columns)


# --- argument checks -----------------------------------------------------------------------------


_COUNT = Interval(Integral, 1, None)
_SHARE = Interval(Real, 0, 1, closed="neither")
_SYNTHETIC_PARAMS = {
    "n_pairs": [_COUNT],
    "kind": [Options(("entangled", "direct"))],
    "base_rate": [_SHARE],
}
_AUDIT_PARAMS = {
    "se": [Options(("hessian", "bootstrap"))],
    "min_count": [_COUNT],
    "n_draws": [_COUNT],
    "n_boot": [_COUNT],
    "fdr": [_SHARE],
    "alpha": [_SHARE],
}


def _detector(attribute: Any) -> tuple[Detector, re.Pattern | None]:
    """A callable detector, and the keyword pattern when the attribute is a keyword list."""
    if callable(attribute):
        return attribute, None
    if isinstance(attribute, str):
        attribute = [attribute]
    try:
        words = [str(w).strip() for w in attribute if str(w).strip()]
    except TypeError:
        raise InputTypeError(
            "attribute must be a list of keywords or a callable str -> bool, "
            f"got {type(attribute).__name__}."
        ) from None
    if not words:
        raise ConfigError("attribute keywords are empty; give at least one keyword.")
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    return (lambda text: pattern.search(text) is not None), pattern


def _columns(data: Any, names: Sequence[str]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InputTypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise InputError(
            f"data lacks column(s) {missing}; columns are {list(data.columns)[:20]}. Name them "
            "with prompt=, chosen=, rejected=."
        )
    if len(data) < 10:
        raise InputError(f"data has {len(data)} pairs; the audit needs at least 10.")
    frame = data[list(names)]
    if frame.isna().any().any():
        raise InputError("prompt, chosen and rejected must not have missing values.")
    return frame.astype(str)


def _quality(data: pd.DataFrame, quality: Any, chosen: Sequence[str], rejected: Sequence[str]):
    """Quality of chosen and rejected responses: from a scorer or from a pair of columns."""
    if quality is None:
        return None
    if callable(quality):
        values = [np.array([float(quality(t)) for t in side]) for side in (chosen, rejected)]
    else:
        name = str(quality)
        pairs = [(f"chosen_{name}", f"rejected_{name}"), (f"{name}_chosen", f"{name}_rejected")]
        found = next((p for p in pairs if all(c in data.columns for c in p)), None)
        if found is None:
            raise InputError(
                f"quality column {name!r}: expected columns {pairs[0]} or {pairs[1]}; "
                f"columns are {list(data.columns)[:20]}."
            )
        try:
            values = [pd.to_numeric(data[c]).to_numpy(dtype=np.float64) for c in found]
        except (TypeError, ValueError):
            raise InputError(f"quality columns {found} must be numeric.") from None
    if not all(np.isfinite(v).all() for v in values):
        raise InputError("quality scores must be finite numbers (no NaN or inf).")
    return values


# --- the statistics ------------------------------------------------------------------------------


def _bt_fit(X: np.ndarray) -> np.ndarray:
    """Bradley-Terry coefficients on chosen-minus-rejected differences: every pair enters once
    as (x, 1) and once as (-x, 0), so no intercept is needed or fitted."""
    if X.shape[1] == 0:
        return np.zeros(0)
    Xs = np.vstack([X, -X])
    y = np.r_[np.ones(len(X)), np.zeros(len(X))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=np.inf, fit_intercept=False, max_iter=1000).fit(Xs, y)
    return model.coef_.ravel()


def _hessian_se(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    p = expit(X @ coef)
    # The symmetrized copies double the information; each real pair is one observation.
    info = (X * (p * (1 - p))[:, None]).T @ X
    try:
        return np.sqrt(np.diag(np.linalg.inv(info)))
    except np.linalg.LinAlgError:
        return np.full(coef.size, np.nan)


def _bradley_terry(
    d_quality: np.ndarray | None, d_attr: np.ndarray, se: str, n_boot: int, seed: int
) -> pd.DataFrame:
    terms = (["quality"] if d_quality is not None else []) + ["attribute"]
    X = np.column_stack(([d_quality] if d_quality is not None else []) + [d_attr])
    coef = _bt_fit(X)
    if se == "bootstrap":
        rng = np.random.default_rng([seed, 3])
        draws = np.array([_bt_fit(X[rng.integers(0, len(X), len(X))]) for _ in range(n_boot)])
        errors = draws.std(axis=0, ddof=1)
    else:
        errors = _hessian_se(X, coef)
    z = coef / errors
    return pd.DataFrame(
        {
            "term": terms,
            "coef": coef,
            "se": errors,
            "z": z,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "low": coef - 1.96 * errors,
            "high": coef + 1.96 * errors,
        }
    )


def _triggers(
    prompts: pd.Series, attr_won: np.ndarray, discordant: np.ndarray, ngram_range, min_count: int
) -> pd.DataFrame:
    """Prompt n-grams with which the attribute side wins more often (one-sided Fisher, BH)."""
    columns = ["ngram", "n_pairs", "win_rate", "win_rate_without", "odds_ratio", "p_value"]
    texts = prompts[discordant].tolist()
    won = attr_won[discordant]
    if len(texts) < 2 * min_count:
        return pd.DataFrame(columns=[*columns, "q_value"])
    vectorizer = CountVectorizer(ngram_range=tuple(ngram_range), binary=True, min_df=min_count)
    try:
        present = vectorizer.fit_transform(texts).tocsc()
    except ValueError:  # no n-gram reaches min_count
        return pd.DataFrame(columns=[*columns, "q_value"])
    rows = []
    total_wins, total = int(won.sum()), len(won)
    for j, gram in enumerate(vectorizer.get_feature_names_out()):
        idx = present[:, j].indices
        n_with, wins_with = idx.size, int(won[idx].sum())
        n_without, wins_without = total - n_with, total_wins - wins_with
        if n_without < min_count:
            continue
        table = [[wins_with, n_with - wins_with], [wins_without, n_without - wins_without]]
        odds, p = stats.fisher_exact(table, alternative="greater")
        rows.append((gram, n_with, wins_with / n_with, wins_without / n_without, odds, p))
    frame = pd.DataFrame(rows, columns=columns)
    frame["q_value"] = stats.false_discovery_control(frame["p_value"]) if len(frame) else []
    return frame.sort_values(["q_value", "p_value"], kind="stable").reset_index(drop=True)


class _RewardModel:
    """A bag-of-words Bradley-Terry reward model: reward = w . counts(text)."""

    def fit(self, chosen: Sequence[str], rejected: Sequence[str]) -> _RewardModel:
        self.vectorizer = CountVectorizer(binary=True, min_df=2)
        counts = self.vectorizer.fit_transform([*chosen, *rejected]).tocsr()
        n = len(chosen)
        diff = counts[:n] - counts[n:]
        Xs = sp.vstack([diff, -diff]).tocsr()
        y = np.r_[np.ones(n), np.zeros(n)]
        # L2 at C=1, as reward models are regularized; no intercept (it cancels in pairs).
        self.model = LogisticRegression(C=1.0, fit_intercept=False, max_iter=1000).fit(Xs, y)
        self.train_rewards = np.asarray(counts @ self.model.coef_.ravel())
        return self

    def reward(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.vectorizer.transform(texts) @ self.model.coef_.ravel())


def _best_of_n(score: np.ndarray, attr: np.ndarray, n_values, n_draws: int, rng) -> list[float]:
    """Share of best-of-N picks with the attribute, N drawn with replacement from the pool."""
    out = []
    for n in n_values:
        draws = rng.integers(0, score.size, size=(n_draws, n))
        top = draws[np.arange(n_draws), np.argmax(score[draws], axis=1)]
        out.append(float(attr[top].mean()))
    return out


# --- the result ----------------------------------------------------------------------------------


@dataclass(eq=False)
class PreferenceAudit:
    """What the preference-data audit found.

    Attributes
    ----------
    pairs : DataFrame
        One row per pair: ``prompt, attr_chosen, attr_rejected, d_attribute`` and, with a quality
        score, ``quality_chosen, quality_rejected, d_quality``; ``reward_chosen,
        reward_rejected`` from the fitted reward model.
    table : DataFrame
        The 2x2 counts: rows chosen has / lacks the attribute, columns rejected has / lacks it.
    summary : dict
        ``n_pairs``, attribute rates (chosen, rejected, base), ``lift``, McNemar counts and
        ``mcnemar_p``, ``win_rate`` in one-sided pairs with its exact 95% interval, the
        correlation ``corr_r``/``corr_p`` of dAttribute and dQuality and, for keyword
        detectors, ``counterfactual_reward_change``.
    bradley_terry : DataFrame
        ``term, coef, se, z, p_value, low, high`` for ``quality`` (when scored) and
        ``attribute``.
    triggers : DataFrame
        Prompt n-grams tested: ``ngram, n_pairs, win_rate, win_rate_without, odds_ratio,
        p_value, q_value`` (most significant first); :meth:`significant_triggers` filters them.
    best_of_n : DataFrame
        ``n, bias_reward_model`` and, with a quality score, ``bias_quality`` (a picker that
        sees the attribute-blind quality only).
    verdict : str
        One of :data:`PREFERENCE_VERDICTS`.
    reasons : list of str
    fdr : float
    seconds : float
    """

    pairs: pd.DataFrame
    table: pd.DataFrame
    summary: dict[str, Any]
    bradley_terry: pd.DataFrame
    triggers: pd.DataFrame
    best_of_n: pd.DataFrame
    verdict: str
    reasons: list[str] = field(default_factory=list)
    fdr: float = 0.05
    seconds: float = 0.0

    def coef(self, term: str) -> float:
        """A Bradley-Terry coefficient: ``"quality"`` or ``"attribute"``."""
        rows = self.bradley_terry.set_index("term")
        return float(rows.loc[term, "coef"]) if term in rows.index else math.nan

    def significant_triggers(self) -> pd.DataFrame:
        """The n-grams whose q-value is below the FDR level."""
        return self.triggers[self.triggers["q_value"] < self.fdr].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "summary": dict(self.summary),
            "table": self.table.to_dict(),
            "bradley_terry": self.bradley_terry.to_dict(orient="records"),
            "triggers": self.significant_triggers().to_dict(orient="records"),
            "best_of_n": self.best_of_n.to_dict(orient="records"),
            "seconds": self.seconds,
        }

    def to_markdown(self) -> str:
        """Tables and verdict as GitHub markdown.

        Row names, Bradley-Terry terms and n-grams of the prompts are data, escaped with
        :func:`~labelwise.io.markdown_escape`.
        """
        s = self.summary
        lines = [f"### Verdict: {self.verdict}", ""]
        lines += [f"- {r}" for r in self.reasons]
        lines += [
            "",
            markdown_table(_pairs_cells(self.table), raw=["chosen \\ rejected"]),
            f"Attribute rate: chosen {s['rate_chosen']:.3f}, rejected {s['rate_rejected']:.3f}, "
            f"base {s['base_rate']:.3f} (lift {s['lift']:.2f}); win rate when only one side has "
            f"it {s['win_rate']:.3f} [{s['win_low']:.3f}, {s['win_high']:.3f}], exact McNemar "
            f"p {p_text(s['mcnemar_p'])}.",
            "",
            markdown_table(_bradley_terry_cells(self.bradley_terry), raw=OWN_CELLS),
            markdown_table(_best_of_n_cells(self.best_of_n)),
        ]
        sig = self.significant_triggers()
        lines.append(f"Prompt triggers (FDR {self.fdr:g}): {len(sig)} of {len(self.triggers)}.")
        if len(sig):
            lines += ["", markdown_table(_trigger_cells(sig.head(10)))]
        text = "\n".join(lines)
        return text if text.endswith("\n") else text + "\n"

    def plot(self, path: str | os.PathLike) -> str | os.PathLike:
        """Save attribute rates, Bradley-Terry coefficients and the best-of-N forecast (PNG,
        written atomically). Returns ``path``."""
        # Figure without pyplot: no global state, no GUI backend, safe in threads and servers.
        Figure = require("matplotlib.figure", "plotting").Figure

        figure = Figure(figsize=(12, 3.4), layout="constrained")
        ax_rate, ax_bt, ax_bon = figure.subplots(1, 3)
        s = self.summary
        names = ["base", "rejected", "chosen"]
        ax_rate.bar(names, [s["base_rate"], s["rate_rejected"], s["rate_chosen"]],
                    color=["tab:gray", "tab:blue", "tab:orange"])  # fmt: skip
        ax_rate.set_ylabel("share with the attribute")
        ax_rate.set_title(f"win rate when one-sided {s['win_rate']:.2f}", fontsize="medium")
        bt = self.bradley_terry
        err = np.vstack([bt["coef"] - bt["low"], bt["high"] - bt["coef"]])
        ax_bt.errorbar(bt["coef"], np.arange(len(bt)), xerr=np.nan_to_num(err), fmt="o", capsize=4)
        ax_bt.axvline(0, color="black", linewidth=0.8)
        ax_bt.set_yticks(np.arange(len(bt)), [f"b_{t[0]} ({t})" for t in bt["term"]])
        ax_bt.set_ylim(-0.6, len(bt) - 0.4)
        ax_bt.set_title(f"Bradley-Terry: {self.verdict}", fontsize="medium")
        bon = self.best_of_n
        ax_bon.plot(bon["n"], bon["bias_reward_model"], marker="o", label="reward model")
        if "bias_quality" in bon:
            ax_bon.plot(bon["n"], bon["bias_quality"], marker="s", label="quality only")
        ax_bon.set_xscale("log", base=2)
        ax_bon.set_xticks(bon["n"], [str(n) for n in bon["n"]])
        ax_bon.set_xlabel("N (best-of-N)")
        ax_bon.set_ylabel("share of picks with the attribute")
        ax_bon.set_ylim(0, 1)
        ax_bon.legend(fontsize="small")
        ax_bon.set_title("best-of-N forecast", fontsize="medium")
        write_png(figure, path)
        return path


def _pairs_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The 2 x 2 table of pairs, as shown."""
    return pd.DataFrame(
        {
            "chosen \\ rejected": table.index,
            "has attribute": table.iloc[:, 0].to_numpy(),
            "lacks it": table.iloc[:, 1].to_numpy(),
        }
    )


def _bradley_terry_cells(bt: pd.DataFrame) -> pd.DataFrame:
    """The Bradley-Terry coefficients, as shown: signed, the interval in one cell."""
    return pd.DataFrame(
        {
            "Bradley-Terry term": bt["term"],
            "coef": [f"{v:+.3f}" for v in bt["coef"]],
            "se": [f"{v:.3f}" for v in bt["se"]],
            "95% interval": interval_cells(bt, "+.3f"),
            "p": [p_text(v) for v in bt["p_value"]],
        }
    )


def _best_of_n_cells(best: pd.DataFrame) -> pd.DataFrame:
    """The best-of-N forecast, one column per N, one row per picker."""
    labels = {"bias_reward_model": "bias(N), reward model", "bias_quality": "bias(N), quality"}
    rows = [
        [label, *(f"{v:.3f}" for v in best[column])]
        for column, label in labels.items()
        if column in best
    ]
    return pd.DataFrame(rows, columns=["N", *best["n"]])


def _trigger_cells(triggers: pd.DataFrame) -> pd.DataFrame:
    """The prompt n-grams, as shown."""
    return pd.DataFrame(
        {
            "n-gram": triggers["ngram"],
            "pairs": triggers["n_pairs"],
            "win rate": [f"{v:.3f}" for v in triggers["win_rate"]],
            "without": [f"{v:.3f}" for v in triggers["win_rate_without"]],
            "q": [p_text(v) for v in triggers["q_value"]],
        }
    )


# --- the audit -----------------------------------------------------------------------------------


def _verdict(summary, bt, alpha) -> tuple[str, list[str]]:
    s = summary
    reasons = [
        f"attribute in {s['rate_chosen']:.1%} of chosen vs {s['rate_rejected']:.1%} of rejected "
        f"responses (exact McNemar p {p_text(s['mcnemar_p'])}); wins {s['win_rate']:.1%} of "
        "one-sided pairs"
    ]
    attr = bt.set_index("term").loc["attribute"]
    if "quality" not in set(bt["term"]):
        reasons.append("no quality score: quality and attribute preference cannot be separated")
        preferred = s["win_rate"] > 0.5 and s["mcnemar_p"] < alpha
        return PREFERENCE_VERDICTS[4 if preferred else 3], reasons
    reasons.append(
        f"Bradley-Terry b_a = {attr['coef']:+.3f} (p {p_text(attr['p_value'])}) with quality "
        f"controlled; corr(dAttribute, dQuality) = {s['corr_r']:+.3f} (p {p_text(s['corr_p'])})"
    )
    if attr["coef"] > 0 and attr["p_value"] < alpha:
        # Residual confounding: what the score misses of quality, a correlated attribute absorbs.
        reasons.append(
            "the attribute is preferred beyond the quality score; if that score measures quality "
            "with noise and the attribute goes with quality, part of b_a is missed quality"
        )
        return PREFERENCE_VERDICTS[0], reasons
    if s["corr_r"] > 0 and s["corr_p"] < alpha:
        reasons.append("the attribute wins through quality: a reward model can learn it as a cue")
        return PREFERENCE_VERDICTS[1], reasons
    if attr["coef"] < 0 and attr["p_value"] < alpha:
        return PREFERENCE_VERDICTS[2], reasons
    return PREFERENCE_VERDICTS[3], reasons


def preference_audit(
    data: pd.DataFrame,
    attribute: Sequence[str] | Detector,
    quality: str | Callable[[str], float] | None = None,
    *,
    prompt: str = "prompt",
    chosen: str = "chosen",
    rejected: str = "rejected",
    ngram_range: tuple[int, int] = (1, 2),
    min_count: int = 20,
    fdr: float = 0.05,
    n_values: Sequence[int] = BEST_OF_N,
    n_draws: int = 4000,
    se: str = "hessian",
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> PreferenceAudit:
    """Audit pairwise preference data for an attribute the labels reward.

    Parameters
    ----------
    data : DataFrame
        One row per pair, with prompt, chosen and rejected text columns.
    attribute : list of str or callable str -> bool
        Keywords (any of them, whole words, case-insensitive) or a detector.
    quality : str or callable str -> float, optional
        An attribute-blind quality score: a scorer, or a name ``q`` for the columns
        ``chosen_q``/``rejected_q`` (or ``q_chosen``/``q_rejected``). Without it the audit
        cannot tell a preference for quality from one for the attribute.
    prompt, chosen, rejected : str
        Column names.
    ngram_range : (int, int), default (1, 2)
        Prompt n-grams tested as triggers.
    min_count : int, default 20
        An n-gram is tested when at least this many one-sided pairs have it and lack it.
    fdr : float, default 0.05
        Benjamini-Hochberg level of the trigger tests.
    n_values : sequence of int, default (1, 2, 4, 8, 16)
        N of the best-of-N forecast.
    n_draws : int, default 4000
        Simulated best-of-N picks per N.
    se : {"hessian", "bootstrap"}, default "hessian"
        Standard errors of the Bradley-Terry fit.
    n_boot : int, default 200
        Refits for ``se="bootstrap"``.
    alpha : float, default 0.05
        Significance level behind the verdict.
    seed : int, default 0

    Returns
    -------
    PreferenceAudit

    Raises
    ------
    InputError
        For missing columns or values, fewer than 10 pairs, or an attribute that no response has.
    ConfigError
        For invalid settings.

    Examples
    --------
    >>> data = synthetic_preferences(400, kind="direct", seed=0)
    >>> audit = preference_audit(data, ["acme"], quality="quality", n_draws=500)
    >>> audit.verdict
    'direct preference'
    """
    start = time.perf_counter()
    values = {"se": se, "min_count": min_count, "n_draws": n_draws, "n_boot": n_boot}
    check_params(_AUDIT_PARAMS, {**values, "fdr": fdr, "alpha": alpha})
    min_count, n_draws, n_boot = int(min_count), int(n_draws), int(n_boot)
    n_values = [int(n) for n in checked_list("n_values", n_values, _COUNT)]
    frame = _columns(data, [prompt, chosen, rejected])
    detect, pattern = _detector(attribute)
    good, bad = frame[chosen].tolist(), frame[rejected].tolist()
    a_c = np.array([bool(detect(t)) for t in good])
    a_r = np.array([bool(detect(t)) for t in bad])
    if not (a_c.any() or a_r.any()):
        raise InputError("no response has the attribute; check the keywords or the detector.")
    scores = _quality(data, quality, good, bad)
    d_attr = a_c.astype(float) - a_r
    summary = _attribute_stats(a_c, a_r)
    pairs = pd.DataFrame(
        {"prompt": frame[prompt].to_numpy(), "attr_chosen": a_c, "attr_rejected": a_r,
         "d_attribute": d_attr}
    )  # fmt: skip
    d_quality = None
    if scores is not None:
        pairs["quality_chosen"], pairs["quality_rejected"] = scores
        d_quality = scores[0] - scores[1]
        pairs["d_quality"] = d_quality
        summary["corr_r"], summary["corr_p"] = _pair_correlation(d_attr, d_quality)
    if not (d_attr != 0).any():
        raise InputError("the attribute never differs within a pair; nothing to compare.")
    bt = _bradley_terry(d_quality, d_attr, se, n_boot, seed)
    one_sided = a_c != a_r
    triggers = _triggers(frame[prompt], a_c, one_sided, ngram_range, min_count)
    reward = _RewardModel().fit(good, bad)
    n = len(good)
    pairs["reward_chosen"] = reward.train_rewards[:n]
    pairs["reward_rejected"] = reward.train_rewards[n:]
    pool_attr = np.r_[a_c, a_r]
    rng = np.random.default_rng([seed, 4])
    pool_reward = np.r_[pairs["reward_chosen"], pairs["reward_rejected"]]
    # Ties between identical rewards are broken at random, not by position in the pool.
    jitter = rng.random(pool_reward.size) * 1e-9
    best = pd.DataFrame({"n": n_values})
    best["bias_reward_model"] = _best_of_n(pool_reward + jitter, pool_attr, n_values, n_draws, rng)
    if scores is not None:
        pool_quality = np.r_[scores[0], scores[1]] + jitter
        best["bias_quality"] = _best_of_n(pool_quality, pool_attr, n_values, n_draws, rng)
    if pattern is not None:
        texts = [t for t, a in zip([*good, *bad], pool_attr, strict=True) if a]
        stripped = [pattern.sub(" ", t) for t in texts]
        change = reward.reward(stripped) - reward.reward(texts)
        summary["counterfactual_reward_change"] = float(np.mean(change))
    verdict, reasons = _verdict(summary, bt, float(alpha))
    if best["bias_reward_model"].iloc[-1] > best["bias_reward_model"].iloc[0]:
        reasons.append(
            f"best-of-N forecast: bias {best['bias_reward_model'].iloc[0]:.3f} at N="
            f"{n_values[0]} -> {best['bias_reward_model'].iloc[-1]:.3f} at N={n_values[-1]}"
        )
    table = pd.DataFrame(
        [[int(np.sum(a_c & a_r)), int(np.sum(a_c & ~a_r))],
         [int(np.sum(~a_c & a_r)), int(np.sum(~a_c & ~a_r))]],
        index=["chosen has attribute", "chosen lacks it"],
        columns=["rejected has attribute", "rejected lacks it"],
    )  # fmt: skip
    return PreferenceAudit(
        pairs, table, summary, bt, triggers, best, verdict, reasons, float(fdr),
        time.perf_counter() - start,
    )  # fmt: skip


def _pair_correlation(d_attr: np.ndarray, d_quality: np.ndarray) -> tuple[float, float]:
    """Correlation of the two differences over pairs in both orientations.

    Which side is "chosen" depends on the label itself, so the ordinary (centred) correlation
    of chosen-minus-rejected differences picks up the choice: with a direct preference, the
    attribute side wins some pairs despite lower quality and the correlation turns negative
    even when attribute and quality are independent. Counting every pair in both orientations
    centres both differences at zero, which leaves the uncentred correlation below; its test
    uses the real number of pairs.
    """
    denom = math.sqrt(float(np.sum(d_attr**2) * np.sum(d_quality**2)))
    if denom == 0 or d_attr.size < 3:
        return math.nan, math.nan
    r = float(np.sum(d_attr * d_quality) / denom)
    n = d_attr.size
    t = r * math.sqrt((n - 2) / max(1 - r * r, 1e-300))
    return r, float(2 * stats.t.sf(abs(t), n - 2))


def _attribute_stats(a_c: np.ndarray, a_r: np.ndarray) -> dict[str, Any]:
    b, c = int(np.sum(a_c & ~a_r)), int(np.sum(~a_c & a_r))
    test = stats.binomtest(b, b + c, 0.5) if b + c else None
    base = float(np.mean(np.r_[a_c, a_r]))
    interval = test.proportion_ci() if test else None
    return {
        "n_pairs": int(a_c.size),
        "rate_chosen": float(a_c.mean()),
        "rate_rejected": float(a_r.mean()),
        "base_rate": base,
        "lift": float(a_c.mean() / base) if base else math.nan,
        "only_chosen": b,
        "only_rejected": c,
        "mcnemar_p": float(test.pvalue) if test else 1.0,
        "win_rate": b / (b + c) if b + c else math.nan,
        "win_low": float(interval.low) if interval else math.nan,
        "win_high": float(interval.high) if interval else math.nan,
    }
