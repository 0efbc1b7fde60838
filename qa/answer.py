"""answer: retrieve, decide whether the plan covers the question, and say so plainly.

There is no generator: an answer is the matching passages quoted as published, or the statement
that the plan does not cover the question. A weak best match is never presented as an answer.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from planqa.index.errors import InputError
from planqa.index.lexical import tokenize
from planqa.index.search import Hit, Searcher
from planqa.index.text import arabic_numerals, normalize, normalize_with_map

MAX_QUESTION_CHARS = 500
# The page's API accepts a question of any size; past this many characters it is refused before
# any work is done on it, so a 10 MB "question" costs nothing.
MAX_RAW_CHARS = 20 * MAX_QUESTION_CHARS
NOT_FOUND = "计划中未找到与该问题直接相关的内容"

# Abstention, calibrated on eval/questions.jsonl (see eval/README.md): the best passage must stand
# out from the rest of the plan (dense z-score; English questions score lower across languages)
# unless the question's keywords match strongly.
MIN_Z = 2.4
MIN_Z_ENGLISH = 2.0
STRONG_BM25 = 4.0
# Hits after the first are kept while they stay this close to it (cosine + keyword bonus).
KEEP_WITHIN = 0.03

# Places and codes the plan would name if it covered them: "朝阳区", "M101", "PM2.5", "2025年".
_ADMIN = re.compile(r"^(?P<stem>[\u4e00-\u9fff]{2,6}?)(?:新区|区|市|县|镇|乡|省|街道)$")
# Matched on the question before casefolding: acronyms (GDP) and letter-digit codes (M101, PM2.5),
# not ordinary words of a mixed-language question ("东六环 when 通车").
_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9.+]*[A-Z0-9](?![A-Za-z0-9])|[A-Za-z]+\d[A-Za-z0-9.]*|\d+号线|(?:19|20)\d\d(?=年)")
# Below this many passages a z-score against the rest of the plan means nothing.
MIN_BACKGROUND = 30
# A question that asks for a number is not answered by a passage that states none, and one that
# asks for money is not answered by a passage without an amount in 元.
_ASKS_NUMBER = re.compile(r"多少|几[个所家条座项名张辆天年万]|几$|how many|how much|what (?:is the )?(?:number|share|percentage)")
_ASKS_MONEY = re.compile(r"多少钱|资金|费用|收费|价格|均价|房价|票价|门票|预算|补贴|投资额|budget|cost|price|rent|fee|subsid")
_STATES_NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千万]+(?=[家个所座条宗项名人万千亿米平辆台栋处届期])")
_ASKS_UNIT = re.compile(r"(?:多少|几)(?P<unit>[个所家条座项名张辆台栋处届期宗])")
_NUMERAL = "0-9一二两三四五六七八九十百千万"
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    hits: tuple[Hit, ...]
    message: str  # the lead line shown above the quotes
    unknown: tuple[str, ...] = ()  # names in the question the plan never mentions
    ranked: tuple[Hit, ...] = ()  # the retrieval ranking behind the answer (up to k), for metrics


def clean_question(question: str) -> str:
    """The question without control or invisible characters; refuses empty and overlong ones."""
    if not isinstance(question, str):
        raise InputError("问题必须是文字")
    if len(question) > MAX_RAW_CHARS:
        raise InputError(_too_long(len(question)))
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in question
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    kept = " ".join(kept.split())
    if len(kept) > MAX_QUESTION_CHARS:
        raise InputError(_too_long(len(kept)))
    if not any(ch.isalnum() for ch in normalize(kept)):
        raise InputError("请输入一个问题，例如：今年新建多少家养老服务驿站？")
    return kept


def _too_long(n: int) -> str:
    return f"问题太长：最多 {MAX_QUESTION_CHARS} 字，收到 {n} 字。请只问一件事。"


def unknown_names(searcher: Searcher, question: str) -> tuple[str, ...]:
    """Places and codes in a Chinese question that appear nowhere in the plan."""
    norm = normalize(question)
    if not _HAN.search(norm):
        return ()
    corpus = searcher.corpus_text
    found = []
    for tok in dict.fromkeys(tokenize(norm)):
        m = _ADMIN.match(tok)
        if m and tok not in corpus and m.group("stem") not in corpus:
            found.append(tok)
    wide = unicodedata.normalize("NFKC", question)
    found += [c for c in dict.fromkeys(_CODE.findall(wide)) if normalize(c) not in corpus]
    return tuple(found)


def answer(searcher: Searcher, question: str, k: int = 5, chapter: int | None = None,
           mode: str = "hybrid", previous: str | None = None) -> Answer:
    """The passages that answer a question, or an honest statement that the plan does not.

    `previous` is the question asked before this one in a conversation (the chat page passes it;
    the CLI asks one question at a time)."""
    q = clean_question(question)
    hits = searcher.search(q, k=k, mode=mode, chapter=chapter)
    covered, unknown = judge(searcher, q, hits)
    if not covered:
        why = f"（计划中没有提到：{'、'.join(unknown)}）" if unknown else ""
        return Answer(q, False, tuple(hits), NOT_FOUND + why, unknown, ranked=tuple(hits))
    kept = tuple(h for h in hits if h.score >= hits[0].score - KEEP_WITHIN)
    return Answer(q, True, kept, f"计划中有 {len(kept)} 处相关内容：", ranked=tuple(hits))


def judge(searcher: Searcher, question: str, hits: list[Hit]) -> tuple[bool, tuple[str, ...]]:
    """(whether the plan covers the question, names in it the plan never mentions)."""
    unknown = unknown_names(searcher, question)
    return bool(hits) and not unknown and credible(searcher, question, hits), unknown


def credible(searcher: Searcher, question: str, hits: list[Hit]) -> bool:
    """Whether the best passage is a real match, not just the least bad one."""
    top = hits[0]
    asked = normalize(question)
    # The best of a hundred-odd cosines stands out by two deviations by chance alone, so the
    # z-score below cannot tell a question that says nothing ("的", "123", "x": no content words,
    # only numbers, one letter) from a real one: such a question is answered only by a passage
    # that contains its very words.
    words = tokenize(asked)
    if not words:
        return False
    if not any(ch.isalpha() for ch in asked) or len("".join(words)) < 2:
        stated = arabic_numerals(normalize(top.passage.text))
        return all(w in stated for w in words)
    if _ASKS_MONEY.search(asked) and "元" not in top.passage.text:
        return False
    if _ASKS_NUMBER.search(asked) and not _STATES_NUMBER.search(top.passage.text):
        return False
    unit = _ASKS_UNIT.search(asked)
    if unit and not re.search(f"[{_NUMERAL}]{unit.group('unit')}", top.passage.text):
        return False
    if "率" in asked and _ASKS_NUMBER.search(asked) and "%" not in normalize(top.passage.text):
        return False
    if max(h.lexical for h in hits) >= STRONG_BM25:
        return True
    if len(searcher.passages) < MIN_BACKGROUND:
        return top.lexical > 0
    mean, std = searcher.dense_background(question)
    floor = MIN_Z if _HAN.search(asked) else MIN_Z_ENGLISH
    return bool(std > 0 and (max(h.dense for h in hits) - mean) / std >= floor)


def highlight(text: str, terms: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Split a quote into (piece, matched) runs, marking where the question's words occur."""
    if not terms:
        return [(text, False)]
    norm, src = normalize_with_map(text)
    marked = np.zeros(len(text), dtype=bool)
    for term in sorted(set(terms), key=len, reverse=True):
        t = normalize(term)
        if not t or (len(t) == 1 and _HAN.match(t)):  # a lone 家 or 个 marks noise, not meaning
            continue
        for m in re.finditer(re.escape(t), norm):
            marked[src[m.start()]: src[m.end() - 1] + 1] = True
    runs: list[tuple[str, bool]] = []
    for ch, flag in zip(text, marked):
        if runs and runs[-1][1] == bool(flag):
            runs[-1] = (runs[-1][0] + ch, bool(flag))
        else:
            runs.append((ch, bool(flag)))
    return runs

