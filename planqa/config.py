"""Settings, read from the environment once, at the edge (the CLI and the server), and passed down.

Library code (planqa.index, planqa.qa, planqa.eval) never reads os.environ: it takes these values
as arguments, so a test or another program can set them without touching the process.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from planqa.index.embed import DEFAULT_MODEL


def packaged_seeds() -> Path:
    """The plan that ships inside the package (seeds/ in a checkout)."""
    return Path(str(files("planqa.seeds")))


def user_cache() -> Path:
    """planqa's folder in the user's cache (~/.cache/planqa on Linux)."""
    import platformdirs

    return platformdirs.user_cache_path("planqa")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return max(1, int(env.get(name, default)))
    except ValueError:
        return default


def _seconds(env: Mapping[str, str], name: str) -> float:
    try:
        return min(60.0, max(0.0, float(env.get(name) or 0)))
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class Settings:
    seeds: Path  # PLANQA_SEEDS: the folder of plan files
    index: Path  # PLANQA_INDEX: where the index is built and read
    model: str  # PLANQA_MODEL: e5-small-q4 or a sentence-transformers model name or folder
    cache: Path  # PLANQA_CACHE: jieba's dictionary cache, downloads, the server's temp files
    query_threads: int = 1  # PLANQA_QUERY_THREADS: encoder threads for one question
    build_threads: int = 2  # PLANQA_BUILD_THREADS: encoder threads for a batch of passages
    user: str | None = None  # PLANQA_USER and PLANQA_PASSWORD: the page's login, when both are set
    password: str | None = None
    allowed_origins: tuple[str, ...] = field(default=())  # PLANQA_ALLOWED_ORIGINS, comma-separated
    # PLANQA_TRUSTED_PROXIES, comma-separated addresses or networks (nginx on this machine: 127.0.0.1)
    # whose X-Forwarded-For names the client; by default nobody's, the client is the connection's peer
    trusted_proxies: tuple[str, ...] = field(default=())
    answer_delay: float = 0.0  # PLANQA_ANSWER_DELAY: seconds added to every chat answer (a test hook)

    @property
    def auth(self) -> list[tuple[str, str]] | None:
        return [(self.user, self.password)] if self.user and self.password else None


def settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings in `env` (default: this process's environment), with planqa's defaults."""
    env = os.environ if env is None else env
    cache = Path(env.get("PLANQA_CACHE") or user_cache())
    origins = tuple(o.strip().rstrip("/") for o in env.get("PLANQA_ALLOWED_ORIGINS", "").split(",") if o.strip())
    return Settings(
        seeds=Path(env.get("PLANQA_SEEDS") or packaged_seeds()),
        index=Path(env.get("PLANQA_INDEX") or cache / "index"),
        model=(env.get("PLANQA_MODEL") or DEFAULT_MODEL).strip(),
        cache=cache,
        query_threads=_int(env, "PLANQA_QUERY_THREADS", 1),
        build_threads=_int(env, "PLANQA_BUILD_THREADS", os.cpu_count() or 1),
        user=env.get("PLANQA_USER") or None,
        password=env.get("PLANQA_PASSWORD") or None,
        allowed_origins=origins,
        trusted_proxies=tuple(p.strip() for p in env.get("PLANQA_TRUSTED_PROXIES", "").split(",") if p.strip()),
        answer_delay=_seconds(env, "PLANQA_ANSWER_DELAY"),
    )
