"""Quantities, deadlines and known source typos in one task sentence, with their offsets.

A quantity is an Arabic number directly followed by a measure word of counts and targets (个, 所,
万人, %, 平方米…), so "2024年", "22号线", "220千伏" (a specification), "11311" and "3+1" (names)
are not. Chinese numerals never are: in plans they are fixed phrases ("三个关系", "一批", "两区"),
ordinals ("二期", "第二批") or counts of things the sentence names one by one, while targets are
written in digits. The words themselves live in data/commitment_words.json.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORDS = Path(__file__).with_name("data") / "commitment_words.json"


@lru_cache(maxsize=1)
def words() -> dict:
    return json.loads(WORDS.read_text(encoding="utf-8"))


def alternation(items) -> str:
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


@dataclass(frozen=True)
class Quantity:
    value: str  # as written: "500万", "1.5万", "65"
    unit: str  # "平方米", "人", "%"
    qualifier: str = ""  # "不少于", "超过", "累计", or ""
    start: int = 0  # offsets in the quote of the number and unit, with a qualifier right before them
    end: int = 0
    counts: str = ""  # the noun it counts when the sentence says ("5个家园中心" -> "家园中心")

    @property
    def text(self) -> str:
        """"不少于1.5万人", "超过65%", "64座"."""
        return f"{self.qualifier}{self.value}{self.unit}"


@lru_cache(maxsize=1)
def _quantity_re() -> re.Pattern:
    w = words()
    return re.compile(
        f"(?:(?P<qualifier>{alternation(w['qualifiers'])})\\w{{0,2}}?)?"
        f"(?<![\\d.+])(?P<value>\\d+(?:\\.\\d+)?[万亿]?)(?!{alternation(w['spec_units'])})(?P<unit>{alternation(w['units'])})"
    )


def find_quantities(text: str) -> tuple[Quantity, ...]:
    """Counts and targets in `text`; the qualifier may stand before a verb ("累计完工500万平方米")."""
    found = []
    for m in _quantity_re().finditer(text):
        adjacent = m.group("qualifier") and m.end("qualifier") == m.start("value")  # "不少于1.5万人", not "累计完工500万"
        start = m.start("qualifier") if adjacent else m.start("value")
        found.append(Quantity(m.group("value"), m.group("unit"), m.group("qualifier") or "", start, m.end("unit")))
    return tuple(found)


@dataclass(frozen=True)
class Deadline:
    text: str  # "2024年", "2024年底"
    start: int | None  # offsets in the quote; None when the sentence gives none (the plan's year)
    end: int | None


def plan_year(title: str) -> str:
    """"2024年工作的总体思路和主要任务" -> "2024年"; "" when the title names no year."""
    m = re.search(r"(20\d\d)年", title)
    return m.group(0) if m else ""


def find_deadline(text: str, year: str) -> Deadline:
    """The deadline the sentence writes ("年底", "上半年", "2025年"), else the plan's year."""
    terms = words()["deadlines"]
    m = re.search(f"(?P<year>20\\d\\d年)?(?P<term>{alternation(terms)})", text) or re.search(r"(?P<year>20\d\d年)(?P<term>)", text)
    if not m:
        return Deadline(year, None, None)
    term = terms.get(m.group("term") or "", "")
    return Deadline((m.group("year") or year) + term, m.start(), m.end())


@dataclass(frozen=True)
class Typo:
    written: str  # as the source has it ("人地"); the quote keeps it
    meant: str  # "入地"
    start: int
    end: int

    @property
    def note(self) -> str:
        return f"原文“{self.written}”疑为“{self.meant}”之误，引文照录原文"


def find_typos(text: str) -> tuple[Typo, ...]:
    found = []
    for t in words()["typos"]:
        for m in re.finditer(re.escape(t["after"]) + f"({re.escape(t['written'])})", text):
            found.append(Typo(t["written"], t["meant"], m.start(1), m.end(1)))
    return tuple(found)
