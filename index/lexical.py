"""Keyword side of the index: jieba tokens (with the plan's own names kept whole) and BM25.

jieba's dictionary cache is a marshal file; it is read only from a folder planqa owns (the
user's cache folder, or the one `use_cache_dir` names), never from the shared temp folder jieba
uses by default. planqa itself reads a plain copy of it kept there (index/caches.py), a third the time.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
import threading
from pathlib import Path

import numpy as np

from .caches import init_jieba
from .text import arabic_numerals, normalize

USERDICT = Path(__file__).with_name("userdict.txt")

DATA = Path(__file__).parent


def read_words(name: str) -> frozenset[str]:
    """The words of a data file beside this module (spaces or lines apart; # starts a comment)."""
    text = (DATA / name).read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() for w in line.split("#", 1)[0].split())


# Question words and fillers, and this plan's own name and year: they pick out no task.
STOPWORDS = read_words("stopwords.txt") | read_words("plan_words.txt")

_WORD = re.compile(r"\w", re.UNICODE)
_lock = threading.Lock()
_tokenizer = None
_cache_root: Path | None = None


def use_cache_dir(path: Path) -> None:
    """Where planqa keeps its private files (set once by the CLI or the server, from Settings)."""
    global _cache_root
    _cache_root = Path(path)


def cache_dir() -> Path:
    """A private folder for jieba's cache, created 0700 and refused if another user can write it."""
    if _cache_root is not None:
        root = _cache_root
    else:
        import platformdirs

        root = platformdirs.user_cache_path("planqa")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = root.stat()
        if st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return root
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="planqa-"))  # private and new: nothing stale to read


def new_tokenizer():
    """A new jieba Tokenizer, its dictionary loaded (from planqa's quick-to-read copy when there is one,
    index/caches.py) and jieba's log quiet, whose dictionary cache is read and written only in
    `cache_dir()`. The search index's adds the plan's words to one; the
    commitments' part-of-speech tagger (planqa.qa.tagger) has one of its own."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.tmp_dir = str(cache_dir())
    init_jieba(tk, Path(tk.tmp_dir))
    return tk


def _jieba():
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            tk = new_tokenizer()
            tk.load_userdict(str(USERDICT))
            _tokenizer = tk
        return _tokenizer


def tokenize(text: str) -> list[str]:
    """Search tokens of a passage or question, in order, duplicates kept."""
    return tokenize_normalized(normalize(text))


def tokenize_normalized(norm: str) -> list[str]:
    """`tokenize` of text already normalised (`text.normalize`)."""
    norm = arabic_numerals(norm)
    tokens = []
    for tok in _jieba().cut_for_search(norm, HMM=True):
        tok = tok.strip()
        if tok and _WORD.search(tok) and tok not in STOPWORDS:
            tokens.append(tok)
    return tokens


class LexicalIndex:
    """BM25 (bm25s, Lucene variant) over jieba tokens, saved as plain .npy/JSON files."""

    def __init__(self, bm25, n_docs: int) -> None:
        self._bm25 = bm25
        self.n_docs = n_docs

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25()
        # bm25s needs at least one token per document; an empty one gets a placeholder.
        bm25.index([toks or ["\u2205"] for toks in token_lists], show_progress=False)
        return cls(bm25, len(token_lists))

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), mmap=False, allow_pickle=False)
        return cls(bm25, n_docs)

    @property
    def vocabulary(self) -> set[str]:
        """Every token the index knows."""
        return set(self._bm25.vocab_dict)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens (zeros when none is known)."""
        ids = self._bm25.get_tokens_ids(query_tokens)
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)
