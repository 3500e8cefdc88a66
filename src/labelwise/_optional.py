"""Optional packages: one place that imports them and says how to install a missing one.

Every feature that needs a package outside the core dependencies imports it through
:func:`require`, so a missing package is the same one-line
:class:`~labelwise.errors.MissingDependencyError` everywhere (on the command line: one line, exit
code 2), naming the ``labelwise[extra]`` that brings it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from labelwise.errors import MissingDependencyError

__all__ = ["EXTRAS", "require"]

#: Top-level module -> (the extra that installs it, the package to name).
EXTRAS: dict[str, tuple[str, str]] = {
    "dask": ("dask", "dask[distributed]"),
    "distributed": ("dask", "dask[distributed]"),
    "zarr": ("zarr", "zarr"),
    "fastapi": ("serve", "fastapi"),
    "starlette": ("serve", "fastapi"),
    "uvicorn": ("serve", "uvicorn"),
    "psycopg": ("postgres", "psycopg[binary]"),
    "matplotlib": ("plot", "matplotlib"),
    "torch": ("torch", "torch"),
    "skimage": ("torch", "scikit-image"),
}


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` (a dotted name), or raise one clear error naming what installs it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"uvicorn"`` or ``"matplotlib.figure"``.
    feature : str
        What needs it, as the start of a sentence: ``"labelwise serve"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        When the module (or a package it needs) is not installed.

    Examples
    --------
    >>> require("json", "reading JSON").__name__
    'json'
    >>> require("no_such_package_xyz", "a demo")
    Traceback (most recent call last):
    ...
    labelwise.errors.MissingDependencyError: a demo: no_such_package_xyz is not installed; install it with pip install no_such_package_xyz.
    """  # noqa: E501
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(_message(module, feature, exc)) from None


#: How to install a package directly, where a bare ``pip install NAME`` would be wrong.
DIRECT = {"torch": "pip install torch==2.13.0 (the CPU build)"}


def _message(module: str, feature: str, exc: ImportError) -> str:
    # The package actually missing may be a dependency of the one asked for.
    missing = (getattr(exc, "name", None) or module).split(".")[0]
    top = module.split(".")[0]
    extra, package = EXTRAS.get(missing, EXTRAS.get(top, (None, missing)))
    install = f"pip install 'labelwise[{extra}]'" if extra else f"pip install {package}"
    if missing in DIRECT:
        install = f"{DIRECT[missing]}, or {install}"
    named = package if missing == top else f"{package} (for {top})"
    return f"{feature}: {named} is not installed; install it with {install}."
