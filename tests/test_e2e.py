"""The real page in a real browser: Debian's chromium driven by Playwright, against `planqa serve`."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT, SEEDS, pid

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.subprocess,
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                       reason="Debian's chromium is not installed (bin/test installs it)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(index_root):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "planqa", "serve", "--port", str(port), "--index", str(index_root), "--seeds", str(SEEDS)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError as e:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.poll() is not None else ""
                    raise RuntimeError(f"server did not start: {output}") from e
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000},
                                      permissions=["clipboard-read", "clipboard-write"])
        pg = context.new_page()
        pg.goto(server)
        pg.wait_for_selector("#planqa-question textarea", timeout=60_000)
        yield pg
        browser.close()


def ask(page, question: str) -> None:
    before = page.locator("#planqa-chat .message").count()
    page.fill("#planqa-question textarea", question)
    page.click("#planqa-send")
    page.wait_for_function(
        f"document.querySelectorAll('#planqa-chat .message').length > {before + 1}", timeout=60_000)


def test_question_answered_with_quote_and_reference(page):
    ask(page, "今年新建多少家养老服务驿站？")
    hit = page.locator(".planqa-hit").first
    hit.wait_for(timeout=30_000)
    assert hit.locator(".qtext").inner_text() == "新建10家养老服务驿站。"
    assert hit.locator(".ref").inner_text() == "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"
    assert hit.locator(".pid").inner_text() == pid("6.2.3")
    assert hit.locator("mark").all_inner_texts() == ["新建", "养老服务驿站"]
    # the copy button copies the quote as published with its reference
    hit.locator(".planqa-copy").click()
    page.wait_for_function("window.planqaCopied !== undefined", timeout=5_000)
    assert page.evaluate("window.planqaCopied") == (
        "新建10家养老服务驿站。\n第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享")
    # the passage in the context of its section
    hit.locator("summary").click()
    assert hit.locator(".context .focus").inner_text() == "新建10家养老服务驿站。"


def test_unanswerable_question_is_said_plainly(page):
    ask(page, "地铁M101线什么时候开通？")
    last = page.locator("#planqa-chat .message").last
    assert "计划中未找到与该问题直接相关的内容" in last.inner_text()


def test_commitments_tab_shows_a_known_row(page):
    page.get_by_role("tab", name="承诺清单").click()
    table = page.locator("#planqa-commitments")
    table.wait_for(timeout=30_000)
    page.fill("textarea[placeholder='如：养老、马驹桥、完工']", "养老服务驿站")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#planqa-commitments').innerText.includes('新建10家养老服务驿站。')", timeout=30_000)
    text = table.inner_text()
    assert "10家" in text and pid("6.2.3") in text
