"""IR metrics over a report: anyone can recompute them from the questions and the hits."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from planqa.index.text import normalize

TYPES = ("fact", "paraphrase", "entity", "english", "chapter", "unanswerable")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: tuple[str, ...]
    type: str
    document: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    def matches(self, text: str, document: str | None = None) -> bool:
        """A passage is a hit when its normalised text contains a gold substring."""
        if self.document and document and document != self.document:
            return False
        norm = normalize(text)
        return any(normalize(g) in norm for g in self.gold)


def load_questions(path: Path) -> list[Question]:
    """Questions from a JSONL file; a bad line is reported with its number."""
    questions, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                q = Question(id=str(d["id"]), question=str(d["question"]), gold=tuple(d["gold"]),
                             type=str(d.get("type", "fact")), document=d.get("document"))
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{no}: not a question object ({e})") from e
            if q.id in seen:
                raise ValueError(f"{path}:{no}: duplicate id {q.id!r}")
            seen.add(q.id)
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


def ndcg(q: Question, hits: list[dict], k: int, relevant: int) -> float:
    """Binary-relevance nDCG@k; `relevant` is how many passages of the index contain a gold."""
    gains = [1.0 if q.matches(h["text"], h.get("document")) else 0.0 for h in hits[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(max(relevant, 1), k)))
    return dcg / ideal


def summarize(questions: list[Question], results: list[dict], k: int = 5) -> dict:
    """Metrics overall and per type. `results` are the report's per-question entries, in order."""
    groups: dict[str, list[tuple[Question, dict]]] = {}
    for q, r in zip(questions, results):
        groups.setdefault(q.type, []).append((q, r))
        groups.setdefault("overall", []).append((q, r))
    out = {}
    for name, pairs in groups.items():
        answerable = [(q, r) for q, r in pairs if q.answerable]
        row: dict = {"questions": len(pairs), "answerable": len(answerable)}
        if answerable:
            ranks = [first_hit_rank(q, r["hits"][:10]) for q, r in answerable]
            for cut in (1, 3, k):
                row[f"accuracy@{cut}"] = sum(1 for x in ranks if x and x <= cut) / len(ranks)
            row["mrr@10"] = sum(1 / x for x in ranks if x) / len(ranks)
            row[f"ndcg@{k}"] = sum(ndcg(q, r["hits"], k, r.get("relevant", 1)) for q, r in answerable) / len(answerable)
        if any("answered" in r for _, r in pairs):
            row.update(abstention(pairs))
        out[name] = row
    return out


def abstention(pairs: list[tuple[Question, dict]]) -> dict:
    """Abstaining is the positive class: precision = abstentions that were right."""
    abstained = [q for q, r in pairs if not r.get("answered", True)]
    unanswerable = [q for q, _ in pairs if not q.answerable]
    right = [q for q in abstained if not q.answerable]
    return {
        "abstained": len(abstained),
        "abstention_precision": len(right) / len(abstained) if abstained else None,
        "abstention_recall": len(right) / len(unanswerable) if unanswerable else None,
        "wrongly_rejected": len(abstained) - len(right),
    }
