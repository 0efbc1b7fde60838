"""Filtering the commitments: chapter, milestone, "only with a quantified target", and a keyword that
also finds narrower words (学校 -> 小学, 中学, 校区…) and matches the object, places and section."""
from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from planqa.index import records
from planqa.index.errors import InputError
from planqa.index.records import Passage
from planqa.index.text import normalize

from . import commitments as _c

SYNONYMS = Path(__file__).with_name("data") / "keyword_synonyms.json"
# Filter values beyond the single milestones: what a journalist asks first.
GROUPS = {
    "done": ("in_use", "finished"),  # 今年要完成/投用的
    "begun": ("in_use", "finished", "started"),  # 今年至少要开工的
    "any": (),
}
GROUP_LABELS = {"done": "今年要完成/投用的", "begun": "今年至少开工的", "any": "全部"}


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    data = json.loads(SYNONYMS.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def keyword_terms(keyword: str) -> tuple[str, ...]:
    """The keyword and the narrower words it stands for, normalized."""
    word = normalize(keyword)
    return tuple(dict.fromkeys([word, *(normalize(w) for w in synonyms().get(word, []))]))


def milestone_keys(milestone: str | None) -> tuple[str, ...]:
    """The milestones a filter value keeps; () keeps all. Raises InputError naming a bad value."""
    if milestone is None or str(milestone).strip() in ("", "any"):
        return ()
    value = str(milestone).strip()
    if value in GROUPS:
        return GROUPS[value]
    if value in _c.MILESTONES:
        return (value,)
    by_label = {lv["label"]: lv["key"] for lv in _levels()} | {v: k for k, v in GROUP_LABELS.items()}
    if value in by_label:
        return milestone_keys(by_label[value])
    choices = ", ".join([*_c.MILESTONES, *GROUPS])
    raise InputError(f"unknown milestone {value!r}: use one of {choices}")


def _levels():
    from .measures import words

    return words()["milestones"]


def check_chapter(chapter, passages: Sequence[Passage]) -> int | None:
    """None (or "") = all chapters, 0 = the introduction, 1..N; a number given as text is read as
    one. The range check is the one the CLI, the page and the API share (records.check_chapter)."""
    if chapter is None or chapter == "":
        return None
    try:
        no = int(chapter)
    except (TypeError, ValueError):
        raise InputError(f"chapter must be a number (0 = introduction, 1-N), got {chapter!r}") from None
    return records.check_chapter(no, {p.chapter_no for p in passages})


def commitments(passages: Sequence[Passage], chapter: int | None = None, keyword: str | None = None,
                milestone: str | None = None, quantified_only: bool = False, grep: str | None = None) -> list:
    """The commitments that pass every filter, in plan order. A blank keyword filters nothing
    (`grep` is the keyword's older name)."""
    keyword = keyword if keyword is not None else grep
    no = check_chapter(chapter, passages)
    keys = milestone_keys(milestone)
    terms = keyword_terms(keyword) if keyword and keyword.strip() else ()
    rows = []
    for c in _c.extract_all(list(passages)):
        if no is not None and c.chapter_no != no or keys and c.milestone not in keys or quantified_only and not c.quantified:
            continue
        if terms:
            fields = [normalize(f) for f in (c.quote, c.section, c.object, *(p.name for p in c.places))]
            if not any(t in f for t in terms for f in fields):
                continue
        rows.append(c)
    return rows


def commitment_dicts(passages: Sequence[Passage], chapter: int | None = None, keyword: str | None = None,
                     milestone: str | None = None, quantified_only: bool = False) -> list[dict]:
    """The filtered commitments as JSON-ready dicts (the CSV's fields, plus offsets and notes)."""
    return [as_dict(c) for c in commitments(passages, chapter, keyword, milestone, quantified_only)]


def as_dict(c) -> dict:
    return {
        "id": c.id, "chapter_no": c.chapter_no, "chapter": c.chapter, "section": c.section,
        "milestone": c.milestone, "milestone_label": c.milestone_label, "milestone_word": c.milestone_word,
        "object": c.object, "quantity": [q.qualifier + q.value for q in c.quantities], "unit": [q.unit for q in c.quantities],
        "counts": [q.counts for q in c.quantities], "places": [p.name for p in c.places], "deadline": c.deadline.text,
        "quote": c.quote, "citation": c.citation, "notes": list(c.notes),
        "spans": {  # [start, end) in the quote, for highlighting
            "milestone": list(c.milestone_span) if c.milestone_span else None,
            "object": list(c.object_span) if c.object_span else None,
            "quantities": [[q.start, q.end] for q in c.quantities],
            "places": [[p.start, p.end] for p in c.places],
            "deadline": [c.deadline.start, c.deadline.end] if c.deadline.start is not None else None,
        },
    }
