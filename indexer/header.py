"""Header metadata of one normalized directive: number, issuer, place and date, type, school years, level.

Works on the header zone and title that `structure` finds, and on the whole text for cited numbers.
Display forms (documented once, used everywhere):

* issuer: "<unit> <locality>", e.g. "Phòng Giáo dục và Đào tạo Quận 11", "Sở Giáo dục và Đào tạo
  tỉnh Sơn La" (the unit line under its "ỦY BAN NHÂN DÂN ..." line); None when the header names none;
* title: the title lines as written, joined by one space ("V/v" dropped from a subject line);
* school years "2020-2021"; date ISO "2020-09-07"; doc_type lower case ("kế hoạch").
"""
from __future__ import annotations

import datetime
import re

from indexer.types import DocMeta

DOC_TYPES = ("phương hướng", "kế hoạch", "hướng dẫn", "thông báo", "công văn", "quyết định", "thông tư",
             "chỉ thị", "báo cáo", "kết luận", "nghị quyết", "nghị định", "tờ trình", "biên bản",
             "chương trình", "quy chế", "quy định", "giấy mời", "công điện")
# "Quận 11, ngày 07 tháng 9 năm 2020" or "Sơn La, ngày 7/9/2020": place, day, month, year.
DATE = re.compile(r"([^\n,]{0,60}),\s*(?i:ngày)\s*(\d{1,2})\s*"
                  r"(?:tháng\s*(\d{1,2})\s*năm\s*|[/.-](\d{1,2})[/.-])(\d{4})")
YEARS = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-–—/]\s*((?:19|20)\d\d)(?!\d)")
_NUMBER = re.compile(r"Số\s*:\s*(?=\d)")
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


def type_word(s: str, upper: bool = False) -> str | None:
    """The document type a title opens with ("KẾ HOẠCH Tổ chức…" -> "kế hoạch"); capitals when `upper`."""
    low = s.lower()
    for t in DOC_TYPES:
        if low.startswith(t) and (len(low) == len(t) or not low[len(t)].isalpha()):
            if not upper or s[:len(t)].isupper():
                return t
    return None


def header_meta(zone: str, title: str | None, vv: bool, text: str) -> DocMeta:
    """Header fields from the zone and title only (`vv`: the title is a "V/v" subject); cited numbers from `text`."""
    number = None
    if m := _NUMBER.search(zone):
        codes = find_document_numbers(zone[m.end():m.end() + 60])
        number = codes[0][2] if codes and codes[0][0] == 0 else None
    place = date = None
    for m in DATE.finditer(zone):
        day, month, year = int(m.group(2)), int(m.group(3) or m.group(4)), int(m.group(5))
        try:
            date = datetime.date(year, month, day).isoformat()
        except ValueError:
            continue
        place = _place(m.group(1))
        break
    doc_type = type_word(title) if title else None
    if vv:
        doc_type = doc_type or "công văn"       # a letter with a "V/v" subject line is a công văn
    years = _school_years(title or "") or _school_years(zone)
    low = (title or "").lower()
    level = next((lv for key, lv in _LEVELS if re.search(rf"(?<!\w){key}(?!\w)", low)), None)
    refs = [c for _, _, c in find_document_numbers(text) if c != number]
    return DocMeta(title=title, number=number, issuer=_issuer(zone), place=place, date=date, doc_type=doc_type,
                   school_years=years, level=level, references=tuple(dict.fromkeys(refs)))


def _school_years(s: str) -> tuple[str, ...]:
    found = [f"{a}-{b}" for a, b in YEARS.findall(s) if int(b) == int(a) + 1]
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
