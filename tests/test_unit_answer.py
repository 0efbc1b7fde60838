"""Fast layer: the answer rules on the tiny plan (abstention, numbers asked for, the question cleaner)."""
from __future__ import annotations

import pytest
from planqa.index.errors import InputError
from planqa.qa.answer import MAX_QUESTION_CHARS, NOT_FOUND, answer, clean_question


def top(a) -> str:
    return a.hits[0].passage.label


def test_a_covered_question_is_answered_with_its_sentence(tiny):
    a = answer(tiny, "新建几家养老服务驿站？")
    assert (a.answered, top(a), a.unknown) == (True, "2.1.1", ())
    assert a.hits[0].passage.text == "新建10家养老服务驿站。"
    assert a.message == f"计划中有 {len(a.hits)} 处相关内容："
    assert a.question == "新建几家养老服务驿站？"
    assert [h.passage.id for h in a.hits] == [h.passage.id for h in a.ranked[:len(a.hits)]]
    assert len(a.ranked) == 5


@pytest.mark.parametrize("question, unknown", [
    ("朝阳区今年新建多少家养老服务驿站？", ("朝阳区",)),  # a district the plan never names
    ("地铁M101线什么时候开通？", ("M101",)),  # a line code
    ("2025年新建多少家养老服务驿站？", ("2025",)),  # a year other than the plan's 2024
])
def test_names_the_plan_never_mentions_are_not_answered(tiny, question, unknown):
    a = answer(tiny, question)
    assert (a.answered, a.unknown) == (False, unknown)
    assert a.message == f"{NOT_FOUND}（计划中没有提到：{'、'.join(unknown)}）"


def test_a_place_the_plan_names_is_answered(tiny):
    a = answer(tiny, "马驹桥镇有什么安排？")
    assert (a.answered, top(a), a.unknown) == (True, "1.1.2", ())


@pytest.mark.parametrize("question, answered", [
    ("公园绿化水平怎样提升？", True),
    ("公园绿化水平提升多少？", False),  # asks for a number; 1.2.2 states none
    ("新建几家养老服务驿站？", True),
    ("新建几座养老服务驿站？", True),  # counting words answer one another: 座 asked, 2.1.1 counts 家
    ("新建几公里养老服务驿站？", False),  # a measurement needs its own unit
])
def test_a_number_question_needs_a_number_in_the_unit_asked(tiny, question, answered):
    a = answer(tiny, question)
    assert a.answered is answered
    assert a.message == (f"计划中有 {len(a.hits)} 处相关内容：" if answered else NOT_FOUND)
    assert a.ranked[0].passage.label == ("1.2.2" if "公园" in question else "2.1.1")  # the same sentence either way


def test_a_question_of_digits_only_needs_those_digits(tiny):
    a = answer(tiny, "10")
    assert a.answered is True and top(a) in {"1.2.1", "2.1.1"}  # the two sentences that state 10
    assert answer(tiny, "123").answered is False


def test_the_cleaner_drops_invisibles_and_controls_and_folds_spaces():
    assert clean_question("东六环\u200b什么时候\u0007通车") == "东六环什么时候通车"
    assert clean_question("  新建\t\n养老\u3000驿站  ") == "新建 养老 驿站"
    assert clean_question("\ufeff马驹桥镇\u202e？") == "马驹桥镇？"


def test_a_cleaned_question_gets_the_same_answer(tiny):
    plain, dirty = answer(tiny, "新建几家养老服务驿站？"), answer(tiny, "新建\u200b几家\x07养老服务驿站？")
    assert dirty.question == plain.question
    assert [(h.passage.id, h.score) for h in dirty.hits] == [(h.passage.id, h.score) for h in plain.hits]


@pytest.mark.parametrize("bad", ["", "   ", "？？？!!", "\u200b\u200d", "\x00\x07", "😀"])
def test_questions_without_words_are_refused(tiny, bad):
    with pytest.raises(InputError, match="^请输入一个问题，例如：今年新建多少家养老服务驿站？$"):
        answer(tiny, bad)


def test_overlong_questions_are_refused_before_any_work():
    with pytest.raises(InputError, match=f"^问题太长：最多 {MAX_QUESTION_CHARS} 字，收到 {MAX_QUESTION_CHARS + 1} 字"):
        clean_question("养" * (MAX_QUESTION_CHARS + 1))
    assert clean_question("养" * MAX_QUESTION_CHARS) == "养" * MAX_QUESTION_CHARS
    with pytest.raises(InputError, match="收到 10000000 字"):
        clean_question("a" * 10_000_000)  # refused on its raw length
    with pytest.raises(InputError, match="^问题必须是文字$"):
        clean_question(None)
