"""IR metrics over a report: anyone can recompute them from the questions and the hits.

A report entry per question and retriever: {"id", "answered", "ranked": [hit…], "shown": [hit…]},
a hit being {"id", "text", "document", "score"}. `ranked` is the retrieval ranking behind the
answer (up to 10), `shown` what the page shows (empty when the answer is a refusal).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from planqa.index.text import normalize

# Single-answer types: one correct sentence is enough (accuracy@1/@5, MRR@10).
SINGLE = ("fact", "paraphrase", "entity", "colloquial", "followup", "english")
# A list question's gold names every sentence that belongs (set recall@10, shown precision).
LIST = "list"
UNANSWERABLE = "unanswerable"
TYPES = (*SINGLE, LIST, UNANSWERABLE)
CUT = 10  # ranks looked at: accuracy@k and MRR stop here, list recall is counted in the top 10


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: tuple[str, ...]
    type: str
    document: str | None = None
    previous: str | None = None  # the question asked before it in the chat (follow-ups)
    chapter: int | None = None  # the chapter filter set on the page when it was asked
    split: str | None = None  # "dev" (tune on it) or "test" (report it)

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    def matches(self, text: str, document: str | None = None) -> bool:
        """A passage is a hit when its normalised text contains a gold substring."""
        if self.document and document and document != self.document:
            return False
        norm = normalize(text)
        return any(normalize(g) in norm for g in self.gold)

    def gold_found(self, hits: list[dict]) -> int:
        """How many gold substrings occur in some hit (for a list: how many of its sentences)."""
        texts = [normalize(h["text"]) for h in hits if not (self.document and h.get("document")
                                                           and h["document"] != self.document)]
        return sum(1 for g in self.gold if any(normalize(g) in t for t in texts))


def _question(d: dict) -> Question:
    chapter = d.get("chapter")
    return Question(id=str(d["id"]), question=str(d["question"]), gold=tuple(str(g) for g in d["gold"]),
                    type=str(d.get("type", "fact")), document=d.get("document"),
                    previous=None if d.get("previous") is None else str(d["previous"]),
                    chapter=None if chapter is None else int(chapter), split=d.get("split"))


def _problem(q: Question) -> str | None:
    if q.type not in TYPES:
        return f"type {q.type!r} is not one of {', '.join(TYPES)}"
    if q.type == UNANSWERABLE and q.gold:
        return "an unanswerable question has no gold"
    if q.type != UNANSWERABLE and not q.gold:
        return f"a {q.type} question needs gold substrings (\"gold\": [] only for type unanswerable)"
    if q.type == "followup" and not q.previous:
        return "a followup question needs \"previous\", the question asked before it"
    if any(not normalize(g) for g in q.gold):
        return "an empty gold substring matches every passage"
    return None


def load_questions(path: Path, split: str | None = None) -> list[Question]:
    """Questions from a JSONL file; a bad line is reported with its number. `split` labels the
    questions that carry none."""
    questions, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                q = _question(json.loads(line))
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{no}: not a question object ({e})") from e
            problem = _problem(q)
            if problem:
                raise ValueError(f"{path}:{no}: {q.id}: {problem}")
            if q.id in seen:
                raise ValueError(f"{path}:{no}: duplicate id {q.id!r}")
            seen.add(q.id)
            if split and q.split is None:
                q = replace(q, split=split)
            questions.append(q)
    if not questions:
        raise ValueError(f"{path} holds no questions")
    return questions


def first_hit_rank(q: Question, hits: list[dict]) -> int | None:
    """1-based rank of the first correct passage, or None."""
    for rank, h in enumerate(hits, 1):
        if q.matches(h["text"], h.get("document")):
            return rank
    return None


def _ranked(pairs: list[tuple[Question, dict]]) -> dict:
    ranks = [first_hit_rank(q, r["ranked"][:CUT]) for q, r in pairs]
    n = len(ranks)
    return {
        "accuracy@1": sum(1 for x in ranks if x == 1) / n,
        "accuracy@5": sum(1 for x in ranks if x and x <= 5) / n,
        "mrr@10": sum(1 / x for x in ranks if x) / n,
    }


def _listed(pairs: list[tuple[Question, dict]]) -> dict:
    """Set recall@10 (against min(|gold|, 10)) over every list question; shown precision over those
    the page answered."""
    recall = [min(q.gold_found(r["ranked"][:CUT]), CUT) / min(len(q.gold), CUT) for q, r in pairs]
    shown = [(q, r["shown"]) for q, r in pairs if r["answered"] and r["shown"]]
    precision = [sum(1 for h in hits if q.matches(h["text"], h.get("document"))) / len(hits) for q, hits in shown]
    return {"recall@10": sum(recall) / len(recall),
            "shown_precision": sum(precision) / len(precision) if precision else None,
            "shown": sum(len(hits) for _, hits in shown) / len(shown) if shown else None}


def abstention(pairs: list[tuple[Question, dict]]) -> dict:
    """Abstaining is the positive class: precision = abstentions that were right; `refused` = the
    share of answerable questions refused."""
    abstained = [q for q, r in pairs if not r["answered"]]
    unanswerable = [q for q, _ in pairs if not q.answerable]
    answerable = len(pairs) - len(unanswerable)
    right = [q for q in abstained if not q.answerable]
    wrong = len(abstained) - len(right)
    return {
        "abstained": len(abstained),
        "abstention_precision": len(right) / len(abstained) if abstained else None,
        "abstention_recall": len(right) / len(unanswerable) if unanswerable else None,
        "wrongly_refused": wrong,
        "refused": wrong / answerable if answerable else None,
    }


def summarize(questions: list[Question], results: list[dict]) -> dict:
    """Metrics per type, over the answerable single-answer questions ("single") and over all
    ("all"). `results` are the report's entries for these questions, in order."""
    if len(questions) != len(results):
        raise ValueError(f"{len(questions)} questions but {len(results)} results")
    groups: dict[str, list[tuple[Question, dict]]] = {}
    for q, r in zip(questions, results):
        if q.id != r["id"]:
            raise ValueError(f"result {r['id']!r} is not for question {q.id!r}")
        groups.setdefault(q.type, []).append((q, r))
        if q.type in SINGLE:
            groups.setdefault("single", []).append((q, r))
        groups.setdefault("all", []).append((q, r))
    out = {}
    for name in [t for t in (*TYPES, "single", "all") if t in groups]:
        pairs = groups[name]
        row: dict = {"questions": len(pairs), "answerable": sum(1 for q, _ in pairs if q.answerable)}
        if name in (*SINGLE, "single"):
            row.update(_ranked(pairs))
        elif name == LIST:
            row.update(_listed(pairs))
        row.update(abstention(pairs))
        out[name] = row
    return out
