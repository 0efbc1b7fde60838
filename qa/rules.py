"""The answer rules: whether a question asks for a list, and whether the plan covers it.

All of them read the analysed question (index/query.py) and the retrieval hits; none knows any
particular question. The words a plan-independent rule cannot know (place-like words that name
no place, times a one-year plan cannot speak for) are data files beside index/userdict.txt.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from planqa.index.expand import english_words
from planqa.index.lexical import DATA, read_words
from planqa.index.query import ASKS_NUMBER as _ASKS_NUMBER
from planqa.index.query import STATES_NUMBER as _STATES_NUMBER
from planqa.index.query import Query
from planqa.index.search import Coverage, Hit
from planqa.index.text import arabic_numerals, normalize

# Abstention, measured on eval/dev.jsonl (eval/README.md): the best passage must stand out from
# the rest of the plan (dense z-score; English questions score lower across languages) unless the
# question's keywords match strongly.
MIN_Z = 2.4
MIN_Z_ENGLISH = 2.0
STRONG_BM25 = 4.0
# Below this many passages a z-score against the rest of the plan means nothing.
MIN_BACKGROUND = 30

GENERIC_PLACES = read_words("generic_places.txt")
# One phrase a line ("next year").
OUT_OF_SCOPE = tuple(sorted({normalize(line.split("#", 1)[0].strip()) for line in
                             (DATA / "out_of_scope.txt").read_text(encoding="utf-8").splitlines()} - {""}))

# Places and codes the plan would name if it covered them: "朝阳区", "M101", "PM2.5", "2025年".
_ADMIN = re.compile(r"^(?P<stem>[\u4e00-\u9fff]{2,6}?)(?:新区|区|市|县|镇|乡|省|街道)$")
# Matched on the question before casefolding: acronyms (GDP) and letter-digit codes (M101, PM2.5),
# not ordinary words of a mixed-language question ("东六环 when 通车").
_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9.+]*[A-Z0-9](?![A-Za-z0-9])|[A-Za-z]+\d[A-Za-z0-9.]*|\d+号线|(?:19|20)\d\d(?=年)")
# English place names: "Chaoyang district", "Haidian".
_EN_PLACE = re.compile(r"\b([A-Z][a-z]+) (?:district|county|city)\b")
# A question that asks for a number is not answered by a passage that states none, and one that
# asks for money is not answered by a passage without an amount in 元.
_ASKS_MONEY = re.compile(r"多少钱|资金|经费|费用|收费|价格|均价|房价|票价|门票|预算|补贴|投资额|挣|工资|收入|什么价|交多少"
                         r"|budget|cost|price|rent|fee|subsid|funding|income|salary")
_ASKS_UNIT = re.compile(r"(?:多少|几)(?P<unit>[个所家条座项名张辆台栋处届期宗天])")
# Asks for a day or a date the plan would have to state: "哪天", "几月几号", "on what date".
_ASKS_DAY = re.compile(r"哪天|哪一天|几月|几号|几日|具体日期|什么日子|开幕日|what date|which day|on what day")
_STATES_DAY = re.compile(r"\d+月|\d+日|[一二三四五六七八九十]+月")
# Asks for a person: the plan names tasks, not people.
_ASKS_PERSON = re.compile(r"谁|哪位|叫什么名字|姓名|负责人|哪个部门|牵头|\bwho\b|in charge")
# What a one-year work plan states (tasks and targets) leaves out: reasons, how to apply, exact
# places and addresses, which company, clock times, the weather, today's statistics, how long a
# trip takes. Each is one of the fitted abstainer's features (ABSTAIN_FEATURES: asks_…), weighed
# on the dev questions; none refuses by itself.
ASKS = {
    "why": r"为什么|为啥|为何|什么原因|\bwhy\b",
    "procedure": r"需要(?:什么|哪些)|条件|材料|手续|报名|预约|挂号|办理|怎么(?:申请|办|买|交|去)"
                 r"|\bhow (?:do|can|should) (?:i|we)\b|\bapply\b|\bbook\b|sign up|register",
    "place_detail": r"哪些(?:街道|村|小区|地方)|哪几个|哪个(?:街道|村|小区)|分别在|具体在|在哪|哪里|\bwhere\b"
                    r"|which streets?|\baddress",
    "org": r"哪家|哪个公司|什么公司|哪些(?:企业|公司)|\b(?:which|what) compan",
    "clock": r"几点|开门|关门|营业时间|what time|opening hours|\bclose\b|\bopen\b",
    "forecast": r"天气|下雨|下雪|气温|刮风|热不热|特别热|weather|\brain\b|\bsnow|temperature",
    "stat_now": r"现在|目前|常住|人口|population|live in|\bcurrently\b",
    "duration": r"多久|多长时间|几分钟|几个小时|how long",
}
_ASKS = {k: re.compile(v, re.IGNORECASE) for k, v in ASKS.items()}
_NUMERAL = "0-9一二两三四五六七八九十百千万"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def is_list_question(query: Query) -> bool:
    """Asks for several things ("有哪些安排", "都做什么", "what are the …")."""
    return query.is_list


def unknown_names(query: Query, corpus_text: str, known: frozenset[str] | set[str] = frozenset()) -> tuple[str, ...]:
    """Places, codes and times in a question that the plan never mentions (`known`: lower-case
    words the index's English bridge maps to the plan's words, such as the acronym "ai")."""
    found = []
    if query.han:
        for tok in dict.fromkeys(query.tokens):
            m = _ADMIN.match(tok)
            if (m and tok not in corpus_text and m.group("stem") not in corpus_text
                    and tok not in GENERIC_PLACES and m.group("stem") not in GENERIC_PLACES):
                found.append(tok)
        wide = unicodedata.normalize("NFKC", query.text)
        found += [c for c in dict.fromkeys(_CODE.findall(wide))
                  if normalize(c) not in corpus_text and not (c.isalpha() and c.lower() in known)]
    else:
        found += [m for m in dict.fromkeys(_EN_PLACE.findall(query.text))]
        found += [c for c in dict.fromkeys(re.findall(r"\b(?:19|20)\d\d\b", query.text)) if c not in corpus_text]
    found += [w for w in OUT_OF_SCOPE if w in query.norm and w not in found]
    return tuple(found)


# The learned abstainer (the fitted ranker's modes): a logistic regression over what the best
# candidates and the question say (ABSTAIN_FEATURES), fitted with its threshold by
# `python -m planqa.eval.fit` on the dev questions; the weights are data beside this module.
ABSTAINER = Path(__file__).with_name("data") / "abstainer.json"
ABSTAIN_FEATURES = (
    "top_score", "margin", "top_share", "e5_z", "use_z", "bm25",
    "words_in_plan", "words_in_top", "chars_in_top", "english", "list", "followup",
    "money_unstated", "day_unstated", "asks_person", "number_unstated", "unit_unstated", "rate_unstated",
    "rules_refuse", *(f"asks_{k}" for k in ASKS),
)
# The abstainer reads this many of the best candidates (the page shows at most five).
ABSTAIN_TOP = 5


def asked_but_unstated(query: Query, top: Hit, own: Query | None = None) -> dict[str, bool]:
    """What the question asks for that the best passage does not state (a number, a day, money,
    a unit, a rate), and whether it asks for a person; read from a follow-up's own words (`own`)."""
    asked = (own or query).norm
    stated = arabic_numerals(normalize(top.passage.text))
    unit = _ASKS_UNIT.search(asked)
    unit_stated = not unit or re.search(f"[{_NUMERAL}]{unit.group('unit')}", top.passage.text)
    return {
        "money_unstated": bool(_ASKS_MONEY.search(asked)) and "元" not in top.passage.text,
        "day_unstated": bool(_ASKS_DAY.search(asked)) and not _STATES_DAY.search(stated),
        "asks_person": bool(_ASKS_PERSON.search(asked)),
        "number_unstated": bool(_ASKS_NUMBER.search(asked)) and not _STATES_NUMBER.search(top.passage.text),
        "unit_unstated": not unit_stated,
        "rate_unstated": "率" in asked and bool(_ASKS_NUMBER.search(asked)) and "%" not in stated,
    }


def asks_for(question: str) -> dict[str, bool]:
    """Which of the things a work plan does not state (ASKS) a question asks for."""
    return {k: bool(rx.search(question)) for k, rx in _ASKS.items()}


def abstain_features(query: Query, hits: list[Hit], coverage: Coverage, own: Query | None = None,
                     bridged: frozenset[str] | set[str] = frozenset()) -> np.ndarray:
    """The abstainer's features (ABSTAIN_FEATURES) of a question and its ranking. `bridged`: the
    English words the index's bridge maps to the plan's words (an English question's words "in
    the plan"); `coverage` with the second encoder's background."""
    hits = hits[:ABSTAIN_TOP]
    top = hits[0]
    scores = np.array([h.score for h in hits], dtype=np.float64)
    share = np.exp(scores - scores.max())
    words = list(dict.fromkeys(query.tokens))
    if query.english:
        en = english_words(query.norm)
        in_plan = sum(1 for w in en if w in bridged) / len(en) if en else 0.0
    else:
        in_plan = sum(1 for w in words if w in coverage.corpus_text) / len(words) if words else 0.0
    top_text = normalize(top.passage.text)
    chars = [ch for ch in dict.fromkeys(query.norm) if _HAN.match(ch)]
    cols = {
        "top_score": top.score, "margin": top.score - hits[1].score if len(hits) > 1 else 0.0,
        "top_share": float(share[0] / share.sum()),
        "e5_z": (max(h.dense for h in hits) - coverage.dense_mean) / coverage.dense_std if coverage.dense_std > 0 else 0.0,
        "use_z": (max(h.use for h in hits) - coverage.use_mean) / coverage.use_std if coverage.use_std > 0 else 0.0,
        "bm25": max(h.lexical for h in hits) / (max(h.lexical for h in hits) + STRONG_BM25),
        "words_in_plan": in_plan,
        "words_in_top": sum(1 for w in words if w in top_text) / len(words) if words else 0.0,
        "chars_in_top": sum(1 for ch in chars if ch in top_text) / len(chars) if chars else 0.0,
        "english": float(query.english), "list": float(query.is_list), "followup": float(own is not None),
        **{k: float(v) for k, v in asked_but_unstated(query, top, own).items()},
        "rules_refuse": float(not covered_by(query, hits, coverage, own)),
        **{f"asks_{k}": float(v) for k, v in asks_for((own or query).norm).items()},
    }
    return np.array([cols[f] for f in ABSTAIN_FEATURES], dtype=np.float64)


@dataclass(frozen=True)
class Abstainer:
    """Refuse when the fitted probability that the plan does not answer reaches `threshold`."""

    mean: np.ndarray
    scale: np.ndarray
    w: np.ndarray
    b: float
    threshold: float
    measured: str = ""

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.w + self.b)
        return 1.0 / (1.0 + np.exp(-z))

    def refuses(self, x: np.ndarray) -> bool:
        return self.probability(x) >= self.threshold

    def to_json(self) -> dict:
        return {"features": list(ABSTAIN_FEATURES), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "w": self.w.round(6).tolist(), "b": round(self.b, 6),
                "threshold": round(self.threshold, 6), "measured": self.measured}

    @classmethod
    def from_json(cls, d: dict) -> Abstainer:
        if list(d.get("features", ())) != list(ABSTAIN_FEATURES):
            raise ValueError("the abstainer was fitted for other features; refit: python -m planqa.eval.fit")
        arr = lambda k: np.asarray(d[k], dtype=np.float64)  # noqa: E731
        return cls(arr("mean"), arr("scale"), arr("w"), float(d["b"]), float(d["threshold"]),
                   str(d.get("measured", "")))


@lru_cache(maxsize=1)
def load_abstainer(path: Path = ABSTAINER) -> Abstainer:
    return Abstainer.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def says_nothing(query: Query, hits: list[Hit]) -> bool:
    """A question with no content words, or only numbers and a letter, that the best passage does
    not contain word for word: the z-scores cannot judge it (see covered_by)."""
    words = query.tokens
    if not words:
        return True
    if not any(ch.isalpha() for ch in query.norm) or len("".join(words)) < 2:
        stated = arabic_numerals(normalize(hits[0].passage.text))
        return not all(w in stated for w in words)
    return False


def learned_covered(query: Query, hits: list[Hit], coverage: Coverage, own: Query | None = None,
                    bridged: frozenset[str] | set[str] = frozenset(), abstainer: Abstainer | None = None) -> bool:
    """covered_by for the fitted ranker: the certain rule (a question that says nothing) and then
    the learned abstainer."""
    if says_nothing(query, hits):
        return False
    if coverage.passages < MIN_BACKGROUND:
        return covered_by(query, hits, coverage, own)
    model = abstainer or load_abstainer()
    return not model.refuses(abstain_features(query, hits, coverage, own, bridged))


def covered_by(query: Query, hits: list[Hit], coverage: Coverage, own: Query | None = None) -> bool:
    """Whether the best passage is a real match, not just the least bad one.

    `own` is a follow-up's own words (`query` being what it was read as, with the question
    before): what it asks for (a number, a day, money, a person) is read from its own words."""
    top = hits[0]
    words = query.tokens
    asked = (own or query).norm
    # The best of a hundred-odd cosines stands out by two deviations by chance alone, so the
    # z-score below cannot tell a question that says nothing ("的", "123", "x": no content words,
    # only numbers, one letter) from a real one: such a question is answered only by a passage
    # that contains its very words.
    if not words:
        return False
    stated = arabic_numerals(normalize(top.passage.text))
    if not any(ch.isalpha() for ch in query.norm) or len("".join(words)) < 2:
        return all(w in stated for w in words)
    if _ASKS_MONEY.search(asked) and "元" not in top.passage.text:
        return False
    if _ASKS_DAY.search(asked) and not _STATES_DAY.search(stated):
        return False
    if _ASKS_PERSON.search(asked):
        return False
    if _ASKS_NUMBER.search(asked) and not _STATES_NUMBER.search(top.passage.text):
        return False
    unit = _ASKS_UNIT.search(asked)
    if unit and not re.search(f"[{_NUMERAL}]{unit.group('unit')}", top.passage.text):
        return False
    if "率" in asked and _ASKS_NUMBER.search(asked) and "%" not in stated:
        return False
    if max(h.lexical for h in hits) >= STRONG_BM25:
        return True
    if coverage.passages < MIN_BACKGROUND:
        return top.lexical > 0
    floor = MIN_Z if query.han else MIN_Z_ENGLISH
    std = coverage.dense_std
    return bool(std > 0 and (max(h.dense for h in hits) - coverage.dense_mean) / std >= floor)
