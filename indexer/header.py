"""Header metadata of one normalized directive: number, issuer, place and date, type, school years, level.

Works on the header zone and title that `structure` finds, and on the whole text for cited numbers.
Display forms (documented once, used everywhere):

* issuer: "<unit> <locality>", e.g. "Phòng Giáo dục và Đào tạo Quận 11", "Sở Giáo dục và Đào tạo
  tỉnh Sơn La" (the unit line under its "ỦY BAN NHÂN DÂN ..." line); None when the header names none;
* title: the title lines as written, joined by one space ("V/v" dropped from a subject line);
* school years "2020-2021"; date ISO "2020-09-07"; doc_type lower case ("kế hoạch").

Pages saved from the official portals (congbao.chinhphu.vn, vbpl.vn) carry no header but an attribute
block ("Loại văn bản: Thông tư", "Số, ký hiệu: 08/2017/TT-BGDĐT", "Cơ quan ban hành: BỘ GIÁO DỤC VÀ ĐÀO
TẠO", "Ngày ban hành: 04/04/2017", "Trích yếu: ..."), and an article of the Bộ Pháp điển names the
document it comes from ("(Điều 2 Luật số 57/2020/QH14, có hiệu lực thi hành kể từ ngày 01/01/2021)": type
and number, not the date, which may be another document's). These labelled values come before what the
header layout suggests. An issuer the display forms above do not cover is cased as agencies are written
("BỘ Y TẾ - BỘ TÀI CHÍNH" -> "Bộ Y tế - Bộ Tài chính").
"""
from __future__ import annotations

import re
from dataclasses import replace

from indexer.normalize import fold
from indexer.types import DocMeta
from indexer.vocab import DATE, canonical_type, date_iso, find_document_numbers, school_years, type_word

# "Quận 11, ngày 07 tháng 9 năm 2020" or "Sơn La, ngày 7/9/2020": the place, then the date (folded text).
ISSUE_DATE = re.compile(rf"([^\n,]{{0,60}}),\s*ngay\s*(?:{DATE})")
_NUMBER = re.compile(r"Số\s*:\s*(?=\d)")
_PARENT = re.compile(r"(?:ỦY|UỶ) BAN NHÂN DÂN|UBND")
_PARENT_REST = re.compile(r"\s*(TỈNH|THÀNH PHỐ|TP\.?|QUẬN|HUYỆN|THỊ XÃ)\s*(.*?)\s*(?=\n|PHÒNG|SỞ|TRƯỜNG|$)")
_UNIT = re.compile(r"(PHÒNG|SỞ|BỘ)\s*(?:GIÁO\s*DỤC\s*(?:VÀ|&)\s*ĐÀO\s*TẠO|GD\s*&\s*ĐT|GDĐT)")
ATTRIBUTE = re.compile(r"^(Loại văn bản|Số,? ký hiệu|Số hiệu|Cơ quan ban hành|Ngày ban hành|Trích yếu)"
                        r"[ \t]*:[ \t]*(\S[^\n]*)$", re.M)
_ATTRIBUTE_LINES = 60           # the block sits at the top of a saved page
_PROVENANCE = re.compile(r"^\(+(?:Điều|Mục|Khoản|Chương|Phần)\s+\S+\s+(\w+(?:\s+\w+){0,3}?)\s+số\s+", re.M | re.I)
# Names inside an agency that keep their capitals: "Thủ tướng Chính phủ", "Ngân hàng Nhà nước Việt Nam".
_PROPER = ("Chính phủ", "Nhà nước", "Việt Nam", "Quốc hội", "Tổ quốc", "Hồ Chí Minh", "Công an nhân dân")
_LEVELS = (("trung học cơ sở", "THCS"), ("thcs", "THCS"), ("trung học phổ thông", "THPT"), ("thpt", "THPT"),
           ("tiểu học", "tiểu học"), ("mầm non", "mầm non"), ("giáo dục thường xuyên", "GDTX"),
           ("gdtx", "GDTX"), ("trung học", "trung học"))


def header_meta(zone: str, title: str | None, vv: bool, text: str) -> DocMeta:
    """Header fields from the zone and title only (`vv`: the title is a "V/v" subject), or from the attribute
    block of a saved portal page; cited numbers from `text`."""
    attrs = _attributes(text)
    meta = _layout_meta(zone, title or attrs.get("title"), vv)
    number = attrs.get("number") or meta.number
    refs = [c for _, _, c in find_document_numbers(text) if c != number]
    return replace(meta, number=number, date=attrs.get("date") or meta.date,
                   issuer=attrs.get("issuer") or meta.issuer, doc_type=attrs.get("doc_type") or meta.doc_type,
                   references=tuple(dict.fromkeys(refs)))


def _layout_meta(zone: str, title: str | None, vv: bool) -> DocMeta:
    """What the layout of a directive's header says: "Số: …", "<place>, ngày …", the title, the issuer lines."""
    number = None
    if m := _NUMBER.search(zone):
        codes = find_document_numbers(zone[m.end():m.end() + 60])
        number = codes[0][2] if codes and codes[0][0] == 0 else None
    place = date = None
    for m in ISSUE_DATE.finditer(fold(zone)):
        before = zone[m.start(1):m.end(1)]
        if (found := date_iso(m)) is not None and not _cites(before):
            date, place = found, _place(before)
            break
    doc_type = type_word(title) if title else None
    if vv:
        doc_type = doc_type or "công văn"       # a letter with a "V/v" subject line is a công văn
    years = school_years(title or "") or school_years(zone)
    low = (title or "").lower()
    level = next((lv for key, lv in _LEVELS if re.search(rf"(?<!\w){key}(?!\w)", low)), None)
    return DocMeta(title=title, number=number, issuer=_issuer(zone), place=place, date=date, doc_type=doc_type,
                   school_years=years, level=level)


def _attributes(text: str) -> dict[str, str]:
    """The labelled fields of a portal page's attribute block, in the display forms of DocMeta."""
    head = "\n".join(text.split("\n", _ATTRIBUTE_LINES)[:_ATTRIBUTE_LINES])
    out: dict[str, str] = {}
    for m in ATTRIBUTE.finditer(head):
        label, value = m.group(1).lower(), m.group(2).strip()
        if label == "loại văn bản" and (doc_type := canonical_type(value)):
            out.setdefault("doc_type", doc_type)
        elif label.startswith("số") and (codes := find_document_numbers(value)) and codes[0][0] == 0:
            out.setdefault("number", codes[0][2])
        elif label == "cơ quan ban hành" and any(c.isalpha() for c in value):
            out.setdefault("issuer", _agency(value))
        elif label == "ngày ban hành" and (d := re.match(DATE, fold(value))) and (iso := date_iso(d)):
            out.setdefault("date", iso)
        elif label == "trích yếu":
            out.setdefault("title", value)
    for m in _PROVENANCE.finditer(head[:2000]):
        if doc_type := canonical_type(m.group(1)):
            out.setdefault("doc_type", doc_type)
            # "số 119-CP" needs its cue to read as a code, so the window starts at the type word
            codes = find_document_numbers(head[m.start(1):m.end() + 60])
            if codes and codes[0][0] == m.end() - m.start(1):
                out.setdefault("number", codes[0][2])
            break
    return out


def _agency(value: str) -> str:
    """An issuer as written on a portal page, in display form: an education unit as `_issuer` writes it,
    others cased as agencies are ("BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI" -> "Bộ Lao động - Thương binh và Xã hội")."""
    unit = _issuer(value)
    if unit and fold(unit) == fold(" ".join(value.split())):
        return unit
    if not value.isupper():
        return " ".join(value.split())
    out, start = [], True
    for word in value.lower().split():
        out.append(word.capitalize() if start else word)
        # a capital opens each agency, each name after "Bộ" ("Bộ Y tế") and each part after "và" or ","
        start = word in ("-", "bộ", "và", "&") or word.endswith(",")
    joined = " ".join(out)
    for name in _PROPER:
        joined = re.sub(rf"(?<!\w){name}(?!\w)", name, joined, flags=re.I)
    return joined


def _cites(before: str) -> bool:
    """"Thông tư số 06/2024/TT-BGDĐT, ngày 10/4/2024": the date after a document number is that document's."""
    end = len(before.rstrip())
    return any(e == end for _, e, _ in find_document_numbers(before))


def _place(before: str) -> str | None:
    """Place before ", ngày": the capitalised words ending the line ("Quận 11", "phúcSơn La" -> "Sơn La")."""
    taken: list[str] = []
    for word in reversed(before.split()[-5:]):
        if word.isdigit() or (word[0].isupper() and not (len(word) > 1 and word.isupper() and word != "TP.")):
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
