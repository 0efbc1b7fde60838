"""Security smoke test against the real server (`planqa serve` in a subprocess), plus the caches.

Status codes, not intentions: the server listens on 127.0.0.1 only; `file=` path traversal, the
upload route and the direct run routes are refused; no response carries a traceback; settings
that leak or phone home are off. Bad questions sent through the page's API (the queue the page
itself uses) get the same message as the command line and the page handler. With PLANQA_USER and
PLANQA_PASSWORD set, nothing but the login shell is served without logging in. jieba's marshal
cache is read only from planqa's own folder. Every request goes to 127.0.0.1.
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, SEEDS, Server, serving
from pagechat import chat_api_name, chat_stream, shown_chat
from planqa.index.errors import InputError
from planqa.qa.answer import answer, clean_question
from planqa.qa.app import ALL_CHAPTERS, BROKEN, respond
from planqa.qa.views import esc

from planqa.cli import main

PASSWD = "root:x:0:0"  # what /etc/passwd would show if it leaked


@pytest.fixture(scope="module")
def server(index_root, tmp_path_factory):
    with serving(index_root, tmp_path_factory.mktemp("server")) as s:
        yield s


def no_traceback(body: str | bytes) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    assert "Traceback" not in text and 'File "/' not in text and PASSWD not in text


def raw_get(server: Server, path: str) -> tuple[int, bytes]:
    """A GET with the path sent exactly as written (no client-side normalising of `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def ask_api(client: httpx.Client, question: str, history: list | None = None) -> list:
    """A question through the page's own event, as the browser sends it (POST to the queue, then
    read the event stream); the other inputs keep the page's defaults. Returns the chat shown."""
    stream = chat_stream(client, question, history)
    no_traceback(stream)
    events = [line.split(": ", 1)[1] for line in stream.splitlines() if line.startswith("event: ")]
    assert events[-1] == "complete", stream
    return shown_chat(stream)


def texts(history: list) -> list[tuple[str, str]]:
    """(role, text) of each chat message as the API returns them."""
    out = []
    for m in history:
        content = m["content"]
        parts = content if isinstance(content, list) else [{"text": content}]
        out.append((m["role"], "".join(p.get("text", "") for p in parts)))
    return out


# --- where the server listens -------------------------------------------------------------------

def listening(port: int) -> list[tuple[str, str]]:
    """(table, local address) of every listening socket on `port`, from /proc/net."""
    found = []
    for table in ("tcp", "tcp6"):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            addr, state = fields[1], fields[3]
            if state == "0A" and int(addr.rsplit(":", 1)[1], 16) == port:
                found.append((table, addr.rsplit(":", 1)[0]))
    return found


@pytest.mark.subprocess
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp (Linux)")
def test_listens_on_loopback_only(server):
    assert listening(server.port) == [("tcp", "0100007F")]  # 127.0.0.1, and no IPv6 wildcard


@pytest.mark.subprocess
def test_no_share_link(server):
    log = server.log.read_text(errors="replace")
    assert "gradio.live" not in log and "public url" not in log.lower()


@pytest.mark.subprocess
def test_config_has_the_safe_settings(server):
    with server.http() as c:
        config = c.get("/config").json()
        assert config["show_error"] is False
        assert config["analytics_enabled"] is False
        assert config["max_file_size"] == 0
        assert config["enable_queue"] is True
        assert config["run_history"] is False
        assert not config.get("mcp_server")
        assert "api" not in config["footer_links"]
        assert c.get("/monitoring").status_code == 403
        for off in ("/gradio_api/mcp/sse", "/gradio_api/mcp/", "/gradio_api/runs"):
            assert c.get(off).status_code == 404, off


# --- files --------------------------------------------------------------------------------------

def traversal_paths(server: Server, index_root: Path) -> list[str]:
    plan = SEEDS / "tongzhou-2024-work-plan.md"
    return [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=//etc/passwd",
        "/gradio_api/file=../../../../../../etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"/gradio_api/file={server.cache}/gradio/../../../../../../etc/passwd",
        "/gradio_api/file/etc/passwd",
        "/gradio_api/file/../../../../etc/passwd",
        "/file=/etc/passwd",
        "/static/../../../../../etc/passwd",
        "/assets/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        f"/gradio_api/file={plan}",  # a readable file, but not one the page serves
        f"/gradio_api/file={index_root}/CURRENT",
        f"/gradio_api/file={Path.home()}/.bash_history",
        f"/gradio_api/file=http://127.0.0.1:{server.port}/config",  # no fetching on the server's behalf
        f"/gradio_api/proxy=http://127.0.0.1:{server.port}/config",
    ]


@pytest.mark.subprocess
def test_file_route_refuses_traversal(server, index_root):
    for path in traversal_paths(server, index_root):
        status, body = raw_get(server, path)
        assert 400 <= status < 500, (path, status, body[:200])
        no_traceback(body)


@pytest.mark.subprocess
def test_uploads_are_refused(server):
    with server.http() as c:
        for size in (0, 1, 64 * 1024, 2 * 1024 * 1024):
            r = c.post("/gradio_api/upload", files={"files": ("planqa-probe.bin", b"\0" * size)})
            assert (r.status_code, r.json()) == (403, {"detail": "planqa takes no uploads"}), size
            no_traceback(r.text)
    stored = list((server.cache / "gradio").rglob("planqa-probe.bin")) if (server.cache / "gradio").exists() else []
    assert stored == []


@pytest.mark.subprocess
def test_downloads_come_from_planqas_cache_not_a_shared_folder(server):
    """The page serves no file through Gradio (no shared /tmp/gradio); its downloads are written
    once per filter into planqa's own cache folder and served by /api/commitments.csv|.xlsx."""
    with server.http() as c:
        config = c.get("/config").json()
        assert [x for x in config["components"] if x["type"] in ("downloadbutton", "file")] == []
        assert c.get("/api/commitments.csv", params={"q": "养老"}).status_code == 200
        assert c.get("/api/commitments.xlsx", params={"q": "养老"}).status_code == 200
    written = sorted(p.suffix for p in (server.cache / "downloads").glob("server-*/*/*") if p.is_file())
    assert written == [".csv", ".xlsx"]  # in the server's own folder (beside its lock)
    assert [p.suffix for p in (server.cache / "downloads").iterdir() if p.is_file()] == [".lock"]


# --- the run routes -----------------------------------------------------------------------------

@pytest.mark.subprocess
def test_direct_run_routes_are_closed(server):
    with server.http() as c:
        config = c.get("/config").json()
        queued = [d["api_name"] for d in config["dependencies"] if d.get("queue") is not False]
        assert chat_api_name(config) in queued
        for name in queued + ["predict"]:
            for route in (f"/gradio_api/run/{name}", f"/gradio_api/api/{name}"):
                r = c.post(route, json={"data": ["今年新建多少家养老服务驿站？", [], 0, 5]})
                assert r.status_code == 404, (route, r.status_code, r.text[:200])
                no_traceback(r.text)
        # and nothing is documented for API clients
        assert c.get("/gradio_api/info").json() == {"named_endpoints": {}, "unnamed_endpoints": {}}


@pytest.mark.subprocess
def test_malformed_requests_get_no_traceback(server):
    with server.http() as c:
        api = chat_api_name(c.get("/config").json())
        for body in ({"data": ["养老", [], 99, 5]}, {"data": ["养老", [], 0, "abc"]}, {"data": ["养老", "junk", 0, 5]},
                     {"data": [None, None, None, None]}, {"data": ["养老"]}):
            r = c.post(f"/gradio_api/call/{api}", json=body)
            no_traceback(r.text)
            if r.status_code == 200:
                stream = c.get(f"/gradio_api/call/{api}/{r.json()['event_id']}")
                no_traceback(stream.text)
                assert "event: error" in stream.text, (body, stream.text[:300])
        for path, payload in (("/gradio_api/queue/join", {"data": [], "fn_index": 999, "session_hash": "x"}),
                              ("/gradio_api/queue/join", {"nonsense": True}), ("/gradio_api/run/predict", {"data": []})):
            # Refused. An unknown fn_index is a 500 inside Gradio, with a bare body, after which uvicorn
            # drops the connection: one client per request.
            with server.http() as fresh:
                r = fresh.post(path, json=payload)
            assert r.status_code >= 400, (path, r.status_code)
            no_traceback(r.text)


# --- bad questions through every entrance -------------------------------------------------------

BAD = [
    "",
    "   \t\n ",
    "？！。……",
    "养" * 100_000,
    "a" * 100_000,
    "\x00\x07\u200b\u200d\ufeff",
    "😀🎉👩‍👩‍👧",
    "东六环\u200b什么时候\x07通车？😀",
    "新建１０家养老服务驿站",
    "How many 公办幼儿园 will open? Как مرحبا",
    "123",
]


def expected_message(searcher, question: str) -> str:
    try:
        clean_question(question)
    except InputError as e:
        return str(e)
    return answer(searcher, question).message


def cli_message(index_root: Path, question: str, capsys) -> str:
    capsys.readouterr()
    rc = main(["ask", "--json", question, "--index", str(index_root), "--seeds", str(SEEDS)])
    out = capsys.readouterr()
    if rc == 2:
        assert out.out == ""
        return out.err.removeprefix("planqa: ").strip()
    assert rc == 0, out.err
    return json.loads(out.out)["message"]


@pytest.mark.subprocess
def test_bad_questions_get_the_same_message_everywhere(server, searcher, index_root, capsys):
    assert "问题太长" in expected_message(searcher, "a" * 100_000)  # the cap is applied on the server side
    with server.http() as c:
        for q in BAD:
            message = expected_message(searcher, q)
            assert cli_message(index_root, q, capsys) == message, q[:40]
            page = respond(searcher, q, [], ALL_CHAPTERS, 5)[0]
            first = ask_api(c, q)
            assert first == ask_api(c, q), q[:40]  # the same on a repeat
            assert texts(first) == texts(page), q[:40]  # the page's API gives what the page handler gives
            role, reply = texts(first)[1]
            assert role == "assistant" and esc(message) in reply, (q[:40], reply[:200])
            assert len(texts(first)[0][1]) <= 6 * 201  # the echo of a huge question is cut (escaping may lengthen it)


@pytest.mark.subprocess
@pytest.mark.parametrize("question", ["", " \t ", "？！。", "a" * 100_000, "\x07\u200b\u200d", "😀🎉"])
def test_bad_questions_through_the_real_command(index_root, question):
    """The real `planqa ask` process (argv carries 100,000 ASCII characters; NUL cannot be in argv)."""
    out = subprocess.run([sys.executable, "-m", "planqa", "ask", question, "--index", str(index_root), "--seeds", str(SEEDS)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    with pytest.raises(InputError) as refused:
        clean_question(question)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"planqa: {refused.value}\n")


def test_a_bug_in_answering_shows_a_message_not_a_traceback(searcher, caplog):
    class Broken:
        passages = searcher.passages

        def search(self, *args, **kwargs):
            raise RuntimeError("faiss exploded")

    history, box, _ = respond(Broken(), "今年新建多少家养老服务驿站？", [], ALL_CHAPTERS, 5)
    assert history[-1] == {"role": "assistant", "content": esc(BROKEN)} and box == ""
    assert "faiss exploded" in caplog.text  # logged for the operator, not shown


@pytest.mark.subprocess
def test_gradio_client_cannot_reach_the_private_handlers(server, monkeypatch):
    """The handlers are registered with api_name=False: not offered to API clients (see report)."""
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")  # the client's telemetry would leave 127.0.0.1
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    from gradio_client import Client

    client = Client(server.url, verbose=False, download_files=False, httpx_kwargs={"trust_env": False})
    try:
        assert client.view_api(print_info=False, return_format="dict") == {"named_endpoints": {}, "unnamed_endpoints": {}}
        with server.http() as c:
            config = c.get("/config").json()
        chat = next(d["id"] for d in config["dependencies"] if d["api_name"] == chat_api_name(config))
        with pytest.raises(ValueError, match="Invalid function index"):
            client.predict("养老", [], 0, 5, fn_index=chat)
    finally:
        client.close()


# --- optional login -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def locked(index_root, tmp_path_factory):
    password = secrets.token_urlsafe(12)
    with serving(index_root, tmp_path_factory.mktemp("locked"), PLANQA_USER="planqa", PLANQA_PASSWORD=password) as s:
        yield s, password


@pytest.mark.subprocess
def test_login_is_required_when_configured(locked, index_root):
    server, password = locked
    with server.http() as c:
        page = c.get("/")
        assert '"auth_required":true' in page.text.replace(" ", "")
        assert "养老服务驿站" not in page.text and "planqa-question" not in page.text
        for path in ("/config", "/gradio_api/info", "/gradio_api/file=/etc/passwd", "/gradio_api/queue/data?session_hash=x"):
            assert c.get(path).status_code == 401, path
        for path in ("/gradio_api/call/false", "/gradio_api/queue/join", "/gradio_api/run/false"):
            assert c.post(path, json={"data": ["养老", [], 0, 5], "fn_index": 1, "session_hash": "x"}).status_code == 401, path
        assert c.post("/gradio_api/upload", files={"files": ("x.bin", b"x")}).status_code == 401
        assert c.post("/login", data={"username": "planqa", "password": "wrong"}).status_code == 400
    with server.http() as c:
        assert c.post("/login", data={"username": "planqa", "password": password}).status_code == 200
        replies = texts(ask_api(c, "今年新建多少家养老服务驿站？"))
        assert replies[1] == ("assistant", "计划中有 1 处相关内容：")


# --- caches and pickles -------------------------------------------------------------------------

@pytest.mark.subprocess
def test_jieba_never_reads_the_shared_temp_cache(tmp_path):
    """A jieba cache planted in $TMPDIR (a marshal file anyone could write) is never read."""
    import marshal

    shared = tmp_path / "shared-tmp"
    shared.mkdir(mode=0o1777)
    poisoned = marshal.dumps(({"养": 1, "老": 1}, 2))  # a dictionary that would split every word
    for name in ("jieba.cache", "jieba.u%s.cache" % ("0" * 32)):
        (shared / name).write_bytes(poisoned)
    own = tmp_path / "own"
    code = ("from planqa.config import settings; from planqa.index.lexical import tokenize, use_cache_dir; "
            "use_cache_dir(settings().cache); print(tokenize('新建10家养老服务驿站'))")
    env = {**os.environ, "TMPDIR": str(shared), "PLANQA_CACHE": str(own)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    from planqa.index.lexical import tokenize

    assert out.stdout.strip() == str(tokenize("新建10家养老服务驿站"))
    assert "养老服务驿站" in out.stdout or "养老" in out.stdout
    # jieba's own cache and planqa's plain copy of it (index/caches.py), both in planqa's folder
    assert sorted(p.name.split("-")[0] for p in own.iterdir()) == ["jieba", "jieba.cache"]
    assert own.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("how", ["group-writable", "someone else's"])
def test_a_cache_folder_others_can_write_is_not_used(tmp_path, monkeypatch, how):
    from planqa.index.lexical import cache_dir

    folder = tmp_path / "cache"
    folder.mkdir()
    if how == "group-writable":
        folder.chmod(0o775)
    else:
        if os.getuid() != 0:
            pytest.skip("only root can give a folder away")
        os.chown(folder, 65534, 65534)
    monkeypatch.setenv("PLANQA_CACHE", str(folder))
    chosen = cache_dir()
    assert chosen != folder and chosen.stat().st_uid == os.getuid() and chosen.stat().st_mode & 0o077 == 0


def test_no_pickle_or_marshal_is_loaded_by_planqa():
    for package in ("index", "qa", "planqa", "eval"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            for bad in ("import pickle", "import marshal", "allow_pickle=True", "torch.load(", "joblib"):
                assert bad not in source, (path, bad)
