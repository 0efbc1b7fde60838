"""Text forms: as published (for quoting) and normalized (for matching), with offset maps."""
from __future__ import annotations

import re
import unicodedata

# Characters that count as Chinese for deciding whether whitespace is a line-wrap artefact.
_CJK = re.compile(
    r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    r"\u2014\u2018\u2019\u201c\u201d\u2026\u00b7\u00d7\u25a1【】《》（）]"
)
# Zero-width and other invisible format characters that only get in the way of matching.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "「": '"', "」": '"'})


def is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


def dewrap_with_map(s: str) -> tuple[str, list[int]]:
    """Drop whitespace next to Chinese text (line-wrap artefacts), fold other runs to one space.

    Returns the text and, for each of its characters, the index it came from in `s`.
    """
    out: list[str] = []
    src: list[int] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            j = i
            while j < n and s[j].isspace():
                j += 1
            before = out[-1] if out else ""
            after = s[j] if j < n else ""
            if before and after and not is_cjk(before) and not is_cjk(after):
                out.append(" ")
                src.append(i)
            i = j
            continue
        out.append(ch)
        src.append(i)
        i += 1
    return "".join(out), src


def dewrap(s: str) -> str:
    """The published form of a span: "再 出新成果" -> "再出新成果"."""
    return dewrap_with_map(s)[0]


def normalize_with_map(s: str) -> tuple[str, list[int]]:
    """The matching form: dewrapped, NFKC (full/half width unified), quotes unified, casefolded,
    invisible and control characters dropped. Returns the text and a map to indices in `s`."""
    base, src = dewrap_with_map(s)
    out: list[str] = []
    omap: list[int] = []
    for ch, at in zip(base, src):
        if ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            continue
        for piece in unicodedata.normalize("NFKC", ch).translate(_QUOTES).casefold():
            out.append(piece)
            omap.append(at)
    text = "".join(out)
    if any(c.isspace() for c in text):  # NFKC can turn an ideographic space into a plain one
        again, amap = dewrap_with_map(text)
        return again, [omap[k] for k in amap]
    return text, omap


def normalize(s: str) -> str:
    return normalize_with_map(s)[0]


_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
# A Chinese numeral counts as a quantity only before a measure word; "一体化", "一批" stay words.
_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千]+(?=[家个所座条宗项名人万千亿米公里平方辆台栋处届年号期])")


def zh_to_int(s: str) -> int | None:
    """"十" -> 10, "二十三" -> 23, "一百零八" -> 108; None when it is not a plain numeral."""
    total, digit = 0, None
    for ch in s:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            total += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def arabic_numerals(s: str) -> str:
    """Write quantities in Arabic digits so "十家" and "10家" index alike."""
    def repl(m: re.Match) -> str:
        value = zh_to_int(m.group(0))
        return m.group(0) if value is None else str(value)

    return _NUMERAL.sub(repl, s)
