"""Structure of one normalized directive: layout, outline, footnotes; header fields and tables via helpers.

Works on the normalizer's output (NFC, stripped lines) and never changes it: every offset indexes
into the text it was given. Header metadata (and its display forms) lives in `indexer.header`,
table rows in `indexer.tables`; type words, dates and year patterns come from `indexer.vocab`.

Skipped as boilerplate (no chunk covers it, see `skipped_spans`): web-page chrome before and after a
scraped document, the national motto in the header, and lines with no letter or digit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from indexer.header import ISSUE_DATE, header_meta
from indexer.normalize import fold
from indexer.tables import find_table_rows
from indexer.types import DocMeta, Footnote, Section, TableRow
from indexer.vocab import TYPE_NAMES, YEAR_RANGE, type_word

__all__ = ["Line", "ParsedDoc", "line_kind", "parse_document", "skipped_spans", "split_lines"]

_LONG_LINE = 150            # a body paragraph, not a header or title line
_GLUED_LINE = 300           # a scraped page whose header, title and body share one line
_INLINE_LINE = 2000         # a scraped body with its numbered headings inside one line
_WEB_HEAD = re.compile(r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Thứ \w+|Chủ nhật),?"
                       r"\s+\d{1,2}/\d{1,2}/\d{4}|Chào mừng (?:bạn|quý vị) đến với", re.I)
_WEB_TAIL = re.compile(r"(?:Bài tin liên quan|Tin cùng chuyên mục|Tin mới(?: nhất)?|Tin đọc nhiều|Liên kết website|"
                       r"Thống kê truy cập|Chính phủ điện tử|(?:Hôm nay|Hôm qua|Tuần này|Tháng này|Tháng \d+|"
                       r"Năm \d{4}|Đang (?:truy cập|online)|Tổng(?: lượt)?(?: truy cập)?)\s*:\s*[\d.,]+)", re.I)
_MOTTO = re.compile(r"C[ỘO]NG\s*H(?:ÒA|OÀ|OA)\s*X[ÃA]\s*H[ỘO]I\s*CH[ỦU]\s*NGH[ĨI]A\s*VI[ỆE]T\s*NAM|"
                    r"Độc\s*lập\s*[-–—]\s*Tự\s*do\s*[-–—]\s*Hạnh\s*phúc", re.I)
_NUMBER_LINE = re.compile(r"Số\s*:")
_VV = re.compile(r"(?:V/v|Về việc)\s*:?\s*", re.I)
_BODY_CUE = re.compile(r"(?:Căn cứ|Thực hiện|Kính gửi|Trên cơ sở)\b")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_ROMAN = re.compile(r"X{0,3}(?:IX|IV|V?I{0,3})")
_LINE_HEADS = (
    ("roman", re.compile(r"([IVX]{1,6})\.\s*(?=\S)")),
    ("upper", re.compile(r"([A-ZĐ])\.\s+(?=\S)")),
    ("arabic", re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,3})\.(?!\d)\s*(?=\S)")),
    ("arabic", re.compile(r"(\d{1,2}(?:\.\d{1,2}){1,3})\s+(?=\S)")),
    ("lower", re.compile(r"([a-zđ])\)\s*(?=\S)")),
    ("phan", re.compile(r"(?:Phần|PHẦN)\s+([IVX]+|\d+)\b[.:]?\s*")),
    ("chuong", re.compile(r"(?:Chương|CHƯƠNG)\s+([IVXLC]+|\d+)\b[.:]?\s*")),
    ("muc", re.compile(r"(?:Mục|MỤC)\s+([IVX]+|\d+)\b[.:]?\s*")),
    ("dieu", re.compile(r"(?:Điều|ĐIỀU)\s+(\d+)\s*[.:]\s*")),
)
_SIGNATURE = re.compile(r"\**\s*(?:KT\.|TM\.|TL\.|Q\.|PHÓ |TRƯỞNG |GIÁM ĐỐC|HIỆU TRƯỞNG|CHỦ TỊCH|BỘ TRƯỞNG|"
                        r"THỨ TRƯỞNG|NƠI NHẬN)")


@dataclass(frozen=True)
class ParsedDoc:
    """What the structure parser finds; the builder copies it into a `Document`."""

    meta: DocMeta
    sections: tuple[Section, ...] = ()
    tables: tuple[TableRow, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    skipped: tuple[tuple[int, int], ...] = ()   # boilerplate spans that no chunk covers


class Line(NamedTuple):
    start: int
    end: int
    text: str


class _Heading(NamedTuple):
    start: int
    kind: str
    code: str
    label: str


@dataclass
class _Layout:
    lines: list[Line]
    body: tuple[int, int]           # line indices [first, last) between web chrome
    skipped: list[tuple[int, int]]
    zone: str = ""                  # header text: issuer, number, date, title
    title: str | None = None
    title_end: int = 0              # offset where headings may start
    vv: bool = False


def split_lines(text: str) -> list[Line]:
    """Lines with the offsets of their stripped content (stripping is a no-op on normalized text)."""
    out, pos = [], 0
    for raw in text.split("\n"):
        lead = len(raw) - len(raw.lstrip())
        out.append(Line(pos + lead, pos + max(lead, len(raw.rstrip())), raw.strip()))
        pos += len(raw) + 1
    return out


def parse_document(text: str) -> ParsedDoc:
    """Header metadata, section tree, table rows and footnotes of a normalized document."""
    lay = _layout(text)
    notes = _footnotes(lay)
    noted = {n.start for n in notes}
    first, last = lay.body
    idx = [i for i in range(first, last) if lay.lines[i].start >= lay.title_end and lay.lines[i].start not in noted]
    heads = {i: h for i in idx if (h := _line_heading(lay, i))}
    rows = find_table_rows(lay.lines, idx, heads.keys())
    found = list(heads.values())            # table runs end at heading lines, so no row holds one
    for line in lay.lines[first:last]:
        if len(line.text) > _INLINE_LINE and line.end > lay.title_end:
            found.extend(_inline_headings(text, max(line.start, lay.title_end), line.end))
    body_end = lay.lines[last - 1].end if last > first else 0
    meta = header_meta(lay.zone, lay.title, lay.vv, text)
    return ParsedDoc(meta, _sections(sorted(found), text, body_end), tuple(rows), tuple(notes), tuple(lay.skipped))


def skipped_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Boilerplate spans of a normalized document that chunks leave out (see the module docstring)."""
    return tuple(_layout(text).skipped)


def _layout(text: str) -> _Layout:
    """Lines, the body between web chrome, the header zone and title, and the boilerplate to skip."""
    lines = split_lines(text)
    first, last = 0, len(lines)
    while first < last and (not lines[first].text or _WEB_HEAD.match(lines[first].text)):
        first += 1
    while last > first and (not lines[last - 1].text or _WEB_TAIL.fullmatch(lines[last - 1].text)):
        last -= 1
    skipped = [(ln.start, ln.end) for ln in lines[:first] + lines[last:] if ln.text]
    skipped += [(ln.start, ln.end) for ln in lines[first:last] if ln.text and not any(c.isalnum() for c in ln.text)]
    lay = _Layout(lines, (first, last), skipped)
    _find_title(lay, text)
    zone_start = lines[first].start if first < last else 0
    for m in _MOTTO.finditer(text, zone_start, zone_start + len(lay.zone)):
        lay.skipped.append(m.span())
    lay.skipped.sort()
    return lay


def _find_title(lay: _Layout, text: str) -> None:
    """Title lines (a type word in capitals, or a V/v subject) and the header zone around them."""
    first, last = lay.body
    lines, seen, i = lay.lines, 0, first
    while i < last and seen < 15:
        line = lines[i]
        if not line.text:
            i += 1
            continue
        seen += 1
        if len(line.text) > _GLUED_LINE and lay.title is None:
            return _glued_title(lay, line, text)
        if len(line.text) > _LONG_LINE or _BODY_CUE.match(line.text) or _line_kind(line.text):
            break
        vv = _VV.match(line.text)
        if lay.title is None and (vv or type_word(line.text, upper=True)):
            parts, end = _title_lines(lines, i, last)
            lay.title, lay.vv = " ".join(parts)[vv.end() if vv else 0:].strip() or None, bool(vv)
            lay.title_end = lines[end].end
            i = end + 1
            continue
        i += 1
    start = lines[first].start if first < last else 0
    stop = lines[i].start if i < last else len(text)
    lay.title_end = max(lay.title_end, stop if lay.title else start)
    lay.zone = text[start:max(stop, lay.title_end)]


def _title_lines(lines: list[Line], i: int, last: int) -> tuple[list[str], int]:
    """The title line and its continuation lines (short, not body, at most 4, ending at a school year)."""
    parts, end, j = [lines[i].text], i, i + 1
    while j < last and len(parts) < 4 and not YEAR_RANGE.search(parts[-1]):
        nxt = lines[j].text
        if not nxt:
            j += 1
            continue
        if len(nxt) > 120 or _BODY_CUE.match(nxt) or _line_kind(nxt) or ISSUE_DATE.search(fold(nxt)) \
                or nxt.startswith("Số"):
            break
        parts.append(nxt)
        end = j
        j += 1
    return parts, end


def _glued_title(lay: _Layout, line: Line, text: str) -> None:
    """Scraped header on one line: "…SƠN LASỞ GIÁO DỤC…Số:460/…THÔNG BÁOKết luận … năm học2020-2021Thực hiện…"."""
    head = line.text[:800]
    m = re.search("|".join(t.upper() for t in TYPE_NAMES), head)
    start = lay.lines[lay.body[0]].start
    if m is not None and not (_MOTTO.search(head, 0, m.start()) or _NUMBER_LINE.search(head, 0, m.start())):
        m = None                # a long line quoting a title in capitals ("… CỦA THÔNG TƯ SỐ 17/2013 …") is no header
    if m is None:
        lay.zone, lay.title_end = text[start:line.start + 800], line.start
        return
    years, cue = YEAR_RANGE.search(head, m.end()), _BODY_CUE.search(head, m.end())
    end = years.end() if years else cue.start() if cue else min(len(head), m.end() + 200)
    lay.title = _unglue(head[m.start():end])
    lay.title_end = line.start + end
    lay.zone = text[start:lay.title_end]


def _unglue(s: str) -> str:
    """Spaces a glued title needs: "THÔNG BÁOKết luận" -> "THÔNG BÁO Kết luận", "học2020" -> "học 2020"."""
    out = []
    for k, c in enumerate(s):
        prev, nxt = s[k - 1] if k else "", s[k + 1] if k + 1 < len(s) else ""
        if prev and ((prev.isupper() and c.isupper() and nxt.islower()) or (prev.isalpha() and c.isdigit())):
            out.append(" ")
        out.append(c)
    return " ".join("".join(out).split())


def _footnotes(lay: _Layout) -> list[Footnote]:
    """Lines opening with a superscript marker: "¹ Ban hành kèm theo Thông tư số 32/2018/TT-BGDĐT ..."."""
    notes = []
    first, last = lay.body
    for line in lay.lines[first:last]:
        marker = line.text[:len(line.text) - len(line.text.lstrip(_SUPERSCRIPTS))]
        rest = line.text[len(marker):].strip()
        if marker and rest:
            notes.append(Footnote(marker, line.start, line.end, rest))
    return notes


def _line_kind(s: str) -> tuple[str, str, int] | None:
    """(kind, code, end of marker) when the line opens with a heading marker."""
    for kind, rx in _LINE_HEADS:
        m = rx.match(s)
        if not m:
            continue
        rest = s[m.end():]
        if kind == "roman" and not _ROMAN.fullmatch(m.group(1)):
            continue
        if kind in ("arabic", "upper") and not (rest[:1].isupper() or rest[:1] in "“\"("):
            continue
        if kind == "arabic":
            kind = f"arabic{m.group(1).count('.') + 1}"
        return kind, m.group(1), m.end()
    return None


def line_kind(s: str) -> tuple[str, str, int] | None:
    """The heading marker a line opens with ("II.", "1.2.", "a)", "Điều 3."): (kind, code, end of marker).
    The answerer reads list structure inside passages with the same markers the outline is built from."""
    return _line_kind(s)


def _line_heading(lay: _Layout, i: int) -> _Heading | None:
    line = lay.lines[i]
    found = _line_kind(line.text)
    if found:
        kind, code, cut = found
        return _Heading(line.start, kind, code, _label(line.text, cut))
    lines = lay.lines
    isolated = (i == 0 or not lines[i - 1].text) and (i + 1 >= len(lines) or not lines[i + 1].text)
    letters = [c for c in line.text if c.isalpha()]
    if (isolated and letters and all(c.isupper() for c in letters) and 2 <= len(line.text.split()) <= 15
            and line.text[-1] not in ".,;" and not _SIGNATURE.match(line.text)):
        return _Heading(line.start, "caps", "", _label(line.text, 0))   # a part or appendix heading
    return None


def _label(s: str, cut: int) -> str:
    """Heading label: the marker plus the heading up to its first ':' '.' ';' (8 words and '…' if longer)."""
    head, rest = s[:cut].strip(), s[cut:].strip()
    stop = re.search(r"[:;]|\.(?=\s|$)", rest)
    short = rest[:stop.start()] if stop else rest
    words = short.split()
    if len(words) > 10:
        short = " ".join(words[:8]).rstrip(",;:.-–") + "…"
    return f"{head} {short}".strip()


def _inline_headings(text: str, start: int, end: int) -> list[_Heading]:
    """Numbered headings glued inside one scraped line ("…như sau:1. Về chủ trương…học1.1.Tiếp tục…").

    Only the numbers that continue the outline are accepted (child .1, next sibling, next of a parent),
    so dates and figures inside sentences cannot open a section.
    """
    found: list[tuple[int, str]] = []
    path: list[int] = []
    pos = start
    while True:
        options = [path + [1]] + [path[:k] + [path[k] + 1] for k in range(len(path) - 1, -1, -1)]
        if not path:
            options = [[1]]
        hits = [h for o in options if (h := _find_code(text, ".".join(map(str, o)), pos, end))]
        if not hits:
            break
        at, stop, code = min(hits)
        found.append((at, code))
        path, pos = [int(x) for x in code.split(".")], stop
    heads = []
    for k, (at, code) in enumerate(found):
        seg_end = found[k + 1][0] if k + 1 < len(found) else min(end, at + 400)
        label = _label(text[at:seg_end], len(code) + 1)
        heads.append(_Heading(at, f"arabic{code.count('.') + 1}", code, label))
    return heads


def _find_code(text: str, code: str, pos: int, end: int) -> tuple[int, int, str] | None:
    # Not inside a longer number ("năm 2021. Do", "2.1.3."); glued after a word or a full stop is fine
    # ("chất.2. Các", "cần.1.3. Công"), and a dotted one may follow a stray page number ("học.21.4.Việc").
    behind = r"(?<!\d)(?<!\d\.)" if "." not in code else r"(?<!\d\.)"
    for m in re.compile(behind + re.escape(code) + r"\.\s*").finditer(text, pos, end):
        nxt = text[m.end():m.end() + 1]
        if nxt and (nxt.isupper() or nxt in "“\""):
            return m.start(), m.end(), code
    return None


def _resolve(h: _Heading, stack: list[tuple[str, str]]) -> str:
    """"I."/"V."/"X." are Roman numerals or capital letters; the open outline decides which."""
    if h.kind not in ("roman", "upper") or h.code not in "IVX":
        return h.kind
    last = {kind: code for kind, code in stack}
    if "upper" in last and chr(ord(last["upper"]) + 1) == h.code:
        return "upper"
    if "roman" in last and _roman_next(last["roman"]) == h.code:
        return "roman"
    if h.code == "I":
        return "roman"
    return "upper" if "upper" in last and "roman" not in last else "roman"


def _roman_next(code: str) -> str:
    values = [_roman(k) for k in range(1, 40)]
    return values[values.index(code) + 1] if code in values[:-1] else ""


def _roman(n: int) -> str:
    tens, ones = divmod(n, 10)
    return "X" * tens + ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"][ones]


def _sections(heads: list[_Heading], text: str, body_end: int) -> tuple[Section, ...]:
    """Nest headings: a marker kind already open closes back to its sibling, a new kind opens a child.

    This is how directives nest (I. > 1. > a), or A. > 1. > ... in An Lão) without a fixed kind order;
    an isolated all-capitals line is a part/appendix heading and restarts at the top.
    """
    stack: list[tuple[str, str, int]] = []      # (kind, code, index into out)
    out: list[list] = []
    for h in heads:
        kind = _resolve(h, [(k, c) for k, c, _ in stack])
        if kind == "caps":
            closing = 0
        else:
            kinds = [k for k, _, _ in stack]
            closing = kinds.index(kind) if kind in kinds else len(stack)
        for _, _, ix in stack[closing:]:
            out[ix][4] = h.start
        del stack[closing:]
        path = tuple(out[ix][0] for _, _, ix in stack) + (h.label,)
        stack.append((kind, h.code, len(out)))
        out.append([h.label, path, len(stack), h.start, body_end])
    sections = []
    for label, path, level, start, end in out:
        end = max(start, len(text[:end].rstrip()))
        sections.append(Section(label, path, level, start, end))
    return tuple(sections)

