"""Many annotators: consensus labels, annotator quality, and what to label next."""

from labelwise.annotators._votes import LONG_COLUMNS, VOTE_FORMATS
from labelwise.annotators.consensus import CONSENSUS_METHODS, Consensus, consensus
from labelwise.annotators.relabel import relabel_priority

__all__ = [
    "CONSENSUS_METHODS",
    "Consensus",
    "LONG_COLUMNS",
    "VOTE_FORMATS",
    "consensus",
    "relabel_priority",
]
