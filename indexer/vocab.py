"""The vocabulary of Vietnamese directives: document types, school years, dates, document numbers, words.

One owner for what the indexer and the searcher must agree on: the structure parser reads it to find a
directive's type, school years, issue date and number; the query analysis to detect them in what a user
types; the answerer to find them inside passages. A type the indexer can assign is therefore always one
the query analysis can detect (tests/test_vocab.py checks every one).

Date and year patterns are written for folded text (`normalize.fold`: lowercase, no marks, đ -> d, same
length as the text), so one pattern serves marked and unmarked text alike and its offsets are the text's.
Document codes are matched on the text as printed, because their capitals tell a code ("3089/GDTrH")
from a figure ("2/tuần").
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import cached_property

from indexer.normalize import fold

Word = tuple[int, int, str]      # (start, end, lowercase word) in the text it was found in


# -- document types ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DocType:
    """One kind of document: its canonical name, what English queries call it, how it is abbreviated."""

    name: str                           # canonical lowercase Vietnamese, the `doc_type` of the metadata
    english: tuple[str, ...] = ()       # English names a query may use ("plan")
    short: tuple[str, ...] = ()         # abbreviations typed before a number ("kh 12"); "cv" also names the type
    names_document: bool = False        # the word only names a document: "công văn nào" asks for one and
                                        # "công văn 2455" cites one; "kế hoạch" and "báo cáo" may be topics

    @cached_property
    def folded(self) -> str:
        return fold(self.name)


# Longer names first where one starts another ("thông tư liên tịch" before "thông tư"): lookups take the
# first match at a position.
DOC_TYPES: tuple[DocType, ...] = (
    DocType("thông tư liên tịch", ("joint circular",), ("ttlt",), True),
    DocType("nghị quyết liên tịch", ("joint resolution",), ("nqlt",), True),
    DocType("văn bản hợp nhất", ("consolidated text",), ("vbhn",), True),
    DocType("phương hướng", ("orientation",)),
    DocType("kế hoạch", ("plan",), ("kh",), True),
    DocType("hướng dẫn", ("guidance", "guideline", "guidelines"), ("hd",), True),
    DocType("thông báo", ("notice", "announcement"), ("tb",), True),
    DocType("công văn", ("official letter", "dispatch", "letter"), ("cv",), True),
    DocType("quyết định", ("decision",), ("qđ",), True),
    DocType("thông tư", ("circular",), ("tt",), True),
    DocType("chỉ thị", ("directive",), ("ct",), True),
    DocType("báo cáo", ("report",), ("bc",)),
    DocType("kết luận", ("conclusion", "conclusions")),
    DocType("nghị quyết", ("resolution",), ("nq",), True),
    DocType("nghị định", ("decree",), ("nđ",), True),
    DocType("pháp lệnh", ("ordinance",), (), True),
    DocType("bộ luật", (), (), True),      # a code ("Bộ luật Lao động"); "code" would catch "postal code"
    DocType("luật", ("law",), (), True),
    DocType("tờ trình", ("submission",), ("ttr",), True),
    DocType("biên bản", ("minutes",), ("bb",)),
    DocType("chương trình", ("programme", "program")),
    DocType("quy chế", ("regulation", "regulations"), (), True),
    DocType("quy định", ("rules", "provisions")),
    DocType("giấy mời", ("invitation",), ("gm",)),
    DocType("công điện", ("telegram", "official telegram"), ("cđ",), True),
    DocType("đề án", ("scheme",)),
    DocType("đính chính", ("correction", "erratum")),
    DocType("sao lục"),
    DocType("sắc lệnh", (), (), True),
    DocType("lệnh", (), (), True),           # no English alias: "in order to" must not name a type
)
TYPE_NAMES: tuple[str, ...] = tuple(t.name for t in DOC_TYPES)
# Abbreviations that are too ambiguous to name a type on their own ("tt": thông tư, trung tâm, tình trạng),
# but do when a number follows ("tt 32/2018"). "cv" alone names a công văn.
_TYPE_ABBREVIATIONS = frozenset({"cv"})


def query_spellings(doc_type: DocType) -> tuple[str, ...]:
    """Every way a query names the type: the Vietnamese name, its English names, and "cv" for công văn."""
    return (doc_type.name, *doc_type.english, *(s for s in doc_type.short if s in _TYPE_ABBREVIATIONS))


def type_word(s: str, upper: bool = False) -> str | None:
    """The document type a title opens with ("KẾ HOẠCH Tổ chức…" -> "kế hoạch"); in capitals only when `upper`."""
    low = s.lower()
    for t in TYPE_NAMES:
        if low.startswith(t) and (len(low) == len(t) or not low[len(t)].isalpha()):
            if not upper or s[:len(t)].isupper():
                return t
    return None


def canonical_type(s: str) -> str | None:
    """A type as a record spells it ("Thông tư", "THÔNG TƯ LIÊN TỊCH") in canonical form, or None."""
    low = " ".join(s.lower().split())
    return low if low in TYPE_NAMES else None


_DOCUMENT_TYPES = tuple(t for t in DOC_TYPES if t.names_document)
# Words after which a number is a document number ("công văn số 2455", "CV 2455", "circular 32/2018").
NUMBER_CUES: tuple[str, ...] = ("số", "văn bản", "no", "number", *(t.name for t in _DOCUMENT_TYPES),
                                *(s for t in _DOCUMENT_TYPES for s in t.short),
                                *(e for t in _DOCUMENT_TYPES for e in t.english))
# Words that ask for a document when "nào"/"gì" follows them (or "which"/"what" precedes them).
DOCUMENT_WORDS_VI: tuple[str, ...] = ("văn bản", "căn cứ", *(t.name for t in _DOCUMENT_TYPES))
DOCUMENT_WORDS_EN: tuple[str, ...] = ("document", *(e for t in _DOCUMENT_TYPES for e in t.english))
# A document word on folded text, for passages: "cong van", "thong tu lien tich", "van ban".
FOLDED_TYPES = "(?:" + "|".join(sorted({t.folded for t in DOC_TYPES} | {"van ban"}, key=lambda s: (-len(s), s))) + ")"


# -- years and dates (folded text) ---------------------------------------------------------------

YEAR = r"(?:19|20)[0-9]{2}"
# Any range of years, "2020-2021" or "2021 - 2025" (a five-year plan); school years are the consecutive ones.
YEAR_RANGE = re.compile(rf"(?<![0-9/])({YEAR})\s*[-–—/]\s*({YEAR})(?![0-9/])")
# "2020-2021", "2020 - 2021", "2024–2025", "2020/2021", "2020-21"; a bare space ("2020 2021") only
# after "năm học"/"NH"/"school year", since two consecutive years can also be a plain range.
_SCHOOL_YEAR = re.compile(rf"(?<![0-9/])({YEAR})(\s*[-–—/]\s*|\s+)({YEAR}|[0-9]{{2}})(?![0-9/])")
_YEAR_PREFIXES = ("nam hoc", "nh", "school year", "academic year", "sy")

# A whole date: "07/9/2020", "7-9-2020", "7.9.2020" (one separator), "07 tháng 9 năm 2020", "7 tháng 9/2020";
# the worded form may leave out the year ("ngày 15 tháng 10"). Groups: d1 m1 y1 (numeric), d2 m2 y2 (worded).
DATE = (rf"(?P<d1>\d{{1,2}})\s*(?P<sep>[/.-])\s*(?P<m1>\d{{1,2}})\s*(?P=sep)\s*(?P<y1>{YEAR})(?!\d)"
        rf"|(?P<d2>\d{{1,2}})\s*thang\s*(?P<m2>\d{{1,2}})(?:\s*(?:nam\s*|/\s*)(?P<y2>{YEAR}))?(?![\d/])")
MONTH_YEAR = rf"thang\s+\d{{1,2}}\s*(?:/\s*|\s+nam\s+){YEAR}(?!\d)"       # "tháng 10/2020", "tháng 10 năm 2020"
DAY_MONTH = r"ngay\s+\d{1,2}\s*/\s*\d{1,2}(?![\d/])"                    # "ngày 28/9"


def date_iso(m: re.Match[str]) -> str | None:
    """The ISO date of a `DATE` match ("2020-09-07"), or None when it has no year or is no real day."""
    day, month, year = (m.group("d1"), m.group("m1"), m.group("y1")) if m.group("d1") else \
        (m.group("d2"), m.group("m2"), m.group("y2"))
    if year is None:
        return None
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def school_year_spans(text: str) -> list[tuple[int, int, str]]:
    """Spans and canonical "YYYY-YYYY" of every pair of consecutive years written as a school year."""
    folded_text = fold(text)
    found = []
    for m in _SCHOOL_YEAR.finditer(folded_text):
        first, sep, second = int(m.group(1)), m.group(2), m.group(3)
        full = second if len(second) == 4 else str(first // 100 * 100 + int(second))
        if int(full) != first + 1:
            continue
        if not sep.strip():
            before = " ".join(folded_text[: m.start()].split())
            if len(second) == 2 or not _ends_with_word(before, _YEAR_PREFIXES):
                continue
        found.append((m.start(), m.end(), f"{first}-{full}"))
    return found


def school_years(text: str) -> tuple[str, ...]:
    """The school years a text names, canonical and in order of first mention."""
    return tuple(dict.fromkeys(year for _, _, year in school_year_spans(text)))


def _ends_with_word(before: str, prefixes: tuple[str, ...]) -> bool:
    """`before` ends with one of the prefixes, starting at a word boundary ("nh" but not "thanh")."""
    return any(before.endswith(p) and (len(before) == len(p) or not before[-len(p) - 1].isalnum())
               for p in prefixes)


# -- document numbers (text as printed) ------------------------------------------------------------

# "897/PH-GDĐT", "32/2018/TT-BGDĐT", "29-NQ/TW". Code letters are ASCII capitals plus Đ.
CODE = r"(?<![\d/.\-])\d{1,5}(?:[/-](?:[A-Za-zĐđ][A-Za-zĐđ0-9&]*|\d{1,4}))+"
_CODE = re.compile(CODE)
_CODE_CUE = re.compile("(?:" + "|".join(("số", "văn bản", *(t.name for t in _DOCUMENT_TYPES))) + r")\s*:?\s*$",
                       re.I)


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
        if _is_code(code, text, start):
            found.append((start, end, code))
    return found


def _is_code(code: str, text: str, start: int) -> bool:
    """A code needs "/" or a cue ("số", "Thông tư" ...) before it; bare digits only as number/year."""
    parts = re.split(r"[/-]", code)
    cue = _CODE_CUE.search(text[max(0, start - 25):start]) is not None
    if "/" not in code and not cue:
        return False                # "lớp 10-THPT"
    if any(p.isalpha() and not any(c.isupper() for c in p) for p in parts):
        return False
    if any(c.isalpha() for c in code):
        return True
    # Bare "32/2018" is a number only as number/year, not a month ("tháng 8/2020") or a date.
    if len(parts) != 2 or "/" not in code or not 1945 <= int(parts[1]) <= 2099:
        return False
    if int(parts[1]) == int(parts[0]) + 1:
        return False                # "2020/2021" is a school year, not document 2020 of 2021
    month_like = int(parts[0]) <= 12 or text[max(0, start - 6):start].lower().strip() == "tháng"
    return cue or not month_like


# -- words ---------------------------------------------------------------------------------------

_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[Word]:
    """Runs of letters or digits in text[start:end], lowercased, with their spans; a decimal number
    ("0,6", "75.7") stays one word. The one word splitter of queries, highlights and answers."""
    end = len(text) if end is None else end
    out, i = [], start
    while i < end:
        if not text[i].isalnum():
            i += 1
            continue
        j = i + 1
        while j < end and (text[j].isalnum() or (
                text[j] in ",." and j + 1 < end and text[j - 1].isdigit() and text[j + 1].isdigit())):
            j += 1
        out.append((i, j, text[i:j].lower()))
        i = j
    return out


def same_spelling(word: str) -> str:
    """One spelling for words written both ways: "tỷ"/"tỉ", "kỹ"/"kĩ", "lý"/"lí" (marked or folded) -> i."""
    word = word.lower()
    if len(word) == 2 and fold(word[0]) in "tklmhs":
        return word[0] + word[1].translate(_Y_TO_I)
    return word


def spelled_words(text: str, start: int = 0, end: int | None = None) -> list[Word]:
    """`word_spans` with `same_spelling` applied: how the answerer compares words ("tỷ lệ" = "tỉ lệ")."""
    return [(s, e, same_spelling(w) if len(w) == 2 else w) for s, e, w in word_spans(text, start, end)]
