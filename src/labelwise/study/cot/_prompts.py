"""What a model sees and what is read back: the two prompts, and the integer in an output."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Model", "build_prompt", "parse_integer"]

#: A model under study: receives a prompt, returns the text it generates.
Model = Callable[[str], str]

_CHAIN_PROMPT = (
    "Solve the problem using the provided reasoning. Return exactly one integer.\n"
    "Question: {question}\nReasoning:\n{chain}\nAnswer:"
)
_QUESTION_PROMPT = "Solve the problem. Return exactly one integer.\nQuestion: {question}\nAnswer:"
_INTEGER = re.compile(r"-?\d+")


def build_prompt(question: str, chain: str | None = None) -> str:
    """The prompt a model sees: with a chain ("solve using the provided reasoning") or, when
    ``chain`` is None, the question alone. Both ask for exactly one integer.

    Parameters
    ----------
    question : str
    chain : str, optional
        The reasoning shown, one step a line.

    Returns
    -------
    str

    Examples
    --------
    >>> print(build_prompt("What is 2 plus 3?", "2 plus 3 is 5.\\nThe answer is 5."))
    Solve the problem using the provided reasoning. Return exactly one integer.
    Question: What is 2 plus 3?
    Reasoning:
    2 plus 3 is 5.
    The answer is 5.
    Answer:
    """
    if chain is None:
        return _QUESTION_PROMPT.format(question=question)
    return _CHAIN_PROMPT.format(question=question, chain=chain)


def parse_integer(text: Any) -> int | None:
    """The first integer in a model's output, or None when it holds none.

    Parameters
    ----------
    text : object
        The output (anything with a ``str``).

    Returns
    -------
    int or None

    Examples
    --------
    >>> parse_integer(" 42\\n"), parse_integer("The result is -3."), parse_integer("no idea")
    (42, -3, None)
    """
    match = _INTEGER.search(str(text))
    return int(match.group()) if match else None
