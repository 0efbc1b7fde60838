"""The server's own protections, in front of everything Gradio serves (wired by `launch` in app.py).

Gradio 6 restricts cross-origin requests only when the Host header is localhost
(`route_utils.CustomCORSMiddleware`): behind nginx, with `Host: planqa.intranet.example`, it
reflects any Origin, `null` included, with credentials allowed, and its login cookie is
`SameSite=None`. So `Guard` sits outside Gradio's middleware and decides by the Origin alone,
whatever the Host says:

- A request whose `Host` is not one of the server's own (the names it listens on with its port, and
  the hosts of `PLANQA_ALLOWED_ORIGINS`) gets a 400: a page on another site whose name was made to
  point at 127.0.0.1 (DNS rebinding) is same-origin to the browser, sends no `Origin`, but names
  its own host. A request without `Host` (HTTP/1.0) is let through.
- A request whose `Origin` is not one of the server's own origins (its bind address, and
  `PLANQA_ALLOWED_ORIGINS`) gets a 403 before Gradio sees it; a request without `Origin` (a
  link, a navigation, curl) is let through. CORS headers are planqa's: only an allowed origin is
  ever named in `Access-Control-Allow-Origin`.
- Every session cookie is sent `SameSite=Lax`: another site's form or script cannot use it.
- With a login set, only what the login page needs is served without one (LOGIN_PAGE);
  `/openapi.json`, `/gradio_api/cancel`, `/gradio_api/reset` and the rest answer 401.
- Wrong passwords (the login form, or HTTP Basic on the JSON API) slow down per client: after
  FREE_FAILURES, each further try must wait twice as long as the last (429, `Retry-After`). The
  client is the connection's peer address; `X-Forwarded-For` is believed only from the proxies in
  `PLANQA_TRUSTED_PROXIES` (uvicorn reads them, `forwarded_allow_ips`), so nobody can pose as many.
- Uploads are refused whatever their size, 0 bytes included (403), logged in or not.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from planqa.index.errors import InputError

log = logging.getLogger("planqa.security")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Paths served without a login when one is set: the login page's shell, scripts, styles and the
# login itself (what chromium fetches to show and submit the login form; tests/test_hardening.py),
# and startup-events, which Gradio's launch() calls once on itself (it does nothing after that).
LOGIN_PAGE = re.compile(r"^/(login/?|logout|favicon\.ico|robots\.txt|theme\.css|gradio_api/theme\.css"
                        r"|gradio_api/startup-events|(assets|static|svelte)/.*)?$")
# The JSON API (qa/api.py) checks the login itself: the page's cookie or HTTP Basic.
OWN_AUTH = re.compile(r"^/api/")
# Routes through which a client could put a file on the server: the page has no file inputs.
UPLOADS = re.compile(r"^/gradio_api/(upload|upload_progress|process_recording|stream/)")
FREE_FAILURES = 5  # wrong passwords a client may type before it has to wait
MAX_WAIT = 300.0  # seconds; reached after FREE_FAILURES + 9 wrong passwords in a row
FORGET_AFTER = 3600.0  # a client's failures are forgotten an hour after its last one
MAX_CLIENTS = 10_000  # failure records kept (oldest dropped): a flood cannot exhaust memory


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]`, lower case, without a default port; None for anything else ("null")."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def own_origins(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The origins of the page itself: its bind address (all loopback names when it binds loopback)
    and the configured public ones (PLANQA_ALLOWED_ORIGINS, e.g. https://planqa.intranet.example)."""
    names = set(LOOPBACK) | ({host} if host not in ("0.0.0.0", "::", "") else set())
    found = {origin_of(f"http://{f'[{n}]' if ':' in n else n}:{port}") for n in names}
    for url in extra:
        o = origin_of(url)
        if o is None:
            raise InputError(f"PLANQA_ALLOWED_ORIGINS: {url!r} is not an origin like https://planqa.intranet.example")
        found.add(o)
    return frozenset(o for o in found if o)


def host_allowed(host: str, origins: frozenset[str]) -> bool:
    """Whether a `Host` header names the server itself: `host[:port]` of one of its own origins."""
    if not host or re.search(r"[/@?#\\\s]", host):
        return False
    return any(origin_of(f"{scheme}://{host}") in origins for scheme in ("http", "https"))


def forwarded_allow_ips(proxies: Iterable[str]) -> str:
    """uvicorn's FORWARDED_ALLOW_IPS for PLANQA_TRUSTED_PROXIES: the addresses (or networks) whose
    X-Forwarded-For is believed; "" believes nobody, so a client is the connection's peer."""
    out = []
    for p in proxies:
        try:
            out.append(str(ipaddress.ip_network(p.strip(), strict=False)) if "/" in p else str(ipaddress.ip_address(p.strip())))
        except ValueError:
            raise InputError(f"PLANQA_TRUSTED_PROXIES: {p!r} is not an IP address or network like 127.0.0.1 or 10.0.0.0/8") from None
    return ",".join(out)


@dataclass
class Backoff:
    """Per-client count of wrong passwords and the time before the next try is heard."""

    free: int = FREE_FAILURES
    clients: OrderedDict = field(default_factory=OrderedDict)  # client -> (failures, last failure time)

    def wait(self, client: str, now: float) -> float:
        """Seconds this client must still wait before a password is checked (0: go ahead)."""
        failures, last = self.clients.get(client, (0, 0.0))
        if now - last > FORGET_AFTER:
            self.clients.pop(client, None)
            return 0.0
        if failures < self.free:
            return 0.0
        return max(0.0, last + min(MAX_WAIT, 2.0 ** (failures - self.free)) - now)

    def failed(self, client: str, now: float) -> None:
        failures, last = self.clients.pop(client, (0, 0.0))
        self.clients[client] = (0 if now - last > FORGET_AFTER else failures) + 1, now
        while len(self.clients) > MAX_CLIENTS:
            self.clients.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self.clients.pop(client, None)


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class Guard:
    """ASGI middleware wrapping the whole Gradio app (see the module docstring)."""

    def __init__(self, app, origins: frozenset[str], login: bool, backoff: Backoff | None = None, clock=time.monotonic):
        self.app, self.origins, self.login = app, origins, login
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._warned: set[str] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host")
        if host is not None and not host_allowed(host, self.origins):
            if host not in self._warned and len(self._warned) < 100:
                self._warned.add(host)
                log.warning("refused a request for host %r (not this server's; see PLANQA_ALLOWED_ORIGINS)", host[:100])
            await self._refuse(scope, send, 400, "unknown host")
            return
        origin = headers.get("origin")
        allowed = origin is not None and origin_of(origin) in self.origins
        if origin is not None and not allowed:
            if origin not in self._warned and len(self._warned) < 100:
                self._warned.add(origin)
                log.warning("refused a request from origin %r (not in PLANQA_ALLOWED_ORIGINS)", origin[:100])
            await self._refuse(scope, send, 403, "cross-origin request refused")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if allowed and method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin, headers)
            return
        if self.login and not LOGIN_PAGE.match(path) and not OWN_AUTH.match(path) and not self._logged_in(scope, headers):
            await self._refuse(scope, send, 401, "Not authenticated")
            return
        if UPLOADS.match(path):
            await self._refuse(scope, send, 403, "planqa takes no uploads")
            return
        client = (scope.get("client") or ("?", 0))[0]
        guessing = self.login and ((method == "POST" and path.rstrip("/") == "/login")
                                   or (OWN_AUTH.match(path) and "authorization" in headers))
        if guessing:
            wait = self.backoff.wait(client, self.clock())
            if wait > 0:
                await self._refuse(scope, send, 429, "too many wrong passwords; try again later",
                                   [(b"retry-after", str(math.ceil(wait)).encode())])
                return

        async def send_guarded(message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if guessing and status in (400, 401):
                    self.backoff.failed(client, self.clock())
                elif guessing and status < 300:
                    self.backoff.succeeded(client)
                message["headers"] = self._response_headers(message.get("headers", []), origin if allowed else None)
            await send(message)

        await self.app(scope, receive, send_guarded)

    def _logged_in(self, scope, headers: dict[str, str]) -> bool:
        app = scope.get("app")
        tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
        if not tokens or not cookie_id:
            return False
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            cookies[name] = value
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return bool(token) and token in tokens

    @staticmethod
    def _response_headers(raw: list, origin: str | None) -> list:
        out = []
        for k, v in raw:
            name = k.decode("latin-1").lower()
            if name.startswith("access-control-"):
                continue  # Gradio's reflection of any origin: planqa sets its own below
            if name == "set-cookie":
                v = re.sub(rb"(?i);\s*samesite=none", b"; SameSite=Lax", v)
                if not re.search(rb"(?i);\s*samesite=", v):
                    v += b"; SameSite=Lax"
            out.append((k, v))
        if origin:
            out += [(b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-credentials", b"true")]
            if not any(k.lower() == b"vary" for k, _ in out):
                out.append((b"vary", b"Origin"))
        return out

    async def _preflight(self, send, origin: str, headers: dict[str, str]) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-allow-methods", b"GET, POST, HEAD, OPTIONS"),
            (b"access-control-allow-headers", headers.get("access-control-request-headers", "").encode("latin-1")[:500]),
            (b"access-control-max-age", b"600"), (b"vary", b"Origin")]})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _refuse(scope, send, status: int, detail: str, extra: list | None = None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"), *(extra or [])]})
        await send({"type": "http.response.body", "body": body})


def guarded_app(origins: frozenset[str], login: bool, **app_kwargs):
    """Gradio's FastAPI app with `Guard` as its outermost layer, for `Blocks.launch(_app=…)`.

    Gradio adds its own CORS middleware to whatever app it is given; wrapping the finished
    middleware stack is the one way to stand in front of it (a middleware passed in app_kwargs
    would sit behind it)."""
    from fastapi.responses import ORJSONResponse
    from gradio.routes import App

    class GuardedApp(App):
        def build_middleware_stack(self):
            return Guard(super().build_middleware_stack(), origins, login)

    app_kwargs.setdefault("default_response_class", ORJSONResponse)
    return GuardedApp(**app_kwargs)
