"""Every way the index on disk can be wrong, each tried in a fresh `planqa ask` process.

Each case copies the session's good index, damages it one way, and runs the real command in a
subprocess: the interpreter must exit 1 with one line naming the command that rebuilds the index,
print nothing on stdout, and show no traceback. Checksums in the manifest catch what FAISS would
load without complaint (a flipped bit in the vectors, a truncated BM25 array).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS
from planqa.index.store import current_build

pytestmark = pytest.mark.subprocess


def manifest_of(root: Path) -> Path:
    return current_build(root) / "manifest.json"


def edit_manifest(root: Path, change: Callable[[dict], object]) -> None:
    path = manifest_of(root)
    m = json.loads(path.read_text(encoding="utf-8"))
    m = change(m) or m
    path.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def truncate(rel: str):
    def damage(root: Path, seeds: Path) -> Path:
        f = current_build(root) / rel
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
        return seeds
    return damage


def flip(rel: str):
    def damage(root: Path, seeds: Path) -> Path:
        f = current_build(root) / rel
        data = bytearray(f.read_bytes())
        data[len(data) * 2 // 3] ^= 0x10
        f.write_bytes(bytes(data))
        return seeds
    return damage


def missing_build(root: Path, seeds: Path) -> Path:
    shutil.rmtree(current_build(root))
    return seeds


def missing_file(root: Path, seeds: Path) -> Path:
    (current_build(root) / "dense.faiss").unlink()
    return seeds


def other_seeds(root: Path, seeds: Path) -> Path:
    (seeds / "tongzhou-2024-work-plan.md").write_text("# 另一份计划\n\n新建一座公园。\n", encoding="utf-8")
    return seeds


def empty_corpus(root: Path, seeds: Path) -> Path:
    empty = seeds.parent / "empty-seeds"
    empty.mkdir()
    (empty / "plan.md").write_text("", encoding="utf-8")
    return empty


def other_model(root: Path, seeds: Path) -> Path:
    edit_manifest(root, lambda m: m["model"].update(id="st:BAAI/bge-small-zh-v1.5"))
    return seeds


def other_format(root: Path, seeds: Path) -> Path:
    edit_manifest(root, lambda m: m.update(format_version=99))
    return seeds


def pointer(content: bytes):
    def damage(root: Path, seeds: Path) -> Path:
        (root / "CURRENT").write_bytes(content)
        return seeds
    return damage


def manifest_bytes(content: bytes):
    def damage(root: Path, seeds: Path) -> Path:
        manifest_of(root).write_bytes(content)
        return seeds
    return damage


def checksums_removed(root: Path, seeds: Path) -> Path:
    """A manifest that vouches for nothing must not let unchecked files load."""
    edit_manifest(root, lambda m: m.update(files={}))
    flip("dense.faiss")(root, seeds)
    return seeds


def path_outside(root: Path, seeds: Path) -> Path:
    edit_manifest(root, lambda m: m["files"].update({"../../../../etc/hostname": "0" * 64}))
    return seeds


def files_disagree(root: Path, seeds: Path) -> Path:
    """Checksums all match, but passages.jsonl lost a line: the files must agree with each other."""
    build = current_build(root)
    lines = (build / "passages.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (build / "passages.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    from planqa.index.store import file_sha256

    edit_manifest(root, lambda m: m["files"].update({"passages.jsonl": file_sha256(build / "passages.jsonl")}))
    return seeds


# No index at all is not damage: `planqa ask` builds it on first use (tests/test_install.py).
CASES = {
    "missing build folder": missing_build,
    "missing file": missing_file,
    "truncated dense.faiss": truncate("dense.faiss"),
    "truncated vectors.npy": truncate("vectors.npy"),
    "truncated passages.jsonl": truncate("passages.jsonl"),
    "truncated bm25 array": truncate("bm25/data.csc.index.npy"),
    "truncated manifest": truncate("manifest.json"),
    "bit flip dense.faiss": flip("dense.faiss"),
    "bit flip vectors.npy": flip("vectors.npy"),
    "bit flip passages.jsonl": flip("passages.jsonl"),
    "bit flip bm25 vocabulary": flip("bm25/vocab.index.json"),
    "built from other seeds": other_seeds,
    "empty corpus": empty_corpus,
    "built with another model": other_model,
    "another format version": other_format,
    "CURRENT empty": pointer(b""),
    "CURRENT points outside": pointer(b"../../.."),
    "CURRENT not UTF-8": pointer(b"\xff\xfe\x00\x9c"),
    "CURRENT names no build": pointer(b"20990101T000000-1-000000"),
    "manifest not JSON": manifest_bytes(b"{\"format_version\": 1, \"files\": {"),
    "manifest not UTF-8": manifest_bytes(b"\xff\xfe{}"),
    "manifest wrong shape": manifest_bytes(b"[1, 2, 3]"),
    "manifest files not a mapping": manifest_bytes(b'{"format_version": 1, "files": ["dense.faiss"]}'),
    "manifest of 100,000 nested brackets": manifest_bytes(b"[" * 100_000 + b"]" * 100_000),
    "manifest format_version a string": lambda root, seeds: edit_manifest(root, lambda m: m.update(format_version="1")) or seeds,
    "manifest of 20 MB": manifest_bytes(b" " * 20_000_000 + b"{}"),
    "manifest checksums removed": checksums_removed,
    "manifest names a file outside": path_outside,
    "files disagree": files_disagree,
}


DAMAGED_MANIFEST = {"truncated manifest", "manifest not JSON", "manifest not UTF-8", "manifest wrong shape",
                    "manifest files not a mapping", "manifest of 100,000 nested brackets",
                    "manifest format_version a string", "manifest of 20 MB"}


def planqa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "planqa", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def copies(index_root, tmp_path) -> tuple[Path, Path]:
    """A private copy of the good index and of the seeds, to damage."""
    root, seeds = tmp_path / "index", tmp_path / "seeds"
    shutil.copytree(index_root, root)
    shutil.copytree(SEEDS, seeds)
    return root, seeds


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_index_names_the_rebuild_command(copies, case):
    root, seeds = copies
    seeds = CASES[case](root, seeds)
    out = planqa("ask", "今年新建多少家养老服务驿站？", "--index", str(root), "--seeds", str(seeds))
    assert out.returncode == 1, out.stderr
    assert out.stdout == ""
    assert f"planqa index --seeds {seeds} --out {root}" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("planqa: ") and out.stderr.count("\n") == 1
    if case in DAMAGED_MANIFEST:  # said so, not "has format 1, this planqa reads 1", not a RecursionError
        assert f"the index manifest {manifest_of(root)} is damaged" in out.stderr, out.stderr



def test_the_named_command_repairs_the_index(copies):
    root, seeds = copies
    flip("dense.faiss")(root, seeds)
    assert planqa("index", "--seeds", str(seeds), "--out", str(root)).returncode == 0
    out = planqa("ask", "--json", "今年新建多少家养老服务驿站？", "--index", str(root), "--seeds", str(seeds))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hits"][0]["text"] == "新建10家养老服务驿站。"


def test_an_empty_corpus_is_refused_by_the_build_too(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "plan.md").write_text("\n\n# 只有标题\n", encoding="utf-8")
    out = planqa("index", "--seeds", str(seeds), "--out", str(tmp_path / "index"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"the plans in {seeds} hold no sentences to index" in out.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_serve_refuses_a_damaged_index_before_starting(copies):
    root, seeds = copies
    flip("vectors.npy")(root, seeds)
    out = planqa("serve", "--port", "9", "--index", str(root), "--seeds", str(seeds))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "vectors.npy is corrupt" in out.stderr and f"planqa index --seeds {seeds} --out {root}" in out.stderr
