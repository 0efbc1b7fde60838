"""The commitments table: exact rows for real sentences of the plan, the CSV, and the filters."""
import csv
import io

import pytest
from conftest import DOC, by_text, pid
from planqa.qa.commitments import CSV_COLUMNS, Commitment, Quantity, as_rows, commitments, extract, to_csv

# (id, quote as published, actions, quantities' text, places); quantified follows from quantities.
ROWS = [
    # several quantities, qualifiers, units that are easy to split wrongly
    ("1.1.1", "加快运河商务区重点组团建设,力争累计完工500万平方米。", ("建设", "完工"), ("累计500万平方米",), ("运河商务区",)),
    ("6.1.4", "推进新开公办幼儿园6所,增加学前学位1080个。", ("新开",), ("6所", "1080个"), ()),
    ("5.1.2", "完成87条背街小巷环境精细化治理,加快22条道路架空线人地和重点区域整治提升。",
     ("完成", "整治", "提升"), ("87条", "22条"), ()),
    ("6.1.6", '构建"南部学校发展群",推动全区集团化办学覆盖率超过65%。', (), ("超过65%",), ()),
    ("6.2.1", "促进城乡劳动力就业不少于1.5万人。", (), ("不少于1.5万人",), ()),
    ("4.3.3", "大力开展镇级污水处理厂改扩建及64座农村污水处理站建设。", ("改扩建", "建设"), ("64座",), ()),
    ("1.2.1", "确保中国人民大学通州新校区一期、六合村住房项目、安贞医院通州院区、创意园220千伏变电站等投入使用。",
     ("投入使用",), ("220千伏",), ()),
    ("1.3.3", "梯次实现10宗经营性用地供地,保持千亿投资接续有力。", ("供地",), ("10宗",), ()),
    ("6.2.3", "新建10家养老服务驿站。", ("新建",), ("10家",), ()),
    # numbers that are not quantities: years, line numbers, phases, slogans, Chinese numerals
    ("1.3.1", "建立2024年重点项目实施计划清单,不断提升项目落地转化率。", ("提升",), (), ()),
    ("3.1.2", "推动轨道交通22号线建设全面提速", ("建设",), (), ()),
    ("4.3.4", '全面实施"清河行动"和岸线整治,持续推进通惠河水环境综合治理二期、城南水网(漷牛片区)工程。',
     ("整治",), (), ("通惠河", "漷牛片区")),
    ("0.0.2", '通州区将以新时代首都发展为统领,以回答好"二十年之问"为总目标,以"11311"工作体系为主抓手,狠抓副中心控规和高质量发展意见落地,'
     '着力处理好与雄安新区、与中心城区、与北三县等周边地区"三个关系",紧盯提升综合承载力、经济内生动力和城市吸引力"三个着眼点"聚势发力,'
     '强化党的建设、改革创新、作风建设"三个保障",在打造城市发展样板的新征程上推动各项工作全面上台阶,为答好"二十年之问"跑好第一棒。',
     ("落地", "提升"), (), ("雄安新区", "中心城区", "北三县")),
    ("2.0.1", '紧紧围绕"3+1"主导功能,以培育壮大六大产业集群为重点,促进产业链、创新链融合赋能,全面增强发展实力。', (), (), ()),
    ("7.3.2", "精心开展京津冀协同发展十周年重大主题宣传。", (), (), ()),
    ("6.1.7", "加快北大人民医院、东直门医院两个国家医学中心、区疾控中心建设。", ("建设",), (), ()),
    ("1.2.3", "积极承接一批央企二三级公司落户。", ("承接",), (), ()),
    ("3.3.4", "持续深化通武廊区域卫生健康一体化高质量发展。", (), (), ("通武廊",)),
    # compound actions win over their parts; nouns that contain an action are not actions
    ("3.1.1", "实现通清路、厂通路及跨潮白河大桥等工程完工通车。", ("完工通车",), (), ("通清路", "厂通路", "潮白河")),
    ("5.3.2", "确保九德路、孔兴路等一批道路竣工通车。", ("竣工通车",), (), ("九德路", "孔兴路")),
    ("1.2.4", "确保北投大厦竣工投用、首旅集团总部大厦主体结构完工。", ("竣工投用", "完工"), (), ()),
    ("1.4.1", "统筹开展张家湾古镇建设,加快推进张家湾设计小镇重点项目开工建设加速实施台湖演艺小镇图书城和京城重工升级改造。",
     ("建设", "开工建设", "改造"), (), ("张家湾", "台湖")),
    ("2.1.6", "保障中芯京城二期建成达产、小米汽车智能制造产业基地实现量产。", ("建成", "达产", "量产"), (), ()),
    ("1.1.5", "推动路县故城遗址保护展示工程完工并向公众开放。", ("完工", "开放"), (), ()),
    ("3.3.2", "推进潮白河国家森林公园先行启动区建设。", ("建设",), (), ("潮白河",)),
    ("7.1.3", '加速推进"村居融合"治理取得突破启动集体经营性建设用地入市试点项目建设。', ("启动", "入市", "建设"), (), ()),
    # places: towns, neighbours, rivers; no targets
    ("3.0.1", '紧扣"一体化"和"高质量",统筹推进《关于推动北京市通州区与河北省三河、大厂、香河三县市一体化高质量发展的实施方案》落地见效。',
     ("落地",), (), ("三河", "大厂", "香河")),
    ("1.4.4", "马驹桥镇在新能源汽车、集成电路、智慧物流产业上形成高地。", (), (), ("马驹桥镇",)),
    ("3.3.1", "协同开展北运河、潮白河等跨界流域综合治理和交界地区生态绿带建设。", ("建设",), (), ("北运河", "潮白河")),
    ("2.3.3", '高标准建设"环球影城×大运河"国际消费体验区。', ("建设",), (), ("环球影城", "大运河")),
]


@pytest.mark.parametrize(("suffix", "quote", "actions", "quantities", "places"), ROWS, ids=[r[0] for r in ROWS])
def test_exact_row(passages, suffix, quote, actions, quantities, places):
    c = extract(by_text(passages, quote))
    assert c.id == pid(suffix)
    assert c.quote == quote
    assert c.actions == actions
    assert tuple(q.text for q in c.quantities) == quantities
    assert c.places == places
    assert c.quantified is bool(quantities)


def test_quantity_parts(passages):
    def parts(fragment):
        return extract(by_text(passages, fragment)).quantities

    assert parts("累计完工500万平方米") == (Quantity("500万", "平方米", "累计"),)
    assert parts("不少于1.5万人") == (Quantity("1.5万", "人", "不少于"),)
    assert parts("超过65%") == (Quantity("65", "%", "超过"),)
    assert parts("220千伏") == (Quantity("220", "千伏"),)
    assert parts("新开公办幼儿园") == (Quantity("6", "所"), Quantity("1080", "个"))


def test_whole_row_and_reference(passages):
    c = extract(by_text(passages, "新建10家养老服务驿站"))
    assert c == Commitment(
        id=pid("6.2.3"), document=DOC, chapter_no=6,
        chapter="第六部分【坚持以“人民对美好生活的向往”为导向…】", section="2、全面促进社会保障体系普惠共享",
        actions=("新建",), quantities=(Quantity("10", "家"),), places=(), quantified=True, quote="新建10家养老服务驿站。",
    )
    assert c.reference == "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"
    intro = extract(passages[0])
    assert (intro.chapter, intro.section, intro.reference) == ("引言", "", "引言")


def test_every_passage_is_a_row_and_which_are_quantified(passages):
    rows = commitments(passages)
    assert [c.id for c in rows] == [p.id for p in passages]
    label = {p.id: p.label for p in passages}
    assert [label[c.id] for c in rows if c.quantified] == [
        "1.1.1", "1.2.1", "1.3.3", "4.3.3", "5.1.2", "5.1.3", "5.1.4", "6.1.4", "6.1.5", "6.1.6", "6.2.1", "6.2.3", "6.2.4",
    ]


def ids(rows):
    from conftest import _plan_passages

    label = {p.id: p.label for p in _plan_passages()}
    return [label[c.id] for c in rows]


def test_chapter_filter(passages):
    assert ids(commitments(passages, chapter=0)) == ["0.0.1", "0.0.2"]
    assert ids(commitments(passages, chapter=3)) == [
        "3.0.1", "3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.2.1", "3.2.2", "3.2.3", "3.3.1", "3.3.2", "3.3.3", "3.3.4", "3.3.5",
    ]
    assert commitments(passages, chapter=8) == []
    with pytest.raises(ValueError, match="chapter must be >= 0.*got -1"):
        commitments(passages, chapter=-1)


def test_grep_filter(passages):
    assert ids(commitments(passages, grep="潮白河")) == ["3.1.1", "3.3.1", "3.3.2"]
    # the section matches too, though "社会保障" is in none of these quotes
    assert ids(commitments(passages, grep="社会保障")) == ["6.2.1", "6.2.2", "6.2.3", "6.2.4"]
    # normalized: curly quotes match the plan's straight ones, full-width digits the half-width ones
    assert ids(commitments(passages, grep="“湾里”")) == ["1.1.2"]
    assert ids(commitments(passages, grep="６５％")) == ["6.1.6"]
    assert ids(commitments(passages, chapter=6, grep="建设")) == ["6.1.2", "6.1.7", "6.2.4", "6.3.1"]
    assert len(commitments(passages, grep="  ")) == len(passages)
    assert commitments(passages, grep="火星基地") == []


CSV_ROW = [
    "第二部分【坚持以增强内生动力为重点…】", '3、聚焦"购物车"打造消费新增长极', "通航", "", "萧太后河", "是",
    '加快实施萧太后河等水系通航项目,加快实现副中心"既有名又有趣"。', pid("2.3.4"),
]


def test_csv_file_has_bom_header_and_round_trips(passages, tmp_path):
    rows = commitments(passages)
    path = tmp_path / "commitments.csv"
    assert to_csv(rows, path) == 125
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == list(CSV_COLUMNS) == [
        "章节 chapter", "小节 section", "动作 actions", "数量 quantities", "地点 places", "无量化目标 no_target", "原文 quote", "编号 id",
    ]
    assert table[1:] == as_rows(rows)
    # a quote with ",", '"' and "。" survives intact
    assert CSV_ROW in table
    quantities = next(r for r in table if r[-1] == pid("6.1.4"))
    assert quantities[2:6] == ["新开", "6所；1080个", "", "否"]


def test_csv_to_text_and_binary_files(passages):
    rows = commitments(passages, grep="萧太后河")
    text = io.StringIO()
    assert to_csv(rows, text) == 1
    assert text.getvalue().startswith("\ufeff章节 chapter,")
    binary = io.BytesIO()
    to_csv(rows, binary)
    assert not binary.closed
    assert binary.getvalue() == text.getvalue().encode("utf-8")
    assert list(csv.reader(io.StringIO(text.getvalue().lstrip("\ufeff"))))[1] == CSV_ROW
