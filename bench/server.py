"""The chat page under test: `python -m planqa serve` as a subprocess on 127.0.0.1 only.

The chat handler is registered with api_name=False, so the page has no API endpoint
(/gradio_api/info lists none). The load generator therefore does what the browser does:
POST /gradio_api/queue/join with the handler's fn_index, trigger_id and a session_hash, then reads
the server-sent events of /gradio_api/queue/data?session_hash=… until process_completed. The
fn_index is read from the running page's /config (the dependency the send button triggers).

Load is bounded by time and by request count, and stops by itself.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import resource
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from .common import ROOT, SEEDS, Context, child_env, cpu_seconds, questions, rss_kb, summary

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True)
class Endpoint:
    fn_index: int
    trigger_id: int
    inputs: tuple[str, ...]  # component type of each input, in order


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start(ctx: Context, port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "planqa", "serve", "--host", HOST, "--port", str(port), "--index", str(ctx.index),
           "--seeds", str(SEEDS)]
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, cwd=ROOT, env=child_env(ctx), stdout=f, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def chat_endpoint(base: str) -> tuple[Endpoint, dict]:
    """The send button's handler, found in the page's /config; and what /gradio_api/info exposes."""
    config = httpx.get(f"{base}/config", timeout=10).json()
    info = httpx.get(f"{base}/gradio_api/info", timeout=10).json()
    types = {c["id"]: c["type"] for c in config["components"]}
    send = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "planqa-send")
    dep = next(d for d in config["dependencies"] if [send, "click"] in [list(t) for t in d["targets"]])
    exposed = {"named_endpoints": len(info.get("named_endpoints", {})), "unnamed_endpoints": len(info.get("unnamed_endpoints", {})),
               "chat_api_visibility": dep.get("api_visibility")}
    return Endpoint(dep["id"], send, tuple(types[i] for i in dep["inputs"])), exposed


def payload(ep: Endpoint, question: str, session: str) -> dict:
    """The body the browser posts: one value per input (question, empty history, all chapters, k=5)."""
    defaults = {"textbox": question, "chatbot": [], "dropdown": 0, "slider": 5}
    return {"data": [defaults[t] for t in ep.inputs], "fn_index": ep.fn_index, "trigger_id": ep.trigger_id,
            "session_hash": session, "event_data": None}


def _check(msg: dict) -> str | None:
    if not msg.get("success"):
        return "handler failed"
    if "计划中" not in json.dumps(msg.get("output", {}), ensure_ascii=False):
        return "no answer in reply"
    return None


async def ask(client: httpx.AsyncClient, base: str, ep: Endpoint, question: str, session: str) -> str | None:
    """One question through the queue, as the browser asks it; None when answered, else what went wrong."""
    r = await client.post(f"{base}/gradio_api/queue/join", json=payload(ep, question, session))
    if r.status_code != 200:
        return f"join HTTP {r.status_code}"
    error = "stream ended without a result"
    async with client.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}) as s:
        if s.status_code != 200:
            return f"stream HTTP {s.status_code}"
        async for line in s.aiter_lines():
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            kind = msg.get("msg")
            if kind == "process_completed":
                error = _check(msg)
            elif kind in ("unexpected_error", "queue_full"):
                return kind
            elif kind == "close_stream":
                break
    return error


def ask_once(base: str, ep: Endpoint, question: str) -> str | None:
    async def go():
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            return await ask(client, base, ep, question, uuid.uuid4().hex[:11])
    return asyncio.run(go())


def page_ready(ctx: Context, port: int, log: Path, question: str) -> tuple[subprocess.Popen, dict]:
    """Start a server; time until it serves the page, and until it answers a first question."""
    started = time.perf_counter()
    proc = start(ctx, port, log)
    base = f"http://{HOST}:{port}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"planqa serve exited ({proc.returncode}); see {log}")
        if time.perf_counter() - started > 120:
            stop(proc)
            raise RuntimeError(f"planqa serve not ready after 120 s; see {log}")
        try:
            if httpx.get(f"{base}/config", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    served = time.perf_counter() - started
    ep, _ = chat_endpoint(base)
    err = ask_once(base, ep, question)
    if err:
        stop(proc)
        raise RuntimeError(f"first question failed: {err}")
    return proc, {"page_served_s": round(served, 2), "first_answer_s": round(time.perf_counter() - started, 2)}


def distinct_question(pool: list[str], n: int) -> str:
    """The n-th question: the pool in order, then numbered repeats, so the query cache never hits."""
    q = pool[n % len(pool)]
    return q if n < len(pool) else f"{q} {n // len(pool)}"


async def _load(base: str, ep: Endpoint, pool: list[str], clients: int, seconds: float, max_requests: int) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    counter = itertools.count()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=4 * clients, max_keepalive_connections=4 * clients)

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
        async def user(cid: int) -> None:
            session = uuid.uuid4().hex[:11]  # one browser tab per client
            while loop.time() < deadline:
                n = next(counter)
                if n >= max_requests:
                    return
                t = time.perf_counter()
                try:
                    err = await ask(client, base, ep, distinct_question(pool, n), session)
                except httpx.HTTPError as e:
                    err = type(e).__name__
                if err:
                    errors[err] = errors.get(err, 0) + 1
                else:
                    latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "seconds": round(elapsed, 1), "completed": len(latencies),
            "errors": sum(errors.values()), "error_kinds": errors,
            "throughput_per_s": round(len(latencies) / elapsed, 2), "latency": summary(latencies)}


def load(pid: int, base: str, ep: Endpoint, pool: list[str], clients: int, seconds: float, max_requests: int) -> dict:
    """`clients` concurrent users for `seconds` (or max_requests in all), with the server's RSS sampled."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], rss_kb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu0, gen0 = cpu_seconds(pid), resource.getrusage(resource.RUSAGE_SELF)
    try:
        out = asyncio.run(_load(base, ep, pool, clients, seconds, max_requests))
    finally:
        done.set()
        sampler.join()
    gen1 = resource.getrusage(resource.RUSAGE_SELF)
    served = max(out["completed"], 1)
    out["server_cpu_ms_per_request"] = round((cpu_seconds(pid) - cpu0) * 1000 / served, 1)
    out["generator_cpu_s"] = round(gen1.ru_utime + gen1.ru_stime - gen0.ru_utime - gen0.ru_stime, 1)
    out["server_rss_peak_mb"] = round(peak[0] / 1024, 1)
    return out


def run(ctx: Context) -> dict:
    runs, seconds = (1, 10) if ctx.quick else (3, 60)
    log = ctx.work / "serve.log"
    pool = [q.question for q in questions()]
    ready, proc = [], None
    for i in range(runs):
        port = free_port()
        proc, r = page_ready(ctx, port, log, pool[i])
        ready.append(r)
        if i < runs - 1:
            stop(proc)
    base = f"http://{HOST}:{port}"
    try:
        ep, exposed = chat_endpoint(base)
        idle_rss = rss_kb(proc.pid)
        for q in pool[:10]:
            ask_once(base, ep, q)
        levels = [load(proc.pid, base, ep, pool, clients, seconds, 20_000) for clients in (10, 50)]
        peak = rss_kb(proc.pid, "VmHWM")
    finally:
        stop(proc)
    return {
        "protocol": "queue join + SSE (/gradio_api/queue/join, /gradio_api/queue/data), as the browser does: "
                    "the chat handler has api_name=False, so the page exposes no API endpoint",
        "endpoint": {"fn_index": ep.fn_index, "trigger_id": ep.trigger_id, "inputs": list(ep.inputs), **exposed},
        "ready": ready,
        "page_served_ms": summary([r["page_served_s"] for r in ready]),
        "first_answer_ms": summary([r["first_answer_s"] for r in ready]),
        "rss_after_start_mb": round(idle_rss / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "load": levels,
    }
