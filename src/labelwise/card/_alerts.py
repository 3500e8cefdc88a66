"""Alerts: what in the card deserves attention, how serious it is, and what to do about it."""

from __future__ import annotations

import statistics
from typing import Any

from labelwise.card._stats import OUTLIER_IQR

#: Thresholds of the alerts (shares are of rows unless said otherwise).
MISSING_WARN, MISSING_CRIT = 0.05, 0.5
HIGH_CARDINALITY = 50
HIGH_CORRELATION = 0.9
SKEW = 20.0
ZEROS = 0.5
OUTLIERS = 0.01
IMBALANCE_WARN, IMBALANCE_CRIT = 3.0, 10.0
FEATURE_IMBALANCE = 0.5
NOISE_WARN, NOISE_CRIT = 0.05, 0.15
CLASS_QUALITY = 0.8
LABEL_SHIFT = 0.1
KAPPA = 0.4
#: An annotator is flagged when, with at least ANNOTATOR_LABELS labels, their estimated quality
#: is below ANNOTATOR_QUALITY and at least ANNOTATOR_GAP below the median of the other
#: annotators that have ANNOTATOR_LABELS labels (there must be two such others).
ANNOTATOR_QUALITY, ANNOTATOR_GAP, ANNOTATOR_LABELS = 0.5, 0.2, 20
TARGET_LEAK = 0.95

SEVERITIES = ("critical", "warning", "info")

_MITIGATION = {
    "constant": "Drop the column: it carries no information.",
    "unique": "Probably an identifier: keep it out of the model's features.",
    "high_cardinality": "Group rare values, or encode by frequency or target statistics.",
    "missing": "Find out why values are missing; impute, or model missingness explicitly.",
    "infinite": "Replace infinite values (division by zero?) with missing values or caps.",
    "skew": "Use a log or rank transform, or a model insensitive to scale.",
    "zeros": "Check whether zero means 'missing' or 'none'; consider a separate indicator.",
    "outliers": "Check extreme values for unit errors or sentinel codes (999, -1); cap, "
    "transform, or use a model robust to them.",
    "imbalance": "Use stratified splits, class weights or resampling; report per-class metrics.",
    "high_correlation": "Drop or combine one of the pair to avoid redundant features.",
    "duplicates": "Deduplicate before splitting, or the model is evaluated on copies.",
    "conflicting_labels": "Identical inputs carry different labels: re-annotate or adjudicate.",
    "near_duplicates": "Inspect the groups; deduplicate or keep them in the same split.",
    "leakage": "Move shared rows to one split (group-aware splitting) and re-evaluate.",
    "label_shift": "Splits differ in class mix: stratify the split, or report it as a shift.",
    "label_noise": "Review the top suspected errors (relabel or drop); train with noise-robust "
    "methods (labelwise.learn.CleanClassifier).",
    "class_quality": "Review this class's suspected errors and its annotation guideline.",
    "annotator_agreement": "Refine the annotation guideline, retrain annotators, adjudicate "
    "disagreements.",
    "annotator_quality": "Review this annotator's labels and worst class: re-brief or retrain "
    "them, or leave their votes out and relabel the items only they labeled "
    "(labelwise.consensus, relabel_priority).",
    "target_leak": "This feature nearly determines the label: check it is not derived from it.",
    "outlier_rows": "Inspect the rows far from all others: entry errors, another population, or "
    "rare cases the model needs more of.",
    "row_order": "Shuffle before splitting; if the order is time, split by time instead.",
    "weak_region": "Collect or relabel data in this region, or report its accuracy separately.",
    "empty_rows": "Drop the rows with no values, or find out why they are empty.",
}


def alert(column: Any, kind: str, severity: str, value: Any, message: str) -> dict[str, Any]:
    """One alert record."""
    return {
        "column": column,
        "kind": kind,
        "severity": severity,
        "value": value,
        "message": message,
        "mitigation": _MITIGATION[kind],
    }


def _column_alerts(name: Any, s: dict[str, Any], role: str) -> list[dict[str, Any]]:
    out = []
    n = s["count"] + s["missing"]
    if s["unique"] <= 1:
        out.append(alert(name, "constant", "warning", s["unique"], "has a single value"))
    elif role == "feature" and s["unique"] == n and s["kind"] in ("categorical", "numeric"):
        if s["kind"] == "categorical" or float(s.get("min", 0)).is_integer():
            out.append(alert(name, "unique", "info", s["unique"], "every value is distinct"))
    if s["kind"] == "categorical" and s["unique"] > HIGH_CARDINALITY and s["unique"] < n:
        out.append(
            alert(name, "high_cardinality", "warning", s["unique"], "has many distinct values")
        )
    if s["missing_share"] > MISSING_WARN:
        severity = "critical" if s["missing_share"] > MISSING_CRIT else "warning"
        out.append(alert(name, "missing", severity, s["missing_share"], "share of values missing"))
    if s.get("infinite", 0) > 0:
        out.append(alert(name, "infinite", "warning", s["infinite"], "has infinite values"))
    if s.get("skew") is not None and abs(s["skew"]) > SKEW:
        out.append(alert(name, "skew", "info", s["skew"], "is highly skewed"))
    if s.get("zeros_share", 0) > ZEROS:
        out.append(alert(name, "zeros", "info", s["zeros_share"], "share of values that are 0"))
    if s.get("outlier_share", 0) > OUTLIERS:
        message = f"share of values beyond {OUTLIER_IQR:g} IQRs of the quartiles"
        out.append(alert(name, "outliers", "info", s["outlier_share"], message))
    entropy = s.get("normalized_entropy")
    if (
        role == "feature"
        and entropy is not None
        and s["unique"] > 1
        and entropy < FEATURE_IMBALANCE
    ):
        out.append(alert(name, "imbalance", "info", entropy, "values are concentrated"))
    return out


def _label_alerts(card: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    label = card["label"]["column"]
    ratio = card["label"]["balance"]["max_min_ratio"]
    if ratio is not None and ratio > IMBALANCE_WARN:
        severity = "critical" if ratio > IMBALANCE_CRIT else "warning"
        out.append(alert(label, "imbalance", severity, ratio, "largest / smallest class"))
    health = card.get("label_health")
    if health:
        rate = health["noise_rate"]
        if rate > NOISE_WARN:
            # An estimate the model's own errors could explain is a warning, never critical.
            trusted = health.get("trusted", True)
            severity = "critical" if rate > NOISE_CRIT and trusted else "warning"
            detail = "estimated share of wrong labels"
            if not trusted:
                detail += " (an upper bound: the model's own errors could explain part of it)"
            out.append(alert(label, "label_noise", severity, rate, detail))
        message = "estimated share of this class's labels that are right"
        for row in health["class_quality"]:
            quality = row["label_quality"]
            if quality is not None and quality < CLASS_QUALITY:
                name = f"{label} = {row['class']}"
                out.append(alert(name, "class_quality", "warning", quality, message))
    return out


def _table_alerts(card: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for pair in card["correlations"]["top_pairs"]:
        if abs(pair["r"]) >= HIGH_CORRELATION:
            name = f"{pair['a']} ~ {pair['b']}"
            out.append(alert(name, "high_correlation", "warning", pair["r"], "Pearson r"))
    dup = card["duplicates"]
    if dup["duplicate_rows"]:
        severity = "critical" if dup["duplicate_share"] > 0.05 else "warning"
        out.append(alert(None, "duplicates", severity, dup["duplicate_rows"], "duplicate rows"))
    if dup["conflicting_label_rows"]:
        message = "rows with identical features and different labels"
        count = dup["conflicting_label_rows"]
        out.append(alert(None, "conflicting_labels", "critical", count, message))
    if dup["near_duplicate_rows"]:
        count = dup["near_duplicate_rows"]
        out.append(alert(None, "near_duplicates", "info", count, "near-duplicate rows"))
    message = "share of the label's entropy explained by this feature"
    for entry in card["model"]["feature_ranking"]:
        if entry["share_of_label"] > TARGET_LEAK:
            share = entry["share_of_label"]
            out.append(alert(entry["column"], "target_leak", "warning", share, message))
    return out


def _split_alerts(card: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    splits = card.get("splits")
    if splits:
        for leak in splits["leakage"]:
            count = leak["identical_rows"] or leak["near_identical_rows"]
            if count:
                name = f"{leak['a']} / {leak['b']}"
                severity = "critical" if leak["identical_rows"] else "warning"
                message = f"rows of {leak['b']} (near-)identical to rows of {leak['a']}"
                out.append(alert(name, "leakage", severity, count, message))
        message = "total variation distance of its label mix to the whole"
        for split in splits["splits"]:
            distance = split["tv_distance_to_overall"]
            if distance > LABEL_SHIFT:
                out.append(alert(split["split"], "label_shift", "warning", distance, message))
    kappa = (card.get("annotators") or {}).get("fleiss_kappa")
    if kappa is not None and kappa < KAPPA:
        message = "Fleiss' kappa across annotators"
        out.append(alert(None, "annotator_agreement", "warning", kappa, message))
    return out + _annotator_alerts(card.get("annotators"))


def _annotator_alerts(section: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Annotators whose estimated quality is low and far below the other annotators'."""
    rated = [
        r
        for r in (section or {}).get("annotator_quality") or []
        if r["quality"] is not None and r["n_labels"] >= ANNOTATOR_LABELS
    ]
    out = []
    for i, row in enumerate(rated):
        others = [r["quality"] for j, r in enumerate(rated) if j != i]
        if len(others) < 2 or row["quality"] >= ANNOTATOR_QUALITY:
            continue
        median = statistics.median(others)
        if row["quality"] <= median - ANNOTATOR_GAP:
            message = (
                "estimated share of this annotator's labels that are right (the other "
                f"annotators' median: {median:.0%})"
            )
            name, value = row["annotator"], row["quality"]
            out.append(alert(name, "annotator_quality", "warning", value, message))
    return out


def _data_issue_alerts(section: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Alerts of the data checks that no other module reports (near copies are in duplicates)."""
    if not section:
        return []
    found = {t["issue"]: t for t in section["types"] if t.get("is_issue")}
    out = []
    if "outlier" in found:
        value = found["outlier"]["count"]
        out.append(alert(None, "outlier_rows", "info", value, "rows far from all others"))
    if "non_iid" in found:
        p_value = found["non_iid"]["p_value"]
        message = "p-value that the row order carries no information"
        out.append(alert(None, "row_order", "warning", p_value, message))
    if "underperforming_group" in found:
        value = found["underperforming_group"]["count"]
        message = "rows in regions where the model is much less accurate"
        out.append(alert(None, "weak_region", "warning", value, message))
    if found.get("null", {}).get("rows"):
        value = found["null"]["rows"]
        out.append(alert(None, "empty_rows", "warning", value, "rows with every value missing"))
    return out


def alerts(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every alert of a card's numbers, most severe first."""
    out = []
    for variable in card["variables"]:
        stats = card["statistics"][variable["index"]]
        out += _column_alerts(variable["name"], stats, variable["role"])
    out += _label_alerts(card) + _table_alerts(card) + _split_alerts(card)
    out += _data_issue_alerts(card.get("data_issues"))
    out.sort(key=lambda a: SEVERITIES.index(a["severity"]))
    return out
