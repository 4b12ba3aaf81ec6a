"""The span reader (search_api/reader.py): long passages read in overlapping windows, the best span
respects order and length, and the shipped model reads real questions."""
from __future__ import annotations

import numpy as np

from search_api.reader import MAX_ANSWER_TOKENS, best_span, windows


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


def test_the_shipped_reader_points_at_the_answer_and_not_at_an_unrelated_passage(tmp_path) -> None:
    """The real model (indexer/models/tracuu-reader-v*, assembled from its patch): a date question is read
    to the date, a count question to the count, and a passage that does not answer scores lower than
    one that does."""
    from indexer.embed import ShippedModel
    from search_api.reader import Reader

    reader = Reader.load(ShippedModel.latest(family="tracuu-reader"), tmp_path / "models")
    meeting = "Hội nghị giao ban cán bộ quản lý được tổ chức ngày 31/10/2020 tại hội trường huyện Cờ Đỏ."
    schools = "Năm học 2020-2021, toàn huyện có 14 trường trung học cơ sở với 412 giáo viên."
    [date] = reader.read("Hội nghị giao ban được tổ chức vào ngày nào?", [meeting])
    assert "31/10/2020" in meeting[date.start:date.end]
    on_topic, off_topic = reader.read("Toàn huyện có bao nhiêu trường trung học cơ sở?", [schools, meeting])
    assert "14" in schools[on_topic.start:on_topic.end]
    assert on_topic.margin > off_topic.margin
