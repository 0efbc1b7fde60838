"""The 承诺清单 tab in a real browser (Debian's chromium, Playwright, a Chinese locale) against
`planqa serve`, at desktop (1280 px) and phone (390 px) widths: filter by milestone and keyword,
download CSV and Excel and read their rows, copy a citation; screenshots go to docs/."""
from __future__ import annotations

import csv

import pytest
from conftest import BROWSER_LAYER, ROOT, pid, serving

pytestmark = BROWSER_LAYER
ELDERLY = [pid("6.2.2"), pid("6.2.3")]  # 确保区养老院投入运营。 新建10家养老服务驿站。


@pytest.fixture(scope="module")
def server(index_root, tmp_path_factory):
    with serving(index_root, tmp_path_factory.mktemp("e2e-commitments")) as s:
        yield s.url + "/"


def open_tab(browser, server, width: int):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900 if width > 600 else 844},
                                  accept_downloads=True, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server)
    page.get_by_role("tab", name="承诺清单").click()
    page.wait_for_selector("#planqa-commitments .c-row", timeout=60_000)
    return page


def filter_elderly_done(page) -> None:
    page.click("#planqa-c-milestone input")
    page.get_by_role("option", name="今年要完成/投用的").click()
    page.fill("#planqa-c-word textarea, #planqa-c-word input", "养老")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#planqa-commitments .c-row').length === 2", timeout=30_000)


def download(page, button: str, name: str, tmp_path):
    """Click a download button until the file named after the filter comes (the button updates just after the list)."""
    for _ in range(20):
        with page.expect_download(timeout=15_000) as d:
            page.click(button)
        if d.value.suggested_filename == name:
            path = tmp_path / name
            d.value.save_as(path)
            return path
        page.wait_for_timeout(500)
    raise AssertionError(f"last download was {d.value.suggested_filename}, not {name}")


def check_downloads(page, tmp_path) -> None:
    from openpyxl import load_workbook

    path = download(page, "#planqa-c-csv", "承诺清单_完成或投用_养老.csv", tmp_path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:4] == ["章节 chapter", "小节 section", "承诺程度 milestone", "对象 object"]
    assert [r[9] for r in table[1:]] == ELDERLY
    assert [r[3] for r in table[1:]] == ["区养老院", "养老服务驿站"] and table[2][4:6] == ["10", "家"]
    path = download(page, "#planqa-c-xlsx", "承诺清单_完成或投用_养老.xlsx", tmp_path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert [r[9] for r in rows[1:]] == ELDERLY and rows[1][8] == "确保区养老院投入运营。"


def check_copy(page) -> None:
    page.evaluate("window.planqaCopied = null")
    page.locator("#planqa-commitments .c-row").nth(1).locator(".planqa-copy").click()
    copied = page.wait_for_function("window.planqaCopied", timeout=10_000).json_value()  # set once the clipboard took it
    assert copied.startswith("新建10家养老服务驿站。\n——《2024年工作的总体思路和主要任务》第六部分【")
    assert copied.endswith("› 2、全面促进社会保障体系普惠共享，编号 " + pid("6.2.3").split(":", 1)[1])


def test_desktop_filters_downloads_and_copies(browser, server, tmp_path):
    page = open_tab(browser, server, 1280)
    counts = page.locator("#planqa-c-counts").inner_text()
    assert "合计" in counts and "投用" in counts
    filter_elderly_done(page)
    text = page.locator("#planqa-commitments").inner_text()
    assert "确保区养老院投入运营。" in text and "新建10家养老服务驿站。" in text and pid("6.2.3") in text
    check_downloads(page, tmp_path)
    check_copy(page)
    page.screenshot(path=str(ROOT / "docs" / "commitments-1280.png"), full_page=False)
    page.context.close()


def test_phone_shows_cards_without_sideways_scrolling(browser, server, tmp_path):
    page = open_tab(browser, server, 390)
    filter_elderly_done(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    card = page.locator("#planqa-commitments .c-row").first
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert card.locator(":scope > div").first.inner_text().startswith("确保区养老院投入运营。")  # quote first
    assert not page.locator("#planqa-commitments .c-head").is_visible()
    fields = card.inner_text()
    assert "承诺程度：" in fields and "对象：区养老院" in fields
    check_downloads(page, tmp_path)
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(ROOT / "docs" / "commitments-390.png"), full_page=False)
    page.context.close()
