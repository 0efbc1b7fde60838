"""search: a question in, ranked passages out (two encoders and keywords, fused; or one of them).

The default, "hybrid", adds three things: e5's cosine, USE's cosine (a second multilingual
encoder, index/embed_use.py) and a bounded keyword bonus from BM25. The other modes are the
baselines and levers measured beside it in eval/README.md ("Levers").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .dense import dense_search, read_dense_index
from .embed import Embedder, load_embedder
from .embed_use import NAME as USE_NAME
from .embed_use import UseEncoder, load_use
from .english import rendering_features
from .errors import IndexInvalidError, IndexOutdatedError, IndexStaleError, InputError, rebuild_hint
from .expand import english_words, keyword_fingerprint, read_terms, translate, write_terms
from .glossary import Bridge, default_glossary
from .glossary import columns as glossary_columns
from .lexical import LexicalIndex, tokenize
from .places import columns as place_columns
from .query import STATES_NUMBER, Query, as_query
from .rank import FEATURES, Ranker, char_pairs, cover, load_ranker, squash
from .records import Passage
from .store import corpus_hash, current_build, load_vectors, read_manifest, read_passages
from .text import normalize

USE_VECTORS = "use_vectors.npy"
# Both encoders' vectors of every section title (a chapter's title for its lead), in passages_by_group
# order: written at build time, since embedding them on a process's first question took 2 s.
TITLE_VECTORS = "title_vectors.npy"
TITLE_USE_VECTORS = "title_use_vectors.npy"
TERMS = "terms.json"
SIDE_FILES = (USE_VECTORS, TERMS, TITLE_VECTORS, TITLE_USE_VECTORS)
DEFAULT_K = 5  # quotes per answer unless asked otherwise (CLI, page, API, eval)


@dataclass(frozen=True)
class Fusion:
    """How a mode scores a passage: e5 + use·USE + keywords·bonus(BM25 + bridged words)."""

    use: float = 0.0  # weight of the USE cosine
    keywords: float = 0.0  # the most the keyword bonus adds
    synonyms: float = 0.0  # thesaurus (词林) matches, as a share of a question word's own BM25
    english: float = 0.0  # English->Chinese dictionary (CC-CEDICT) matches, likewise
    chars: float = 0.0  # a question word unknown to the plan, by its rare characters (托育 -> 托位)
    dense: bool = True  # e5 at all (False: BM25 alone, the keyword baseline)
    learned: bool = False  # score with the fitted ranker (index/rank.py) instead of these weights
    abstainer: bool = False  # refuse by the fitted abstainer (qa/rules.py) instead of the rules


# Measured on eval/dev.jsonl (eval/README.md, "Levers"): USE at 0.2 lifts accuracy@1 from 0.73
# (dense) to 0.80; 0.1 and 0.3 did no better. The keyword bonus, 0.08 · bm25 / (bm25 + 4), was
# set on eval/questions.jsonl (eval/README.md, "Fusion"). The first round's single-bridge
# ablations (e5+use, bridged, en-bridge, chars, no-bridge, all-bridges) are written down there.
FUSIONS: dict[str, Fusion] = {
    # The fitted ranker, refusing by the fitted abstainer (qa/rules.py): at most 3% of answerable
    # dev questions refused, cross-validated (eval/README.md, "Levers"); the rules refuse more.
    "hybrid": Fusion(use=0.2, keywords=0.08, english=0.5, chars=0.5, learned=True, abstainer=True),
    "rules": Fusion(use=0.2, keywords=0.08, english=0.5, chars=0.5, learned=True),  # the same, refusing by the rules
    "hand": Fusion(use=0.2, keywords=0.08, english=0.5, chars=0.5),  # the hybrid before the fitted ranker
    "e5+bm25": Fusion(keywords=0.08),  # the hybrid before issue 9
    "dense": Fusion(),
    "bm25": Fusion(dense=False),
}
# A character stands for the plan's words that contain it when at most this many do.
RARE_CHAR = 2
MODES = tuple(FUSIONS)
DEFAULT_MODE = "hybrid"
BM25_HALF = 4.0  # the bonus is half its most at this BM25 score (eval/README.md, "Fusion")
# Dense candidates taken from FAISS before fusion re-scores them: at 50 every gold passage of
# eval/questions.jsonl that dense ranks at all is among them; for the plan (125 passages) all are.
CANDIDATES = 50
# Passages a question's best cosine is compared with for abstention: the whole plan, or an even
# sample of a large corpus (4096 give the mean and spread to two decimals).
BACKGROUND_SAMPLE = 4096


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    dense: float
    lexical: float
    terms: tuple[str, ...]  # query tokens (or bridged words) found in the passage
    use: float = 0.0  # the second encoder's cosine


@dataclass(frozen=True)
class Coverage:
    """What abstention asks of the index: the plan's whole text, and where a question's cosines lie."""

    corpus_text: str = field(repr=False)  # every passage and title, normalised
    dense_mean: float  # mean e5 cosine of the question to the plan's passages (a sample)
    dense_std: float
    passages: int
    use_mean: float = 0.0  # the same for the second encoder (USE), when asked for (`second`)
    use_std: float = 0.0


class Searcher:
    """A loaded index: passages, FAISS, BM25, USE vectors, the keyword bridges, and the encoders."""

    def __init__(self, passages: list[Passage], dense, vectors: np.ndarray, lexical: LexicalIndex,
                 embedder: Embedder, use_vectors: np.ndarray | None = None, terms: dict | None = None,
                 use: UseEncoder | None = None, title_vectors: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.passages = passages
        self.dense = dense
        self.vectors = vectors
        self.lexical = lexical
        self.embedder = embedder
        self.use_vectors = use_vectors
        self.terms = terms or {"synonyms": {}, "english": {}}
        self._translate = self.terms.get("translate", {})
        self._use = use
        self._tokens = [frozenset(tokenize(p.text)) for p in passages]
        self._chapter = np.array([p.chapter_no for p in passages])
        self._vocab = lexical.vocabulary
        self._by_char: dict[str, list[str]] = {}
        for word in sorted(self._vocab):
            for ch in set(word):
                if "\u4e00" <= ch <= "\u9fff":
                    self._by_char.setdefault(ch, []).append(word)
        self._embed_query = lru_cache(maxsize=2048)(self._embed_query_uncached)
        self._embed_use = lru_cache(maxsize=2048)(self._embed_use_uncached)
        self._rewrite = lru_cache(maxsize=2048)(self._rewrite_uncached)
        step = max(1, len(passages) // BACKGROUND_SAMPLE)
        self._background = np.ascontiguousarray(vectors[::step][:BACKGROUND_SAMPLE])
        self._corpus_text: str | None = None
        self._norm_texts = [normalize(p.text) for p in passages]
        self.glossary = Bridge(default_glossary(), self._norm_texts)  # everyday words -> official ones
        self._states_number = np.array([bool(STATES_NUMBER.search(p.text)) for p in passages], dtype=np.float32)
        self._lead = np.array([p.section_no == 0 and p.chapter_no > 0 for p in passages], dtype=np.float32)
        keys = [(p.document, p.chapter_no, p.section_no) for p in passages]
        index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        self._group = np.array([index[k] for k in keys], dtype=np.int64)
        self._titles = [p.section or p.chapter for p in passages_by_group(passages)]
        self._title_vectors = title_vectors
        self._use_background = (None if use_vectors is None
                                else np.ascontiguousarray(use_vectors[::step][:BACKGROUND_SAMPLE]))
        self.ranker: Ranker | None = None  # the fitted weights, read on first use (index/ranker.json)

    @classmethod
    def load(cls, root: Path, seeds_dir: Path | None = None, model: str | None = None,
             embedder: Embedder | None = None, use: UseEncoder | None = None) -> Searcher:
        """Open the index in use under `root`, refusing one built from other seeds or another model.

        `embedder` is the loaded model to embed questions with; by default the one `model` names.
        `use` is the second encoder (anything with `embed(texts)` and `dim`); by default USE, loaded on first use."""
        root = Path(root)
        hint = rebuild_hint(seeds_dir or "seeds", root, model)
        build_dir = current_build(root, hint)
        manifest = read_manifest(build_dir, hint)
        embedder = embedder or load_embedder(model)
        built_with = manifest.get("model", {}).get("id")
        if built_with != embedder.name:
            raise IndexStaleError(
                f"the index at {root} was built with model {built_with!r}, not {embedder.name!r}; "
                f"rebuild it: {hint}"
            )
        if seeds_dir is not None and manifest.get("corpus_hash") != corpus_hash(Path(seeds_dir)):
            raise IndexStaleError(f"the index at {root} was built from other seeds than {seeds_dir}; rebuild it: {hint}")
        second = manifest.get("second_encoder") if isinstance(manifest.get("second_encoder"), dict) else {}
        wanted = use.name if use is not None else USE_NAME
        if not second.get("id") or not all((build_dir / f).is_file() for f in SIDE_FILES):
            raise IndexOutdatedError(f"the index at {root} was built by an earlier planqa (no second encoder or "
                                     f"keyword bridges); rebuild it: {hint}")
        if manifest.get("keywords") != keyword_fingerprint():
            raise IndexOutdatedError(f"the index at {root} was built by an earlier planqa (other keyword bridges "
                                     f"or tokenizer); rebuild it: {hint}")
        if second.get("id") != wanted:
            raise IndexStaleError(f"the index at {root} was built with second encoder {second.get('id')!r}, not "
                                  f"{wanted!r}; rebuild it: {hint}")
        try:
            passages = read_passages(build_dir / "passages.jsonl")
            vectors = load_vectors(build_dir / "vectors.npy")
            use_vectors = load_vectors(build_dir / USE_VECTORS)
            titles = (load_vectors(build_dir / TITLE_VECTORS), load_vectors(build_dir / TITLE_USE_VECTORS))
            dense = read_dense_index(build_dir / "dense.faiss")
            lexical = LexicalIndex.load(build_dir / "bm25", len(passages))
            terms = read_terms(build_dir / TERMS)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as e:
            raise IndexInvalidError(f"the index at {build_dir} cannot be read ({e}); rebuild it: {hint}") from e
        # A build always holds passages (an empty corpus is refused when building); one without is damaged.
        if (not passages or vectors.ndim != 2 or not (len(passages) == vectors.shape[0] == dense.ntotal)
                or vectors.shape[1] != embedder.dim or use_vectors.shape != (len(passages), UseEncoder.dim)
                or titles[0].shape != (len(passages_by_group(passages)), embedder.dim)
                or titles[1].shape != (titles[0].shape[0], UseEncoder.dim)):
            raise IndexInvalidError(f"the index files at {build_dir} do not agree with each other; rebuild it: {hint}")
        return cls(passages, dense, vectors, lexical, embedder, use_vectors, terms, use, titles)

    def _embed_query_uncached(self, norm: str) -> np.ndarray:
        vec = self.embedder.embed_queries([norm])[0]
        vec.setflags(write=False)
        return vec

    def _embed_use_uncached(self, norm: str) -> np.ndarray:
        if self._use is None:
            self._use = load_use()
        vec = self._use.embed([norm])[0]
        vec.setflags(write=False)
        return vec

    def coverage(self, query: str | Query, second: bool = False) -> Coverage:
        """The plan's text and the question's cosine background, for deciding whether it is covered
        (`second`: the second encoder's background too)."""
        q = as_query(query)
        if self._corpus_text is None:
            titles = {p.chapter for p in self.passages} | {p.section for p in self.passages} | {
                p.doc_title for p in self.passages}
            self._corpus_text = normalize("\n".join([p.text for p in self.passages] + sorted(titles)))
        scores = self._background @ self._embed_query(q.norm)
        use_mean = use_std = 0.0
        if second and self._use_background is not None:
            u = self._use_background @ self._embed_use(q.norm)
            use_mean, use_std = float(u.mean()), float(u.std())
        return Coverage(self._corpus_text, float(scores.mean()), float(scores.std()), len(self.passages),
                        use_mean, use_std)

    def search(self, query: str | Query, k: int = DEFAULT_K, mode: str = DEFAULT_MODE,
               chapter: int | None = None) -> list[Hit]:
        """The top-k passages for a question, best first."""
        if mode not in FUSIONS:
            raise InputError(f"retriever must be one of {', '.join(MODES)}, got {mode!r}")
        if k < 1:
            raise InputError(f"k must be >= 1, got {k}")
        q = as_query(query)
        if not q.norm.strip():
            return []
        fusion = FUSIONS[mode]
        n = len(self.passages)
        allowed = np.ones(n, dtype=bool) if chapter is None else self._chapter == chapter
        if not allowed.any():
            return []
        lexical = self.lexical.scores(list(q.tokens)) if fusion.keywords or not fusion.dense else np.zeros(n, np.float32)
        bridges, bridge_terms = self._bridges(q, fusion)
        keyword = lexical + sum((getattr(fusion, kind) * arr for kind, arr in bridges.items()), np.zeros(n, np.float32))
        if not fusion.dense:
            cand = np.flatnonzero(allowed & (lexical > 0))
            dense_s = use_s = np.zeros(len(cand), np.float32)
            fused = lexical[cand]
        else:
            qv = self._embed_query(q.norm)
            depth = n if chapter is not None else max(CANDIDATES, k)
            _, ids = dense_search(self.dense, qv, depth)
            cand = set(int(i) for i in ids)
            if fusion.keywords:
                cand.update(int(i) for i in np.argsort(-keyword)[: max(CANDIDATES, k)] if keyword[i] > 0)
            cand = np.array(sorted(c for c in cand if allowed[c]), dtype=np.int64)
            dense_s = self.vectors[cand] @ qv
            fused = dense_s.copy()
            use_s = np.zeros(len(cand), np.float32)
            if fusion.use and self.use_vectors is not None:
                uq = self._embed_use(q.norm)
                use_s = self.use_vectors[cand] @ uq
                fused += fusion.use * use_s
            if fusion.learned:
                x = self.features(q, cand, dense_s, use_s, lexical, bridges)
                fused = self.ranker_weights().score(x, self._group[cand], q.is_list).astype(np.float32)
            elif fusion.keywords:
                kw = keyword[cand]
                fused += fusion.keywords * kw / (kw + BM25_HALF)
        order = np.lexsort((cand, -fused))[:k]  # ties broken by position in the plan
        return [self._hit(q, int(cand[i]), float(fused[i]), float(dense_s[i]), float(use_s[i]),
                          float(keyword[cand[i]]), bridge_terms) for i in order]

    def ranker_weights(self) -> Ranker:
        if self.ranker is None:
            self.ranker = load_ranker()
        return self.ranker

    def features(self, q: Query, cand: np.ndarray, dense_s: np.ndarray, use_s: np.ndarray,
                 lexical: np.ndarray, bridges: dict[str, np.ndarray]) -> np.ndarray:
        """The ranker's features (rank.FEATURES) of each candidate passage, one row each."""
        qv = self._embed_query(q.norm)
        uq = self._embed_use(q.norm)
        e5_z, use_z = self.text_z(q.norm, cand)
        rewritten = self._rewrite(q)
        rw_e5_z, rw_use_z = self.text_z(rewritten, cand)
        tv, tu = self._title_vecs()
        groups = self._group[cand]
        title_e5 = (tv @ qv)[groups]
        title_use = (tu @ uq)[groups]
        chars = list(dict.fromkeys(ch for t in q.tokens for ch in t if "\u4e00" <= ch <= "\u9fff"))
        pairs = char_pairs(q.tokens)
        char_cover = np.array([cover(chars, self._norm_texts[c]) for c in cand], np.float32)
        pair_cover = np.array([cover(pairs, self._norm_texts[c]) for c in cand], np.float32)
        en = float(q.english)
        asks = float(q.asks_number)
        stated = self._states_number[cand]
        lead = self._lead[cand]
        zero = np.zeros(len(cand), np.float32)
        cols = {
            "e5": dense_s, "e5_z": e5_z, "use": use_s, "use_z": use_z, "en_e5_z": en * e5_z, "en_use_z": en * use_z,
            "bm25": squash(lexical[cand]), "english": squash(bridges.get("english", zero)[cand] if "english" in bridges else zero),
            "chars": squash(bridges["chars"][cand]) if "chars" in bridges else zero,
            "synonyms": squash(bridges["synonyms"][cand]) if "synonyms" in bridges else zero,
            "char_cover": char_cover, "bigram_cover": pair_cover, "title_e5": title_e5, "title_use": title_use,
            "number_stated": asks * stated, "number_missing": asks * (1 - stated),
            "lead": lead, "list_lead": float(q.is_list) * lead,
            "en_zh_e5_z": rw_e5_z, "en_zh_use_z": rw_use_z,
            **glossary_columns(self, q, cand),
            **rendering_features(rewritten, cand, self.lexical, self._norm_texts),
            **place_columns(self, q, cand),
        }
        return np.stack([np.asarray(cols[f], np.float64) for f in FEATURES], axis=1)

    def text_z(self, norm: str, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both encoders' cosines of a text (the question, or a rewriting of it) with the candidates,
        as z-scores against the plan's background sample; zeros for "" (and for USE when the
        Searcher has no USE background)."""
        zero = np.zeros(len(cand), np.float32)
        if not norm:
            return zero, zero
        v = self._embed_query(norm)
        e5_z = self._z(self.vectors[cand] @ v, self._background @ v)
        if self._use_background is None:
            return e5_z, zero
        u = self._embed_use(norm)
        return e5_z, self._z(self.use_vectors[cand] @ u, self._use_background @ u)

    @staticmethod
    def _z(scores: np.ndarray, background: np.ndarray) -> np.ndarray:
        return (scores - background.mean()) / max(float(background.std()), 1e-6)

    def _rewrite_uncached(self, q: Query) -> str:
        """An English question written word by word in Chinese (CC-CEDICT, expand.translate), to be
        embedded beside the question itself; "" for a Chinese question or nothing translated.
        (The same for a Chinese question, with each word the plan does not use replaced by its 词林
        synonyms, did not pay in cross-validation: eval/README.md, "Levers".)"""
        return translate(q.norm, self._translate) if q.english else ""

    def _title_vecs(self) -> tuple[np.ndarray, np.ndarray]:
        """Both encoders' vectors of every section title (from the build; embedded here only for a
        Searcher made without them)."""
        if self._title_vectors is None:
            if self._use is None:
                self._use = load_use()
            self._title_vectors = title_vectors(self._titles, self.embedder, self._use)
        return self._title_vectors

    def _hit(self, q: Query, at: int, score: float, dense: float, use: float, lexical: float,
             bridge_terms: tuple[str, ...]) -> Hit:
        words = self._tokens[at]
        terms = tuple(t for t in dict.fromkeys(q.tokens + bridge_terms) if t in words)
        return Hit(self.passages[at], score, dense, lexical, terms, use)

    def _bridges(self, q: Query, fusion: Fusion) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
        """BM25 of the plan's words that the question's everyday or English words stand for, per
        bridge ("synonyms", "english", "chars"); the learned ranker takes all three.

        Each question word counts once, by the best of the words it stands for."""
        n = len(self.passages)
        sources: dict[str, list[list[str]]] = {}
        every = fusion.learned
        if (fusion.synonyms and fusion.keywords) or every:
            syn = self.terms["synonyms"]
            sources["synonyms"] = [syn[t] for t in dict.fromkeys(q.tokens) if t not in self._vocab and t in syn]
        if (fusion.english and fusion.keywords) or every:
            eng = self.terms["english"]
            sources["english"] = [eng[w] for w in dict.fromkeys(english_words(q.norm)) if w in eng]
        if (fusion.chars and fusion.keywords) or every:
            found = []
            for t in dict.fromkeys(q.tokens):
                if t in self._vocab or len(t) < 2:
                    continue
                for ch in t:
                    words = self._by_char.get(ch, [])
                    if 0 < len(words) <= RARE_CHAR:
                        found.append(words)
            sources["chars"] = found
        out: dict[str, np.ndarray] = {}
        used: list[str] = []
        for kind, lists in sources.items():
            total = np.zeros(n, np.float32)
            for targets in lists:
                total += np.max([self.lexical.scores([t]) for t in targets], axis=0)
                used += targets
            out[kind] = total
        return out, tuple(dict.fromkeys(used))


def passages_by_group(passages: list[Passage]):
    """Each passage's section key (document, chapter, section), in plan order, with its first passage."""
    seen = {}
    for p in passages:
        seen.setdefault((p.document, p.chapter_no, p.section_no), p)
    return list(seen.values())


def title_vectors(titles: list[str], embedder: Embedder, use: UseEncoder) -> tuple[np.ndarray, np.ndarray]:
    """Both encoders' vectors of the section titles ("" for a document's introduction)."""
    titles = [t or "" for t in titles]
    return (np.asarray(embedder.embed_passages(titles), np.float32), np.asarray(use.embed(titles), np.float32))


def write_side_files(build_dir: Path, passages: list[Passage], vocabulary: set[str], embedder: Embedder,
                     use: UseEncoder | None = None) -> None:
    """The second encoder's passage vectors (`use`, by default USE), both encoders' section-title
    vectors and the keyword bridges, written into a build."""
    use = use or load_use()
    build_dir = Path(build_dir)
    np.save(build_dir / USE_VECTORS, use.embed([p.text for p in passages]), allow_pickle=False)
    titles = [p.section or p.chapter for p in passages_by_group(passages)]
    tv, tu = title_vectors(titles, embedder, use)
    np.save(build_dir / TITLE_VECTORS, tv, allow_pickle=False)
    np.save(build_dir / TITLE_USE_VECTORS, tu, allow_pickle=False)
    write_terms(Path(build_dir) / TERMS, vocabulary)
