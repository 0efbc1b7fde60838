"""commitments: every task sentence of the plan as one row of a table for journalists.

Each row says what is promised (action verbs), how much (quantities), where (places) and quotes
the sentence as published, so a reporter can check a year later whether it happened. Every passage
the parser yields is a row, the introduction and chapter leads included: the table hides nothing,
and rows without a measurable target are flagged rather than dropped.
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from planqa.index.records import Passage
from planqa.index.text import normalize

# Verbs that name a deliverable one can check, not the plan's generic "推进/加快/推动".
# Compounds come first in spirit: the longest match wins, so "竣工通车" is one action, not two.
ACTIONS = (
    "完工通车", "竣工通车", "竣工投用", "开工建设", "投入使用", "投入运营",
    "完工", "竣工", "开工", "通车", "通航", "新建", "新开", "新增", "完成", "启动", "建成",
    "达产", "量产", "开放", "改扩建", "改造", "提升", "建设", "落地", "供地", "入市", "覆盖",
    "引进", "承接", "举办", "筹办", "搬迁", "腾退", "整治", "加固", "置换",
)
# Words of this plan that contain an action but are nouns or slogans ("覆盖率" is a rate, "建设用地"
# a land category, "先行启动区" a zone's name, "开放聚势" a slogan); skipped so they do not read as promises.
NOT_ACTIONS = (
    "覆盖率", "建设用地", "落地转化率", "启动区", "改革开放", "对外开放", "扩大开放", "开放聚势", "开放乐享",
    "党的建设", "作风建设",
)

# Places as the plan writes them: towns, functional areas, rivers, roads and the neighbouring
# Hebei/Tianjin jurisdictions. Left out on purpose: names that would tag nearly every row (通州,
# 副中心, 北京, 京津冀) and names that only occur inside a facility's name (玉桥小学, 亦庄水厂,
# 白庙南综合检查站). Towns' project names reduce to the town ("张家湾设计小镇" -> 张家湾).
PLACES = (
    # towns and townships
    "马驹桥镇", "张家湾", "宋庄", "台湖", "漷县镇", "西集镇", "于家务乡", "永乐店新市镇", "潞城镇", "南部乡镇",
    # functional areas and districts
    "运河商务区", "文化旅游区", "文旅区", "城市绿心", "环球影城", "九棵树", "万象汇", "新华片区", "漷牛片区",
    "中心城区", "雄安新区",
    # rivers
    "大运河", "北运河", "潮白河", "萧太后河", "通惠河", "温潮减河",
    # roads
    "东六环", "通清路", "厂通路", "九德路", "孔兴路", "春明路", "黄瓜园中街", "潞苑一街", "南大街",
    # neighbours across the border
    "北三县", "三河", "大厂", "香河", "廊坊", "武清", "通武廊",
)

# Measure words that make an Arabic number a quantity; longest first so "平方米" beats "米".
UNITS = ("平方公里", "平方米", "公里", "千伏", "千瓦", "公顷", "人次", "亿元", "万元", "元", "亩", "米", "吨",
         "%", "％", "人", "个", "所", "座", "条", "宗", "家", "项", "处", "辆", "张", "套", "户", "名", "台", "栋", "间")
QUALIFIERS = ("不少于", "不低于", "不超过", "超过", "达到", "累计", "约")


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ACTION = re.compile(f"{_alternation(NOT_ACTIONS)}|(?P<action>{_alternation(ACTIONS)})")
_PLACE = re.compile(_alternation(PLACES))
# Only Arabic numbers directly followed by a measure word are quantities. So "2024年", "22号线",
# "11311", "3+1" are not (no measure word), and Chinese numerals never are: in this plan they are
# fixed phrases ("三个关系", "一批", "一体化", "两区"), ordinals ("二期", "第一棒", "第二批", "十周年")
# or counts of items the sentence names one by one ("两个国家医学中心" = 北大人民医院、东直门医院),
# while targets are written in digits ("6所", "1080个"). A qualifier may stand before an action
# verb ("累计完工500万平方米"): it still bounds the number, so it is kept.
_QUANTITY = re.compile(
    f"(?:(?P<qualifier>{_alternation(QUALIFIERS)})(?:{_alternation(ACTIONS)})?)?"
    f"(?<![\\d.])(?P<value>\\d+(?:\\.\\d+)?[万亿]?)(?P<unit>{_alternation(UNITS)})"
)

CSV_COLUMNS = (
    "章节 chapter", "小节 section", "动作 actions", "数量 quantities", "地点 places",
    "无量化目标 no_target", "原文 quote", "编号 id",
)
JOIN = "；"  # the Chinese list separator; never the CSV comma, so a cell reads the same in any program


@dataclass(frozen=True)
class Quantity:
    value: str  # as written: "500万", "1.5万", "65"
    unit: str  # "平方米", "人", "%"
    qualifier: str = ""  # "不少于", "超过", "累计", or ""

    @property
    def text(self) -> str:
        """"不少于1.5万人", "超过65%", "64座"."""
        return f"{self.qualifier}{self.value}{self.unit}"


@dataclass(frozen=True)
class Commitment:
    id: str
    document: str
    chapter_no: int
    chapter: str  # the passage's chapter_label
    section: str  # "2、全面促进社会保障体系普惠共享", "" when none
    actions: tuple[str, ...]
    quantities: tuple[Quantity, ...]
    places: tuple[str, ...]
    quantified: bool  # False: the sentence sets no measurable target
    quote: str  # the sentence as published

    @property
    def reference(self) -> str:
        """Chapter › section, as beside every quote in answers."""
        return f"{self.chapter} › {self.section}" if self.section else self.chapter


def find_actions(text: str) -> tuple[str, ...]:
    """Action verbs in order of first appearance, longest match, no duplicates."""
    found = (m.group("action") for m in _ACTION.finditer(text) if m.group("action"))
    return tuple(dict.fromkeys(found))


def find_quantities(text: str) -> tuple[Quantity, ...]:
    return tuple(Quantity(m.group("value"), m.group("unit"), m.group("qualifier") or "") for m in _QUANTITY.finditer(text))


def find_places(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(0) for m in _PLACE.finditer(text)))


def extract(passage: Passage) -> Commitment:
    """The commitment one passage makes."""
    quantities = find_quantities(passage.text)
    return Commitment(
        id=passage.id, document=passage.document, chapter_no=passage.chapter_no,
        chapter=passage.chapter_label, section=passage.section,
        actions=find_actions(passage.text), quantities=quantities, places=find_places(passage.text),
        quantified=bool(quantities), quote=passage.text,
    )


def commitments(passages: Iterable[Passage], chapter: int | None = None, grep: str | None = None) -> list[Commitment]:
    """The rows for `passages`, in plan order; `chapter` keeps one chapter (0 = introduction),
    `grep` keeps rows whose quote, places or section contain it (normalized, case-insensitive).
    A blank `grep` filters nothing, as an empty search box lists everything."""
    if chapter is not None and chapter < 0:
        raise ValueError(f"chapter must be >= 0 (0 is the introduction), got {chapter}")
    needle = normalize(grep) if grep is not None else ""
    rows = []
    for p in passages:
        if chapter is not None and p.chapter_no != chapter:
            continue
        row = extract(p)
        if needle and not any(needle in normalize(field) for field in (row.quote, row.section, *row.places)):
            continue
        rows.append(row)
    return rows


def as_rows(rows: Iterable[Commitment]) -> list[list[str]]:
    """The table's cells under CSV_COLUMNS, multi-values joined with "；"."""
    return [
        [c.chapter, c.section, JOIN.join(c.actions), JOIN.join(q.text for q in c.quantities),
         JOIN.join(c.places), "否" if c.quantified else "是", c.quote, c.id]
        for c in rows
    ]


def to_csv(rows: Iterable[Commitment], path_or_file: str | os.PathLike | IO) -> int:
    """Write the table as UTF-8 with a BOM (spreadsheet programs then read the Chinese right) to a
    path, a text file or a binary file. Returns the number of rows written."""
    cells = as_rows(rows)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", encoding="utf-8-sig", newline="") as f:
            _write(f, cells, bom=False)  # utf-8-sig writes the BOM itself
    elif isinstance(path_or_file, io.RawIOBase | io.BufferedIOBase):
        text = io.TextIOWrapper(path_or_file, encoding="utf-8", newline="", write_through=True)
        _write(text, cells, bom=True)
        text.detach()  # leave the caller's binary file open
    else:
        _write(path_or_file, cells, bom=True)
    return len(cells)


def _write(f: IO[str], cells: list[list[str]], bom: bool) -> None:
    if bom:
        f.write("\ufeff")
    writer = csv.writer(f)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(cells)
