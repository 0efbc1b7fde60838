"""Turn a plan (Markdown or plain text) into passages that know their chapter and section.

Structure is recognised by pattern, not by the number of `#`: chapters are `【…】` headings
(stray `□`, `[`, `]` around them, sometimes closed by `]`), sections are `N、…` headings.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

from .errors import SeedsError
from .records import Passage
from .text import dewrap, normalize

SEED_SUFFIXES = (".md", ".txt")

_CHAPTER = re.compile(r"^#*[\s□\[\]]*【(?P<title>.+?)[】\]]?[\s\]□]*$")
_SECTION = re.compile(r"^#*\s*(?P<no>\d{1,3})\s*[、.．]\s*(?P<title>\S.*)$")
_HEADING = re.compile(r"^#+\s*(?P<title>.*)$")
_SENTENCE_END = "。；！？;!?"
# A paragraph ending in one of these is a sentence broken across paragraphs, not a sentence end.
_CONTINUES = "、,，：:（(“《"
_CLAUSE = re.compile(r"[、,，：:；;]")


def parse_text(source: str, document: str) -> list[Passage]:
    """All passages of one document, in order."""
    title = ""
    chapter_no, chapter, section_no, section = 0, "", 0, ""
    ordinal, position = 0, 0
    passages: list[Passage] = []
    pending: tuple[int, int] | None = None  # a paragraph that continues into the next one

    def emit(start: int, end: int) -> None:
        nonlocal ordinal, position
        for s, e in _sentences(source, start, end):
            text = dewrap(source[s:e])
            if not _has_words(text):
                continue
            ordinal += 1
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
                chapter_no, chapter, section_no, section, ordinal = chapter_no + 1, name, 0, "", 0
            elif kind == "section":
                # A section number seen before in this chapter continues its count: ids stay unique.
                section_no, section = no, f"{no}、{name}"
                ordinal = sum(1 for q in passages if (q.chapter_no, q.section_no) == (chapter_no, no))
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
    if m and (line.startswith("#") or len(line) <= 40) and line[-1] not in _SENTENCE_END:
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
    """A seed file's text; a file that is not UTF-8 is refused with its name."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SeedsError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from e


def seed_files(seeds_dir: Path) -> list[Path]:
    """The plan files in a seeds folder, in name order."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise SeedsError(f"seeds folder not found: {seeds_dir}")
    files = sorted(p for p in seeds_dir.iterdir() if p.is_file() and p.suffix.lower() in SEED_SUFFIXES)
    if not files:
        raise SeedsError(f"no .md or .txt plan in {seeds_dir}")
    return files


def parse_seeds(seeds_dir: Path) -> list[Passage]:
    """Every passage of every plan in the seeds folder."""
    passages: list[Passage] = []
    for path in seed_files(seeds_dir):
        passages.extend(parse_text(read_seed(path), path.stem))
    if not passages:
        raise SeedsError(f"the plans in {seeds_dir} hold no sentences to index")
    return passages
