"""Chunker invariants on the five real seeds and on synthetic text: exact slices, order, coverage, sections."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from indexer.chunking import chunk_context, chunk_document, section_at
from indexer.errors import TracuuError
from indexer.normalize import normalize_text
from indexer.structure import parse_document, skipped_spans
from indexer.types import Chunk, DocMeta, Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEEDS = sorted(p.name for p in CORPUS.glob("*.txt"))


def words(s: str) -> int:
    return len(s.split())


def make_doc(text: str, doc_id: str = "doc", pages: tuple[tuple[int, int, int], ...] = ()) -> Document:
    parsed = parse_document(text)
    return Document(doc_id=doc_id, source=f"{doc_id}.txt", sha256="0" * 64, text=text, meta=parsed.meta,
                    sections=parsed.sections, tables=parsed.tables, footnotes=parsed.footnotes, pages=pages)


@cache
def seed_doc(name: str) -> Document:
    return make_doc(normalize_text((CORPUS / name).read_text(encoding="utf-8")), doc_id=name.split("-")[0])


def check_invariants(doc: Document, chunks: list[Chunk], max_tokens: int) -> None:
    text = doc.text
    covered = bytearray(len(text))
    prev_end = 0
    for ordinal, c in enumerate(chunks):
        assert c.text == text[c.start:c.end] and c.text.strip() == c.text and c.text
        assert c.start >= prev_end, "chunks overlap or are out of order"
        assert (c.ordinal, c.chunk_id, c.doc_id) == (ordinal, f"{doc.doc_id}-{ordinal:04d}", doc.doc_id)
        if c.kind == "text" and " " in c.text:
            assert words(c.text) <= max_tokens
        covered[c.start:c.end] = b"\1" * (c.end - c.start)
        prev_end = c.end
    for s, e in skipped_spans(text):
        covered[s:e] = b"\1" * (e - s)
    missing = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert not missing, f"uncovered text at {missing[0]}: {text[missing[0]:missing[0] + 40]!r}"


def check_sections(doc: Document, chunks: list[Chunk]) -> None:
    for c in chunks:
        deepest = section_at(doc.sections, c.start)
        assert c.section == (" › ".join(deepest.path) if deepest else "")
        assert deepest is None or c.end <= deepest.end
        assert not [s for s in doc.sections if c.start < s.start < c.end], f"{c.chunk_id} crosses a heading"


@pytest.mark.parametrize("max_tokens", [200, 25])
@pytest.mark.parametrize("name", SEEDS)
def test_seed_invariants(name, max_tokens):
    doc = seed_doc(name)
    chunks = chunk_document(doc, words, max_tokens)
    check_invariants(doc, chunks, max_tokens)
    check_sections(doc, chunks)
    assert chunk_document(doc, words, max_tokens) == chunks      # deterministic


def test_table_rows_are_their_own_chunks():
    doc = seed_doc("quan11-phuong-huong-thcs-2020-2021.txt")
    chunks = chunk_document(doc, words, 200)
    rows = [c for c in chunks if c.kind == "table_row"]
    assert len(rows) == len(doc.tables) == 20
    dropout = next(c for c in rows if c.rendered.startswith("Học sinh bỏ học › Học sinh THCS"))
    assert dropout.rendered == "Học sinh bỏ học › Học sinh THCS (Tỷ lệ %): 2019-2020: 0,43 %; 2020-2021: 0,6 %"
    assert dropout.display == dropout.rendered and dropout.section == "III. CHỈ TIÊU PHẤN ĐẤU"
    # no text chunk repeats a row's values, and the header lines are no passage of their own
    in_table = [c for c in chunks if c.section == "III. CHỈ TIÊU PHẤN ĐẤU" and c.kind != "table_row"]
    assert [(c.kind, c.text.split()) for c in in_table] == [
        ("heading", ["III.", "CHỈ", "TIÊU", "PHẤN", "ĐẤU"]),
        ("heading", ["STT", "Nội", "dung", "Tỷ", "lệ", "%", "2019-2020", "2020-2021"])]


@pytest.mark.parametrize("name", ["quan11-phuong-huong-thcs-2020-2021.txt", "quan11-phuong-huong-nganh-2020-2021.txt"])
def test_a_table_s_heading_and_column_headers_are_kept_but_not_passages(name):
    """Issue 12: "CHỈ TIÊU PHẤN ĐẤU NĂM HỌC 2020-2021 / STT / Nội dung / Tỷ lệ % / 2019-2020 / 2020-2021" ranked as
    a passage for "STEM requirements 2020-2021"; its words travel with every row (section path, headers)."""
    doc = seed_doc(name)
    chunks = chunk_document(doc, words, 200)
    headers = [c for c in chunks if c.text.startswith("STT")]
    assert len(headers) == 1 and headers[0].kind == "heading"
    assert headers[0].start == doc.tables[0].head_start and headers[0].end == doc.tables[0].head_end
    retrievable = [c for c in chunks if c.kind != "heading"]
    assert not [c for c in retrievable if "STT" in c.text.split() or c.text.strip() == c.section.split(" › ")[-1]]
    rows = [c for c in chunks if c.kind == "table_row"]
    assert all("2020-2021" in c.rendered and c.section for c in rows)       # the header lives on in each row


def test_a_lead_in_above_a_table_stays_a_passage_and_a_tab_header_is_not():
    text = ("1. Chỉ tiêu\nChỉ tiêu cụ thể như sau:\nNội dung\n2019-2020\n2020-2021\n1\nHọc sinh giỏi\n10 %\n12 %\n"
            "2\nHọc sinh khá\n40 %\n42 %\n\n2. Bảng\nTrường\tSố lớp\tSố học sinh\nTrường A\t12\t480\n"
            "Trường B\t10\t400")
    doc = make_doc(text)
    chunks = chunk_document(doc, words, 200)
    assert [(c.kind, c.text) for c in chunks if c.kind != "table_row"] == [
        ("text", "1. Chỉ tiêu\nChỉ tiêu cụ thể như sau:"),          # the lead-in is read, with its heading
        ("heading", "Nội dung\n2019-2020\n2020-2021"),
        ("heading", "2. Bảng"),                                     # a heading over nothing but a table
        ("heading", "Trường\tSố lớp\tSố học sinh")]


def test_footnotes_are_their_own_chunks():
    doc = seed_doc("an-lao-huong-dan-thcs-2024-2025.txt")
    notes = [c for c in chunk_document(doc, words, 200) if c.kind == "footnote"]
    assert [c.text[0] for c in notes] == list("¹²³⁴⁵⁶⁷⁸⁹")
    assert notes[0].text == "¹ Ban hành kèm theo Thông tư số 32/2018/TT-BGDĐT ngày 26/12/2018."


def test_section_and_context_strings():
    doc = seed_doc("quan11-phuong-huong-thcs-2020-2021.txt")
    chunks = chunk_document(doc, words, 200)
    seven = next(c for c in chunks if c.text.startswith("7. Tiếp tục đổi mới hình thức"))
    assert seven.section == "II. NHIỆM VỤ › 7. Tiếp tục đổi mới hình thức tổ chức…"
    assert seven.context == "PHƯƠNG HƯỚNG NHIỆM VỤ CẤP TRUNG HỌC CƠ SỞ Năm học 2020 - 2021 › " + seven.section
    assert "Tiếp tục tổ chức khảo sát chất lượng học sinh lớp 7, 9" in seven.text   # the item's body joins it
    header = chunks[0]
    assert header.section == "" and header.context == doc.meta.title and header.text.startswith("ỦY BAN")
    assert chunk_context(make_doc("Không tiêu đề."), "I. A") == "I. A"


def test_scraped_page_chunks_follow_glued_headings():
    doc = seed_doc("son-la-ket-luan-hoi-nghi-2020-2021.txt")
    chunks = chunk_document(doc, words, 200)
    assert all("Chào mừng" not in c.text and "Hôm nay" not in c.text for c in chunks)
    sub = [c for c in chunks if c.section.split(" › ")[-1].startswith("2.2.")]
    assert sub and sub[0].text.startswith("2.2.")


def test_long_paragraph_splits_at_sentences_then_words():
    sentences = [f"Câu số {k} nói về chủ đề {k} của kế hoạch." for k in range(30)]
    long_sentence = " ".join(f"từ{k}" for k in range(50)) + "."
    text = "I. NỘI DUNG\n" + " ".join(sentences) + "\n" + long_sentence + "\n- Ý cuối."
    doc = make_doc(text)
    chunks = chunk_document(doc, words, 22)
    check_invariants(doc, chunks, 22)
    body = [c for c in chunks if c.text.startswith("Câu số")]
    assert len(body) > 1 and all(c.text.endswith(".") for c in body)    # cut between sentences
    assert [c.text for c in chunks if c.text.startswith("từ")][1].startswith("từ22 ")   # then between words
    assert all(c.section == "I. NỘI DUNG" for c in chunks)


def test_short_lines_pack_together_but_not_across_sections():
    text = "I. A\n- một hai.\n- ba bốn.\n- năm sáu.\nII. B\n- bảy tám."
    chunks = chunk_document(make_doc(text), words, 200)
    assert [c.text for c in chunks] == ["I. A\n- một hai.\n- ba bốn.\n- năm sáu.", "II. B\n- bảy tám."]
    assert [c.section for c in chunks] == ["I. A", "II. B"]


def test_a_run_without_spaces_is_cut_to_fit():
    text = "x" * 50
    chunks = chunk_document(make_doc(text), len, 20)
    assert [len(c.text) for c in chunks] == [20, 20, 10]


def test_pages_and_bad_max_tokens():
    text = "Trang một.\n\nTrang hai."
    doc = make_doc(text, pages=((1, 0, 10), (2, 12, 22)))
    chunks = chunk_document(doc, words, 2)
    assert [(c.text, c.page) for c in chunks] == [("Trang một.", 1), ("Trang hai.", 2)]
    with pytest.raises(TracuuError):
        chunk_document(doc, words, 0)


def test_empty_document_has_no_chunks():
    doc = Document("e", "e.txt", "0", "\n\n  \n", DocMeta())
    assert chunk_document(doc, words) == []


def test_only_bare_headings_are_hidden_from_retrieval():
    text = ("I. NHIỆM VỤ CHUNG\n"
            "1. Dạy học\n"
            "Các trường tổ chức dạy học hai buổi mỗi ngày.\n"
            "2. Phạm tội thuộc một trong các trường hợp sau đây, thì bị phạt tù từ 02 năm đến 07 năm:\n"
            "a) Có tổ chức;\n"
            "b) Phạm tội 02 lần trở lên.\n")
    doc = make_doc(text)
    chunks = chunk_document(doc, lambda s: len(s.split()), max_tokens=200)
    kinds = {c.text.split("\n")[0][:30]: c.kind for c in chunks}
    assert kinds["I. NHIỆM VỤ CHUNG"] == "heading"          # its words live on in the children's section path
    lead_in = next(c for c in chunks if c.text.startswith("2. Phạm tội"))
    assert lead_in.kind == "text", "a lead-in longer than its section label must stay retrievable"
    assert "bị phạt tù từ 02 năm đến 07 năm" not in next(c for c in chunks if c.text.startswith("a)")).section
