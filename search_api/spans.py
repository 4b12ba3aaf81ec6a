"""Units and entities of a passage, for extractive answers: where sentences, list items and clauses
start and end, which words they hold, and where dates, figures, counts, document numbers, names and the
cells of a rendered table row are. Every span indexes the text it was found in; entity patterns run on
folded text (`fold`, same length), so their offsets are the original's.

Scoring and abstention live in `search_api.answer`; nothing here judges how good a unit is.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from indexer.normalize import fold
from indexer.vocab import (
    DATE,
    DAY_MONTH,
    FOLDED_TYPES,
    MONTH_YEAR,
    YEAR,
    YEAR_RANGE,
    find_document_numbers,
    spelled_words,
    word_spans,
)

Span = tuple[int, int]           # [start, end) in the text it was found in

LONG_UNIT = 220          # sentences longer than this are also cut into "; " clauses

STOP_MARKED = frozenset(
    "là của có không được những các và trong theo về cho với một này đó thì mà để tại ở từ đến khi nào gì "
    "ai bao nhiêu mấy đâu sao thế như phải sẽ đã đang còn hay hoặc vào ra lên bằng bởi vì nếu cũng rất "
    "do gồm".split())
# Typed without marks, "bao" may be "bao nhiêu" or "báo cáo": the folded list applies only then.
STOP_FOLDED = frozenset(fold(w) for w in STOP_MARKED)
STOP_EN = frozenset(
    "the a an of in on for to is are was were what which who whom when where how many much does do did by at "
    "and or with about from be that this it its their there should will can into per than as".split())
_ABBREVIATIONS = frozenset("tp q p tx ths th.s ts pgs gs nxb v.v tr vd mr dr no".split())
_BULLETS = "-+•*–—"
_SURNAMES = frozenset("nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh dao "
                      "doan trinh mai cao lam luong ta ha".split())
_RATE_CUES = (("ti", "le"), ("phan", "tram"), ("percent",), ("percentage",), ("rate",), ("share",))
# A number right after these names a thing ("Quận 11", "lớp 10", "mức độ 3"); it is not a figure.
_LABELS = (("muc", "do"), ("lan", "thu"), ("giai", "doan"), ("hoc", "ky"), ("lop",), ("quan",), ("khoi",),
           ("phuong",), ("so",), ("dieu",), ("khoan",), ("chuong",), ("hang",), ("nhom",), ("ky",), ("cap",))

# Entity patterns run on folded text (lowercase ASCII letters, đ -> d), offsets equal to the original's;
# dates, years and document words are the vocabulary's (indexer.vocab).
_DAY_RES = [re.compile(rf"(?<![\d/])(?:ngay\s+)?(?:{DATE})"), re.compile(MONTH_YEAR), re.compile(DAY_MONTH)]
_YEAR_RES = [re.compile(rf"(?:nam\s+hoc\s+)?{YEAR_RANGE.pattern}"), re.compile(rf"nam\s+{YEAR}(?![\d/-])")]
_TIME_RE = re.compile(r"(?<![\d/,.])\d{1,2}\s*(?:gio(?:\s*\d{1,2}(?:\s*phut)?)?|h\d{0,2}(?![a-z]))")
# A document number's lead-in ("công văn số ", "Số: ") and a bare number a document word cues ("Công văn 2455").
_DOC_LEAD = re.compile(rf"(?<![\w/])(?:{FOLDED_TYPES}\s+(?:so\s*:?\s*)?|so\s*:?\s*)$")
_CUED_NUMBER = re.compile(rf"(?<![\w/]){FOLDED_TYPES}\s+(?:so\s*:?\s*)?\d{{1,5}}(?:/{YEAR})?(?![\d/])")
_CELL = re.compile(r"\S(?:[^\n\t]*\S)?")        # a table cell in a row's text: one line, or between tabs
_PERCENT_RE = re.compile(r"(?<![\d,.])\d+(?:[.,]\d+)?\s*%")
_NUMBER_RE = re.compile(r"(?<![\d,./\w])\d+(?:[.,]\d+)?(?:\s*[/–-]\s*\d+)?(?![\d%/]|[.,]\d)")


class Question(Protocol):
    """What entity finding reads from an analyzed question (`answer._Query` has it)."""

    @property
    def words(self) -> tuple[str, ...]: ...     # every folded word, function words included

    @property
    def terms(self) -> Mapping[str, float]: ...  # folded content word -> weight

    @property
    def wants(self) -> frozenset[str]: ...      # words naming the sort of answer ("trường")


# -- words ---------------------------------------------------------------------------------------

def has_phrase(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Whether `phrase` occurs in `words` as adjacent words."""
    n = len(phrase)
    return any(words[i: i + n] == phrase for i in range(len(words) - n + 1))


# -- splitting -----------------------------------------------------------------------------------

def split_units(text: str) -> list[Span]:
    """Sentence / list-item / clause spans of a passage, bullets and trailing separators trimmed.

    Lines are units of their own (list items, headings, table cells); inside a line a sentence ends
    at ". ", "? ", "! " before a capital, a digit or a bullet, except after an abbreviation ("TP.",
    "v.v.") or a heading number at the start ("1.1. Mục tiêu"); web scrapes glue a bullet to the
    previous sentence ("cấp THCS.-Thực hiện"), which is cut too. "0,6", "TP.HCM", "Số: 897" and
    "GD&ĐT" have no space after their dot or colon and are never cut.
    """
    return [span for span, _ in nested_units(text)]


def nested_units(text: str) -> list[tuple[Span, int]]:
    """Units with the index of the unit they hang under (a "+" item under a "-" item, under a heading)."""
    out: list[tuple[Span, int]] = []
    levels: list[int] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        bullets = line[: len(line) - len(line.lstrip(_BULLETS + " \t"))]
        level = 2 if "+" in bullets else 1 if bullets.strip() else 0
        parent = next((i for i in range(len(out) - 1, -1, -1) if levels[i] < level), -1)
        for s, e in _sentences(text, line_start, line_end):
            for span in (_clauses(text, s, e) if e - s > LONG_UNIT else [(s, e)]):
                span = _trim(text, *span)
                if len(word_spans(text, *span)) >= 2:
                    out.append((span, parent))
                    levels.append(level)
        line_start = line_end + 1
    return out


def sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans of text[start:end] by the rules of `split_units` (no clause cuts, nothing trimmed)."""
    return list(_sentences(text, start, end))


def _sentences(text: str, start: int, end: int) -> Iterable[Span]:
    begin = start
    for i in range(start, end):
        if text[i] == "-" and i > begin and not text[i - 1].isspace() and not text[i - 1].isdigit() \
                and text[i + 1: i + 2].isupper() and text[i + 2: i + 3].islower():
            yield begin, i
            begin = i + 1
            continue
        if text[i] not in ".?!…" or (i + 1 < end and not text[i + 1].isspace()):
            continue
        after = next((c for c in text[i + 1:end] if not c.isspace()), "")
        if after and not (after.isupper() or after.isdigit() or after in _BULLETS + "(\"“'"):
            continue
        if text[i] == "." and _no_stop(text, begin, i):
            continue
        yield begin, i + 1
        begin = i + 1
    if begin < end:
        yield begin, end


def _no_stop(text: str, begin: int, dot: int) -> bool:
    """The dot ends an abbreviation, an initial, or a heading number at the start of the sentence."""
    word_start = dot
    while word_start > begin and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].strip("(\"“").lower()
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    at_start = not text[begin:word_start].strip(_BULLETS + " \t")
    numbering = bool(word) and (all(c.isdigit() or c == "." for c in word) or set(word) <= set("ivxlc"))
    return bool(at_start and numbering)


def _clauses(text: str, start: int, end: int) -> list[Span]:
    """Cut a long sentence at "; " where both sides keep at least three words, never inside brackets: "(xây
    dựng ...; tham gia ...; tổ chức ...)" lists what the words before it name, and is read with them."""
    out, begin, depth = [], start, 0
    for i in range(start, end - 1):
        depth = max(0, depth + (text[i] in "([") - (text[i] in ")]"))
        if text[i] == ";" and text[i + 1].isspace() and not depth:
            if len(word_spans(text, begin, i)) >= 3 and len(word_spans(text, i + 1, end)) >= 3:
                out.append((begin, i + 1))
                begin = i + 1
    out.append((begin, end))
    return out


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and (text[start].isspace() or (text[start] in _BULLETS and (
            start + 1 == end or text[start + 1].isspace()))):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ";,:"):
        end -= 1
    return start, end


# -- entities ------------------------------------------------------------------------------------

def entities(text: str, span: Span, kind: str, query: Question, doc_numbers: Iterable[str],
             setting_years: set[str]) -> tuple[list[Span], int]:
    """Spans of what the question asks for inside text[span] and how wanted that sort is (0 = most).

    `doc_numbers` are the numbers the question names; `setting_years` the school years of the document
    and the question, which set the scene and are no answer to "when".
    """
    start, end = span
    piece = fold(text[start:end])
    docs = document_spans(text[start:end], piece)
    known = [fold(n) for n in doc_numbers]
    if kind == "document":
        groups = [[s for s in docs if not any(k in piece[s[0]:s[1]] for k in known)], docs]
    elif kind == "date":
        groups = _date_groups(piece, docs, query, known, setting_years)
    else:
        groups = _number_groups(piece, docs, query)
    for rank, group in enumerate(groups):
        if group:
            return [(start + s, start + e) for s, e in group], rank
    return [], len(groups)


def document_spans(text: str, folded: str) -> list[Span]:
    """Document numbers in a passage with the words that name them: "Công văn số 2455/SGDĐT-GDTrH" (the code
    as `vocab.find_document_numbers` reads it), or a bare number after a document word ("Công văn 2455")."""
    found = []
    for s, e, _ in find_document_numbers(text):
        lead = _DOC_LEAD.search(folded, max(0, s - 40), s)
        found.append((lead.start() if lead else s, e))
    found += [m.span() for m in _CUED_NUMBER.finditer(folded)]
    return _longest(found)


def _date_groups(piece: str, docs: list[Span], query: Question, known: list[str],
                 context: set[str]) -> list[list[Span]]:
    """Days, years and times by what the question asks. "Công văn số 2455/... ngày 28/9/2020" dates the
    cited letter, not the event asked about, unless the question names that letter; the school year of
    the document or of the question ("năm học 2020-2021" in a 2020-2021 plan) is the setting, not news."""
    days, times = _finds(_DAY_RES, piece), _finds([_TIME_RE], piece)
    years = [y for y in _finds(_YEAR_RES, piece) if "-".join(re.findall(r"\d{4}", piece[y[0]:y[1]])) not in context]
    cited = [d for d in days if any(0 <= d[0] - e <= 3 and not piece[e:d[0]].strip() for _, e in docs)]
    named = [d for d in cited if any(k in piece[s:e] for s, e in docs if 0 <= d[0] - e <= 3 for k in known)]
    own = [d for d in days if d not in cited]
    if "gio" in query.words:
        return [times, own, days]
    if has_phrase(query.words, ("nam", "nao")) or has_phrase(query.words, ("hoc", "nao")) or "year" in query.words:
        return [years, own, days]
    return [named or own, years, times, cited]


def _number_groups(piece: str, docs: list[Span], query: Question) -> list[list[Span]]:
    """Percentages first for a rate ("tỷ lệ", "phần trăm"), counts with their noun otherwise; the noun the
    question asks about ("bao nhiêu trường") first of all; labels ("lớp 10") only when asked ("lớp mấy")."""
    taken = docs + _finds(_DAY_RES, piece) + _finds(_YEAR_RES, piece)
    times = _finds([_TIME_RE], piece)
    percents = [s for s in _finds([_PERCENT_RE], piece) if not _overlaps(s, taken)]
    counts, labels = [], []
    for s in _finds([_NUMBER_RE], piece):
        if _overlaps(s, taken + times + percents) or _is_heading_number(piece, s) \
                or re.fullmatch(YEAR, piece[s[0]:s[1]]):
            continue
        label = _label_before(piece, s[0])
        if label < s[0]:
            labels.append((label, s[1]))
        else:
            counts.append(_with_unit(piece, s, set(query.terms) | query.wants))
    wanted = [s for s in counts + labels if query.wants & {t for *_, t in spelled_words(piece, *s)}]
    rate = any(has_phrase(query.words, cue) for cue in _RATE_CUES)
    first = [times] if "gio" in query.words else []
    return first + ([percents, wanted, counts] if rate else [wanted, counts, percents])


def _finds(patterns: list[re.Pattern[str]], text: str) -> list[Span]:
    """Non-overlapping matches of several patterns, the longest winning, trailing '.' or '-' dropped."""
    found = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            while e > s and text[e - 1] in ".-&":
                e -= 1
            found.append((s, e))
    return _longest(found)


def _longest(found: list[Span]) -> list[Span]:
    """Non-overlapping spans in text order, the longest winning where two start together or overlap."""
    kept: list[Span] = []
    for span in sorted(found, key=lambda x: (x[0], x[0] - x[1])):
        if not _overlaps(span, kept):
            kept.append(span)
    return kept


def _overlaps(span: Span, others: list[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def _label_before(text: str, at: int) -> int:
    """Start of the label noun right before a number ("lớp 10" -> start of "lớp"), or `at` if none."""
    words = spelled_words(text, max(0, at - 20), at)
    if not words or text[words[-1][1]:at].strip():
        return at
    for label in _LABELS:
        n = len(label)
        if len(words) >= n and tuple(t for *_, t in words[-n:]) == label:
            return words[-n][0]
    return at


def _with_unit(text: str, span: Span, asked: set[str]) -> Span:
    """A count keeps its counted noun: "15 trường"; a second word when the question has it ("04 tin bài")."""
    end = span[1]
    for n in range(2):
        i = end
        while i < len(text) and text[i] == " ":
            i += 1
        j = i
        while j < len(text) and text[j].isalpha():
            j += 1
        word = text[i:j]
        if not word or word in STOP_FOLDED or word in STOP_EN or (n == 1 and word not in asked):
            break
        end = j
    return span[0], end


def _is_heading_number(text: str, span: Span) -> bool:
    """"1." or "2)" opening a unit numbers a list; it is not a figure."""
    return not text[: span[0]].strip() and text[span[1]: span[1] + 1] in (".", ")")


def has_name(text: str) -> bool:
    """A person's name: a common Vietnamese surname followed by a capitalised syllable."""
    words = text.split()
    return any(w.istitle() and fold(w) in _SURNAMES and nxt.istitle() for w, nxt in zip(words, words[1:]))


def name_at_end(text: str, start: int, end: int) -> Span | None:
    """The person's name ending `text[start:end]` ("GIÁM ĐỐC Nguyễn Huy Hoàng" -> "Nguyễn Huy Hoàng"): a
    surname and one to four more capitalised syllables, nothing after them but a full stop."""
    words = [m.span() for m in re.finditer(r"\S+", text[start:end].rstrip(" ."))]
    run = 0
    while run < min(len(words), 5) and text[start + words[-1 - run][0]:start + words[-1 - run][1]].istitle():
        run += 1
    for first in range(len(words) - run, len(words) - 1):
        if fold(text[start + words[first][0]:start + words[first][1]]) in _SURNAMES:
            return start + words[first][0], start + words[-1][1]
    return None


# -- table rows ----------------------------------------------------------------------------------

def table_cells(text: str) -> tuple[Span, list[tuple[Span, Span]]]:
    """Parse a rendered row "label: header: value; header: value" into the label and (header, value) spans."""
    label: Span = (0, 0)
    cells: list[tuple[Span, Span]] = []
    begin = 0
    for i, segment in enumerate(text.split("; ")):
        end = begin + len(segment)
        colon = text.rfind(": ", begin, end)
        if colon < 0 and i == 0:
            label = (begin, end)                         # a row without cells
        elif colon < 0:
            cells.append(((begin, begin), (begin, end)))  # a value without a column header
        elif i == 0:
            head = text.rfind(": ", begin, colon)
            label = (begin, head) if head >= 0 else (begin, colon)
            cells.append((((head + 2, colon) if head >= 0 else (colon, colon)), (colon + 2, end)))
        else:
            cells.append(((begin, colon), (colon + 2, end)))
        begin = end + 2
    return label, cells


def row_text_span(text: str, display: str, span: Span) -> Span:
    """Where a span of a table row's `display` stands in the row's own `text` (the document's cells, one per
    line or tab): a value cell maps to its cell, the whole display to the whole text, other words to their
    one occurrence in the text, or else to the whole text (a column header lives above the row, not in it)."""
    if span == (0, len(display)):
        return 0, len(text)
    cells = [m.span() for m in _CELL.finditer(text)]
    values = [value for _, value in table_cells(display)[1]]
    tail = cells[len(cells) - len(values):] if len(values) <= len(cells) else []
    if values and [text[s:e] for s, e in tail] == [display[s:e] for s, e in values] and span in values:
        return tail[values.index(span)]
    wanted = display[span[0]:span[1]]
    if wanted and text.count(wanted) == 1:
        start = text.index(wanted)
        return start, start + len(wanted)
    return 0, len(text)

