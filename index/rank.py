"""The learned ranking: a handful of generic features per candidate passage, combined linearly.

Every feature says something about any question and any sentence, never about this plan's words:
the two encoders' cosines (raw and as a z-score among the candidates), the keyword side (BM25 and
the bridged words, each squashed to 0..1), how many of the question's characters and character
pairs the sentence holds, how close the question is to the sentence's section title, whether the
sentence states a number when the question asks for one, where the sentence stands (a
chapter's lead), and for an English question both encoders' z-scores of its word-by-word Chinese
rendering (index/expand.py, `translate`). A second stage adds how much of the first stage's weight the sentence's section
holds, so that a list question's sentences come together.

The weights are a data file beside this module (`ranker.json`), fitted by `python -m planqa.eval.fit`
on the dev questions with cross-validation by question; the file says where it was measured.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).with_name("ranker.json")
BM25_HALF = 4.0  # a squashed BM25 score is one half at this score

# The first stage's features, in the order of the weight vector.
FEATURES = (
    "e5", "e5_z", "use", "use_z", "en_e5_z", "en_use_z",
    "bm25", "english", "chars", "synonyms",
    "char_cover", "bigram_cover", "title_e5", "title_use",
    "number_stated", "number_missing", "lead", "list_lead",
    "en_zh_e5_z", "en_zh_use_z",
    "glossary", "gl_e5_z", "gl_use_z",  # index/glossary.py: everyday words -> official ones
    "en_zh_bm25", "en_zh_pairs",
    "core_e5_z", "core_use_z", "core_use",  # index/places.py: the question without its everyday place word
)
# The second stage: the first stage's score, and the share of its weight held by the sentence's section.
STAGE2 = ("stage1", "section_mass", "list_section_mass")


def squash(x: np.ndarray) -> np.ndarray:
    return x / (x + BM25_HALF)


def zscore(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x)
    sd = float(x.std())
    return (x - float(x.mean())) / sd if sd > 0 else np.zeros_like(x)


def cover(query_units: list[str], text: str) -> float:
    """The share of the question's characters (or character pairs) that the text holds."""
    if not query_units:
        return 0.0
    return sum(1 for u in query_units if u in text) / len(query_units)


def char_pairs(tokens: list[str]) -> list[str]:
    """The Chinese character pairs inside the tokens, in order, each once."""
    return list(dict.fromkeys(t[i:i + 2] for t in tokens for i in range(len(t) - 1)
                              if all("\u4e00" <= ch <= "\u9fff" for ch in t[i:i + 2])))


def section_mass(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per candidate, the softmax weight of the other candidates in its section."""
    w = np.exp(scores - scores.max())
    w /= w.sum()
    total = np.zeros(groups.max() + 1 if len(groups) else 1)
    np.add.at(total, groups, w)
    return total[groups] - w


@dataclass(frozen=True)
class Ranker:
    """Standardise the features, then a dot product with the weights (stage 1, then stage 2)."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    w2: np.ndarray  # over STAGE2
    measured: str = ""

    def stage1(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.w1

    def score(self, x: np.ndarray, groups: np.ndarray, is_list: bool) -> np.ndarray:
        s1 = self.stage1(x)
        mass = section_mass(s1, groups)
        return self.w2[0] * s1 + self.w2[1] * mass + self.w2[2] * mass * float(is_list)

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "stage2": list(STAGE2), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "w1": self.w1.round(6).tolist(),
                "w2": self.w2.round(6).tolist(), "measured": self.measured}

    @classmethod
    def from_json(cls, d: dict) -> Ranker:
        if list(d.get("features", ())) != list(FEATURES) or list(d.get("stage2", ())) != list(STAGE2):
            raise ValueError("the ranker's weights were fitted for other features; refit: python -m planqa.eval.fit")
        arr = lambda k: np.asarray(d[k], dtype=np.float64)  # noqa: E731
        return cls(arr("mean"), arr("scale"), arr("w1"), arr("w2"), str(d.get("measured", "")))


def load_ranker(path: Path = WEIGHTS) -> Ranker:
    return Ranker.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
