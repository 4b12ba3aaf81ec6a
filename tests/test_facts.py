"""A directive's own number, date of issue and signer as answers (search_api.facts)."""
from __future__ import annotations

import pytest

from indexer.store import IndexReader
from indexer.types import Chunk
from search_api import facts
from search_api.answer import question_terms
from search_api.confidence import FACT_FEATURES, FEATURES, candidates, sources
from search_api.query import analyze
from search_api.schemas import Answer, AskParams, DocumentInfo, SearchResult
from search_api.spans import name_at_end

HEADER = "ỦY BAN NHÂN DÂN HUYỆN AN LÃO\nPHÒNG GIÁO DỤC VÀ ĐÀO TẠO\nSố: 322/PGD-THCS\n\nAn Lão, ngày 04 tháng 9 năm 2024"
CITES = "Căn cứ Công văn số 3089/BGDĐT-GDTrH ngày 14/8/2020 của Bộ GDĐT, Phòng hướng dẫn như sau:"
CLOSING = "Nơi nhận:\n- Như trên;\n- Lưu: VT, THCS.\nKT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG\n\nNguyễn Xuân Thạch"
AN_LAO = DocumentInfo(id="d1", source="an-lao.txt", title="Hướng dẫn thực hiện nhiệm vụ giáo dục THCS năm học 2024-2025",
                      number="322/PGD-THCS", issuer="Phòng Giáo dục và Đào tạo huyện An Lão", date="2024-09-04",
                      doc_type="hướng dẫn", school_years=["2024-2025"], level="THCS", place="An Lão")


def chunk(text: str, ordinal: int) -> Chunk:
    return Chunk(chunk_id=f"c{ordinal}", doc_id="d1", ordinal=ordinal, section="", start=0, end=len(text),
                 page=None, text=text)


@pytest.mark.parametrize("question, fact", [
    ("Ai ký hướng dẫn nhiệm vụ THCS của An Lão?", "signer"),
    ("người ký hướng dẫn nhiệm vụ giáo dục THCS của An Lão", "signer"),
    ("Who signed the An Lao lower secondary guidance?", "signer"),
    ("Hướng dẫn nhiệm vụ THCS của An Lão ban hành ngày nào?", "date"),
    ("Số hiệu văn bản hướng dẫn nhiệm vụ THCS An Lão là gì?", "number"),
    ("Hướng dẫn nhiệm vụ THCS của An Lão có số, ký hiệu gì?", "number"),
])
def test_which_fact_a_question_asks_of_a_directive(question: str, fact: str) -> None:
    assert facts.asked(analyze(question)) == fact


@pytest.mark.parametrize("question", [
    "Công văn 3089/BGDĐT-GDTrH ban hành ngày nào?",       # another document's date: read in the passage citing it
    "Khi nào Phòng Giáo dục An Lão tổ chức hội nghị thi đua?",  # the date of an event, not of the directive
    "Văn bản nào quy định vị trí việc làm trong trường THCS?",  # the document cited on it, not this one
    "phòng GD An Lão hướng dẫn năm học 2024-2025",       # a search for the directive itself
    "Tỷ lệ học sinh bỏ học THCS năm học 2024-2025 là bao nhiêu?",
    "Đăng ký thi đua ở đâu?",
])
def test_questions_no_fact_of_a_directive_answers(question: str) -> None:
    assert facts.asked(analyze(question)) is None


@pytest.mark.parametrize("line, name", [
    ("GIÁM ĐỐC Nguyễn Huy Hoàng", "Nguyễn Huy Hoàng"),
    ("Đặng Thị Ánh.", "Đặng Thị Ánh"),
    ("KT. TRƯỞNG PHÒNG", None),
    ("- Lưu: VT, tổ THCS.", None),
    ("Kính gửi: Hiệu trưởng các trường THCS", None),
])
def test_a_signature_line_ends_in_a_name(line: str, name: str | None) -> None:
    found = name_at_end(line, 0, len(line))
    assert (line[slice(*found)] if found else None) == name


def test_each_fact_is_found_where_the_document_states_it() -> None:
    first, signed = [chunk(HEADER, 0), chunk(CITES, 1)], [chunk(CLOSING, 8)]
    for fact, expected in (("number", "322/PGD-THCS"), ("date", "An Lão, ngày 04 tháng 9 năm 2024"),
                           ("signer", "Nguyễn Xuân Thạch")):
        found = facts.locate(fact, AN_LAO, first, signed)
        assert found is not None and found.chunk.text[found.start:found.end] == expected, fact
    other = AN_LAO.model_copy(update={"number": "3089/BGDĐT-GDTrH", "date": "2020-08-14"})
    assert facts.locate("date", other, first, signed) is None, "a cited document's date is not a date of issue"


@pytest.mark.parametrize("text, name", [
    ("Trên đây là kết luận.\n-Lưu: VT, GDTrH-GDTX.GIÁM ĐỐC Nguyễn Huy Hoàng", "Nguyễn Huy Hoàng"),
    ("Trên đây là phương hướng.\n \tTRƯỞNG PHÒNG\n\nNguyễn Trọng Hiếu\n\nPHỤ LỤC\nTHCS\t44,4%", "Nguyễn Trọng Hiếu"),
    ("HIỆU TRƯỞNG các trường báo cáo về Phòng.\n\n\n\n\n\nTrần Văn Nam", None),  # too far under it
])
def test_the_signer_is_the_name_under_the_signing_title(text: str, name: str | None) -> None:
    found = facts.locate("signer", AN_LAO, [], [chunk(text, 5)])
    assert (found.chunk.text[found.start:found.end] if found else None) == name

def test_how_much_of_the_question_the_document_describes() -> None:
    first = [chunk(HEADER, 0), chunk(CITES, 1)]
    about = facts.describes(question_terms(analyze("phòng GD An Lão hướng dẫn năm học 2024-2025")), AN_LAO, first)
    other = facts.describes(question_terms(analyze("tỷ lệ học sinh bỏ học của Quận 11")), AN_LAO, first)
    assert about > 0.7 and other < 0.3, (about, other)
    headless = DocumentInfo(id="d2", source="nganh.txt", title="PHƯƠNG HƯỚNG NHIỆM VỤ NĂM HỌC 2020 - 2021")
    opening = [chunk("PHƯƠNG HƯỚNG NHIỆM VỤ\nNăm học 2020 - 2021, Ngành Giáo dục và Đào tạo Quận 11 tiếp tục", 0)]
    question = question_terms(analyze("Ai ký phương hướng nhiệm vụ của ngành giáo dục Quận 11?"))
    assert facts.describes(question, headless, opening) > facts.describes(question, headless, []) + 0.3, \
        "a file without its header is described by its opening sentence"


def test_a_fact_is_a_candidate_with_its_own_features() -> None:
    passage = SearchResult(rank=3, score=0.5, chunk_id="c8", text=CLOSING, highlights=[], section="", start=0,
                           end=len(CLOSING), page=None, document=AN_LAO)
    start = CLOSING.index("Nguyễn")
    info = analyze("Ai ký hướng dẫn nhiệm vụ THCS của An Lão?")
    stated = facts.Stated(Answer(text="Nguyễn Xuân Thạch", span=(start, len(CLOSING)), passage=passage), "signer", 0.8)
    [fact] = candidates(info, [passage], None, 0.0, [], [], stated)
    assert fact.source == "facts" and fact.answer.text == "Nguyễn Xuân Thạch"
    assert fact.features["fact"] == 1.0 and fact.features["describes"] == 0.8
    assert fact.features["passage_rank"] == 3.0 and set(fact.features) == set(FEATURES)
    assert "facts" in sources(FEATURES) and "facts" not in sources(tuple(f for f in FEATURES if f not in FACT_FEATURES))


@pytest.mark.parametrize("question, expected, source", [
    ("Ai ký thông báo kết luận hội nghị của Sở GD&ĐT Sơn La?", "Nguyễn Huy Hoàng", "son-la-ket-luan-hoi-nghi-2020-2021.txt"),
    ("Số hiệu văn bản phương hướng nhiệm vụ cấp THCS Quận 11 năm học 2020-2021 là gì?", "897/PH-GDĐT",
     "quan11-phuong-huong-thcs-2020-2021.txt"),
    ("Phương hướng nhiệm vụ cấp THCS của Phòng GD&ĐT Quận 11 ban hành ngày nào?", "Quận 11, ngày 07 tháng 9 năm 2020",
     "quan11-phuong-huong-thcs-2020-2021.txt"),
])
def test_ask_offers_the_described_directive_s_fact_as_a_slice_of_a_stored_passage(
        service, question: str, expected: str, source: str) -> None:
    _, found = service.ask_candidates(AskParams(q=question), with_reader=False)
    [answer] = [c.answer for c in found if c.source == "facts"]
    assert answer.text == expected and answer.passage.document.source == source
    passage = answer.passage
    assert passage.text[slice(*answer.span)] == expected
    document = service.document(passage.document.id)
    assert document.text[passage.start:passage.end] == passage.text


def test_every_seed_directive_s_signer_is_found_in_the_index(service) -> None:
    store = IndexReader(service.settings.index_dir)
    signers = {}
    for document in service.documents().documents:
        signed = store.last_chunks_with(document.id, facts.SIGNING_TITLES, facts.SIGNATURE_PASSAGES)
        found = facts.locate("signer", document, [], signed)
        signers[document.source] = found.chunk.text[found.start:found.end] if found else None
    store.close()
    assert signers == {"an-lao-huong-dan-thcs-2024-2025.txt": "Nguyễn Xuân Thạch",
                       "giao-ban-thcs-lan-1-2020-2021.txt": "Nguyễn Phúc Tăng",
                       "quan11-phuong-huong-nganh-2020-2021.txt": "Nguyễn Trọng Hiếu",   # before its appendix of tables
                       "quan11-phuong-huong-thcs-2020-2021.txt": "Võ Minh Tuấn Kiệt",
                       "son-la-ket-luan-hoi-nghi-2020-2021.txt": "Nguyễn Huy Hoàng"}
