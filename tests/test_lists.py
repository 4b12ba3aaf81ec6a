"""List answers on made-up passages: items instead of the heading, named headings, inline enumerations, table
rows, and the answers that must stay single. Every item is a span of its cited passage."""
from __future__ import annotations

from search_api.answer import extract
from search_api.lists import attach
from search_api.query import analyze
from search_api.schemas import Answer, DocumentInfo, SearchResult

MEMBERS = ("2. Thành phần tham dự\n"
           "- Đại diện lãnh đạo Phòng Giáo dục và Đào tạo huyện Mỹ Xuyên;\n"
           "- Hiệu trưởng các trường tiểu học;\n"
           "- Tổ trưởng chuyên môn khối 5.\n"
           "3. Kinh phí\n"
           "- Các đơn vị tự chi trả công tác phí.")
CALENDAR = ("IV. LỊCH THỰC HIỆN\n"
            "3/2022\n"
            "- Hội thi giáo viên dạy giỏi cấp huyện.\n\n"
            "- Kiểm tra nội bộ trường học.\n"
            "4/2022\n"
            "- Tổng kết phong trào đọc sách.\n"
            "- Khảo sát chất lượng học kỳ II.\n"
            "5/2022\n"
            "- Xét hoàn thành chương trình tiểu học.")
AIMS = ("1. Yêu cầu\n"
        "- Bám sát chương trình giáo dục phổ thông.\n"
        "- Bảo đảm khách quan, công bằng.\n"
        "2. Mục đích\n"
        "- Đánh giá thực chất chất lượng dạy học.")
DEADLINES = ("- Hoàn thành kiểm định chất lượng giáo dục:\n"
             "+ Trước tháng 3/2023: THCS Ea Tu.\n"
             "+ Trước tháng 9/2023: THCS Hòa Thắng, THCS Ea Kao.")


def passage(text: str, rank: int = 1, section: str = "", doc: str = "d1", kind: str = "text",
            display: str | None = None, start: int = 0, title: str = "KẾ HOẠCH Kiểm tra nội bộ") -> SearchResult:
    return SearchResult(rank=rank, score=1.0 - rank / 10, chunk_id=f"{doc}-{start}", text=text, highlights=[],
                        display=display, section=section, start=start, end=start + len(text), page=None, kind=kind,
                        document=DocumentInfo(id=doc, source=f"{doc}.txt", title=title))


def pointing_at(result: SearchResult, words: str) -> Answer:
    """The answer an answerer gave: the unit `words` of the passage."""
    start = result.text.index(words)
    return Answer(text=words, span=(start, start + len(words)), passage=result)


def texts(answer: Answer | None) -> list[str]:
    assert answer is not None and answer.items is not None
    return [item.text for item in answer.items]


def check_spans(answer: Answer, citations: list[SearchResult]) -> None:
    """The API's promise: every item is its passage's text at its span, and the answer is its passage's too."""
    if answer.passage.display is None:
        assert answer.passage.text[answer.span[0]:answer.span[1]] == answer.text
    for item in answer.items or []:
        cited = citations[item.citation - 1]
        assert cited.chunk_id == item.chunk_id
        assert cited.text[item.span[0]:item.span[1]] == item.text


# -- a heading is answered by its items ------------------------------------------------------------

def test_a_heading_answer_becomes_its_items_without_the_heading() -> None:
    cited = [passage(MEMBERS)]
    found = attach(pointing_at(cited[0], "2. Thành phần tham dự"), analyze("thành phần tham dự hội thảo"), cited)
    assert texts(found) == ["Đại diện lãnh đạo Phòng Giáo dục và Đào tạo huyện Mỹ Xuyên",
                            "Hiệu trưởng các trường tiểu học", "Tổ trưởng chuyên môn khối 5"]
    assert "Thành phần" not in found.text and "Kinh phí" not in found.text
    check_spans(found, cited)


def test_a_lead_in_ending_with_a_colon_introduces_its_items() -> None:
    cited = [passage(DEADLINES)]
    found = attach(pointing_at(cited[0], "Hoàn thành kiểm định chất lượng giáo dục"),
                   analyze("Kế hoạch kiểm định chất lượng giáo dục của huyện?"), cited)
    assert texts(found) == ["Trước tháng 3/2023: THCS Ea Tu", "Trước tháng 9/2023: THCS Hòa Thắng, THCS Ea Kao"]
    check_spans(found, cited)


def test_the_month_a_question_names_is_found_below_the_calendar_heading() -> None:
    cited = [passage(CALENDAR, section="IV. LỊCH THỰC HIỆN")]
    found = attach(pointing_at(cited[0], "IV. LỊCH THỰC HIỆN"), analyze("lịch thực hiện tháng 4/2022"), cited)
    assert texts(found) == ["Tổng kết phong trào đọc sách", "Khảo sát chất lượng học kỳ II"]
    check_spans(found, cited)


def test_the_named_month_may_sit_in_the_next_passage_of_the_same_section() -> None:
    head, rest = CALENDAR[:CALENDAR.index("4/2022")], CALENDAR[CALENDAR.index("4/2022"):]
    cited = [passage(head, section="IV. LỊCH THỰC HIỆN"),
             passage(rest, rank=2, section="IV. LỊCH THỰC HIỆN", start=len(head))]
    found = attach(pointing_at(cited[0], "IV. LỊCH THỰC HIỆN"), analyze("lich thuc hien thang 4/2022"), cited)
    assert texts(found) == ["Tổng kết phong trào đọc sách", "Khảo sát chất lượng học kỳ II"]
    assert found.passage.chunk_id == cited[1].chunk_id and {i.citation for i in found.items} == {2}
    check_spans(found, cited)


def test_an_item_of_a_list_the_question_names_gives_the_whole_list() -> None:
    cited = [passage(AIMS)]
    found = attach(pointing_at(cited[0], "Bám sát chương trình giáo dục phổ thông."),
                   analyze("Yêu cầu của đợt kiểm tra là gì?"), cited)
    assert texts(found) == ["Bám sát chương trình giáo dục phổ thông", "Bảo đảm khách quan, công bằng"]
    check_spans(found, cited)


def test_a_heading_with_one_item_answers_that_item_alone() -> None:
    cited = [passage(AIMS)]
    found = attach(pointing_at(cited[0], "2. Mục đích"), analyze("mục đích kiểm tra"), cited)
    assert found is not None and found.items is None
    assert found.text == "Đánh giá thực chất chất lượng dạy học"
    check_spans(found, cited)


# -- inline enumerations -------------------------------------------------------------------------------

def test_numbered_items_after_a_colon() -> None:
    text = ("- Sở tổ chức bồi dưỡng cho tổ trưởng chuyên môn về: (1) đổi mới sinh hoạt chuyên môn; (2) dạy học "
            "phân hóa;(3)đánh giá năng lực học sinh. Thời gian bồi dưỡng do Sở thông báo sau.")
    cited = [passage(text)]
    found = attach(pointing_at(cited[0], text[2:text.index(";")]),
                   analyze("Tổ trưởng chuyên môn được bồi dưỡng về nội dung gì?"), cited)
    assert texts(found) == ["đổi mới sinh hoạt chuyên môn", "dạy học phân hóa", "đánh giá năng lực học sinh"]
    check_spans(found, cited)


def test_lettered_items_run_through_d_with_a_stroke() -> None:
    text = ("Các nhóm nhiệm vụ gồm: a) Đổi mới quản lý; b) Đẩy mạnh ứng dụng công nghệ; c) Bồi dưỡng đội ngũ; "
            "d) Xây dựng cơ sở vật chất; đ) Đảm bảo an toàn trường học.")
    cited = [passage(text)]
    found = attach(pointing_at(cited[0], text), analyze("Các nhóm nhiệm vụ gồm những gì?"), cited)
    assert texts(found) == ["Đổi mới quản lý", "Đẩy mạnh ứng dụng công nghệ", "Bồi dưỡng đội ngũ",
                            "Xây dựng cơ sở vật chất", "Đảm bảo an toàn trường học"]
    check_spans(found, cited)


def test_semicolon_parts_after_a_lead_in_the_answer_holds() -> None:
    text = ("- Chuẩn bị đội ngũ: Rà soát số giáo viên theo môn; bố trí giáo viên dạy liên trường; "
            "cử giáo viên đi đào tạo chuẩn.")
    cited = [passage(text)]
    found = attach(pointing_at(cited[0], "Chuẩn bị đội ngũ: Rà soát số giáo viên theo môn"),
                   analyze("chuẩn bị đội ngũ giáo viên thế nào"), cited)
    assert texts(found) == ["Rà soát số giáo viên theo môn", "bố trí giáo viên dạy liên trường",
                            "cử giáo viên đi đào tạo chuẩn"]
    check_spans(found, cited)


def test_names_after_a_colon_are_items_only_for_a_list_question() -> None:
    text = "Các trường được chọn thí điểm: Tiểu học Hòa Bình, Tiểu học Đống Đa và THCS Đoàn Thị Điểm."
    cited = [passage(text)]
    unit = pointing_at(cited[0], text)
    found = attach(unit, analyze("Những trường nào được chọn thí điểm?"), cited)
    assert texts(found) == ["Tiểu học Hòa Bình", "Tiểu học Đống Đa", "THCS Đoàn Thị Điểm"]
    check_spans(found, cited)
    assert attach(unit, analyze("Chương trình thí điểm là gì?"), cited) == unit


def test_names_in_brackets_for_a_list_question() -> None:
    text = "Khuyến khích giáo viên dùng phần mềm (Azota, Quizizz, Google Classroom) trong kiểm tra thường xuyên."
    cited = [passage(text)]
    unit = pointing_at(cited[0], text)
    found = attach(unit, analyze("những phần mềm nào được khuyến khích"), cited)
    assert texts(found) == ["Azota", "Quizizz", "Google Classroom"]
    check_spans(found, cited)
    assert attach(unit, analyze("Vì sao khuyến khích dùng phần mềm?"), cited) == unit


# -- answers that stay single ------------------------------------------------------------------------

def test_one_numbered_part_answering_a_single_question_stays_single() -> None:
    text = ("Cần lưu ý: (1) các trường còn nợ tiêu chí phải bổ sung minh chứng; (2) các trường sáp nhập phải "
            "kiểm định lại; (3) các trường quá hạn phải đăng ký đánh giá ngoài.")
    cited = [passage(text)]
    unit = pointing_at(cited[0], "(2) các trường sáp nhập phải kiểm định lại")
    assert attach(unit, analyze("Trường sáp nhập phải làm gì?"), cited) == unit
    assert len(texts(attach(unit, analyze("Cần lưu ý những trường hợp nào?"), cited))) == 3


def test_an_item_the_question_singles_out_stays_single() -> None:
    cited = [passage(DEADLINES)]
    unit = pointing_at(cited[0], "Trước tháng 3/2023: THCS Ea Tu.")
    info = analyze("Trường nào hoàn thành kiểm định chất lượng giáo dục trước tháng 3/2023?")
    assert attach(unit, info, cited) == unit


def test_a_numbered_paragraph_is_not_a_heading() -> None:
    text = ("7. Tiếp tục đổi mới phương pháp dạy học theo Công văn số 1234/SGDĐT-GDTrH của Sở.\n\n"
            "Tổ chức khảo sát chất lượng học sinh lớp 6 và lớp 9 vào cuối học kỳ I.")
    cited = [passage(text)]
    unit = pointing_at(cited[0], "Tiếp tục đổi mới phương pháp dạy học theo Công văn số 1234/SGDĐT-GDTrH của Sở.")
    assert attach(unit, analyze("1234/SGDĐT-GDTrH"), cited) == unit


def test_figures_and_dates_are_never_lists() -> None:
    cited = [passage(MEMBERS)]
    unit = pointing_at(cited[0], "2. Thành phần tham dự")
    assert attach(unit, analyze("Có bao nhiêu thành phần tham dự?"), cited) == unit
    assert attach(None, analyze("Những trường nào?"), cited) is None


# -- table rows -------------------------------------------------------------------------------------------

def test_consecutive_rows_of_one_table_are_the_items_of_a_list_question() -> None:
    rows = [("Trường THCS Ea Tu:\n12\n3", "Trường THCS Ea Tu: Số lớp: 12; Phòng học bộ môn: 3"),
            ("Trường THCS Hòa Thắng:\n9\n2", "Trường THCS Hòa Thắng: Số lớp: 9; Phòng học bộ môn: 2")]
    first = passage(rows[0][0], kind="table_row", display=rows[0][1], section="III. QUY MÔ")
    second = passage(rows[1][0], rank=2, kind="table_row", display=rows[1][1], section="III. QUY MÔ",
                     start=first.end + 1)
    other = passage("Thực hiện tốt công tác tuyển sinh.", rank=3, doc="d2")
    cited = [first, second, other]
    unit = Answer(text=first.display, span=(0, len(first.text)), display_span=(0, len(first.display)),
                  passage=first)
    found = attach(unit, analyze("Quy mô những trường nào được thống kê?"), cited)
    assert found is not None and found.items is not None
    assert [cited[i.citation - 1].display for i in found.items] == [rows[0][1], rows[1][1]]
    assert all(i.display_span == (0, len(cited[i.citation - 1].display)) for i in found.items)
    check_spans(found, cited)
    assert attach(unit, analyze("Quy mô trường Ea Tu ra sao?"), cited) == unit


# -- with the extractive answerer ------------------------------------------------------------------------

def test_the_answerer_s_heading_answer_comes_back_as_items() -> None:
    cited = [passage(MEMBERS, section="III. TỔ CHỨC › 2. Thành phần tham dự",
                     title="KẾ HOẠCH Hội thảo chuyên đề dạy học tiếng Việt lớp 5")]
    info = analyze("Thành phần tham dự hội thảo chuyên đề tiếng Việt lớp 5 gồm những ai?")
    found, confidence = extract(info, cited)
    assert found is not None, confidence
    listed = attach(found, info, cited)
    assert texts(listed) == ["Đại diện lãnh đạo Phòng Giáo dục và Đào tạo huyện Mỹ Xuyên",
                             "Hiệu trưởng các trường tiểu học", "Tổ trưởng chuyên môn khối 5"]
    check_spans(listed, cited)


def test_a_list_question_answered_outside_any_list_takes_the_list_whose_heading_it_names() -> None:
    tasks = ("V. TỔ CHỨC THỰC HIỆN\n1. Phòng Giáo dục và Đào tạo\n- Ban hành kế hoạch kiểm tra.\n"
             "- Tổng hợp kết quả báo cáo Sở.\n2. Các trường tiểu học\n- Tự kiểm tra trước ngày 15/4.")
    intro = "Phòng Giáo dục và Đào tạo ban hành kế hoạch kiểm tra nội bộ năm học 2022-2023 như sau:"
    cited = [passage(intro), passage(tasks, rank=2, start=900, title="KẾ HOẠCH Kiểm tra nội bộ",)]
    unit = pointing_at(cited[0], intro[:-1])
    found = attach(unit, analyze("Phòng Giáo dục và Đào tạo phải làm những việc gì?"), cited)
    assert texts(found) == ["Ban hành kế hoạch kiểm tra", "Tổng hợp kết quả báo cáo Sở"]
    assert {i.citation for i in found.items} == {2}
    check_spans(found, cited)
    # the same answer to a question that does not ask for several things is left alone
    assert attach(unit, analyze("Phòng Giáo dục và Đào tạo có vai trò gì?"), cited) == unit
