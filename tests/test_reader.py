"""The span reader's arithmetic (training/span_reader.py): long passages read in overlapping windows, and
the best span respects order and length. The reader is trained by `make model` and not shipped, so no
test loads trained weights."""
from __future__ import annotations

import numpy as np

from training.span_reader import MAX_ANSWER_TOKENS, best_span, windows


def test_long_passages_are_read_in_overlapping_windows() -> None:
    ids = list(range(500))
    pieces = list(windows(ids, [(i, i + 1) for i in ids], 200))
    assert [p[0][0] for p in pieces] == [0, 136, 272, 408]
    assert pieces[-1][0][-1] == 499


def test_best_span_respects_order_and_length() -> None:
    starts = np.full(60, -5.0)
    ends = np.full(60, -5.0)
    starts[10], ends[5] = 9.0, 9.0          # an end before its start is never a span
    ends[10 + MAX_ANSWER_TOKENS + 5] = 8.0  # nor one longer than MAX_ANSWER_TOKENS
    ends[12] = 1.0
    (s, e), score = best_span(starts, ends, 0, 60)
    assert (s, e) == (10, 12) and score == 10.0
    assert best_span(starts, ends, 0, 0) is None
