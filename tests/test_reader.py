"""The shipped span reader: it loads from the repository's files, reads spans that are slices of the
passages, prefers the passage that answers, and says so less surely for a passage that does not."""
from __future__ import annotations

import numpy as np
import pytest

from search_api.reader import MAX_ANSWER_TOKENS, Reader, best_span, windows

ANSWERS = ("Hội nghị giao ban cụm chuyên môn được tổ chức vào ngày 31/10/2020 tại Trường THCS Nguyễn Trãi, "
           "huyện Cờ Đỏ. Thành phần gồm hiệu trưởng và tổ trưởng chuyên môn các trường trong cụm.")
UNRELATED = ("Các trường tăng cường kiểm tra công tác phòng cháy chữa cháy, bảo đảm an toàn điện trong mùa "
             "mưa bão và vệ sinh môi trường khu vực lớp học.")


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


def test_spans_are_slices_of_the_passage_read(reader: Reader) -> None:
    spans = reader.read("Hội nghị giao ban cụm được tổ chức ngày nào?", [UNRELATED, ANSWERS])
    assert [s.passage for s in spans] == [0, 1]
    answer = spans[1]
    text = ANSWERS[answer.start:answer.end]
    assert "31/10/2020" in text and len(text) < 60
    assert answer.margin > spans[0].margin, "the passage that answers is believed more"


def test_a_place_question_gets_the_place(reader: Reader) -> None:
    [span] = reader.read("Hội nghị giao ban cụm tổ chức ở đâu?", [ANSWERS])
    assert "Nguyễn Trãi" in ANSWERS[span.start:span.end]


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
