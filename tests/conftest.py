"""Shared fixtures: the real plan, and one real index of it built once per test session."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PLAN = SEEDS / "tongzhou-2024-work-plan.md"
DOC = "tongzhou-2024-work-plan"

# jieba's cache and anything else planqa writes stay inside the test run (subprocesses read the
# variable; this process is told directly).
os.environ.setdefault("PLANQA_CACHE", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"planqa-test-cache-{os.getuid()}"))
from planqa.index.lexical import use_cache_dir  # noqa: E402

use_cache_dir(Path(os.environ["PLANQA_CACHE"]))


@pytest.fixture(scope="session")
def plan_text() -> str:
    return PLAN.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def passages():
    from planqa.index.parse import parse_seeds

    return parse_seeds(SEEDS)


@pytest.fixture(scope="session")
def index_root(tmp_path_factory) -> Path:
    """A real index (bundled model, FAISS, BM25) of the plan, on disk."""
    from planqa.index.build import build_index

    root = tmp_path_factory.mktemp("index")
    build_index(SEEDS, root)
    return root


@pytest.fixture(scope="session")
def searcher(index_root):
    from planqa.index.search import Searcher

    return Searcher.load(index_root, SEEDS)


REAL_INDEX_FIXTURES = {"index_root", "searcher"}
HEAVY = ("model", "subprocess", "browser")


def pytest_collection_modifyitems(items):
    """A test on the real index is a `model` test; every model, subprocess or browser test is `slow`."""
    for item in items:
        if REAL_INDEX_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
        if any(item.get_closest_marker(m) for m in HEAVY):
            item.add_marker(pytest.mark.slow)


@lru_cache(maxsize=1)
def _plan_passages():
    from planqa.index.parse import parse_seeds

    return parse_seeds(SEEDS)


def pid(label: str) -> str:
    """The id of the real plan's sentence at "chapter.section.ordinal" ("6.2.3": 新建10家养老服务驿站。)."""
    found = [p.id for p in _plan_passages() if p.label == label]
    assert len(found) == 1, (label, found)
    return found[0]


def by_text(passages, fragment: str):
    """The one passage containing `fragment`."""
    found = [p for p in passages if fragment in p.text]
    assert len(found) == 1, (fragment, [p.id for p in found])
    return found[0]
