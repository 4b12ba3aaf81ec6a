"""Office Open XML: DOCX (python-docx) and XLSX (openpyxl), each checked by the ZIP guard first."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from indexer.errors import LoadError
from indexer.loaders.text import OLE_MAGIC, short_reason, table_lines, unicode_pages
from indexer.loaders.zipguard import check_zip
from indexer.types import LoadedFile

if TYPE_CHECKING:
    from docx.table import Table

MAX_SHEET_CELLS = 1_000_000     # a larger workbook is read up to here, with a warning
_HEADER_SCAN = 20               # rows searched for the header row under a sheet's title lines
_SKIP_HEADERS = {"stt", "tt", "số tt", "số thứ tự"}   # row numbers: noise in every line


# --- DOCX --------------------------------------------------------------------------------------

def load_docx(data: bytes, source: str) -> LoadedFile:
    """Paragraphs and tables in document order; tables in the one-cell-per-line layout of `table_lines`,
    the same layout as the corpus's pasted tables, so one structure parser reads both."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError(source, "corrupt DOCX: not a ZIP package")
    check_zip(data, source)
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(table_lines(_docx_rows(block)))
            else:
                lines.append(block.text)
    except Exception as exc:  # python-docx/lxml raise KeyError, XMLSyntaxError, PackageNotFoundError...
        raise LoadError(source, f"corrupt DOCX: {short_reason(exc)}") from exc
    text = "\n".join(lines)
    if not text.strip():
        raise LoadError(source, "empty file (the DOCX has no text)")
    pages, encoding = unicode_pages([text], "docx")
    return LoadedFile(source=source, pages=pages, encoding=encoding)


def _docx_rows(table: Table) -> list[list[str]]:
    """Cell texts row by row, a merged cell once; a cell's paragraphs joined by a space."""
    rows = []
    for row in table.rows:
        seen: set[int] = set()
        cells = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
        rows.append(cells)
    return rows


# --- XLSX --------------------------------------------------------------------------------------

def load_xlsx(data: bytes, source: str) -> LoadedFile:
    """Each sheet: its name, the title lines above the header row, then one line per row,
    "header: value; header: value", so every passage cut from it still says what its numbers are."""
    if data.startswith(OLE_MAGIC):
        raise LoadError(source, "old Excel .xls format inside a .xlsx name; save it as .xlsx")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError(source, "corrupt XLSX: not a ZIP package")
    check_zip(data, source)
    from openpyxl import load_workbook

    warnings: list[str] = []
    blocks: list[str] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            budget = MAX_SHEET_CELLS
            for sheet in book.worksheets:
                sheet.reset_dimensions()    # a declared A1:XFD1048576 would pad every row to 16,384 cells
                rows, budget = _sheet_values(sheet.iter_rows(), budget)
                if budget <= 0:
                    warnings.append(f"sheet {sheet.title!r}: read up to {MAX_SHEET_CELLS:,} cells; the rest is not indexed")
                lines = sheet_lines(rows)
                if lines:
                    blocks.append("\n".join([sheet.title, *lines]))
                if budget <= 0:
                    break
        finally:
            book.close()
    except Exception as exc:  # openpyxl raises KeyError, ValueError, InvalidFileException... on damage
        raise LoadError(source, f"corrupt XLSX: {short_reason(exc)}") from exc
    if not blocks:
        raise LoadError(source, "empty file (the XLSX has no cell values)")
    pages, encoding = unicode_pages(["\n\n".join(blocks)], "xlsx")
    return LoadedFile(source=source, pages=pages, encoding=encoding, warnings=tuple(warnings))


def _sheet_values(rows: Iterable[tuple[Any, ...]], budget: int) -> tuple[list[list[str]], int]:
    """Cell texts of a sheet's rows (trailing empty cells dropped), spending at most `budget` cells."""
    out: list[list[str]] = []
    for row in rows:
        cells = [cell_text(getattr(c, "value", None), getattr(c, "number_format", "General")) for c in row]
        while cells and not cells[-1]:
            cells.pop()
        budget -= max(len(cells), 1)
        out.append(cells)
        if budget <= 0:
            break
    return out, budget


def sheet_lines(rows: list[list[str]]) -> list[str]:
    """Lines of one sheet: title rows as they are, then "header: value; ..." per data row.

    The header row is the first row, among the top ones, filled at least half as wide as the
    widest row (it is not a line of its own: a bare header row would match queries with nothing
    under it); rows above it are titles ("DANH SÁCH TRƯỜNG ..."), and a data row with one
    filled cell is a group label ("Khối 6") kept as its own line.
    """
    filled = [[c for c in row if c] for row in rows]
    width = max((len(f) for f in filled[:_HEADER_SCAN]), default=0)
    if width == 0:
        return []
    head_at = next(i for i, f in enumerate(filled) if len(f) * 2 >= width and len(f) >= min(2, width))
    lines = [" ".join(f) for f in filled[:head_at] if f]
    header = rows[head_at]
    if width < 2:
        return lines + [" ".join(f) for f in filled[head_at:] if f]
    for row in rows[head_at + 1:]:
        pairs = [(header[j] if j < len(header) else "", value) for j, value in enumerate(row) if value]
        pairs = [(h, v) for h, v in pairs if h.casefold() not in _SKIP_HEADERS]
        if len(pairs) == 1 and len([v for v in row if v]) == 1:
            lines.append(pairs[0][1])
        elif pairs:
            lines.append("; ".join(f"{h}: {v}" if h else v for h, v in pairs))
    return lines


def cell_text(value: object, number_format: str = "General") -> str:
    """A cell as a person reads it in a Vietnamese sheet: 0,43 % / 1.250 / 07/09/2020."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y" if value.time() == dt.time() else "%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, (int, float)):
        return _number(value, number_format)
    return " ".join(str(value).split())


def _number(value: float, number_format: str) -> str:
    """Decimal comma as Vietnamese writes it; percent formats shown as percents."""
    percent = "%" in number_format
    if percent:
        value = value * 100
    if float(value).is_integer():
        text = str(int(value))
    else:
        text = f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} %" if percent else text
