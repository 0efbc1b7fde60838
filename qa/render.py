"""An Answer as terminal text and as the JSON object `planqa ask --json` prints."""
from __future__ import annotations

from .answer import Answer, highlight

_BOLD, _RESET = "\033[1;33m", "\033[0m"


def answer_json(a: Answer) -> dict:
    return {
        "question": a.question,
        "answered": a.answered,
        "message": a.message,
        "hits": [
            {
                "id": h.passage.id,
                "text": h.passage.text,
                "document": h.passage.document,
                "chapter": h.passage.chapter_label,
                "section": h.passage.section,
                "reference": h.passage.reference,
                "score": round(h.score, 4),
            }
            for h in (a.hits if a.answered else ())
        ],
    }


def marked(text: str, terms: tuple[str, ...], color: bool) -> str:
    """The quote with the question's words marked (bold in a terminal, ** ** elsewhere)."""
    left, right = (_BOLD, _RESET) if color else ("**", "**")
    return "".join(f"{left}{piece}{right}" if hit else piece for piece, hit in highlight(text, terms))


def answer_text(a: Answer, color: bool = False) -> str:
    lines = [a.message]
    if not a.answered:
        if a.hits:
            chapters = list(dict.fromkeys(h.passage.chapter_label for h in a.hits))[:3]
            lines.append("最接近的章节：" + "；".join(chapters))
        return "\n".join(lines)
    for i, h in enumerate(a.hits, 1):
        lines.append("")
        lines.append(f"{i}. {marked(h.passage.text, h.terms, color)}")
        lines.append(f"   {h.passage.reference}")
        lines.append(f"   {h.passage.id}  score {h.score:.3f}")
    return "\n".join(lines)
