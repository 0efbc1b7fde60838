"""Place names for the commitments table: a gazetteer built from the plan itself plus a general list.

From the plan: runs of name-like words (jieba's part-of-speech tags) that end in a place ending
(镇, 乡, 河, 路, 片区, 开发区…), a proper name followed by "…小镇/古镇" (the town's name), and a
proper name standing before "等商圈/等水系…". From the general list: China's provinces, cities
and counties (the `cpca` package's table), full names and short forms ("香河县" -> "香河"), kept to
the provinces the plan names in full. Names that frame the whole plan (its own district, found as
the places most of its sentences mention) are left out: a tag on every row tells nobody anything.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from planqa.index.records import Passage

from .tagger import Token, tag

WORDS = Path(__file__).with_name("data") / "place_words.json"
ADMIN_ENDINGS = ("回族自治县", "自治县", "自治区", "特别行政区", "省", "市", "县", "区")
QUOTED = re.compile(r'"[^"]*"|“[^”]*”')  # slogans and brands; 《titles》 may name real places


@lru_cache(maxsize=1)
def words() -> dict:
    return json.loads(WORDS.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Place:
    name: str
    start: int  # offsets in the quote
    end: int


def general_places() -> list[tuple[str, str]]:
    """(adcode, name) of every province, city and county in cpca's table; [] when cpca is missing."""
    from importlib import metadata

    try:
        path = Path(str(metadata.distribution("cpca").locate_file("cpca/resources/adcodes.csv")))
        with path.open(encoding="utf-8") as f:
            return [(row["adcode"], row["name"]) for row in csv.DictReader(f)]
    except (metadata.PackageNotFoundError, OSError):
        return []


def in_named_provinces(text: str) -> list[tuple[str, str]]:
    """(adcode, name) of the provinces `text` names in full and of their cities and counties."""
    table = general_places()
    provinces = {code[:2] for code, name in table if code[2:6] == "0000" and name in text}
    return [(code, name) for code, name in table if code[:2] in provinces]


def short_name(name: str) -> str:
    """A place's name without its administrative ending ("香河县" -> "香河"), when two characters stay."""
    for ending in ADMIN_ENDINGS:
        if name.endswith(ending) and len(name) - len(ending) >= 2:
            return name[: -len(ending)]
    return name


def _general(text: str, tokens: set[str]) -> set[str]:
    """General-list names in `text`: full names of places in the provinces the text names in full,
    and short forms of their cities and counties where jieba reads them as words of their own
    ("香河" yes; "安新" inside "雄安新区" no)."""
    found = set()
    for code, name in in_named_provinces(text):
        if name in text:
            found.add(name)
        short = short_name(name)
        if code[2:6] != "0000" and short != name and short in tokens:
            found.add(short)
    return found


def _mask_slogan(m: re.Match) -> str:
    inner = m.group(0)[1:-1]
    return f"，{inner}，" if "×" in inner else "，" * len(m.group(0))  # "环球影城×大运河" pairs two places


def _is_admin(name: str) -> bool:
    """A full administrative name ("通州区", "河北省") ends a run: the next word is another place."""
    return len(name) >= 3 and name[-1] in "省市区县"


def _from_tags(tokens: list[Token]) -> set[str]:
    w = words()
    suffixes = sorted(w["suffixes"], key=len, reverse=True)
    proper, name_tags, stop = set(w["proper_tags"]), set(w["name_tags"]), set(w["org_after"])
    found: set[str] = set()
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        named = t.flag in proper and (len(t.word) >= 2 or t.flag == "yg")
        if named and len(t.word) >= 2:
            ahead = []
            for u in tokens[i + 1:i + 5]:
                if u.flag == "x":
                    break
                ahead.append(u.word)
            if ahead and ahead[-1] in ("小镇", "古镇") or "小镇" in ahead or "古镇" in ahead:
                found.add(t.word)  # "宋庄艺术创意小镇" names the town 宋庄
                continue
            if nxt and nxt.word == "等" and i + 2 < len(tokens) and tokens[i + 2].word in w["category_nouns"]:
                found.add(t.word)  # "九棵树等商圈": a name standing for one of a category of places
        zone = (t.flag[0] in "naj" and len(t.word) >= 2 and nxt is not None and nxt.word in w["zone_suffixes"]
                and t.word not in w["generic_modifiers"])  # "运河"+"商务区", "雄安"+"新区"
        town = (len(t.word) == 1 and t.flag in ("nz", "yg", "ns") or t.flag == "f") and nxt is not None and nxt.word[-1] in "镇乡"
        # a common noun heading a name: "国家"+"网络安全"+"产业园区"
        head = t.word in w["generic_modifiers"] and nxt is not None and nxt.flag in ("nz", "ns") and len(nxt.word) >= 2
        if not (named or zone or town or head):
            continue
        run, place = "", ""
        for j in range(i, min(i + 6, len(tokens))):
            u = tokens[j]
            ending = len(u.word) <= 2 and u.word[-1] in "站路河镇乡村街湖"  # "潞城"+"站", "温潮"+"减河", whatever jieba tags them
            if j > i and (u.flag not in name_tags and not ending or u.word in stop or _is_admin(run) or _is_org(u.word)):
                break
            run += u.word
            if len(run) >= 3 and any(run.endswith(s) for s in suffixes):
                place = run  # and go on: "产业园" + "区" is one name
        if place:
            found.add(place)
    return found


def _siblings(texts: list[str], found: set[str]) -> set[str]:
    """Items of a "、" list that end like a place named beside them ("通清路、厂通路", "黄瓜园中街、潞苑一街")."""
    more = set()
    for text in texts:
        for run in re.split(r"[，,；;。：:]", text):
            items = [re.sub(r"等.*$", "", i) for i in re.split(r"[、和及]", run)]
            endings = {i[-1] for i in items if any(i.endswith(f) for f in found)}
            for item in items:
                if (item and item[-1] in endings and 3 <= len(item) <= 5 and not any(item.endswith(f) for f in found)
                        and _is_name(item)):
                    more.add(item)
    return more


def _is_name(s: str) -> bool:
    """Not a phrase with a verb in it ("开工建设春明路" is not a name)."""
    tokens = tag(s)
    return tokens[0].flag not in ("p", "c") and not any(t.flag in ("v", "vn") and len(t.word) >= 2 for t in tokens)


def _is_org(name: str) -> bool:
    return any(name.endswith(h) for h in words()["org_heads"])


@dataclass(frozen=True)
class Gazetteer:
    names: tuple[str, ...]  # longest first

    @classmethod
    def build(cls, passages: Iterable[Passage]) -> Gazetteer:
        passages = list(passages)
        texts = [p.text for p in passages] + sorted({p.section for p in passages} | {p.chapter for p in passages})
        found: set[str] = set()
        words_seen: set[str] = set()
        for text in texts:
            tokens = tag(QUOTED.sub(_mask_slogan, text))
            words_seen.update(t.word for t in tokens)
            found |= _from_tags(tokens)
        found |= _general("\n".join(texts), words_seen)
        found |= _siblings(texts, found)
        frame = set(words()["frame"])
        share = Counter(n for p in passages for n in found if short_name(n) in p.text)
        # The plan's own district: named in a large share of its sentences (通州 in this plan).
        frame |= {n for n, c in share.items() if c >= words()["frame_share"] * len(passages)}
        kept = {n for n in found if n not in frame and not _is_org(n)}
        return cls(tuple(sorted(kept, key=lambda n: (-len(n), n))))

    def find(self, text: str) -> tuple[Place, ...]:
        """Places in `text`, longest match first, outside quotation marks and titles, in order of appearance."""
        taken = [False] * len(text)
        for m in QUOTED.finditer(text):
            if "×" not in m.group(0):  # slogans and brands, except "环球影城×大运河", which pairs two places
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
        found: list[Place] = []
        for name in self.names:
            for m in re.finditer(re.escape(name), text):
                if not any(taken[m.start():m.end()]):
                    taken[m.start():m.end()] = [True] * len(name)
                    found.append(Place(name, m.start(), m.end()))
        found.sort(key=lambda p: p.start)
        unique: dict[str, Place] = {}
        for p in found:
            unique.setdefault(p.name, p)
        return tuple(unique.values())
