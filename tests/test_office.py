"""indexer.loaders.office, XLSX side (DOCX is covered in test_loaders.py): workbooks written with openpyxl,
read back as "header: value; ..." lines that keep every number with the column and row it belongs to."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from indexer.build import prepare_document
from indexer.errors import LoadError
from indexer.loaders import load_file
from indexer.loaders.office import cell_text, sheet_lines


def make_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Chỉ tiêu"
    sheet.append(["CHỈ TIÊU PHẤN ĐẤU NĂM HỌC 2020-2021"])
    sheet.merge_cells("A1:D1")
    sheet.append([])
    sheet.append(["STT", "Nội dung", "2019-2020", "2020-2021"])
    sheet.append([1, "Học sinh bỏ học THCS", 0.0043, 0.006])
    sheet.append([2, "Hạnh kiểm tốt", 0.945, 0.95])
    sheet.append([None, "Khối 6"])
    sheet.append([3, "Học sinh giỏi", 0.3, None])
    for row in sheet.iter_rows(min_row=4, min_col=3, max_col=4):
        for cell in row:
            cell.number_format = "0.00%"
    schools = book.create_sheet("Trường")
    schools.append(["Trường", "Sĩ số", "Ngày kiểm tra", "Đạt chuẩn"])
    schools.append(["THCS Lê Quý Đôn", 1250, dt.date(2020, 9, 7), True])
    schools.append(["THCS Hậu Giang", 980.5, dt.datetime(2020, 10, 15, 8, 30), False])
    book.create_sheet("Trống")
    book.save(path)
    return path


def test_rows_become_header_value_lines(tmp_path: Path) -> None:
    loaded = load_file(make_xlsx(tmp_path / "chi-tieu.xlsx"), "chi-tieu.xlsx")
    assert loaded.encoding == "xlsx" and not loaded.paged and loaded.warnings == ()
    assert loaded.pages[0] == (
        "Chỉ tiêu\n"
        "CHỈ TIÊU PHẤN ĐẤU NĂM HỌC 2020-2021\n"
        "Nội dung: Học sinh bỏ học THCS; 2019-2020: 0,43 %; 2020-2021: 0,6 %\n"
        "Nội dung: Hạnh kiểm tốt; 2019-2020: 94,5 %; 2020-2021: 95 %\n"
        "Khối 6\n"
        "Nội dung: Học sinh giỏi; 2019-2020: 30 %\n"
        "\n"
        "Trường\n"
        "Trường: THCS Lê Quý Đôn; Sĩ số: 1250; Ngày kiểm tra: 07/09/2020; Đạt chuẩn: có\n"
        "Trường: THCS Hậu Giang; Sĩ số: 980,5; Ngày kiểm tra: 15/10/2020 08:30; Đạt chuẩn: không"
    )
    document = prepare_document(loaded, "0" * 64)
    assert document.meta.school_years[0] == "2020-2021"     # the title row is read like a heading


@pytest.mark.parametrize(("value", "number_format", "text"), [
    (None, "General", ""), (0.0043, "0.00%", "0,43 %"), (1, "0%", "100 %"), (12.0, "General", "12"),
    (0.1 + 0.2, "General", "0,3"), (-1.5, "General", "-1,5"), ("  Học\nsinh  ", "General", "Học sinh"),
    (dt.time(7, 5), "h:mm", "07:05"),
])
def test_cell_text(value: object, number_format: str, text: str) -> None:
    assert cell_text(value, number_format) == text


def test_sheet_without_a_wide_row_keeps_its_lines() -> None:
    assert sheet_lines([["Danh sách"], [], ["Ghi chú: hết"]]) == ["Danh sách", "Ghi chú: hết"]
    assert sheet_lines([[], [""]]) == []


def test_bad_xlsx_files(tmp_path: Path) -> None:
    from openpyxl import Workbook

    cases = {"a.xlsx": b"not a zip", "b.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    Workbook().save(tmp_path / "empty.xlsx")
    make_xlsx(tmp_path / "ok.xlsx")
    (tmp_path / "cut.xlsx").write_bytes((tmp_path / "ok.xlsx").read_bytes()[:3000])
    expected = {"a.xlsx": "corrupt XLSX: not a ZIP package",
                "b.xlsx": "old Excel .xls format inside a .xlsx name; save it as .xlsx",
                "empty.xlsx": "empty file (the XLSX has no cell values)"}
    for name, reason in expected.items():
        with pytest.raises(LoadError) as info:
            load_file(tmp_path / name, name)
        assert info.value.reason == reason
    with pytest.raises(LoadError, match="corrupt"):
        load_file(tmp_path / "cut.xlsx", "cut.xlsx")
