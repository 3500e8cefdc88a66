"""The layout rules of docs/ARCHITECTURE.md, checked on the source itself.

- A room (a subpackage: issues, learn, monitor, card, study, vision, cli; the dashboard counts
  as a room of its own) never imports a private name of another room, nor anything from another
  room's private modules, nor the core's private modules; the core's top-level modules never take
  each other's private names either. The shared private layer (``labelwise._shared``,
  ``_validate``, ``_parallel``, ``_optional``, ``_params``) is open to all.
- Rooms never import the shells (the CLI, the dashboard).
- No HTML template lives in a Python string: templates are package files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import labelwise

PACKAGE = Path(labelwise.__file__).parent
SHARED = {"_shared", "_validate", "_parallel", "_optional", "_params"}
SHELLS = ("labelwise.cli", "labelwise.monitor.dashboard")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _room(module: str) -> str:
    """The room of a module: its subpackage (the dashboard, a shell, counts as its own), or the
    module itself for the core's modules."""
    parts = module.split(".")
    if len(parts) == 1:
        return "labelwise"
    if parts[1:3] == ["monitor", "dashboard"]:
        return "monitor.dashboard"
    return parts[1]


def _in_a_subpackage(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 2 or (PACKAGE / parts[-1]).is_dir()


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _imports(module: str, path: Path) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) for each labelwise import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, base, a.name) for a in node.names]
    return [item for item in found if item[1].split(".")[0] == "labelwise"]


def _crossing(importer: str, target: str, name: str | None) -> str | None:
    """Why importing ``name`` from ``target`` in ``importer`` breaks the rules, if it does."""
    target_parts = target.split(".")
    if len(target_parts) > 1 and target_parts[1] in SHARED:
        return None
    if len(target_parts) > 1 and _is_private(target_parts[1]) and _in_a_subpackage(importer):
        return "a private module of the core"
    if _room(importer) == _room(target) and _room(importer) != "labelwise":
        return None  # inside one room anything goes
    if importer == target:
        return None
    if any(_is_private(part) for part in target_parts[2:]):
        return "a private module of another room"
    if name and _is_private(name):
        return "a private name of another room"
    return None


def test_no_private_names_cross_rooms():
    broken = []
    for module, path in _modules():
        for line, target, name in _imports(module, path):
            why = _crossing(module, target, name)
            if why:
                shown = f"from {target} import {name}" if name else f"import {target}"
                broken.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {shown} ({why})")
    assert not broken, "\n".join(broken)


def test_rooms_do_not_import_the_shells():
    broken = []
    for module, path in _modules():
        if module.startswith(SHELLS):
            continue
        for line, target, _ in _imports(module, path):
            if target.startswith(SHELLS) and not module.startswith("labelwise.cli"):
                broken.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}")
    assert not broken, "\n".join(broken)


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("marker", ["<!doctype", "<html", "{% extends", "{% block", "{% for"])
def test_no_template_in_a_python_string(marker):
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for _, path in _modules()
        for line, text in _strings(path)
        if marker in text.lower()
    ]
    assert not found, f"{marker!r} in Python strings (templates belong in package files): {found}"


def test_the_rules_catch_what_they_should():
    """The checker itself: a private name across rooms is caught, one inside a room is not."""
    assert _crossing("labelwise.cli.audit", "labelwise.issues._dask", "dask_client")
    assert _crossing("labelwise.monitor._monitor", "labelwise.io", "_jsonable")
    assert _crossing("labelwise.models", "labelwise.predict", "_splits")
    assert _crossing("labelwise.issues.filter", "labelwise.issues._counting", "smallest_n") is None
    assert _crossing("labelwise.card._html", "labelwise._shared.charts", "bars") is None
    assert _crossing("labelwise.issues.audit", "labelwise._validate", "check_choice") is None
    assert _crossing("labelwise.study.cot", "labelwise.learn", "NeuralClassifier") is None
    assert _crossing("labelwise.issues.audit", "labelwise._simulate", "check_rate")
    assert _crossing("labelwise.simulate", "labelwise._simulate", "check_rate") is None
    assert _crossing("labelwise.monitor.dashboard._app", "labelwise.monitor._results", "BLIND_SPOT")
