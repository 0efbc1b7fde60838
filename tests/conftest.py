"""Shared fixtures: the real plan, and one real index of it built once per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PLAN = SEEDS / "tongzhou-2024-work-plan.md"
DOC = "tongzhou-2024-work-plan"

# jieba's cache and anything else planqa writes stay inside the test run.
os.environ.setdefault("PLANQA_CACHE", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"planqa-test-cache-{os.getuid()}"))


@pytest.fixture(scope="session")
def plan_text() -> str:
    return PLAN.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def passages():
    from index.parse import parse_seeds

    return parse_seeds(SEEDS)


@pytest.fixture(scope="session")
def index_root(tmp_path_factory) -> Path:
    """A real index (bundled model, FAISS, BM25) of the plan, on disk."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("index")
    build_index(SEEDS, root)
    return root


@pytest.fixture(scope="session")
def searcher(index_root):
    from index.search import Searcher

    return Searcher.load(index_root, SEEDS)


def by_text(passages, fragment: str):
    """The one passage containing `fragment`."""
    found = [p for p in passages if fragment in p.text]
    assert len(found) == 1, (fragment, [p.id for p in found])
    return found[0]
