"""jieba's part-of-speech tagger, with offsets, on a tokenizer of its own (the search index's is not touched;
both are set up by `planqa.index.lexical.new_tokenizer`, with jieba's cache in planqa's private folder)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from planqa.index.lexical import new_tokenizer

_lock = threading.RLock()
_tagger = None


@dataclass(frozen=True)
class Token:
    word: str
    flag: str  # jieba's tag: v verb, vn verbal noun, n noun, ns place, m numeral, q measure word, x punctuation…
    start: int
    end: int


def _posseg():
    global _tagger
    with _lock:
        if _tagger is None:
            import jieba.posseg

            tk = new_tokenizer()
            _tagger = jieba.posseg.POSTokenizer(tk)
        return _tagger


def tag(text: str) -> list[Token]:
    """The words of `text` with their tags and offsets."""
    tokens, at = [], 0
    with _lock:  # one tokenizer shared by the server's threads
        pairs = [(p.word, p.flag) for p in _posseg().cut(text)]
    for word, flag in pairs:
        tokens.append(Token(word, flag, at, at + len(word)))
        at += len(word)
    return tokens


def word_tag(word: str) -> str | None:
    """jieba's dictionary tag of a word (None when the dictionary does not hold it)."""
    with _lock:
        return _posseg().word_tag_tab.get(word)
