"""The real page in a real browser: Debian's chromium driven by Playwright, against `planqa serve`,
in a Chinese browser at desktop (1280 px) and phone (390×844) sizes. One server for the module,
its answers slowed by PLANQA_ANSWER_DELAY so that "while the server is slow" can be tested."""
from __future__ import annotations

import pytest
from conftest import BROWSER_LAYER, CHROMIUM, pid, serving  # noqa: F401  (CHROMIUM: for tests/test_e2e_answers.py)

pytestmark = BROWSER_LAYER
DELAY = 1.5  # seconds added to every answer by the server's test hook
SHORT = pid("6.2.3").split(":", 1)[1]
CITATION = ("新建10家养老服务驿站。\n——《2024年工作的总体思路和主要任务》第六部分【坚持以\"人民对美好生活的向往\"为导向,"
            f"大力促进民生福祉厚植增优】› 2、全面促进社会保障体系普惠共享，编号 {SHORT}")
USERS = "#planqa-chat [data-testid='user']"


@pytest.fixture(scope="module")
def server(index_root, tmp_path_factory):
    """The running `planqa serve`'s page address (also used by tests/test_e2e_answers.py)."""
    with serving(index_root, tmp_path_factory.mktemp("e2e"), PLANQA_ANSWER_DELAY=str(DELAY)) as s:
        yield s.url + "/"


def open_page(browser, server, width: int, height: int):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("#planqa-question textarea", timeout=60_000)
    return page


@pytest.fixture(scope="module")
def desk(browser, server):
    """One desktop page shared by the tests below, in order: a conversation that grows."""
    page = open_page(browser, server, 1280, 900)
    yield page
    page.context.close()


@pytest.fixture
def phone(browser, server):
    page = open_page(browser, server, 390, 844)
    yield page
    page.context.close()


def send(page, question: str) -> None:
    page.fill("#planqa-question textarea", question)
    page.click("#planqa-send")


def ask(page, question: str) -> None:
    """Send a question and wait until its answer is shown."""
    answered = page.locator("#planqa-chat [data-testid='bot']").count()
    send(page, question)
    page.wait_for_function(f"document.querySelectorAll(\"#planqa-chat [data-testid='bot']\").length > {answered}"
                           " && document.querySelector('#planqa-send').innerText === '提问'", timeout=60_000)
    page.wait_for_timeout(300)  # the page script's scroll runs on the next frame


def newest_first_hit(page):
    """The first quote after the newest question, as an element handle."""
    return page.evaluate_handle("""() => {
        const users = document.querySelectorAll("#planqa-chat [data-testid='user']");
        const last = users[users.length - 1];
        return [...document.querySelectorAll('#planqa-chat .planqa-hit')]
            .find(h => last.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""").as_element()


def inside(box, area) -> bool:
    return box["y"] >= area["y"] - 1 and box["y"] + box["height"] <= area["y"] + area["height"] + 1


# --- items 3 and 4: the echo, a busy server, a question typed meanwhile, escaping ---

def test_echo_comes_first_and_a_question_sent_meanwhile_is_answered(desk):
    send(desk, "今年新建多少家养老服务驿站？")
    desk.wait_for_function(f"document.querySelectorAll(\"{USERS}\").length === 1", timeout=DELAY * 1000 * 0.8)
    assert desk.locator(".planqa-hit").count() == 0  # echoed before the answer
    assert desk.locator("#planqa-send").inner_text() == "检索中…"
    box = desk.locator("#planqa-question textarea")
    assert box.is_editable() and box.input_value() == ""
    box.fill("东六环入地改造什么时候通车？")  # typed while the first answer is still coming
    box.press("Enter")
    desk.wait_for_function(f"document.querySelectorAll(\"{USERS}\").length === 2", timeout=30_000)
    desk.wait_for_function("document.querySelector('#planqa-send').innerText === '提问'", timeout=30_000)
    desk.wait_for_timeout(300)
    assert desk.locator(USERS).all_inner_texts() == ["今年新建多少家养老服务驿站？", "东六环入地改造什么时候通车？"]
    assert newest_first_hit(desk).query_selector(".qtext").inner_text() == "东六环入地改造具备通车条件。"
    assert box.input_value() == ""


def test_text_is_escaped_once(desk):
    question = """What's "this" <b>, 'single', &"""
    ask(desk, question)
    assert desk.locator(USERS).last.inner_text() == question
    assert desk.locator(USERS).last.locator("b").count() == 0


# --- item 1: the newest answer's first quote in view, history above ---

def test_newest_answer_shows_its_lead_and_first_quote(desk):
    ask(desk, "今年在养老方面有哪些安排？")
    hit = newest_first_hit(desk)
    chat = desk.locator("#planqa-chat").bounding_box()
    viewport = {"y": 0, "height": 900}
    box = hit.bounding_box()
    assert inside(box, viewport) and inside(box, chat), (box, chat)
    lead = desk.locator(USERS).last.bounding_box()
    assert inside(lead, chat)
    assert desk.locator(USERS).count() == 4  # the history is still there, above
    assert desk.locator(USERS).first.bounding_box()["y"] < lead["y"]


# --- items 6 and 7: copying a citation, an id into the outline, the table of contents ---

def test_copy_gives_the_full_citation_and_the_id_opens_the_outline(desk):
    ask(desk, "今年新建多少家养老服务驿站？")
    hit = newest_first_hit(desk)
    assert hit.query_selector(".qtext").inner_text() == "新建10家养老服务驿站。"
    assert hit.query_selector(".ref").inner_text() == "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"
    assert hit.query_selector(".pid").inner_text() == f"编号 {SHORT}"
    hit.query_selector(".planqa-copy").click()
    desk.wait_for_function("window.planqaCopied !== undefined", timeout=5_000)
    assert desk.evaluate("window.planqaCopied") == CITATION
    assert desk.evaluate("navigator.clipboard.readText()") == CITATION
    hit.query_selector("summary").click()
    assert hit.query_selector(".context .focus").inner_text() == "新建10家养老服务驿站。"

    hit.query_selector("a.pid").click()
    target = desk.locator(".planqa-target")
    target.wait_for(timeout=10_000)
    assert desk.get_by_role("tab", name="计划全文").get_attribute("aria-selected") == "true"
    assert target.inner_text() == f"{SHORT} 新建10家养老服务驿站。"
    assert inside(target.bounding_box(), {"y": 0, "height": 900})


def test_outline_table_of_contents_links_to_sections(desk):
    desk.get_by_role("tab", name="计划全文").click()
    toc = desk.locator(".planqa-toc")
    assert toc.locator("a").count() == 8 + desk.locator(".planqa-body h4").count()
    toc.get_by_role("link", name="3、协同推进优质资源共建共享促进群众幸福感\"多起来\"").click()
    heading = desk.locator("#planqa-sec-tongzhou-2024-work-plan-3-3")
    desk.wait_for_function("window.planqaTarget === 'planqa-sec-tongzhou-2024-work-plan-3-3'", timeout=5_000)
    assert inside(heading.bounding_box(), {"y": 0, "height": 900})
    codes = desk.locator(".planqa-body .sent code").all_inner_texts()
    assert len(codes) == 125 and SHORT in codes and not any(":" in c for c in codes)
    desk.get_by_role("tab", name="问答").click()


# --- items 5 and 8: one limit, Chinese throughout, plain-text labels ---

def test_count_control_offers_one_to_ten(desk):
    desk.locator("#planqa-k input").click()
    assert [o.replace("✓", "").strip() for o in desk.get_by_role("option").all_inner_texts()] == [str(i) for i in range(1, 11)]
    assert desk.locator("#planqa-k input").evaluate("e => e.readOnly")
    desk.keyboard.press("Escape")


def test_gradio_speaks_chinese_and_labels_are_plain_text(desk):
    assert desk.evaluate("document.documentElement.lang") == "zh-CN"
    clear = desk.locator("#planqa-chat button[aria-label='清空对话']")
    assert clear.count() == 1
    labels = desk.locator("#planqa-chat [data-testid='bot']").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels and all(label.startswith("回答：") and "<" not in label and "&" not in label for label in labels)
    hit_label = next(label for label in labels if "新建10家养老服务驿站。" in label)
    assert "class=" not in hit_label
    users = desk.locator(USERS).evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert users[0] == "提问：今年新建多少家养老服务驿站？"


# --- item 2: the phone ---

def test_phone_box_on_first_screen_and_chat_grows(phone):
    box = phone.locator("#planqa-question textarea").bounding_box()
    assert box["y"] + box["height"] <= 844, box
    ask(phone, "今年在养老方面有哪些安排？")
    chat = phone.locator("#planqa-chat")
    assert chat.evaluate("e => e.scrollHeight <= e.clientHeight + 1")  # no scroll box inside the page
    hit = newest_first_hit(phone).bounding_box()
    assert inside(hit, {"y": 0, "height": 844}), hit


def test_commitments_tab_shows_a_known_row(desk):
    desk.get_by_role("tab", name="承诺清单").click()
    table = desk.locator("#planqa-commitments")
    table.wait_for(timeout=30_000)
    desk.fill("#planqa-c-word textarea", "养老服务驿站")
    desk.keyboard.press("Enter")
    desk.wait_for_function(
        "document.querySelector('#planqa-commitments').innerText.includes('新建10家养老服务驿站。')", timeout=30_000)
    assert pid("6.2.3") in table.inner_text()
    desk.get_by_role("tab", name="问答").click()
