"""search: a question in, ranked passages out (dense, BM25, or both fused)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .dense import dense_search, read_dense_index
from .embed import Embedder, load_embedder
from .errors import IndexInvalidError, IndexStaleError, InputError, rebuild_hint
from .lexical import LexicalIndex, tokenize
from .records import Passage
from .store import corpus_hash, current_build, load_vectors, read_manifest, read_passages
from .text import normalize

MODES = ("hybrid", "dense", "bm25")
# Dense candidates taken from FAISS before fusion re-scores them with the keyword side.
CANDIDATES = 50
# Fusion: dense cosine plus a bounded keyword bonus, BM25 / (BM25 + BM25_HALF) * LEXICAL_WEIGHT.
# The bonus saturates, so an English question (no keyword match) ranks as dense alone does and a
# strong keyword match can lift, not bury, the dense ranking. Measured in eval/README.md.
LEXICAL_WEIGHT = 0.08
BM25_HALF = 4.0
BACKGROUND_SAMPLE = 4096


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    dense: float
    lexical: float
    terms: tuple[str, ...]  # query tokens found in the passage


class Searcher:
    """A loaded index: passages, FAISS, BM25 and the model that embeds questions."""

    def __init__(self, passages: list[Passage], dense, vectors: np.ndarray, lexical: LexicalIndex,
                 embedder: Embedder, manifest: dict, build_dir: Path | None = None) -> None:
        self.passages = passages
        self.dense = dense
        self.vectors = vectors
        self.lexical = lexical
        self.embedder = embedder
        self.manifest = manifest
        self.build_dir = build_dir
        self._tokens = [frozenset(tokenize(p.text)) for p in passages]
        self._chapter = np.array([p.chapter_no for p in passages])
        self._embed_query = lru_cache(maxsize=2048)(self._embed_query_uncached)
        # Everything the plan says, normalised: to tell whether a name occurs in it at all.
        titles = {p.chapter for p in passages} | {p.section for p in passages} | {p.doc_title for p in passages}
        self.corpus_text = normalize("\n".join([p.text for p in passages] + sorted(titles)))
        # A fixed sample of passages against which a question's best match must stand out.
        step = max(1, len(passages) // BACKGROUND_SAMPLE)
        self._background = np.ascontiguousarray(vectors[::step][:BACKGROUND_SAMPLE])

    @classmethod
    def load(cls, root: Path, seeds_dir: Path | None = None, model: str | None = None,
             embedder: Embedder | None = None) -> Searcher:
        """Open the index in use under `root`, refusing one built from other seeds or another model.

        `embedder` is the loaded model to embed questions with; by default the one `model` names."""
        root = Path(root)
        hint = rebuild_hint(seeds_dir or "seeds", root, model)
        build_dir = current_build(root, hint)
        manifest = read_manifest(build_dir, hint)
        embedder = embedder or load_embedder(model)
        built_with = manifest.get("model", {}).get("id")
        if built_with != embedder.name:
            raise IndexStaleError(
                f"the index at {root} was built with model {built_with!r}, not {embedder.name!r}; "
                f"rebuild it: {hint}"
            )
        if seeds_dir is not None and manifest.get("corpus_hash") != corpus_hash(Path(seeds_dir)):
            raise IndexStaleError(f"the index at {root} was built from other seeds than {seeds_dir}; rebuild it: {hint}")
        try:
            passages = read_passages(build_dir / "passages.jsonl")
            vectors = load_vectors(build_dir / "vectors.npy")
            dense = read_dense_index(build_dir / "dense.faiss")
            lexical = LexicalIndex.load(build_dir / "bm25", len(passages))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise IndexInvalidError(f"the index at {build_dir} cannot be read ({e}); rebuild it: {hint}") from e
        # A build always holds passages (an empty corpus is refused when building); one without is damaged.
        if (not passages or vectors.ndim != 2 or not (len(passages) == vectors.shape[0] == dense.ntotal)
                or vectors.shape[1] != embedder.dim):
            raise IndexInvalidError(f"the index files at {build_dir} do not agree with each other; rebuild it: {hint}")
        return cls(passages, dense, vectors, lexical, embedder, manifest, build_dir)

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        vec = self.embedder.embed_queries([text])[0]
        vec.setflags(write=False)
        return vec

    def dense_background(self, query: str) -> tuple[float, float]:
        """Mean and spread of a question's cosine to the plan's passages (a sample of them)."""
        scores = self._background @ self._embed_query(normalize(query))
        return float(scores.mean()), float(scores.std())

    def chapters(self) -> list[tuple[int, str]]:
        """(number, label) of each chapter of the first document, in order."""
        seen: dict[int, str] = {}
        for p in self.passages:
            if p.document == self.passages[0].document and p.chapter_no and p.chapter_no not in seen:
                seen[p.chapter_no] = p.chapter_label
        return list(seen.items())

    def search(self, query: str, k: int = 5, mode: str = "hybrid", chapter: int | None = None) -> list[Hit]:
        """The top-k passages for a question, best first."""
        if mode not in MODES:
            raise InputError(f"retriever must be one of {', '.join(MODES)}, got {mode!r}")
        if k < 1:
            raise InputError(f"k must be >= 1, got {k}")
        norm = normalize(query)
        if not norm.strip():
            return []
        n = len(self.passages)
        allowed = np.ones(n, dtype=bool) if chapter is None else self._chapter == chapter
        if not allowed.any():
            return []
        q_tokens = tokenize(norm)

        lexical = self.lexical.scores(q_tokens) if mode != "dense" else np.zeros(n, np.float32)
        if mode == "bm25":
            cand = np.flatnonzero(allowed & (lexical > 0))
            dense_s = np.zeros(len(cand), np.float32)
            fused = lexical[cand]
        else:
            qv = self._embed_query(norm)
            depth = n if chapter is not None else max(CANDIDATES, k)
            _, ids = dense_search(self.dense, qv, depth)
            cand = set(int(i) for i in ids)
            if mode == "hybrid":
                cand.update(int(i) for i in np.argsort(-lexical)[: max(CANDIDATES, k)] if lexical[i] > 0)
            cand = np.array(sorted(c for c in cand if allowed[c]), dtype=np.int64)
            dense_s = self.vectors[cand] @ qv
            fused = dense_s.copy()
            if mode == "hybrid":
                lx = lexical[cand]
                fused += LEXICAL_WEIGHT * lx / (lx + BM25_HALF)
        order = np.lexsort((cand, -fused))[:k]  # ties broken by position in the plan
        return [
            Hit(
                passage=self.passages[cand[i]],
                score=float(fused[i]),
                dense=float(dense_s[i]),
                lexical=float(lexical[cand[i]]),
                terms=tuple(t for t in dict.fromkeys(q_tokens) if t in self._tokens[cand[i]]),
            )
            for i in order
        ]
