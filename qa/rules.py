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
from planqa.index.lexical import DATA, read_words, tokenize_normalized
from planqa.index.query import ASKS_NUMBER as _ASKS_NUMBER
from planqa.index.query import Query
from planqa.index.search import Coverage, Hit
from planqa.index.text import arabic_numerals, normalize

from .gazetteer import in_named_provinces, short_name
from .tagger import word_tag

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
_ASKS_MONEY = re.compile(r"多少钱|资金|经费|费用|收费|价格|均价|房价|票价|门票|预算|补贴|津贴|补助|投资额|挣|工资"
                         r"|收入(?![低高少])|什么价|交多少"
                         r"|掏钱|出钱|自费|免费|要钱|贵不贵"
                         r"|\b(?:budget|cost|price|rent|fee|subsid\w*|funding|income|salar(?:y|ie)|wage)s?\b|sell for")
_ASKS_UNIT = re.compile(r"(?:多少|几)(?P<unit>平方米|公里|千米|[个所家条座项名张辆台栋处届期宗天亩片套户间部吨米])")
# A size asked without 多少 ("全线有多长", "how far"): a number the sentence must state.
_ASKS_SIZE = re.compile(r"多[长远大高宽重]|how (?:long|far|big|large|tall|wide)")
# Asks for a rate or a share ("失业率控制在多少", "医保报销比例", "unemployment rate"): answered by a %.
_ASKS_RATE = re.compile(r"(?:率|比例|占比).*(?:多少|几)|(?:多少|几).*(?:率|比例|占比)|比例|百分之几|\brate\b|percent")
# States a quantity: a number with a unit, a measure word or a %, not a year, a phase ("二期") or
# a quoted code ("11311"工作体系).
_STATES_QUANTITY = re.compile(r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
                              r"(?:%|[万亿千百]|[家个所座条宗项名人米平辆台栋处届张套亩户间吨]|公里|周年)")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|\d{4}年')
# Asks for a day or a date the plan would have to state: "哪天", "几月几号", "on what date".
_ASKS_DAY = re.compile(r"哪天|哪一天|几月|几号|几日|具体日期|什么日子|开幕日|what date|which day|on what day")
# A month, a day, or a part of the year ("年底前", "上半年") answers "几月 / 什么日子".
_STATES_DAY = re.compile(r"\d+月|\d+日|[一二三四五六七八九十]+月|年底|年内|月底|[上下]半年|季度|by the end of")
# Asks for a person: the plan names tasks, not people.
_ASKS_PERSON = re.compile(r"谁|哪位|叫什么名字|姓名|负责人|哪个(?:部门|单位|机构)|牵头|\bwho\b|in charge")
# What a one-year work plan states (tasks and targets) leaves out: reasons, how to apply, exact
# places and addresses, which company, clock times, the weather, today's statistics, how long a
# trip takes. Each is one of the fitted abstainer's features (ABSTAIN_FEATURES: asks_…), weighed
# on the dev questions; none refuses by itself.
ASKS = {
    "why": r"为什么|为啥|为何|什么原因|\bwhy\b",
    # how to apply, what it takes (not a question about a service that does the paperwork for you)
    "procedure": r"需要(?:什么|哪些|啥)|(?:什么|哪些|啥)(?:条件|材料|手续)|条件是|报名|预约|挂号|怎么(?:申请|办|买|交|去|报)"
                 r"|咋(?:申请|办|报)|如何(?:申请|办理)|去哪(?:报|办|申请)"
                 r"|\bhow (?:do|can|should) (?:i|we)\b|\bapply\b|\bbook\b|sign up|register",
    "place_detail": r"哪些(?:街道|村|小区|地方)|哪几个|哪个(?:街道|村|小区)|分别在|具体在|在哪|哪里|\bwhere\b"
                    r"|which (?:streets?|neighbou?rhoods?|villages?|communities|compounds)|\baddress",
    "org": r"哪家|哪个公司|什么公司|哪些(?:企业|公司)|\b(?:which|what) compan",
    "clock": r"几点|营业时间|开放时间|what time|opening hours|\bhours\b",
    "forecast": r"天气|下雨|下雪|气温|刮风|热不热|冷不冷|(?:会不会|会)(?:很|特别)?[冷热]|降温|weather|\brain\b|\bsnow|temperature",
    "stat_now": r"现在|目前|常住|人口|population|live in|\bcurrently\b",
    "duration": r"多久|多长时间|几分钟|几个小时|how long",
    # which members of a set the plan only counts or names as a whole ("那87条具体是哪几条")
    "members": r"(?:(?:那|这)[个条家所座处项]|[0-9一二两三四五六七八九十百]+[个条家所座处项块片]).{0,12}?(?:哪几|哪些|分别|具体)"
               r"|哪[0-9一二两三四五六七八九十]+[个条家所座处项块片]|具体(?:是|在)?哪|分别(?:是|在|叫)|叫什么名|名单"
               r"|\bwhich (?:ones|\w+ (?:are|were|will be) (?:in|on|part of|included))|\bnames? of\b",
    # when something will be open or done: answered by a commitment to finish it (this year's
    # plan) or a time, not by "加快建设" ("22号线哪年能开通")
    "when": r"(?:哪年|哪一年|什么时候|啥时候|何时|几时).{0,6}"
            r"(?:开通|通车|开业|运营|建好|修好|完工|建成|投用|用上|开放|开门|招生|入住|开建|开工)"
            r"|\b(?:when|what year)\b.{0,40}\b(?:open|run|running|finish|finished|complete|completed|ready|usable|start)\b",
}
_ASKS = {k: re.compile(v, re.IGNORECASE) for k, v in ASKS.items()}
# What the best sentence shows when it does state such a detail: a place's name (a word of three
# characters or more with a place's ending, not a generic one such as 老城区), a company, a clock
# time, a length of time. A question asking for one of them (ASKS) that the sentence does not
# show is the abstainer's feature asks_…; the kinds without an entry here a plan never states.
_PLACE_END = re.compile(r"^[\u4e00-\u9fff]{2,}[镇乡村路街区县市河湖湾]$")
# A "where" question (not "哪些街道", "哪几个小区": those ask for named places) is also answered by
# the institution a sentence names (交易所, 实验室, 中心).
_NAMED_KIND = re.compile(r"(?:哪些|哪几个|哪个|分别在|具体在)(?:街道|村|小区|社区)|street|neighbou?rhood|village|communit|compound")
_INSTITUTION = re.compile(r"^[\u4e00-\u9fff]{2,}(?:所|室|中心|厂|馆)$")
# A Chinese "where" (在哪, 哪里, 哪个镇) that does not ask for named streets or villages is answered
# by any place or facility the sentence names that the question does not already say: a place
# (三河, 马驹桥镇), a campus or a site (校区, 院区, 基地, 枢纽), an institution. A check that is
# unsure does not fire.
_SITE = re.compile(r"^[\u4e00-\u9fff]+(?:[镇乡村路街区县市河湖湾桥园城港站场院所室厂馆]|中心|基地|枢纽|大厦|小镇|校区)$"
                   r"|^[\u4e00-\u9fff]{2,}[东南西北]$|^[东南西北]侧$|^(?:周边|沿线|一带)$")


def _names_a_new_place(token: str, asked: str) -> bool:
    """A site word of the sentence that the question does not already say: not the question's own
    word, nor one with its head (驿站 in "驿站建在哪"), unless the question asks for that kind
    ("哪个片区" is answered by 新华片区)."""
    if not _SITE.match(token) or token in asked or token in GENERIC_PLACES:
        return False
    head = token[-2:]
    return head not in asked or bool(re.search(f"(?:哪个|哪一?|什么){re.escape(head)}", asked))


# "哪家单位 / 什么机构" (not a company) is answered by an institution the sentence names.
_ASKS_COMPANY = re.compile(r"公司|企业|compan", re.IGNORECASE)
_ORG_LIKE = re.compile(r"^[\u4e00-\u9fff]{2,}(?:所|院|中心|大学|学院|银行|集团|公司|企业|平台|基地|园区)$")
# "还要多久才能用上 / how long until": the time until something is done, answered by a sentence that
# commits to finishing it (a one-year plan: this year), or gives a year or a part of one; a trip's
# length ("坐地铁要多久") is not.
_UNTIL = re.compile(r"(?:还要|还得|需要)多久|多久(?:才|能|可以|会)|多长时间(?:才|能)|how long (?:until|before|will it take)")
_DONE = re.compile(r"完工|竣工|投入使用|投用|投入运营|开放|通车|建成|达产|量产|具备.{0,4}条件|年底|\d{4}年")
# A sentence lists members when it names several things one after another ("A、B、C") and does
# not just count the asked thing ("5个家园中心").
_COUNTED = re.compile(r"\d+[个条家所座处项块片]([\u4e00-\u9fff]{2,})")
# "When will it open / be done" is answered by a commitment to finish or start it, or a time.
_WHEN_DONE = re.compile(_DONE.pattern + r"|开工|启动|开建|开通|运营|开业|\d+月|年内|[上下]半年")
STATES = {
    "org": re.compile(r"公司|集团|企业|银行"),
    "clock": re.compile(r"\d+(?:[:：]\d\d|点|时)"),
    "duration": re.compile(r"\d+(?:分钟|小时|天|个月)"),
}
# "这几个 / 那几条 / 哪几个" point at things already named, and "几所学校会…吗" means "a few": they
# do not ask how many.
_NOT_A_COUNT = re.compile(r"[这那哪好]几")
_YES_NO = re.compile(r"吗[?？!！。]*$")
# Counting words answer one another: a paraphrase counts with its own measure word ("几家" is
# answered by "6所", "几块地" by "10宗", "几处" by "5个"). A measurement (length, area, weight,
# time) is answered only by a number with that very unit ("多少亩" by "…亩", not by "87条").
_MEASURES = ("平方米", "公里", "千米", "天", "亩", "吨", "米")
_COUNTERS = "个所家条座项名张辆台栋处宗片套户间部块"  # 期, 届 ("第几期": "二期") only themselves
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
    found += [t for t in dict.fromkeys(query.tokens) if t in other_places(corpus_text)
              and not any(t in f for f in found)  # 朝阳 of 朝阳区, named already
              and word_tag(t) not in _COMMON_TAGS]  # jieba's tagger loads only for such a word
    # "明年" beside "今年" is context ("娃明年上幼儿园，今年公立园能多开几家"), not the time asked
    # about, unless the question compares the two ("和去年比，今年多建了几家").
    if not _THIS_YEAR.search(query.norm) or _COMPARES.search(query.norm):
        found += [w for w in OUT_OF_SCOPE if w in query.norm and w not in found]
    return tuple(found)


_THIS_YEAR = re.compile(r"今年|本年度|this year", re.IGNORECASE)
_COMPARES = re.compile(r"比|than|compar", re.IGNORECASE)


@lru_cache(maxsize=4)
def other_places(corpus_text: str) -> frozenset[str]:
    """Short names of the cities, districts and counties of the provinces the plan names (大兴 for
    大兴区, 香河 for 香河县) that the plan itself never mentions: a question about one asks about
    another place."""
    return frozenset(short for code, name in in_named_provinces(corpus_text) if code[2:6] != "0000"
                     and (short := short_name(name)) != name and short not in corpus_text and short not in _NOT_PLACES)


# Short names that are everyday words first (复兴, 正定: jieba's tag says adjective, verb, adverb,
# time…), and the table's "市辖" (区) rows.
_COMMON_TAGS = frozenset({"a", "ad", "v", "vn", "d", "m", "t", "s", "f"})
_NOT_PLACES = frozenset({"市辖"})


# The learned abstainer (the fitted ranker's modes): a logistic regression over what the best
# candidates and the question say (ABSTAIN_FEATURES), fitted with its threshold by
# `python -m planqa.eval.fit` on the dev questions; the weights are data beside this module.
ABSTAINER = Path(__file__).with_name("data") / "abstainer.json"
ABSTAIN_FEATURES = (
    "top_score", "margin", "top_share", "e5_z", "use_z", "bm25",
    "words_in_plan", "words_in_top", "chars_in_top", "english", "list", "followup",
    "money_unstated", "day_unstated", "asks_person", "number_unstated", "unit_unstated", "rate_unstated",
    "rules_refuse", *(f"asks_{k}" for k in ASKS), "unstated_any",
)
# The abstainer reads this many of the best candidates (the page shows at most five).
ABSTAIN_TOP = 5


def asked_but_unstated(query: Query, top: Hit, own: Query | None = None) -> dict[str, bool]:
    """What the question asks for that the best passage does not state (a number, a day, money,
    a unit, a rate), and whether it asks for a person; read from a follow-up's own words (`own`)."""
    asked = _NOT_A_COUNT.sub("", (own or query).norm)
    if _YES_NO.search(asked):
        asked = asked.replace("几", "")
    stated = arabic_numerals(normalize(top.passage.text))
    quantity = _STATES_QUANTITY.search(_QUOTED.sub("", stated))
    unit = _ASKS_UNIT.search(asked)
    units = unit and (unit.group("unit") if unit.group("unit") in _MEASURES + ("期", "届") else f"[{_COUNTERS}]")
    # the count must be one the question does not already give ("7个项目能提供多少套房子" is not
    # answered by "7个项目")
    unit_stated = not unit or any(m.group(1) not in asked for m in re.finditer(f"([{_NUMERAL}]+){units}", top.passage.text))
    return {
        "money_unstated": bool(_ASKS_MONEY.search(asked)) and "元" not in top.passage.text,
        "day_unstated": bool(_ASKS_DAY.search(asked)) and not _STATES_DAY.search(stated),
        "asks_person": bool(_ASKS_PERSON.search(asked)),
        "number_unstated": bool(_ASKS_NUMBER.search(asked) or _ASKS_SIZE.search(asked)) and not quantity,
        "unit_unstated": not unit_stated,
        "rate_unstated": bool(_ASKS_RATE.search(asked)) and "%" not in stated,
    }


def asks_for(question: str) -> dict[str, bool]:
    """Which of the things a work plan does not state (ASKS) a question asks for."""
    return {k: bool(rx.search(question)) for k, rx in _ASKS.items()}


def shows(kind: str, text: str, asked: str = "") -> bool:
    """Whether a sentence shows the detail of kind `kind` (ASKS) that a question (`asked`, its
    normalised text) asks for."""
    norm = arabic_numerals(normalize(text))
    chinese = bool(_HAN.search(asked))
    if kind == "duration" and _UNTIL.search(asked):
        return bool(_DONE.search(norm))
    if kind == "members":
        counted = any(m.group(1)[:2] in asked for m in _COUNTED.finditer(norm))
        return "、" in norm and not counted
    if kind == "when":
        return bool(_WHEN_DONE.search(norm))
    if kind == "org" and chinese and not _ASKS_COMPANY.search(asked):
        return any(_ORG_LIKE.match(t) and t[-2:] not in asked for t in tokenize_normalized(norm))
    if kind == "place_detail":
        named = bool(_NAMED_KIND.search(asked))  # asks for named streets or villages
        return any((chinese and not named and _names_a_new_place(t, asked))
                   or (_PLACE_END.match(t) and not any(t.endswith(g) for g in GENERIC_PLACES))
                   or (not named and _INSTITUTION.match(t)) for t in tokenize_normalized(norm))
    return bool(kind in STATES and STATES[kind].search(norm))


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
    asked = (own or query).norm
    # A list is answered by several sentences: a quantity it asks for counts as unstated only when
    # none of the best candidates states it, not when the best one alone does not.
    each = [asked_but_unstated(query, h, own) for h in (hits if query.is_list else hits[:1])]
    unstated = {k: all(u[k] for u in each) for k in each[0]}
    asks = {k: v and not shows(k, top.passage.text, asked) for k, v in asks_for(asked).items()}
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
        **{k: float(v) for k, v in unstated.items()},
        "rules_refuse": float(not covered_by(query, hits, coverage, own)),
        **{f"asks_{k}": float(v) for k, v in asks.items()},
        "unstated_any": float(any(unstated.values()) or any(asks.values())),
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
    # The best of a hundred-odd cosines stands out by two deviations by chance alone, so the
    # z-score below cannot tell a question that says nothing ("的", "123", "x": no content words,
    # only numbers, one letter) from a real one: such a question is answered only by a passage
    # that contains its very words.
    if not words:
        return False
    stated = arabic_numerals(normalize(top.passage.text))
    if not any(ch.isalpha() for ch in query.norm) or len("".join(words)) < 2:
        return all(w in stated for w in words)
    # Asks for money, a day, a person, a number, a unit or a rate the best passage does not state.
    if any(asked_but_unstated(query, hits[0], own).values()):
        return False
    if max(h.lexical for h in hits) >= STRONG_BM25:
        return True
    if coverage.passages < MIN_BACKGROUND:
        return top.lexical > 0
    floor = MIN_Z if query.han else MIN_Z_ENGLISH
    std = coverage.dense_std
    return bool(std > 0 and (max(h.dense for h in hits) - coverage.dense_mean) / std >= floor)
