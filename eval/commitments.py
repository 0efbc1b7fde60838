"""The commitment extractor against the hand-made gold file, field by field.

eval/commitments_gold.jsonl holds one line per commitment (125 task sentences, two of them split
where the source lost a 。): {"id", "label", "quote", "milestone", "object": [acceptable spans],
"quantities": ["6所", …], "places": [...], "deadline"}. Records are matched by id; a quote that
differs from the extractor's is a mismatch of its own (the split went elsewhere).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

GOLD = Path(str(files("planqa.eval"))) / "commitments_gold.jsonl"
# The bar a change must clear (issue 10); tests/test_commitments_eval.py fails below it.
GATE = {"milestone accuracy": 0.95, "quantity precision": 0.95, "quantity recall": 0.95, "place recall": 0.90,
        "object exact match": 0.80}


def load_gold(path: Path = GOLD) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, got: Sequence[str], want: Sequence[str]) -> None:
        rest = list(want)
        for g in got:
            if g in rest:
                rest.remove(g)
                self.tp += 1
            else:
                self.fp += 1
        self.fn += len(rest)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    n: int = 0
    milestone: int = 0
    object: int = 0
    deadline: int = 0
    quote: int = 0
    quantities: Counts = field(default_factory=Counts)
    places: Counts = field(default_factory=Counts)
    errors: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        n = self.n or 1
        return {
            "milestone accuracy": self.milestone / n, "object exact match": self.object / n,
            "quantity precision": self.quantities.precision, "quantity recall": self.quantities.recall,
            "place precision": self.places.precision, "place recall": self.places.recall,
            "deadline accuracy": self.deadline / n, "quote (split) match": self.quote / n,
        }


def compare(commitments, gold: list[dict]) -> Report:
    """Score extracted commitments (records with id, quote, milestone, …) against the gold lines."""
    got = {c.id: c for c in commitments}
    r = Report()
    for g in gold:
        r.n += 1
        c = got.get(g["id"])
        if c is None:
            r.errors.append(f"{g['label']}: missing")
            r.quantities.add([], g["quantities"])
            r.places.add([], g["places"])
            continue
        r.quote += c.quote == g["quote"]
        _score(r, g, "milestone", c.milestone, g["milestone"], c.milestone == g["milestone"])
        _score(r, g, "object", c.object, g["object"], c.object in g["object"] or not g["object"] and not c.object)
        _score(r, g, "deadline", c.deadline.text, g["deadline"], c.deadline.text == g["deadline"])
        quantities = [q.value + q.unit for q in c.quantities]
        places = [p.name for p in c.places]
        r.quantities.add(quantities, g["quantities"])
        r.places.add(places, g["places"])
        for name, mine, want in (("quantities", quantities, g["quantities"]), ("places", places, g["places"])):
            if sorted(mine) != sorted(want):
                r.errors.append(f"{g['label']} {name}: got {mine}, gold {want}")
    r.n += sum(1 for c in commitments if c.id not in {g["id"] for g in gold})  # an extra split is an error too
    return r


def _score(r: Report, g: dict, name: str, mine, want, ok: bool) -> None:
    if ok:
        setattr(r, name, getattr(r, name) + 1)
    else:
        r.errors.append(f"{g['label']} {name}: got {mine!r}, gold {want!r}")


def gate_failures(report: Report) -> list[str]:
    m = report.metrics()
    return [f"{k} {m[k]:.3f} < {v}" for k, v in GATE.items() if m[k] < v]


def format_report(report: Report, show_errors: bool = False) -> str:
    lines = [f"commitments: {report.n} gold records", "field                  value"]
    lines += [f"{k:<22} {v:.3f}" for k, v in report.metrics().items()]
    if show_errors:
        lines += ["", *report.errors]
    return "\n".join(lines)


def evaluate(passages, gold_path: Path = GOLD) -> Report:
    from planqa.qa.commitments import extract_all

    return compare(extract_all(list(passages)), load_gold(gold_path))
