"""The document vocabulary: every type the indexer assigns is one a query detects; numbers, years, dates, words."""
from __future__ import annotations

import re

import pytest

from indexer.normalize import fold
from indexer.structure import parse_document
from indexer.vocab import (
    DATE,
    DOC_TYPES,
    TYPE_NAMES,
    date_iso,
    find_document_numbers,
    same_spelling,
    school_years,
    spelled_words,
    type_word,
    word_spans,
)
from search_api.query import analyze

# -- document types ------------------------------------------------------------------------------


def _indexed_type(name: str) -> str | None:
    """The type the real structure parser gives a directive whose title line opens with `name` in capitals."""
    text = f"SỞ GIÁO DỤC VÀ ĐÀO TẠO\nSố: 12/SGDĐT\n\n{name.upper()}\nVề công tác năm học 2020-2021\n\nNội dung."
    return parse_document(text).meta.doc_type


@pytest.mark.parametrize("doc_type", DOC_TYPES, ids=lambda t: t.name)
def test_every_type_the_indexer_assigns_is_detected_in_a_query(doc_type) -> None:
    assert _indexed_type(doc_type.name) == doc_type.name        # the indexer knows it ...
    for typed in (doc_type.name, fold(doc_type.name), doc_type.name.upper()):
        assert analyze(f"tìm {typed} về học sinh").doc_type == doc_type.name, typed   # ... and queries find it
    for english in doc_type.english:
        assert analyze(f"the {english} about students").doc_type == doc_type.name, english


def test_the_brief_s_missing_types_now_boost() -> None:
    found = {q: analyze(q).doc_type for q in ("giấy mời họp", "cong dien so 5", "biên bản hội nghị",
                                              "chuong trinh giao duc", "quy định về dạy thêm")}
    assert found == {"giấy mời họp": "giấy mời", "cong dien so 5": "công điện", "biên bản hội nghị": "biên bản",
                     "chuong trinh giao duc": "chương trình", "quy định về dạy thêm": "quy định"}


def test_a_longer_type_wins_over_the_type_it_starts_with() -> None:
    assert type_word("THÔNG TƯ LIÊN TỊCH Hướng dẫn", upper=True) == "thông tư liên tịch"
    assert analyze("thong tu lien tich ve hoc phi").doc_type == "thông tư liên tịch"
    assert analyze("thông tư về học phí").doc_type == "thông tư"
    assert type_word("Kế hoạch tổ chức", upper=True) is None        # a title type is written in capitals
    assert type_word("KẾ HOẠCHX") is None


def test_type_names_are_unique_lowercase_nfc() -> None:
    assert len(set(TYPE_NAMES)) == len(TYPE_NAMES)
    assert all(t == t.lower().strip() for t in TYPE_NAMES)
    longer_first = [(a, b) for i, a in enumerate(TYPE_NAMES) for b in TYPE_NAMES[i + 1:] if b.startswith(a + " ")]
    assert longer_first == []


# -- document numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("query, codes", [
    ("công văn 3089/GDTrH về dạy học", ["3089/GDTrH"]),
    ("thông tư 32/2018", ["32/2018"]),
    ("32/2018", ["32/2018"]),
    ("460/TB-SGDĐT", ["460/TB-SGDĐT"]),
    ("Nghị quyết số 29-NQ/TW ngày 04 tháng 11 năm 2013", ["29-NQ/TW"]),
    ("Thông tư số 32/2018/TT-BGDĐT ngày 26/12/2018.", ["32/2018/TT-BGDĐT"]),
    ("Côngvăn3414/BGDĐT-GDTrH", ["3414/BGDĐT-GDTrH"]),
    ("Thông tư 26/2020/TT-BGD ĐT ngày 26/8/2020", ["26/2020/TT-BGDĐT"]),
    ("Kế hoạch 12-KH ngày 5/9/2020", ["12-KH"]),
    ("ngày 24/8/2020, năm học 2020-2021, tháng 8/2020, 8/2020, 16/16 trường, lớp 10-THPT, 2/tuần", []),
])
def test_find_document_numbers(query: str, codes: list[str]) -> None:
    found = find_document_numbers(query)
    assert [c for _, _, c in found] == codes
    for start, end, code in found:
        assert query[start:end].replace(" ", "") == code


# -- school years and dates ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "years"), [
    ("năm học 2020-2021 và 2021 - 2022", ("2020-2021", "2021-2022")),
    ("NH 2020 2021", ("2020-2021",)), ("2020-21", ("2020-2021",)), ("2020/2021", ("2020-2021",)),
    ("giai đoạn 2021-2025", ()), ("năm 2020 2021", ()), ("ngày 12/2020-2021", ()),
])
def test_school_years(text: str, years: tuple[str, ...]) -> None:
    assert school_years(text) == years


@pytest.mark.parametrize(("text", "iso"), [
    ("ngày 07 tháng 9 năm 2020", "2020-09-07"), ("Ngày 7/9/2020", "2020-09-07"), ("7-9-2020", "2020-09-07"),
    ("07 THÁNG 9/2020", "2020-09-07"), ("ngày 15 tháng 10", None), ("31/02/2020", None),
])
def test_dates_on_folded_text(text: str, iso: str | None) -> None:
    m = re.search(DATE, fold(text))
    assert m is not None and date_iso(m) == iso


def test_a_date_needs_one_separator_and_a_real_year() -> None:
    assert re.search(DATE, fold("7/9-2020")) is None and re.search(DATE, fold("7/9/3020")) is None


# -- words ---------------------------------------------------------------------------------------

def test_word_spans_keep_decimals_and_offsets() -> None:
    text = "Tỷ lệ 0,6 % (75.7) học-sinh Đà Nẵng, 2020."
    words = word_spans(text)
    assert [w for *_, w in words] == ["tỷ", "lệ", "0,6", "75.7", "học", "sinh", "đà", "nẵng", "2020"]
    assert all(text[s:e].lower() == w for s, e, w in words)
    assert [w for *_, w in word_spans(text, 6, 17)] == ["0,6", "75.7"]


def test_both_spellings_of_y_and_i_compare_equal() -> None:
    assert same_spelling("Tỷ") == same_spelling("tỉ") == "tỉ"
    assert [w for *_, w in spelled_words(fold("tỷ lệ kỹ năng lý do my"))] == ["ti", "le", "ki", "nang", "li", "do", "mi"]
    assert same_spelling("đây") == "đây" and same_spelling("by") == "by"
