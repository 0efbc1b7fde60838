"""Hardening (issue 13): full disks, unreadable and damaged manifests, huge plans, duplicate ids,
symlinks, chapter numbers, and the server's cross-origin, cookie, login and upload rules.

Fast tests use the n-gram fakes of tests/fakes.py (no model) and inline plans; the tests that start
`planqa serve` in a child process are marked `subprocess` (and get the real index: `model`).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DOC, ROOT, SEEDS, serving
from fakes import NgramEmbedder, NgramUse
from pagechat import chat_stream, shown_chat
from planqa.index import build as build_module
from planqa.index import store
from planqa.index.build import build_index
from planqa.index.errors import IndexInvalidError, InputError, SeedsError, StorageError
from planqa.index.parse import MAX_PASSAGE_CHARS, parse_seeds, parse_text, seed_documents
from planqa.index.records import check_chapter
from planqa.index.search import Searcher

from planqa.cli import main

PLAN = "# 计划\n\n【第一部分】\n\n1、公园\n\n新建公园两座。完成绿道改造。\n\n2、学校\n\n新建学校一所。\n"


def seeds_with(tmp_path: Path, files: dict[str, str]) -> Path:
    seeds = tmp_path / "seeds"
    for rel, text in files.items():
        (seeds / rel).parent.mkdir(parents=True, exist_ok=True)
        (seeds / rel).write_text(text, encoding="utf-8")
    return seeds


def build(seeds: Path, root: Path, **kw) -> Path:
    return build_index(seeds, root, embedder=NgramEmbedder(32), use=NgramUse(), **kw)


def load(root: Path, seeds: Path) -> Searcher:
    return Searcher.load(root, seeds, embedder=NgramEmbedder(32), use=NgramUse())


# --- 2. full disks, unreadable and damaged manifests -------------------------------------------

def assert_one_line_and_old_index_serves(message: str, root: Path, seeds: Path, good: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert (root / "CURRENT").read_text().strip() == good
    assert sorted(p.name for p in (root / "builds").iterdir()) == [good]  # the half-written build is gone
    assert [p.text for p in load(root, seeds).passages] == ["新建公园两座。", "完成绿道改造。", "新建学校一所。"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The small plan's seeds and one good index of it (copy the index before changing it)."""
    tmp = tmp_path_factory.mktemp("built")
    seeds = seeds_with(tmp, {"plan.md": PLAN})
    build(seeds, tmp / "index")
    return seeds, tmp / "index"


@pytest.mark.parametrize("where", ["passages", "vectors", "faiss", "manifest", "pointer"])
def test_a_full_disk_at_any_write_is_one_line_and_the_old_index_serves(built, tmp_path, monkeypatch, where):
    """ENOSPC simulated at each write of a build (the real thing, on a tmpfs, is the next test)."""
    seeds, root = built[0], tmp_path / "index"
    shutil.copytree(built[1], root)
    good = (root / "CURRENT").read_text().strip()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    def faiss_full(*args, **kwargs):
        raise RuntimeError("Error in void faiss::write_index(const Index*, IOWriter*, int) at index_write.cpp:499: "
                           "Error: 'ret == (size * 4)' failed: write error in /x/dense.faiss")

    target = {"passages": (build_module, "write_passages", full), "vectors": (build_module.np, "save", full),
              "faiss": (build_module, "write_dense_index", faiss_full), "manifest": (build_module, "write_manifest", full),
              "pointer": (store, "write_atomic", full)}[where]
    monkeypatch.setattr(*target)
    with pytest.raises(StorageError) as e:
        build(seeds, root)
    monkeypatch.undo()
    message = str(e.value)
    if where == "faiss":  # faiss names no cause: with room left on the disk, it is not called full
        assert message.startswith(f"writing the index at {root} failed ('ret == (size * 4)' failed: write error in "
                                  f"/x/dense.faiss); check {root}, then run")
    else:
        assert message.startswith(f"the disk holding {root} is full ([Errno 28] No space left on device); free some "
                                  "space (the index in use takes ")
    assert message.endswith(f"then run: planqa index --seeds {seeds} --out {root}. The index in use is unchanged.")
    assert_one_line_and_old_index_serves(message, root, seeds, good)


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.subprocess  # mount(8)
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
@pytest.mark.parametrize("left_kb", [2, 380])
def test_a_really_full_disk(tmp_path, left_kb):
    """A 4 MB tmpfs, one build, filled to `left_kb` free, build again: the first write that fails
    (passages, vectors, FAISS or manifest, depending on the room left) says the disk is full."""
    seeds = seeds_with(tmp_path, {"plan.md": PLAN * 40})
    with tmpfs(tmp_path / "disk", "4m") as disk:
        root = disk / "index"
        embedder = NgramEmbedder(384)  # the real model's width: real file sizes
        good = build_index(seeds, root, embedder=embedder, use=NgramUse()).name
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * (free - left_kb * 1024))
        with pytest.raises(StorageError) as e:
            build_index(seeds, root, embedder=embedder, use=NgramUse())
        message = str(e.value)
        assert message.startswith(f"the disk holding {root} is full ("), message
        assert "\n" not in message and message.endswith("The index in use is unchanged.")
        assert (root / "CURRENT").read_text().strip() == good
        assert sorted(p.name for p in (root / "builds").iterdir()) == [good]
        (disk / "filler").unlink()
        assert len(Searcher.load(root, seeds, embedder=embedder, use=NgramUse()).passages) == 3 * 40


@pytest.mark.model
@pytest.mark.subprocess
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_the_issues_full_disk_through_the_real_command(tmp_path):
    """Issue 13's reproduction: a 20 MB tmpfs, one build, filled to ~250 KB free, `planqa index` again."""
    with tmpfs(tmp_path / "disk", "20m") as disk:
        root = disk / "index"

        def planqa(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "planqa", *args, "--index" if args[0] == "ask" else "--out",
                                   str(root), "--seeds", str(SEEDS)], cwd=ROOT, capture_output=True, text=True, timeout=300)

        assert planqa("index").returncode == 0
        good = (root / "CURRENT").read_text().strip()
        (disk / "filler").write_bytes(b"\0" * (shutil.disk_usage(disk).free - 250_000))
        out = planqa("index")
        err = [line for line in out.stderr.splitlines() if not line.startswith(("planqa: parsed", "planqa: embedded"))]
        assert out.returncode == 1 and len(err) == 1 and "Traceback" not in out.stderr, out.stderr
        assert err[0].startswith(f"planqa: the disk holding {root} is full (")
        assert err[0].endswith(f"then run: planqa index --seeds {SEEDS} --out {root}. The index in use is unchanged.")
        assert sorted(p.name for p in (root / "builds").iterdir()) == [good]
        asked = planqa("ask", "--json", "今年新建多少家养老服务驿站？")
        assert asked.returncode == 0 and json.loads(asked.stdout)["hits"][0]["text"] == "新建10家养老服务驿站。"


def test_an_unwritable_index_folder_says_permission(built, tmp_path, monkeypatch):
    seeds, root = built[0], tmp_path / "index"
    shutil.copytree(built[1], root)
    good = (root / "CURRENT").read_text().strip()

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(root / "builds"))

    monkeypatch.setattr(store.Path, "mkdir", denied)
    with pytest.raises(StorageError) as e:
        build(seeds, root)
    monkeypatch.undo()
    assert str(e.value).startswith(f"cannot write the index at {root}: permission denied (")
    assert f"run planqa as the user who owns {root}, or give that user access to it (chown/chmod)" in str(e.value)
    assert (root / "CURRENT").read_text().strip() == good


@contextlib.contextmanager
def as_nobody():
    """Run the block as user nobody (real permission checks: root reads everything)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture()
def open_dir(tmp_path):
    """A folder anyone may enter (pytest's own are private to root): for tests that drop to nobody."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="planqa-perm-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_an_unreadable_manifest_is_not_called_damaged(open_dir):
    seeds = seeds_with(open_dir, {"plan.md": PLAN})
    root = open_dir / "index"
    build(seeds, root)
    manifest = store.current_build(root) / "manifest.json"
    manifest.chmod(0o000)
    for p in (seeds, *seeds.iterdir(), root, root / "CURRENT", *root.rglob("*")):
        if p != manifest:
            p.chmod(0o755 if p.is_dir() else 0o644)
    with as_nobody(), pytest.raises(StorageError) as e:
        load(root, seeds)
    assert str(e.value) == (f"cannot read the index file {manifest}: permission denied; run planqa as the user who "
                            f"owns {manifest}, or give that user access to it (chown/chmod)")


def set_manifest(root: Path, data: bytes) -> Path:
    path = store.current_build(root) / "manifest.json"
    path.write_bytes(data)
    return path


def test_a_manifest_of_deeply_nested_brackets_is_damaged_not_a_recursion_error(built, tmp_path):
    seeds, root = built[0], tmp_path / "index"
    shutil.copytree(built[1], root)
    path = set_manifest(root, b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(IndexInvalidError) as e:
        load(root, seeds)
    assert str(e.value) == f"the index manifest {path} is damaged; rebuild it: planqa index --seeds {seeds} --out {root}"


def test_a_wrong_typed_format_version_reads_right(built, tmp_path):
    seeds, root = built[0], tmp_path / "index"
    shutil.copytree(built[1], root)
    path = store.current_build(root) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    set_manifest(root, json.dumps({**manifest, "format_version": "1"}).encode())
    with pytest.raises(IndexInvalidError) as e:
        load(root, seeds)
    assert str(e.value) == (f'the index manifest {path} is damaged (its format_version is "1", not a number); '
                            f"rebuild it: planqa index --seeds {seeds} --out {root}")


def test_an_unreadable_plan_file_names_the_file_and_the_cause(open_dir):
    seeds = seeds_with(open_dir, {"plan.md": PLAN})
    seeds.chmod(0o755)
    (seeds / "plan.md").chmod(0o000)
    with as_nobody(), pytest.raises(SeedsError) as e:
        parse_seeds(seeds)
    assert str(e.value).startswith(f"cannot read the plan file {seeds / 'plan.md'}: permission denied; ")


# --- 3. huge plans ------------------------------------------------------------------------------

def plan_of(n_sections: int) -> str:
    """A plan of one chapter with many sections, one sentence each (the shape that was quadratic)."""
    return "【第一部分】\n\n" + "".join(f"{i % 999 + 1}、小节{i}\n\n完成第{i}项任务。\n\n" for i in range(n_sections))


def test_parsing_is_linear_in_the_plans_size():
    """Four times the sections takes about four times as long (the old rescan made it sixteen)."""
    def seconds(n: int) -> float:
        best = float("inf")
        for _ in range(3):
            text = plan_of(n)
            started = time.perf_counter()
            passages = parse_text(text, "d")
            best = min(best, time.perf_counter() - started)
        assert len(passages) == n
        return best

    small, large = seconds(2_500), seconds(10_000)
    assert large / small < 7, (small, large)  # measured: 3.3 now; 9.3 at 2,000/8,000 with the old rescan
    labels = [p.label for p in parse_text(plan_of(1_000), "d")]
    assert labels[:2] == ["1.1.1", "1.2.1"] and labels[999] == "1.1.2"  # section 1 again: its count continues


def test_a_passage_longer_than_the_limit_is_cut_at_clause_marks():
    clause = "推进" + "城市更新" * 9 + "，"  # 39 characters
    long = clause * 20 + "全面完成。"
    assert len(long) > MAX_PASSAGE_CHARS
    ps = parse_text(f"【第一部分】\n\n1、城市\n\n{long}\n", "d")
    assert [len(p.text) for p in ps] == [39 * 7, 39 * 7, 39 * 6 + 5]
    assert all(p.text.endswith("，") for p in ps[:2]) and "".join(p.text for p in ps) == long
    assert len({p.id for p in ps}) == 3


def test_a_run_without_any_punctuation_is_cut_at_the_limit():
    run = "城" * 1000
    ps = parse_text(run, "d")
    assert [len(p.text) for p in ps] == [300, 300, 300, 100]
    assert [(p.start, p.end) for p in ps] == [(0, 300), (300, 600), (600, 900), (900, 1000)]


def test_a_plan_over_the_passage_limit_is_refused_before_embedding(tmp_path):
    seeds = seeds_with(tmp_path, {"plan.md": plan_of(600)})
    lines = []

    class Refuses(NgramEmbedder):
        def embed_passages(self, texts):
            raise AssertionError("embedding started")

    with pytest.raises(SeedsError) as e:
        build_index(seeds, tmp_path / "index", embedder=Refuses(32), use=NgramUse(), progress=lines.append, max_passages=500)
    assert str(e.value) == (f"the plans in {seeds} hold 600 passages; one index takes at most 500 (some 0 minutes of "
                            "embedding on an idle two-core machine, docs/benchmarks.md): split them into several seeds "
                            "folders and indexes")
    assert lines == [f"parsed 600 passages from {seeds}"]
    assert not (tmp_path / "index" / "builds").exists() or not list((tmp_path / "index" / "builds").iterdir())


def test_a_big_build_prints_progress_every_few_seconds(tmp_path, monkeypatch):
    seeds = seeds_with(tmp_path, {"plan.md": plan_of(1_500)})
    clock = iter(range(0, 10_000, 6))
    monkeypatch.setattr(build_module.time, "monotonic", lambda: next(clock))
    lines = []
    build(seeds, tmp_path / "index", progress=lines.append)
    embedded = [line for line in lines if line.startswith("embedded")]
    # 24 batches of 64, 6 fake seconds each: a line every 10 s (every second batch) and the last one.
    assert embedded[:2] == ["embedded 128/1500 passages with test-ngrams-32, about 2 min left",
                            "embedded 256/1500 passages with test-ngrams-32, about 2 min left"]
    assert embedded[-2:] == ["embedded 1408/1500 passages with test-ngrams-32", "embedded 1500/1500 passages with test-ngrams-32"]
    assert len(embedded) == 12


@pytest.mark.slow
def test_a_20_mb_plan_is_refused_with_a_reason_within_a_minute(tmp_path):
    plan = (SEEDS / f"{DOC}.md").read_text(encoding="utf-8")
    seeds = seeds_with(tmp_path, {"big.md": "\n\n".join([plan] * 1660)})
    assert (seeds / "big.md").stat().st_size > 20_000_000
    started = time.monotonic()
    lines = []
    with pytest.raises(SeedsError) as e:
        build(seeds, tmp_path / "index", progress=lines.append)
    assert time.monotonic() - started < 60
    assert lines == ["parsing 1 plan file, 20.0 MB", f"parsed 207500 passages from {seeds}"]
    assert str(e.value).startswith(f"the plans in {seeds} hold 207,500 passages; one index takes at most 50,000 (")


# --- 4. duplicate ids, subfolders, symlinks -----------------------------------------------------

def test_documents_are_keyed_by_their_path_in_the_seeds_folder(tmp_path):
    seeds = seeds_with(tmp_path, {"plan.md": PLAN, "plan.txt": PLAN, "2023/plan.md": PLAN, "other.md": PLAN})
    notices = []
    assert [(p.relative_to(seeds).as_posix(), d) for p, d in seed_documents(seeds, notices.append)] == [
        ("2023/plan.md", "2023/plan"), ("other.md", "other"), ("plan.md", "plan.md"), ("plan.txt", "plan.txt")]
    passages = parse_seeds(seeds)
    assert len(passages) == 12 and len({p.id for p in passages}) == 12
    assert sorted({p.id.split(":")[0] for p in passages}) == ["2023/plan", "other", "plan.md", "plan.txt"]
    assert notices == []


def test_the_real_plan_keeps_its_document_name(passages):
    assert {p.document for p in passages} == {DOC}


def test_symlinks_leading_outside_the_seeds_folder_are_skipped_with_a_notice(tmp_path):
    seeds = seeds_with(tmp_path, {"plan.md": PLAN})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0:新建。\n", encoding="utf-8")
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    (seeds / "secret.txt").symlink_to(outside / "secret.txt")
    (seeds / "inside.md").symlink_to(seeds / "plan.md")
    (seeds / "linked").symlink_to(outside, target_is_directory=True)
    notices = []
    docs = seed_documents(seeds, notices.append)
    assert [d for _, d in docs] == ["inside", "plan"]
    assert notices == [
        f"skipped {seeds / 'linked'}: a symlinked folder (copy the plans into the seeds folder instead)",
        f"skipped {seeds / 'passwd.txt'}: a symlink to /etc/passwd, outside the seeds folder",
        f"skipped {seeds / 'secret.txt'}: a symlink to {outside / 'secret.txt'}, outside the seeds folder",
    ]
    lines = []
    build(seeds, tmp_path / "index", progress=lines.append)
    assert lines[:3] == notices
    assert all("root:x" not in p.text for p in load(tmp_path / "index", seeds).passages)


# --- 6. --chapter -------------------------------------------------------------------------------

def test_check_chapter_has_one_meaning():
    chapters = [0, 1, 2, 3, 4, 5, 6, 7]
    assert [check_chapter(c, chapters) for c in (None, 0, 1, 7)] == [None, 0, 1, 7]
    for bad in (8, -1, 99):
        with pytest.raises(InputError) as e:
            check_chapter(bad, chapters)
        assert str(e.value) == f"chapter must be 0 (the introduction) to 7, got {bad}"


@pytest.mark.parametrize("bad", ["8", "-1"])
def test_an_out_of_range_chapter_is_an_input_error_at_the_cli(bad, capsys):
    rc = main(["commitments", "--chapter", bad, "--seeds", str(SEEDS)])
    assert (rc, capsys.readouterr().err) == (2, f"planqa: chapter must be 0 (the introduction) to 7, got {bad}\n")


def test_chapter_0_is_the_introduction_in_commitments(capsys):
    assert main(["commitments", "--chapter", "0", "--seeds", str(SEEDS)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 2 and all(r.startswith("引言\t") for r in rows)


# --- 1, 5, 6: the running server ----------------------------------------------------------------

PUBLIC = "https://planqa.intranet.example"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def open_server(index_root, tmp_path_factory):
    with serving(index_root, tmp_path_factory.mktemp("hardening"), PLANQA_ALLOWED_ORIGINS=f"{PUBLIC}, https://other.example/") as s:
        yield s


@pytest.fixture(scope="module")
def locked_server(index_root, tmp_path_factory):
    with serving(index_root, tmp_path_factory.mktemp("hardening-locked"), PLANQA_USER="planqa",
                 PLANQA_PASSWORD="right-password-42") as s:
        yield s


def cors(r) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.startswith("access-control-")}


@pytest.mark.subprocess
def test_other_origins_are_refused_whatever_the_host(open_server):
    """Gradio trusted every Origin once the Host was not localhost (nginx sets the public name)."""
    with open_server.http() as c:
        for host in (None, "planqa.intranet.example", f"localhost:{open_server.port}"):  # other hosts: 400 (below)
            for origin in (EVIL, "null", "http://127.0.0.1:1", "https://planqa.intranet.example.evil.example"):
                headers = {"Origin": origin, **({"Host": host} if host else {})}
                r = c.get("/config", headers=headers)
                assert (r.status_code, r.json(), cors(r)) == (403, {"detail": "cross-origin request refused"}, {}), (host, origin)
                r = c.post("/gradio_api/queue/join", headers=headers,
                           json={"data": ["养老", [], None, 5], "fn_index": 0, "session_hash": "x"})
                assert (r.status_code, cors(r)) == (403, {}), (host, origin)
                r = c.options("/gradio_api/queue/join", headers={**headers, "Access-Control-Request-Method": "POST"})
                assert (r.status_code, cors(r)) == (403, {}), (host, origin)


@pytest.mark.subprocess
def test_the_servers_own_origins_are_allowed(open_server):
    own = f"http://127.0.0.1:{open_server.port}"
    with open_server.http() as c:
        for origin, host in ((own, None), (f"http://localhost:{open_server.port}", None),
                             (PUBLIC, "planqa.intranet.example"), ("https://other.example", None)):
            headers = {"Origin": origin, **({"Host": host} if host else {})}
            r = c.get("/config", headers=headers)
            assert r.status_code == 200, (origin, r.text[:200])
            assert cors(r) == {"access-control-allow-origin": origin, "access-control-allow-credentials": "true"}
            r = c.options("/gradio_api/queue/join", headers={**headers, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "content-type"})
            assert r.status_code == 204 and r.headers["access-control-allow-origin"] == origin
        r = c.get("/config")  # no Origin (curl, a link): served, no CORS headers
        assert (r.status_code, cors(r)) == (200, {})


@pytest.mark.subprocess
def test_the_session_cookie_is_samesite_lax(locked_server):
    with locked_server.http() as c:
        r = c.post("/login", data={"username": "planqa", "password": "right-password-42"})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 2
    for cookie in cookies:
        attributes = [a.strip().lower() for a in cookie.split(";")[1:]]
        assert "samesite=lax" in attributes and "samesite=none" not in attributes, cookie
        assert "httponly" in attributes


@pytest.mark.subprocess
def test_without_login_only_the_login_page_is_served(locked_server):
    with locked_server.http() as c:
        for path in ("/", "/theme.css", "/favicon.ico"):
            assert c.get(path).status_code == 200, path
        for path in ("/openapi.json", "/gradio_api/openapi.json", "/gradio_api/token", "/gradio_api/user",
                     "/gradio_api/app_id", "/gradio_api/heartbeat/x", "/gradio_api/runs", "/manifest.json",
                     "/monitoring/x", "/gradio_api/vibe-code", "/config", "/gradio_api/info"):
            assert c.get(path).status_code == 401, path
        for path in ("/gradio_api/cancel", "/gradio_api/reset", "/gradio_api/stream/x", "/gradio_api/queue/join"):
            assert c.post(path, json={"session_hash": "x", "fn_index": 0, "event_id": "x"}).status_code == 401, path
    with locked_server.http() as c:
        assert c.post("/login", data={"username": "planqa", "password": "right-password-42"}).status_code == 200
        assert c.get("/openapi.json").status_code == 200
        assert c.get("/config").status_code == 200


@pytest.fixture(scope="module")
def proxied_server(index_root, tmp_path_factory):
    """Logged in, behind nginx on this machine: PLANQA_TRUSTED_PROXIES=127.0.0.1."""
    with serving(index_root, tmp_path_factory.mktemp("hardening-proxied"), PLANQA_USER="planqa",
                 PLANQA_PASSWORD="right-password-42", PLANQA_TRUSTED_PROXIES="127.0.0.1") as s:
        yield s


def login(c, password: str, client: str | None = None):
    return c.post("/login", data={"username": "planqa", "password": password},
                  headers={"X-Forwarded-For": client} if client else {})


@pytest.mark.subprocess
def test_wrong_passwords_slow_down_per_client(proxied_server):
    """Behind a trusted proxy, uvicorn takes the client's address from X-Forwarded-For (nginx sets it)."""
    with proxied_server.http() as c:
        codes = [login(c, "wrong", "10.0.0.1").status_code for _ in range(8)]
        assert codes == [400] * 5 + [429] * 3
        r = login(c, "right-password-42", "10.0.0.1")  # refused unheard while it must wait
        assert (r.status_code, r.headers["retry-after"]) == (429, "1")
        assert login(c, "wrong", "10.0.0.2").status_code == 400  # another client is not slowed
        time.sleep(1.1)
        assert login(c, "wrong", "10.0.0.1").status_code == 400  # heard again: its wait doubles
        r = login(c, "right-password-42", "10.0.0.1")
        assert (r.status_code, r.headers["retry-after"]) == (429, "2")
        time.sleep(2.1)
        assert login(c, "right-password-42", "10.0.0.1").status_code == 200  # and a success forgets
        assert [login(c, "wrong", "10.0.0.1").status_code for _ in range(5)] == [400] * 5


@pytest.mark.subprocess
def test_x_forwarded_for_is_not_believed_without_a_trusted_proxy(locked_server):
    """A client cannot pose as many by sending X-Forwarded-For: the backoff keys on the connection's peer."""
    with locked_server.http() as c:
        codes = [login(c, "wrong", f"10.0.1.{i}").status_code for i in range(5)]
        assert codes == [400] * 5
        r = login(c, "wrong", "10.0.1.99")  # a "new" client, the same peer
        assert (r.status_code, r.headers["retry-after"]) == (429, "1")
        assert login(c, "wrong").status_code == 429
        time.sleep(1.1)
        assert login(c, "right-password-42", "10.0.1.100").status_code == 200  # and a success forgets


@pytest.mark.subprocess
def test_a_page_on_another_host_cannot_read_the_api(open_server):
    """DNS rebinding: evil.example made to resolve to 127.0.0.1 is same-origin to the browser, which
    then sends no Origin, but its Host names evil.example: 400, whatever the path."""
    port = open_server.port
    with open_server.http() as c:
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"127.0.0.2:{port}", f"127.0.0.1:{port}@evil.example",
                     "planqa.intranet.example.evil.example", "planqa.intranet.example:8443"):
            for path in ("/api/ask?q=养老", "/config", "/", "/api/commitments"):
                r = c.get(path, headers={"Host": host})
                assert (r.status_code, r.json(), cors(r)) == (400, {"detail": "unknown host"}, {}), (host, path)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", "planqa.intranet.example",
                     "planqa.intranet.example:443", "other.example"):
            r = c.get("/api/ask", params={"q": "今年新建多少家养老服务驿站？"}, headers={"Host": host})
            assert r.status_code == 200 and r.json()["answered"] is True, (host, r.text[:200])


@pytest.mark.subprocess
@pytest.mark.parametrize("size", [0, 1, 100_000])
def test_uploads_are_refused_whatever_their_size(open_server, locked_server, size):
    files = {"files": ("planqa-probe.txt", b"x" * size)}
    with open_server.http() as c:
        r = c.post("/gradio_api/upload", files=files)
        assert (r.status_code, r.json()) == (403, {"detail": "planqa takes no uploads"})
    with locked_server.http() as c:
        assert c.post("/gradio_api/upload", files=files).status_code == 401
        assert c.post("/login", data={"username": "planqa", "password": "right-password-42"}).status_code == 200
        assert c.post("/gradio_api/upload", files=files).status_code == 403
    for s in (open_server, locked_server):
        assert list(s.cache.rglob("planqa-probe.txt")) == []


def server_paths(server, index_root: Path) -> list[str]:
    """Absolute paths on the server that no response may name."""
    paths = {str(index_root), str(index_root.resolve()), str(server.cache), str(SEEDS), str(SEEDS.resolve()),
             str(ROOT), str(Path.home()), os.environ.get("TMPDIR", "/tmp"), sys.prefix}
    return sorted(p for p in paths if len(p) > 1)


def chat(c, question: str, history: list | None = None) -> tuple[str, list]:
    """Ask through the page's own event, as the browser does: (the event stream, the chat shown after
    the answer)."""
    stream = chat_stream(c, question, history)
    assert "event: complete" in stream, stream[:500]
    return stream, shown_chat(stream)


@pytest.mark.subprocess
def test_no_response_carries_a_server_path(open_server, index_root):
    leaks = []
    with open_server.http() as c:
        config = c.get("/config").json()
        bodies = {"/": c.get("/").text, "/config": json.dumps(config, ensure_ascii=False),
                  "/gradio_api/info": c.get("/gradio_api/info").text,
                  "/nope": c.get("/nope").text, "/gradio_api/file=/etc/passwd": c.get("/gradio_api/file=/etc/passwd").text,
                  "upload 0 bytes": c.post("/gradio_api/upload", files={"files": ("e.txt", b"")}).text,
                  "/api/ask": c.get("/api/ask", params={"q": "今年新建多少家养老服务驿站？"}).text,
                  "/api/ask chapter 8": c.get("/api/ask", params={"q": "养老", "chapter": "8"}).text,
                  "/api/commitments": c.get("/api/commitments", params={"q": "养老"}).text,
                  "chat": chat(c, "今年新建多少家养老服务驿站？")[0]}
        for dep in config["dependencies"]:  # every event the page can fire, with its inputs' defaults
            if not dep.get("api_name") or dep.get("queue") is False:
                continue
            values = [next((x.get("props", {}).get("value") for x in config["components"] if x["id"] == i), None)
                      for i in dep["inputs"]]
            r = c.post(f"/gradio_api/call/{dep['api_name']}", json={"data": values})
            if r.status_code == 200:
                bodies[f"event {dep['api_name']}"] = c.get(f"/gradio_api/call/{dep['api_name']}/{r.json()['event_id']}").text
    for name, body in bodies.items():
        leaks += [(name, p) for p in server_paths(open_server, index_root) if p in body]
    assert leaks == [], "\n".join(map(str, leaks))


@pytest.mark.subprocess
def test_the_downloads_carry_no_server_path(open_server, index_root):
    """The 承诺清单 tab's downloads are links to /api/commitments.csv|.xlsx: no file payload, no path."""
    with open_server.http() as c:
        config = c.get("/config").json()
        assert [x for x in config["components"] if x["type"] in ("downloadbutton", "file")] == []
        page = json.dumps(config, ensure_ascii=False)
        assert "api/commitments.csv" in page and "api/commitments.xlsx" in page
        for ext in ("csv", "xlsx"):
            r = c.get(f"/api/commitments.{ext}", params={"q": "养老", "milestone": "done"})
            assert r.status_code == 200
            shown = r.headers["content-disposition"] + (r.text if ext == "csv" else "")
            assert [p for p in server_paths(open_server, index_root) if p in shown] == []


@pytest.mark.subprocess
def test_a_huge_chat_history_is_capped_not_echoed(open_server):
    from planqa.qa.limits import MAX_HISTORY_CHARS

    history = [{"role": "user", "content": "养" * 1000}, {"role": "assistant", "content": "老" * 1000}] * 500  # 1M characters
    with open_server.http() as c:
        stream, shown = chat(c, "今年新建多少家养老服务驿站？", history)
    assert len(stream) < 2 * MAX_HISTORY_CHARS  # the stream (UTF-8 JSON) holds the capped history, not 1M characters
    assert sum(len(json.dumps(m["content"], ensure_ascii=False)) for m in shown) <= MAX_HISTORY_CHARS + 20_000
    asked = [m for m in shown if m["role"] == "user"][-1]
    assert "今年新建多少家养老服务驿站" in json.dumps(asked["content"], ensure_ascii=False)  # the newest turn is kept


# --- the Host header and trusted proxies, without a server ----------------------------------------

def test_host_allowed_names_only_the_server_itself():
    from planqa.qa.security import host_allowed, own_origins

    origins = own_origins("127.0.0.1", 7860, ["https://planqa.intranet.example", "http://intra.example:8080"])
    ok = ["127.0.0.1:7860", "localhost:7860", "[::1]:7860", "Localhost:7860", "planqa.intranet.example",
          "planqa.intranet.example:443", "intra.example:8080"]
    bad = ["", "127.0.0.1", "127.0.0.1:7861", "evil.example", "evil.example:7860", "planqa.intranet.example:80",
           "127.0.0.1:7860@evil.example", "evil.example#@127.0.0.1:7860", "127.0.0.1:7860/x", "localhost :7860",
           "intra.example", "[::1]", "0.0.0.0:7860"]
    assert [h for h in ok if host_allowed(h, origins)] == ok
    assert [h for h in bad if host_allowed(h, origins)] == []


def test_guard_refuses_an_unknown_host_before_anything_else():
    import asyncio

    from planqa.qa.security import Guard, own_origins

    seen = []

    async def app(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def call(host: str | None) -> int:
        sent = []

        async def send(message):
            sent.append(message)

        headers = [(b"host", host.encode())] if host is not None else []
        scope = {"type": "http", "path": "/api/ask", "method": "GET", "headers": headers, "client": ("127.0.0.1", 5000)}
        asyncio.run(Guard(app, own_origins("127.0.0.1", 7860), login=False)(scope, None, send))
        return sent[0]["status"]

    assert [call(h) for h in ("evil.example:7860", "127.0.0.1:7860", None)] == [400, 200, 200]
    assert seen == ["/api/ask", "/api/ask"]


def test_trusted_proxies_become_uvicorns_setting():
    from planqa.qa.security import forwarded_allow_ips

    from planqa.config import settings

    assert settings({}).trusted_proxies == ()
    s = settings({"PLANQA_TRUSTED_PROXIES": " 127.0.0.1, ::1 ,10.0.0.0/8,"})
    assert s.trusted_proxies == ("127.0.0.1", "::1", "10.0.0.0/8")
    assert forwarded_allow_ips(s.trusted_proxies) == "127.0.0.1,::1,10.0.0.0/8"
    assert forwarded_allow_ips(()) == ""  # nobody's X-Forwarded-For: the client is the peer
    with pytest.raises(InputError, match="PLANQA_TRUSTED_PROXIES: 'nginx' is not an IP address or network"):
        forwarded_allow_ips(["nginx"])
