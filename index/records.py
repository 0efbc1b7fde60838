"""Plain records passed between parse, build, search and answer."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .errors import InputError

CHINESE_ORDINALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Passage:
    """One task sentence, with where it stands in the plan.

    `text` is the sentence as published (line-wrap whitespace removed, nothing else changed);
    `start`/`end` are character offsets of the sentence in the source file's text.
    """

    id: str  # "document:6.2-1b8e0c": chapter.section and a hash of the sentence (see parse._stable_ids)
    document: str
    doc_title: str
    chapter_no: int  # 0 = the document's introduction
    chapter: str  # cleaned chapter title, "" for the introduction
    section_no: int  # 0 = text between a chapter heading and its first section
    section: str  # "1、高质高效筑牢城市框架", "" when outside a section
    ordinal: int  # position within its section, from 1
    position: int  # position within the document, from 0
    text: str
    start: int
    end: int

    @property
    def chapter_label(self) -> str:
        """`第六部分【坚持以“人民对美好生活的向往”为导向…】`, or `引言` for the introduction."""
        if self.chapter_no == 0:
            return "引言"
        return f"第{ordinal_zh(self.chapter_no)}部分【{short_title(self.chapter)}】"

    @property
    def label(self) -> str:
        """Where the sentence stands, for people: "6.2.3" = chapter 6, section 2, third sentence.

        Not an id: it moves when the parser splits a sentence before it differently."""
        return f"{self.chapter_no}.{self.section_no}.{self.ordinal}"

    @property
    def short_id(self) -> str:
        """The id without the document's name: "6.2-1b8e0c"."""
        return self.id.split(":", 1)[-1]

    @property
    def reference(self) -> str:
        """Chapter › section, the citation shown beside every quote."""
        if self.section:
            return f"{self.chapter_label} › {self.section}"
        return self.chapter_label

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Passage:
        return cls(**d)


def ordinal_zh(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 23 -> 二十三 (chapter numbers)."""
    if n <= 10:
        return CHINESE_ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_ORDINALS[tens - 1]
    return head + "十" + (CHINESE_ORDINALS[ones - 1] if ones else "")


def curly_quotes(s: str) -> str:
    """Pair straight double quotes into “ ” for display labels."""
    out, opening = [], True
    for ch in s:
        if ch == '"':
            out.append("“" if opening else "”")
            opening = not opening
        else:
            out.append(ch)
    return "".join(out)


def short_title(title: str) -> str:
    """A chapter title up to its first comma, with an ellipsis when cut."""
    for i, ch in enumerate(title):
        if ch in ",，":
            return curly_quotes(title[:i]) + "…"
    return curly_quotes(title)


def check_chapter(chapter: int | None, chapters) -> int | None:
    """`chapter` if the plan has it: None = all, 0 = the introduction, 1..N = the chapters.

    One meaning for the command line, the page and the API; anything else is an InputError naming
    the valid range. `chapters` are the chapter numbers the plan's passages carry."""
    if chapter is None:
        return None
    last = max(chapters, default=0)
    if isinstance(chapter, bool) or not isinstance(chapter, int) or not 0 <= chapter <= last:
        raise InputError(f"chapter must be 0 (the introduction) to {last}, got {chapter}")
    return chapter
