"""The `planqa` command: index, ask, eval, serve, commitments, export-model.

Library errors (PlanQAError) become a one-line message and a non-zero exit here and nowhere else.
Each command imports only what it needs: `ask` never imports gradio or torch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from planqa.config import Settings, settings
from planqa.index.errors import IndexBusyError, IndexMissingError, IndexOutdatedError, InputError, PlanQAError
from planqa.index.records import check_chapter

EXIT_INPUT = 2
EXIT_ERROR = 1


INDEX_HELP = "index folder (default: PLANQA_INDEX, or index/ in planqa's cache folder)"
CHAPTER_HELP = "only this chapter: 0 = the introduction, 1..N = the plan's chapters (default: all)"
SEEDS_HELP = "folder of plan files (default: PLANQA_SEEDS, or the plan that ships with planqa)"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    p.add_argument("--seeds", type=Path, default=None, help=SEEDS_HELP)
    p.add_argument("--model", default=None,
                   help="e5-small-q4 (bundled, default) or a sentence-transformers model name or folder (PLANQA_MODEL)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="planqa", description="Search and quote the district work plan.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index from the seeds folder")
    p.add_argument("--seeds", type=Path, default=None, help=SEEDS_HELP)
    p.add_argument("--out", type=Path, default=None, help=INDEX_HELP)
    p.add_argument("--model", default=None)

    p = sub.add_parser("ask", help="answer a question with quotes from the plan")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5, help="passages to show (default 5)")
    p.add_argument("--chapter", type=int, default=None, help=CHAPTER_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _common(p)

    p = sub.add_parser("eval", help="retrieval accuracy on a question set; non-zero exit below the gate")
    p.add_argument("--split", choices=("dev", "test", "all"), default="test",
                   help="which half of eval/ to run (default test, which the gate judges; tune on dev)")
    p.add_argument("--questions", type=Path, default=None, help="a JSONL question file instead of a split")
    p.add_argument("--retriever", action="append", default=None,
                   help="repeatable (hybrid, dense, bm25, …); default: every retriever side by side")
    p.add_argument("--report", type=Path, default=None, help="write the full report as JSON")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown (for eval/README.md)")
    p.add_argument("--no-gate", action="store_true", help="print the metrics without failing below the gate")
    p.add_argument("--commitments", action="store_true",
                   help="score the commitment extractor against eval/commitments_gold.jsonl instead (precision/recall per field)")
    _common(p)

    p = sub.add_parser("serve", help="run the chat page (builds the index first when missing)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    _common(p)

    p = sub.add_parser("commitments", help="every task sentence as a commitment: milestone, object, quantities, places, quote")
    p.add_argument("--csv", type=Path, default=None, help="write a CSV file (UTF-8 with BOM) instead of printing")
    p.add_argument("--xlsx", type=Path, default=None, help="write an Excel file instead of printing")
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    p.add_argument("--chapter", type=int, default=None, help=CHAPTER_HELP)
    p.add_argument("--grep", "--keyword", dest="grep", default=None,
                   help="only rows whose quote, object, place or section contains this word or a narrower one (学校 -> 小学…)")
    p.add_argument("--milestone", default=None,
                   help="done (完成/投用), begun (开工及以上), in_use, finished, started, ready, effort or other")
    p.add_argument("--quantified", action="store_true", help="only commitments with a quantified target")
    p.add_argument("--seeds", type=Path, default=None, help=SEEDS_HELP)

    p = sub.add_parser("export-model", help="write the bundled multilingual-e5-small as a sentence-transformers folder")
    p.add_argument("dir", type=Path)
    return ap


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.settings = _resolve(args, settings(env))
        return COMMANDS[args.command](args)
    except InputError as e:
        print(f"planqa: {e}", file=sys.stderr)
        return EXIT_INPUT
    except PlanQAError as e:
        print(f"planqa: {e}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as e:
        # The disk, not planqa: an unwritable --out, a full disk, a folder where a file should be.
        print(f"planqa: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _progress(msg: str) -> None:
    print(f"planqa: {msg}", file=sys.stderr, flush=True)


def _resolve(args: argparse.Namespace, s: Settings) -> Settings:
    """The settings with this command's options applied (an option beats the environment)."""
    from dataclasses import replace

    from planqa.index.lexical import use_cache_dir

    use_cache_dir(s.cache)
    index = getattr(args, "index", None) or getattr(args, "out", None)
    return replace(s, seeds=getattr(args, "seeds", None) or s.seeds, index=index or s.index,
                   model=getattr(args, "model", None) or s.model)


def _embedder(s: Settings):
    from planqa.index.embed import load_embedder

    return load_embedder(s.model, s.query_threads, s.build_threads)


def open_searcher(args: argparse.Namespace):
    """The index named by the options; built first when there is none yet.

    Two processes that find no index at once (two first questions) do not both build: the one
    that gets the build lock builds, the other waits for it and then reads what it built."""
    from planqa.index.build import build_index
    from planqa.index.search import Searcher
    from planqa.index.store import wait_for_build

    s = args.settings
    try:
        return Searcher.load(s.index, s.seeds, s.model, embedder=_embedder(s))
    except (IndexMissingError, IndexOutdatedError) as e:
        if isinstance(e, IndexOutdatedError):  # built by an earlier planqa: the same seeds, rebuilt
            _progress(f"the index at {s.index} was built by an earlier planqa; rebuilding it from {s.seeds}")
        else:
            _progress(f"no index at {s.index} yet; building it from {s.seeds} (once, about a minute)")
        try:
            build_index(s.seeds, s.index, s.model, progress=_progress, embedder=_embedder(s))
        except IndexBusyError:
            _progress(f"another planqa is building {s.index}; waiting for it")
            wait_for_build(s.index)
        return Searcher.load(s.index, s.seeds, s.model, embedder=_embedder(s))


def cmd_index(args: argparse.Namespace) -> int:
    from planqa.index.build import build_index

    s = args.settings
    build_index(s.seeds, s.index, s.model, progress=_progress, embedder=_embedder(s))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from planqa.qa.answer import answer, clean_question
    from planqa.qa.render import answer_json, answer_text

    if args.k < 1:
        raise InputError(f"--k must be >= 1, got {args.k}")
    clean_question(args.question)  # a bad question is refused before the index is opened
    searcher = open_searcher(args)  # the first question builds the index, with progress on stderr
    check_chapter(args.chapter, {p.chapter_no for p in searcher.passages})
    result = answer(searcher, args.question, k=args.k, chapter=args.chapter)
    if args.json:
        print(json.dumps(answer_json(result), ensure_ascii=False))
    else:
        print(answer_text(result, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.commitments:
        return eval_commitments(args)
    from planqa.eval.run import evaluate, format_table, gate_failures, load_questions, load_split, write_report
    from planqa.index.search import MODES

    modes = tuple(dict.fromkeys(args.retriever or MODES))
    for m in modes:
        if m not in MODES:
            raise InputError(f"--retriever must be one of {', '.join(MODES)}, got {m!r}")
    try:
        questions = load_questions(args.questions) if args.questions else load_split(args.split)
    except (OSError, ValueError) as e:
        raise InputError(str(e)) from e
    searcher = open_searcher(args)
    report = evaluate(searcher, questions, modes)
    print(format_table(report, markdown=args.markdown))
    if args.report:
        write_report(report, args.report)
        print(f"\nreport written to {args.report}")
    failures = [] if args.no_gate else gate_failures(report)
    for f in failures:
        print(f"GATE FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def cmd_serve(args: argparse.Namespace) -> int:
    searcher = open_searcher(args)
    from planqa.qa.app import launch

    if args.host not in LOOPBACK:
        _progress(f"warning: {args.host} lets other machines reach the page directly, without TLS or rate "
                  "limits; keep 127.0.0.1 and put nginx in front (docs/deploy.md)")
    _progress(f"chat page on http://{args.host}:{args.port} (Ctrl+C to stop)")
    launch(searcher, args.settings, host=args.host, port=args.port)
    return 0


def eval_commitments(args: argparse.Namespace) -> int:
    from planqa.eval.commitments import evaluate, format_report, gate_failures
    from planqa.index.parse import parse_seeds

    report = evaluate(parse_seeds(args.settings.seeds))
    print(format_report(report, show_errors=True))
    failures = [] if args.no_gate else gate_failures(report)
    for f in failures:
        print(f"GATE FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


def cmd_commitments(args: argparse.Namespace) -> int:
    from planqa.index.parse import parse_seeds
    from planqa.qa.commitments import CSV_COLUMNS, as_rows, commitment_dicts, commitments, to_csv
    from planqa.qa.export import to_xlsx

    passages = parse_seeds(args.settings.seeds)
    check_chapter(args.chapter, {p.chapter_no for p in passages})
    filters = {"chapter": args.chapter, "keyword": args.grep, "milestone": args.milestone, "quantified_only": args.quantified}
    if args.json:
        print(json.dumps(commitment_dicts(passages, **filters), ensure_ascii=False, indent=1))
        return 0
    rows = commitments(passages, **filters)
    for path, write in ((args.csv, to_csv), (args.xlsx, to_xlsx)):
        if path:
            write(rows, path)
            _progress(f"{len(rows)} rows written to {path}")
    if args.csv or args.xlsx:
        return 0
    print("\t".join(CSV_COLUMNS))
    for row in as_rows(rows):
        print("\t".join(cell.replace("\t", " ") for cell in row))
    return 0


def cmd_export_model(args: argparse.Namespace) -> int:
    try:
        from planqa.index.st_export import export_model
    except ImportError as e:
        raise PlanQAError(f"export-model needs sentence-transformers: pip install 'planqa[st]' ({e})") from e
    _progress(f"exporting e5-small-q4 to {args.dir}")
    try:
        out = export_model(args.dir)
    except ImportError as e:
        raise PlanQAError(f"export-model needs sentence-transformers: pip install 'planqa[st]' ({e})") from e
    _progress(f"done: load it with SentenceTransformer({str(out)!r}) or planqa --model {out}")
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "serve": cmd_serve, "commitments": cmd_commitments,
            "export-model": cmd_export_model}
