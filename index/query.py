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
# Asks for several things ("有哪些安排", "都做什么", "what are the …").
LIST = re.compile(
    r"哪些|有(?:什么|啥)(?:安排|举措|措施|项目|任务|工作|实事|活动|合作|打算|计划|动作|新安排|变化)|(?:做|干|搞)(?:什么|啥|哪些)"
    r"|都有(?:什么|啥)|分别|列出|清单|what (?:are|will be) the|what is the plan doing|which \w+s\b|list (?:the|all)"
    r"|what (?:projects|measures|steps|plans)", re.IGNORECASE)
# Asks for a quantity ("多少", "几所", "how many").
ASKS_NUMBER = re.compile(r"多少|几[个所家条座项名张辆天年万]|几$|how many|how much|what (?:is the )?(?:number|share|percentage)")
# States one: a digit, or a Chinese numeral before a measure word.
STATES_NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千万]+(?=[家个所座条宗项名人万千亿米平辆台栋处届期])")


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

    @property
    def is_list(self) -> bool:
        return bool(LIST.search(self.norm))

    @property
    def asks_number(self) -> bool:
        return bool(ASKS_NUMBER.search(self.norm))


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
