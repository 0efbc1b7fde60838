"""docs/benchmarks.md's second-encoder section is generated from bench/results.json ("use_latency"),
like the others, and survives both ways of writing the report."""
from __future__ import annotations

import copy

from bench import report, use_latency

RUN = {
    "command": "python -m bench.use_latency", "date": "2026-11-30 02:00 UTC", "passes": 1, "questions": 438,
    "english_questions": 60, "machine": {"commit": "abc1234", "load_average_at_start": [0.5, 0.7, 0.9]},
    "load_average_at_end": [1.1, 0.8, 0.9],
    "build": {"seconds": 6.5, "passages": 125, "e5_passages_per_s": 40.0, "use_passages_per_s": 800.0},
    "latency": {mode: {"idle": {"n": 438, "p50": 20.0 + i, "p95": 30.0}, "english": {"n": 60, "p50": 25.0 + i, "p95": 35.0},
                       "busy": {"n": 438, "p50": 40.0, "p95": 60.0}, "cached": {"n": 438, "p50": 0.4, "p95": 0.5},
                       "busy_english": {"n": 60, "p50": 41.0, "p95": 61.0}, "busy_cached": {"n": 438, "p50": 0.5, "p95": 0.6}}
                for i, mode in enumerate(use_latency.MODES)},
    "use_threads": {k: {"1": {"n": 438, "p50": 2.0, "p95": 3.0, "max": 9.0}, "2": {"n": 438, "p50": 7.7, "p95": 20.0, "max": 136.0}}
                    for k in ("idle", "busy")},
    "cold_ask": {"command": "planqa ask \"今年新建几家养老服务驿站？\"",
                 "runs": [{"wall_s": 1.01, "cpu_s": 0.9, "peak_rss_mb": 284, "load1": 0.5},
                          {"wall_s": 0.98, "cpu_s": 0.88, "peak_rss_mb": 285, "load1": 0.5},
                          {"wall_s": 1.05, "cpu_s": 0.91, "peak_rss_mb": 284, "load1": 0.6}],
                 "first": {"wall_s": 4.2, "cpu_s": 3.9, "peak_rss_mb": 380, "load1": 0.6}},
}


def test_the_section_holds_the_three_rankings_from_one_run():
    lines = report.use_section({"use_latency": RUN})
    assert lines[0] == "## Second encoder (USE): new-question latency and build throughput"
    rows = [line for line in lines if line.startswith("| ")]
    assert rows == [
        "| what | idle p50 / p95 ms | English idle p50 / p95 ms | busy p50 / p95 ms | cached p50 / p95 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| e5 + BM25 (the hybrid before issue 9) | 20.0 / 30.0 | 25.0 / 35.0 | 40.0 / 60.0 | 0.40 / 0.50 |",
        "| hand: e5 + 0.2·USE + BM25 + bridges | 21.0 / 30.0 | 26.0 / 35.0 | 40.0 / 60.0 | 0.40 / 0.50 |",
        "| hybrid (now): fitted ranker + English rendered in Chinese | 22.0 / 30.0 | 27.0 / 35.0 | 40.0 / 60.0 | 0.40 / 0.50 |",
    ]
    text = "\n".join(lines)
    assert "e5 40.0 passages/s, USE 800.0 passages/s" in text
    assert "1 thread idle 2.0 / 3.0 / 9.0, busy 2.0 / 3.0 / 9.0; 2 threads idle 7.7 / 20.0 / 136" in text
    assert "3 runs: 1.01 / 0.98 / 1.05 s (CPU 0.90 / 0.88 / 0.91 s; peak RSS 285 MB; load average 0.5 / 0.5 / 0.6" in text
    assert "empty cache folder took 4.20 s" in text and "**Load.**" not in text
    assert report.use_section({}) == []


def test_the_report_and_bench_use_latency_write_the_same_block(tmp_path):
    results = {"use_latency": RUN}
    block = "\n".join([report.USE_START, *report.use_section(results), report.USE_END])
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Scale\n\ntext\n\n<!-- plansize: written by python -m bench.plansize -->\nP\n"
                    "<!-- /plansize -->\n", encoding="utf-8")
    use_latency.write_docs(results, docs)
    first = docs.read_text(encoding="utf-8")
    assert first.index("## Scale") < first.index(block) < first.index("<!-- plansize")
    later = copy.deepcopy(results)
    later["use_latency"]["build"]["seconds"] = 7.25
    use_latency.write_docs(later, docs)  # the block is replaced, the rest kept
    second = docs.read_text(encoding="utf-8")
    assert second.count(report.USE_START) == 1 and "7.25 s" in second and "6.50 s" not in second
    assert second.replace("7.25 s", "6.50 s") == first
