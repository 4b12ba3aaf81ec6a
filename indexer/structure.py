"""Structure of one normalized directive: header metadata, outline, tables, footnotes and cited numbers.

Works on the normalizer's output (NFC, stripped lines) and never changes it: every offset indexes
into the text it was given. Header display forms (documented once, used everywhere):

* issuer: "<unit> <locality>", e.g. "Phòng Giáo dục và Đào tạo Quận 11", "Sở Giáo dục và Đào tạo
  tỉnh Sơn La" (the unit line under its "ỦY BAN NHÂN DÂN ..." line); None when the header names none;
* title: the title lines as written, joined by one space ("V/v" dropped from a subject line);
* school years "2020-2021"; date ISO "2020-09-07"; doc_type lower case ("kế hoạch").

Skipped as boilerplate (no chunk covers it, see `skipped_spans`): web-page chrome before and after a
scraped document, the national motto in the header, and lines with no letter or digit.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from indexer.types import DocMeta, Footnote, Section, TableRow

_TYPES = ("phương hướng", "kế hoạch", "hướng dẫn", "thông báo", "công văn", "quyết định", "thông tư",
          "chỉ thị", "báo cáo", "kết luận", "nghị quyết", "nghị định", "tờ trình", "biên bản",
          "chương trình", "quy chế", "quy định", "giấy mời", "công điện")
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
_NUMBER = re.compile(r"Số\s*:\s*(?=\d)")
_DATE = re.compile(r"([^\n,]{0,60}),\s*(?i:ngày)\s*(\d{1,2})\s*(?:tháng\s*(\d{1,2})\s*năm\s*|[/.-](\d{1,2})[/.-])(\d{4})")
_YEARS = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-–—/]\s*((?:19|20)\d\d)(?!\d)")
_VV = re.compile(r"(?:V/v|Về việc)\s*:?\s*", re.I)
_BODY_CUE = re.compile(r"(?:Căn cứ|Thực hiện|Kính gửi|Trên cơ sở)\b")
_PARENT = re.compile(r"(?:ỦY|UỶ) BAN NHÂN DÂN|UBND")
_PARENT_REST = re.compile(r"\s*(TỈNH|THÀNH PHỐ|TP\.?|QUẬN|HUYỆN|THỊ XÃ)\s*(.*?)\s*(?=\n|PHÒNG|SỞ|TRƯỜNG|$)")
_UNIT = re.compile(r"(PHÒNG|SỞ|BỘ)\s*(?:GIÁO\s*DỤC\s*(?:VÀ|&)\s*ĐÀO\s*TẠO|GD\s*&\s*ĐT|GDĐT)")
_LEVELS = (("trung học cơ sở", "THCS"), ("thcs", "THCS"), ("trung học phổ thông", "THPT"), ("thpt", "THPT"),
           ("tiểu học", "tiểu học"), ("mầm non", "mầm non"), ("giáo dục thường xuyên", "GDTX"),
           ("gdtx", "GDTX"), ("trung học", "trung học"))
# Document numbers: "897/PH-GDĐT", "32/2018/TT-BGDĐT", "29-NQ/TW". Code letters are ASCII capitals plus Đ.
_CODE = re.compile(r"(?<![\d/.\-])\d{1,5}(?:[/-](?:[A-Za-zĐđ][A-Za-zĐđ0-9&]*|\d{1,4}))+")
_CODE_CUE = re.compile(r"(?:số|thông tư|nghị định|quyết định|chỉ thị|công văn|nghị quyết|văn bản|kế hoạch|"
                       r"hướng dẫn|thông báo|luật)\s*:?\s*$", re.I)
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
    rows = _table_rows(lay.lines, idx, heads.keys())
    found = list(heads.values())            # table runs end at heading lines, so no row holds one
    for line in lay.lines[first:last]:
        if len(line.text) > _INLINE_LINE and line.end > lay.title_end:
            found.extend(_inline_headings(text, max(line.start, lay.title_end), line.end))
    body_end = lay.lines[last - 1].end if last > first else 0
    meta = _meta(lay, text)
    return ParsedDoc(meta, _sections(sorted(found), text, body_end), tuple(rows), tuple(notes), tuple(lay.skipped))


def skipped_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Boilerplate spans of a normalized document that chunks leave out (see the module docstring)."""
    return tuple(_layout(text).skipped)


def find_document_numbers(text: str) -> list[tuple[int, int, str]]:
    """Spans and codes of document numbers ("3089/GDTrH", "32/2018/TT-BGDĐT", "29-NQ/TW", "32/2018")."""
    found = []
    for m in _CODE.finditer(text):
        start, end = m.span()
        if text.startswith("ỘNG", end) and text[end - 1] == "C":
            end -= 1                # glued scrape: "460/TB-SGDĐTCỘNG HÒA" -- the motto starts here
        elif end < len(text) and text[end].isalpha():
            continue                # ran into a word: "2/tuần" is not a number
        code = text[start:end]
        if code.endswith("GD") and text.startswith(" ĐT", end):
            end, code = end + 3, code + "ĐT"    # "TT-BGD ĐT": the unit code split by a stray space
        parts = re.split(r"[/-]", code)
        cue = _CODE_CUE.search(text[max(0, start - 25):start]) is not None
        if "/" not in code and not cue:
            continue                # "lớp 10-THPT"; a code without "/" needs "số", "Thông tư" ... before it
        if any(p.isalpha() and not any(c.isupper() for c in p) for p in parts):
            continue
        if not any(c.isalpha() for c in code):
            # Bare "32/2018" is a number only as number/year, not a month ("tháng 8/2020") or a date.
            if len(parts) != 2 or "/" not in code or not 1945 <= int(parts[1]) <= 2099:
                continue
            if int(parts[1]) == int(parts[0]) + 1:
                continue            # "2020/2021" is a school year, not document 2020 of 2021
            if not cue and (int(parts[0]) <= 12 or text[max(0, start - 6):start].lower().strip() == "tháng"):
                continue
        found.append((start, end, code))
    return found


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
        if lay.title is None and (vv or _type_word(line.text, upper=True)):
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
    while j < last and len(parts) < 4 and not _YEARS.search(parts[-1]):
        nxt = lines[j].text
        if not nxt:
            j += 1
            continue
        if len(nxt) > 120 or _BODY_CUE.match(nxt) or _line_kind(nxt) or _DATE.search(nxt) or nxt.startswith("Số"):
            break
        parts.append(nxt)
        end = j
        j += 1
    return parts, end


def _glued_title(lay: _Layout, line: Line, text: str) -> None:
    """Scraped header on one line: "…SƠN LASỞ GIÁO DỤC…Số:460/…THÔNG BÁOKết luận … năm học2020-2021Thực hiện…"."""
    head = line.text[:800]
    m = re.search("|".join(t.upper() for t in _TYPES), head)
    start = lay.lines[lay.body[0]].start
    if m is None:
        lay.zone, lay.title_end = text[start:line.start + 800], line.start
        return
    years, cue = _YEARS.search(head, m.end()), _BODY_CUE.search(head, m.end())
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


def _type_word(s: str, upper: bool = False) -> str | None:
    """The document type a title opens with ("KẾ HOẠCH Tổ chức…" -> "kế hoạch"); capitals when `upper`."""
    low = s.lower()
    for t in _TYPES:
        if low.startswith(t) and (len(low) == len(t) or not low[len(t)].isalpha()):
            if not upper or s[:len(t)].isupper():
                return t
    return None


def _meta(lay: _Layout, text: str) -> DocMeta:
    """Header fields from the zone and title only; cited numbers from the whole text."""
    zone, title = lay.zone, lay.title
    number = None
    if m := _NUMBER.search(zone):
        codes = find_document_numbers(zone[m.end():m.end() + 60])
        number = codes[0][2] if codes and codes[0][0] == 0 else None
    place = date = None
    for m in _DATE.finditer(zone):
        day, month, year = int(m.group(2)), int(m.group(3) or m.group(4)), int(m.group(5))
        try:
            date = datetime.date(year, month, day).isoformat()
        except ValueError:
            continue
        place = _place(m.group(1))
        break
    doc_type = _type_word(title) if title else None
    if lay.vv:
        doc_type = doc_type or "công văn"       # a letter with a "V/v" subject line is a công văn
    years = _school_years(title or "") or _school_years(zone)
    low = (title or "").lower()
    level = next((lv for key, lv in _LEVELS if re.search(rf"(?<!\w){key}(?!\w)", low)), None)
    refs = [c for _, _, c in find_document_numbers(text) if c != number]
    return DocMeta(title=title, number=number, issuer=_issuer(zone), place=place, date=date, doc_type=doc_type,
                   school_years=years, level=level, references=tuple(dict.fromkeys(refs)))


def _school_years(s: str) -> tuple[str, ...]:
    found = [f"{a}-{b}" for a, b in _YEARS.findall(s) if int(b) == int(a) + 1]
    return tuple(dict.fromkeys(found))


def _place(before: str) -> str | None:
    """Place before ", ngày": the capitalised words ending the line ("Quận 11", "phúcSơn La" -> "Sơn La")."""
    taken: list[str] = []
    for word in reversed(before.split()[-5:]):
        if word[0].isdigit() or (word[0].isupper() and not (len(word) > 1 and word.isupper() and word != "TP.")):
            taken.append(word)
            continue
        cut = next((k for k in range(len(word) - 1, 0, -1) if word[k].isupper() and word[k - 1].islower()), 0)
        if cut:
            taken.append(word[cut:])
        break
    return " ".join(reversed(taken)) or None


def _title_case(s: str) -> str:
    return " ".join(w.capitalize() if w.isupper() else w for w in s.split())


def _issuer(zone: str) -> str | None:
    """"ỦY BAN NHÂN DÂN QUẬN 11 / PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" -> "Phòng Giáo dục và Đào tạo Quận 11"."""
    locality = None
    if (p := _PARENT.search(zone)) and (r := _PARENT_REST.match(zone, p.end())):
        level, name = r.group(1).rstrip("."), _title_case(r.group(2))
        word = {"TP": "thành phố"}.get(level, level.lower())
        if name:
            locality = f"{word.capitalize() if name[0].isdigit() else word} {name}"
    unit = _UNIT.search(zone)
    if unit:
        base = f"{unit.group(1).capitalize()} Giáo dục và Đào tạo"
        return base if unit.group(1) == "BỘ" or not locality else f"{base} {locality}"
    return f"Ủy ban nhân dân {locality}" if locality else None


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


# --- tables ---------------------------------------------------------------------------------------
# Word tables pasted as text arrive one cell per line: "STT / Nội dung / Tỷ lệ % / 2019-2020 / 2020-2021"
# then "2 / Học sinh bỏ học: / Học sinh THCS / 0,43 % / 0,6 %". A numbered line opens a group, a label
# ending in ":" names it, a short label before the row label is a merged category cell ("Mầm non"),
# "- Hạnh kiểm:" is the parent of the "+ Tốt" rows under it, and the last labels before the values
# name the row. Docx tables arrive as tab-separated lines instead.
_CELL_MAX = 90
_VALUE = re.compile(r"\d+(?:[.,]\d+)?\s*%?(?:\s+[^\W\d]+){0,2}")


def _table_rows(lines: list[Line], idx: list[int], heads) -> list[TableRow]:
    """Rows of every table among the body lines `idx` (heading lines end a table)."""
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
        elif i in heads or len(text) > _CELL_MAX:
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
    short = [ln.text for ln in ls[:start] if len(ln.text.split()) <= 6]
    header = short[-ncols:] if ncols else []
    heads = [""] * (ncols - len(header)) + header
    # a header over all value columns ("Tỷ lệ %" above "2019-2020 | 2020-2021") says what the values are
    spanning = short[-ncols - 1] if ncols and len(short) > ncols + 2 else ""
    caption = spanning if any(c.isalpha() for c in spanning) and all(heads) else ""
    return [replace(row, caption=caption) for row in _rows_of(ls, kinds, start, heads)]


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
    skip = 1 if head[0].lower() in ("stt", "tt", "số tt") else 0
    rows = []
    for ln in ls[1:]:
        cells = [c.strip() for c in ln.text.split("\t")]
        if len(cells) <= skip + 1:
            continue
        pairs = tuple((head[j] if j < len(head) else "", cells[j]) for j in range(skip + 1, len(cells)) if cells[j])
        rows.append(TableRow(ln.start, ln.end, cells[skip] or _clean(ln.text), pairs))
    return rows
