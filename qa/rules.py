"""The answer rules: whether a question asks for a list, and whether the plan covers it.

All of them read the analysed question (index/query.py) and the retrieval hits; none knows any
particular question. The words a plan-independent rule cannot know (place-like words that name
no place, times a one-year plan cannot speak for) are data files beside index/userdict.txt.
"""
from __future__ import annotations

import re
import unicodedata

from planqa.index.lexical import DATA, read_words
from planqa.index.query import ASKS_NUMBER as _ASKS_NUMBER
from planqa.index.query import STATES_NUMBER as _STATES_NUMBER
from planqa.index.query import Query
from planqa.index.search import Coverage, Hit
from planqa.index.text import arabic_numerals, normalize

# Abstention, measured on eval/dev.jsonl (eval/README.md): the best passage must stand out from
# the rest of the plan (dense z-score; English questions score lower across languages) unless the
# question's keywords match strongly.
MIN_Z = 2.4
MIN_Z_ENGLISH = 2.0
STRONG_BM25 = 4.0
# Below this many passages a z-score against the rest of the plan means nothing.
MIN_BACKGROUND = 30

GENERIC_PLACES = read_words("generic_places.txt")
# One phrase a line ("next year").
OUT_OF_SCOPE = tuple(sorted({normalize(line.split("#", 1)[0].strip()) for line in
                             (DATA / "out_of_scope.txt").read_text(encoding="utf-8").splitlines()} - {""}))

# Places and codes the plan would name if it covered them: "朝阳区", "M101", "PM2.5", "2025年".
_ADMIN = re.compile(r"^(?P<stem>[\u4e00-\u9fff]{2,6}?)(?:新区|区|市|县|镇|乡|省|街道)$")
# Matched on the question before casefolding: acronyms (GDP) and letter-digit codes (M101, PM2.5),
# not ordinary words of a mixed-language question ("东六环 when 通车").
_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9.+]*[A-Z0-9](?![A-Za-z0-9])|[A-Za-z]+\d[A-Za-z0-9.]*|\d+号线|(?:19|20)\d\d(?=年)")
# English place names: "Chaoyang district", "Haidian".
_EN_PLACE = re.compile(r"\b([A-Z][a-z]+) (?:district|county|city)\b")
# A question that asks for a number is not answered by a passage that states none, and one that
# asks for money is not answered by a passage without an amount in 元.
_ASKS_MONEY = re.compile(r"多少钱|资金|经费|费用|收费|价格|均价|房价|票价|门票|预算|补贴|投资额|挣|工资|收入|什么价|交多少"
                         r"|budget|cost|price|rent|fee|subsid|funding|income|salary")
_ASKS_UNIT = re.compile(r"(?:多少|几)(?P<unit>[个所家条座项名张辆台栋处届期宗天])")
# Asks for a day or a date the plan would have to state: "哪天", "几月几号", "on what date".
_ASKS_DAY = re.compile(r"哪天|哪一天|几月|几号|几日|具体日期|什么日子|开幕日|what date|which day|on what day")
_STATES_DAY = re.compile(r"\d+月|\d+日|[一二三四五六七八九十]+月")
# Asks for a person: the plan names tasks, not people.
_ASKS_PERSON = re.compile(r"谁|哪位|叫什么名字|姓名|负责人|哪个部门|牵头|\bwho\b|in charge")
_NUMERAL = "0-9一二两三四五六七八九十百千万"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def is_list_question(query: Query) -> bool:
    """Asks for several things ("有哪些安排", "都做什么", "what are the …")."""
    return query.is_list


def unknown_names(query: Query, corpus_text: str, known: frozenset[str] | set[str] = frozenset()) -> tuple[str, ...]:
    """Places, codes and times in a question that the plan never mentions (`known`: lower-case
    words the index's English bridge maps to the plan's words, such as the acronym "ai")."""
    found = []
    if query.han:
        for tok in dict.fromkeys(query.tokens):
            m = _ADMIN.match(tok)
            if (m and tok not in corpus_text and m.group("stem") not in corpus_text
                    and tok not in GENERIC_PLACES and m.group("stem") not in GENERIC_PLACES):
                found.append(tok)
        wide = unicodedata.normalize("NFKC", query.text)
        found += [c for c in dict.fromkeys(_CODE.findall(wide))
                  if normalize(c) not in corpus_text and not (c.isalpha() and c.lower() in known)]
    else:
        found += [m for m in dict.fromkeys(_EN_PLACE.findall(query.text))]
        found += [c for c in dict.fromkeys(re.findall(r"\b(?:19|20)\d\d\b", query.text)) if c not in corpus_text]
    found += [w for w in OUT_OF_SCOPE if w in query.norm and w not in found]
    return tuple(found)


def covered_by(query: Query, hits: list[Hit], coverage: Coverage, own: Query | None = None) -> bool:
    """Whether the best passage is a real match, not just the least bad one.

    `own` is a follow-up's own words (`query` being what it was read as, with the question
    before): what it asks for (a number, a day, money, a person) is read from its own words."""
    top = hits[0]
    words = query.tokens
    asked = (own or query).norm
    # The best of a hundred-odd cosines stands out by two deviations by chance alone, so the
    # z-score below cannot tell a question that says nothing ("的", "123", "x": no content words,
    # only numbers, one letter) from a real one: such a question is answered only by a passage
    # that contains its very words.
    if not words:
        return False
    stated = arabic_numerals(normalize(top.passage.text))
    if not any(ch.isalpha() for ch in query.norm) or len("".join(words)) < 2:
        return all(w in stated for w in words)
    if _ASKS_MONEY.search(asked) and "元" not in top.passage.text:
        return False
    if _ASKS_DAY.search(asked) and not _STATES_DAY.search(stated):
        return False
    if _ASKS_PERSON.search(asked):
        return False
    if _ASKS_NUMBER.search(asked) and not _STATES_NUMBER.search(top.passage.text):
        return False
    unit = _ASKS_UNIT.search(asked)
    if unit and not re.search(f"[{_NUMERAL}]{unit.group('unit')}", top.passage.text):
        return False
    if "率" in asked and _ASKS_NUMBER.search(asked) and "%" not in stated:
        return False
    if max(h.lexical for h in hits) >= STRONG_BM25:
        return True
    if coverage.passages < MIN_BACKGROUND:
        return top.lexical > 0
    floor = MIN_Z if query.han else MIN_Z_ENGLISH
    std = coverage.dense_std
    return bool(std > 0 and (max(h.dense for h in hits) - coverage.dense_mean) / std >= floor)
