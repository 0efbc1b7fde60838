"""parse -> embed -> build: write a new index build and switch to it."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .dense import make_dense_index, write_dense_index
from .embed import Embedder, load_embedder
from .embed_use import UseEncoder, load_use
from .errors import SeedsError, rebuild_hint
from .expand import keyword_fingerprint
from .lexical import LexicalIndex, tokenize
from .parse import parse_seeds
from .records import Passage
from .search import write_side_files
from .store import BuildGuard, Progress, build_lock, corpus_hash, new_build_dir, publish, write_manifest, write_passages

# Passages per encoder call: builds run at 35.5 passages/s on two cores at 64 (docs/benchmarks.md, "Models");
# no other size was benchmarked (a sweep on this shared machine was noise, 5 to 55 passages/s).
BATCH = 64
# The most passages one build takes. At 35.5 passages/s (bundled model, two cores, docs/benchmarks.md)
# 50,000 take some 25 minutes to embed: larger seeds are refused after parsing, in seconds.
MAX_PASSAGES = 50_000
# A large build prints a progress line at most every 10 s: often enough to show it is alive, few
# enough that a 25-minute build prints some 150 lines. Chosen, not measured.
PROGRESS_SECONDS = 10.0
# Up to 20 batches (1,280 passages, about 36 s at 35.5 passages/s) every batch prints its line: the
# shipped plan (125 passages) and the tests' plans, which wait for these lines. Chosen, not measured.
EVERY_BATCH_UP_TO = 20 * BATCH


def embedding_text(p: Passage) -> str:
    """What the dense side sees of a passage: the sentence, led by its section title."""
    title = p.section.split("、", 1)[-1] if p.section else ""
    return f"{title}：{p.text}" if title else p.text


def build_index(seeds_dir: Path, root: Path, model: str | None = None, progress: Progress | None = None,
                embedder: Embedder | None = None, max_passages: int = MAX_PASSAGES,
                use: UseEncoder | None = None) -> Path:
    """Build an index of every plan in `seeds_dir` under `root`; returns the new build folder.

    `embedder` is the loaded model to embed passages with; by default the one `model` names.
    `use` is the second encoder; by default USE (tests pass a fake for both).
    Any OS or library error becomes one StorageError line; the half-written build is removed."""
    say = progress or (lambda _msg: None)
    seeds_dir, root = Path(seeds_dir), Path(root)
    embedder = embedder or load_embedder(model)
    with BuildGuard(root, rebuild_hint(seeds_dir, root, model)) as guard, build_lock(root):
        started = time.perf_counter()
        passages = parse_seeds(seeds_dir, progress=say)
        digest = corpus_hash(seeds_dir)
        say(f"parsed {len(passages)} passages from {seeds_dir}")
        if len(passages) > max_passages:
            raise SeedsError(f"the plans in {seeds_dir} hold {len(passages):,} passages; one index takes at most "
                             f"{max_passages:,} (some {max_passages / 35.5 / 60:.0f} minutes of embedding on an idle two-core "
                             "machine, docs/benchmarks.md): split them into several seeds folders and indexes")
        build_dir = guard.track(new_build_dir(root))
        write_passages(build_dir / "passages.jsonl", passages)

        texts = [embedding_text(p) for p in passages]
        chunks = []
        shown = embed_start = time.monotonic()
        for i in range(0, len(texts), BATCH):
            chunks.append(embedder.embed_passages(texts[i:i + BATCH]))
            done, now = min(i + BATCH, len(texts)), time.monotonic()
            if len(texts) <= EVERY_BATCH_UP_TO or done == len(texts) or now - shown >= PROGRESS_SECONDS:
                left = (now - embed_start) / done * (len(texts) - done)
                eta = f", about {left / 60:.0f} min left" if left >= 60 else ""
                say(f"embedded {done}/{len(texts)} passages with {embedder.name}{eta}")
                shown = now
        vectors = np.ascontiguousarray(np.vstack(chunks), dtype=np.float32)
        np.save(build_dir / "vectors.npy", vectors, allow_pickle=False)
        dense = make_dense_index(vectors)
        write_dense_index(dense, build_dir / "dense.faiss")

        lexical = LexicalIndex.build([tokenize(p.text) for p in passages])
        lexical.save(build_dir / "bm25")
        use = use or load_use()
        write_side_files(build_dir, passages, lexical.vocabulary, embedder, use)
        say("built the FAISS and BM25 indexes, the second encoder's vectors and the keyword bridges")

        documents = sorted({p.document for p in passages})
        write_manifest(build_dir, {
            "model": {"id": embedder.name, "dim": embedder.dim},
            "second_encoder": {"id": use.name, "dim": use.dim},
            "keywords": keyword_fingerprint(),
            "corpus_hash": digest,
            "seeds": str(seeds_dir.resolve()),
            "documents": documents,
            "passages": len(passages),
            "dense_index": type(dense).__name__,
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.perf_counter() - started, 2),
        })
        publish(root, build_dir)
        say(f"index ready at {build_dir}")
        return build_dir

