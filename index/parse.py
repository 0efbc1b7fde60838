"""Turn a plan (Markdown or plain text) into passages that know their chapter and section.

Structure is recognised by pattern, not by the number of `#`: chapters are `【…】` headings
(stray `□`, `[`, `]` around them, sometimes closed by `]`), sections are `N、…` headings.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .errors import SeedsError, os_cause, os_fix
from .records import Passage
from .text import dewrap, normalize

SEED_SUFFIXES = (".md", ".txt")
# Past this a seeds folder is refused before it is read: 64 MB of plans is some 2 million passages,
# days of embedding on two cores (docs/benchmarks.md, "Plan size"). The build's own limit is in
# build.py (MAX_PASSAGES); this one only keeps a mistaken folder from being read into memory.
MAX_SEEDS_BYTES = 64_000_000
# A seeds folder of several files says how far parsing got at most every 5 s (parsing runs at
# 0.6 to 0.9 s per MB, docs/benchmarks.md "Plan size", so a 64 MB folder prints some ten lines): chosen.
PROGRESS_SECONDS = 5.0

_CHAPTER = re.compile(r"^#*[\s□\[\]]*【(?P<title>.+?)[】\]]?[\s\]□]*$")
_SECTION = re.compile(r"^#*\s*(?P<no>\d{1,3})\s*[、.．]\s*(?P<title>\S.*)$")
_HEADING = re.compile(r"^#+\s*(?P<title>.*)$")
_SENTENCE_END = "。；！？;!?"
# A numbered line without a "#" is a section heading only up to this length (longer ones are numbered
# sentences): the plan's longest section heading is 32 characters with its "#### " (27 without),
# and 40 leaves room for another plan's. Chosen from the plan, not measured on others.
MAX_BARE_HEADING_CHARS = 40
# A paragraph ending in one of these is a sentence broken across paragraphs, not a sentence end.
_CONTINUES = "、,，：:（(“《"
_CLAUSE = re.compile(r"[、,，：:；;]")
# A "sentence" longer than this (in source characters) is cut into pieces: the encoder's time
# grows with length (a 10,000-character run took 62.6 s to embed, issue 13) and a whole page is
# no quote. The plan's longest sentence has 199 characters.
MAX_PASSAGE_CHARS = 300
# Where a long sentence is cut, best first: after a clause mark, then an enumeration comma or a
# colon, then a space; failing all three, at the limit itself.
_CUT_AT = ("，；,;", "、：:", " \t\u3000")


def parse_text(source: str, document: str) -> list[Passage]:
    """All passages of one document, in order."""
    title = ""
    chapter_no, chapter, section_no, section = 0, "", 0, ""
    position = 0
    # Passages so far per (chapter, section): a section number seen before in a chapter continues
    # its count, so ids stay unique. A counter, not a rescan: parsing stays linear in the plan.
    counts: dict[tuple[int, int], int] = {}
    passages: list[Passage] = []
    pending: tuple[int, int] | None = None  # a paragraph that continues into the next one

    def emit(start: int, end: int) -> None:
        nonlocal position
        for s, e in _pieces(source, _sentences(source, start, end)):
            text = dewrap(source[s:e])
            if not _has_words(text):
                continue
            ordinal = counts[chapter_no, section_no] = counts.get((chapter_no, section_no), 0) + 1
            passages.append(Passage(
                id="",  # set by _stable_ids once the whole document is read
                document=document, doc_title=title or document,
                chapter_no=chapter_no, chapter=chapter, section_no=section_no, section=section,
                ordinal=ordinal, position=position, text=text, start=s, end=e,
            ))
            position += 1

    offset = 0
    for line in source.splitlines(keepends=True):
        start, end = offset, offset + len(line.rstrip("\r\n"))
        offset += len(line)
        stripped = source[start:end].strip()
        if not stripped:
            continue
        heading = _classify(stripped)
        if heading is not None:
            if pending:
                emit(*pending)
                pending = None
            kind, no, name = heading
            if kind == "chapter":
                chapter_no, chapter, section_no, section = chapter_no + 1, name, 0, ""
            elif kind == "section":
                section_no, section = no, f"{no}、{name}"
            elif not title:
                title = name
            continue
        lead = start + (len(source[start:end]) - len(source[start:end].lstrip()))
        if pending:
            lead = pending[0]
            pending = None
        if _continues(stripped):
            pending = (lead, end)
        else:
            emit(lead, end)
    if pending:
        emit(*pending)
    return _stable_ids(passages)


ID_HASH_CHARS = 6  # hex digits of the sentence's hash: 16.7 million values, a clash is handled anyway


def _stable_ids(passages: list[Passage]) -> list[Passage]:
    """Give each passage an id that survives a reparse: `document:chapter.section-hash`.

    The hash is of the sentence's normalised text, so the id does not move when the parser splits a
    neighbouring sentence differently (an ordinal would). Two sentences of one section whose hashes
    clash get longer hashes; the same sentence twice in a section is told apart by `~2`, `~3`.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for i, p in enumerate(passages):
        groups.setdefault((p.chapter_no, p.section_no), []).append(i)
    ids = [""] * len(passages)
    for (chapter_no, section_no), members in groups.items():
        digests = [hashlib.sha1(normalize(passages[i].text).encode("utf-8")).hexdigest() for i in members]
        width = ID_HASH_CHARS
        while len({d[:width] for d in set(digests)}) < len(set(digests)):
            width += 2
        seen: dict[str, int] = {}
        for i, d in zip(members, digests):
            seen[d] = seen.get(d, 0) + 1
            repeat = f"~{seen[d]}" if seen[d] > 1 else ""
            ids[i] = f"{passages[i].document}:{chapter_no}.{section_no}-{d[:width]}{repeat}"
    return [replace(p, id=pid) for p, pid in zip(passages, ids)]


def _continues(paragraph: str) -> bool:
    """Whether a paragraph stops mid-sentence: on a comma, or on a one- or two-character
    tail after an enumeration comma ("…两个国家医学中心、区" + "疾控中心建设。")."""
    if paragraph[-1] in _CONTINUES:
        return True
    if paragraph[-1] in _SENTENCE_END:
        return False
    tail = _CLAUSE.split(dewrap(paragraph))[-1]
    return 0 < len(tail) <= 2 and tail != paragraph


def _classify(line: str) -> tuple[str, int, str] | None:
    m = _CHAPTER.match(line)
    if m and line.count("【") == 1:
        return "chapter", 0, dewrap(m.group("title")).strip("[]】□ ")
    m = _SECTION.match(line)
    if m and (line.startswith("#") or len(line) <= MAX_BARE_HEADING_CHARS) and line[-1] not in _SENTENCE_END:
        return "section", int(m.group("no")), dewrap(m.group("title"))
    m = _HEADING.match(line)
    if m:
        return "heading", 0, dewrap(m.group("title"))
    return None


def _sentences(source: str, start: int, end: int):
    """Spans of sentences in source[start:end], split after 。；！？ and trimmed of whitespace."""
    s = start
    for i in range(start, end):
        if source[i] in _SENTENCE_END:
            yield from _trim(source, s, i + 1)
            s = i + 1
    yield from _trim(source, s, end)


def _pieces(source: str, spans):
    """The spans, each sentence longer than MAX_PASSAGE_CHARS cut at its last clause mark that
    keeps a piece within the limit (see _CUT_AT)."""
    for s, e in spans:
        while e - s > MAX_PASSAGE_CHARS:
            window = source[s:s + MAX_PASSAGE_CHARS]
            cut = MAX_PASSAGE_CHARS
            for marks in _CUT_AT:
                at = max(window.rfind(m) for m in marks)
                if at > 0:
                    cut = at + 1
                    break
            yield from _trim(source, s, s + cut)
            s += cut
        yield from _trim(source, s, e)


def _trim(source: str, s: int, e: int):
    while s < e and source[s].isspace():
        s += 1
    while e > s and source[e - 1].isspace():
        e -= 1
    if s < e:
        yield s, e


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def read_seed(path: Path) -> str:
    """A seed file's text; a file that is not UTF-8, or cannot be read, is refused with its name."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SeedsError(f"cannot read the plan file {path}: {os_cause(e)}; {os_fix(e, path)}") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SeedsError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from e


Notice = Callable[[str], None]


def seed_documents(seeds_dir: Path, notice: Notice | None = None) -> list[tuple[Path, str]]:
    """(file, document name) of every plan under the seeds folder, subfolders included, in name order.

    A document is named by its path relative to the folder, without the suffix ("plan",
    "2023/plan"); files that would share a name ("plan.md" and "plan.txt") keep their suffixes.
    Skipped, each with one line to `notice`: hidden files and folders, symlinks that lead outside
    the seeds folder, symlinked folders (a loop, or the same plan twice), names with ":" (the
    separator in passage ids).
    """
    say = notice or (lambda _msg: None)
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise SeedsError(f"seeds folder not found: {seeds_dir}")
    top = seeds_dir.resolve()
    found: list[Path] = []
    for folder, dirs, files in os.walk(seeds_dir, onerror=_walk_error):
        here = Path(folder)
        for d in sorted(dirs):
            if d.startswith(".") or d == "__pycache__":
                dirs.remove(d)
            elif (here / d).is_symlink():
                dirs.remove(d)
                say(f"skipped {here / d}: a symlinked folder (copy the plans into the seeds folder instead)")
        dirs.sort()
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in SEED_SUFFIXES:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(top):
                say(f"skipped {path}: a symlink to {path.resolve()}, outside the seeds folder")
                continue
            if ":" in path.relative_to(seeds_dir).as_posix():
                say(f"skipped {path}: ':' in a plan's name would break its passage ids; rename it")
                continue
            if path.is_file():
                found.append(path)
    found.sort(key=lambda p: p.relative_to(seeds_dir).as_posix())
    if not found:
        raise SeedsError(f"no .md or .txt plan in {seeds_dir}")
    stems: dict[str, int] = {}
    for p in found:
        key = p.relative_to(seeds_dir).with_suffix("").as_posix()
        stems[key] = stems.get(key, 0) + 1
    out = []
    for p in found:
        rel = p.relative_to(seeds_dir)
        key = rel.with_suffix("").as_posix()
        out.append((p, key if stems[key] == 1 else rel.as_posix()))
    return out


def _walk_error(e: OSError) -> None:
    raise SeedsError(f"cannot read the seeds folder {e.filename}: {os_cause(e)}; {os_fix(e, e.filename)}") from e


def parse_seeds(seeds_dir: Path, progress: Notice | None = None) -> list[Passage]:
    """Every passage of every plan under the seeds folder; skipped files and progress go to `progress`."""
    say = progress or (lambda _msg: None)
    documents = seed_documents(seeds_dir, say)
    total = sum(path.stat().st_size for path, _ in documents)
    if total > MAX_SEEDS_BYTES:
        raise SeedsError(f"the plans in {seeds_dir} hold {total / 1e6:.1f} MB of text; planqa indexes at most "
                         f"{MAX_SEEDS_BYTES / 1e6:.0f} MB (see docs/benchmarks.md); split them into several indexes")
    if total > 1_000_000:  # some seconds of parsing: say so first
        say(f"parsing {len(documents)} plan file{'s' if len(documents) > 1 else ''}, {total / 1e6:.1f} MB")
    passages: list[Passage] = []
    done, last = 0, time.monotonic()
    for path, document in documents:
        passages.extend(parse_text(read_seed(path), document))
        done += path.stat().st_size
        if len(documents) > 1 and time.monotonic() - last > PROGRESS_SECONDS:
            say(f"parsing: {done / 1e6:.1f} of {total / 1e6:.1f} MB, {len(passages)} passages so far")
            last = time.monotonic()
    if not passages:
        raise SeedsError(f"the plans in {seeds_dir} hold no sentences to index")
    return passages
