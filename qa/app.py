"""The chat page: a factory that builds the Gradio app, and pure handlers that tests call directly.

Only `launch` starts a server. Everything from a document is escaped (see views.py); the page's
script (PAGE_JS) copies citations, follows id links into the outline, keeps the newest answer's
first quote in view and gives screen readers plain-text labels.
"""
from __future__ import annotations

import logging
import os
import time
from functools import partial

from planqa.index.errors import InputError, PlanQAError
from planqa.index.search import Searcher

from planqa.config import Settings

from .answer import answer
from .limits import DEFAULT_K, MAX_ECHO_CHARS, MAX_HISTORY_CHARS, MAX_HISTORY_MESSAGES, MAX_K
from .views import answer_messages, chapter_heading, esc, outline_html

log = logging.getLogger("planqa.app")

EXAMPLES = [
    "今年新建多少家养老服务驿站？",
    "东六环入地改造什么时候通车？",
    "老旧小区改造有多少个？",
    "张家湾今年有哪些项目？",
    "民生方面有哪些实事？",
    "How many public kindergartens will open?",
]
ALL_CHAPTERS = "all"  # the chapter control's value for "every chapter" (0 is the introduction)
QUEUE_CONCURRENCY = 2  # two cores; the encoder runs one question at a time anyway
# Questions waiting at most, then Gradio says the queue is full: the load test's 50 tabs never filled
# it (docs/benchmarks.md, "The chat page": 0 errors, p95 1.6 s), and 64 clear in about 2 s at 34 answers/s.
QUEUE_MAX_SIZE = 64
BROKEN = "服务出错了，请稍后再试。"
SEND, BUSY = "提问", "检索中…"

CSS = """
.planqa-hit .quote { font-size: 1.05em; line-height: 1.7; }
.planqa-hit mark { background: #ffe58f; padding: 0 1px; }
.planqa-hit .ref { color: #555; margin-top: 4px; }
.planqa-hit .meta { display: flex; gap: 12px; align-items: center; margin-top: 4px; flex-wrap: wrap; }
.planqa-hit .pid { color: #777; font-family: monospace; font-size: 0.85em; }
.planqa-hit .context { color: #444; background: #fafafa; padding: 6px; }
.planqa-hit .context .focus { background: #e6f4ff; }
.planqa-copy { font-size: 0.85em; border: 1px solid #ccc; border-radius: 4px; padding: 1px 8px; }
.planqa-none { line-height: 1.8; }
/* the outline: contents and text side by side, each scrolling on its own (sticky fails inside Gradio's boxes) */
.planqa-outline { display: grid; grid-template-columns: minmax(200px, 280px) 1fr; gap: 24px; height: calc(100vh - 140px); }
.planqa-toc, .planqa-body { overflow-y: auto; height: 100%; padding-right: 8px; }
.planqa-toc { font-size: 0.9em; line-height: 1.6; border-right: 1px solid #eee; }
.planqa-toc ul { list-style: none; padding-left: 0; margin: 4px 0; }
.planqa-toc ul ul { padding-left: 1em; }
.planqa-toc-doc { font-weight: bold; }
.planqa-body h3, .planqa-body h4, .planqa-body .sent { scroll-margin-top: 12px; }
.sent code { color: #888; margin-right: 6px; }
.sent.planqa-target { background: #fff3c4; outline: 2px solid #f0b400; border-radius: 3px; }
@media (max-width: 700px) {
  .planqa-outline { display: block; height: auto; }
  .planqa-toc, .planqa-body { height: auto; overflow: visible; border: none; }
  .planqa-toc { margin-bottom: 16px; }
  #planqa-chat { max-height: none !important; height: auto !important; }  /* a phone scrolls the page, not a box in it */
}
"""

# The page's script, run once at load: delegated clicks (copy a citation, follow an id into the
# outline, table-of-contents links), the newest question scrolled to the top of the chat so its
# answer's lead line and first quote are in view, and screen-reader labels as plain text (Gradio
# labels each message with its raw HTML). Gradio's own strings follow the browser's language;
# the few it hard-codes in English are put into Chinese for a Chinese browser.
PAGE_JS = """
() => {
  const zh = (navigator.language || '').toLowerCase().startsWith('zh');
  const ENGLISH = {
    'Connection to the server was lost. Attempting reconnection...': '与服务器的连接已断开，正在重新连接…',
    'Connection Lost': '连接已断开', 'Error': '错误', 'Warning': '提示', 'Close': '关闭',
    'An error occurred.': '出错了。',
  };
  const outlineTab = () => [...document.querySelectorAll('button[role="tab"]')].find(b => b.innerText.trim() === '计划全文');
  const goTo = (id, mark) => {
    const tab = outlineTab();
    if (tab && tab.getAttribute('aria-selected') !== 'true') tab.click();
    let tries = 0;
    const look = () => {
      const el = document.getElementById(id);
      if (!el || !el.offsetParent) { if (tries++ < 50) setTimeout(look, 100); return; }
      if (mark) {
        document.querySelectorAll('.planqa-target').forEach(e => e.classList.remove('planqa-target'));
        el.classList.add('planqa-target');
      }
      el.scrollIntoView({block: mark ? 'center' : 'start'});
      window.planqaTarget = id;
    };
    look();
  };
  document.addEventListener('click', async (ev) => {
    const t = ev.target;
    if (!t.closest) return;
    const btn = t.closest('.planqa-copy');
    if (btn) {
      const text = btn.closest('.planqa-hit').querySelector('.planqa-cite').textContent;
      try { await navigator.clipboard.writeText(text); }
      catch (e) {
        const area = document.createElement('textarea'); area.value = text; document.body.appendChild(area);
        area.select(); document.execCommand('copy'); area.remove();
      }
      window.planqaCopied = text;
      btn.innerText = '已复制';
      setTimeout(() => { btn.innerText = '复制引文'; }, 1500);
      return;
    }
    const link = t.closest('a.pid, .planqa-toc a');
    if (link) {
      ev.preventDefault(); ev.stopPropagation();
      goTo(link.getAttribute('href').slice(1), link.classList.contains('pid'));
    }
  }, true);
  let seen = 0;
  const tidy = () => {
    const chat = document.getElementById('planqa-chat');
    if (chat) {
      chat.querySelectorAll('[data-testid="user"], [data-testid="bot"]').forEach(m => {
        const label = (m.dataset.testid === 'user' ? '提问：' : '回答：') + m.innerText.replace(/\\s+/g, ' ').trim().slice(0, 300);
        if (m.getAttribute('aria-label') !== label) m.setAttribute('aria-label', label);
      });
      const asked = chat.querySelectorAll('[data-testid="user"]');
      const count = chat.querySelectorAll('[data-testid="user"], [data-testid="bot"]').length;
      if (count !== seen && asked.length) {
        seen = count;
        const q = asked[asked.length - 1];
        let box = q.parentElement;
        const scrolls = (e) => e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(e).overflowY);
        while (box && box !== chat.parentElement && !scrolls(box)) box = box.parentElement;
        if (box && box !== chat.parentElement) box.scrollTop += q.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
        const top = q.getBoundingClientRect().top;
        // the window moves only when the question is off screen or too low for its answer to show
        if (top < 0 || top > window.innerHeight - 240) window.scrollBy(0, top - 8);
      } else if (!asked.length) seen = count;
    }
    if (zh) document.querySelectorAll('[data-testid="toast-body"] *, [data-testid="toast-close"]').forEach(el => {
      if (el.childElementCount === 0 && ENGLISH[el.textContent.trim()]) el.textContent = ENGLISH[el.textContent.trim()];
      if (ENGLISH[el.getAttribute('aria-label')]) el.setAttribute('aria-label', ENGLISH[el.getAttribute('aria-label')]);
    });
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; tidy(); });
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-label']});
}
"""


def chapter_choices(searcher: Searcher) -> list[tuple[str, int | str]]:
    """The chapter control's options: every chapter, then the introduction and each chapter."""
    passages = getattr(searcher, "passages", searcher)
    first = passages[0].document if passages else None
    seen: dict[int, str] = {}
    for p in passages:
        if p.document == first and p.chapter_no not in seen:
            seen[p.chapter_no] = chapter_heading(p) if p.chapter_no == 0 else p.chapter_label
    return [("全部章节", ALL_CHAPTERS)] + sorted(((label, no) for no, label in seen.items()), key=lambda c: c[1])


def chapter_value(chapter: int | str | None) -> int | None:
    """The control's value as `answer` takes it: None for every chapter, 0 for the introduction."""
    if chapter is None or chapter == ALL_CHAPTERS or chapter == "":
        return None
    return int(chapter)


def capped_history(history: object) -> list[dict]:
    """The chat history as plain {"role", "content": str} messages, newest kept, within the limits.

    The page keeps the history on the server, but respond() is also reachable through Gradio's
    queue with any value: a huge or odd history is cut here, never echoed back whole."""
    if not isinstance(history, list):
        return []
    kept: list[dict] = []
    total = 0
    for m in reversed(history[-MAX_HISTORY_MESSAGES:]):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        content = m.get("content")
        if isinstance(content, list):  # Gradio's normalised form: [{"type": "text", "text": ...}]
            parts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "text"]
            content = "".join(t for t in parts if isinstance(t, str)) if parts else None
        if not isinstance(content, str):
            continue  # files and components are never taken from a client
        total += len(content)
        if total > MAX_HISTORY_CHARS:
            break
        kept.append({"role": m["role"], "content": content})
    return kept[::-1]


def echo(message: str | None, history: object) -> list[dict]:
    """The history with the question shown as asked (cut when long), before any search."""
    shown = (message or "").strip()
    if len(shown) > MAX_ECHO_CHARS:
        shown = shown[:MAX_ECHO_CHARS] + "…"
    return capped_history(history) + [{"role": "user", "content": esc(shown) or "（空）"}]


def respond(searcher: Searcher, message: str, history: object, chapter: int | str | None, k: int | float | str | None,
            previous: str | None = None) -> tuple[list[dict], str, str | None]:
    """Chat handler: (history with the question and its answer, the cleared box, the question to
    pass as `previous` next time). The previous question helps a follow-up; history is only shown."""
    history = echo(message, history)
    asked = previous
    try:
        k_value = max(1, min(MAX_K, int(k or DEFAULT_K)))
        result = answer(searcher, message or "", k=k_value, chapter=chapter_value(chapter), previous=previous)
        replies = answer_messages(result, searcher.passages, EXAMPLES)
        asked = message
    except InputError as e:
        replies = [esc(str(e))]
    except PlanQAError as e:
        log.error("answer failed: %s", e)
        replies = [esc("索引不可用，请让管理员重建索引（planqa index）。")]
    except Exception:  # the last line of defence: a bug is logged, never shown to the browser
        log.exception("answer failed for a question of %d characters", len(message or ""))
        replies = [esc(BROKEN)]
    history.extend({"role": "assistant", "content": r} for r in replies)
    return history, "", asked


def chat_turn(searcher: Searcher, delay: float, message: str, history: list | None, chapter, k, previous):
    """The page's event: the question is echoed at once (and the box cleared), then answered.

    The box is not touched by the answer, so whatever was typed meanwhile stays; a question sent
    meanwhile runs next (trigger_mode="always_last"). `delay` slows answers down, for tests."""
    import gradio as gr

    shown = echo(message, history)
    yield shown, "", gr.skip(), gr.skip(), gr.Button(value=BUSY, variant="secondary")
    if delay:
        time.sleep(delay)
    new_history, _, asked = respond(searcher, message, history, chapter, k, previous)
    yield new_history, gr.skip(), new_history, asked, gr.Button(value=SEND, variant="primary")


def build_app(searcher: Searcher, answer_delay: float = 0.0):
    """The Gradio Blocks app for one loaded index (`answer_delay`: seconds added to every answer, for tests)."""
    import gradio as gr

    from .commitments_tab import commitments_tab

    choices = chapter_choices(searcher)
    title = searcher.passages[0].doc_title
    with gr.Blocks(title=f"planqa · {title}", analytics_enabled=False) as demo:
        gr.Markdown(f"### planqa · {esc(title)}\n回答均为计划原句，附章节出处；计划没有写的，会直说没有。",
                    elem_id="planqa-header")
        with gr.Tab("问答"):
            chat = gr.Chatbot(label="对话", show_label=False, height=None, min_height=140, max_height="68vh",
                              autoscroll=False, buttons=[], latex_delimiters=[], feedback_options=None,
                              sanitize_html=True, elem_id="planqa-chat",
                              placeholder="在下方输入问题；回答是计划原句，附章节出处。")
            with gr.Row(equal_height=True):
                box = gr.Textbox(placeholder="请输入问题，例如：今年新建多少家养老服务驿站？", show_label=False,
                                 max_length=500, scale=5, min_width=200, elem_id="planqa-question", submit_btn=False)
                send = gr.Button(SEND, variant="primary", scale=1, min_width=80, elem_id="planqa-send")
            with gr.Row():
                chapter = gr.Dropdown(choices=choices, value=ALL_CHAPTERS, label="章节范围", scale=3, filterable=False,
                                      elem_id="planqa-chapter")
                k = gr.Dropdown(choices=list(range(1, MAX_K + 1)), value=DEFAULT_K, label="最多显示条数", scale=1,
                                filterable=False, min_width=120, elem_id="planqa-k")
            gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[box], label="示例问题（点击填入）")
            history = gr.State([])
            previous = gr.State(None)
            gr.on([box.submit, send.click], partial(chat_turn, searcher, answer_delay),
                  inputs=[box, history, chapter, k, previous], outputs=[chat, box, history, previous, send],
                  api_name=False, trigger_mode="always_last", show_progress="minimal", show_progress_on=[chat])
            # Gradio's clear button (清除) empties the chat: a new conversation, nothing to follow up on.
            chat.clear(lambda: ([], None), outputs=[history, previous], api_name=False, queue=False)
        commitments_tab(searcher)
        with gr.Tab("计划全文"):
            gr.HTML(outline_html(searcher.passages), elem_id="planqa-outline", padding=False)
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE, api_open=False)
    return demo


def launch(searcher: Searcher, settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Start the page with safe defaults: local bind, no share link, queue limits, no uploads.

    Checked against a running server by tests/test_security.py; deploying: docs/deploy.md.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # Gradio keeps the files it serves (any upload, were one accepted) in /tmp/gradio by default, a
    # shared folder another local user can create first and fill; it serves whatever is in it.
    # Components read this when they are created, so it is set before build_app.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.cache / "gradio"))
    from fastapi.responses import JSONResponse
    from gradio.route_utils import FnIndexInferError

    def not_found(request: object, exc: Exception) -> JSONResponse:
        # A run request naming no event handler (/gradio_api/run/predict): a 404, where Gradio
        # answers 500 and logs a traceback for every scanner that tries it.
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    from .api import api_routes
    from .downloads import downloads_dir
    from .security import forwarded_allow_ips, guarded_app, own_origins

    origins = own_origins(host, port, settings.allowed_origins)  # a bad PLANQA_ALLOWED_ORIGINS stops here
    # uvicorn (started by Gradio) reads this when it starts: X-Forwarded-For is believed only from these
    # proxies, so the password backoff counts per real client (qa/security.py), not per claimed one.
    os.environ["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips(settings.trusted_proxies)
    demo = build_app(searcher, answer_delay=settings.answer_delay)
    routes = api_routes(searcher, downloads_dir(settings.cache))
    app_kwargs = {"exception_handlers": {FnIndexInferError: not_found}, "routes": routes}
    demo.launch(
        server_name=host, server_port=port, share=False, show_error=False,
        # The page takes no uploads, but Gradio's /upload route is always there: refuse any file.
        max_file_size=0,
        enable_monitoring=False, mcp_server=False, run_history=False, ssr_mode=False, pwa=False,
        auth=settings.auth, auth_message="planqa：请登录", footer_links=["gradio"], quiet=True,
        prevent_thread_lock=not block, css=CSS, js=PAGE_JS,
        # The JSON API and the commitments downloads (qa/api.py) come first in the routing table,
        # behind the same login.
        app_kwargs=app_kwargs,
        # qa/security.py stands in front of all of it: origins, cookies, login-only routes, password
        # backoff, uploads. No static workers: they would serve files around it.
        _app=guarded_app(origins, settings.auth is not None, **app_kwargs), num_workers=0,
    )
    return demo
