"""Packaging: every import declared, optional ones behind extras, a cheap `import labelwise`."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import tomllib

import labelwise

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "labelwise"
#: Import name -> distribution name, where they differ.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "faiss": "faiss-cpu",
    "skimage": "scikit-image",
    "distributed": "dask",
}
#: Packages the core must not load on ``import labelwise``.
HEAVY = ("sklearn", "scipy", "matplotlib", "torch", "faiss", "sqlalchemy", "pyarrow")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _imported_packages() -> set[str]:
    """Top-level names of every absolute import in the package's source."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"labelwise", "__future__"}


def test_every_import_is_declared() -> None:
    project = _project()
    core = _names(project["dependencies"])
    extras = {name for reqs in project["optional-dependencies"].values() for name in _names(reqs)}
    # cleanlab is only named in docs and messages (never imported by the product).
    for package in sorted(_imported_packages() - {"cleanlab"}):
        name = DISTRIBUTIONS.get(package, package).lower()
        assert name in core | extras, f"{package} is imported but not declared in pyproject"


def test_plotting_is_an_extra_not_a_core_dependency() -> None:
    project = _project()
    assert "matplotlib" not in _names(project["dependencies"])
    assert "matplotlib" in _names(project["optional-dependencies"]["plot"])


def test_lowest_pins_match_the_declared_bounds() -> None:
    pins = {}
    for line in (ROOT / "requirements" / "lowest.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    for requirement in _project()["dependencies"]:
        name, bound = re.match(r"([A-Za-z0-9_.-]+)>=([0-9.]+)$", requirement).groups()
        assert pins.get(name.lower(), "").startswith(bound), f"{name}: pin {bound} in lowest.txt"


def test_import_labelwise_loads_no_heavy_package() -> None:
    code = (
        "import sys, labelwise\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "labelwise.find_label_issues\n"
        "print('sklearn' in sys.modules or 'scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, later = out.stdout.splitlines()
    assert loaded == "", f"import labelwise loaded {loaded}"
    assert later == "True"  # the names still work: they load their room on first use


def test_every_public_name_resolves() -> None:
    for name in labelwise.__all__:
        assert getattr(labelwise, name) is not None
    assert set(labelwise.__all__) <= set(dir(labelwise))
    assert labelwise.issues.find_label_issues is labelwise.find_label_issues


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        labelwise.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
