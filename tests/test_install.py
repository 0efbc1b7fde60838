"""planqa as a user installs it: the wheel, in a fresh virtual environment, run from an empty folder.

The wheel is built from the checkout, installed (without dependencies) into a new venv that sees
this machine's installed packages (numpy, faiss, the models), and every command runs from an empty
temporary folder with PLANQA_CACHE and PLANQA_INDEX in tmp: nothing reads the checkout or the
user's cache. The first `planqa ask` builds the index with progress, then `planqa index`, `planqa ask
--json`, `planqa commitments --csv` and `planqa serve` (through its JSON API) answer from it.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, free_port, pid, stop

pytestmark = [pytest.mark.subprocess, pytest.mark.model]

QUESTION = "今年新建几家养老服务驿站？"
QUOTE = "新建10家养老服务驿站。"
REFERENCE = "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"


def source_tree(dest: Path) -> Path:
    """What the wheel is built from: pyproject.toml, the README and every folder mapped into the package.

    A copy, so that building leaves no build/ or egg-info behind in the checkout."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for folder in set(pyproject["tool"]["setuptools"]["package-dir"].values()):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, wheel, environment for the venv's commands, an empty working folder)."""
    tmp = tmp_path_factory.mktemp("install")
    src = source_tree(tmp_path_factory.mktemp("src"))
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
                    "-q", "-w", str(dist), str(src)], check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("planqa-*.whl"))
    venv = tmp / "venv"
    # --system-site-packages: the dependencies come from this machine; pip too, run by the venv's python.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANQA_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               PLANQA_CACHE=str(tmp / "cache"), PLANQA_INDEX=str(tmp / "index"),
               GRADIO_ANALYTICS_ENABLED="False", NO_COLOR="1")
    work = tmp / "empty"
    work.mkdir()
    return venv, wheel, env, work


def run(installed, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
    venv, _, env, work = installed
    out = subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def test_the_wheel_holds_one_package_and_its_data(installed):
    _, wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"planqa", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "planqa/seeds/tongzhou-2024-work-plan.md" in names
    # every data file of the checkout's package folders ships (a missing one only fails after install);
    # a folder's README.md is documentation, not data
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    expected = {f"{package.replace('.', '/')}/{path.relative_to(ROOT / folder).as_posix()}"
                for package, folder in pyproject["package-dir"].items()
                for path in (ROOT / folder).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc" and path.name != "README.md"}
    assert sorted(expected - set(names)) == []


def test_only_planqa_is_importable_and_it_is_the_wheels(installed):
    venv, _, _, _ = installed
    where = site_packages(venv)
    code = ("import planqa, planqa.index, planqa.qa, planqa.eval, planqa.seeds, planqa.cli; "
            "print('\\n'.join(m.__file__ for m in (planqa, planqa.index, planqa.qa, planqa.eval, planqa.seeds, planqa.cli)))")
    files = run(installed, str(venv / "bin" / "python"), "-c", code).stdout.split()
    assert files and all(Path(f).is_relative_to(where) for f in files), files  # not the editable checkout
    assert (venv / "bin" / "planqa").read_text().startswith(f"#!{venv / 'bin' / 'python'}")
    for name in ("index", "qa", "eval", "seeds"):
        out = run(installed, str(venv / "bin" / "python"), "-c", f"import {name}", check=False)
        assert out.returncode == 1 and f"ModuleNotFoundError: No module named '{name}'" in out.stderr
    top = {p.name for p in where.iterdir()} - {"__pycache__"}
    assert top == {"planqa", "planqa-0.1.0.dist-info"}, top  # nothing else installed at the top


def test_first_question_builds_the_index_then_every_command_works(installed):
    venv, _, env, work = installed
    site = site_packages(venv)

    first = run(installed, "planqa", "ask", QUESTION)
    assert first.stderr.splitlines()[0] == (
        f"planqa: no index at {env['PLANQA_INDEX']} yet; building it from {site / 'planqa' / 'seeds'} (once, about a minute)")
    assert "planqa: embedded 125/125 passages with e5-small-q4" in first.stderr.splitlines()
    lines = first.stdout.splitlines()
    assert lines[:4] == ["计划中有 1 处相关内容：", "", "1. **新建**10家**养老服务驿站**。", f"   {REFERENCE}"]
    assert re.fullmatch(rf"   {re.escape(pid('6.2.3'))}  score (\d+\.\d{{3}})", lines[4]), lines[4]

    built = run(installed, "planqa", "index")
    assert built.stderr.splitlines()[-1].startswith(f"planqa: index ready at {env['PLANQA_INDEX']}/builds/")

    answer = json.loads(run(installed, "planqa", "ask", "--json", QUESTION).stdout)
    assert answer["answered"] is True
    top = answer["hits"][0]
    assert (top["id"], top["text"], top["reference"]) == (pid("6.2.3"), QUOTE, REFERENCE)
    assert abs(float(lines[4].rsplit(" ", 1)[1]) - top["score"]) <= 0.0006  # the same score, rounded to 3 and 4 places

    done = run(installed, "planqa", "commitments", "--csv", "c.csv")
    written = re.fullmatch(r"planqa: (\d+) rows written to c\.csv\n", done.stderr)
    with open(work / "c.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert written and len(rows) == int(written[1])
    assert [r["原文 quote"] for r in rows if r["编号 id"] == pid("6.2.3")] == [QUOTE]

    assert sorted(p.name for p in work.iterdir()) == ["c.csv"]  # nothing else written where planqa ran


def test_serve_answers(installed):
    venv, _, env, work = installed
    run(installed, "planqa", "index")  # the server builds a missing index too; here one is ready
    port = free_port()
    log = work.parent / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["planqa", "serve", "--port", str(port)], cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/api/ask?" + urllib.parse.urlencode({"q": QUESTION})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy: 127.0.0.1 only
        deadline = time.monotonic() + 120
        while True:
            try:
                with opener.open(url, timeout=30) as r:
                    status, body = r.status, json.loads(r.read().decode("utf-8"))
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the server did not answer: {log.read_text(errors='replace')[-3000:]}") from None
                time.sleep(0.5)
        assert status == 200 and body["answered"] is True
        assert (body["hits"][0]["id"], body["hits"][0]["text"]) == (pid("6.2.3"), QUOTE)
        with opener.open(f"http://127.0.0.1:{port}/config", timeout=30) as r:  # the chat page's own settings
            assert r.status == 200 and json.loads(r.read().decode("utf-8"))["title"] == "planqa · 2024年工作的总体思路和主要任务"
    finally:
        stop(proc)
