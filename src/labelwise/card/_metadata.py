"""The metadata file a dataset's author writes: provenance, uses and variable descriptions."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import yaml

from labelwise.errors import ConfigError, DataFileError

#: Keys the metadata file may hold, each with the type of its value.
TEXT_KEYS = (
    "name",
    "description",
    "license",
    "url",
    "domain",
    "creator",
    "contact",
    "source",
    "release_date",
    "version",
    "citation",
    "collection",
    "annotation_protocol",
    "sensitive_info",
    "biases",
    "limitations",
    "maintenance",
    "split_column",
)
LIST_KEYS = ("keywords", "intended_uses", "out_of_scope_uses")
MAP_KEYS = ("variables",)
KNOWN_KEYS = (*TEXT_KEYS, *LIST_KEYS, *MAP_KEYS)


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()]
    if not isinstance(value, list):
        raise ConfigError(
            f"metadata key {key!r} must be a list of strings (YAML '- item' lines), "
            f"got {type(value).__name__}."
        )
    return [_text(item) for item in value]


def _variables(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(
            "metadata key 'variables' must map column names to descriptions "
            f"(e.g. 'variables: {{age: Age in years}}'), got {type(value).__name__}."
        )
    return {str(column): _text(text) for column, text in value.items()}


def check_metadata(raw: Any, source: str = "metadata") -> dict[str, Any]:
    """Validate a metadata mapping and return it with every value as plain text, lists or maps.

    Parameters
    ----------
    raw : dict or None
        The parsed metadata (None is an empty file).
    source : str
        What to call it in error messages.

    Returns
    -------
    dict

    Examples
    --------
    >>> check_metadata({"name": "credit", "keywords": ["finance"], "release_date": "2020-01-01"})
    {'name': 'credit', 'release_date': '2020-01-01', 'keywords': ['finance']}
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source} must be a mapping of keys to values (e.g. 'name: my data'), "
            f"got {type(raw).__name__}."
        )
    unknown = sorted(str(k) for k in raw if k not in KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{source} has unknown keys {unknown}; the known keys are {', '.join(KNOWN_KEYS)}."
        )
    clean: dict[str, Any] = {}
    for key in TEXT_KEYS:
        if raw.get(key) is not None:
            clean[key] = _text(raw[key])
    for key in LIST_KEYS:
        if raw.get(key) is not None:
            clean[key] = _list(key, raw[key])
    if raw.get("variables") is not None:
        clean["variables"] = _variables(raw["variables"])
    return clean


def load_metadata(metadata: str | os.PathLike | dict | None) -> dict[str, Any]:
    """Read the metadata: a YAML file path, an already-parsed mapping, or None for none.

    Raises
    ------
    DataFileError
        When the file does not exist or cannot be read.
    ConfigError
        When it is not valid YAML or holds unknown keys or values of the wrong type.
    """
    if metadata is None:
        return {}
    if isinstance(metadata, dict):
        return check_metadata(metadata)
    path = Path(metadata)
    if not path.is_file():
        raise DataFileError(
            f"metadata file {str(path)!r} does not exist; write one (see docs/card.md for the "
            "keys) or leave metadata out."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"cannot read metadata file {str(path)!r}: {exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(
            f"metadata file {str(path)!r} is not valid YAML{line}: "
            f"{getattr(exc, 'problem', None) or exc}. Fix the syntax (e.g. quote values that "
            "hold ':')."
        ) from None
    return check_metadata(raw, source=f"metadata file {str(path)!r}")
