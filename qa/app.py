"""The chat page: a factory that builds the Gradio app, and pure handlers that tests call directly.

Only `launch` starts a server. Everything from a document is escaped (see views.py).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from functools import lru_cache, partial
from pathlib import Path

from planqa.index.errors import InputError, PlanQAError
from planqa.index.search import Searcher

from planqa.config import Settings

from .answer import answer
from .views import answer_messages, esc, outline_html

log = logging.getLogger("planqa.app")

EXAMPLES = [
    "今年新建多少家养老服务驿站？",
    "东六环入地改造什么时候通车？",
    "老旧小区改造有多少个？",
    "张家湾今年有哪些项目？",
    "民生方面有哪些实事？",
    "How many public kindergartens will open?",
]
ALL_CHAPTERS = 0
MAX_K = 10
QUEUE_CONCURRENCY = 2  # two cores; the encoder runs one question at a time anyway
QUEUE_MAX_SIZE = 64
BROKEN = "服务出错了，请稍后再试。"

CSS = """
.planqa-hit .quote { font-size: 1.05em; line-height: 1.7; }
.planqa-hit mark { background: #ffe58f; padding: 0 1px; }
.planqa-hit .ref { color: #555; margin-top: 4px; }
.planqa-hit .pid { color: #999; font-family: monospace; font-size: 0.85em; }
.planqa-hit .context { color: #444; background: #fafafa; padding: 6px; }
.planqa-hit .context .focus { background: #e6f4ff; }
.planqa-copy { margin-top: 4px; font-size: 0.85em; border: 1px solid #ccc; border-radius: 4px; padding: 1px 8px; }
.planqa-none { line-height: 1.8; }
.sent code { color: #999; margin-right: 6px; }
"""

# One delegated click handler: a quote's copy button copies the quote as published and its reference.
COPY_JS = """
() => {
  document.addEventListener('click', async (ev) => {
    const btn = ev.target.closest && ev.target.closest('.planqa-copy');
    if (!btn) return;
    const hit = btn.closest('.planqa-hit');
    const text = hit.querySelector('.qtext').innerText + '\\n' + hit.querySelector('.ref').innerText;
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const area = document.createElement('textarea'); area.value = text; document.body.appendChild(area);
      area.select(); document.execCommand('copy'); area.remove();
    }
    window.planqaCopied = text;
    btn.innerText = '已复制';
    setTimeout(() => { btn.innerText = '复制引文'; }, 1500);
  });
}
"""


def chapter_choices(searcher: Searcher) -> list[tuple[str, int]]:
    return [("全部章节", ALL_CHAPTERS)] + [(label, no) for no, label in searcher.chapters()]


def respond(searcher: Searcher, message: str, history: list | None, chapter: int | None, k: int | float | None):
    """Chat handler: every question is a new search; history is only shown, never searched."""
    history = list(history or [])
    shown = (message or "").strip()
    if len(shown) > 200:
        shown = shown[:200] + "…"
    history.append({"role": "user", "content": esc(shown) or "（空）"})
    try:
        k_value = max(1, min(MAX_K, int(k or 5)))
        result = answer(searcher, message or "", k=k_value, chapter=int(chapter) if chapter else None)
        replies = answer_messages(result, searcher.passages, EXAMPLES)
    except InputError as e:
        replies = [esc(str(e))]
    except PlanQAError as e:
        log.error("answer failed: %s", e)
        replies = [esc("索引不可用，请让管理员重建索引（planqa index）。")]
    except Exception:  # the last line of defence: a bug is logged, never shown to the browser
        log.exception("answer failed for a question of %d characters", len(message or ""))
        replies = [esc(BROKEN)]
    history.extend({"role": "assistant", "content": r} for r in replies)
    return history, ""


def commitment_rows(searcher: Searcher, chapter: int | None, keyword: str | None) -> list[list[str]]:
    from .commitments import as_rows, commitments

    rows = commitments(searcher.passages, chapter=int(chapter) if chapter else None, grep=(keyword or "").strip() or None)
    return as_rows(rows)


def commitments_csv(searcher: Searcher, chapter: int | None, keyword: str | None) -> str:
    """The filtered commitments as a CSV file (UTF-8 with BOM) to download."""
    from .commitments import commitments, to_csv

    word = (keyword or "").strip() or None
    rows = commitments(searcher.passages, chapter=int(chapter) if chapter else None, grep=word)
    # One file per filter, rewritten in place: typing in the keyword box must not pile up files.
    digest = hashlib.sha1(f"{chapter}|{word}".encode()).hexdigest()[:12]
    folder = _csv_folder() / digest
    folder.mkdir(exist_ok=True)
    path = folder / "planqa-commitments.csv"  # the name the user's download gets
    tmp = folder / f".{threading.get_ident()}.tmp"
    to_csv(rows, tmp)
    os.replace(tmp, path)
    return str(path)


@lru_cache(maxsize=1)
def _csv_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="planqa-csv-"))


def build_app(searcher: Searcher):
    """The Gradio Blocks app for one loaded index."""
    import gradio as gr

    from .commitments import CSV_COLUMNS

    choices = chapter_choices(searcher)
    title = searcher.passages[0].doc_title
    # delete_cache: Gradio's copies of served files (the CSV downloads) are swept hourly.
    with gr.Blocks(title=f"planqa · {title}", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"## planqa · {esc(title)}\n计划原文检索：回答均为计划原句，附章节出处；计划没有写的，会直说没有。")
        with gr.Tab("问答"):
            with gr.Row():
                chapter = gr.Dropdown(choices=choices, value=ALL_CHAPTERS, label="章节范围", scale=3)
                k = gr.Slider(1, MAX_K, value=5, step=1, label="最多显示条数", scale=1)
            chat = gr.Chatbot(label="对话", height=520, buttons=[], latex_delimiters=[], feedback_options=None,
                              sanitize_html=True, elem_id="planqa-chat")
            with gr.Row():
                box = gr.Textbox(placeholder="请输入问题，例如：今年新建多少家养老服务驿站？", show_label=False,
                                 max_length=500, scale=5, elem_id="planqa-question")
                send = gr.Button("提问", variant="primary", scale=1, elem_id="planqa-send")
            gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[box], label="示例问题（点击填入）")
            handler = partial(respond, searcher)
            for trigger in (box.submit, send.click):
                trigger(handler, inputs=[box, chat, chapter, k], outputs=[chat, box], api_name=False)
        with gr.Tab("承诺清单"):
            gr.Markdown("计划中的每一句任务：动作、数量、地点，原文照录。没有量化目标的句子单独标出。")
            with gr.Row():
                c_chapter = gr.Dropdown(choices=choices, value=ALL_CHAPTERS, label="章节", scale=2)
                c_word = gr.Textbox(label="关键词", placeholder="如：养老、马驹桥、完工", scale=2)
                c_download = gr.DownloadButton("下载 CSV", scale=1)
            table = gr.Dataframe(value=commitment_rows(searcher, None, None), headers=list(CSV_COLUMNS), wrap=True,
                                 interactive=False, max_height=640, elem_id="planqa-commitments",
                                 column_widths=["15%", "13%", "8%", "9%", "9%", "5%", "33%", "8%"])
            filters = [c_chapter, c_word]
            for trigger in (c_chapter.change, c_word.submit, c_word.change):
                trigger(partial(commitment_rows, searcher), inputs=filters, outputs=table, api_name=False,
                        show_progress="hidden")
                trigger(partial(commitments_csv, searcher), inputs=filters, outputs=c_download, api_name=False,
                        show_progress="hidden")
            demo.load(partial(commitments_csv, searcher), inputs=filters, outputs=c_download, api_name=False)
        with gr.Tab("计划全文"):
            gr.HTML(outline_html(searcher.passages), elem_id="planqa-outline")
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE, api_open=False)
    return demo


def launch(searcher: Searcher, settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Start the page with safe defaults: local bind, no share link, queue limits, no uploads.

    Checked against a running server by tests/test_security.py; deploying: docs/deploy.md.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # Gradio keeps served files (the CSV downloads, and any upload) in /tmp/gradio by default, a
    # shared folder another local user can create first and fill; it serves whatever is in it.
    # Components read this when they are created, so it is set before build_app.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.cache / "gradio"))
    from fastapi.responses import JSONResponse
    from gradio.route_utils import FnIndexInferError

    def not_found(request: object, exc: Exception) -> JSONResponse:
        # A run request naming no event handler (/gradio_api/run/predict): a 404, where Gradio
        # answers 500 and logs a traceback for every scanner that tries it.
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    demo = build_app(searcher)
    demo.launch(
        server_name=host, server_port=port, share=False, show_error=False,
        # The page takes no uploads, but Gradio's /upload route is always there: refuse any file.
        max_file_size=0,
        enable_monitoring=False, mcp_server=False, run_history=False, ssr_mode=False, pwa=False,
        auth=settings.auth, auth_message="planqa：请登录", footer_links=["gradio"], quiet=True,
        prevent_thread_lock=not block, css=CSS, js=COPY_JS,
        app_kwargs={"exception_handlers": {FnIndexInferError: not_found}},
    )
    return demo
