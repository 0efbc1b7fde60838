import json
import shutil

import numpy as np
import pytest
from conftest import SEEDS, pid
from planqa.index.build import build_index
from planqa.index.errors import IndexInvalidError, IndexMissingError, IndexStaleError
from planqa.index.lexical import tokenize
from planqa.index.search import Searcher
from planqa.index.store import current_build


def test_manifest_records_model_corpus_and_checksums(index_root):
    build = current_build(index_root)
    m = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert m["format_version"] == 1
    assert m["model"] == {"id": "e5-small-q4", "dim": 384}
    assert m["passages"] == 125
    assert m["dense_index"] == "IndexFlatIP"
    assert set(m["files"]) >= {"passages.jsonl", "vectors.npy", "dense.faiss", "bm25/params.index.json"}
    assert len(m["corpus_hash"]) == 64
    # plain files: Chinese stays readable, arrays load without pickle
    assert "养老服务驿站" in (build / "passages.jsonl").read_text(encoding="utf-8")
    vectors = np.load(build / "vectors.npy", allow_pickle=False)
    assert vectors.shape == (125, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_exact_top_passage_per_retriever(searcher, mode):
    top = searcher.search("今年改造多少个老旧小区？", k=3, mode=mode)[0]
    assert top.passage.id == pid("5.1.3")
    assert top.passage.text == "完成10个老旧小区改造。"


def test_english_question_finds_the_chinese_sentence(searcher):
    hits = searcher.search("How many public kindergartens will open?", k=3, mode="hybrid")
    assert hits[0].passage.id == pid("6.1.4")
    assert searcher.search("How many public kindergartens will open?", k=3, mode="bm25") == []


def test_chinese_and_arabic_numerals_match():
    assert "10" in tokenize("新建十家养老服务驿站")
    assert "10" in tokenize("新建10家养老服务驿站")


def test_bm25_matches_numerals_across_scripts(searcher):
    top = searcher.search("十家驿站", k=1, mode="bm25")[0]
    assert top.passage.id == pid("6.2.3")
    assert "10" in top.terms


def test_user_dictionary_keeps_plan_names_whole():
    assert "张家湾设计小镇" in tokenize("张家湾设计小镇重点项目")
    assert "漷县镇" in tokenize("漷县镇在大健康产业发展上激发动能")
    assert "11311" in tokenize('以"11311"工作体系为主抓手')


def test_chapter_filter(searcher):
    hits = searcher.search("养老", k=5, chapter=3)
    assert hits and {h.passage.chapter_no for h in hits} == {3}
    assert hits[0].passage.id == pid("3.3.5")


def test_hits_are_sorted_and_bounded(searcher):
    hits = searcher.search("副中心", k=7)
    assert len(hits) == 7
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError):
        Searcher.load(tmp_path / "nothing", SEEDS)


def test_index_from_other_seeds_is_refused_with_the_rebuild_command(index_root, tmp_path):
    other = tmp_path / "seeds"
    other.mkdir()
    (other / "plan.md").write_text("# 另一份计划\n\n新建一座公园。\n", encoding="utf-8")
    with pytest.raises(IndexStaleError) as e:
        Searcher.load(index_root, other)
    assert f"planqa index --seeds {other} --out {index_root}" in str(e.value)


def test_index_built_with_another_model_is_refused(index_root, tmp_path):
    copy = tmp_path / "idx"
    shutil.copytree(index_root, copy)
    build = current_build(copy)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["model"]["id"] = "some-other-model"
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexStaleError, match="built with model 'some-other-model'.*planqa index"):
        Searcher.load(copy, SEEDS)


def test_bit_flip_is_caught_by_the_checksum(index_root, tmp_path):
    copy = tmp_path / "idx"
    shutil.copytree(index_root, copy)
    target = current_build(copy) / "dense.faiss"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(IndexInvalidError, match="dense.faiss is corrupt.*planqa index"):
        Searcher.load(copy, SEEDS)


def test_rebuild_keeps_ids_and_switches_atomically(tmp_path, index_root):
    first = build_index(SEEDS, tmp_path / "idx")
    second = build_index(SEEDS, tmp_path / "idx")
    assert first != second and current_build(tmp_path / "idx") == second
    a = Searcher.load(tmp_path / "idx", SEEDS)
    b = Searcher.load(index_root, SEEDS)
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert [h.passage.id for h in a.search("东六环", 3)] == [h.passage.id for h in b.search("东六环", 3)]


@pytest.mark.model
def test_half_finished_build_leaves_the_previous_index_serving(tmp_path):
    root = tmp_path / "idx"
    good = build_index(SEEDS, root)
    half = root / "builds" / "99999999T999999-killed"
    half.mkdir()
    (half / "passages.jsonl").write_text("{", encoding="utf-8")
    assert current_build(root) == good
    assert Searcher.load(root, SEEDS).search("东六环", 1)[0].passage.id == pid("1.1.7")
    build_index(SEEDS, root)
    assert not half.exists()  # leftovers of killed builds are cleared by the next build
