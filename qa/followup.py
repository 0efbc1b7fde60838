"""A follow-up in a chat, read with the question before it.

Two shapes, in Chinese and English:
- a new topic in the frame of the last question: "那托育呢？", "22号线呢？", "What about childcare?"
  takes the last question's frame ("…什么时候通车", "…增加多少") with the new topic;
- a pronoun or an elliptical question: "它今年能完工吗？", "When will it be finished?",
  "还有别的论坛吗？" keeps the last question's topic: both are searched together.
A question that stands on its own is searched as asked: the same question again, a question whose
demonstrative follows its own topic ("环球影城北边那个换乘站…", "handle all their paperwork"), "there
is", "this year", and "X怎么样" without a leading "那" (a whole question: "22号线建设进展如何？").
"""
from __future__ import annotations

import re

# "那X呢" / "X呢" / "那X怎么样" / "what about X" / "how about X" / "and X?"
_SWITCH_ZH = re.compile(r"^(?:(?:那么?|那个|还有|再问一下)\s*(?P<topic>.+?)\s*(?:呢|怎么样|如何|情况呢)"
                        r"|(?P<topic3>.+?)\s*(?:呢|情况呢))\s*[?？!！。.]*$")
_SWITCH_EN = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(?P<topic>.+?)\s*[?？.]*$|^and\s+(?P<topic2>.+?)\s*[?？]+$",
                        re.IGNORECASE)
# Words that point back at the last question's topic.
_POINTER = re.compile(r"它|它们|其|该项目|这个|那个|这些|那些|上述|还有别的|还有其他|还有吗|别的|其他的"
                      r"|\b(?:it|its|they|them|their|this|that|these|those|there)\b", re.IGNORECASE)
# Not pointers: "is there", "this year"; nor a Chinese demonstrative after the question's own topic.
_NOT_POINTER_EN = re.compile(r"\b(?:is|are|was|were|be|'s)\s+there\b"
                             r"|\b(?:this|that|these|those)\s+(?:year|month|week|time|spring|summer|autumn|fall|winter)s?\b",
                             re.IGNORECASE)
# What may stand before a Chinese pointer that still points back ("请问它…", "那这个…").
_LEAD_ZH = re.compile(r"^(?:请问|那么?|还有|另外|再问一下|顺便问一下|对了)*$")
# English words that carry no topic: a question made only of these and pointers borrows one.
_FUNCTION_EN = frozenset(
    "a an the and or of to in on at for by with from about into is are was were be been being will would "
    "can could do does did has have had shall should may might must what when where which who whom whose "
    "why how many much more most any some all exactly else also still yet again there here it its they "
    "them their this that these those one ones me my we our you your i he she his her get got going "
    "finished finish done open opened built build happen happening start started ready".split())
# An English question with this many topic words (besides the above) stands on its own.
EN_TOPIC_WORDS = 2
# Where a question's frame starts: after the topic, at its first question or predicate word.
_FRAME = re.compile(r"今年|什么时候|何时|哪天|哪一年|多少|几[个所家条座项宗名张辆]?|能|会|是否|有没有|有什么|有哪些|有啥"
                    r"|是什么|重点|怎么|如何|要|将|\b(?:when|how|what|which|will|is|are|does|do|can)\b",
                    re.IGNORECASE)
# A Chinese question this short (in characters, punctuation left out) cannot stand on its own.
SHORT = 6
# A new topic is a few words ("那潞苑中学呢", "What about the Line 22 subway?").
MAX_TOPIC = 24


def read_with_previous(question: str, previous: str | None) -> str:
    """The question as it is meant, given the one before it (None: no conversation)."""
    if not previous or _content(question).lower() == _content(previous).lower():
        return question  # asked again: the same question, read as asked
    switch = _SWITCH_ZH.match(question) or _SWITCH_EN.match(question)
    topic = next((v for v in switch.groupdict().values() if v), "") if switch else ""
    # "今年新建多少家驿站呢？" asks a whole question of its own: its topic carries a frame.
    if topic and len(_content(topic)) <= MAX_TOPIC and not _FRAME.search(topic):
        return f"{_POINTER.sub('', topic).strip() or topic} {frame(previous)}".strip()
    if points_back(question) or len(_content(question)) <= SHORT:
        return f"{previous} {question}"
    return question


def points_back(question: str) -> bool:
    """Whether a pronoun or demonstrative in the question refers to the turn before: in Chinese, one
    with no topic of the question's own before it; in English, in a question with few words of
    its own."""
    if re.search(r"[a-zA-Z]", question) and not re.search(r"[\u4e00-\u9fff]", question):
        text = _NOT_POINTER_EN.sub(" ", question)
        if not _POINTER.search(text):
            return False
        words = re.findall(r"[a-z0-9]+", text.lower())
        return sum(w not in _FUNCTION_EN for w in words) < EN_TOPIC_WORDS
    m = _POINTER.search(question)
    return bool(m) and bool(_LEAD_ZH.match(_content(question[: m.start()])))


# A quantity question word ("几所", "多少个", "how many") and the thing counted after it: the object
# a new topic replaces ("今年新开几所公办幼儿园？" + "那托育呢？" asks how much 托育, not how many 幼儿园).
_COUNTED = re.compile(r"(?:几|多少)[个所家条座项宗名张辆台栋处届期万]?(?P<object>[\u4e00-\u9fff]+)"
                      r"|\bhow (?:many|much) (?P<object_en>[a-z ]+?)(?= (?:will|are|is|do|does|can|did)\b|[?？.]|$)",
                      re.IGNORECASE)


# What an English question is about: "What does the plan say about kindergartens?".
_ABOUT = re.compile(r"\s*\b(?:about|for|regarding)\b[^?？.]*", re.IGNORECASE)


def frame(question: str) -> str:
    """The last question without its topic or the thing it counts, which a new topic replaces:
    "通清路什么时候通车？" -> "什么时候通车？", "今年新开几所公办幼儿园？" -> "多少？"."""
    m = _FRAME.search(question, 1)
    rest = question[m.start():] if m else ""
    rest = _ABOUT.sub("", rest)
    counted = _COUNTED.search(rest)
    if counted:
        if counted.group("object"):
            return rest[: counted.start()] + "多少" + rest[counted.end():]
        return rest[: counted.start("object_en")] + rest[counted.end("object_en"):].lstrip()
    return rest


def _content(question: str) -> str:
    return re.sub(r"[\W_]", "", question)
