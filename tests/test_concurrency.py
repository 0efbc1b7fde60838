"""Many users at once: 16 threads asking together get exactly what one thread gets.

The reference is computed one question at a time; the threads then run on a second searcher
loaded from the same index, whose query-vector cache starts empty, so the model, FAISS, BM25 and
jieba all really run concurrently rather than answering from a cache.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import SEEDS
from planqa.index.errors import InputError
from planqa.index.search import Searcher
from planqa.qa.answer import answer
from planqa.qa.app import respond

THREADS = 16
ROUNDS = 3
# (question, chapter): answered, abstained, English, full-width digits, filtered, refused.
QUESTIONS = [
    ("今年新建多少家养老服务驿站？", None),
    ("东六环入地改造什么时候通车？", None),
    ("老旧小区改造有多少个？", None),
    ("How many public kindergartens will open?", None),
    ("地铁M101线什么时候开通？", None),
    ("新建１０家养老服务驿站", None),
    ("养老", 3),
    ("张家湾今年有哪些项目？", 7),
    ("？！。", None),
    ("副中心" * 200, None),
]


def outcome(searcher: Searcher, question: str, chapter: int | None):
    try:
        a = answer(searcher, question, k=5, chapter=chapter)
    except InputError as e:
        return ("refused", str(e))
    hits = [(h.passage.id, h.score, h.dense, h.lexical, h.terms) for h in a.hits]
    raw = [(h.passage.id, h.score) for h in searcher.search(question, k=10, chapter=chapter)]
    return (a.answered, a.message, hits, raw)


def run_together(fn, jobs):
    """Each of THREADS threads runs every job ROUNDS times, in its own order, all starting at once."""
    start = threading.Barrier(THREADS)

    def worker(t: int):
        start.wait()
        order = jobs[t % len(jobs):] + jobs[:t % len(jobs)]
        return [(job, fn(*job)) for _ in range(ROUNDS) for job in order]

    with ThreadPoolExecutor(THREADS) as pool:
        return [r for rs in pool.map(worker, range(THREADS)) for r in rs]


@pytest.fixture()
def cold(index_root) -> Searcher:
    return Searcher.load(index_root, SEEDS)


def test_sixteen_threads_answer_exactly_as_one(searcher, cold):
    expected = {(q, c): outcome(searcher, q, c) for q, c in QUESTIONS}
    assert expected[QUESTIONS[0]][0] is True and expected[QUESTIONS[4]][0] is False  # the set covers both
    results = run_together(lambda q, c: outcome(cold, q, c), QUESTIONS)
    assert len(results) == THREADS * ROUNDS * len(QUESTIONS)
    for job, got in results:
        assert got == expected[job], job


def test_sixteen_threads_through_the_page_handler(searcher, cold):
    jobs = [(q, c or 0) for q, c in QUESTIONS]
    expected = {job: respond(searcher, job[0], [], job[1], 5) for job in jobs}
    for job, got in run_together(lambda q, c: respond(cold, q, [], c, 5), jobs):
        assert got == expected[job], job
