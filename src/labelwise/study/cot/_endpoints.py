"""Adapters that turn a served or local language model into the ``str -> str`` callable the
protocol asks."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from numbers import Integral, Real
from typing import Any

from labelwise._params import CALLABLE, Interval, check_params
from labelwise.errors import ConfigError, EndpointError, InputTypeError
from labelwise.study.cot._prompts import Model

__all__ = ["from_openai_compatible", "from_transformers_pipeline"]

_PIPE = {"pipe": [CALLABLE]}
_PIPE_PARAMS = {"max_new_tokens": [Interval(Integral, 1, None)]}
_ENDPOINT_PARAMS = {"timeout": [Interval(Real, 0, None, closed="neither")]}


def from_transformers_pipeline(pipe: Any, max_new_tokens: int = 16) -> Model:
    """Wrap a Hugging Face ``transformers`` text-generation pipeline as ``str -> str``.

    Decoding is greedy and only the continuation is returned. ``transformers`` is not imported
    here: any callable with the pipeline's calling convention works.

    Parameters
    ----------
    pipe : callable
        A text-generation pipeline, or anything called the same way.
    max_new_tokens : int, default 16

    Returns
    -------
    callable str -> str

    Examples
    --------
    >>> fake = lambda prompt, **kw: [{"generated_text": " 7"}]
    >>> from_transformers_pipeline(fake)("2 + 5 = ?")
    ' 7'
    """
    check_params(_PIPE, {"pipe": pipe}, error=InputTypeError)
    check_params(_PIPE_PARAMS, {"max_new_tokens": max_new_tokens})
    max_new_tokens = int(max_new_tokens)

    def generate(prompt: str) -> str:
        out = pipe(prompt, max_new_tokens=max_new_tokens, do_sample=False, return_full_text=False)
        first = out[0] if isinstance(out, list) else out
        if isinstance(first, list):  # batched pipelines nest one more level
            first = first[0]
        return str(first["generated_text"])

    generate.__name__ = getattr(getattr(pipe, "model", None), "name_or_path", "transformers")
    return generate


def _post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> Any:
    """POST ``body`` as JSON and read the JSON answer; every failure is an EndpointError."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise EndpointError(f"{url} answered HTTP {exc.code}: {exc.reason}.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EndpointError(
            f"cannot reach {url}: {reason}; check --endpoint and that the server runs."
        ) from None
    except ValueError:
        raise EndpointError(f"{url} did not answer JSON.") from None


def from_openai_compatible(
    base_url: str,
    model: str,
    api_key: str | None = None,
    timeout: float = 60.0,
    max_tokens: int = 16,
) -> Model:
    """Wrap an OpenAI-compatible chat-completions endpoint as ``str -> str`` (standard library
    only; nothing is sent until the returned callable is called).

    Each call POSTs ``{"model", "messages": [{"role": "user", "content": prompt}],
    "temperature": 0, "max_tokens"}`` to ``base_url + "/chat/completions"`` and returns the
    first choice's message content.

    Parameters
    ----------
    base_url : str
        E.g. ``http://127.0.0.1:8000/v1`` (vLLM, llama.cpp server, Ollama...).
    model : str
        The model name the endpoint serves.
    api_key : str, optional
        Sent as ``Authorization: Bearer <key>``.
    timeout : float, default 60.0
        Seconds per request.
    max_tokens : int, default 16

    Returns
    -------
    callable str -> str

    Raises
    ------
    ConfigError
        For a URL that is not http(s).
    EndpointError
        From the callable, when the endpoint cannot be reached or its answer cannot be read.

    Examples
    --------
    >>> ask = from_openai_compatible("http://127.0.0.1:8000/v1", "qwen2.5-3b")
    >>> ask.__name__
    'qwen2.5-3b'
    """
    parts = urllib.parse.urlparse(str(base_url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base_url must be an http(s) URL, got {base_url!r}.")
    check_params(_ENDPOINT_PARAMS, {"timeout": timeout})
    url = str(base_url).rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"

    def generate(prompt: str) -> str:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": int(max_tokens),
        }
        data = _post(url, body, headers, float(timeout))
        try:
            return str(data["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise EndpointError(
                f"{url} answered without choices[0].message.content; is it OpenAI-compatible?"
            ) from None

    generate.__name__ = str(model)
    return generate
