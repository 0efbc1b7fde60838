"""A build killed with SIGKILL at any point leaves the previous index serving.

Real `planqa index` processes are killed right after each progress line (before the build folder
exists, halfway through embedding, after every file but the manifest) and then at seeded random
moments over the build's duration. After each kill the index in use must be a complete build (the
previous one, or the new one if the kill came after the switch), and `planqa ask` must answer from
it exactly as before. Later builds succeed and leave only the build in use and the one before it:
no half-written folder, no temp pointer file. A second build started while one runs fails at once,
and does not block readers. (`ask` runs in-process through the CLI's main: the builds are the
processes being killed, and a fresh interpreter per check would only add seconds.)
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS, pid

from planqa.cli import main

pytestmark = [pytest.mark.subprocess, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and SIGSTOP are POSIX")]

QUESTION = "今年新建多少家养老服务驿站？"
ANSWER_ID = pid("6.2.3")
# Progress lines to kill right after: no build folder yet, passages only, every file but the manifest.
AFTER_LINES = ["parsed 125 passages", "embedded 64/125", "built the FAISS and BM25 indexes"]
TIMED_KILLS = 4


def start_build(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "planqa", "index", "--seeds", str(SEEDS), "--out", str(root)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_line(proc: subprocess.Popen, fragment: str) -> None:
    for line in proc.stderr:
        if fragment in line:
            return
    raise AssertionError(f"the build ended (rc {proc.wait()}) before printing {fragment!r}")


def kill(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.stderr.read()
    return proc.wait(timeout=30)


def current(root: Path) -> str:
    return (root / "CURRENT").read_text(encoding="utf-8").strip()


def builds(root: Path) -> set[str]:
    return {p.name for p in (root / "builds").iterdir()}


def ask(root: Path, capsys) -> dict:
    capsys.readouterr()
    rc = main(["ask", "--json", QUESTION, "--index", str(root), "--seeds", str(SEEDS)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def full_build(root: Path) -> None:
    proc = start_build(root)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def assert_clean(root: Path, previous: str) -> None:
    """After a finished build: the build in use and the one it replaced, nothing else."""
    now = current(root)
    assert builds(root) <= {now, previous} and now in builds(root)
    assert all((root / "builds" / b / "manifest.json").is_file() for b in builds(root))
    assert not list(root.glob(".CURRENT.*"))


@pytest.fixture()
def root(index_root, tmp_path) -> Path:
    """A copy of the session's good index, to build over."""
    shutil.copytree(index_root, tmp_path / "index")
    return tmp_path / "index"


def test_builds_killed_at_random_points_leave_the_previous_index_serving(root, capsys):
    good = current(root)
    expected = ask(root, capsys)
    assert expected["hits"][0]["id"] == ANSWER_ID
    outcomes = []

    def check(how, when, rc) -> str:
        outcomes.append((how, when, rc))
        now = current(root)
        # The pointer names the previous good build, or a complete new one if the kill came after the switch.
        assert now == good or (rc in (0, -9) and (root / "builds" / now / "manifest.json").is_file()), outcomes
        assert ask(root, capsys) == expected, outcomes
        return now

    started = time.monotonic()
    for line in AFTER_LINES:
        proc = start_build(root)
        wait_for_line(proc, line)
        duration = time.monotonic() - started  # the last line comes just before the manifest and the switch
        good = check("after line", line, kill(proc))
        started = time.monotonic()
    # The kills landed mid-build (the last one, just before the manifest, may lose the race and find it done).
    assert [rc for *_, rc in outcomes[:-1]] == [-9] * (len(AFTER_LINES) - 1)

    rng = random.Random(20240605)
    for _ in range(TIMED_KILLS):
        proc = start_build(root)
        delay = rng.uniform(0.05, duration * 1.1)
        time.sleep(delay)
        good = check("after seconds", round(delay, 2), kill(proc))

    # What a kill in the last milliseconds would leave, too rarely hit by timing to leave to chance:
    # a temp pointer file, and a finished build never switched to (named as if from a later clock).
    (root / ".CURRENT.99999.tmp").write_bytes(b"2099")
    shutil.copytree(root / "builds" / current(root), root / "builds" / "29991231T235959-99999-000000")

    # A later build runs to the end and clears whatever the kills left behind.
    previous = current(root)
    full_build(root)
    assert_clean(root, previous=previous)
    assert ask(root, capsys) == expected


def test_a_second_build_fails_fast_and_readers_are_not_blocked(root, capsys):
    first = start_build(root)
    try:
        wait_for_line(first, "parsed")  # it holds the lock now
        os.kill(first.pid, signal.SIGSTOP)  # and keeps holding it, however slow the second one is to start
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "planqa", "index", "--seeds", str(SEEDS), "--out", str(root)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        waited = time.monotonic() - started
        assert second.returncode == 1, second.stderr
        assert f"another build of {root} is running; wait for it to finish" in second.stderr
        assert "Traceback" not in second.stderr
        assert waited < 30  # it did not wait for the lock
        assert ask(root, capsys)["hits"][0]["id"] == ANSWER_ID  # reading needs no lock
    finally:
        os.kill(first.pid, signal.SIGCONT)
    first.stderr.read()
    assert first.wait(timeout=300) == 0
    assert ask(root, capsys)["hits"][0]["id"] == ANSWER_ID
