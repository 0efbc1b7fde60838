from planqa.index.text import arabic_numerals, dewrap, normalize, normalize_with_map, zh_to_int


def test_dewrap_removes_wrap_spaces_only_next_to_chinese():
    assert dewrap("再 出新成果") == "再出新成果"
    assert dewrap("推动北京\n市通州区") == "推动北京市通州区"
    assert dewrap("Universal  Studios 环球") == "Universal Studios环球"


def test_normalize_unifies_width_quotes_case_and_invisibles():
    assert normalize("ＡＢＣ１２３，“环球”\u200b影城") == 'abc123,"环球"影城'
    assert normalize("PM2.5") == "pm2.5"


def test_normalize_map_points_into_source():
    s = "新建 １０家"
    norm, src = normalize_with_map(s)
    assert norm == "新建10家"
    assert [s[i] for i in src] == ["新", "建", "１", "０", "家"]


def test_chinese_numerals():
    assert [zh_to_int(x) for x in ("十", "二十三", "一百零八", "两")] == [10, 23, 108, 2]
    assert arabic_numerals("新建十家养老服务驿站") == "新建10家养老服务驿站"
    assert arabic_numerals("一体化一批") == "一体化一批"  # not quantities
