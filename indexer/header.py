"""Header metadata of one normalized directive: number, issuer, place and date, type, school years, level.

Works on the header zone and title that `structure` finds, and on the whole text for cited numbers.
Display forms (documented once, used everywhere):

* issuer: "<unit> <locality>", e.g. "Phòng Giáo dục và Đào tạo Quận 11", "Sở Giáo dục và Đào tạo
  tỉnh Sơn La" (the unit line under its "ỦY BAN NHÂN DÂN ..." line); None when the header names none;
* title: the title lines as written, joined by one space ("V/v" dropped from a subject line);
* school years "2020-2021"; date ISO "2020-09-07"; doc_type lower case ("kế hoạch").
"""
from __future__ import annotations

import re

from indexer.normalize import fold
from indexer.types import DocMeta
from indexer.vocab import DATE, date_iso, find_document_numbers, school_years, type_word

# "Quận 11, ngày 07 tháng 9 năm 2020" or "Sơn La, ngày 7/9/2020": the place, then the date (folded text).
ISSUE_DATE = re.compile(rf"([^\n,]{{0,60}}),\s*ngay\s*(?:{DATE})")
_NUMBER = re.compile(r"Số\s*:\s*(?=\d)")
_PARENT = re.compile(r"(?:ỦY|UỶ) BAN NHÂN DÂN|UBND")
_PARENT_REST = re.compile(r"\s*(TỈNH|THÀNH PHỐ|TP\.?|QUẬN|HUYỆN|THỊ XÃ)\s*(.*?)\s*(?=\n|PHÒNG|SỞ|TRƯỜNG|$)")
_UNIT = re.compile(r"(PHÒNG|SỞ|BỘ)\s*(?:GIÁO\s*DỤC\s*(?:VÀ|&)\s*ĐÀO\s*TẠO|GD\s*&\s*ĐT|GDĐT)")
_LEVELS = (("trung học cơ sở", "THCS"), ("thcs", "THCS"), ("trung học phổ thông", "THPT"), ("thpt", "THPT"),
           ("tiểu học", "tiểu học"), ("mầm non", "mầm non"), ("giáo dục thường xuyên", "GDTX"),
           ("gdtx", "GDTX"), ("trung học", "trung học"))


def header_meta(zone: str, title: str | None, vv: bool, text: str) -> DocMeta:
    """Header fields from the zone and title only (`vv`: the title is a "V/v" subject); cited numbers from `text`."""
    number = None
    if m := _NUMBER.search(zone):
        codes = find_document_numbers(zone[m.end():m.end() + 60])
        number = codes[0][2] if codes and codes[0][0] == 0 else None
    place = date = None
    for m in ISSUE_DATE.finditer(fold(zone)):
        date = date_iso(m)
        if date is not None:
            place = _place(zone[m.start(1):m.end(1)])
            break
    doc_type = type_word(title) if title else None
    if vv:
        doc_type = doc_type or "công văn"       # a letter with a "V/v" subject line is a công văn
    years = school_years(title or "") or school_years(zone)
    low = (title or "").lower()
    level = next((lv for key, lv in _LEVELS if re.search(rf"(?<!\w){key}(?!\w)", low)), None)
    refs = [c for _, _, c in find_document_numbers(text) if c != number]
    return DocMeta(title=title, number=number, issuer=_issuer(zone), place=place, date=date, doc_type=doc_type,
                   school_years=years, level=level, references=tuple(dict.fromkeys(refs)))


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
