"""Encoders for the fast test layer, deterministic and instant; used only by tests.

`NgramEmbedder` and `ConstantEmbedder` implement the embedder protocol (`name`, `dim`,
`embed_queries`, `embed_passages`); `NgramUse` the second encoder's (`name`, `dim`, `embed`).
Pass them as `build_index(..., embedder=, use=)` and `Searcher.load(..., embedder=, use=)`.
"""
from __future__ import annotations

import zlib

import numpy as np
from planqa.index.text import normalize


class NgramEmbedder:
    """Hashed character 1- and 2-grams of the normalised text, L2-normalised.

    Two texts are close when they share characters and character pairs, which is enough to rank a
    tiny plan the way a reader would expect. crc32, not hash(): the same vector in every process.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.name = f"test-ngrams-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [ch for ch in normalize(text) if ch.isalnum()]
        for gram in chars + [a + b for a, b in zip(chars, chars[1:])]:
            v[zlib.crc32(gram.encode("utf-8")) % self.dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)


class NgramUse(NgramEmbedder):
    """The second encoder's stand-in: the same n-gram vectors, as wide as USE's (512)."""

    def __init__(self) -> None:
        super().__init__(512)
        self.name = "test-ngrams-use"

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)


class ConstantEmbedder:
    """Every text gets the same unit vector: every dense score ties at 1.0.

    Dense ranking then falls back to the plan's order, and hybrid ranking is decided by the
    keyword side alone, which makes fusion testable with exact ranks.
    """

    name = "test-constant"

    def __init__(self, dim: int = 8) -> None:
        self.dim = dim

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)
