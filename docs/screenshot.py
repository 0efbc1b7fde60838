"""Screenshots of the chat page for the README, in a Chinese browser, desktop and phone.

    python docs/screenshot.py http://127.0.0.1:7860/   (with `planqa serve` running)

Writes docs/chat-1280.png (a list question answered, one quote opened in its section) and
docs/chat-390.png (a phone: a question answered, the box below it), and docs/outline-1280.png
(an id followed into 计划全文). Needs Debian's chromium and fonts-noto-cjk (or any CJK font):
without one every character is a box.
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


def ask(page, question: str) -> None:
    before = page.locator(".planqa-hit").count()
    page.fill("#planqa-question textarea", question)
    page.click("#planqa-send")
    page.wait_for_function(f"document.querySelectorAll('.planqa-hit').length > {before}", timeout=60_000)
    page.wait_for_timeout(600)


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

        desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = desk.new_page()
        page.goto(url)
        page.wait_for_selector("#planqa-question textarea", timeout=60_000)
        ask(page, "今年在养老方面有哪些安排？")
        page.locator(".planqa-hit summary").first.click()
        page.wait_for_timeout(400)
        page.screenshot(path=str(HERE / "chat-1280.png"))
        page.locator(".planqa-hit a.pid").first.click()
        page.wait_for_selector(".planqa-target", timeout=10_000)
        page.wait_for_timeout(400)
        page.screenshot(path=str(HERE / "outline-1280.png"))

        phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)
        page = phone.new_page()
        page.goto(url)
        page.wait_for_selector("#planqa-question textarea", timeout=60_000)
        ask(page, "今年新建多少家养老服务驿站？")
        page.screenshot(path=str(HERE / "chat-390.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860/")
