"""Layers point one way: index/ knows nothing of qa/ or eval/; qa/ never imports eval/."""
import ast

import pytest
from conftest import ROOT

RULES = {"index": {"qa", "eval", "planqa"}, "qa": {"eval", "planqa"}, "eval": {"planqa"}}


def imported_packages(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(RULES))
def test_layer_imports(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for f in files:
        bad = set(imported_packages(f)) & RULES[package]
        assert not bad, f"{f.relative_to(ROOT)} imports {bad}"


def test_index_package_import_is_light():
    import subprocess
    import sys

    code = "import sys, index, index.search, qa.answer; print(sorted(m for m in ('gradio','torch','faiss','jieba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
