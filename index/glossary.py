"""A glossary of everyday words for the official vocabulary of work plans (`glossary.tsv`).

People ask 看病, 小胡同, 地铁, 暖气; a plan writes 就医, 背街小巷, 轨道交通, 供暖. The glossary is
data, like a search engine's synonym file: each line an everyday word, a tab, and the official
words (the first is the one a question is rewritten with). It serves two features of the ranker:

- a keyword bridge: the everyday words found in a question (`find`) stand for their official words,
  looked for in each sentence (index/search.py);
- a rewritten question (`rewrite`), embedded by both encoders beside the question itself.

Words are found in the question's text, not among jieba's tokens, so a bad cut (修步道 -> 修步 / 道)
does not hide one. Adding the everyday words to jieba's dictionary was measured and dropped: it
changes the plan's own tokens too, and cost dev accuracy (eval/README.md, "Levers").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .text import normalize

GLOSSARY = Path(__file__).with_name("glossary.tsv")
MIN_WORD = 2  # one character ("河", "桥") is too often part of another word to stand for anything


@dataclass(frozen=True)
class Glossary:
    """Everyday word (normalised) -> the official words it stands for, in the file's order."""

    entries: dict[str, tuple[str, ...]]

    @classmethod
    def parse(cls, text: str, source: str = "glossary") -> Glossary:
        """Read the file's text; a bad line is refused with its number and what is wrong."""
        entries: dict[str, tuple[str, ...]] = {}
        for no, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "\t" not in line:
                raise ValueError(f"{source}, line {no}: expected an everyday word, a tab, then official words; "
                                 f"got {line.strip()[:40]!r}")
            left, right = line.split("\t", 1)
            word = normalize(left.strip())
            official = tuple(dict.fromkeys(normalize(w) for w in right.split()))
            if len(word) < MIN_WORD:
                raise ValueError(f"{source}, line {no}: the everyday word {left.strip()!r} is shorter than "
                                 f"{MIN_WORD} characters")
            if not official:
                raise ValueError(f"{source}, line {no}: {word!r} names no official word after the tab")
            if word in entries:
                raise ValueError(f"{source}, line {no}: {word!r} is listed twice; merge the two lines")
            entries[word] = official
        return cls(entries)

    @classmethod
    def load(cls, path: Path = GLOSSARY) -> Glossary:
        return cls.parse(Path(path).read_text(encoding="utf-8"), str(path))

    def spans(self, norm: str) -> list[tuple[int, int]]:
        """Where everyday words stand in a normalised text: left to right, the longest at each
        place (小胡同 rather than 胡同), none overlapping."""
        longest = max((len(w) for w in self.entries), default=0)
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(norm):
            for n in range(min(longest, len(norm) - i), MIN_WORD - 1, -1):
                if norm[i:i + n] in self.entries:
                    out.append((i, i + n))
                    i += n
                    break
            else:
                i += 1
        return out

    def find(self, norm: str) -> list[str]:
        """The everyday words in a normalised text, in order, each once."""
        return list(dict.fromkeys(norm[a:b] for a, b in self.spans(norm)))

    def rewrite(self, norm: str) -> str:
        """The text with each everyday word replaced by its first official word ("" when none is found)."""
        spans = self.spans(norm)
        if not spans:
            return ""
        parts, at = [], 0
        for a, b in spans:
            parts += [norm[at:a], self.entries[norm[a:b]][0]]
            at = b
        return "".join(parts) + norm[at:]


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    """The glossary that ships beside this module, read once per process."""
    return Glossary.load()


def idf(df: int, n: int) -> float:
    """BM25's inverse document frequency (as bm25s and Lucene compute it)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class Bridge:
    """The glossary over one corpus: an everyday word in a question scores each sentence by the
    rarest of its official words that the sentence holds (as written, so 背街小巷 counts whole)."""

    def __init__(self, glossary: Glossary, texts: list[str]) -> None:
        self.glossary = glossary
        self._texts = texts  # normalised sentences
        self._weights: dict[str, np.ndarray] = {}

    def weight(self, official: str) -> np.ndarray:
        """idf of the official word in each sentence that holds it, 0 elsewhere."""
        if official not in self._weights:
            has = np.array([official in t for t in self._texts], dtype=np.float32)
            self._weights[official] = has * np.float32(idf(int(has.sum()), len(self._texts)))
        return self._weights[official]

    def scores(self, norm: str) -> np.ndarray:
        """Per sentence, the sum over the everyday words of `norm` of their best official word's weight."""
        total = np.zeros(len(self._texts), np.float32)
        for word in self.glossary.find(norm):
            total += np.max([self.weight(w) for w in self.glossary.entries[word]], axis=0)
        return total


# The ranker's features this module computes (the last of index/rank.py FEATURES).
FEATURES = ("glossary", "gl_e5_z", "gl_use_z")


def columns(searcher, q, cand: np.ndarray) -> dict[str, np.ndarray]:
    """The glossary's ranker features of each candidate: the bridge's score squashed to 0..1, and
    both encoders' z-scores of the question rewritten in official words (0 when the question holds
    no everyday word; an English question is looked up in its Chinese rendering, and not rewritten,
    since that rendering is embedded already)."""
    from .rank import squash

    source = searcher._rewrite(q) if q.english else q.norm
    out = {"glossary": squash(searcher.glossary.scores(source)[cand]) if source else np.zeros(len(cand), np.float32)}
    rewritten = "" if q.english else searcher.glossary.glossary.rewrite(q.norm)
    out["gl_e5_z"], out["gl_use_z"] = searcher.text_z(rewritten, cand)
    return out
