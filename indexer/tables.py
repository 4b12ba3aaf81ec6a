"""Table rows of a normalized directive: Word tables pasted one cell per line, and tab-separated tables.

Word tables pasted as text arrive one cell per line: "STT / Nội dung / Tỷ lệ % / 2019-2020 / 2020-2021"
then "2 / Học sinh bỏ học: / Học sinh THCS / 0,43 % / 0,6 %". A numbered line opens a group, a label
ending in ":" names it, a short label before the row label is a merged category cell ("Mầm non"),
"- Hạnh kiểm:" is the parent of the "+ Tốt" rows under it, and the last labels before the values
name the row. Docx tables arrive as tab-separated lines instead.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Protocol

from indexer.types import TableRow

_CELL_MAX = 90
_VALUE = re.compile(r"\d+(?:[.,]\d+)?\s*%?(?:\s+[^\W\d]+){0,2}")


class Line(Protocol):
    """A line of normalized text with the offsets of its stripped content (`structure.Line`)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def text(self) -> str: ...


def find_table_rows(lines: Sequence[Line], idx: list[int], heading_idx: Collection[int]) -> list[TableRow]:
    """Rows of every table among the body lines `idx`, in text order (heading lines end a table)."""
    rows: list[TableRow] = []
    runs: list[list[int]] = [[]]
    tabbed: list[list[int]] = [[]]
    prev = None
    for i in idx:
        text = lines[i].text
        if prev is None or i != prev + 1:
            runs.append([])
            tabbed.append([])
        if len([c for c in text.split("\t") if c.strip()]) >= 2:
            tabbed[-1].append(i)
            runs.append([])
        elif i in heading_idx or len(text) > _CELL_MAX:
            runs.append([])
            tabbed.append([])
        else:
            runs[-1].append(i)
            tabbed.append([])
        prev = i
    for run in runs:
        rows.extend(_cell_rows([lines[i] for i in run if lines[i].text]))
    for run in tabbed:
        rows.extend(_tab_rows([lines[i] for i in run]))
    return sorted(rows, key=lambda r: r.start)


def _cell(text: str) -> str:
    if re.fullmatch(r"\d{1,3}", text):
        return "n"          # an STT number, or a bare count in a value column
    if _VALUE.fullmatch(text) and not any(c.isupper() for c in text):
        return "v"
    return "l"


def _cell_rows(ls: list[Line]) -> list[TableRow]:
    kinds = [_cell(ln.text) for ln in ls]
    if sum(k == "v" for k in kinds) < 3:
        return []
    start = next((k for k in range(len(ls) - 1) if kinds[k:k + 2] in (["n", "l"], ["l", "v"])), None)
    if start is None:
        return []
    k = start
    while k < len(kinds) and kinds[k] != "l":
        k += 1
    while k < len(kinds) and kinds[k] == "l":
        k += 1
    ncols = 0
    value = kinds[k] if k < len(kinds) else "v"     # a table of bare counts has no "v" cells
    while k + ncols < len(kinds) and kinds[k + ncols] == value:
        ncols += 1
    short = [ln.text for ln in ls[:start] if _short(ln.text)]
    header = short[-ncols:] if ncols else []
    heads = [""] * (ncols - len(header)) + header
    # a header over all value columns ("Tỷ lệ %" above "2019-2020 | 2020-2021") says what the values are
    spanning = short[-ncols - 1] if ncols and len(short) > ncols + 2 else ""
    caption = spanning if any(c.isalpha() for c in spanning) and all(heads) else ""
    head = _head(ls, start)
    return [replace(row, caption=caption, head_start=head[0], head_end=head[1])
            for row in _rows_of(ls, kinds, start, heads)]


def _short(text: str) -> bool:
    return len(text.split()) <= 6


def _head(ls: list[Line], start: int) -> tuple[int, int]:
    """The column-header lines right above the first row ("STT / Nội dung / Tỷ lệ % / 2019-2020 / 2020-2021"):
    the short lines there, up to one ending a sentence or a lead-in ("Chỉ tiêu cụ thể:"), which stays text."""
    k = start
    while k > 0 and _short(ls[k - 1].text) and ls[k - 1].text[-1] not in ".:;":
        k -= 1
    return (ls[k].start, ls[start - 1].end) if k < start else (0, 0)


def _rows_of(ls: list[Line], kinds: list[str], start: int, heads: list[str]) -> list[TableRow]:
    rows: list[TableRow] = []
    ctx: dict[str, str | None] = {"group": None, "sub": None, "dash": None}
    labels: list[str] = []
    values: list[str] = []
    first = last = start
    for k in range(start, len(ls)):
        text, kind = ls[k].text, kinds[k]
        if kind == "n" and not (labels and len(values) < len(heads)):
            if labels and values:
                rows.append(_row(ls, first, last, labels, values, heads, ctx))
                first = last + 1
            labels, values = [], []
            ctx.update(group=None, sub=None, dash=None)
        elif kind == "l":
            if values:
                rows.append(_row(ls, first, last, labels, values, heads, ctx))
                labels, values, first = [], [], last + 1
            labels.append(text)
        elif labels:
            values.append(text)
            last = k
            if len(values) >= len(heads):
                rows.append(_row(ls, first, last, labels, values, heads, ctx))
                labels, values, first = [], [], last + 1
    if labels and values:
        rows.append(_row(ls, first, last, labels, values, heads, ctx))
    return rows


def _row(ls, first, last, labels, values, heads, ctx) -> TableRow:
    *context, own = labels
    wrapped = []
    for c in context:
        if c[0] in "-+":
            ctx["dash"] = _clean(c)
        elif c.endswith(":"):
            ctx.update(group=_clean(c), sub=None, dash=None)
        elif len(c.split()) <= 3:
            ctx.update(sub=_clean(c), dash=None)
        else:
            wrapped.append(c)       # a label cell wrapped over two lines: "Học sinh giỏi cấp / Thành phố"
    name = _clean(" ".join(wrapped + [own]))
    if own[0] == "+":
        parts = [ctx["group"], ctx["sub"], ctx["dash"], name]
    else:
        parts = [ctx["group"], ctx["sub"], name]
        ctx["dash"] = name if own[0] == "-" else None
    label = " › ".join(p for p in parts if p)
    cells = tuple(zip(([""] * len(values) + heads)[-len(values):] if len(values) > len(heads) else heads, values))
    return TableRow(ls[first].start, ls[last].end, label, cells)


def _clean(s: str) -> str:
    return s.strip().lstrip("-+*•·– ").rstrip(": ").strip()


def _tab_rows(ls: list[Line]) -> list[TableRow]:
    """Tab-separated lines: the first is the header row, each following line one row."""
    if len(ls) < 2:
        return []
    head = [c.strip() for c in ls[0].text.split("\t")]
    span = (ls[0].start, ls[0].end)
    skip = 1 if head[0].lower() in ("stt", "tt", "số tt") else 0
    rows = []
    for ln in ls[1:]:
        cells = [c.strip() for c in ln.text.split("\t")]
        if len(cells) <= skip + 1:
            continue
        pairs = tuple((head[j] if j < len(head) else "", cells[j]) for j in range(skip + 1, len(cells)) if cells[j])
        rows.append(TableRow(ln.start, ln.end, cells[skip] or _clean(ln.text), pairs, head_start=span[0],
                             head_end=span[1]))
    return rows
