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
import dataclasses
import json
import time
from dataclasses import dataclass

import numpy as np
from planqa.index.rank import FEATURES, STAGE2, WEIGHTS, Ranker, section_mass
from planqa.index.search import Searcher

from .metrics import CUT, LIST, SINGLE, Question, summarize
from .run import load_split, run_question

LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
# Stage 2's L2 (three weights): the strongest within NOISE of the best cross-validated score
# (about two single-answer questions in 300), so that a difference the folds cannot tell apart does not
# decide the sign of a section's weight.
LAMBDAS2 = (0.01, 0.1, 1.0, 10.0)
NOISE = 0.006
SEED = 9
# For the stricter cross-validation (--group-by-gold): question id -> group, all questions about
# one gold sentence in the same fold (gold_groups).
GROUPS: dict[str, str] = {}


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


def fit(samples: list[Sample], lam: float, lam2: float = 0.01, measured: str = "") -> Ranker:
    """Stage 1 with L2 `lam`, then stage 2 (STAGE2) on its scores with L2 `lam2`."""
    allx = np.concatenate([s.x for s in samples])
    mean, scale = allx.mean(axis=0), allx.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    xs = [(s.x - mean) / scale for s in samples]
    w1 = _newton(xs, [s.gold for s in samples], lam, allx.shape[1])
    x2 = []
    for s, x in zip(samples, xs):
        s1 = x @ w1
        mass = section_mass(s1, s.groups)
        x2.append(np.stack([s1, mass, mass * float(s.is_list)], axis=1))
    w2 = _newton(x2, [s.gold for s in samples], lam2, len(STAGE2))
    return Ranker(mean, scale, w1, w2, measured)


def folds_of(questions: list[Question], k: int, seed: int = SEED) -> dict[str, int]:
    """Question id -> fold, dealt round-robin within each type after a seeded shuffle; with GROUPS,
    whole groups, largest first, each to the fold with the fewest questions so far."""
    rng = np.random.default_rng(seed)
    out: dict[str, int] = {}
    if GROUPS:
        groups: dict[str, list[str]] = {}
        for q in questions:
            groups.setdefault(GROUPS.get(q.id, q.id), []).append(q.id)
        keys = sorted(groups)
        keys = [keys[i] for i in rng.permutation(len(keys))]
        size = [0] * k
        for g in sorted(keys, key=lambda g: -len(groups[g])):
            f = min(range(k), key=lambda f: (size[f], f))
            size[f] += len(groups[g])
            out.update({i: f for i in groups[g]})
        return out
    for typ in sorted({q.type for q in questions}):
        ids = [q.id for q in questions if q.type == typ]
        for i, j in enumerate(rng.permutation(len(ids))):
            out[ids[j]] = i % k
    return out


def gold_groups(searcher: Searcher, questions: list[Question]) -> dict[str, str]:
    """Question id -> group: single-answer questions that share a gold sentence (transitively)
    share a group; a list question is a group of its own (joined, its sentences would make one
    group of most of dev)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    for q in questions:
        for p in searcher.passages:
            if q.type in SINGLE and q.matches(p.text):
                parent[find(q.id)] = find("p:" + p.id)
    return {q.id: find(q.id) for q in questions}


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


def choose_lambda(questions: list[Question], samples: list[Sample], k: int
                  ) -> tuple[tuple[float, float], dict]:
    """(stage 1's L2, stage 2's L2) by k-fold cross-validation (`_quick`): stage 1's best, then the
    strongest stage-2 penalty whose score is within NOISE of the best one's."""
    fold = folds_of(questions, k)

    def score(lam: float, lam2: float) -> float:
        got = []
        for f in range(k):
            r = fit([s for s in samples if fold[s.q.id] != f], lam, lam2)
            got.append(_quick(r, [s for s in samples if fold[s.q.id] == f]))
        return float(np.mean(got))

    scores = {lam: score(lam, LAMBDAS2[0]) for lam in LAMBDAS}
    best = max(LAMBDAS, key=lambda lam: (round(scores[lam], 6), lam))
    second = {lam2: score(best, lam2) for lam2 in LAMBDAS2}
    top = max(second.values())
    best2 = max(lam2 for lam2, v in second.items() if v >= top - NOISE)
    return (best, best2), {"stage1": scores, "stage2": second}


def cross_validate(searcher: Searcher, questions: list[Question], samples: list[Sample], k: int,
                   abstainers: dict | None = None) -> dict:
    """The whole answer path on each fold's questions with the ranker (and, given its `threshold`,
    the abstainer) fitted on the other folds."""
    from planqa.qa import rules

    fold = folds_of(questions, k)
    best, scores = choose_lambda(questions, samples, k)
    entries: dict[str, dict] = {}
    saved, saved_load = searcher.ranker, rules.load_abstainer
    try:
        for f in range(k):
            searcher.ranker = fit([s for s in samples if fold[s.q.id] != f], *best)
            if abstainers is not None:
                rules.load_abstainer = lambda model=abstainers[f]: model  # type: ignore[assignment]
            for q in questions:
                if fold[q.id] == f:
                    entries[q.id] = run_question(searcher, q, "rules" if abstainers is None else "hybrid")
    finally:
        searcher.ranker, rules.load_abstainer = saved, saved_load
    metrics = summarize(questions, [entries[q.id] for q in questions])
    return {"lambda": best, "quick": scores, "metrics": metrics}


# The learned abstainer (qa/rules.py): L2 of its logistic regression, and the most answerable dev
# questions it may refuse (out of fold, the certain rules' refusals included). 1%: on dev (870
# questions, nested 5-fold) it keeps nearly the recall of 1.5% (0.891 against 0.907) at half the
# refusals (0.8% against 1.5%), and questions written later are refused about three times as often
# as cross-validation says (eval/README.md, Round 6).
ABSTAIN_L2S = (1.0, 3.0, 10.0, 30.0)
MAX_REFUSED = 0.01
CAPS = (0.005, 0.015, 0.02, 0.025, 0.03)  # also printed, for the comparison in eval/README.md


@dataclass
class Judged:
    """One question's abstention inputs under a cross-validated ranker: refused by a certain rule
    (an unknown name, a question that says nothing), else the abstainer's features."""

    q: Question
    ruled: bool
    x: np.ndarray | None


def judged(searcher: Searcher, q: Question) -> Judged:
    """The answer path up to the abstainer's decision (qa/answer.py: answer, judge)."""
    from planqa.index.errors import InputError
    from planqa.index.query import analyze
    from planqa.qa import rules
    from planqa.qa.answer import _previous, _search, clean_question, read_with_previous

    try:
        text = clean_question(q.question)
    except InputError:
        return Judged(q, True, None)
    read = read_with_previous(text, _previous(q.previous))
    query = analyze(read)
    own = analyze(text) if read != text else None
    hits = _search(searcher, query, CUT, "hybrid", q.chapter)
    coverage = searcher.coverage(query, second=True)
    english = searcher.terms.get("english", {})
    if not hits or rules.unknown_names(query, coverage.corpus_text, english.keys()) or rules.says_nothing(query, hits):
        return Judged(q, True, None)
    return Judged(q, False, rules.abstain_features(query, hits, coverage, own, english.keys()))


def fit_abstainer(items: list[Judged], lam: float = 10.0):
    """Logistic regression (refuse = the plan does not answer) by Newton's method, standardised."""
    from planqa.qa.rules import Abstainer

    xs = np.stack([j.x for j in items])
    y = np.array([0.0 if j.q.answerable else 1.0 for j in items])
    mean, scale = xs.mean(axis=0), xs.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.hstack([(xs - mean) / scale, np.ones((len(xs), 1))])
    w = np.zeros(z.shape[1])
    reg = lam * np.eye(z.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(z @ w)))
        g = z.T @ (p - y) + reg @ w
        h = (z * (p * (1 - p))[:, None]).T @ z + reg
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Abstainer(mean, scale, w[:-1], float(w[-1]), 0.5)


def threshold_for(probs: list[tuple[Judged, float | None]], max_refused: float = MAX_REFUSED) -> float:
    """The lowest threshold at which at most `max_refused` of the answerable questions are refused
    (the certain rules' refusals counted first)."""
    answerable = [(j, p) for j, p in probs if j.q.answerable]
    allowed = int(np.floor(max_refused * len(answerable))) - sum(1 for j, _ in answerable if j.ruled)
    scores = sorted((p for j, p in answerable if not j.ruled), reverse=True)
    if allowed < 0:
        return 1.0 + 1e-9
    # Refuse p >= t: t just above the (allowed+1)-th highest answerable probability.
    return float(np.nextafter(scores[allowed], 1.0)) if allowed < len(scores) else 0.0


def choose_abstainer(items: list[Judged], k: int, max_refused: float = MAX_REFUSED, seed: int = SEED
                     ) -> tuple[float, float, dict]:
    """(L2, threshold, out-of-fold probabilities) chosen on `items` alone by k-fold cross-validation:
    each L2's out-of-fold probabilities, the threshold at which at most `max_refused` of the
    answerable ones are refused, and the L2 whose threshold refuses the most unanswerable ones
    (a tie goes to the stronger penalty)."""
    fold = folds_of([j.q for j in items], k, seed)
    best = None
    for lam in ABSTAIN_L2S:
        probs = {}
        for f in range(k):
            model = fit_abstainer([j for j in items if not j.ruled and fold[j.q.id] != f], lam)
            probs.update({j.q.id: None if j.ruled else model.probability(j.x) for j in items if fold[j.q.id] == f})
        pairs = [(j, probs[j.q.id]) for j in items]
        t = threshold_for(pairs, max_refused)
        recall = float(np.mean([j.ruled or p >= t for j, p in pairs if not j.q.answerable]))
        if best is None or recall >= best[0]:
            best = (recall, lam, t, probs)
    return best[1], best[2], best[3]


def cross_validate_abstainer(searcher: Searcher, questions: list[Question], samples: list[Sample],
                             lam: float, k: int, max_refused: float = MAX_REFUSED) -> tuple[float, dict]:
    """Nested cross-validation of the abstainer: each fold's questions ranked by a ranker fitted on
    the other folds, and judged by an abstainer whose L2 and threshold were chosen, and whose
    weights were fitted, on the other folds only (choose_abstainer); abstention recall and
    answerable refused over all folds. Then the L2 and threshold for the weights written,
    chosen the same way on all of dev."""
    fold = folds_of(questions, k)
    saved = searcher.ranker
    items: list[Judged] = []
    try:
        for f in range(k):
            searcher.ranker = fit([s for s in samples if fold[s.q.id] != f], *lam)
            items += [judged(searcher, q) for q in questions if fold[q.id] == f]
    finally:
        searcher.ranker = saved
    models, refused, chosen = {}, [], []
    for f in range(k):
        train = [j for j in items if fold[j.q.id] != f]
        a_lam, t, _ = choose_abstainer(train, k - 1, max_refused)
        chosen.append((a_lam, round(t, 3)))
        models[f] = dataclasses.replace(fit_abstainer([j for j in train if not j.ruled], a_lam), threshold=t)
        refused += [(j, j.ruled or models[f].refuses(j.x)) for j in items if fold[j.q.id] == f]
    recall = float(np.mean([r for j, r in refused if not j.q.answerable]))
    ans = float(np.mean([r for j, r in refused if j.q.answerable]))
    a_lam, t, _ = choose_abstainer(items, k, max_refused)
    return t, {"threshold": round(t, 4), "abstention_recall": round(recall, 3), "l2": a_lam,
               "answerable_refused": round(ans, 3), "ruled": sum(j.ruled for j in items),
               "per_fold": chosen, "items": items, "models": models}


def table(metrics: dict) -> str:
    """The numbers eval/README.md's "Levers" quotes, one line a group."""
    lines = []
    for group, row in metrics.items():
        keys = ("accuracy@1", "accuracy@5", "recall@10", "shown_precision", "abstention_recall",
                "abstention_precision", "refused")
        got = {k: row[k] for k in keys if row.get(k) is not None}
        lines.append(f"{group:28} " + "  ".join(f"{k} {v:.3f}" for k, v in got.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dry-run", action="store_true", help="cross-validate only; write no weights")
    parser.add_argument("--group-by-gold", action="store_true", help="folds keep all questions about one gold "
                        "sentence together: the lower bound for questions about sentences dev never asked about")
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
    if args.group_by_gold:
        GROUPS.update(gold_groups(searcher, questions))
        print(f"folds by gold sentence: {len(set(GROUPS.values()))} groups")
    print(f"{len(samples)} answerable dev questions with their gold among the candidates "
          f"({time.perf_counter() - t:.1f} s)")
    lam, quick = choose_lambda(questions, samples, args.folds)
    print("quick cross-validated score per L2:", {stage: {k: round(v, 3) for k, v in got.items()}
                                                   for stage, got in quick.items()})
    for cap in CAPS:
        if cap != MAX_REFUSED:
            _, other = cross_validate_abstainer(searcher, questions, samples, lam, args.folds, cap)
            print(f"abstainer at most {cap:.1%} refused (nested {args.folds}-fold): abstention recall "
                  f"{other['abstention_recall']}, answerable refused {other['answerable_refused']}")
    t, ab = cross_validate_abstainer(searcher, questions, samples, lam, args.folds)
    print(f"abstainer at most {MAX_REFUSED:.1%} refused (nested {args.folds}-fold: L2 and threshold per fold "
          f"{ab['per_fold']}): abstention recall {ab['abstention_recall']}, answerable refused "
          f"{ab['answerable_refused']}, {ab['ruled']} refused by the certain rules; on all of dev: L2 {ab['l2']}, "
          f"threshold {t:.4f}")
    print(f"chosen L2 {lam}; {args.folds}-fold cross-validated dev metrics (whole answer path), "
          "refusing by the rules (mode rules):")
    print(table(cross_validate(searcher, questions, samples, args.folds)["metrics"]))
    print("the same, refusing by the fitted abstainer (hybrid):")
    print(table(cross_validate(searcher, questions, samples, args.folds, abstainers=ab["models"])["metrics"]))
    ranker = fit(samples, *lam, measured=(
        f"fitted on eval/dev.jsonl ({len(samples)} answerable questions), L2 {lam} chosen by "
        f"{args.folds}-fold cross-validation by question (python -m planqa.eval.fit)"))
    print("weights:", dict(zip(FEATURES, ranker.w1.round(3))), dict(zip(STAGE2, ranker.w2.round(3))))
    items = [j for j in ab["items"] if not j.ruled]
    abstainer = dataclasses.replace(fit_abstainer(items, ab["l2"]), threshold=t, measured=(
        f"fitted on eval/dev.jsonl ({len(items)} questions, rankings out of fold), L2 {ab['l2']} and threshold chosen by "
        f"{args.folds}-fold cross-validation so that at most {MAX_REFUSED:.1%} of answerable dev questions "
        f"are refused; nested cross-validation: abstention recall {ab['abstention_recall']}, answerable refused "
        f"{ab['answerable_refused']} (python -m planqa.eval.fit)"))
    from planqa.qa.rules import ABSTAIN_FEATURES, ABSTAINER

    print("abstainer:", dict(zip(ABSTAIN_FEATURES, abstainer.w.round(3))), round(abstainer.b, 3))
    if not args.dry_run:
        WEIGHTS.write_text(json.dumps(ranker.to_json(), indent=1) + "\n", encoding="utf-8")
        ABSTAINER.write_text(json.dumps(abstainer.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"written {WEIGHTS} and {ABSTAINER}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
