"""Query analysis: validation messages and every detection, with diacritics, without them, and in English."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.diacritics import Restorer, train_restorer
from indexer.errors import BadQuery
from indexer.normalize import normalize_text
from search_api.query import MAX_QUERY_CHARS, QueryInfo, analyze, validate_query

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def restorer() -> Restorer:
    texts = [normalize_text(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))]
    return Restorer.from_model(train_restorer(texts))


# -- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["", "   ", "\n\t ", None])
def test_empty_query_says_what_to_do(q: object) -> None:
    with pytest.raises(BadQuery, match="Hãy nhập từ khóa") as err:
        validate_query(q)
    assert "type a few words" in str(err.value)
    assert err.value.code == "bad_query"


def test_too_long_query_names_the_limit_and_the_length() -> None:
    with pytest.raises(BadQuery) as err:
        validate_query("học sinh " * 200)
    message = str(err.value)
    assert str(MAX_QUERY_CHARS) in message and "1800" in message
    assert validate_query("a" * MAX_QUERY_CHARS) == "a" * MAX_QUERY_CHARS


@pytest.mark.parametrize("junk", ["học\x00sinh", "abc\x1b[31m", "\ufffd\ufffdPNG", "x\x7fy"])
def test_control_characters_and_binary_junk_are_refused(junk: str) -> None:
    with pytest.raises(BadQuery, match="U\\+"):
        validate_query(junk)


def test_punctuation_only_is_refused_and_good_queries_are_stripped() -> None:
    with pytest.raises(BadQuery, match="no letters or digits"):
        validate_query("?!... --")
    assert validate_query("  học sinh\tbỏ học \n") == "học sinh\tbỏ học"
    with pytest.raises(BadQuery):
        analyze("   ")


# -- normalization and restoration -----------------------------------------------------------------

def test_fields_and_restoration(restorer: Restorer) -> None:
    info = analyze("  phong hoc  thong minh ", restorer)
    assert isinstance(info, QueryInfo)
    assert info.raw == "  phong hoc  thong minh "
    assert info.text == "phong hoc thong minh"
    assert info.folded == "phong hoc thong minh"
    assert not info.has_diacritics
    assert info.restored == "phòng học thông minh"
    marked = analyze("Phòng học thông minh", restorer)
    assert marked.has_diacritics and marked.restored is None
    assert marked.folded == "phong hoc thong minh" and len(marked.folded) == len(marked.text)
    assert analyze("phong hoc thong minh").restored is None                     # no restorer, no guess
    assert analyze("giao duc STEM", restorer).restored == "giáo dục STEM"
    assert analyze("STEM requirements", restorer).restored is None              # English is not restored


# -- school years ----------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["2020-2021", "2020 - 2021", "năm học 2020–2021", "nam hoc 2020 2021",
                               "2020/2021", "NH 2020-2021", "kế hoạch năm học 2020 — 2021",
                               "STEM requirements school year 2020 2021", "2020-21"])
def test_school_year_spellings(q: str) -> None:
    assert analyze(q).school_years == ("2020-2021",)


@pytest.mark.parametrize("q", ["2020-2022", "2021-2020", "từ 2020 đến 2021", "2020 2021", "ngày 24/8/2020",
                               "thanh 2020 2021"])
def test_not_a_school_year(q: str) -> None:
    assert analyze(q).school_years == ()


def test_several_school_years_in_order() -> None:
    assert analyze("so sánh 2019-2020 và 2020-2021, 2019-2020").school_years == ("2019-2020", "2020-2021")


# -- document numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("q, numbers", [
    ("3089/GDTrH", ("3089/GDTrH",)),
    ("công văn 3089/gdtrh", ("3089/gdtrh",)),
    ("Thông tư 32/2018", ("32/2018",)),
    ("thong tu 5/2018 ve danh gia", ("5/2018",)),
    ("32/2018/TT-BGDĐT", ("32/2018/TT-BGDĐT",)),
    ("thông báo 460/TB-SGDĐT", ("460/TB-SGDĐT",)),
    ("công văn 2455", ("2455",)),
    ("cong van so 2455", ("2455",)),
    ("CV 2455 của Sở", ("2455",)),
    ("circular 32/2018", ("32/2018",)),
    ("3414/BGDĐT-GDTrH và 3089/GDTrH", ("3414/BGDĐT-GDTrH", "3089/GDTrH")),
])
def test_document_numbers(q: str, numbers: tuple[str, ...]) -> None:
    assert analyze(q).doc_numbers == numbers


@pytest.mark.parametrize("q", ["2455 học sinh", "ngày 24/8/2020", "tháng 9/2020", "2 tiet/tuan",
                               "2020/2021", "kế hoạch 2020", "tỷ lệ 0,6 %", "NH 2020-2021"])
def test_not_document_numbers(q: str) -> None:
    assert analyze(q).doc_numbers == ()


# -- document type ---------------------------------------------------------------------------------

@pytest.mark.parametrize("q, doc_type", [
    ("kế hoạch giao ban THCS", "kế hoạch"), ("ke hoach giao ban", "kế hoạch"),
    ("huong dan nhiem vu nam hoc", "hướng dẫn"), ("Thông báo kết luận hội nghị", "thông báo"),
    ("ket luan hoi nghi", "kết luận"), ("phuong huong nhiem vu", "phương hướng"),
    ("CV 2455", "công văn"), ("STEM plan 2020-2021", "kế hoạch"), ("which circular", "thông tư"),
    ("giáo dục STEM", None), ("ke hoachh", None),
])
def test_document_type(q: str, doc_type: str | None) -> None:
    assert analyze(q).doc_type == doc_type


# -- language --------------------------------------------------------------------------------------

@pytest.mark.parametrize("q, lang", [
    ("phòng học thông minh", "vi"), ("phong hoc thong minh", "vi"), ("ty le hoc sinh bo hoc THCS", "vi"),
    ("giao duc STEM", "vi"), ("STEM requirements 2020-2021", "en"), ("how many students dropped out", "en"),
    ("what is the dropout rate in lower secondary schools", "en"), ("THCS", "vi"), ("2020-2021", "vi"),
    ("co the to chuc online khong", "vi"), ("smart classroom", "en"),
])
def test_language(q: str, lang: str) -> None:
    assert analyze(q).lang == lang


# -- questions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("q, kind", [
    ("Tỷ lệ học sinh bỏ học là bao nhiêu?", "number"), ("ty le hoc sinh bo hoc la bao nhieu", "number"),
    ("có mấy trường đạt chuẩn", "number"), ("how many schools have smart classrooms", "number"),
    ("what percentage of students dropped out", "number"), ("tỷ lệ học sinh bỏ học?", "number"),
    ("khi nào nộp báo cáo", "date"), ("han chot nop bao cao khi nao", "date"), ("when is the deadline", "date"),
    ("văn bản nào hướng dẫn giáo dục STEM", "document"), ("cong van nao quy dinh", "document"),
    ("which document regulates teacher contests", "document"),
    ("ai chịu trách nhiệm kiểm tra", "who"), ("don vi nao to chuc hoi nghi", "who"), ("who organises it", "who"),
    ("giáo dục STEM là gì", "generic"), ("to chuc nhu the nao", "generic"), ("is STEM compulsory", "generic"),
    ("STEM?", "generic"), ("có tổ chức thi học sinh giỏi không", "generic"), ("co to chuc thi khong", "generic"),
    ("đã nộp báo cáo chưa", "generic"),
])
def test_questions(q: str, kind: str) -> None:
    info = analyze(q)
    assert info.is_question
    assert info.question_type == kind


@pytest.mark.parametrize("q", [
    "Những trường nào tham gia hội thi?", "nhung truong nao tham gia hoi thi", "các nội dung gì cần chuẩn bị",
    "Hồ sơ gồm những giấy tờ gì?", "danh sách giáo viên cốt cán", "liệt kê các hoạt động tháng 3",
    "kể tên các trường đạt chuẩn", "những hoạt động trải nghiệm của học sinh lớp 8",
    "Which schools joined the pilot?", "list the contests in March", "what are the requirements for STEM clubs",
])
def test_list_questions(q: str) -> None:
    assert analyze(q).wants_list


@pytest.mark.parametrize("q", [
    "Trường nào đạt chuẩn quốc gia?", "Tỷ lệ học sinh bỏ học là bao nhiêu?", "nhưng trường nào chưa nộp?",
    "các em học sinh lớp 9 cần chuẩn bị cho kỳ thi thế nào", "giáo dục STEM là gì",
    "which school hosts the meeting", "STEM requirements 2020-2021",
])
def test_single_answer_questions_are_not_lists(q: str) -> None:
    assert not analyze(q).wants_list


@pytest.mark.parametrize("q", ["ty le hoc sinh bo hoc THCS", "phòng học thông minh", "máy tính bảng",
                               "dau nam hoc", "kế hoạch giao ban", "STEM requirements 2020-2021", "ải Chi Lăng",
                               "học sinh chưa đạt chuẩn", "không tổ chức thi", "không có học sinh bỏ học"])
def test_not_questions(q: str) -> None:
    info = analyze(q)
    assert not info.is_question
    assert info.question_type is None
