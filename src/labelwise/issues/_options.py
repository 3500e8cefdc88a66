"""The options that every flagging entry point shares, declared once.

:func:`labelwise.find_label_issues` and :func:`labelwise.find_multilabel_issues` hand the same
options to one engine, so they accept exactly the same values; only the list of methods differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

from labelwise._params import Interval, Options, check_params
from labelwise._validate import check_choice
from labelwise.errors import ConfigError
from labelwise.issues.scores import SCORE_METHODS

__all__ = [
    "FLAGGING_CONSTRAINTS",
    "FLAGGING_METHODS",
    "LOW_SCORE_METHODS",
    "PRUNING",
    "check_flagging_options",
]

#: The methods that prune by the calibrated confident joint.
PRUNING = ("prune_by_noise_rate", "prune_by_class", "both")
#: The methods that flag the lowest-scoring examples, as many as ``confident_learning`` flags.
LOW_SCORE_METHODS = ("low_self_confidence", "low_normalized_margin")
#: The methods every flagging entry point offers, default first.
FLAGGING_METHODS = (*PRUNING, "confident_learning", "predicted_neq_given", *LOW_SCORE_METHODS)

#: What each shared option may be (``method`` is checked against the caller's own list).
FLAGGING_CONSTRAINTS = {
    "rank_by": [Options(SCORE_METHODS)],
    "min_examples_per_class": [Interval(Integral, 0, None)],
    "frac_noise": [Interval(Real, 0, 1)],
}


def check_flagging_options(
    methods: Sequence[str],
    method: str,
    rank_by: str,
    min_examples_per_class: Any,
    frac_noise: Any,
    num_to_remove_per_class: Any = None,
) -> None:
    """Raise :class:`~labelwise.errors.ConfigError` for the first option the engine cannot use.

    Parameters
    ----------
    methods : sequence of str
        The methods the caller offers.
    method, rank_by, min_examples_per_class, frac_noise, num_to_remove_per_class
        As in :func:`labelwise.find_label_issues`. The counts of ``num_to_remove_per_class``
        are checked where the class count is known; here only whether ``method`` uses them.

    Examples
    --------
    >>> check_flagging_options(PRUNING, "both", "self_confidence", 1, 0.5)
    >>> check_flagging_options(PRUNING, "both", "self_confidence", 1, 1.5)
    Traceback (most recent call last):
    ...
    labelwise.errors.ConfigError: frac_noise must be a number in [0, 1], got 1.5.
    """
    # check_choice's message quotes the call as written (method='...'), which users search for.
    check_choice("method", method, methods)
    values = {
        "rank_by": rank_by,
        "min_examples_per_class": min_examples_per_class,
        "frac_noise": frac_noise,
    }
    check_params(FLAGGING_CONSTRAINTS, values)
    if num_to_remove_per_class is not None and method not in PRUNING:
        raise ConfigError(
            f"num_to_remove_per_class only applies to the pruning methods {list(PRUNING)}, "
            f"not to method={method!r}."
        )
