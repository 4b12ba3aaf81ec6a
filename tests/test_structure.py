"""Structure parser on the five real seeds (normalized as the builder does) and on small synthetic texts."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from indexer.normalize import normalize_text
from indexer.structure import ParsedDoc, parse_document, skipped_spans
from indexer.types import DocMeta, TableRow

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEEDS = sorted(p.name for p in CORPUS.glob("*.txt"))


@cache
def seed(name: str) -> tuple[str, ParsedDoc]:
    text = normalize_text((CORPUS / name).read_text(encoding="utf-8"))
    return text, parse_document(text)


def section(parsed: ParsedDoc, prefix: str):
    found = [s for s in parsed.sections if s.label.startswith(prefix)]
    assert found, f"no section {prefix!r}"
    return found[0]


def row(parsed: ParsedDoc, label: str) -> TableRow:
    found = [r for r in parsed.tables if r.label == label]
    assert len(found) == 1, f"{label!r}: {[r.label for r in parsed.tables]}"
    return found[0]


# -- header metadata --------------------------------------------------------------------------

META = {
    "quan11-phuong-huong-thcs-2020-2021.txt": dict(
        number="897/PH-GDĐT", issuer="Phòng Giáo dục và Đào tạo Quận 11", place="Quận 11", date="2020-09-07",
        doc_type="phương hướng", school_years=("2020-2021",), level="THCS",
        title="PHƯƠNG HƯỚNG NHIỆM VỤ CẤP TRUNG HỌC CƠ SỞ Năm học 2020 - 2021"),
    "quan11-phuong-huong-nganh-2020-2021.txt": dict(
        number=None, issuer=None, place=None, date=None, doc_type="phương hướng", school_years=("2020-2021",),
        level=None, title="PHƯƠNG HƯỚNG NHIỆM VỤ NĂM HỌC 2020 - 2021"),
    "giao-ban-thcs-lan-1-2020-2021.txt": dict(
        number=None, issuer=None, place=None, date=None, doc_type="kế hoạch", school_years=("2020-2021",),
        level="THCS",
        title="KẾ HOẠCH Tổ chức Hội nghị giao ban cấp trung học cơ sở lần thứ nhất năm học 2020-2021"),
    "an-lao-huong-dan-thcs-2024-2025.txt": dict(
        number="322/PGD-THCS", issuer=None, place="An Lão", date="2024-09-04", doc_type="hướng dẫn",
        school_years=("2024-2025",), level="THCS",
        title="Hướng dẫn thực hiện nhiệm vụ Giáo dục THCS năm học 2024-2025"),
    "son-la-ket-luan-hoi-nghi-2020-2021.txt": dict(
        number="460/TB-SGDĐT", issuer="Sở Giáo dục và Đào tạo tỉnh Sơn La", place="Sơn La", date="2020-11-30",
        doc_type="thông báo", school_years=("2020-2021",), level="trung học",
        title="THÔNG BÁO Kết luận Hội nghị triển khai nhiệm vụ giáo dục trung học năm học 2020-2021"),
}


def test_every_seed_has_pinned_metadata():
    assert sorted(META) == SEEDS


@pytest.mark.parametrize("name", sorted(META))
def test_seed_metadata(name):
    meta = seed(name)[1].meta
    got = {key: getattr(meta, key) for key in META[name]}
    assert got == META[name]


@pytest.mark.parametrize("name, expected, absent", [
    ("quan11-phuong-huong-thcs-2020-2021.txt",
     ["29-NQ/TW", "32/2018/TT-BGDĐT", "10-CT/TW", "3089/GDTrH", "2848/GDĐT-TrH"], "897/PH-GDĐT"),
    ("son-la-ket-luan-hoi-nghi-2020-2021.txt",
     ["666/CT-BGDĐT", "3414/BGDĐT-GDTrH", "884/SGDĐT-GDTrH&GDTX", "26/2020/TT-BGDĐT"], "460/TB-SGDĐT"),
    ("an-lao-huong-dan-thcs-2024-2025.txt", ["32/2018/TT-BGDĐT", "1076/QĐ-TTg", "88/PGD"], "322/PGD-THCS"),
])
def test_references_in_order_without_own_number(name, expected, absent):
    refs = seed(name)[1].meta.references
    assert [r for r in refs if r in expected] == expected
    assert absent not in refs
    assert len(refs) == len(set(refs))


# -- real archives (issue 11): nothing invented ---------------------------------------------------

CONGBAO = ("Thông tư liên tịch số 21/2015/TTLT-BGDĐT-BNV quy định mã số giáo viên tiểu học công lập.\n"
           "Loại văn bản: Thông tư liên tịch\nSố, ký hiệu: 21/2015/TTLT-BGDĐT-BNV\n"
           "Cơ quan ban hành: BỘ NỘI VỤ - BỘ GIÁO DỤC VÀ ĐÀO TẠO\nNgày ban hành: 16/09/2015\n"
           "Trích yếu: quy định mã số giáo viên tiểu học công lập.\nNgười ký: NGUYỄN VĂN A\n"
           "Văn bản căn cứ [1]:\n- 58/2014/NĐ-CP Nghị định số 58/2014/NĐ-CP ngày 16 tháng 6 năm 2014.")


def test_a_portal_attribute_block_gives_the_labelled_values():
    meta = parse_document(normalize_text(CONGBAO)).meta
    assert (meta.number, meta.date, meta.doc_type) == ("21/2015/TTLT-BGDĐT-BNV", "2015-09-16", "thông tư liên tịch")
    assert meta.issuer == "Bộ Nội vụ - Bộ Giáo dục và Đào tạo"     # both issuers, cased as agencies are written
    assert meta.title == "quy định mã số giáo viên tiểu học công lập." and meta.level == "tiểu học"
    assert meta.references == ("58/2014/NĐ-CP",)                     # its own number is not a reference


def test_an_attribute_block_names_the_one_education_unit_as_the_header_does():
    text = CONGBAO.replace("BỘ NỘI VỤ - BỘ GIÁO DỤC VÀ ĐÀO TẠO", "BỘ GIÁO DỤC VÀ ĐÀO TẠO").replace(
        "Ngày ban hành: 16/09/2015", "Ngày ban hành: 31/02/2015")
    meta = parse_document(normalize_text(text)).meta
    assert meta.issuer == "Bộ Giáo dục và Đào tạo" and meta.date is None    # no 31 February


@pytest.mark.parametrize(("provenance", "doc_type", "number"), [
    ("(Điều 2 Luật số 57/2020/QH14, có hiệu lực thi hành kể từ ngày 01/01/2021)", "luật", "57/2020/QH14"),
    ("(Điều 1 Nghị định số 119-CP Ban hành Quy định về hồ sơ địa giới, có hiệu lực thi hành kể từ ngày 01/01/1995)",
     "nghị định", "119-CP"),
    ("((Mục IV Thông tư liên tịch số 124/2007/TTLT-BTC-BGDĐT, có hiệu lực thi hành kể từ ngày 24/11/2007))",
     "thông tư liên tịch", "124/2007/TTLT-BTC-BGDĐT"),
    ("(Điều 3 Thông tư số 17 /2018/TT-BTNMT, có hiệu lực thi hành kể từ ngày 01/01/2019)", "thông tư", None),
    ("(Điều 11 Pháp lệnh Về Hàm, cấp ngoại giao, có hiệu lực thi hành kể từ ngày 31/05/1995)", None, None),
])
def test_a_phap_dien_article_names_the_document_it_comes_from(provenance, doc_type, number):
    """Its type and number, never a date: "ngày …" in that line may date an amended document or the effect."""
    text = f"Giáo dục, đào tạo / Đề mục 13.1 Giáo dục — Điều 13.1.LQ.2. Phạm vi\n{provenance}\n1. Luật này quy định."
    meta = parse_document(normalize_text(text)).meta
    assert (meta.doc_type, meta.number, meta.date, meta.issuer) == (doc_type, number, None, None)


def test_a_date_after_a_cited_number_is_not_the_issue_date():
    """Pháp điển 13.1.TT.184.3: "(Ban hành kèm theo Thông tư số 06/2024/TT-BGDĐT, ngày 10 tháng 4 năm 2024 …)"
    gave date 2024-04-10 and place "06/2024/TT-BGDĐT"."""
    text = ("Giáo dục, đào tạo / Đề mục 13.1 Giáo dục — Điều 13.1.TT.184.3.\n"
            "(Điều 3 Thông tư số 06/2024/TT-BGDĐT, có hiệu lực thi hành kể từ ngày 27/05/2024)\nQUY CHẾ\n"
            "Cuộc thi nghiên cứu khoa học, kỹ thuật cấp quốc gia\n(Ban hành kèm theo Thông tư số 06/2024/TT-BGDĐT, "
            "ngày 10 tháng 4 năm 2024 của Bộ trưởng Bộ Giáo dục và Đào tạo)\nChương I\nQUY ĐỊNH CHUNG")
    meta = parse_document(normalize_text(text)).meta
    assert meta.date is None and meta.place is None
    assert (meta.doc_type, meta.number) == ("thông tư", "06/2024/TT-BGDĐT")    # the article's own provenance
    assert meta.title.startswith("QUY CHẾ Cuộc thi")
    dated = parse_document(normalize_text("PHÒNG GD&ĐT QUẬN 11\nQuận 11, ngày 07 tháng 9 năm 2020\n\nKẾ HOẠCH\nX")).meta
    assert (dated.place, dated.date) == ("Quận 11", "2020-09-07")


def test_a_long_line_quoting_a_title_in_capitals_is_no_glued_header():
    """Pháp điển 3.2.TT.6.17 cites "… CỦA THÔNG TƯ SỐ 17/2013/TT-BTTTT NGÀY 02 THÁNG 8 NĂM 2013 …" in a line of
    300+ characters; it was read as a scraped header with title "THÔNG TƯ SỐ 17/2013…" and type thông tư."""
    text = ("Bưu chính, viễn thông / Đề mục 3.2 Bưu chính — Điều 3.2.TT.6.17. Điều khoản thi hành\n"
            "(Điều 2 Thông tư số 11/2019/TT-BTTTT SỬA ĐỔI, BỔ SUNG, BÃI BỎ MỘT SỐ ĐIỀU CỦA THÔNG TƯ SỐ 17/2013/TT-BTTTT "
            "NGÀY 02 THÁNG 8 NĂM 2013 CỦA BỘ TRƯỞNG BỘ THÔNG TIN VÀ TRUYỀN THÔNG QUY ĐỊNH VỀ HOẠT ĐỘNG CỦA ĐIỂM BƯU ĐIỆN "
            "- VĂN HÓA XÃ ngày 22/10/2019 của Bộ Thông tin và Truyền thông, có hiệu lực thi hành kể từ ngày 01/01/2020 )\n"
            "1. Thông tư này có hiệu lực thi hành kể từ ngày 01 tháng 01 năm 2020.")
    meta = parse_document(normalize_text(text)).meta
    assert (meta.title, meta.date, meta.issuer) == (None, None, None)
    assert (meta.doc_type, meta.number) == ("thông tư", "11/2019/TT-BTTTT")   # from "(Điều 2 Thông tư số …", not 17/2013


def test_references_of_the_plan_are_exactly_the_cited_numbers():
    refs = seed("giao-ban-thcs-lan-1-2020-2021.txt")[1].meta.references
    assert refs == ("2455/SGDĐT-GDTrH", "22/2019/TT-BGDĐT", "2602/KH-SGDĐT")


# -- boilerplate ------------------------------------------------------------------------------

def test_web_chrome_and_motto_are_skipped():
    text, parsed = seed("son-la-ket-luan-hoi-nghi-2020-2021.txt")
    skipped = [text[s:e] for s, e in parsed.skipped]
    assert skipped[:2] == ["Thursday, 19/05/2022 - 02:09|",
                           "Chào mừng bạn đến với cổng thông tin điện tử của Trường THCS Quyết Thắng"]
    assert skipped[-1] == "Năm 2022 : 67.657" and "Bài tin liên quan" in skipped
    assert any(s.startswith("CỘNG H") for s in skipped) and any(s.startswith("Độc lập") for s in skipped)
    assert parsed.skipped == skipped_spans(text)


def test_a_clean_document_skips_only_the_motto():
    text, parsed = seed("quan11-phuong-huong-thcs-2020-2021.txt")
    assert [text[s:e] for s, e in parsed.skipped] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert seed("an-lao-huong-dan-thcs-2024-2025.txt")[1].skipped == ()


# -- sections ---------------------------------------------------------------------------------

def test_numbered_items_nest_under_roman_parts():
    text, parsed = seed("quan11-phuong-huong-thcs-2020-2021.txt")
    seven = [s for s in parsed.sections if s.label.startswith("7. Tiếp tục đổi mới")]
    assert [s.path[0] for s in seven] == ["II. NHIỆM VỤ", "IV. GIẢI PHÁP THỰC HIỆN"]
    assert seven[0].level == 2 and seven[0].path[1] == seven[0].label
    # the item's body runs to the next item: "7." covers its heading line and the paragraph after it
    assert "khảo sát chất lượng học sinh lớp 7, 9" in text[seven[0].start:seven[0].end]
    assert section(parsed, "V. LỊCH CÔNG TÁC").level == 1
    assert not [s for s in parsed.sections if s.label.startswith(("-", "+", "*"))]


def test_letter_parts_roman_chapters_and_lettered_items():
    parsed = seed("an-lao-huong-dan-thcs-2024-2025.txt")[1]
    a = section(parsed, "a) Kế hoạch giáo dục của nhà trường")
    assert a.level == 4 and a.path[0] == "C. CÁC NHIỆM VỤ CỤ THỂ"
    assert a.path[1].startswith("I. Thực hiện hiệu quả") and a.path[2].startswith("1. Xây dựng và thực hiện")
    assert section(parsed, "V. Đẩy mạnh ứng dụng").path[0] == "C. CÁC NHIỆM VỤ CỤ THỂ"   # Roman V, not letter V
    assert section(parsed, "D. TỔ CHỨC THỰC HIỆN").level == 1
    assert [s.label for s in parsed.sections if s.level == 1] == [
        "A. NHIỆM VỤ TRỌNG TÂM", "B. MỘT SỐ CHỈ TIÊU CƠ BẢN", "C. CÁC NHIỆM VỤ CỤ THỂ", "D. TỔ CHỨC THỰC HIỆN"]


def test_decimal_items_and_a_capitals_appendix():
    parsed = seed("quan11-phuong-huong-nganh-2020-2021.txt")[1]
    four_two = section(parsed, "4.2. Giáo dục mầm non")
    assert four_two.path == ("II. CÁC NHÓM NHIỆM VỤ CHỦ YẾU", four_two.path[1], "4.2. Giáo dục mầm non")
    assert four_two.path[1].startswith("4. Phát triển và nâng cao")
    appendix = section(parsed, "CHỈ TIÊU PHẤN ĐẤU NĂM HỌC 2020-2021")
    assert appendix.level == 1 and appendix.path == (appendix.label,)


def test_out_of_order_numbering_stays_flat():
    parsed = seed("giao-ban-thcs-lan-1-2020-2021.txt")[1]
    assert [s.label for s in parsed.sections if s.level == 1] == [
        "I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG", "III. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN",
        "VI. CHƯƠNG TRÌNH HỘI NGHỊ", "V. TỔ CHỨC THỰC HIỆN", "VI. Kinh phí"]
    assert section(parsed, "1. Thời gian").path == ("III. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN", "1. Thời gian")


def test_headings_glued_inside_a_scraped_line():
    parsed = seed("son-la-ket-luan-hoi-nghi-2020-2021.txt")[1]
    assert [s.label.split()[0] for s in parsed.sections if s.level == 1] == ["1.", "2."]
    subs = [s.label.split()[0] for s in parsed.sections if s.level == 2]
    assert subs == [f"1.{k}." for k in range(1, 5)] + [f"2.{k}." for k in range(1, 16)]
    assert section(parsed, "2.15.").path[0].startswith("2. Các giải pháp")


@pytest.mark.parametrize("name", SEEDS)
def test_section_spans_nest_and_start_at_their_heading(name):
    text, parsed = seed(name)
    for s in parsed.sections:
        assert 0 <= s.start < s.end <= len(text) and s.level == len(s.path) and s.path[-1] == s.label
        assert text[s.start:].startswith(s.label.split()[0])
        assert text[s.end - 1].strip()
        parents = [p for p in parsed.sections if p.path == s.path[:-1]]
        if s.level > 1:
            assert any(p.start <= s.start and s.end <= p.end for p in parents)


def test_long_heading_lines_are_cut_to_a_label():
    parsed = seed("quan11-phuong-huong-thcs-2020-2021.txt")[1]
    assert section(parsed, "7. Tiếp tục đổi mới").label == "7. Tiếp tục đổi mới hình thức tổ chức…"
    assert section(parsed, "5. Củng cố, nâng cao chất lượng phổ cập giáo dục").label.endswith("giáo dục")
    assert section(seed("giao-ban-thcs-lan-1-2020-2021.txt")[1], "1. Thời gian").label == "1. Thời gian"


# -- tables -----------------------------------------------------------------------------------

def test_one_cell_per_line_table_of_the_school_plan():
    text, parsed = seed("quan11-phuong-huong-thcs-2020-2021.txt")
    assert len(parsed.tables) == 20
    dropout = row(parsed, "Học sinh bỏ học › Học sinh THCS")
    assert dropout.cells == (("2019-2020", "0,43 %"), ("2020-2021", "0,6 %"))
    assert text[dropout.start:dropout.end].endswith("0,43 %\n0,6 %")
    assert "Học sinh bỏ học" in text[dropout.start:dropout.end]
    assert dropout.render() == "Học sinh bỏ học › Học sinh THCS (Tỷ lệ %): 2019-2020: 0,43 %; 2020-2021: 0,6 %"
    assert row(parsed, "Kết quả giáo dục › Hạnh kiểm › Tốt").cells == (("2019-2020", "87,3%"), ("2020-2021", "87,5%"))
    assert row(parsed, "Kết quả giáo dục › Học sinh giỏi cấp Thành phố").cells == (
        ("2019-2020", "59 học sinh"), ("2020-2021", "60 học sinh"))
    assert row(parsed, "Đánh giá ngoài Kiểm định chất lượng giáo dục › Cấp THCS").cells == (
        ("2019-2020", "4 trường"), ("2020-2021", "3 trường"))
    table = section(parsed, "III. CHỈ TIÊU PHẤN ĐẤU")
    assert all(table.start < r.start and r.end <= table.end for r in parsed.tables)


def test_one_cell_per_line_table_of_the_district_plan():
    text, parsed = seed("quan11-phuong-huong-nganh-2020-2021.txt")
    assert len(parsed.tables) == 44
    expected = {
        "Huy động trẻ ra lớp › Mầm non › Nhà trẻ": ("19 %", "20 %"),
        "Huy động trẻ ra lớp › Mầm non › Mẫu giáo": ("75.7 %", "78 %"),
        "Học sinh bỏ học › Học sinh THCS": ("0,43 %", "0,6 %"),
        "Kết quả giáo dục › Tiểu học › Hoàn thành chương trình bậc TH › Năng lực": ("98,9 %", "99 %"),
        "Kết quả giáo dục › THCS › Hạnh kiểm › Tốt": ("87,3 %", "87,5 %"),
        "Kết quả giáo dục › THCS › Học sinh giỏi cấp Thành phố": ("59 học sinh", "60 học sinh"),
        "Trình độ giáo viên › Tiểu học › Trên chuẩn đào tạo sư phạm": ("3 %", "3,1 %"),
        "Đánh giá ngoài Kiểm định chất lượng giáo dục › THCS": ("44,4%", "77,8%"),
    }
    for label, values in expected.items():
        r = row(parsed, label)
        assert r.cells == tuple(zip(("2019-2020", "2020-2021"), values))
        assert text[r.start:r.end].endswith("\n".join(values))


@pytest.mark.parametrize("name", ["quan11-phuong-huong-thcs-2020-2021.txt", "quan11-phuong-huong-nganh-2020-2021.txt"])
def test_table_rows_are_disjoint_and_in_order(name):
    rows = seed(name)[1].tables
    assert all(a.end < b.start for a, b in zip(rows, rows[1:]))


def test_a_synthetic_cell_table_is_found_anywhere():
    text = "\n".join([
        "1. Chỉ tiêu", "Bảng tổng hợp:", "", "Nội dung", "Học kỳ I", "Học kỳ II", "",
        "1", "Chuyên cần:", "Khối 6", "95 %", "96 %", "", "Khối 7", "94,5 %", "97 %", "",
        "2", "Hoàn thành:", "Khối 6", "12 lớp", "13 lớp", "", "2. Giải pháp", "Thực hiện tốt."])
    parsed = parse_document(text)
    assert [(r.label, r.cells) for r in parsed.tables] == [
        ("Chuyên cần › Khối 6", (("Học kỳ I", "95 %"), ("Học kỳ II", "96 %"))),
        ("Chuyên cần › Khối 7", (("Học kỳ I", "94,5 %"), ("Học kỳ II", "97 %"))),
        ("Hoàn thành › Khối 6", (("Học kỳ I", "12 lớp"), ("Học kỳ II", "13 lớp"))),
    ]
    assert [s.label for s in parsed.sections] == ["1. Chỉ tiêu", "2. Giải pháp"]


def test_tab_separated_rows_take_the_first_line_as_header():
    text = "I. SỐ LIỆU\nNội dung\t2019-2020\t2020-2021\nHọc sinh bỏ học\t0,43 %\t0,6 %\nLên lớp\t98,9%\t99%\nHết."
    parsed = parse_document(text)
    assert [(r.label, r.cells) for r in parsed.tables] == [
        ("Học sinh bỏ học", (("2019-2020", "0,43 %"), ("2020-2021", "0,6 %"))),
        ("Lên lớp", (("2019-2020", "98,9%"), ("2020-2021", "99%"))),
    ]
    assert text[parsed.tables[0].start:parsed.tables[0].end] == "Học sinh bỏ học\t0,43 %\t0,6 %"


def test_short_bullets_without_values_are_not_a_table():
    parsed = seed("an-lao-huong-dan-thcs-2024-2025.txt")[1]
    assert parsed.tables == ()


# -- footnotes --------------------------------------------------------------------------------

def test_footnotes():
    text, parsed = seed("an-lao-huong-dan-thcs-2024-2025.txt")
    assert [f.marker for f in parsed.footnotes] == list("¹²³⁴⁵⁶⁷⁸⁹")
    first = parsed.footnotes[0]
    assert first.text == "Ban hành kèm theo Thông tư số 32/2018/TT-BGDĐT ngày 26/12/2018."
    assert text[first.start:first.end] == "¹ " + first.text
    assert parsed.footnotes[7].text == "Thông tư số 21/2014/TT-BGDĐT ngày 07/7/2014 của Bộ trưởng Bộ GDĐT."
    # a footnote line is not a heading, and the paragraph it interrupts stays in its section
    assert not [s for s in parsed.sections if s.label[0] in "¹²³⁴⁵⁶⁷⁸⁹"]


# -- synthetic headers ------------------------------------------------------------------------

def test_missing_header_fields_are_none():
    parsed = parse_document("KẾ HOẠCH\nTập huấn giáo viên\n\nI. MỤC ĐÍCH\nNâng cao năng lực.")
    assert parsed.meta == DocMeta(title="KẾ HOẠCH Tập huấn giáo viên", doc_type="kế hoạch")
    assert parse_document("").meta == DocMeta()
    assert parse_document("Một đoạn văn không có tiêu đề.").sections == ()


def test_a_full_header_with_subject_line():
    text = "\n".join([
        "ỦY BAN NHÂN DÂN HUYỆN CỜ ĐỎ", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", "Số: 12/PGDĐT-THCS",
        "V/v tổ chức hội thi giáo viên dạy giỏi năm học 2021 - 2022", "",
        "Cờ Đỏ, ngày 5 tháng 10 năm 2021", "", "Kính gửi: Hiệu trưởng các trường THCS.",
        "Căn cứ Công văn số 2455/SGDĐT-GDTrH ngày 28/9/2020;", "1. Thời gian: tháng 11/2021."])
    meta = parse_document(text).meta
    assert meta == DocMeta(
        title="tổ chức hội thi giáo viên dạy giỏi năm học 2021 - 2022", number="12/PGDĐT-THCS",
        issuer="Phòng Giáo dục và Đào tạo huyện Cờ Đỏ", place="Cờ Đỏ", date="2021-10-05", doc_type="công văn",
        school_years=("2021-2022",), level=None, references=("2455/SGDĐT-GDTrH",))


def test_legal_chapters_and_articles_nest():
    text = "\n".join(["QUYẾT ĐỊNH", "Ban hành quy chế", "", "Chương I", "QUY ĐỊNH CHUNG", "Điều 1. Phạm vi",
                      "Nội dung điều 1.", "Điều 2. Đối tượng", "- Học sinh;", "Chương II", "Điều 3. Hiệu lực"])
    parsed = parse_document(text)
    assert parsed.meta.doc_type == "quyết định"
    assert [(s.label, s.level) for s in parsed.sections] == [
        ("Chương I", 1), ("Điều 1. Phạm vi", 2), ("Điều 2. Đối tượng", 2), ("Chương II", 1), ("Điều 3. Hiệu lực", 2)]
