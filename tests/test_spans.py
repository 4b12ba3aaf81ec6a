"""Units and entities of a passage: sentence/list-item/clause splitting and rendered table-row cells."""
from __future__ import annotations

from search_api.spans import split_units, table_cells

ROW = "Học sinh bỏ học › Học sinh THCS: 2019-2020: 0,43 %; 2020-2021: 0,6 %"


# -- table rows ----------------------------------------------------------------------------------

def test_rendered_row_is_parsed_into_label_and_cells() -> None:
    label, cells = table_cells(ROW)
    assert ROW[label[0]:label[1]] == "Học sinh bỏ học › Học sinh THCS"
    assert [(ROW[h[0]:h[1]], ROW[v[0]:v[1]]) for h, v in cells] == [("2019-2020", "0,43 %"), ("2020-2021", "0,6 %")]


# -- splitting -------------------------------------------------------------------------------------

def test_splitter_keeps_numbers_codes_and_abbreviations_whole() -> None:
    text = ("1.1. Mục tiêu chung: giảm tỉ lệ bỏ học còn 0,6 % tại TP.HCM theo Số: 897/PH-GDĐT của Sở GD&ĐT. "
            "Các trường, v.v. phải báo cáo. Ông Nguyễn Văn A. Trưởng phòng chủ trì.\n"
            "- Nâng cao chất lượng;\n+ Tổ chức tập huấn cho giáo viên.")
    units = [text[s:e] for s, e in split_units(text)]
    assert units == [
        "1.1. Mục tiêu chung: giảm tỉ lệ bỏ học còn 0,6 % tại TP.HCM theo Số: 897/PH-GDĐT của Sở GD&ĐT.",
        "Các trường, v.v. phải báo cáo.",
        "Ông Nguyễn Văn A. Trưởng phòng chủ trì.",
        "Nâng cao chất lượng",
        "Tổ chức tập huấn cho giáo viên.",
    ]


def test_long_sentence_is_cut_into_clauses() -> None:
    clause = "tổ chức bồi dưỡng giáo viên về chương trình giáo dục phổ thông mới theo kế hoạch của Sở"
    text = "; ".join([clause] * 4) + "."
    units = split_units(text)
    assert len(units) == 4
    assert all(text[s:e].startswith("tổ chức") for s, e in units)


def test_a_bracketed_list_is_not_cut_into_clauses() -> None:
    """"(…; …; …)" lists what the words before it name: the sentence stays one unit with them."""
    text = ("Các trường chủ động chuẩn bị nguồn học sinh năng khiếu từ tiểu học (tổ chức câu lạc bộ toán tuổi thơ "
            "ở mỗi khối lớp; mời giáo viên cốt cán của huyện bồi dưỡng hằng tuần; tổ chức giao lưu olympic giữa "
            "các trường trong cụm) để nâng chất lượng mũi nhọn.")
    assert [text[s:e] for s, e in split_units(text)] == [text]
