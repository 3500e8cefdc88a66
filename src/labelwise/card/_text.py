"""The Markdown dataset card and the Croissant JSON-LD, rendered from the card's dict only.

Text from the data or the metadata goes through :func:`~labelwise.io.markdown_escape` before it
enters the Markdown, so a renderer that passes inline HTML shows it as text; the YAML front
matter keeps the exact values but writes the characters HTML and Markdown act on as YAML
escapes. The Croissant JSON-LD escapes the same characters as JSON escapes, so it can be pasted
into a ``<script type="application/ld+json">`` of a web page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from labelwise._shared.formatting import format_number as fmt
from labelwise._shared.markdown import Markdown, markdown_escape, markdown_rows
from labelwise._shared.serialize import json_for_html
from labelwise.io import atomic_write

md = markdown_escape

#: The JSON-LD context of Croissant 1.0, as the reference implementation (mlcroissant) writes it.
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
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileProperty": "cr:fileProperty",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
_DATA_TYPES = {"numeric": "sc:Float", "boolean": "sc:Boolean", "datetime": "sc:Date"}


def _size_category(rows: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")]
    bounds += [(1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]
    return next((name for bound, name in bounds if rows < bound), "n>10M")


def _num(value: Any, kind: str = "float") -> Any:
    """A number as :func:`fmt` writes it (already Markdown); anything else is left as data text."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return Markdown(fmt(value, kind))
    return value


def _records_table(records: list[dict[str, Any]], columns: tuple) -> str:
    """A table of ``records``: one column per ``(header, key, kind)``, kind None for text."""
    rows = [
        [record[key] if kind is None else _num(record[key], kind) for _, key, kind in columns]
        for record in records
    ]
    return markdown_rows([header for header, _, _ in columns], rows)


_CLASS_QUALITY = (
    ("class", "class", None),
    ("given", "n_given", "int"),
    ("label quality", "label_quality", "pct"),
    ("recall", "recall", "pct"),
    ("expected wrong", "expected_wrong", "int"),
)
_CONFUSED_PAIRS = (
    ("given", "given", None),
    ("true", "true", None),
    ("count", "count", "int"),
    ("share of given", "share_of_given", "pct"),
)
_TOP_ERRORS = (
    ("rank", "rank", None),
    ("row", "row", None),
    ("given", "given", None),
    ("suggested", "suggested", None),
    ("score", "score", "float"),
)


# What a Markdown renderer that does not know front matter would turn into a tag or a link.
_YAML_UNSAFE = re.compile(r"<(?=[A-Za-z/!?])|[\[\]]")


class _FrontMatterDumper(yaml.SafeDumper):
    """Writes text holding a ``_YAML_UNSAFE`` match double-quoted, so it can be escaped."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = '"' if _YAML_UNSAFE.search(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_FrontMatterDumper.add_representer(str, _represent_text)


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
    text = yaml.dump(
        front, Dumper=_FrontMatterDumper, sort_keys=False, allow_unicode=True, width=2**31
    )
    # Every match is inside a double-quoted scalar (the keys are ours), where a \xNN escape
    # means the character itself: YAML readers get the exact text back.
    text = _YAML_UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02X}", text)
    return "---\n" + text + "---\n"


def _health_md(health: dict[str, Any] | None) -> list[str]:
    if not health:
        return ["Not computed."]
    lo, hi = health["noise_rate_interval"]
    how = md(health["source"]) + (f" ({md(health['model'])})" if health.get("model") else "")
    if "folds" in health:
        how += f", {health['folds']} folds, seed {health['seed']}"
    out = [
        f"- Estimated label noise: **{fmt(health['noise_rate'], 'pct')}** "
        f"({fmt(health['confidence'], 'pct')} interval {fmt(lo, 'pct')} – {fmt(hi, 'pct')})",
        f"- Suspected label errors: {fmt(health['num_issues'], 'int')} "
        f"({fmt(health['issue_share'], 'pct')}), method {md(health['method'])}",
        f"- Predictions from: {how}",
        *_model_md(health.get("model_quality")),
        "",
        _records_table(health["class_quality"], _CLASS_QUALITY),
        "",
        "Most confused (given → true):",
        "",
        _records_table(health["confused_pairs"], _CONFUSED_PAIRS),
        "",
        "Top suspected errors:",
        "",
        _records_table(health["top_errors"][:10], _TOP_ERRORS),
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
    # Doubts name classes and models, so they are escaped like data.
    return out + [f"- **Caution:** {md(doubt)}" for doubt in quality["doubts"]]


def _data_issues_md(section: dict[str, Any] | None) -> list[str]:
    """The data checks: one table row per issue type, then the worst findings of each."""
    if not section:
        return []
    rows = []
    for t in section["types"]:
        if "skipped" in t:
            rows.append([t["issue"], "", "", Markdown(f"skipped: {md(t['skipped'])}")])
            continue
        verdict = "issue" if t["is_issue"] else "no issue"
        if "p_value" in t:
            verdict += f" (p = {fmt(t['p_value'])})"
        rows.append([t["issue"], _num(t["count"], "int"), _num(t["score"]), Markdown(verdict)])
    out = ["", "## Data issues", "", markdown_rows(["issue", "found", "score", "verdict"], rows)]
    for t in section["types"]:
        examples = [
            [t["issue"], "" if e["row"] is None else e["row"], e["column"] or "", e["detail"]]
            for e in t.get("examples", [])
        ]
        if examples:
            out += ["", markdown_rows(["issue", "row", "column", "detail"], examples)]
    return out


def _summary_md(card: dict[str, Any]) -> list[str]:
    meta, lab, dup = card["metadata"], card["label"], card["duplicates"]
    out = [
        f"- Rows: {fmt(meta['rows'], 'int')}; columns: {fmt(meta['columns'], 'int')}; "
        f"missing cells: {fmt(meta['missing_cells_share'], 'pct')}",
        f"- Label {md(lab['column'])}: {len(lab['classes'])} classes, largest / smallest "
        f"{fmt(lab['balance']['max_min_ratio'])}",
        f"- Duplicate rows: {fmt(dup['duplicate_rows'], 'int')}; near-duplicates: "
        f"{fmt(dup['near_duplicate_rows'], 'int')}; identical features with different labels: "
        f"{fmt(dup['conflicting_label_rows'], 'int')}",
    ]
    for key, title in (("license", "License"), ("url", "URL"), ("release_date", "Released")):
        if meta.get(key):
            out.append(f"- {title}: {md(meta[key])}")
    return out


def _alerts_md(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return "None."
    rows = [
        [a["severity"], "(table)" if a["column"] is None else a["column"], a["kind"],
         _num(a["value"]), a["mitigation"]]
        for a in alerts
    ]  # fmt: skip
    return markdown_rows(["severity", "column", "kind", "value", "mitigation"], rows)


def _structure_md(card: dict[str, Any]) -> str:
    rows = []
    for v in card["variables"]:
        stats = card["statistics"][v["index"]]
        rows.append(
            [v["name"], v["role"], v["kind"], _num(stats["missing_share"], "pct"),
             _num(stats["unique"], "int"), v["description"] or ""]
        )  # fmt: skip
    return markdown_rows(["column", "role", "kind", "missing", "unique", "description"], rows)


def _splits_md(splits: dict[str, Any] | None) -> list[str]:
    if not splits:
        return []
    rows = [
        [s["split"], _num(s["n"], "int"), _num(s["max_min_ratio"]),
         _num(s["tv_distance_to_overall"])]
        for s in splits["splits"]
    ]  # fmt: skip
    table = markdown_rows(["split", "rows", "largest / smallest", "TV distance to all"], rows)
    leaks = [f"{md(x['a'])}/{md(x['b'])}: {x['identical_rows']}" for x in splits["leakage"]]
    return ["", "## Splits", "", table, "", "Rows identical across splits: " + ", ".join(leaks)]


_WORST_ANNOTATORS = (
    ("annotator", "annotator", None),
    ("quality", "quality", "pct"),
    ("labels", "n_labels", "int"),
    ("agreement with consensus", "agreement", "pct"),
    ("worst class", "worst_class", None),
)
#: Annotators shown in the worst-annotators table (the JSON keeps them all).
WORST_ANNOTATORS = 5


def _annotators_md(section: dict[str, Any] | None) -> list[str]:
    """Agreement, the crowd's consensus against the label, and the worst annotators."""
    if not section:
        return []
    out = [
        "",
        "## Annotators",
        "",
        f"- Annotator agreement (Fleiss' kappa): {fmt(section['fleiss_kappa'])} over "
        f"{fmt(section['items_rated_twice'], 'int')} items rated at least twice",
    ]
    if not section.get("annotator_quality"):
        if section.get("consensus_skipped"):
            out.append(f"- No consensus computed: {md(section['consensus_skipped'])}")
        return out
    model = ""
    if section["consensus_with_model"]:
        weight = fmt(section["consensus_model_weight"])
        model = f", weighing in the model (inverse temperature {weight})"
    worst = [
        {**r, "worst_class": "–" if r["worst_class"] is None else r["worst_class"]}
        for r in section["annotator_quality"][:WORST_ANNOTATORS]
    ]
    out += [
        f"- A vote agrees with the consensus {fmt(section['mean_item_agreement'], 'pct')} of the "
        "time on average (items with two or more votes); "
        f"{fmt(section['items_with_disagreement'], 'int')} items have disagreement",
        f"- The consensus matches the given label on {fmt(section['consensus_vs_label'], 'pct')} "
        f"of the {fmt(section['items_with_votes'], 'int')} items with a vote "
        f"(method {md(section['consensus_method'])}{model})",
        "",
        "Worst annotators (quality: estimated share of their labels that are right):",
        "",
        _records_table(worst, _WORST_ANNOTATORS),
    ]
    return out


def _uses_md(uses: dict[str, Any], prov: dict[str, Any]) -> list[str]:
    out = ["", "## Uses", ""]
    out += [f"- Intended: {md(u)}" for u in uses["intended_uses"]]
    out += [f"- Out of scope: {md(u)}" for u in uses["out_of_scope_uses"]]
    for key, title in (("sensitive_info", "Sensitive information"), ("biases", "Known biases"),
                       ("limitations", "Limitations")):  # fmt: skip
        if uses.get(key):
            out.append(f"- {title}: {md(uses[key])}")
    out += ["", "## Provenance", ""]
    for key, value in prov.items():
        if value:
            out.append(f"- {key.replace('_', ' ').capitalize()}: {md(value)}")
    return out


def render_markdown(card: dict[str, Any]) -> str:
    """A dataset card in Markdown (YAML front matter, then one section per topic).

    Every text from the data or the metadata is escaped with :func:`markdown_escape`, so the
    card shows it as text even where the renderer passes inline HTML; numbers are written as
    numbers.
    """
    meta = card["metadata"]
    out = [_front_matter(card), f"# {md(meta['name'])}", "", md(meta.get("description") or "")]
    out += ["", "## Summary", "", *_summary_md(card)]
    out += ["", "## Label health", "", *_health_md(card.get("label_health")), ""]
    out += ["## Alerts", "", _alerts_md(card["alerts"])]
    out += ["", "## Dataset structure", "", _structure_md(card)]
    out += _splits_md(card.get("splits"))
    out += _data_issues_md(card.get("data_issues"))
    out += _annotators_md(card.get("annotators"))
    out += _uses_md(card["uses"], card["provenance"])
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


# --- Croissant ---------------------------------------------------------------------------------

#: The name of the CSV copy of a DataFrame when no Croissant path says otherwise.
DEFAULT_DATA_FILE = "card.csv"
_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks so a large table is never held in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingSink:
    """A text file that hashes what is written to it (UTF-8, as the CSV copy is saved), and
    passes it on to ``target`` when one is given, so a file is hashed as it is written."""

    def __init__(self, target: Any = None) -> None:
        self.digest = hashlib.sha256()
        self.target = target

    def write(self, text: str) -> int:
        self.digest.update(text.encode("utf-8"))
        if self.target is not None:
            self.target.write(text)
        return len(text)

    def __iter__(self):  # pandas only accepts objects that look like files
        return iter(())


def _frame_to_csv(frame: pd.DataFrame, handle: Any) -> None:
    # Fixed line ends, so the checksum does not depend on the platform.
    frame.to_csv(handle, index=False, lineterminator="\n")


def frame_csv_sha256(frame: pd.DataFrame) -> str:
    """The SHA-256 of the CSV copy :func:`write_frame_csv` writes, computed without a file."""
    sink = _HashingSink()
    _frame_to_csv(frame, sink)
    return sink.digest.hexdigest()


def write_frame_csv(frame: pd.DataFrame, path: str | os.PathLike) -> str:
    """Write ``frame`` as CSV (UTF-8, no index), atomically, and return the file's SHA-256.

    The copy is faithful: unlike :func:`labelwise.io.write_csv`, text that looks like a formula
    is not prefixed, because the Croissant JSON-LD describes the values of the data themselves.
    """
    with atomic_write(path, newline="", encoding="utf-8") as handle:
        sink = _HashingSink(handle)
        _frame_to_csv(frame, sink)
    return sink.digest.hexdigest()


def data_file_for(croissant_path: str | os.PathLike | None) -> str:
    """The name of the CSV copy of a DataFrame written beside a Croissant file.

    ``card.croissant.json`` and ``card.json`` give ``card.csv``; no path gives
    :data:`DEFAULT_DATA_FILE`.
    """
    if croissant_path is None:
        return DEFAULT_DATA_FILE
    name = Path(croissant_path).name
    stem = name[: -len(".croissant.json")] if name.endswith(".croissant.json") else Path(name).stem
    data = f"{stem}.csv"
    return data if data != name else f"{stem}.data.csv"


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")


def _node_ids(prefix: str, names: list[Any]) -> list[str]:
    """Unique JSON-LD ``@id``s: mlcroissant refuses spaces, and ids must be valid IRIs."""
    ids: list[str] = []
    for i, name in enumerate(names):
        slug = _ID_UNSAFE.sub("_", str(name)).strip("_") or f"column{i}"
        node, k = f"{prefix}{slug}", i
        while node in ids:  # names that differ only in unsafe characters
            node, k = f"{prefix}{slug}_{k}", k + 1
        ids.append(node)
    return ids


def _iso_date(value: Any) -> str | None:
    """``value`` when it is an ISO 8601 date or date-time (Croissant requires one), else None."""
    text = str(value) if value else ""
    for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
        try:
            parse(text)
            return text
        except ValueError:
            continue
    return None


def _distribution(data_file: dict[str, Any]) -> dict[str, Any]:
    (file_id,) = _node_ids("", [data_file["name"]])
    return {
        "@type": "cr:FileObject",
        "@id": file_id,
        "name": data_file["name"],
        "contentUrl": data_file["name"],
        "encodingFormat": data_file["format"],
        **({"sha256": data_file["sha256"]} if data_file.get("sha256") else {}),
    }


def _fields(card: dict[str, Any], file_id: str) -> list[dict[str, Any]]:
    """One ``cr:Field`` per column, each read from that column of the data file."""
    variables = card["variables"]
    fields = []
    for v, node in zip(
        variables, _node_ids("records/", [v["name"] for v in variables]), strict=True
    ):
        numeric_int = v["kind"] == "numeric" and "int" in v["dtype"].lower()
        entry: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": node,
            "name": str(v["name"]),
            "dataType": "sc:Integer" if numeric_int else _DATA_TYPES.get(v["kind"], "sc:Text"),
            "source": {"fileObject": {"@id": file_id}, "extract": {"column": str(v["name"])}},
        }
        if v["description"]:
            entry["description"] = v["description"]
        fields.append(entry)
    return fields


def _creator(prov: dict[str, Any]) -> dict[str, Any] | None:
    if not prov.get("creator"):
        return None
    person = {"@type": "sc:Person", "name": prov["creator"], "email": prov.get("contact")}
    return {k: v for k, v in person.items() if v}


def render_croissant(card: dict[str, Any], data_file: dict[str, Any] | None = None) -> str:
    """Croissant 1.0 JSON-LD: dataset fields, a file, one record set of its columns, RAI fields.

    Parameters
    ----------
    card : dict
        The card's dict.
    data_file : dict, optional
        The file the record set reads: ``name`` (also its ``contentUrl``, relative to the JSON-LD),
        ``format`` (a MIME type) and ``sha256``. By default the table's own file, from the
        card's metadata (``file_name``, ``format``, ``sha256``).

    Returns
    -------
    str
        The JSON-LD, which mlcroissant (the reference validator) loads without error.
    """
    meta, prov = card["metadata"], card["provenance"]
    if data_file is None:
        data_file = {"name": meta["file_name"], "format": meta["format"]}
        data_file["sha256"] = meta.get("sha256")  # None in cards saved before checksums
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
        "datePublished": _iso_date(meta.get("release_date")),
        "version": meta.get("version"),
        "citeAs": prov.get("citation"),
        "creator": _creator(prov),
    }
    distribution = _distribution(data_file)
    doc["distribution"] = [distribution]
    fields = _fields(card, distribution["@id"])
    doc["recordSet"] = [
        {"@type": "cr:RecordSet", "@id": "records", "name": "records", "field": fields}
    ]
    doc.update(_rai(card))
    doc = {k: v for k, v in doc.items() if v is not None}
    return json_for_html(doc) + "\n"
