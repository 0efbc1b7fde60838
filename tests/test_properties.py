"""Properties of the query path and the parser, over generated input (hypothesis).

The query path: any text at all gives an Answer or an InputError with one of two messages, never
another exception; the same text gives the same result from two separately loaded searchers (so
not just from a cache); every passage returned can be found at its offsets in the plan file.
The parser: plan-like text of headings, 【】 chapters, N、 sections, sentence punctuation,
line-wrap spaces and newlines always parses, and every passage is its source span, dewrapped.
"""
from __future__ import annotations

import pytest
from conftest import SEEDS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from planqa.index.errors import InputError
from planqa.index.parse import parse_text, read_seed
from planqa.index.search import MODES, Searcher
from planqa.index.text import dewrap
from planqa.qa.answer import MAX_QUESTION_CHARS, NOT_FOUND, answer

QUERY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSE = settings(max_examples=300, deadline=None)

# Pieces a question is made of: the plan's own words, question words, and the characters that
# break naive text handling (controls, zero-width, emoji, full-width digits, other scripts).
WORDS = ["养老服务驿站", "老旧小区", "东六环", "张家湾", "副中心", "幼儿园", "改造", "新建", "多少", "什么时候",
         "今年", "哪些", "How many", "kindergartens", "open", "十家", "１０", "2024年", "M101", "朝阳区"]
ODD = ["\x00", "\x07", "\x1b[31m", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\ud800", "😀", "👩‍👩‍👧",
       "\u3000", "\t", "\n", "\r\n", "？", "！", "。", "，", "……", "Ω", "ℕ", "½", "①", "٣", "𝟙𝟘", "Как", "مرحبا", "한국어",
       "１２３", "ＡＢＣ", "<script>", "**", "[x](y)", "&amp;"]
piece = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD), st.text(max_size=6))
questions = st.lists(piece, max_size=12).map("".join)
MESSAGES = ("请输入一个问题", "问题太长", "chapter must be 0 (the introduction) to 7, got ")  # an out-of-range chapter is an input error


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """Each plan's text exactly as the parser read it, by document name."""
    return {p.stem: read_seed(p) for p in sorted(SEEDS.glob("*.md"))}


@pytest.fixture(scope="module")
def fresh(index_root) -> Searcher:
    """A second searcher on the same index: its query-vector cache starts empty."""
    return Searcher.load(index_root, SEEDS)


def outcome(searcher: Searcher, question: str, **kw):
    try:
        a = answer(searcher, question, **kw)
    except InputError as e:
        return ("input", str(e))
    return ("answer", a.answered, a.message, [(h.passage.id, h.score, h.dense, h.lexical, h.terms) for h in a.hits])


def assert_traceable(passages, sources) -> None:
    for p in passages:
        assert 0 <= p.start < p.end <= len(sources[p.document])
        assert dewrap(sources[p.document][p.start:p.end]) == p.text


@QUERY
@given(question=questions, k=st.integers(1, 10), chapter=st.one_of(st.none(), st.integers(0, 9)))
@example(question="", k=5, chapter=None)
@example(question="？！。…… ", k=5, chapter=None)
@example(question="\u200b\u200d\ufeff", k=5, chapter=None)
@example(question="养" * 100_000, k=5, chapter=None)
@example(question="新建１０家养老服务驿站😀", k=5, chapter=None)
def test_answer_never_fails_and_is_deterministic(searcher, fresh, sources, question, k, chapter):
    first = outcome(searcher, question, k=k, chapter=chapter)
    assert outcome(fresh, question, k=k, chapter=chapter) == first  # same from a separate load
    assert outcome(searcher, question, k=k, chapter=chapter) == first  # same on a repeat
    if first[0] == "input":
        assert first[1].startswith(MESSAGES)
        return
    a = answer(searcher, question, k=k, chapter=chapter)
    assert len(a.question) <= MAX_QUESTION_CHARS and len(a.hits) <= k
    # Nothing in the chosen chapter: the answer says so and quotes the match from the whole plan.
    lead = "本章未找到。在全部章节中找到 " if a.widened else "计划中有"
    assert a.answered == a.message.startswith(lead) and a.answered != a.message.startswith(NOT_FOUND)
    assert not a.answered or a.hits
    assert a.widened or chapter is None or all(h.passage.chapter_no == chapter for h in a.hits)
    assert not a.widened or chapter is not None
    assert_traceable([h.passage for h in a.hits], sources)


@QUERY
@given(query=questions, k=st.integers(1, 30), mode=st.sampled_from(MODES),
       chapter=st.one_of(st.none(), st.integers(0, 9)))
def test_search_never_fails_and_is_deterministic(searcher, fresh, sources, query, k, mode, chapter):
    hits = searcher.search(query, k=k, mode=mode, chapter=chapter)
    again = fresh.search(query, k=k, mode=mode, chapter=chapter)
    assert [(h.passage.id, h.score) for h in again] == [(h.passage.id, h.score) for h in hits]
    assert len(hits) <= k
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.passage.id for h in hits}) == len(hits)
    assert chapter is None or all(h.passage.chapter_no == chapter for h in hits)
    assert_traceable([h.passage for h in hits], sources)


# --- the parser -------------------------------------------------------------------------------

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASCII_WORD = st.text("abcXYZ0123456789", min_size=1, max_size=6)
WRAP = st.sampled_from(["", "", "", " ", "  ", "\n", " \n ", "\u3000"])  # line-wrap artefacts
PUNCT = st.sampled_from(["。", "；", "！", "？", ";", "!", "?", "，", "、", "：", "（", "）", "“", "”", "《", "》", "%", ""])


@st.composite
def sentence(draw) -> str:
    parts = draw(st.lists(st.one_of(st.text(HAN, min_size=1, max_size=8), ASCII_WORD, PUNCT, WRAP), min_size=1, max_size=10))
    return "".join(parts) + draw(st.sampled_from(["。", "；", "！", "？", "", "，", "、区"]))


@st.composite
def plan_line(draw) -> str:
    kind = draw(st.sampled_from(["title", "chapter", "section", "body", "body", "body", "blank"]))
    hashes = "#" * draw(st.integers(0, 4))
    title = draw(st.text(HAN, min_size=1, max_size=12))
    if kind == "title":
        return f"{hashes or '#'} {title}"
    if kind == "chapter":
        left, right = draw(st.sampled_from(["", "□", "[", "□[", " "])), draw(st.sampled_from(["】", "]", "】]", "】□", ""]))
        return f"{hashes}{left}【{title}{right}"
    if kind == "section":
        no = draw(st.integers(1, 20))
        return f"{hashes}{' ' if hashes else ''}{no}{draw(st.sampled_from(['、', '.', '．']))}{title}"
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\u3000"]))
    return draw(WRAP) + "".join(draw(st.lists(sentence(), min_size=1, max_size=4)))


plans = st.lists(plan_line(), max_size=25).flatmap(
    lambda lines: st.sampled_from(["\n", "\r\n", "\n\n"]).map(lambda nl: nl.join(lines)))


def check_passages(source: str, passages) -> None:
    assert [p.position for p in passages] == list(range(len(passages)))
    last_end = 0
    for p in passages:
        assert last_end <= p.start < p.end <= len(source)  # in order, never overlapping
        assert dewrap(source[p.start:p.end]) == p.text  # traceable to the source, character for character
        assert p.text and p.text == p.text.strip() and "\n" not in p.text
        assert any(ch.isalnum() for ch in p.text)
        assert p.ordinal >= 1 and p.chapter_no >= 0 and p.section_no >= 0
        last_end = p.end
    assert [p.chapter_no for p in passages] == sorted(p.chapter_no for p in passages)


@PARSE
@given(source=plans)
@example(source="# 计划\n\n【第一章】\n\n1、公园\n\n新建公园，\n绿道两条。\n")
@example(source="□[【坚持以“精治”为支撑】]\n### 2、城市品质\n完成10个老旧小区 改造；新建 公园。")
def test_plan_like_text_parses_into_traceable_passages(source):
    check_passages(source, parse_text(source, "doc"))


@PARSE
@given(source=st.text(max_size=400))
def test_any_text_parses_into_traceable_passages(source):
    check_passages(source, parse_text(source, "doc"))


def test_real_plan_passages_are_traceable(passages, sources):
    assert_traceable(passages, sources)
    assert len({p.id for p in passages}) == len(passages)


def test_a_repeated_section_number_still_gives_unique_ids():
    source = "# 计划\n\n【第一章】\n\n1、公园\n\n新建公园。\n\n1、公园\n\n新建绿道。\n"
    ps = parse_text(source, "d")
    assert [p.label for p in ps] == ["1.1.1", "1.1.2"]
    assert len({p.id for p in ps}) == 2 and all(p.id.startswith("d:1.1-") for p in ps)
