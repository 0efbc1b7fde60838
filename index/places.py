"""The question read without its everyday place word, as ranker features.

People set a question in an everyday place: 河边会修步道吗, 村里看病的小诊所会统一管起来吗,
家门口的路边小公园今年会弄吗. The place says where; what the plan states is what is built or done
there. Both encoders read the whole question, and a place like 河边 pulls them toward every river
sentence of the plan, above the one that answers (even 河边会修绿道吗, in the plan's own word,
ranked the 绿道 sentence 4th). So the ranker also gets both encoders' reading of the question with
its place word left out, and learns how far to trust each reading.

A place word here is an everyday word of the glossary (index/glossary.tsv: no place, project or
company names) ending in a word of direction or position (边, 里, 门口, 附近…: 河边, 水边, 村里,
家门口), standing at the question's start or after a particle (的, 在, 到…), so that 大运河边 (a
named river's bank) keeps its 河边. A question without one reads as itself: its features then equal
the question's own e5_z, use_z and use, and the ranker's weight is in effect theirs.
"""
from __future__ import annotations

import numpy as np

from .glossary import Glossary

# Words of direction or position that make an everyday word a place (方位词).
POSITION = ("边", "里", "旁", "门口", "沿", "附近", "周边", "周围", "一带")
# A place word counts after these (or at the start, or after punctuation), not inside a name.
BEFORE = "的在到去从往"

# The ranker's features this module computes (index/rank.py FEATURES).
FEATURES = ("core_e5_z", "core_use_z", "core_use")


def without_places(glossary: Glossary, norm: str) -> str:
    """A normalised question with its everyday place words left out (itself when it has none, or
    when nothing but the place would be left)."""
    kept, at = [], 0
    for a, b in glossary.spans(norm):
        before = norm[a - 1] if a else ""
        if norm[a:b].endswith(POSITION) and (not before or not "\u4e00" <= before <= "\u9fff" or before in BEFORE):
            kept.append(norm[at:a])
            at = b
    core = "".join(kept) + norm[at:]
    return core if core.strip("？?。!！ ") else norm


def columns(searcher, q, cand: np.ndarray) -> dict[str, np.ndarray]:
    """Both encoders' z-scores and USE's cosine of the question without its place words, for each
    candidate (an English question, and a question without one, as itself)."""
    core = q.norm if q.english else without_places(searcher.glossary.glossary, q.norm)
    e5_z, use_z = searcher.text_z(core, cand)
    use = (searcher.use_vectors[cand] @ searcher._embed_use(core) if searcher.use_vectors is not None
           else np.zeros(len(cand), np.float32))
    return {"core_e5_z": e5_z, "core_use_z": use_z, "core_use": use}
