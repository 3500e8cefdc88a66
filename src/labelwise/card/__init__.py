"""The dataset nutrition label: a labeled table described module by module, label health first.

:func:`build` computes every number into one JSON-ready dict; :class:`Card` renders that dict
as a self-contained HTML page, JSON, a Markdown dataset card and Croissant JSON-LD.
"""

from labelwise.card._build import Card, build
from labelwise.card._metadata import KNOWN_KEYS as METADATA_KEYS
from labelwise.card._metadata import load_metadata

__all__ = ["METADATA_KEYS", "Card", "build", "load_metadata"]
