"""A question analysed once: the normalised text, its search tokens and numbers, its language.

Search and the answer rules share this record, so a question is normalised and tokenised once
per answer, not once per rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import tokenize_normalized
from .text import arabic_numerals, normalize

_HAN = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[a-z]{2,}")


@dataclass(frozen=True)
class Query:
    text: str  # as asked (cleaned of control characters by the caller)
    norm: str  # the matching form (text.normalize)
    tokens: tuple[str, ...]  # search tokens, stopwords removed, duplicates kept
    numbers: tuple[str, ...]  # quantities, Chinese numerals written as digits ("十家" -> "10")
    han: bool  # holds Chinese characters (a question without any is read as English)

    @property
    def english(self) -> bool:
        return not self.han and bool(_LATIN.search(self.norm))


def analyze(text: str) -> Query:
    """The record of one question."""
    norm = normalize(text)
    return Query(
        text=text,
        norm=norm,
        tokens=tuple(tokenize_normalized(norm)),
        numbers=tuple(_NUMBER.findall(arabic_numerals(norm))),
        han=bool(_HAN.search(norm)),
    )


def as_query(query: str | Query) -> Query:
    return query if isinstance(query, Query) else analyze(query)
