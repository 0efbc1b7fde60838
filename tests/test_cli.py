import json
import os
import subprocess
import sys

import pytest
from conftest import DOC, ROOT, SEEDS, pid
from planqa.qa.answer import answer

pytestmark = pytest.mark.subprocess  # every test runs `planqa` in a child process


def run(*args, index_root=None, check=True):
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "planqa", *args]
    if index_root is not None:
        cmd += ["--index", str(index_root), "--seeds", str(SEEDS)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=check)


def test_ask_json_prints_exactly_one_object(index_root):
    out = run("ask", "--json", "--k", "5", "How many public kindergartens will open?", index_root=index_root)
    obj = json.loads(out.stdout)
    assert set(obj) >= {"question", "answered", "hits"}
    assert obj["answered"] is True
    top = obj["hits"][0]
    assert set(top) >= {"id", "text", "document", "chapter", "section", "score"}
    assert (top["id"], top["text"], top["document"]) == (
        pid("6.1.4"), "推进新开公办幼儿园6所,增加学前学位1080个。", DOC)
    assert top["section"] == "1、持续推进公共服务资源扩容提质"


def test_ask_text_shows_quote_reference_and_id(index_root, searcher):
    out = run("ask", "今年改造多少个老旧小区？", index_root=index_root).stdout
    score = answer(searcher, "今年改造多少个老旧小区？").hits[0].score  # the same index, in this process
    assert out.splitlines() == [
        "计划中有 1 处相关内容：",
        "",
        "1. 完成10个**老旧小区改造**。",
        "   第五部分【坚持以“精治”“智治”“品质”为支撑…】 › 1、精雕细琢提升城市品质",
        f"   {pid('5.1.3')}  score {score:.3f}",
    ]


def test_ask_abstains_in_json(index_root):
    obj = json.loads(run("ask", "--json", "地铁M101线什么时候开通？", index_root=index_root).stdout)
    assert obj["answered"] is False and obj["hits"] == []
    assert obj["message"].startswith("计划中未找到与该问题直接相关的内容")


def test_empty_question_exits_2_with_message(index_root):
    out = run("ask", "  ", index_root=index_root, check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert "请输入一个问题" in out.stderr


def test_chapter_option(index_root):
    obj = json.loads(run("ask", "--json", "--chapter", "3", "养老", index_root=index_root).stdout)
    assert obj["hits"][0]["id"] == pid("3.3.5")


def test_stale_index_names_the_rebuild_command(index_root, tmp_path):
    other = tmp_path / "seeds"
    other.mkdir()
    (other / "a.md").write_text("新建一座公园。", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "planqa", "ask", "公园", "--index", str(index_root), "--seeds", str(other)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert f"planqa index --seeds {other} --out {index_root}" in out.stderr
    assert "Traceback" not in out.stderr


def test_ask_path_imports_neither_gradio_nor_torch(index_root):
    code = (
        "import sys; from planqa.cli import main; "
        f"rc = main(['ask', '东六环', '--index', {str(index_root)!r}, '--seeds', {str(SEEDS)!r}]); "
        "bad = [m for m in ('gradio', 'torch', 'sentence_transformers') if m in sys.modules]; "
        "print('LOADED', bad); sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout


@pytest.mark.model
def test_index_command_builds_into_out(tmp_path):
    out = run("index", "--seeds", str(SEEDS), "--out", str(tmp_path / "idx"))
    assert "index ready" in out.stderr
    assert (tmp_path / "idx" / "CURRENT").is_file()


def test_commitments_csv_and_filters(tmp_path):
    out = tmp_path / "c.csv"
    done = run("commitments", "--csv", str(out), "--chapter", "6", "--grep", "养老", "--seeds", str(SEEDS))
    assert "2 rows written" in done.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("章节 chapter,小节 section,承诺程度 milestone,对象 object,数量 quantity,单位 unit")
    assert lines[2].endswith("新建10家养老服务驿站。," + pid("6.2.3") + ",")


def test_commitments_printed_as_tab_separated_rows():
    rows = run("commitments", "--grep", "东六环", "--seeds", str(SEEDS)).stdout.splitlines()
    assert len(rows) == 2 and rows[1].split("\t")[-3:] == ["东六环入地改造具备通车条件。", pid("1.1.7"), ""]
    assert rows[1].split("\t")[2:4] == ["具备条件 ready for", "东六环入地改造"]


def test_commitments_xlsx_json_and_milestone_filter(tmp_path):
    import json

    from openpyxl import load_workbook

    out = tmp_path / "c.xlsx"
    done = run("commitments", "--xlsx", str(out), "--milestone", "done", "--quantified", "--seeds", str(SEEDS))
    assert "6 rows written" in done.stderr
    ids = [r[9] for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)]
    assert ids == [pid(x) for x in ("1.1.1", "5.1.2", "5.1.3", "6.1.4", "6.1.5", "6.2.3")]
    rows = json.loads(run("commitments", "--json", "--grep", "学校", "--chapter", "6", "--seeds", str(SEEDS)).stdout)
    assert [r["id"] for r in rows] == [pid(x) for x in ("6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.1.5", "6.1.6")]
    bad = run("commitments", "--milestone", "soon", "--seeds", str(SEEDS), check=False)
    assert bad.returncode == 2 and "unknown milestone 'soon'" in bad.stderr


def test_eval_commitments_prints_precision_and_recall_per_field():
    out = run("eval", "--commitments", "--seeds", str(SEEDS)).stdout
    assert "quantity precision     1.000" in out and "place recall           0.917" in out
