"""Screenshot of the chat page answering a real question, for the README.

    python docs/screenshot.py http://127.0.0.1:7860/   (with `planqa serve` running)
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(url)
        page.wait_for_selector("#planqa-question textarea", timeout=60_000)
        page.fill("#planqa-question textarea", "今年在养老方面有哪些安排？")
        page.click("#planqa-send")
        page.wait_for_selector(".planqa-hit", timeout=60_000)
        page.locator(".planqa-hit summary").first.click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(HERE / "chat.png"), full_page=True)
        page.get_by_role("tab", name="承诺清单").click()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(HERE / "commitments.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860/")
