"""The commitments as files: CSV (BOM, columns, Chinese), XLSX rows, file names, the download folder."""
import csv
import io
import os
from pathlib import Path

import pytest
from conftest import pid
from planqa.qa.commitments import commitments
from planqa.qa.downloads import Downloads
from planqa.qa.export import CSV_COLUMNS, as_rows, download_name, to_csv, to_xlsx

HEADER = ["章节 chapter", "小节 section", "承诺程度 milestone", "对象 object", "数量 quantity", "单位 unit", "地点 places",
          "期限 deadline", "原文 quote", "编号 id", "备注 notes"]
KINDERGARTENS = [
    "第六部分【坚持以“人民对美好生活的向往”为导向,大力促进民生福祉厚植增优】", "1、持续推进公共服务资源扩容提质",
    "投用 in use", "公办幼儿园",
    "6；1080", "所；个", "", "2024年", "推进新开公办幼儿园6所,增加学前学位1080个。", pid("6.1.4"), "",
]
BOATS = [
    "第二部分【坚持以增强内生动力为重点,助力经济高质量发展提档加速】", '3、聚焦"购物车"打造消费新增长极',
    "推进 effort only", "萧太后河等水系通航项目",
    "", "", "萧太后河", "2024年", '加快实施萧太后河等水系通航项目,加快实现副中心"既有名又有趣"。', pid("2.3.4"), "",
]


def test_csv_opens_as_a_spreadsheet_would(passages, tmp_path):
    path = tmp_path / "c.csv"
    assert to_csv(commitments(passages), path) == 127
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf" * 2)
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == list(CSV_COLUMNS) == HEADER
    assert {len(r) for r in table} == {11}
    assert KINDERGARTENS in table and BOATS in table  # "," and '"' inside a quote survive
    typo = next(r for r in table if r[9] == pid("5.1.2"))
    assert typo[10] == "原文“人地”疑为“入地”之误，引文照录原文"


def test_csv_to_text_and_binary_files(passages):
    rows = commitments(passages, keyword="萧太后河")
    text, binary = io.StringIO(), io.BytesIO()
    assert to_csv(rows, text) == 1 and to_csv(rows, binary) == 1
    assert not binary.closed and binary.getvalue() == text.getvalue().encode("utf-8")
    assert list(csv.reader(io.StringIO(text.getvalue().lstrip("\ufeff"))))[1] == BOATS


def test_xlsx_rows(passages, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "c.xlsx"
    assert to_xlsx(commitments(passages, chapter=6, milestone="done"), path) == 6
    ws = load_workbook(path).active
    rows = [[c if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[0] == HEADER and rows[2] == KINDERGARTENS
    assert [r[9] for r in rows[1:]] == [pid(x) for x in ("6.1.1", "6.1.4", "6.1.5", "6.1.9", "6.2.2", "6.2.3")]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold


def test_xlsx_cells_never_start_a_formula():
    from planqa.qa.export import _no_formula

    assert [_no_formula(v) for v in ("=HYPERLINK(1)", "+1", "-", "@a", "加快")] == ["'=HYPERLINK(1)", "'+1", "'-", "'@a", "加快"]


@pytest.mark.parametrize(("args", "name"), [
    ((None, None, None, False, "csv"), "承诺清单_全部.csv"),
    ((6, "学校", "done", True, "xlsx"), "承诺清单_第6章_完成或投用_有量化目标_学校.xlsx"),
    ((0, " a/b\\..c ", None, False, "csv"), "承诺清单_引言_abc.csv"),
    ((None, None, "effort", False, "csv"), "承诺清单_推进.csv"),
])
def test_download_names_say_what_was_filtered(args, name):
    assert download_name(*args) == name


def test_download_folder_writes_once_per_filter_and_is_capped(tmp_path):
    root = tmp_path / "downloads"
    root.mkdir()
    (root / "stale.csv").write_text("from an earlier run")
    (root / "0123456789abcdef").mkdir()  # a filter folder of a planqa before per-server folders
    store = Downloads(root, cap=3)
    assert store.root.parent == root and store.root.name.startswith(f"server-{os.getpid()}-")
    assert sorted(p.name for p in root.iterdir()) == [store.root.name, store.root.name + ".lock"]  # swept on start
    writes = []

    def write(path):
        writes.append(path.name)
        path.write_text("x")

    first = store.path("csv|a", "a.csv", write)
    assert store.path("csv|a", "a.csv", write) == first and writes == [".a.csv." + writes[0].split(".")[-2] + ".tmp"]
    for key in "bcde":
        store.path(f"csv|{key}", f"{key}.csv", write)
    assert store.count() == 3 and len(writes) == 5
    assert sorted(p.name for p in store.root.glob("*/*")) == ["c.csv", "d.csv", "e.csv"]
    assert first.parent.parent == store.root and not first.exists()
    with pytest.raises(ValueError, match="cap must be >= 1, got 0"):
        Downloads(root, cap=0)
    store.close()


def test_two_servers_sharing_a_cache_keep_each_others_files(tmp_path):
    """Each server's folder is its own and locked while it runs; only a gone server's is swept."""
    root = tmp_path / "downloads"
    first = Downloads(root)
    kept = first.path("csv|a", "a.csv", lambda p: p.write_text("first"))
    second = Downloads(root)  # a second server starting on the same cache folder
    assert second.root != first.root and kept.read_text() == "first"
    made = second.path("csv|a", "a.csv", lambda p: p.write_text("second"))
    assert made.parent.parent == second.root and kept.read_text() == "first"
    first.close()  # the first server ends
    third = Downloads(root)
    assert not first.root.exists() and not (root / (first.root.name + ".lock")).exists()
    assert made.read_text() == "second" and third.root.is_dir()
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted([second.root.name, third.root.name])
    second.close()
    third.close()


@pytest.mark.subprocess
def test_a_running_servers_downloads_survive_another_starting(tmp_path):
    """The lock is held by the process: a second process's start leaves it alone, and removes it once
    that process has ended."""
    import subprocess
    import sys

    root = tmp_path / "downloads"
    code = ("import sys; from pathlib import Path; from planqa.qa.downloads import Downloads; "
            "s = Downloads(Path(sys.argv[1])); p = s.path('csv|a', 'a.csv', lambda p: p.write_text('x')); "
            "print(p, flush=True); sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code, str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        theirs = Path(child.stdout.readline().strip())
        mine = Downloads(root)
        assert theirs.read_text() == "x" and theirs.parent.parent != mine.root
    finally:
        child.communicate("", timeout=60)
    assert child.returncode == 0
    again = Downloads(root)
    assert not theirs.parent.parent.exists() and mine.root.is_dir() and again.root.is_dir()
    mine.close()
    again.close()


def test_rows_cells(passages):
    assert as_rows(commitments(passages, keyword="普惠托位"))[0][2:8] == ["投用 in use", "普惠托位", "1180", "个", "", "2024年"]
