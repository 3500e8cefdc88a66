"""The Markdown dataset card and the Croissant JSON-LD, rendered from the card's dict only."""

from __future__ import annotations

import json
from typing import Any

import yaml

from labelwise.card._svg import fmt

CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileProperty": "cr:fileProperty",
    "format": "cr:format",
    "key": "cr:key",
    "md5": "cr:md5",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "source": "cr:source",
}
_DATA_TYPES = {"numeric": "sc:Float", "boolean": "sc:Boolean", "datetime": "sc:Date"}


def _size_category(rows: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")]
    bounds += [(1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]
    return next((name for bound, name in bounds if rows < bound), "n>10M")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _front_matter(card: dict[str, Any]) -> str:
    meta = card["metadata"]
    front = {
        "pretty_name": meta["name"],
        "license": meta.get("license"),
        "tags": meta.get("keywords") or None,
        "size_categories": [_size_category(meta["rows"])],
        "task_categories": ["tabular-classification"],
    }
    front = {k: v for k, v in front.items() if v}
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n"


def _health_md(health: dict[str, Any] | None) -> list[str]:
    if not health:
        return ["Not computed."]
    lo, hi = health["noise_rate_interval"]
    how = health["source"] + (f" ({health['model']})" if health.get("model") else "")
    if "folds" in health:
        how += f", {health['folds']} folds, seed {health['seed']}"
    out = [
        f"- Estimated label noise: **{fmt(health['noise_rate'], 'pct')}** "
        f"({fmt(health['confidence'], 'pct')} interval {fmt(lo, 'pct')} – {fmt(hi, 'pct')})",
        f"- Suspected label errors: {fmt(health['num_issues'], 'int')} "
        f"({fmt(health['issue_share'], 'pct')}), method {health['method']}",
        f"- Predictions from: {how}",
        *_model_md(health.get("model_quality")),
        "",
        _table(
            ["class", "given", "label quality", "recall", "expected wrong"],
            [
                [
                    r["class"],
                    fmt(r["n_given"], "int"),
                    fmt(r["label_quality"], "pct"),
                    fmt(r["recall"], "pct"),
                    fmt(r["expected_wrong"], "int"),
                ]
                for r in health["class_quality"]
            ],
        ),  # fmt: skip
        "",
        "Most confused (given → true):",
        "",
        _table(
            ["given", "true", "count", "share of given"],
            [
                [r["given"], r["true"], fmt(r["count"], "int"), fmt(r["share_of_given"], "pct")]
                for r in health["confused_pairs"]
            ],
        ),
        "",
        "Top suspected errors:",
        "",
        _table(
            ["rank", "row", "given", "suggested", "score"],
            [
                [r["rank"], r["row"], r["given"], r["suggested"], fmt(r["score"])]
                for r in health["top_errors"][:10]
            ],
        ),
    ]
    return out


def _model_md(quality: dict[str, Any] | None) -> list[str]:
    """The model's out-of-sample quality and any caution, as list items."""
    if not quality:
        return []
    out = [
        f"- Model out of sample: accuracy {fmt(quality['accuracy'], 'pct')} "
        f"({fmt(quality['clean_accuracy'], 'pct')} on rows called clean), log loss "
        f"{fmt(quality['log_loss'])} (class frequencies alone: "
        f"{fmt(quality['baseline_log_loss'])}), calibration error "
        f"{fmt(quality['calibration_error'])}"
    ]
    return out + [f"- **Caution:** {doubt}" for doubt in quality["doubts"]]


def _data_issues_md(section: dict[str, Any] | None) -> list[str]:
    """The data checks: one table row per issue type, then the worst findings of each."""
    if not section:
        return []
    rows = []
    for t in section["types"]:
        if "skipped" in t:
            rows.append([t["issue"], "", "", f"skipped: {t['skipped']}"])
            continue
        verdict = "issue" if t["is_issue"] else "no issue"
        if "p_value" in t:
            verdict += f" (p = {fmt(t['p_value'])})"
        rows.append([t["issue"], fmt(t["count"], "int"), fmt(t["score"]), verdict])
    out = ["", "## Data issues", "", _table(["issue", "found", "score", "verdict"], rows)]
    for t in section["types"]:
        examples = [
            [t["issue"], "" if e["row"] is None else e["row"], e["column"] or "", e["detail"]]
            for e in t.get("examples", [])
        ]
        if examples:
            out += ["", _table(["issue", "row", "column", "detail"], examples)]
    return out


def render_markdown(card: dict[str, Any]) -> str:
    """A dataset card in Markdown (YAML front matter, then one section per topic)."""
    meta, prov, uses, lab = card["metadata"], card["provenance"], card["uses"], card["label"]
    dup = card["duplicates"]
    out = [_front_matter(card), f"# {meta['name']}", "", meta.get("description") or "", ""]
    out += ["## Summary", ""]
    out += [
        f"- Rows: {fmt(meta['rows'], 'int')}; columns: {fmt(meta['columns'], 'int')}; "
        f"missing cells: {fmt(meta['missing_cells_share'], 'pct')}",
        f"- Label `{lab['column']}`: {len(lab['classes'])} classes, largest / smallest "
        f"{fmt(lab['balance']['max_min_ratio'])}",
        f"- Duplicate rows: {fmt(dup['duplicate_rows'], 'int')}; near-duplicates: "
        f"{fmt(dup['near_duplicate_rows'], 'int')}; identical features with different labels: "
        f"{fmt(dup['conflicting_label_rows'], 'int')}",
    ]
    for key, title in (("license", "License"), ("url", "URL"), ("release_date", "Released")):
        if meta.get(key):
            out.append(f"- {title}: {meta[key]}")
    out += ["", "## Label health", "", *_health_md(card.get("label_health")), ""]
    out += ["## Alerts", ""]
    out.append(
        _table(
            ["severity", "column", "kind", "value", "mitigation"],
            [
                [
                    a["severity"],
                    a["column"] or "(table)",
                    a["kind"],
                    fmt(a["value"]),
                    a["mitigation"],
                ]
                for a in card["alerts"]
            ],
        )
        if card["alerts"]
        else "None."
    )
    out += ["", "## Dataset structure", ""]
    out.append(
        _table(
            ["column", "role", "kind", "missing", "unique", "description"],
            [
                [
                    v["name"],
                    v["role"],
                    v["kind"],
                    fmt(card["statistics"][v["index"]]["missing_share"], "pct"),
                    fmt(card["statistics"][v["index"]]["unique"], "int"),
                    v["description"] or "",
                ]
                for v in card["variables"]
            ],
        )  # fmt: skip
    )
    splits = card.get("splits")
    if splits:
        out += ["", "## Splits", ""]
        out.append(
            _table(
                ["split", "rows", "largest / smallest", "TV distance to all"],
                [
                    [
                        s["split"],
                        fmt(s["n"], "int"),
                        fmt(s["max_min_ratio"]),
                        fmt(s["tv_distance_to_overall"]),
                    ]
                    for s in splits["splits"]
                ],
            )  # fmt: skip
        )
        leaks = [f"{x['a']}/{x['b']}: {x['identical_rows']}" for x in splits["leakage"]]
        out += ["", "Rows identical across splits: " + ", ".join(leaks)]
    out += _data_issues_md(card.get("data_issues"))
    if card.get("annotators"):
        out += [
            "",
            f"Annotator agreement (Fleiss' kappa): {fmt(card['annotators']['fleiss_kappa'])}",
        ]
    out += ["", "## Uses", ""]
    out += [f"- Intended: {u}" for u in uses["intended_uses"]]
    out += [f"- Out of scope: {u}" for u in uses["out_of_scope_uses"]]
    for key, title in (("sensitive_info", "Sensitive information"), ("biases", "Known biases"),
                       ("limitations", "Limitations")):  # fmt: skip
        if uses.get(key):
            out.append(f"- {title}: {uses[key]}")
    out += ["", "## Provenance", ""]
    for key, value in prov.items():
        if value:
            out.append(f"- {key.replace('_', ' ').capitalize()}: {value}")
    return "\n".join(out).rstrip() + "\n"


def _rai(card: dict[str, Any]) -> dict[str, Any]:
    prov, uses, health = card["provenance"], card["uses"], card.get("label_health")
    limitations = [uses.get("limitations")] if uses.get("limitations") else []
    if health:
        lo, hi = health["noise_rate_interval"]
        limitations.append(
            f"Estimated label noise {fmt(health['noise_rate'], 'pct')} "
            f"({fmt(lo, 'pct')} – {fmt(hi, 'pct')}); {health['num_issues']} suspected label "
            "errors (labelwise confident learning)."
        )
    rai = {
        "rai:dataCollection": prov.get("collection"),
        "rai:dataAnnotationProtocol": prov.get("annotation_protocol"),
        "rai:personalSensitiveInformation": uses.get("sensitive_info"),
        "rai:dataBiases": uses.get("biases"),
        "rai:dataLimitations": " ".join(limitations) or None,
        "rai:dataUseCases": "; ".join(uses["intended_uses"]) or None,
        "rai:dataReleaseMaintenancePlan": prov.get("maintenance"),
    }
    if card.get("annotators"):
        rai["rai:annotationsPerItem"] = str(len(card["annotators"]["columns"]))
    return {k: v for k, v in rai.items() if v}


def render_croissant(card: dict[str, Any]) -> str:
    """Croissant 1.0 JSON-LD: dataset fields, one record set of the columns, and RAI fields."""
    meta, prov = card["metadata"], card["provenance"]
    name = meta["name"]
    doc: dict[str, Any] = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [
            "http://mlcommons.org/croissant/1.0",
            "http://mlcommons.org/croissant/RAI/1.0",
        ],
        "name": name,
        "description": meta.get("description") or f"{name}: {meta['rows']} rows.",
        "license": meta.get("license"),
        "url": meta.get("url"),
        "keywords": meta.get("keywords") or None,
        "datePublished": meta.get("release_date"),
        "version": meta.get("version"),
        "citeAs": prov.get("citation"),
        "creator": {"@type": "sc:Person", "name": prov["creator"], "email": prov.get("contact")}
        if prov.get("creator")
        else None,
    }
    record_fields = []
    file_id = meta.get("file_name") or f"{name}-table"
    if meta.get("file_name"):
        doc["distribution"] = [
            {
                "@type": "cr:FileObject",
                "@id": file_id,
                "name": meta["file_name"],
                "contentUrl": meta.get("url") or meta["file_name"],
                "encodingFormat": meta["format"],
            }
        ]
    for v in card["variables"]:
        entry: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"records/{v['name']}",
            "name": str(v["name"]),
            "dataType": "sc:Integer"
            if v["kind"] == "numeric" and "int" in v["dtype"].lower()
            else _DATA_TYPES.get(v["kind"], "sc:Text"),
        }
        if v["description"]:
            entry["description"] = v["description"]
        if meta.get("file_name"):
            entry["source"] = {
                "fileObject": {"@id": file_id},
                "extract": {"column": str(v["name"])},
            }
        record_fields.append(entry)
    doc["recordSet"] = [
        {"@type": "cr:RecordSet", "@id": "records", "name": "records", "field": record_fields}
    ]
    doc.update(_rai(card))
    doc = {k: v for k, v in doc.items() if v is not None}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
