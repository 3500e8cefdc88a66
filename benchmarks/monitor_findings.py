"""Reproduce the label-free governance-monitoring paper's three findings with labelwise.monitor.

    .venv/bin/python benchmarks/monitor_findings.py           # full run (under two minutes)
    .venv/bin/python benchmarks/monitor_findings.py --quick   # smaller windows, fewer splits

The paper ("Label-Free Detection of Governance Evidence Degradation in Risk Decision Systems",
2026) reports on Lending Club: (1) raw proxies separate injected covariate degradation from
natural temporal drift (feature PSI delta up to 1.84, score PSI delta up to 0.92); (2) a pure
change of P(Y|X) moves no proxy at all; (3) its fired-share composite rises 0.583 -> 0.833 ->
1.000 as two, three, four monitors fire. Here the same three questions are asked of

- synthetic credit data (``labelwise.monitor.synthetic``): a 20,000-row reference and windows
  of 10,000 rows drawn from the same applicants with and without each change, so a delta
  (changed window minus the same window unchanged) is the change alone;
- the real German credit table (1,000 applicants): random splits into a 600-row reference and a
  400-row later window, a logistic scorecard fit on the reference, and the three changes
  injected into the later window.

Writes benchmarks/results/monitor_findings/: monitor_findings.md (tables and verdicts),
monitor_findings.csv (one row per checked window), monitor_findings.json (everything) and
monitor_findings.png (the figure). ``--quick`` writes *.quick.* files instead.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import labelwise
from labelwise.io import atomic_write, write_csv, write_json, write_text
from labelwise.monitor import LEVELS, PRESETS, Monitor, composite_score, level_of
from labelwise.monitor.synthetic import CreditSimulator, make_windows, ramp

OUT = Path(__file__).resolve().parent / "results" / "monitor_findings"
CHANGES = ("covariate_degradation", "temporal_drift", "concept_drift")
SHORT = {
    "covariate_degradation": "degradation",
    "temporal_drift": "temporal drift",
    "concept_drift": "concept drift",
}
STRENGTHS = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0)
PAPER = PRESETS["governance-paper"]
PAPER_MONITORS = tuple(m for m, w in PAPER["weights"].items() if w > 0)
#: The proxies whose deltas finding 2 inspects: every label-free number of a window.
PROXIES = (
    ("score", "psi"),
    ("score", "ks"),
    ("score", "wasserstein_norm"),
    ("features", "max_psi"),
    ("features", "weighted_psi"),
    ("features", "missing_rate_change_max"),
    ("entropy", "entropy_change"),
    ("entropy", "near_cutoff_change"),
    ("confidence", "ks"),
    ("performance", "expected_bad_rate"),
    ("performance", "expected_auc"),
    ("operational", "approval_rate"),
    ("operational", "out_of_range_share"),
    ("multivariate", "reconstruction_error_change"),
)


# --- the two data sets ---------------------------------------------------------------------------


@dataclass
class Case:
    """A reference window and a way to draw one later window with a change of some strength."""

    name: str
    reference: pd.DataFrame
    features: list[str]
    categorical: list[str]
    cutoff: float
    window: Callable[[str | None, float], pd.DataFrame]


def synthetic_case(quick: bool, seed: int = 0) -> Case:
    sim = CreditSimulator(n_features=20, seed=seed)
    size = 2_000 if quick else 10_000
    reference = sim.sample(5_000 if quick else 20_000, window=0)

    def window(change: str | None, strength: float) -> pd.DataFrame:
        # Window 1 every time: the same applicants, so a delta is the change alone.
        return sim.sample(size, window=1, **({change: strength} if change else {}))

    return Case("synthetic", reference, sim.features, sim.categorical, 0.25, window)


def german_path() -> Path:
    shared = os.environ.get("LABELWISE_SHARED")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return root / "data" / "german-credit" / "germancredit.csv"


def _scorecard(reference: pd.DataFrame, features: list[str], categorical: list[str]):
    """A logistic scorecard (one-hot categories, standardized numbers), as banks still build."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [f for f in features if f not in categorical]
    prepare = ColumnTransformer(
        [
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ]
    )
    return make_pipeline(prepare, LogisticRegression(C=0.3, max_iter=2_000))


def _as_model_input(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    # Object columns with np.nan: what scikit-learn's imputers expect under any pandas version.
    out = frame.copy()
    for name in categorical:
        out[name] = out[name].astype(object).where(out[name].notna(), np.nan)
    return out


def german_case(split: int, table: pd.DataFrame) -> Case:
    """Reference = 600 random applicants, later window = the other 400 (split = the seed)."""
    from sklearn.model_selection import cross_val_predict

    features = [c for c in table.columns if c not in ("creditability", "bad")]
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(table[c])]
    order = np.random.default_rng(split).permutation(len(table))
    reference = table.iloc[order[:600]].reset_index(drop=True)
    later = table.iloc[order[600:]].reset_index(drop=True)
    model = _scorecard(reference, features, categorical)
    x_ref = _as_model_input(reference[features], categorical)
    # Out-of-fold reference scores: in-sample scores would look better calibrated than any
    # later window can be.
    reference = reference.assign(
        score=cross_val_predict(model, x_ref, reference["bad"], cv=5, method="predict_proba")[:, 1]
    )
    model.fit(x_ref, reference["bad"])

    clean: list[pd.DataFrame] = []  # the unchanged window, scored once

    def window(change: str | None, strength: float) -> pd.DataFrame:
        rng = np.random.default_rng([split, 7])  # the same draws whatever the change
        if change in (None, "concept_drift") and clean:
            frame = clean[0].copy()
        else:
            frame = later.copy()
            if change == "covariate_degradation":
                frame = _degrade_german(frame, strength, rng)
            elif change == "temporal_drift":
                frame = _drift_german(frame, strength, rng)
            scores = model.predict_proba(_as_model_input(frame[features], categorical))[:, 1]
            frame = frame.assign(score=scores)
            if change is None:
                clean.append(frame.copy())
        if change == "concept_drift":
            # X and so the scores stay exactly as they were; only the outcomes change.
            frame["bad"] = _concept_german(frame, strength, rng)
        return frame

    return Case(f"German credit (split {split})", reference, features, categorical, 0.5, window)


def _degrade_german(frame: pd.DataFrame, strength: float, rng: np.random.Generator) -> pd.DataFrame:
    """Feed failures on the scorecard's strongest inputs: missing, wrong unit, default-filled."""
    u = rng.random((3, len(frame)))
    share = 0.4 * strength
    amount = frame["credit_amount"].astype(float)
    frame["credit_amount"] = amount.where(u[0] >= share)  # a join to the loan system fails
    duration = frame["duration_in_month"].astype(float)
    frame["duration_in_month"] = np.where(u[1] < share, 30 * duration, duration)  # days
    status = frame["status_of_existing_checking_account"].astype(object)
    frame["status_of_existing_checking_account"] = status.where(u[2] >= share)  # core banking
    return frame


def _drift_german(frame: pd.DataFrame, strength: float, rng: np.random.Generator) -> pd.DataFrame:
    """Three years of ordinary change: 10% higher amounts, older applicants, more renters."""
    u = rng.random(len(frame))
    frame["credit_amount"] = np.round(frame["credit_amount"] * (1 + 0.10 * strength))
    frame["age_in_years"] = frame["age_in_years"] + np.floor(2 * strength * (u < 0.75))
    frame["duration_in_month"] = frame["duration_in_month"] + np.where(u < 0.2 * strength, 6, 0)
    owners = frame["housing"].eq("own").to_numpy()
    housing = frame["housing"].to_numpy(dtype=object, copy=True)
    housing[owners & (u < 0.15 * strength)] = "rent"
    frame["housing"] = housing
    return frame


def _concept_german(frame: pd.DataFrame, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Same applicants, new outcomes: some good loans turn bad, long loans and renters most."""
    u = rng.random(len(frame))
    risk = 0.10 + 0.30 * (frame["duration_in_month"] > 18) + 0.20 * frame["housing"].eq("rent")
    turned = u < strength * risk.to_numpy()
    return np.where(turned, 1, frame["bad"].to_numpy())


# --- checking windows ---------------------------------------------------------------------------


def _row(case: Case, monitor: Monitor, change: str | None, strength: float) -> dict[str, Any]:
    """Check one window, reconcile it with its labels, and flatten what the findings need."""
    frame = case.window(change, strength)
    window_id = f"{change or 'none'}@{strength:g}"
    result = monitor.check(frame[[*case.features, "score"]], window_id=window_id)
    row: dict[str, Any] = {
        "case": case.name,
        "change": change or "none",
        "strength": strength,
        "n_rows": len(frame),
    }
    for monitor_name, metric in PROXIES:
        try:
            row[f"{monitor_name}.{metric}"] = result.metric(monitor_name, metric).value
        except KeyError:
            row[f"{monitor_name}.{metric}"] = np.nan
    ratios = {k: (np.nan if v is None else v) for k, v in result.details["ratios"].items()}
    paper_fired = [m for m in PAPER_MONITORS if np.isfinite(ratios[m]) and ratios[m] > 1]
    paper = composite_score(ratios, PAPER["weights"], PAPER["composite"])
    row.update(
        composite=result.composite,
        fired=",".join(result.fired),
        paper_composite=paper,
        paper_level=LEVELS[level_of(paper, tuple(PAPER["cutoffs"]))],
        paper_fired=",".join(paper_fired),
        paper_n_fired=len(paper_fired),
        realized_bad_rate=float(frame["bad"].mean()),
    )
    recon = monitor.reconcile(window_id, frame["bad"].to_numpy(), frame["score"].to_numpy())
    for r in recon.to_rows():
        row[f"gap.{r['metric']}"] = r["gap"]
        row[f"outside.{r['metric']}"] = not r["inside_band"]
        row[f"realized.{r['metric']}"] = r["realized"]
    return row


def run_case(case: Case) -> pd.DataFrame:
    monitor = Monitor(categorical=case.categorical, random_state=0)
    monitor.fit(
        case.reference,
        score="score",
        features=case.features,
        label="bad",
        cutoff=case.cutoff,
        model="credit",
    )
    rows = [_row(case, monitor, None, 0.0)]
    for change, strength in itertools.product(CHANGES, STRENGTHS[1:]):
        rows.append(_row(case, monitor, change, strength))
    frame = pd.DataFrame(rows)
    base = frame.iloc[0]
    for monitor_name, metric in PROXIES:
        key = f"{monitor_name}.{metric}"
        frame[f"delta.{key}"] = frame[key] - base[key]
    return frame


def run_timeline(quick: bool, seed: int = 0) -> pd.DataFrame:
    """Twelve synthetic windows: natural drift throughout, a pipeline break, then a downturn."""
    n = 12
    schedule = {
        "temporal_drift": ramp(n, peak=0.35),  # about one year of ordinary change
        "covariate_degradation": [0, 0, 0, 0, 0, 0.1, 0.3, 0, 0, 0, 0, 0],
        "concept_drift": ramp(n, start=8, end=11),
    }
    size = 2_000 if quick else 10_000
    reference = CreditSimulator(20, seed).sample(5_000 if quick else 20_000)
    sim = CreditSimulator(20, seed)
    monitor = Monitor(categorical=sim.categorical, random_state=0).fit(
        reference, score="score", features=sim.features, label="bad", cutoff=0.25
    )
    rows = []
    windows = make_windows(n, size, n_features=20, seed=seed, schedule=schedule)
    for index, (window_id, frame) in enumerate(windows):
        result = monitor.check(frame[[*sim.features, "score"]], window_id=window_id)
        recon = {
            r["metric"]: r
            for r in monitor.reconcile(window_id, frame["bad"], frame["score"]).to_rows()
        }
        ratios = {k: (np.nan if v is None else v) for k, v in result.details["ratios"].items()}
        rows.append(
            {
                "window": window_id,
                **{name: values[index] for name, values in schedule.items()},
                "score_psi": result.metric("score", "psi").value,
                "feature_max_psi": result.metric("features", "max_psi").value,
                "composite": result.composite,
                "severity": result.severity,
                "paper_composite": composite_score(ratios, PAPER["weights"], "fired"),
                "bad_rate_estimated": recon["bad_rate"]["estimated"],
                "bad_rate_realized": recon["bad_rate"]["realized"],
                "bad_rate_low": recon["bad_rate"]["low"],
                "bad_rate_high": recon["bad_rate"]["high"],
                "auc_gap": recon.get("auc", {}).get("gap", np.nan),
            }
        )
    return pd.DataFrame(rows)


# --- the three verdicts ------------------------------------------------------------------------


def finding_1(frame: pd.DataFrame) -> dict[str, Any]:
    """Does degradation move the raw proxies more than natural drift of the same strength?

    The finding holds when the feature-PSI delta separates the two at every strength and the
    score-PSI delta does at full strength; the strengths where each separates are reported.
    """
    out: dict[str, Any] = {"per_strength": []}
    separates: dict[str, list[float]] = {"features.max_psi": [], "score.psi": []}
    for strength in STRENGTHS[1:]:
        pick = frame[frame["strength"] == strength].set_index("change")
        entry: dict[str, Any] = {"strength": strength}
        for key, where in separates.items():
            deg = float(pick.loc["covariate_degradation", f"delta.{key}"])
            tmp = float(pick.loc["temporal_drift", f"delta.{key}"])
            entry[key] = {"degradation": deg, "temporal_drift": tmp}
            if deg > tmp:
                where.append(strength)
        out["per_strength"].append(entry)
    deg = frame[frame["change"] == "covariate_degradation"]
    tmp = frame[frame["change"] == "temporal_drift"]
    for key, name in (("features.max_psi", "feature"), ("score.psi", "score")):
        out[f"max_{name}_psi_delta"] = {
            "degradation": float(deg[f"delta.{key}"].max()),
            "temporal_drift": float(tmp[f"delta.{key}"].max()),
        }
    out["feature_psi_separates_at"] = separates["features.max_psi"]
    out["score_psi_separates_at"] = separates["score.psi"]
    out["holds"] = bool(
        len(separates["features.max_psi"]) == len(STRENGTHS) - 1
        and STRENGTHS[-1] in separates["score.psi"]
    )
    return out


def finding_2(frame: pd.DataFrame, every: pd.DataFrame | None = None) -> dict[str, Any]:
    """Concept drift: every proxy delta is exactly zero; reconciliation shows the gap.

    ``frame`` has one row per strength (German: the mean of splits, where "outside" becomes the
    share of splits outside the band); ``every`` holds each split, for the exact-zero check.
    """
    every = frame if every is None else every
    concept_all = every[every["change"] == "concept_drift"]
    max_delta = float(np.nanmax(concept_all[_delta_columns()].abs().to_numpy()))
    # Strength 0 (the unchanged window) first: its gap is the sampling noise to compare with.
    concept = frame[frame["change"].isin(["none", "concept_drift"])].sort_values("strength")
    gaps = concept["gap.bad_rate"].to_numpy(dtype=float)
    outside = concept["outside.bad_rate"].to_numpy(dtype=float)
    return {
        "max_abs_proxy_delta": max_delta,
        "all_exactly_zero": bool(max_delta == 0.0),
        "composite_max": float(concept_all["composite"].max()),
        "strengths": concept["strength"].tolist(),
        "bad_rate_gap": gaps.tolist(),
        "auc_gap": concept["gap.auc"].tolist() if "gap.auc" in concept else [],
        "outside_band": outside.tolist(),
        "gap_increasing": bool(np.all(np.diff(gaps) >= -1e-12)),
        "holds": bool(max_delta == 0.0 and outside[-1] >= 0.5),
    }


def _delta_columns() -> list[str]:
    return [f"delta.{m}.{k}" for m, k in PROXIES]


def finding_3(frames: list[pd.DataFrame]) -> dict[str, Any]:
    """The fired-share composite against how many of the paper's monitors fired."""
    weights = PAPER["weights"]
    chain = [("features", "entropy"), ("features", "entropy", "confidence"), PAPER_MONITORS]
    progression = [
        round(
            composite_score(
                {m: 2.0 if m in fired else 0.0 for m in PAPER_MONITORS}, weights, "fired"
            ),
            3,
        )
        for fired in chain
    ]
    # Monotone in the fired set: adding a monitor to any fired set never lowers the composite.
    subsets = [
        set(s)
        for k in range(len(PAPER_MONITORS) + 1)
        for s in itertools.combinations(PAPER_MONITORS, k)
    ]
    value = {
        frozenset(s): composite_score(
            {m: 2.0 if m in s else 0.0 for m in PAPER_MONITORS}, weights, "fired"
        )
        for s in subsets
    }
    monotone = all(
        value[frozenset(a)] <= value[frozenset(b)] for a in subsets for b in subsets if a <= b
    )
    observed = []
    sweep_monotone = True
    for frame in frames:
        sweep = frame[frame["change"].isin(["none", "covariate_degradation"])]
        sweep = sweep.sort_values("strength")
        sweep_monotone &= bool(np.all(np.diff(sweep["paper_composite"]) >= -1e-12))
        for row in sweep.itertuples():
            observed.append(
                {
                    "case": row.case,
                    "strength": row.strength,
                    "fired": row.paper_fired,
                    "n_fired": row.paper_n_fired,
                    "composite": row.paper_composite,
                }
            )
    by_count = pd.DataFrame(observed).groupby("n_fired")["composite"].agg(["min", "max"])
    counts_monotone = bool(np.all(np.diff(by_count["min"]) >= 0)) if len(by_count) > 1 else True
    return {
        "progression_chain": [list(c) for c in chain],
        "progression": progression,
        "progression_matches_paper": progression == [0.583, 0.833, 1.0],
        "monotone_over_all_subsets": bool(monotone),
        "observed": observed,
        "observed_by_n_fired": by_count.reset_index().to_dict("records"),
        "degradation_sweep_monotone": bool(sweep_monotone),
        "holds": bool(progression == [0.583, 0.833, 1.0] and monotone and sweep_monotone),
        "counts_monotone": counts_monotone,
    }


def mean_over_splits(frame: pd.DataFrame) -> pd.DataFrame:
    """Average the German splits into one row per (change, strength)."""
    numeric = [c for c in frame.columns if c not in ("case", "change", "strength")]
    numeric = [
        c for c in numeric if pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == bool
    ]
    out = frame.groupby(["change", "strength"], sort=False)[numeric].mean().reset_index()
    out.insert(0, "case", "German credit (mean of splits)")
    return out


# --- report --------------------------------------------------------------------------------------


def _f(value: Any, digits: int = 3) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{value:.{digits}f}" if np.isfinite(value) else "–"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def table_1(frame: pd.DataFrame) -> str:
    """Deltas of the raw proxies, degradation against natural drift, strength by strength."""
    rows = []
    for strength in STRENGTHS[1:]:
        pick = frame[frame["strength"] == strength].set_index("change")
        d, t = pick.loc["covariate_degradation"], pick.loc["temporal_drift"]
        rows.append(
            [f"{strength:g}"]
            + [
                _f(x[key])
                for key in (
                    "delta.features.max_psi",
                    "delta.score.psi",
                    "delta.features.missing_rate_change_max",
                    "paper_composite",
                )
                for x in (d, t)
            ]
        )
    headers = ["strength"]
    for name in ("feature PSI Δ", "score PSI Δ", "missing-rate Δ", "paper composite"):
        headers += [f"{name}: degradation", "temporal drift"]
    return _table(headers, rows)


def table_2(frame: pd.DataFrame) -> str:
    """Concept drift: the proxies against what the matured labels say."""
    rows = []
    concept = frame[frame["change"].isin(["none", "concept_drift"])].sort_values("strength")
    for _, r in concept.iterrows():
        max_delta = float(np.nanmax(np.abs(r[_delta_columns()].to_numpy(dtype=float))))
        outside = float(r["outside.bad_rate"])
        rows.append(
            [
                f"{r['strength']:g}",
                f"{max_delta:.3g}",
                _f(r["composite"]),
                _f(r["performance.expected_bad_rate"]),
                _f(r["realized_bad_rate"]),
                f"{r['gap.bad_rate']:+.3f}",
                ("yes" if outside else "no") if outside in (0.0, 1.0) else f"{outside:.0%}",
                f"{r.get('gap.auc', np.nan):+.3f}",
            ]
        )
    headers = ["strength", "max abs proxy Δ", "composite", "expected bad rate"]
    headers += ["realized bad rate", "bad-rate gap", "outside band", "AUC gap"]
    return _table(headers, rows)


def table_3(f3: dict[str, Any], case: str) -> str:
    rows = [
        [f"{o['strength']:g}", o["fired"] or "none", str(o["n_fired"]), _f(o["composite"])]
        for o in f3["observed"]
        if o["case"] == case
    ]
    return _table(["degradation strength", "paper monitors fired", "n", "composite"], rows)


def table_timeline(timeline: pd.DataFrame) -> str:
    rows = [
        [
            r.window,
            _f(r.temporal_drift, 2),
            _f(r.covariate_degradation, 2),
            _f(r.concept_drift, 2),
            _f(r.feature_max_psi),
            _f(r.score_psi),
            _f(r.composite),
            _f(r.paper_composite),
            r.severity,
            _f(r.bad_rate_estimated),
            _f(r.bad_rate_realized),
            "yes" if not (r.bad_rate_low <= r.bad_rate_realized <= r.bad_rate_high) else "no",
        ]
        for r in timeline.itertuples()
    ]
    headers = ["window", "temporal", "degradation", "concept", "feature PSI", "score PSI"]
    headers += ["composite", "paper composite", "severity", "expected bad", "realized bad"]
    headers += ["gap outside band"]
    return _table(headers, rows)


def _verdict(holds: bool) -> str:
    return "**holds**" if holds else "**does not hold**"


def markdown(results: dict[str, Any]) -> str:
    syn, ger = results["synthetic"], results.get("german")
    f3 = results["finding_3"]
    out = [
        "## Label-free monitoring: the seed paper's three findings",
        about(results),
        "### Finding 1: raw proxies separate covariate degradation from natural drift",
        "Δ = the window with the change minus the same window without it (synthetic: the same "
        "10,000 applicants; German: the same 400, mean over splits). Degradation corrupts up to "
        "40% of rows of the strongest inputs (missing, wrong unit, default-filled); temporal drift "
        "at strength 1 is about three years of ordinary change.",
        "**Synthetic.** " + _finding_1_line(syn["finding_1"]),
        syn["table_1"],
    ]
    if ger:
        out += ["**German credit.** " + _finding_1_line(ger["finding_1"]), ger["table_1"]]
    out += [
        "### Finding 2: a pure change of P(Y|X) moves no proxy; reconciliation reveals it",
        "Concept drift keeps every feature value and every score of the window as they were and "
        "changes only the outcomes. Max abs proxy Δ is over all "
        f"{len(PROXIES)} label-free metrics (score, features, entropy, confidence, expected "
        "performance, operational, multivariate). The gap is realized minus expected (CBPE-style) "
        "bad rate once the labels mature; outside band: beyond the monitor's ±3 sampling-error "
        "band. Strength 0 is the unchanged window: its gap is sampling noise alone.",
        "**Synthetic.** " + _finding_2_line(syn["finding_2"]),
        syn["table_2"],
    ]
    if ger:
        out += ["**German credit.** " + _finding_2_line(ger["finding_2"]), ger["table_2"]]
    out += [
        "### Finding 3: the composite rises monotonically as more monitors fire",
        'The paper\'s preset (`Monitor(preset="governance-paper")`: score 0.10, features 0.20, '
        "entropy 0.15, confidence 0.15; composite = weight of fired monitors / weight of active "
        "ones). Firing "
        + " → ".join("{" + ", ".join(c) + "}" for c in f3["progression_chain"])
        + " gives "
        + " → ".join(f"{v:.3f}" for v in f3["progression"])
        + f" (paper: 0.583 → 0.833 → 1.000): {_verdict(f3['progression_matches_paper'])}. "
        f"Over all 16 subsets of the four monitors, adding a fired monitor never lowers the "
        f"composite: {_verdict(f3['monotone_over_all_subsets'])}. Along the degradation sweeps "
        f"below the composite never falls as the strength grows: "
        f"{_verdict(f3['degradation_sweep_monotone'])}.",
        "Observed on the synthetic degradation sweep:",
        table_3(f3, syn["case"]),
    ]
    if ger:
        out += ["Observed on German credit, split 0:", table_3(f3, ger["first_case"])]
    out += [
        "Lowest and highest composite by number of fired monitors, all sweeps: "
        + "; ".join(
            f"{int(r['n_fired'])} fired: {r['min']:.3f}–{r['max']:.3f}"
            for r in f3["observed_by_n_fired"]
        )
        + ".",
        "### A year of windows (synthetic)",
        "Twelve 10,000-row windows: natural drift ramps up all year (to strength 0.35, about "
        "one year of ordinary change), a pipeline break hits windows 6–7, a downturn (concept "
        "drift) ramps in from window 9. Severity is the monitor's own (default graded "
        "composite, hysteresis). During the downturn the proxies only follow the slow natural "
        "drift; the realized bad rate leaves the expected band.",
        results["timeline_table"],
        "### Verdicts",
        _verdicts(results),
        "![findings](monitor_findings.png)",
    ]
    return "\n\n".join(out) + "\n"


def _finding_1_line(f1: dict[str, Any]) -> str:
    fp, sp = f1["max_feature_psi_delta"], f1["max_score_psi_delta"]
    return (
        f"Largest feature PSI Δ {fp['degradation']:.2f} under degradation against "
        f"{fp['temporal_drift']:.2f} under natural drift; score PSI Δ {sp['degradation']:.2f} "
        f"against {sp['temporal_drift']:.2f} (paper, Lending Club: up to 1.84 and 0.92). "
        "Feature PSI Δ is larger under degradation at strengths "
        f"{_list(f1['feature_psi_separates_at'])}, score PSI Δ at "
        f"{_list(f1['score_psi_separates_at'])}. Criterion (feature PSI at every strength, score "
        f"PSI at full strength): {_verdict(f1['holds'])}."
    )


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:g}" for v in values) or "none"


def _finding_2_line(f2: dict[str, Any]) -> str:
    return (
        f"Largest absolute change of any proxy over all concept-drift windows: "
        f"{f2['max_abs_proxy_delta']:.3g} (exactly zero: {_verdict(f2['all_exactly_zero'])}); "
        f"highest composite {f2['composite_max']:.3f}. The reconciliation gap grows to "
        f"{f2['bad_rate_gap'][-1]:+.3f} at full strength: {_verdict(f2['holds'])}."
    )


def _verdicts(results: dict[str, Any]) -> str:
    lines = []
    for key, label in (("synthetic", "synthetic"), ("german", "German credit")):
        part = results.get(key)
        if not part:
            continue
        lines.append(
            f"- {label}: finding 1 {_verdict(part['finding_1']['holds'])}, finding 2 "
            f"{_verdict(part['finding_2']['holds'])}."
        )
    lines.append(f"- finding 3 {_verdict(results['finding_3']['holds'])}.")
    lines += [f"- {note}" for note in results["notes"]]
    return "\n".join(lines)


def about(results: dict[str, Any]) -> str:
    env = results["environment"]
    return (
        f"labelwise {env['labelwise']}, numpy {env['numpy']}, pandas {env['pandas']}, Python "
        f"{env['python']} ({env['machine']}), {results['seconds']:.0f} s. "
        f"Reproduce: `{results['command']}`."
    )


# --- figure -----------------------------------------------------------------------------------


def figure(results: dict[str, Any], frames: dict[str, pd.DataFrame], timeline: pd.DataFrame):
    # Figure without pyplot: no global state, no GUI backend.
    from matplotlib.figure import Figure

    cases = [c for c in ("synthetic", "german") if c in frames]
    fig = Figure(figsize=(13, 3.4 * (len(cases) + 1)), layout="constrained")
    axes = fig.subplots(len(cases) + 1, 3, squeeze=False)
    colors = {"covariate_degradation": "C3", "temporal_drift": "C0", "concept_drift": "C2"}
    for row, case in enumerate(cases):
        frame = frames[case]
        title = "synthetic" if case == "synthetic" else "German credit"
        for col, (key, label) in enumerate(
            (
                ("delta.features.max_psi", "max feature PSI Δ"),
                ("delta.score.psi", "score PSI Δ"),
                ("gap.bad_rate", "realized − expected bad rate"),
            )
        ):
            ax = axes[row, col]
            for change in CHANGES:
                part = frame[frame["change"].isin([change, "none"])].sort_values("strength")
                ax.plot(
                    part["strength"],
                    part[key],
                    marker="o",
                    color=colors[change],
                    label=SHORT[change],
                )
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_title(f"{title}: {label}", fontsize=10)
            ax.set_xlabel("strength of the change")
            ax.grid(alpha=0.3)
        axes[row, 0].legend(fontsize="small")
    x = np.arange(1, len(timeline) + 1)
    ax = axes[-1, 0]
    ax.plot(x, timeline["feature_max_psi"], marker="o", label="max feature PSI")
    ax.plot(x, timeline["score_psi"], marker="s", label="score PSI")
    ax.set_yscale("log")
    ax.set_title("synthetic year: raw proxies", fontsize=10)
    ax = axes[-1, 1]
    ax.plot(x, timeline["composite"], marker="o", label="default composite")
    ax.plot(x, timeline["paper_composite"], marker="s", label="paper composite")
    for cut in PAPER["cutoffs"][1:]:
        ax.axhline(cut, color="grey", lw=0.6, ls=":")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("synthetic year: composite (cut-offs dotted)", fontsize=10)
    ax = axes[-1, 2]
    ax.fill_between(
        x, timeline["bad_rate_low"], timeline["bad_rate_high"], alpha=0.2, label="expected ±3 se"
    )
    ax.plot(x, timeline["bad_rate_estimated"], marker="o", label="expected (no labels)")
    ax.plot(x, timeline["bad_rate_realized"], marker="s", label="realized (matured labels)")
    ax.set_title("synthetic year: bad rate reconciliation", fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel("window")
        ax.axvspan(5.5, 7.5, color="C3", alpha=0.08)
        ax.axvspan(8.5, len(x) + 0.5, color="C2", alpha=0.08)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


# --- main -----------------------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    return {
        "labelwise": labelwise.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "load_average_1min": os.getloadavg()[0],
    }


def german_table() -> pd.DataFrame | None:
    from labelwise.datasets import load_german_credit
    from labelwise.errors import DataFileError

    try:
        table = load_german_credit(german_path())
    except DataFileError as exc:
        print(f"German credit skipped: {exc}", file=sys.stderr)
        return None
    return table.assign(bad=table["creditability"].eq("bad").astype(int))


def _paths(quick: bool) -> dict[str, Path]:
    suffix = ".quick" if quick else ""
    return {ext: OUT / f"monitor_findings{suffix}.{ext}" for ext in ("md", "csv", "json", "png")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller windows, fewer splits")
    parser.add_argument("--splits", type=int, help="German credit splits (default 5; quick 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    splits = args.splits or (2 if args.quick else 5)

    print("synthetic ...", file=sys.stderr, flush=True)
    synthetic = run_case(synthetic_case(args.quick))
    frames = {"synthetic": synthetic}
    every = [synthetic]
    results: dict[str, Any] = {
        "synthetic": {
            "case": synthetic["case"].iloc[0],
            "finding_1": finding_1(synthetic),
            "finding_2": finding_2(synthetic),
            "table_1": table_1(synthetic),
            "table_2": table_2(synthetic),
        }
    }
    table = german_table()
    german_runs: list[pd.DataFrame] = []
    if table is not None:
        print(f"German credit, {splits} splits ...", file=sys.stderr, flush=True)
        german_runs = [run_case(german_case(split, table)) for split in range(splits)]
        german_all = pd.concat(german_runs, ignore_index=True)
        german = mean_over_splits(german_all)
        frames["german"] = german
        every.append(german_all)
        results["german"] = {
            "first_case": german_runs[0]["case"].iloc[0],
            "splits": splits,
            "finding_1": finding_1(german),
            "finding_2": finding_2(german, german_all),
            "table_1": table_1(german),
            "table_2": table_2(german),
        }
    print("finding 3 and the synthetic year ...", file=sys.stderr, flush=True)
    results["finding_3"] = finding_3([synthetic, *german_runs])
    timeline = run_timeline(args.quick)
    results["timeline"] = timeline.to_dict("records")
    results["timeline_table"] = table_timeline(timeline)
    results["notes"] = notes(results)
    results["environment"] = _environment()
    results["command"] = "python benchmarks/monitor_findings.py" + (
        " --quick" if args.quick else ""
    )
    results["seconds"] = time.perf_counter() - started

    paths = _paths(args.quick)
    write_csv(pd.concat(every, ignore_index=True), paths["csv"])
    write_json(results, paths["json"])
    write_text(markdown(results), paths["md"])
    fig = figure(results, frames, timeline)
    with atomic_write(paths["png"], "wb") as handle:
        fig.savefig(handle, format="png", dpi=100)
    print(_verdicts(results))
    print(
        f"\n(ran in {time.perf_counter() - started:.0f} s) wrote "
        + ", ".join(str(p) for p in paths.values())
    )
    return 0


def notes(results: dict[str, Any]) -> list[str]:
    """Plain statements of where the reproduction differs from the paper."""
    out = []
    for key in ("synthetic", "german"):
        part = results.get(key)
        if not part:
            continue
        f1 = part["finding_1"]
        small = [v for v in STRENGTHS[1:] if v not in f1["score_psi_separates_at"]]
        if small:
            out.append(
                f"{key}: at degradation strengths {_list(small)} the score PSI moves no more "
                "than under natural drift (a few percent of corrupted rows, median-imputed, "
                "barely move the score); the feature PSI and the missing-rate change separate "
                "them there."
            )
        if not f1["holds"]:
            out.append(f"{key}: finding 1 fails by the criterion stated above.")
    f3 = results["finding_3"]
    if not f3["counts_monotone"]:
        out.append(
            "Across different windows the composite is not a function of the count of fired "
            "monitors alone: which monitors fire matters (score weighs 0.10, entropy 0.15)."
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
