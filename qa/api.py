"""The JSON API, served by the chat page's own server (Gradio runs on FastAPI).

    GET /api/ask?q=…&k=…&chapter=…          the object `planqa ask --json` prints
    GET /api/commitments?chapter=&q=&milestone=&quantified=   {"count": n, "rows": [...]}
    GET /api/commitments.csv?…  and  .xlsx?…  the same rows as the file the 承诺清单 tab downloads

Behind the page's login when one is set (the page's session cookie, or HTTP Basic with the same
user and password); 401 otherwise. Errors are JSON, {"error": message}: 400 for bad input, 503
when the index cannot be used or the server is busy. The pure functions `ask` and `commitment_rows`
do the work and are tested directly; `api_routes` wraps them for FastAPI.
"""

import base64
import binascii
import hmac
import inspect
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from planqa.index.errors import InputError, PlanQAError
from planqa.index.records import Passage
from planqa.index.search import Searcher

from .answer import MAX_QUESTION_CHARS, answer
from .limits import DEFAULT_K, MAX_K
from .render import answer_json

log = logging.getLogger("planqa.api")

# Questions answered at once through the API; one more waits up to BUSY_WAIT seconds for a turn,
# then gets a 503 (two cores: more at once only queue inside the encoder).
API_CONCURRENCY = 4
BUSY_WAIT = 10.0
BUSY = "服务繁忙，请稍后再试（server busy, retry later）"
UNAVAILABLE = "索引不可用，请让管理员重建索引（planqa index）"
LOGIN = "需要登录：请先在页面登录，或用 HTTP Basic 提供 PLANQA_USER 和密码（login required）"
_TRUE, _FALSE = ("1", "true", "yes", "是"), ("", "0", "false", "no", "否")


class Busy(PlanQAError):
    """Every API slot is taken."""


def _int(name: str, value: str | None, default: int | None, low: int, high: int) -> int | None:
    if value is None or value.strip() == "":
        return default
    try:
        n = int(value.strip())
    except ValueError:
        raise InputError(f"{name} must be a whole number from {low} to {high}, got {value[:40]!r}") from None
    if not low <= n <= high:
        raise InputError(f"{name} must be from {low} to {high}, got {n}")
    return n


def _last_chapter(passages: list[Passage]) -> int:
    """The highest chapter number: `chapter` takes 0 (the introduction) to this."""
    return max((p.chapter_no for p in passages), default=0)


def ask(searcher: Searcher, q: str | None, k: str | None = None, chapter: str | None = None) -> dict:
    """GET /api/ask: `planqa ask --json` for one question. Raises InputError for bad input."""
    if q is None:
        raise InputError("q is required: /api/ask?q=今年新建多少家养老服务驿站？")
    k_value = _int("k", k, DEFAULT_K, 1, MAX_K)
    chapter_no = _int("chapter", chapter, None, 0, _last_chapter(searcher.passages))
    return answer_json(answer(searcher, q, k=k_value, chapter=chapter_no))


def _flag(name: str, value: str | None) -> bool:
    v = (value or "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise InputError(f"{name} must be true or false, got {value[:40]!r}")


def _text(name: str, value: str | None) -> str | None:
    v = (value or "").strip()
    if len(v) > MAX_QUESTION_CHARS:
        raise InputError(f"{name} is too long: at most {MAX_QUESTION_CHARS} characters, got {len(v)}")
    return v or None


def commitment_rows(passages: list[Passage], chapter: str | None = None, q: str | None = None,
                    milestone: str | None = None, quantified: str | None = None) -> dict:
    """GET /api/commitments: the 承诺清单 rows under these filters. Raises InputError for bad input."""
    chapter_no = _int("chapter", chapter, None, 0, _last_chapter(passages))
    keyword, mark = _text("q", q), _text("milestone", milestone)
    only_quantified = _flag("quantified", quantified)
    from .commitments import commitment_dicts

    rows = commitment_dicts(passages, chapter=chapter_no, keyword=keyword, milestone=mark, quantified_only=only_quantified)
    return {"count": len(rows), "rows": rows}


def commitment_file(passages: list[Passage], store, ext: str, chapter: str | None = None, q: str | None = None,
                    milestone: str | None = None, quantified: str | None = None) -> tuple[Path, str]:
    """GET /api/commitments.csv|.xlsx: (the file, the name the download gets), written once per filter
    into planqa's downloads folder (qa/downloads.py). Raises InputError for bad input."""
    from .commitments import commitments
    from .export import download_name, to_csv, to_xlsx

    chapter_no = _int("chapter", chapter, None, 0, _last_chapter(passages))
    keyword, mark = _text("q", q), _text("milestone", milestone)
    only_quantified = _flag("quantified", quantified)
    rows = commitments(passages, chapter=chapter_no, keyword=keyword, milestone=mark, quantified_only=only_quantified)
    name = download_name(chapter_no, keyword, mark, only_quantified, ext)
    writer = to_csv if ext == "csv" else to_xlsx
    key = f"{ext}|{chapter_no}|{keyword}|{mark}|{only_quantified}"
    return store.path(key, name, lambda path: writer(rows, path)), name


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


async def logged_in(request) -> bool:
    """Whether the request may use the API: no login is set, or the page's session cookie is
    valid, or HTTP Basic names the page's user and password (checked as the page checks them)."""
    app = request.app
    auth = getattr(app, "auth", None)
    if auth is None:
        return True
    cookie_id = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
    if token and token in getattr(app, "tokens", {}):
        return True
    given = _basic(request.headers.get("authorization"))
    if given is None:
        return False
    user, password = given
    if callable(auth):
        ok = auth(user, password)
        return bool(await ok if inspect.isawaitable(ok) else ok)
    expected = auth.get(user)
    return expected is not None and hmac.compare_digest(password.encode(), str(expected).encode())


MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _runner() -> Callable:
    """`run(request, work, respond)` for the routes: the login checked, `work` run in a worker thread
    within API_CONCURRENCY slots, its result passed to `respond`, planqa's errors made JSON statuses."""
    from fastapi import Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    slots = threading.BoundedSemaphore(API_CONCURRENCY)

    def guarded(work: Callable[[], dict]) -> dict:
        if not slots.acquire(timeout=BUSY_WAIT):
            raise Busy(BUSY)
        try:
            return work()
        finally:
            slots.release()

    async def run(request: Request, work: Callable[[], dict], respond: Callable = JSONResponse):
        if not await logged_in(request):
            return JSONResponse({"error": LOGIN}, status_code=401, headers={"WWW-Authenticate": 'Basic realm="planqa"'})
        try:
            return respond(await run_in_threadpool(guarded, work))
        except InputError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        except Busy as e:
            return JSONResponse({"error": str(e)}, status_code=503, headers={"Retry-After": "5"})
        except PlanQAError as e:
            log.error("api: %s", e)
            return JSONResponse({"error": UNAVAILABLE}, status_code=503)

    return run


def _file_route(run: Callable, passages: list[Passage], store, ext: str) -> Callable:
    """The handler of /api/commitments.<ext>: the filtered rows as a CSV or XLSX download."""
    from fastapi import Request
    from fastapi.responses import FileResponse

    def send(found: tuple[Path, str]) -> FileResponse:
        path, name = found
        return FileResponse(path, media_type=MEDIA[ext], filename=name)

    async def api_commitments_file(request: Request, chapter: str | None = None, q: str | None = None,
                                   milestone: str | None = None, quantified: str | None = None):
        return await run(request, lambda: commitment_file(passages, store, ext, chapter, q, milestone, quantified), send)
    return api_commitments_file


def api_routes(searcher: Searcher, downloads: Path | None = None) -> list:
    """The API's routes, to place before Gradio's own (FastAPI `routes=`). `downloads`: the folder in
    which this server makes its own folder for the CSV/XLSX files (<cache>/downloads in a server)."""
    import tempfile

    from fastapi import APIRouter, Request

    from .downloads import Downloads

    store = Downloads(downloads or Path(tempfile.mkdtemp(prefix="planqa-downloads-")))
    run = _runner()
    router = APIRouter()

    @router.get("/api/ask")
    async def api_ask(request: Request, q: str | None = None, k: str | None = None, chapter: str | None = None):
        return await run(request, lambda: ask(searcher, q, k, chapter))

    @router.get("/api/commitments")
    async def api_commitments(request: Request, chapter: str | None = None, q: str | None = None,
                              milestone: str | None = None, quantified: str | None = None):
        return await run(request, lambda: commitment_rows(searcher.passages, chapter, q, milestone, quantified))

    for ext in MEDIA:
        router.add_api_route(f"/api/commitments.{ext}", _file_route(run, searcher.passages, store, ext), methods=["GET"])

    return list(router.routes)
