"""Layers point one way: index/ knows nothing of qa/ or eval/; qa/ never imports eval/."""
import ast

import pytest
from conftest import ROOT

# What each layer must not import. planqa.config (settings read at the edge) is a leaf anyone may use.
RULES = {
    "index": {"planqa.qa", "planqa.eval", "planqa.cli", "planqa.config"},
    "qa": {"planqa.eval", "planqa.cli"},
    "eval": {"planqa.cli"},
}


def imported_packages(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield ".".join(alias.name.split(".")[:2])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield ".".join(node.module.split(".")[:2])


@pytest.mark.parametrize("package", sorted(RULES))
def test_layer_imports(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for f in files:
        bad = set(imported_packages(f)) & RULES[package]
        assert not bad, f"{f.relative_to(ROOT)} imports {bad}"


def test_only_planqa_installs_at_the_top():
    """index/, qa/, eval/ and seeds/ are planqa.index, planqa.qa, planqa.eval and planqa.seeds."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert {name.split(".")[0] for name in setup["packages"]} == {"planqa"}
    assert setup["package-dir"] == {"planqa": "planqa", "planqa.index": "index", "planqa.qa": "qa",
                                    "planqa.eval": "eval", "planqa.seeds": "seeds"}


@pytest.mark.subprocess
def test_index_package_import_is_light():
    import subprocess
    import sys

    code = ("import sys, planqa.index, planqa.index.search, planqa.qa.answer; "
            "print(sorted(m for m in ('gradio','torch','faiss','jieba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
