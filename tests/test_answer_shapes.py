"""Answer rules without a model: follow-ups, list questions, place-like words, tiers."""
import pytest
from planqa.index.query import analyze
from planqa.index.records import Passage
from planqa.index.search import Hit
from planqa.qa.answer import shown_hits
from planqa.qa.followup import frame, read_with_previous
from planqa.qa.rules import ABSTAIN_FEATURES, ASKS, asked_but_unstated, asks_for, is_list_question, shows, unknown_names


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
    # "明年" beside "今年" is context, unless the question compares them
    ("娃明年上幼儿园，今年公立园能多开几家？", ()), ("和去年比，今年养老驿站多建了几家？", ("去年",)),
])
def test_place_like_words_and_other_times(question, unknown):
    assert unknown_names(analyze(question), "通州区 养老服务驿站 背街小巷 2024年") == unknown


@pytest.mark.parametrize("question, unknown", [
    ("大兴那边今年有啥大项目？", ("大兴",)),  # another district of a province the plan names, without 区
    ("香河今年有啥大项目？", ()),  # one the plan names
    ("乡村复兴今年有啥大项目？", ()),  # a district's short name that is an everyday word first
])
def test_other_places_of_the_provinces_the_plan_names(question, unknown):
    plan = "北京市通州区与河北省三河、大厂、香河 养老服务驿站 2024年"
    assert unknown_names(analyze(question), plan) == unknown


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
    ("新建的驿站分别在哪些街道？", {"place_detail", "members"}),
    ("这条路是哪家公司施工的？", {"org"}),
    ("公园早上几点开门？", {"clock"}),
    ("Will the district nursing home open this year?", set()),  # "open" alone is not a clock time
    ("明天会不会下雨？", {"forecast"}),
    ("今年冬天会不会很冷？", {"forecast"}),
    ("Which neighborhoods will get the new kindergartens?", {"place_detail"}),
    ("How many people live in the district?", {"stat_now"}),
    ("How long will the ride take?", {"duration"}),
    ("今年新建几家养老服务驿站？", set()),
    ("What is the job creation target?", set()),
    # a service that does the paperwork is not a question of how to apply
    ("帮企业跑审批手续的服务还有吗？", set()),
    ("保障房咋申请？", {"procedure"}),
    # which members of a set the plan counts ("那87条"), not a list of the plan's tasks
    ("那87条背街小巷具体是哪几条？", {"members"}),
    ("今年有哪几条新路要动工？", set()),
    ("Which schools are in the southern school group?", {"members"}),
    ("22号线哪年能开通？", {"when"}),
    ("高龄津贴能领多少？", set()),  # money: asked_but_unstated, not a kind a plan never states
])
def test_what_a_question_asks_for_that_a_work_plan_does_not_state(question, asked):
    assert {k for k, v in asks_for(question.lower()).items() if v} == asked
    assert {f"asks_{k}" for k in ASKS} <= set(ABSTAIN_FEATURES)


def _said(text: str) -> Hit:
    p = Passage("d:1", "d", "plan", 6, "c", 2, "s", 1, 1, text, 0, 1)
    return Hit(p, 1.0, 1.0, 0.0, ())


@pytest.mark.parametrize("question, sentence, unstated", [
    ("今年新建几家养老服务驿站？", "新建10家养老服务驿站。", set()),
    ("公立幼儿园今年多开几家？", "推进新开公办幼儿园6所,增加学前学位1080个。", set()),  # 家 and 所 count alike
    ("今年通州要造林多少亩？", "完成10个老旧小区改造。", {"unit_unstated"}),
    # a phase ("二期"), a quoted code and a year are not quantities
    ("How many jobs will the car plant create?", "保障中芯京城二期建成达产。", {"number_unstated"}),
    ("社会消费品零售总额的目标是多少？", '以"11311"工作体系为主抓手,2024年狠抓落地。', {"number_unstated"}),
    # pointing at things already named, or "a few" in a yes-no question, is not asking how many
    ("去三河的那几条路今年能通车吗？", "实现通清路、厂通路等工程完工通车。", set()),
    ("南边的几所学校会抱团一起发展吗？", '构建"南部学校发展群"。', set()),
    ("收入低的家庭住的政策房今年有几个项目在建？", "加快7个保障性住房项目建设。", set()),
    ("托育一个月要交多少钱？", "新增普惠托位1180个。", {"money_unstated"}),
    ("八十岁以上的老人高龄津贴能领多少？", "新建10家养老服务驿站。", {"money_unstated"}),
    ("今年是京津冀协同发展第几年了？", "2024年是京津冀协同发展战略实施十周年。", set()),  # 十周年 is a count
    ("How many rural sewage treatment stations will be built?", "64座农村污水处理站建设。", set()),  # sewage is no wage
    ("What is the unemployment rate in Tongzhou?", "促进城乡劳动力就业不少于1.5万人。", {"rate_unstated"}),
    ("22号线全线有多长？", "推动轨道交通22号线建设全面提速", {"number_unstated"}),
    ("绿道修好以后全长多少公里？", "完成87条背街小巷环境精细化治理。", {"unit_unstated"}),
    ("交通治理由哪个单位负责？", "扎实开展交通综合治理。", {"asks_person"}),
    # counting words answer one another (几块 by 10宗); a measurement needs its unit, and a phase is no count
    ("政府今年计划卖出几块做生意用的地？", "梯次实现10宗经营性用地供地。", set()),
    ("今年通州新增多少张医院床位？", "确保安贞医院通州院区一期、创意园220千伏变电站投入使用。", {"unit_unstated"}),
    # a part of the year answers "几月"
    ("体育场几月份能改造完？", "年底前确保区体育场升级改造完工。", set()),
])
def test_what_a_question_asks_for_that_the_best_sentence_does_not_state(question, sentence, unstated):
    got = asked_but_unstated(analyze(question), _said(sentence))
    assert {k for k, v in got.items() if v} == unstated


@pytest.mark.parametrize("kind, sentence, asked, shown", [
    ("place_detail", "新建10家养老服务驿站。", "分别在哪些街道", False),
    ("place_detail", "开工建设春明路、黄瓜园中街等道路。", "分别在哪些街道", True),
    ("place_detail", "完成10个老旧小区改造。", "是哪几个小区", False),  # 老旧小区 names no place
    ("place_detail", "加速北京绿色交易所全国温室气体自愿减排交易中心建设。", "平台建在哪", True),
    ("place_detail", "加速北京绿色交易所全国温室气体自愿减排交易中心建设。", "在哪些街道", False),
    ("org", "确保北投大厦竣工投用、首旅集团总部大厦主体结构完工。", "which company", True),
    ("org", "推动轨道交通22号线建设全面提速", "哪家公司", False),
    ("clock", "确保区养老院投入运营。", "几点开门", False),
    ("why", "为加快发展,新建10家养老服务驿站。", "为什么", False),
    # a Chinese "where" is answered by any place or facility the question does not already say
    ("place_detail", "高质量办好潞河中学三河校区。", "潞河中学新开的分校在哪里", True),
    ("place_detail", "新建10家养老服务驿站。", "养老驿站建在哪里", False),
    ("place_detail", "启动新华片区慢行系统建设。", "慢行系统先在哪个片区搞", True),  # asks for that kind
    ("place_detail", "加快建设通州南等一批电力工程。", "电力工程在哪一带建", True),
    ("org", "加速北京绿色交易所全国温室气体自愿减排交易中心建设。", "交易中心放在哪家单位", True),
    # "how long until it is usable" is answered by a commitment to finish; a trip's length is not
    ("duration", "确保区养老院投入运营。", "还要多久才能用上", True),
    ("duration", "推动轨道交通22号线建设全面提速", "坐地铁到国贸要多久", False),
    # "when" is answered by a commitment to do it this year or a time; "which ones" by a list of names
    ("when", "推动轨道交通22号线建设全面提速", "22号线哪年能开通", False),
    ("when", "实现东六环入地改造具备通车条件。", "东六环什么时候能走车", True),
    ("when", "开工建设春明路。", "春明路啥时候开工", True),
    ("members", "完成87条背街小巷环境精细化治理。", "那87条背街小巷具体是哪几条", False),
    ("members", "开工建设春明路、黄瓜园中街等道路。", "具体是哪几条路", True),
    ("members", "稳步推进片区腾退改造、5个家园中心建设。", "那5个家园中心分别在哪", False),  # counted, not named
])
def test_whether_the_best_sentence_shows_the_detail_asked_for(kind, sentence, asked, shown):
    assert shows(kind, sentence, asked) is shown
