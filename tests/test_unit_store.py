"""Fast layer: the index on disk, built and loaded with the fake embedder (FAISS and BM25 are real)."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from conftest import TINY_DOC, write_tiny_plan
from fakes import ConstantEmbedder, NgramEmbedder, NgramUse
from planqa.index.build import build_index, embedding_text
from planqa.index.errors import IndexInvalidError, IndexMissingError, IndexStaleError
from planqa.index.parse import parse_seeds
from planqa.index.search import Searcher
from planqa.index.store import current_build
from planqa.index.text import normalize

# (chapter.section, sentence as published) of the tiny plan in order. The id is the section and 6 hex
# digits of the sha1 of the normalised sentence (the last one's "，" is hashed as ",").
SENTENCES = [
    ("1.1", "东六环入地改造具备通车条件。"),
    ("1.1", "推动马驹桥镇道路竣工通车。"),
    ("1.2", "完成10个老旧小区改造。"),
    ("1.2", "提升公园绿化水平。"),
    ("2.1", "新建10家养老服务驿站。"),
    ("2.1", "养老服务驿站提供助餐服务。"),
    ("2.2", "新开公办幼儿园6所，增加学前学位1080个。"),
]
IDS = [f"{TINY_DOC}:{where}-{hashlib.sha1(normalize(text).encode()).hexdigest()[:6]}" for where, text in SENTENCES]


def test_ids_and_texts_survive_the_round_trip(tiny, tiny_seeds):
    assert [(p.id, p.text) for p in tiny.passages] == list(zip(IDS, (t for _, t in SENTENCES)))
    assert tiny.passages == parse_seeds(tiny_seeds)  # every field, offsets included
    assert [p.label for p in tiny.passages] == ["1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2", "2.2.1"]
    assert tiny.passages[4].reference == "第二部分【坚持以民生保障为导向…】 › 1、养老"
    assert tiny.passages[4].short_id == IDS[4].split(":", 1)[1]


def test_manifest_and_vectors(tiny, tiny_root):
    build = current_build(tiny_root)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == {"id": "test-ngrams-256", "dim": 256}
    assert (manifest["passages"], manifest["documents"], manifest["dense_index"]) == (7, [TINY_DOC], "IndexFlatIP")
    on_disk = {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk  # a checksum for every file
    assert {"passages.jsonl", "vectors.npy", "dense.faiss", "bm25/params.index.json"} <= on_disk
    # the vectors on disk are the embedder's, row for row, in the passages' order
    expected = NgramEmbedder().embed_passages([embedding_text(p) for p in tiny.passages])
    np.testing.assert_array_equal(np.load(build / "vectors.npy", allow_pickle=False), expected)
    np.testing.assert_array_equal(tiny.vectors, expected)


def test_a_rebuild_keeps_every_id_and_switches_to_the_new_build(tmp_path, tiny):
    seeds = write_tiny_plan(tmp_path / "seeds")
    first = build_index(seeds, tmp_path / "idx", embedder=NgramEmbedder(), use=NgramUse())
    second = build_index(seeds, tmp_path / "idx", embedder=NgramEmbedder(), use=NgramUse())
    assert first != second and current_build(tmp_path / "idx") == second
    assert {p.name for p in (tmp_path / "idx" / "builds").iterdir()} == {first.name, second.name}
    again = Searcher.load(tmp_path / "idx", seeds, embedder=NgramEmbedder(), use=NgramUse())
    assert [p.id for p in again.passages] == IDS
    assert [h.passage.id for h in again.search("养老服务驿站", k=3)] == [h.passage.id for h in tiny.search("养老服务驿站", k=3)]


def test_an_index_of_another_embedder_is_refused_with_the_rebuild_command(tiny_root, tiny_seeds):
    with pytest.raises(IndexStaleError) as e:
        Searcher.load(tiny_root, tiny_seeds, embedder=ConstantEmbedder())
    assert str(e.value).startswith(f"the index at {tiny_root} was built with model 'test-ngrams-256', not 'test-constant'")
    assert str(e.value).endswith(f"planqa index --seeds {tiny_seeds} --out {tiny_root}")


def test_an_index_of_another_second_encoder_is_refused(tiny_root, tiny_seeds):
    """The manifest names the second encoder too: vectors of another one would score as noise."""
    class OtherUse(NgramUse):
        def __init__(self) -> None:
            super().__init__()
            self.name = "test-other-use"

    with pytest.raises(IndexStaleError) as e:
        Searcher.load(tiny_root, tiny_seeds, embedder=NgramEmbedder(), use=OtherUse())
    assert str(e.value) == (f"the index at {tiny_root} was built with second encoder 'test-ngrams-use', not "
                            f"'test-other-use'; rebuild it: planqa index --seeds {tiny_seeds} --out {tiny_root}")
    manifest = json.loads(next((tiny_root / "builds").iterdir()).joinpath("manifest.json").read_text(encoding="utf-8"))
    assert manifest["second_encoder"] == {"id": "test-ngrams-use", "dim": 512}


def test_an_index_of_an_earlier_planqa_is_outdated_not_damaged(tmp_path, tiny_seeds):
    """No second encoder in the manifest: built by an earlier planqa, which serve, eval and ask rebuild."""
    from planqa.index.errors import IndexOutdatedError
    from planqa.index.store import FORMAT_VERSION, write_manifest

    root = tmp_path / "idx"
    build_index(tiny_seeds, root, embedder=NgramEmbedder(), use=NgramUse())
    build = next((root / "builds").iterdir())
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    del manifest["second_encoder"], manifest["files"], manifest["format_version"]
    write_manifest(build, manifest)  # a consistent manifest, as an earlier planqa wrote it
    assert json.loads((build / "manifest.json").read_text(encoding="utf-8"))["format_version"] == FORMAT_VERSION
    with pytest.raises(IndexOutdatedError, match="built by an earlier planqa"):
        Searcher.load(root, tiny_seeds, embedder=NgramEmbedder(), use=NgramUse())


def test_an_index_with_older_keyword_bridges_is_outdated(tmp_path, tiny_seeds):
    """The manifest fingerprints the keyword side (bridges, glossary, tokenizer word lists): an index
    built from other ones is rebuilt, not served with stale translations."""
    from planqa.index.errors import IndexOutdatedError
    from planqa.index.expand import keyword_fingerprint
    from planqa.index.store import write_manifest

    root = tmp_path / "idx"
    build_index(tiny_seeds, root, embedder=NgramEmbedder(), use=NgramUse())
    build = next((root / "builds").iterdir())
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["keywords"] == keyword_fingerprint()
    assert len(manifest["keywords"]) == 16
    manifest["keywords"] = "0" * 16
    del manifest["files"], manifest["format_version"]
    write_manifest(build, manifest)
    with pytest.raises(IndexOutdatedError) as e:
        Searcher.load(root, tiny_seeds, embedder=NgramEmbedder(), use=NgramUse())
    assert str(e.value) == (f"the index at {root} was built by an earlier planqa (other keyword bridges or "
                            f"tokenizer); rebuild it: planqa index --seeds {tiny_seeds} --out {root}")


def test_an_index_of_other_seeds_is_refused(tiny_root, tmp_path):
    other = write_tiny_plan(tmp_path / "seeds")
    (other / "more.md").write_text("新建一座公园。\n", encoding="utf-8")
    with pytest.raises(IndexStaleError, match=f"built from other seeds than {other}; rebuild it: planqa index --seeds {other}"):
        Searcher.load(tiny_root, other, embedder=NgramEmbedder(), use=NgramUse())


def test_a_reader_waits_for_a_running_build_to_finish(tmp_path):
    """A second `planqa ask` that finds no index waits on the build lock instead of building again."""
    import threading

    from planqa.index.store import build_lock, wait_for_build

    events = []
    holding, release = threading.Event(), threading.Event()

    def builder():
        with build_lock(tmp_path):
            holding.set()
            release.wait(10)
            events.append("build done")

    t = threading.Thread(target=builder)
    t.start()
    holding.wait(10)
    waiter = threading.Thread(target=lambda: (wait_for_build(tmp_path), events.append("reader goes on")))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and events == []  # still waiting while the build holds the lock
    release.set()
    t.join(10)
    waiter.join(10)
    assert events == ["build done", "reader goes on"]
    wait_for_build(tmp_path)  # no build running: returns at once


def test_no_index_and_a_flipped_bit(tmp_path, tiny_root, tiny_seeds):
    with pytest.raises(IndexMissingError, match=f"no index at {tmp_path / 'none'}; build it: planqa index"):
        Searcher.load(tmp_path / "none", tiny_seeds, embedder=NgramEmbedder(), use=NgramUse())
    import shutil

    shutil.copytree(tiny_root, tmp_path / "idx")
    target = current_build(tmp_path / "idx") / "vectors.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(IndexInvalidError, match="vectors.npy is corrupt"):
        Searcher.load(tmp_path / "idx", tiny_seeds, embedder=NgramEmbedder(), use=NgramUse())
