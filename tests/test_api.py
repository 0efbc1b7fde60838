"""The JSON API: the same answers as `planqa ask --json`, JSON errors with status codes, the login.

The fast tests mount the routes on a bare FastAPI app over the tiny plan; the slow ones start
`planqa serve` with a login and compare its answers with the CLI's on the real plan."""
from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import ROOT, SEEDS, TINY_DOC, serving
from fastapi import FastAPI
from fastapi.testclient import TestClient
from planqa.index.errors import IndexInvalidError
from planqa.qa import api
from planqa.qa.answer import answer
from planqa.qa.limits import MAX_K
from planqa.qa.render import answer_json


def client_for(searcher, auth=None, downloads=None) -> TestClient:
    app = FastAPI(routes=api.api_routes(searcher, downloads))
    app.auth, app.tokens, app.cookie_id = auth, {"good-token": "staff"}, "c1"  # as Gradio's App carries them
    return TestClient(app)


@pytest.fixture(scope="module")
def client(tiny):
    return client_for(tiny)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("params", [
    {"q": "新建多少家养老服务驿站？"},
    {"q": "新建多少家养老服务驿站？", "k": "1"},
    {"q": "东六环什么时候通车", "chapter": "1", "k": str(MAX_K)},
    {"q": "地铁M101线什么时候开通？"},
])
def test_ask_returns_what_the_cli_prints(client, tiny, params):
    r = client.get("/api/ask", params=params)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    expected = answer_json(answer(tiny, params["q"], k=int(params.get("k", 5)),
                                  chapter=int(params["chapter"]) if "chapter" in params else None))
    assert r.json() == json.loads(json.dumps(expected, ensure_ascii=False))


@pytest.mark.parametrize("params, message", [
    ({}, "q is required: /api/ask?q=今年新建多少家养老服务驿站？"),
    ({"q": ""}, "请输入一个问题，例如：今年新建多少家养老服务驿站？"),
    ({"q": "？！"}, "请输入一个问题，例如：今年新建多少家养老服务驿站？"),
    ({"q": "养" * 501}, "问题太长：最多 500 字，收到 501 字。请只问一件事。"),
    ({"q": "养" * 2_000}, "问题太长：最多 500 字，收到 2000 字。请只问一件事。"),
    ({"q": "养老", "k": "25"}, f"k must be from 1 to {MAX_K}, got 25"),
    ({"q": "养老", "k": "0"}, f"k must be from 1 to {MAX_K}, got 0"),
    ({"q": "养老", "k": "five"}, f"k must be a whole number from 1 to {MAX_K}, got 'five'"),
    ({"q": "养老", "chapter": "9"}, "chapter must be from 0 to 2, got 9"),
    ({"q": "养老", "chapter": "-1"}, "chapter must be from 0 to 2, got -1"),
])
def test_bad_input_is_a_400_with_a_message(client, params, message):
    r = client.get("/api/ask", params=params)
    assert (r.status_code, r.json()) == (400, {"error": message})


def test_commitments_rows_and_filters(client, tiny):
    r = client.get("/api/commitments")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == len(tiny.passages) == len(body["rows"])
    rows = client.get("/api/commitments", params={"chapter": "2", "q": "养老服务驿站"}).json()["rows"]
    assert [row["quote"] for row in rows] == ["新建10家养老服务驿站。", "养老服务驿站提供助餐服务。"]
    assert rows[0]["id"].startswith(f"{TINY_DOC}:2.1-")
    only = client.get("/api/commitments", params={"chapter": "2", "q": "养老服务驿站", "quantified": "true"}).json()
    assert [row["quote"] for row in only["rows"]] == ["新建10家养老服务驿站。"]


@pytest.mark.parametrize("params, message", [
    ({"chapter": "x"}, "chapter must be a whole number from 0 to 2, got 'x'"),
    ({"quantified": "maybe"}, "quantified must be true or false, got 'maybe'"),
    ({"q": "养" * 501}, "q is too long: at most 500 characters, got 501"),
])
def test_commitments_bad_input_is_a_400(client, params, message):
    r = client.get("/api/commitments", params=params)
    assert (r.status_code, r.json()) == (400, {"error": message})


def test_commitments_download_as_csv_and_xlsx_named_after_the_filter(tiny, tmp_path):
    from openpyxl import load_workbook

    c = client_for(tiny, downloads=tmp_path / "downloads")
    params = {"chapter": "2", "q": "养老服务驿站", "quantified": "true"}
    r = c.get("/api/commitments.csv", params=params)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    name = "承诺清单_第2章_有量化目标_养老服务驿站"
    assert r.headers["content-disposition"] == "attachment; filename*=utf-8''" + urllib.parse.quote(name + ".csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][8:10] == ["新建10家养老服务驿站。", "plan:2.1-b56955"]
    r = c.get("/api/commitments.xlsx", params=params)
    assert r.status_code == 200 and urllib.parse.quote(name + ".xlsx") in r.headers["content-disposition"]
    (tmp_path / "got.xlsx").write_bytes(r.content)
    sheet = list(load_workbook(tmp_path / "got.xlsx").active.iter_rows(values_only=True))
    assert [row[8] for row in sheet[1:]] == ["新建10家养老服务驿站。"]
    # Written once per filter, into the downloads folder; no reply names it.
    assert len([f for f in (tmp_path / "downloads").glob("server-*/*") if f.is_dir()]) == 2  # this server's own folder
    assert str(tmp_path) not in r.headers.get("content-disposition", "")
    assert c.get("/api/commitments.csv", params={"chapter": "9"}).json() == {
        "error": "chapter must be from 0 to 2, got 9"}


def test_login_cookie_or_basic_auth_or_401(tiny):
    c = client_for(tiny, auth={"staff": "s3cret"})
    r = c.get("/api/ask", params={"q": "养老"})
    assert (r.status_code, r.json()["error"]) == (401, api.LOGIN)
    assert r.headers["www-authenticate"] == 'Basic realm="planqa"'
    assert c.get("/api/commitments").status_code == 401
    assert c.get("/api/commitments.csv").status_code == 401
    assert c.get("/api/ask", params={"q": "养老"}, headers=basic("staff", "wrong")).status_code == 401
    assert c.get("/api/ask", params={"q": "养老"}, headers={"Authorization": "Basic %%%"}).status_code == 401
    assert c.get("/api/ask", params={"q": "养老"}, headers=basic("staff", "s3cret")).status_code == 200
    c.cookies.set("access-token-c1", "good-token")
    assert c.get("/api/commitments").status_code == 200


class BrokenSearcher:
    """An index that fails when used, as a damaged one does."""

    def __init__(self, passages):
        self.passages = passages

    def __getattr__(self, name):
        raise IndexInvalidError("the index cannot be read; rebuild it")


def test_a_broken_index_is_a_503(tiny):
    r = client_for(BrokenSearcher(tiny.passages)).get("/api/ask", params={"q": "养老"})
    assert (r.status_code, r.json()) == (503, {"error": api.UNAVAILABLE})


def test_a_full_server_is_a_503(tiny, monkeypatch):
    monkeypatch.setattr(api, "API_CONCURRENCY", 0)
    monkeypatch.setattr(api, "BUSY_WAIT", 0.01)
    r = client_for(tiny).get("/api/ask", params={"q": "养老"})
    assert (r.status_code, r.json(), r.headers["retry-after"]) == (503, {"error": api.BUSY}, "5")


# --- the real server, with a login -------------------------------------------------------------

QUESTIONS = ["今年新建多少家养老服务驿站？", "How many public kindergartens will open?", "地铁M101线什么时候开通？"]


@pytest.fixture(scope="module")
def server(index_root, tmp_path_factory):
    with serving(index_root, tmp_path_factory.mktemp("api"), PLANQA_USER="staff", PLANQA_PASSWORD="s3cret") as s:
        yield s.url


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.subprocess
def test_server_answers_equal_the_cli_and_need_the_login(server, index_root):
    status, body = get(f"{server}/api/ask?q=" + urllib.parse.quote(QUESTIONS[0]))
    assert (status, body) == (401, {"error": api.LOGIN})
    assert get(f"{server}/api/commitments")[0] == 401
    for q in QUESTIONS:
        cli = subprocess.run([sys.executable, "-m", "planqa", "ask", "--json", "--index", str(index_root),
                              "--seeds", str(SEEDS), q], cwd=ROOT, capture_output=True, text=True, check=True)
        status, body = get(f"{server}/api/ask?q=" + urllib.parse.quote(q), basic("staff", "s3cret"))
        assert (status, body) == (200, json.loads(cli.stdout))
    status, body = get(f"{server}/api/ask?q=x&k=25", basic("staff", "s3cret"))
    assert (status, body) == (400, {"error": f"k must be from 1 to {MAX_K}, got 25"})
