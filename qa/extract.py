"""Reading one task sentence by rules over jieba's part-of-speech tags: where sentences the source ran
together split, the milestone (the strongest promise), and the noun phrase it applies to.

Milestones, strongest first (data/commitment_words.json): in_use (投入使用, 竣工, 通车…) > finished
(完工, 建成…) > started (开工, 启动…) > ready (具备…条件) > effort (推进, 加快, 力促, 积极…) > other.
A milestone word counts only as a predicate: not inside quotation marks (the "拿地即开工" model),
not as the modifier of a noun ("新建项目", "启动区"), and an effort adverb only before a verb
("有序推广", not "公平有序的营商环境").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .measures import alternation, words
from .tagger import Token

CLAUSE_END = "，,；;。：:！？!?"
QUOTE = re.compile(r'"[^"]*"|“[^”]*”|《[^》]*》|\([^)]*\)|（[^）]*）')
TRIM = "等、和及与并"


@dataclass(frozen=True)
class Milestone:
    key: str  # in_use, finished, started, ready, effort, other
    word: str  # as written ("投入运营", "具备通车条件"); "" for other
    start: int | None
    end: int | None


def level(key: str) -> dict:
    return next(m for m in words()["milestones"] if m["key"] == key)


def masked(text: str) -> list[bool]:
    """True for characters inside quotation marks, titles or brackets."""
    inside = [False] * len(text)
    for m in QUOTE.finditer(text):
        inside[m.start():m.end()] = [True] * (m.end() - m.start())
    return inside


def _at(tokens: list[Token], pos: int) -> int | None:
    """Index of the token starting at `pos`, None when `pos` is inside a word."""
    return next((i for i, t in enumerate(tokens) if t.start == pos), None)


def _is_verb(t: Token) -> bool:
    return t.flag.startswith("v") or t.flag in ("l", "i")


def find_milestone(text: str, tokens: list[Token]) -> Milestone:
    """The strongest promise in `text`; the first one of that strength when there are several."""
    inside = masked(text)
    for pattern in level("ready")["patterns"]:  # "具备通车条件" promises readiness, not 通车
        for hit in re.finditer(pattern, text):
            inside[hit.start() + 1:hit.end()] = [True] * (hit.end() - hit.start() - 1)
    heads = words()["modifier_heads"]
    for m in words()["milestones"]:
        patterns = [alternation(m["words"])] if m["words"] else []
        patterns += m.get("patterns", [])
        if m.get("adverbs"):
            patterns.append(f"(?P<adverb>{alternation(m['adverbs'])})")
        hits = []
        for pattern in patterns:
            for hit in re.finditer(pattern, text):
                s, e = hit.span()
                i = _at(tokens, s)
                if inside[s] or i is None or any(text.startswith(h, e) for h in heads):
                    continue
                if hit.groupdict().get("adverb") and not _adverbial(tokens, i, e):
                    continue
                hits.append((s, e))
        if hits:
            s, e = min(hits)
            return Milestone(m["key"], text[s:e], s, e)
    return Milestone("other", "", None, None)


def _adverbial(tokens: list[Token], i: int, end: int) -> bool:
    """An effort adverb modifies a verb: "积极争取", "有序推广", not "公平有序的营商环境"."""
    if tokens[i].end > end or tokens[i].flag == "ad":  # fused with its verb ("大力开展") or tagged adverbial
        return True
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return nxt is not None and _is_verb(nxt)


def split_points(text: str, tokens: list[Token]) -> list[int]:
    """Where a new predicate starts without punctuation before it ("…开工建设加速实施…")."""
    eff = level("effort")
    openers = set(eff["words"]) | set(level("started")["words"])
    chain = openers | set(eff["adverbs"])
    inside = masked(text)
    heads = words()["modifier_heads"]
    cuts = []
    clause_has_verb = False
    for i, t in enumerate(tokens):
        if t.word in CLAUSE_END:
            clause_has_verb = False
            continue
        prev = tokens[i - 1] if i else None
        # "…重点项目开工建设 | 加速实施…": an opening verb right after a finished verb phrase
        if (t.word in openers and prev and clause_has_verb and not inside[t.start] and prev.word not in chain
                and prev.flag in ("v", "vn") and prev.word not in words()["copulas"] and len(text) - t.end >= 4
                and not any(text.startswith(h, t.end) for h in heads)):
            cuts.append(t.start)
        clause_has_verb = clause_has_verb or t.flag in ("v", "vn")
    return cuts


def clauses(text: str) -> list[tuple[int, int]]:
    """Spans of the clauses of `text`, split at punctuation outside quotes and brackets."""
    inside = masked(text)
    spans, s = [], 0
    for i, ch in enumerate(text):
        if ch in CLAUSE_END and not inside[i]:
            if i > s:
                spans.append((s, i))
            s = i + 1
    if s < len(text):
        spans.append((s, len(text)))
    return spans
