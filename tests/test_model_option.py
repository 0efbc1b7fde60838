"""--model: any sentence-transformers model builds and searches an index through the same code path."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS, pid
from planqa.eval.run import evaluate, load_split
from planqa.index.build import build_index
from planqa.index.errors import IndexStaleError
from planqa.index.search import Searcher

# Every test exports the real model in a child process. find_spec, not importorskip: importing
# sentence-transformers (and torch) while collecting would slow the fast layer down by seconds.
pytestmark = [
    pytest.mark.model,
    pytest.mark.subprocess,
    pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None, reason="needs planqa[st]"),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "multilingual-e5-small"
    done = subprocess.run([sys.executable, "-m", "planqa", "export-model", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def exported_index(exported, tmp_path_factory):
    root = tmp_path_factory.mktemp("st-index")
    build_index(SEEDS, root, model=str(exported))
    return root


def test_manifest_records_the_model(exported_index):
    from planqa.index.store import current_build

    manifest = json.loads((current_build(exported_index) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == {"id": "st:multilingual-e5-small", "dim": 384}


def test_index_of_another_model_is_refused_with_the_rebuild_command(exported_index):
    with pytest.raises(IndexStaleError) as e:
        Searcher.load(exported_index, SEEDS)  # default model
    assert "built with model 'st:multilingual-e5-small', not 'e5-small-q4'" in str(e.value)
    assert f"planqa index --seeds {SEEDS} --out {exported_index}" in str(e.value)


def test_exported_model_matches_the_bundled_engine_on_the_eval(exported, exported_index, searcher):
    """Within 0.02 accuracy@1 of the bundled engine, for every retriever."""
    questions = load_split("dev")
    st = evaluate(Searcher.load(exported_index, SEEDS, str(exported)), questions)
    bundled = evaluate(searcher, questions)
    for mode in ("hybrid", "dense", "bm25"):
        a = st["runs"][mode]["metrics"]["dev"]["single"]["accuracy@1"]
        b = bundled["runs"][mode]["metrics"]["dev"]["single"]["accuracy@1"]
        assert abs(a - b) <= 0.02, (mode, a, b)


def test_ask_with_model_option(exported, exported_index):
    out = subprocess.run(
        [sys.executable, "-m", "planqa", "ask", "--json", "新建多少家养老服务驿站", "--index", str(exported_index),
         "--seeds", str(SEEDS), "--model", str(exported)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hits"][0]["id"] == pid("6.2.3")
