"""Ranker features of an English question's Chinese rendering (expand.translate) beyond its embeddings.

The rendering holds the plan's own words where the glossary or CC-CEDICT gives them (托位, 环路), so
it can be searched by keyword like a Chinese question: its BM25 against each candidate sentence,
and the share of its character pairs the sentence holds. A Chinese question (no rendering) gets zeros.
"""
from __future__ import annotations

import numpy as np

from .lexical import LexicalIndex, tokenize
from .rank import char_pairs, cover, squash


def rendering_features(rendering: str, cand: np.ndarray, lexical: LexicalIndex,
                       texts: list[str]) -> dict[str, np.ndarray]:
    """{"en_zh_bm25", "en_zh_pairs"} for the candidates `cand` (indices into `texts`, the plan's
    normalised sentences), given the question's rendering ("" for none)."""
    if not rendering:
        zero = np.zeros(len(cand), np.float32)
        return {"en_zh_bm25": zero, "en_zh_pairs": zero}
    tokens = tokenize(rendering)
    pairs = char_pairs(tokens)
    return {"en_zh_bm25": squash(lexical.scores(tokens)[cand]),
            "en_zh_pairs": np.array([cover(pairs, texts[c]) for c in cand], np.float32)}
