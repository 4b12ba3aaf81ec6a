"""Hard negatives: passages that BM25 or the base model rank high for an anchor, but that do not answer it.

Candidates are the union of BM25's and the base model's top 20 in the example's own pool; they are
ordered by the base model's score, and the first one is taken that is from another paragraph or
article, does not hold the answer text, and scores under 95 % of the positive (a candidate scoring as
high as the answer is more likely an unlabelled answer than a negative: "positive-aware" mining).
"""
from __future__ import annotations

import re

import numpy as np
from tqdm import tqdm

from training.sources import Example

TOP = 20
MARGIN = 0.95


def mine(examples: list[Example], encoder, desc: str) -> int:
    """Fill `negative` of the examples that have none, mining among their own positives; returns how many."""
    import bm25s

    pool: list[Example] = []
    index_of: dict[str, int] = {}
    for example in examples:
        if example.positive not in index_of:
            index_of[example.positive] = len(pool)
            pool.append(example)
    texts = [e.positive for e in pool]
    lexical = bm25s.BM25()
    lexical.index(bm25s.tokenize(texts, stopwords=None, show_progress=False), show_progress=False)
    passages = embed(encoder, texts, False, f"{desc}: passages")
    todo = [e for e in examples if e.negative is None]
    anchors = embed(encoder, [e.anchor for e in todo], True, f"{desc}: anchors")
    found = 0
    tokens = bm25s.tokenize([e.anchor for e in todo], stopwords=None, show_progress=False)
    bm25_rows, _ = lexical.retrieve(tokens, k=min(TOP, len(texts)), show_progress=False)
    for row, example in enumerate(tqdm(todo, desc=f"{desc}: choosing", unit="ex")):
        scores = passages @ anchors[row]
        dense_rows = np.argpartition(-scores, min(TOP, len(texts) - 1))[:TOP]
        candidates = sorted(set(bm25_rows[row].tolist()) | set(dense_rows.tolist()), key=lambda i: -scores[i])
        ceiling = MARGIN * float(scores[index_of[example.positive]])
        for i in candidates:
            other = pool[i]
            if other.group == example.group or scores[i] >= ceiling:
                continue
            if example.answer and _holds(other.positive, example.answer):
                continue
            example.negative = other.positive
            found += 1
            break
    return found


def embed(encoder, texts: list[str], is_query: bool, desc: str, step: int = 256) -> np.ndarray:
    """indexer.e5model.E5Encoder.encode with a progress bar."""
    parts = []
    with tqdm(total=len(texts), desc=desc, unit="text") as bar:
        for start in range(0, len(texts), step):
            parts.append(encoder.encode(texts[start:start + step], is_query))
            bar.update(len(parts[-1]))
    return np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)


def _holds(text: str, answer: str) -> bool:
    return re.sub(r"\W+", " ", answer.lower()).strip() in re.sub(r"\W+", " ", text.lower())
