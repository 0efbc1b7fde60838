"""The object of a promise: the noun phrase the milestone applies to, as a span of the quote.

Two shapes cover the plan's sentences. Subject first: "确保 | 区养老院 | 投入运营" (the phrase
between the leading verbs and the milestone). Object after: "开工建设 | 春明路、黄瓜园中街…等道路",
"新建10家 | 养老服务驿站" (the phrase after the verbs, without a leading count, a trailing verbal
noun like 建设/改造, or a trailing "等"). "X在Y上…" sentences are about Y.
"""
from __future__ import annotations

from functools import lru_cache

from .extract import CLAUSE_END, TRIM, Milestone, clauses, masked
from .measures import Quantity, words
from .tagger import Token


@lru_cache(maxsize=1)
def _lead_vocab() -> tuple[str, ...]:
    """Verbs that open a clause before its object ("加快推进", "确保", "高标准建设"), longest first."""
    w = words()
    effort = next(m for m in w["milestones"] if m["key"] == "effort")
    vocab = set(w["light_verbs"]) | set(effort["words"]) | set(effort["adverbs"])
    for m in w["milestones"][:3]:
        vocab |= set(m["words"])
    return tuple(sorted(vocab, key=len, reverse=True))


def _lead_word(t: Token) -> bool:
    return t.word in _lead_vocab() or t.flag in ("d", "ad")


def _lead_end(text: str, body: list[Token]) -> int:
    """Where the clause's opening verbs end ("加快推进 | …", "引进、培育 | 一批…", "用心、用情、用力办好 | 民生实事")."""
    ends = {t.end for t in body}
    starts = {t.start: t for t in body}
    pos = body[0].start if body else 0
    while pos in starts:
        word = next((w for w in _lead_vocab() if text.startswith(w, pos) and pos + len(w) in ends), None)
        t = starts[pos]
        if word:
            pos += len(word)
        elif t.flag in ("d", "ad") or t.word in "、和及与" and _lead_end(text, [u for u in body if u.start > pos]) > pos + 1:
            pos = t.end
        else:
            break
    return pos


def _trim(tokens: list[Token], head: bool, verbal: bool) -> list[Token]:
    """Drop trailing adverbs and "等" (never the phrase's last word); `verbal` also trailing 建设/改造…,
    `head` also leading verbs."""
    w = words()
    tokens = [t for t in tokens if t.word.strip()]
    while head and tokens and (_lead_word(tokens[0]) or tokens[0].word in TRIM):
        tokens = tokens[1:]
    while len(tokens) > 1 and (tokens[-1].word in w["light_verbs"] or tokens[-1].word in TRIM or tokens[-1].flag in ("d", "ad")
                               or verbal and tokens[-1].word in w["action_nouns"] or tokens[-1].word in _lead_vocab()):
        tokens = tokens[:-1]
    return tokens


def _span(tokens: list[Token]) -> tuple[int, int] | None:
    return (tokens[0].start, tokens[-1].end) if tokens else None


def _nounish(tokens: list[Token]) -> bool:
    return any(t.flag.startswith("n") or t.flag in ("j", "l", "s") for t in tokens)


def _after(text: str, tokens: list[Token], start: int, end: int, stops: set[int]) -> tuple[int, int] | None:
    """The phrase after the opening verbs, up to the first preposition or quantity."""
    inside_stop = set(words()["stop_words"])
    inside = masked(text)
    body = [t for t in tokens if start <= t.start and t.end <= end]
    lead = _lead_end(text, body)
    body = [t for t in body if t.start >= lead]
    while body and (_lead_word(body[0]) or body[0].start in stops or body[0].word in TRIM or body[0].flag == "x"
                    and not inside[body[0].start]):
        body = body[1:]
    taken = []
    for t in body:
        if t.start in stops or (t.word in inside_stop and t.flag in ("p", "f") and not inside[t.start]):
            break
        taken.append(t)
    taken = _trim(taken, head=False, verbal=True)
    return _span(taken) if _nounish(taken) else None


def _before(tokens: list[Token], start: int, m: Milestone) -> tuple[int, int] | None:
    """The phrase between the clause's opening verbs and the milestone."""
    body = _trim([t for t in tokens if start <= t.start and t.end <= m.start], head=True, verbal=False)
    return _span(body) if _nounish(body) else None


def _between(text: str, tokens: list[Token], s: int, e: int) -> tuple[int, int] | None:
    """"马驹桥镇在新能源汽车…产业上形成高地" is about what stands between 在 and 上."""
    opening = next((t for t in tokens if s <= t.start < e and t.word == "在" and t.flag == "p"), None)
    if opening is None:
        return None
    closing = next((t for t in tokens if opening.end <= t.start < e and t.word == "上" and t.flag == "f"), None)
    body = [t for t in tokens if opening.end <= t.start and closing and t.end <= closing.start]
    return _span(body) if closing and body else None


def _quantity_starts(tokens: list[Token], quantities: tuple[Quantity, ...]) -> set[int]:
    return {t.start for q in quantities for t in tokens if q.start <= t.start < q.end or t.start <= q.start < t.end}


def find_object(text: str, tokens: list[Token], m: Milestone, quantities: tuple[Quantity, ...]) -> tuple[int, int] | None:
    """(start, end) of the object in `text`, None when there is no noun phrase to name."""
    spans = clauses(text)
    stops = _quantity_starts(tokens, quantities)
    inside = masked(text)
    if m.start is not None:
        s, e = next((s, e) for s, e in spans if s <= m.start < e)
        found = _before(tokens, s, m) or _after(text, tokens, m.end, e, stops)
        if found:
            return found
    for s, e in spans:
        first = next((t for t in tokens if t.start >= s), None)
        if first is not None and first.flag == "p" and len(spans) > 1:
            continue  # "与廊坊开发区…合作对接," sets the scene; the promise follows
        found = _between(text, tokens, s, e) or _after(text, tokens, s, e, stops)
        if found and not all(inside[found[0]:found[1]]):
            return found
    return None


def clause_end(text: str) -> bool:
    return bool(text) and text[-1] in CLAUSE_END
