"""Fit the ranker's weights (index/ranker.json) on the dev questions, with cross-validation by question.

    python -m planqa.eval.fit [--folds 5] [--dry-run]

Each answerable dev question is read as the page reads it (a follow-up with the question before),
every candidate passage gets the features of index/rank.py, and a linear model is fitted so that
a softmax over a question's candidates puts its weight on the gold sentences (every gold sentence
of a list question). The L2 penalty is chosen by k-fold cross-validation over questions; the
numbers printed for the chosen penalty are the whole answer path (`answer`) run on each fold's
held-out questions with weights fitted on the other folds. The weights written are then fitted
on all of dev. The test split is never read.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
from planqa.index.rank import FEATURES, STAGE2, WEIGHTS, Ranker, section_mass
from planqa.index.search import Searcher

from .metrics import LIST, SINGLE, Question, summarize
from .run import load_split, run_question

LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
SEED = 9


@dataclass
class Sample:
    """One question's candidates: raw features, section ids, gold mask."""

    q: Question
    x: np.ndarray
    groups: np.ndarray
    gold: np.ndarray
    is_list: bool


class _Recorder:
    """Stands in for the ranker inside Searcher.search and keeps what it was given."""

    def __init__(self) -> None:
        self.seen: list[tuple[np.ndarray, np.ndarray, bool]] = []

    def score(self, x, groups, is_list):
        self.seen.append((x, groups, is_list))
        return np.zeros(len(x))


def collect(searcher: Searcher, questions: list[Question]) -> list[Sample]:
    """Features of every candidate of every answerable question, through the page's own path."""
    from planqa.index.query import analyze
    from planqa.qa.answer import _previous, clean_question, read_with_previous

    saved, rec = searcher.ranker, _Recorder()
    searcher.ranker = rec  # type: ignore[assignment]
    out = []
    try:
        for q in questions:
            if not q.answerable:
                continue
            rec.seen.clear()
            query = analyze(read_with_previous(clean_question(q.question), _previous(q.previous)))
            # Every candidate scores 0 with the recorder, so the hits come back in candidate order.
            hits = searcher.search(query, k=len(searcher.passages), mode="hybrid")
            x, groups, is_list = rec.seen[0]
            gold = np.array([q.matches(h.passage.text) for h in hits])
            if len(hits) != len(x) or not gold.any():
                continue  # the gold is not among the candidates: nothing to learn from
            out.append(Sample(q, x, groups, gold, is_list))
    finally:
        searcher.ranker = saved
    return out


def _loss(xs: list[np.ndarray], golds: list[np.ndarray], lam: float, w: np.ndarray) -> float:
    total = lam / 2 * float(w @ w)
    for x, gold in zip(xs, golds):
        s = x @ w
        total += _lse(s) - _lse(s[gold])
    return total


def _lse(s: np.ndarray) -> float:
    m = float(s.max())
    return m + float(np.log(np.exp(s - m).sum()))


def _newton(xs: list[np.ndarray], golds: list[np.ndarray], lam: float, dim: int, iters: int = 100) -> np.ndarray:
    """Minimise sum over questions of -log(softmax weight on gold) + lam/2 |w|^2 (Newton steps on
    the softmax's covariance, halved until the loss falls)."""
    w = np.zeros(dim)
    loss = _loss(xs, golds, lam, w)
    for _ in range(iters):
        g = lam * w
        h = lam * np.eye(dim)
        for x, gold in zip(xs, golds):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            sg = s[gold]
            pg = np.exp(sg - sg.max())
            pg /= pg.sum()
            mu = p @ x
            g += mu - pg @ x[gold]
            xc = x - mu
            h += (xc * p[:, None]).T @ xc
        step = np.linalg.solve(h, g)
        t = 1.0
        while t > 1e-4:
            new = _loss(xs, golds, lam, w - t * step)
            if new <= loss:
                break
            t /= 2
        else:
            break
        w, done = w - t * step, loss - new < 1e-9
        loss = new
        if done:
            break
    return w


def fit(samples: list[Sample], lam: float, measured: str = "") -> Ranker:
    allx = np.concatenate([s.x for s in samples])
    mean, scale = allx.mean(axis=0), allx.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    xs = [(s.x - mean) / scale for s in samples]
    w1 = _newton(xs, [s.gold for s in samples], lam, len(FEATURES))
    x2 = []
    for s, x in zip(samples, xs):
        s1 = x @ w1
        mass = section_mass(s1, s.groups)
        x2.append(np.stack([s1, mass, mass * float(s.is_list)], axis=1))
    w2 = _newton(x2, [s.gold for s in samples], 0.01, len(STAGE2))
    return Ranker(mean, scale, w1, w2, measured)


def folds_of(questions: list[Question], k: int) -> dict[str, int]:
    """Question id -> fold, dealt round-robin within each type after a seeded shuffle."""
    rng = np.random.default_rng(SEED)
    out: dict[str, int] = {}
    for typ in sorted({q.type for q in questions}):
        ids = [q.id for q in questions if q.type == typ]
        for i, j in enumerate(rng.permutation(len(ids))):
            out[ids[j]] = i % k
    return out


def _quick(r: Ranker, samples: list[Sample]) -> float:
    """Accuracy@1 over single-answer questions plus list recall@10, from the ranking alone."""
    acc, rec = [], []
    for s in samples:
        order = np.argsort(-r.score(s.x, s.groups, s.is_list), kind="stable")
        if s.q.type == LIST:
            rec.append(s.gold[order[:10]].sum() / min(s.gold.sum(), 10))
        elif s.q.type in SINGLE:
            acc.append(float(s.gold[order[0]]))
    return float(np.mean(acc)) + float(np.mean(rec)) if rec else float(np.mean(acc))


def cross_validate(searcher: Searcher, questions: list[Question], samples: list[Sample], k: int) -> dict:
    fold = folds_of(questions, k)
    scores = {}
    for lam in LAMBDAS:
        got = []
        for f in range(k):
            r = fit([s for s in samples if fold[s.q.id] != f], lam)
            got.append(_quick(r, [s for s in samples if fold[s.q.id] == f]))
        scores[lam] = float(np.mean(got))
    best = max(LAMBDAS, key=lambda lam: (round(scores[lam], 6), lam))
    entries: dict[str, dict] = {}
    saved = searcher.ranker
    try:
        for f in range(k):
            searcher.ranker = fit([s for s in samples if fold[s.q.id] != f], best)
            for q in questions:
                if fold[q.id] == f:
                    entries[q.id] = run_question(searcher, q, "hybrid")
    finally:
        searcher.ranker = saved
    metrics = summarize(questions, [entries[q.id] for q in questions])
    return {"lambda": best, "quick": scores, "metrics": metrics}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dry-run", action="store_true", help="cross-validate only; write no weights")
    args = parser.parse_args(argv)
    from planqa.index.embed import load_embedder
    from planqa.index.lexical import use_cache_dir

    from planqa.config import settings

    s = settings()
    use_cache_dir(s.cache)
    searcher = Searcher.load(s.index, s.seeds, s.model, embedder=load_embedder(s.model))
    questions = load_split("dev")
    t = time.perf_counter()
    samples = collect(searcher, questions)
    print(f"{len(samples)} answerable dev questions with their gold among the candidates "
          f"({time.perf_counter() - t:.1f} s)")
    cv = cross_validate(searcher, questions, samples, args.folds)
    print("quick cross-validated score per L2:", {k: round(v, 3) for k, v in cv["quick"].items()})
    print(f"chosen L2 {cv['lambda']}; {args.folds}-fold cross-validated dev metrics (whole answer path):")
    print(json.dumps(cv["metrics"], ensure_ascii=False, indent=1))
    ranker = fit(samples, cv["lambda"], measured=(
        f"fitted on eval/dev.jsonl ({len(samples)} answerable questions), L2 {cv['lambda']} chosen by "
        f"{args.folds}-fold cross-validation by question (python -m planqa.eval.fit)"))
    print("weights:", dict(zip(FEATURES, ranker.w1.round(3))), dict(zip(STAGE2, ranker.w2.round(3))))
    if not args.dry_run:
        WEIGHTS.write_text(json.dumps(ranker.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"written {WEIGHTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
