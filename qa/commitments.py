"""commitments: every task sentence of the plan as a commitment a journalist can check and cite.

Each record says how strong the promise is (milestone: in use > finished > started > ready for >
effort only > other), what it is about (object), how much (quantities), where (places) and by when
(deadline), and quotes the sentence as published, with the offsets of each field in the quote so
the page can highlight them. Two sentences the source ran together (no 。 between them) become two
records; the second keeps the sentence's id with "-2" after it. Rules: qa/extract.py, qa/objects.py,
qa/measures.py, qa/gazetteer.py; their words: qa/data/*.json.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from planqa.index.records import Passage, curly_quotes, ordinal_zh

from .extract import find_milestone, level, split_points
from .gazetteer import Gazetteer, Place
from .measures import Deadline, Quantity, find_deadline, find_quantities, find_typos, plan_year
from .objects import find_object
from .tagger import tag

MILESTONES = ("in_use", "finished", "started", "ready", "effort", "other")


@dataclass(frozen=True)
class Commitment:
    id: str  # the passage's id; "-2" appended for the second of two run-together sentences
    document: str
    doc_title: str  # "2024年工作的总体思路和主要任务"
    chapter_no: int  # 0 = the introduction
    chapter: str  # full chapter title: 第一部分【坚持以实施副中心控规为引领,…迈入新阶段】, or 引言
    section: str  # "2、全面促进社会保障体系普惠共享", "" when none
    quote: str  # the sentence (or its part) as published
    offset: int  # where the quote starts in the passage's text
    source_start: int  # the passage's offsets in the source file
    source_end: int
    milestone: str  # one of MILESTONES
    milestone_word: str  # as written: "投入运营", "具备通车条件"; "" for other
    milestone_span: tuple[int, int] | None  # offsets in the quote
    object: str
    object_span: tuple[int, int] | None
    quantities: tuple[Quantity, ...]
    places: tuple[Place, ...]
    deadline: Deadline
    notes: tuple[str, ...]  # what the source gets wrong or leaves out, said plainly

    @property
    def quantified(self) -> bool:
        return bool(self.quantities)

    @property
    def milestone_label(self) -> str:
        """"投用 in use" — the Chinese word and its meaning, as the table shows it."""
        m = level(self.milestone)
        return f"{m['label']} {m['meaning'].split(':')[0]}"

    @property
    def reference(self) -> str:
        return f"{self.chapter} › {self.section}" if self.section else self.chapter

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[-1]

    @property
    def citation(self) -> str:
        """What 复制引文 copies (as for answers): the quote, the plan, chapter title › section, and the id."""
        where = self.chapter + (f"› {self.section}" if self.section else "")
        return f"{self.quote}\n——《{self.doc_title}》{where}，编号 {self.short_id}"


def source_span(c: Commitment, source: str, span: tuple[int, int]) -> tuple[int, int]:
    """A field's span in the quote as offsets into the source file's text (which may wrap lines inside it)."""
    from planqa.index.text import dewrap_with_map

    _, where = dewrap_with_map(source[c.source_start:c.source_end])
    s, e = span[0] + c.offset, span[1] + c.offset
    return c.source_start + where[s], c.source_start + where[e - 1] + 1


def chapter_title(p: Passage) -> str:
    return "引言" if p.chapter_no == 0 else f"第{ordinal_zh(p.chapter_no)}部分【{curly_quotes(p.chapter)}】"


def read(p: Passage, gazetteer: Gazetteer, year: str) -> list[Commitment]:
    """The commitments one passage makes: one, or two where the source lost a 。 between them."""
    tokens = tag(p.text)
    cuts = [0, *split_points(p.text, tokens), len(p.text)]
    out = []
    for n, (s, e) in enumerate(zip(cuts, cuts[1:])):
        quote = p.text[s:e]
        toks = tag(quote)
        m = find_milestone(quote, toks)
        quantities = find_quantities(quote)
        obj = find_object(quote, toks, m, quantities)
        notes = [t.note for t in find_typos(quote)]
        quantities, lost = _orphans(quote, toks, quantities, obj)
        notes += lost
        out.append(Commitment(
            id=p.id if n == 0 else f"{p.id}-{n + 1}", document=p.document, doc_title=p.doc_title, chapter_no=p.chapter_no,
            chapter=chapter_title(p), section=p.section, quote=quote, offset=s, source_start=p.start, source_end=p.end,
            milestone=m.key, milestone_word=m.word, milestone_span=None if m.start is None else (m.start, m.end),
            object=quote[obj[0]:obj[1]] if obj else "", object_span=obj, quantities=quantities,
            places=gazetteer.find(quote), deadline=find_deadline(quote, year), notes=tuple(notes),
        ))
    return out


def _orphans(quote, tokens, quantities, obj) -> tuple[tuple[Quantity, ...], list[str]]:
    """Name what each count counts; a count at the end of a sentence the source cut short has no verb."""
    out, notes = [], []
    for q in quantities:
        after = [t for t in tokens if t.start >= q.end]
        noun = ""
        for t in after:
            if not (t.flag.startswith("n") or t.flag in ("j", "vn")):
                break
            noun += t.word
        if not noun:  # "增加学前学位1080个": the noun stands before the count
            for t in reversed([t for t in tokens if t.end <= q.start]):
                if not (t.flag.startswith("n") or t.flag == "j"):
                    break
                noun = t.word + noun
        out.append(Quantity(q.value, q.unit, q.qualifier, q.start, q.end, noun))
        verbless = not any(t.flag == "v" for t in after)
        if noun and verbless and quote[-1] not in "。；;！？" and q.start > 0 and quote[q.start - 1] == "、":
            notes.append(f"原文句末缺字：“{q.text}{noun}”没有动词，计划未说明对其做什么")
    return tuple(out), notes


_cache: dict[tuple[str, ...], list[Commitment]] = {}
_cache_lock = threading.Lock()


def extract_all(passages: Sequence[Passage]) -> list[Commitment]:
    """Every commitment of `passages`, in plan order (read once per set of passages)."""
    key = tuple(p.id for p in passages)
    with _cache_lock:
        if key not in _cache:
            gazetteer = Gazetteer.build(passages)
            year = plan_year(passages[0].doc_title) if passages else ""
            _cache.clear()
            _cache[key] = [c for p in passages for c in read(p, gazetteer, year)]
        return _cache[key]


def extract(passage: Passage, passages: Sequence[Passage] | None = None) -> list[Commitment]:
    """The commitments of one passage, read with the gazetteer of its plan (`passages`, default: itself)."""
    return [c for c in extract_all(list(passages or [passage])) if c.id == passage.id or c.id.startswith(passage.id + "-")]


from .export import CSV_COLUMNS, as_rows, to_csv  # noqa: E402
from .filters import commitment_dicts, commitments  # noqa: E402  (the filters read this module's records)

__all__ = ["CSV_COLUMNS", "Commitment", "MILESTONES", "as_rows", "commitment_dicts", "commitments", "extract", "extract_all",
           "read", "source_span", "to_csv"]


def chapters(passages: Iterable[Passage]) -> list[tuple[int, str]]:
    """(number, full title) of every chapter, the introduction as 0."""
    return list(dict.fromkeys((p.chapter_no, chapter_title(p)) for p in passages))
