"""Answer rules without a model: follow-ups, list questions, place-like words, tiers."""
import pytest
from planqa.index.query import analyze
from planqa.index.records import Passage
from planqa.index.search import Hit
from planqa.qa.answer import shown_hits
from planqa.qa.followup import frame, read_with_previous
from planqa.qa.rules import ABSTAIN_FEATURES, ASKS, asks_for, is_list_question, unknown_names


@pytest.mark.parametrize("previous, question, read", [
    ("通清路什么时候通车？", "22号线呢？", "22号线 什么时候通车？"),
    ("漷县镇重点发展什么？", "于家务呢？", "于家务 重点发展什么？"),
    ("中芯京城二期今年能达产吗？", "小米那个呢？", "小米 今年能达产吗？"),
    ("副中心站综合交通枢纽是什么项目？", "它今年能完工吗？", "副中心站综合交通枢纽是什么项目？ 它今年能完工吗？"),
    ("Tell me about the transport hub north of Universal Studios.", "When will it be finished?",
     "Tell me about the transport hub north of Universal Studios. When will it be finished?"),
    ("东六环入地改造什么时候通车？", "What about the Line 22 subway?", "the Line 22 subway 什么时候通车？"),
    ("东六环入地改造什么时候通车？", "今年新建多少家养老服务驿站？", "今年新建多少家养老服务驿站？"),
    (None, "那托育呢？", "那托育呢？"),
    # the new topic replaces the thing counted: only the frame (多少, 今年, 什么时候…) is kept
    ("今年新开几所公办幼儿园？", "那托育呢？", "托育 多少？"),
    ("今年要增加多少个学位？", "那托位呢？", "托位 要增加多少？"),
    ("养老驿站今年新建多少家？", "那幼儿园呢？", "幼儿园 今年新建多少？"),
    ("What does the plan say about kindergartens?", "What about childcare places?", "childcare places does the plan say?"),
])
def test_follow_up_is_read_with_the_question_before(previous, question, read):
    assert read_with_previous(question, previous) == read


MINSHENG = "民生方面今年有哪些实事？"


@pytest.mark.parametrize("previous, question", [
    ("老人的照护站点今年要增加多少？", "老人的照护站点今年要增加多少？"),  # asked again
    ("还有别的论坛吗？", "还有别的论坛吗？"),
    (MINSHENG, "老人的照护站点今年要增加多少？"),
    (MINSHENG, "环球影城北边那个换乘站今年能封顶吗？"),  # the demonstrative follows the question's own topic
    (MINSHENG, "区里管防疫的那个疾控大楼在建吗？"),
    (MINSHENG, "22号线建设进展如何？"),  # "X如何" without a leading 那 is a whole question
    (MINSHENG, "潞河中学在三河的分校办得怎么样？"),
    (MINSHENG, "How many elderly care service stations will be built this year?"),  # this year
    (MINSHENG, "Is there a carbon trading exchange in the plan?"),  # there is
    (MINSHENG, "Will there be more nursery spots for toddlers?"),
    (MINSHENG, "Can companies get someone to handle all their paperwork?"),  # their: the companies'
    (MINSHENG, "Are they building more places for elderly care?"),
])
def test_a_whole_question_is_read_as_asked_after_another(previous, question):
    assert read_with_previous(question, previous) == question


@pytest.mark.parametrize("previous, question", [
    ("区养老院今年能运营吗？", "请问它什么时候开门？"),
    ("How many public kindergartens will open this year?", "Where exactly are they?"),
    ("Is the district sports stadium being renovated?", "How many seats will it have?"),
])
def test_a_pronoun_with_no_topic_of_its_own_points_back(previous, question):
    assert read_with_previous(question, previous) == f"{previous} {question}"


def test_frame_drops_the_topic():
    assert frame("通清路什么时候通车？") == "什么时候通车？"
    assert frame("运河有戏") == ""
    assert frame("今年新开几所公办幼儿园？") == "多少？"


@pytest.mark.parametrize("question, expected", [
    ("民生方面今年有哪些实事？", True), ("今年养老方面都有啥安排？", True), ("农业方面今年要做什么？", True),
    ("What is the plan doing for elderly people?", True), ("今年新建多少家养老服务驿站？", False),
    ("What is the job creation target?", False),
])
def test_list_questions(question, expected):
    assert is_list_question(analyze(question)) is expected


@pytest.mark.parametrize("question, unknown", [
    ("老城区的小胡同要整治多少条？", ()), ("城区的停车位会增加吗？", ()), ("新城什么时候建好？", ()),
    ("朝阳区今年新建多少家养老驿站？", ("朝阳区",)), ("明年要新建多少家驿站？", ("明年",)),
    ("How many elderly care stations will Chaoyang district build?", ("Chaoyang",)),
    ("What will Tongzhou do in 2025?", ("2025",)),
])
def test_place_like_words_and_other_times(question, unknown):
    assert unknown_names(analyze(question), "通州区 养老服务驿站 背街小巷 2024年") == unknown


def _hit(no: int, score: float, chapter: int = 6, section: int = 2) -> Hit:
    p = Passage(f"d:{no}", "d", "plan", chapter, "c", section, "s", no, no, f"sentence {no}", 0, 1)
    return Hit(p, score, score, 0.0, ())


def test_one_strong_match_stands_alone_and_weaker_ones_are_marked():
    shown, tiers = shown_hits([_hit(1, 0.95), _hit(2, 0.90)], "single")
    assert ([h.passage.id for h in shown], tiers) == (["d:1"], ("best",))
    shown, tiers = shown_hits([_hit(1, 0.95), _hit(2, 0.94), _hit(3, 0.925), _hit(4, 0.90)], "single")
    assert ([h.passage.id for h in shown], tiers) == (["d:1", "d:2", "d:3"], ("best", "related", "possible"))


def test_a_chapter_lead_makes_a_list_of_that_chapter():
    hits = [_hit(1, 0.98, section=0), _hit(2, 0.90), _hit(3, 0.89, chapter=3), _hit(4, 0.88)]
    shown, tiers = shown_hits(hits, "list")
    assert ([h.passage.id for h in shown], tiers) == (["d:1", "d:2", "d:4"], ("best", "related", "related"))


@pytest.mark.parametrize("question, asked", [
    ("为什么要建这个中心？", {"why"}),
    ("幼儿园报名需要准备哪些材料？", {"procedure"}),
    ("新建的驿站分别在哪些街道？", {"place_detail"}),
    ("这条路是哪家公司施工的？", {"org"}),
    ("公园早上几点开门？", {"clock"}),
    ("明天会不会下雨？", {"forecast"}),
    ("How many people live in the district?", {"stat_now"}),
    ("How long will the ride take?", {"duration"}),
    ("今年新建几家养老服务驿站？", set()),
    ("What is the job creation target?", set()),
])
def test_what_a_question_asks_for_that_a_work_plan_does_not_state(question, asked):
    assert {k for k, v in asks_for(question.lower()).items() if v} == asked
    assert {f"asks_{k}" for k in ASKS} <= set(ABSTAIN_FEATURES)
