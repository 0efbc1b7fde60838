"""An Answer as terminal text and as the JSON object `planqa ask --json` prints."""
from __future__ import annotations

from .answer import TIERS, Answer, highlight

_BOLD, _RESET = "\033[1;33m", "\033[0m"


def answer_json(a: Answer) -> dict:
    """`kind` is "single" or "list"; `read_as` the question as searched (a follow-up with what it
    borrowed); `chapter` the chapter asked in (null = all) and `widened` true when nothing was
    there and the hits come from all chapters; each hit's `tier` is best / related / possible."""
    tiers = a.tiers or ("best",) * len(a.hits)
    return {
        "question": a.question,
        "answered": a.answered,
        "message": a.message,
        "kind": a.kind,
        "read_as": a.read_as or a.question,
        "chapter": a.chapter,
        "widened": a.widened,
        "hits": [
            {
                "id": h.passage.id,
                "text": h.passage.text,
                "document": h.passage.document,
                "chapter": h.passage.chapter_label,
                "section": h.passage.section,
                "reference": h.passage.reference,
                "score": round(h.score, 4),
                "tier": tier,
                "tier_label": TIERS[tier],
            }
            for h, tier in (zip(a.hits, tiers) if a.answered else ())
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
    tiers = a.tiers or ("best",) * len(a.hits)
    for i, (h, tier) in enumerate(zip(a.hits, tiers), 1):
        lines.append("")
        mark = "" if tier == "best" else f"（{TIERS[tier]}）"
        lines.append(f"{i}. {mark}{marked(h.passage.text, h.terms, color)}")
        lines.append(f"   {h.passage.reference}")
        lines.append(f"   {h.passage.id}  score {h.score:.3f}")
    return "\n".join(lines)
