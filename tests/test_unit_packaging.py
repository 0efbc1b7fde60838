"""Fast layer: what pyproject.toml promises about the package, checked against the source.

Every library planqa's code imports is a declared dependency (or comes with one), and every data
file in the package folders is listed in package-data, so that an installed wheel has it
(tests/test_install.py checks the real wheel).
"""
from __future__ import annotations

import ast
import fnmatch
import importlib.metadata as md
import sys
import tomllib

from conftest import ROOT
from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def key(name: str) -> str:
    return name.lower().replace("_", "-")


def declared() -> set[str]:
    """The distributions pyproject names (dependencies and extras), and everything they require."""
    project = PYPROJECT["project"]
    todo = [Requirement(r).name for r in project["dependencies"]]
    todo += [Requirement(r).name for extra in project.get("optional-dependencies", {}).values() for r in extra]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if key(name) in seen:
            continue
        seen.add(key(name))
        try:
            requires = md.distribution(name).requires or []
        except md.PackageNotFoundError:
            continue
        todo += [Requirement(r).name for r in requires if "extra ==" not in r]
    return seen


def imported_top_levels(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_library_the_code_imports_is_declared():
    owners = md.packages_distributions()
    allowed = declared()
    undeclared = {}
    for folder in SETUPTOOLS["package-dir"].values():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module in imported_top_levels(path) - set(sys.stdlib_module_names) - {"planqa", "__future__"}:
                dists = owners.get(module, [f"(no installed distribution provides {module!r})"])
                if not any(key(d) in allowed for d in dists):
                    undeclared.setdefault(module, []).append(path.relative_to(ROOT).as_posix())
    assert undeclared == {}, "add these to pyproject.toml dependencies"


def test_every_data_file_is_package_data():
    unlisted = []
    for package, folder in SETUPTOOLS["package-dir"].items():
        patterns = SETUPTOOLS.get("package-data", {}).get(package, [])
        for path in sorted((ROOT / folder).rglob("*")):
            rel = path.relative_to(ROOT / folder).as_posix()
            if (path.is_file() and path.suffix not in (".py", ".pyc") and path.name != "README.md"
                    and "__pycache__" not in path.parts and not any(fnmatch.fnmatch(rel, p) for p in patterns)):
                unlisted.append(f"{folder}/{rel}")
    assert unlisted == [], "add these to [tool.setuptools.package-data] in pyproject.toml"
