"""Extractive answers for `ask`: the sentence, list item, table cell or entity that answers a question.

The top passages are cut into units (sentences, list items, table rows) with their offsets; each unit
is scored by the question words it holds, compared without diacritics because users often type none
(but "đặt" typed with marks does not match "đạt"), weighted by how few units hold them, plus its
list parents' words and the passage's retrieval score. A figure, a date or a document number is
answered by that entity in the best unit, otherwise the unit itself is the answer. Nothing is
generated: `passage.text[s:e]` is the answer text, or the cell value for a table row.

The confidence mixes how much of the question the unit covers with the top retrieval score; below
ABSTAIN_BELOW the answer is None, because a near miss in an official directive is worse than none.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from indexer.normalize import fold
from search_api.query import QueryInfo
from search_api.schemas import Answer, SearchResult

ABSTAIN_BELOW = 0.72     # confidence under which `extract` abstains (tuned on eval/queries.jsonl)
TOP_PASSAGES = 5         # passages searched for an answer
LONG_UNIT = 220          # sentences longer than this are also cut into "; " clauses
CONTEXT_CREDIT = 0.5     # a question word found around the unit (section, title, passage), not in it
PARENT_CREDIT = 0.8      # ... found in the list item or heading the unit hangs under
FOLDED_CREDIT = 0.5      # ... typed with marks, found only with other marks ("đặt" vs "đạt")
GENERIC_WEIGHT = 0.5     # words found in nearly every education directive say little
COVER_WEIGHT = 0.35      # confidence = COVER_WEIGHT * coverage + FOCUS_WEIGHT * rarity-weighted coverage
FOCUS_WEIGHT = 0.2       #   + the rest * top retrieval score (hybrid fusion: ~1 when lexical and dense agree)
PHRASE_WEIGHT = 0.25     # question words adjacent in the unit as in the question ("bỏ học")
RANK_WEIGHT = 0.15       # retrieval score of the unit's passage, relative to the top passage
CUE_BONUS = 0.15         # the unit or its section uses the word that announces such an answer ("Địa điểm")
ENTITY_BONUS = 0.3       # the unit holds the kind of thing asked for (half for a lesser kind)
MISSING_ENTITY = 0.85    # confidence factor when a figure/date/number was asked for and none was found
LESSER_ENTITY = 0.92     # ... when only a lesser sort was found (a percentage for "bao nhiêu trường")

_STOP_MARKED = frozenset(
    "là của có không được những các và trong theo về cho với một này đó thì mà để tại ở từ đến khi nào gì "
    "ai bao nhiêu mấy đâu sao thế như phải sẽ đã đang còn hay hoặc vào ra lên bằng bởi vì nếu cũng rất "
    "do gồm".split())
# Typed without marks, "bao" may be "bao nhiêu" or "báo cáo": the folded list applies only then.
_STOP_FOLDED = frozenset(fold(w) for w in _STOP_MARKED)
_STOP_EN = frozenset(
    "the a an of in on for to is are was were what which who whom when where how many much does do did by at "
    "and or with about from be that this it its their there should will can into per than as".split())
_GENERIC = frozenset("giao duc hoc sinh truong nam cap vien nha thuc hien cong tac gd dt gddt nganh thcs "
                     "nhiem vu".split())
_ABBREVIATIONS = frozenset("tp q p tx ths th.s ts pgs gs nxb v.v tr vd mr dr no".split())
_BULLETS = "-+•*–—"
_CUES = (((("o", "dau"), ("tai", "dau"), ("where",)), ("dia", "diem")),
         ((("gio",), ("khi", "nao"), ("when",)), ("thoi", "gian")))
_SURNAMES = frozenset("nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh dao "
                      "doan trinh mai cao lam luong ta ha".split())
_PERCENT_WORDS = frozenset({"ti", "le", "phan", "tram", "percent", "percentage", "rate"})
_RATE_CUES = (("ti", "le"), ("phan", "tram"), ("percent",), ("percentage",), ("rate",), ("share",))
# A number right after these names a thing ("Quận 11", "lớp 10", "mức độ 3"); it is not a figure.
_LABELS = (("muc", "do"), ("lan", "thu"), ("giai", "doan"), ("hoc", "ky"), ("lop",), ("quan",), ("khoi",),
           ("phuong",), ("so",), ("dieu",), ("khoan",), ("chuong",), ("hang",), ("nhom",), ("ky",), ("cap",))
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")

_Span = tuple[int, int]
_Tok = tuple[int, int, str]
_YEAR = r"(?:19|20)\d{2}"
# Entity patterns run on folded text (lowercase ASCII letters, đ -> d), offsets equal to the original's.
_DAY_RES = [re.compile(p) for p in (
    rf"(?<![\d/])(?:ngay\s+)?\d{{1,2}}\s*([/.-])\s*\d{{1,2}}\s*\1\s*{_YEAR}(?!\d)",
    rf"(?<![\d/])(?:ngay\s+)?\d{{1,2}}\s+thang\s+\d{{1,2}}(?:\s*(?:nam\s+|/\s*){_YEAR})?(?![\d/])",
    rf"thang\s+\d{{1,2}}\s*(?:/\s*|\s+nam\s+){_YEAR}(?!\d)",
    r"ngay\s+\d{1,2}\s*/\s*\d{1,2}(?![\d/])")]
_YEAR_RES = [re.compile(rf"(?:nam\s+hoc\s+)?(?<![\d/]){_YEAR}\s*[-–]\s*{_YEAR}(?![\d/])"),
             re.compile(rf"nam\s+{_YEAR}(?![\d/-])")]
_TIME_RE = re.compile(r"(?<![\d/,.])\d{1,2}\s*(?:gio(?:\s*\d{1,2}(?:\s*phut)?)?|h\d{0,2}(?![a-z]))")
_DOC_TYPES = (r"(?:cong van|thong tu|quyet dinh|chi thi|nghi dinh|nghi quyet|ke hoach|huong dan|thong bao|"
              r"van ban|bao cao|phuong huong|to trinh|luat|de an|quy che)")
_CODE = rf"\d{{1,5}}(?:/{_YEAR})?(?:/[a-z][a-z0-9&.\-]*)+"
_DOC_RE = re.compile(rf"(?<![\w/])(?:(?:{_DOC_TYPES}\s+(?:so\s*:?\s*)?|so\s*:?\s*)?{_CODE}"
                     rf"|{_DOC_TYPES}\s+(?:so\s*:?\s*)?\d{{1,5}}(?:/{_YEAR})?(?![\d/]))")
_PERCENT_RE = re.compile(r"(?<![\d,.])\d+(?:[.,]\d+)?\s*%")
_NUMBER_RE = re.compile(r"(?<![\d,./\w])\d+(?:[.,]\d+)?(?:\s*[/–-]\s*\d+)?(?![\d%/]|[.,]\d)")


@dataclass
class _Query:
    terms: dict[str, float]            # folded content word -> weight
    pairs: frozenset[tuple[str, str]]  # adjacent content words
    words: tuple[str, ...]             # every folded word, function words included (question cues)
    marked: dict[str, set[str]]        # folded word -> the forms the user typed with diacritics
    wants: frozenset[str]              # words naming the sort of answer ("trường" in "bao nhiêu trường")
    typed: frozenset[str]              # every word as typed or restored, with its marks
    cues: tuple[tuple[str, ...], ...]  # words announcing such an answer ("địa điểm" for "ở đâu")


@dataclass
class _Unit:
    result: SearchResult
    start: int
    end: int
    coverage: float
    score: float
    entity: float = 0.0                # see _holds_entity
    focus: float = 0.0                 # coverage weighted by rarity among the units


def extract(info: QueryInfo, results: list[SearchResult]) -> tuple[Answer | None, float]:
    """The answer span in the top passages and a confidence in [0, 1]; None when the corpus does not answer."""
    passages = results[:TOP_PASSAGES]
    query = _query(info)
    if not passages or not query.terms:
        return None, 0.0
    kind = _kind(info, query)
    units = _candidates(query, passages, kind, info)
    if not units:
        return None, 0.0
    best = min(units, key=lambda u: (-u.score, u.result.rank, u.start))
    source = _follow_on(best, units) if kind in ("number", "date", "document") and not best.entity else best
    retrieval = min(1.0, max(0.0, passages[0].score))
    confidence = COVER_WEIGHT * best.coverage + FOCUS_WEIGHT * best.focus
    confidence += (1 - COVER_WEIGHT - FOCUS_WEIGHT) * retrieval
    if kind:
        confidence *= 1.0 if best.entity >= 1 else LESSER_ENTITY if source.entity else MISSING_ENTITY
    confidence = round(min(1.0, max(0.0, confidence)), 4)
    return (_answer(source, kind, query, info) if confidence >= ABSTAIN_BELOW else None), confidence


def _follow_on(best: _Unit, units: list[_Unit]) -> _Unit:
    """The sentence after the best one when only it has the date or figure asked for ("... sẽ thành lập
    Trung tâm GDTX. Dự kiến ... hoạt động từ 01/01/2021"), also across a passage boundary; else `best`."""
    doc, end = best.result.document.id, best.result.end
    after = [u for u in units if u.result is best.result and u.start >= best.end]
    after = after or [u for u in units if u.result.document.id == doc and abs(u.result.start - end) <= 3]
    nxt = min(after, key=lambda u: u.start, default=None)
    return nxt if nxt is not None and nxt.entity >= 1 else best


# -- question words ------------------------------------------------------------------------------

def _query(info: QueryInfo) -> _Query:
    """Content words of the question (folded), weighted: function words 0, genre words GENERIC_WEIGHT."""
    terms: dict[str, float] = {}
    pairs: set[tuple[str, str]] = set()
    words: list[str] = []
    wants: set[str] = set()
    marked: dict[str, set[str]] = {}
    typed_words: set[str] = set()
    for source in (info.restored, info.text):
        previous = None
        tokens = _tokens(fold(source or ""))
        for i, (s, e, folded) in enumerate(tokens):
            words.append(folded)
            typed = _marked(source[s:e])
            typed_words.add(typed)
            if info.has_diacritics and source is info.text and typed != folded:
                marked.setdefault(folded, set()).add(typed)
            answer_type = _answer_type(tokens, i)
            if answer_type or (i + 1 < len(tokens) and tokens[i + 1][2] == "may"):
                wants.add(folded)
            weight = 0.0 if answer_type else _weight(typed, folded)
            if weight > 0:
                terms[folded] = max(terms.get(folded, 0.0), weight)
                if previous:
                    pairs.add((previous, folded))
            previous = folded if weight > 0 else None
    cues = tuple(cue for asks, cue in _CUES if any(_has_phrase(tuple(words), a) for a in asks)
                 or (info.question_type == "date" and cue == ("thoi", "gian")))
    return _Query(terms, frozenset(pairs), tuple(words), marked, frozenset(wants), frozenset(typed_words), cues)


def _kind(info: QueryInfo, query: _Query) -> str | None:
    """The sort of answer: the analyzer's question type, plus "số hiệu" (a number), "ký" (a signer) and
    "ở đâu" (a place: the unit under "Địa điểm")."""
    if _has_phrase(query.words, ("so", "hieu")):
        return "document"
    if info.is_question and _asks_signer(query):
        return "who"
    if info.question_type == "who" and query.wants & {"quan", "vi"}:
        return None                 # "cơ quan nào", "đơn vị nào": an office, not a person's name
    if info.question_type in ("number", "date", "document", "who"):
        return info.question_type
    return "where" if ("dia", "diem") in query.cues else None


def _asks_signer(query: _Query) -> bool:
    """"Ai ký ...?", "người ký", "Trưởng phòng nào ký" ("ký" as _marked spells it), not "đăng ký"."""
    if "signed" in query.words:
        return True
    return "kí" in query.typed and any(_has_phrase(query.words, p) for p in (("ai",), ("nguoi", "ki"), ("nao", "ki")))


def _answer_type(tokens: list[_Tok], i: int) -> bool:
    """"ngày nào", "mấy giờ", "bao nhiêu trường": the word names the sort of answer, not its topic."""
    before = tokens[i - 1][2] if i > 0 else ""
    after = tokens[i + 1][2] if i + 1 < len(tokens) else ""
    return after == "nao" or before in ("may", "nhieu")


def _weight(typed: str, folded: str) -> float:
    if typed in _STOP_MARKED or folded in _STOP_EN or (typed == folded and folded in _STOP_FOLDED):
        return 0.0
    if len(folded) == 1 and not folded.isdigit():
        return 0.0
    return GENERIC_WEIGHT if folded in _GENERIC else 1.0


def _tokens(folded: str, start: int = 0, end: int | None = None) -> list[_Tok]:
    """Word spans of folded text: runs of letters/digits; a decimal number ("0,6", "75.7") stays one word."""
    end = len(folded) if end is None else end
    out, i = [], start
    while i < end:
        if not folded[i].isalnum():
            i += 1
            continue
        j = i + 1
        while j < end and (folded[j].isalnum() or (
                folded[j] in ",." and j + 1 < end and folded[j - 1].isdigit() and folded[j + 1].isdigit())):
            j += 1
        word = folded[i:j]
        # both spellings are current: "tỷ lệ"/"tỉ lệ", "kỹ năng"/"kĩ năng", "lý do"/"lí do"
        out.append((i, j, word[0] + "i" if len(word) == 2 and word[1] == "y" and word[0] in "tklmhs" else word))
        i = j
    return out


def _marked(word: str) -> str:
    """The lowercased word with its marks, "tỷ" spelled "tỉ" as _tokens does for the folded form."""
    word = word.lower()
    return word[0] + word[1].translate(_Y_TO_I) if len(word) == 2 and fold(word[0]) in "tklmhs" else word


# -- candidate units -----------------------------------------------------------------------------

@dataclass
class _Piece:
    """What scoring needs to know about one unit: its words, and the words above and around it."""

    result: SearchResult
    folded: str                        # fold(result.text)
    span: _Span
    leaf: tuple[str, ...]              # words of the innermost section heading
    inside: set[str]
    marks: set[str]                    # the unit's words with their marks (see _marked)
    above: set[str]                    # list parents, section heading, document title/issuer/place
    around: set[str]                   # the whole passage


def _pieces(passages: list[SearchResult]) -> list[_Piece]:
    out = []
    for result in passages:
        folded = fold(result.text)
        leaf = tuple(t for *_, t in _tokens(fold(result.section.split("›")[-1])))
        doc = result.document
        # the document's own words (title, issuer, place) answer "Quận 11", "An Lão" in a question
        named = " ".join(filter(None, (doc.title, doc.number, doc.issuer, doc.place, result.section)))
        heading = {t for *_, t in _tokens(fold(named))}
        around = {t for *_, t in _tokens(folded)}
        units = [((0, len(result.text)), -1)] if result.kind == "table_row" else _units(result.text)
        words = [_word_set(_tokens(folded, s, e), folded[s:e]) for (s, e), _ in units]
        for ((s, e), parent), inside in zip(units, words):
            above = set(heading)
            while parent >= 0:
                above |= words[parent]
                parent = units[parent][1]
            marks = {_marked(result.text[a:b]) for a, b, _ in _tokens(folded, s, e)}
            out.append(_Piece(result, folded, (s, e), leaf, inside, marks, above, around))
    return out


def _candidates(query: _Query, passages: list[SearchResult], kind: str | None, info: QueryInfo) -> list[_Unit]:
    """Every unit of the passages, scored; a question word counts more when few units hold it (rarity)."""
    pieces = _pieces(passages)
    held = {t: sum(_credit(query, t, p) == 1.0 for p in pieces) for t in query.terms}
    rare = {t: w * math.log((len(pieces) + 1) / (0.5 + held[t])) for t, w in query.terms.items()}
    top = max(passages[0].score, 1e-9)
    out = []
    for piece in pieces:
        start, end = piece.span
        tokens = _tokens(piece.folded, start, end)
        coverage, focus = _coverage(query, query.terms, piece), _coverage(query, rare, piece)
        score = focus + PHRASE_WEIGHT * _phrase(query.pairs, rare, tokens)
        score += RANK_WEIGHT * max(0.0, piece.result.score) / top
        words = tuple(t for *_, t in tokens)
        cued = any(_has_phrase(words, cue) or _has_phrase(piece.leaf, cue) for cue in query.cues)
        score += CUE_BONUS * cued
        entity = float(cued) if kind == "where" else _holds_entity(piece, kind, query, info)
        if kind and not entity:
            score *= MISSING_ENTITY
        out.append(_Unit(piece.result, start, end, coverage, score + ENTITY_BONUS * entity, entity, focus))
    return out


def _word_set(tokens: list[_Tok], folded: str) -> set[str]:
    """The unit's words; a "%" stands for "tỷ lệ"/"phần trăm" (table rows keep the sign, not the header)."""
    words = {t for *_, t in tokens}
    return words | _PERCENT_WORDS if "%" in folded else words


def _credit(query: _Query, term: str, piece: _Piece) -> float:
    """1 for a question word in the unit (with the marks the user typed, if any); less above or around it."""
    if term in piece.inside:
        typed = query.marked.get(term)
        return 1.0 if not typed or typed & piece.marks else FOLDED_CREDIT
    return PARENT_CREDIT if term in piece.above else CONTEXT_CREDIT if term in piece.around else 0.0


def _coverage(query: _Query, terms: dict[str, float], piece: _Piece) -> float:
    """Weighted share of the question words the unit holds."""
    total = sum(terms.values())
    return sum(w * _credit(query, t, piece) for t, w in terms.items()) / total if total > 0 else 0.0


def _phrase(pairs: frozenset[tuple[str, str]], rare: dict[str, float], tokens: list[_Tok]) -> float:
    """Share of adjacent question word pairs adjacent in the unit too ("phương châm"), rare pairs weighing more."""
    adjacent = {(a[2], b[2]) for a, b in zip(tokens, tokens[1:])}
    total = sum(rare[a] + rare[b] for a, b in pairs)
    return sum(rare[a] + rare[b] for a, b in pairs & adjacent) / total if total > 0 else 0.0


def _holds_entity(piece: _Piece, kind: str | None, query: _Query, info: QueryInfo) -> float:
    """1 when the unit has what is asked for, 0.5 for a lesser sort, 2 for a table cell the question names."""
    result, span = piece.result, piece.span
    if kind == "who":
        text = result.text[span[0]:span[1]]
        # a line that is only a name closes the signature block: the signer ("Ai ký ...?")
        signer = _asks_signer(query) and _has_name(text) and len(text.split()) <= 4
        return 2.0 if signer else float(_has_name(text))
    if not kind:
        return 0.0
    found, rank = _entities(piece.folded, span, kind, query, info, result.document.school_years)
    if not found:
        return 0.0
    if rank == 0 and result.kind == "table_row" and kind == "number" and _table_cell(result.text, query, info):
        return 2.0
    return 1.0 if rank == 0 else 0.5


# -- splitting -----------------------------------------------------------------------------------

def split_units(text: str) -> list[_Span]:
    """Sentence / list-item / clause spans of a passage, bullets and trailing separators trimmed.

    Lines are units of their own (list items, headings, table cells); inside a line a sentence ends
    at ". ", "? ", "! " before a capital, a digit or a bullet, except after an abbreviation ("TP.",
    "v.v.") or a heading number at the start ("1.1. Mục tiêu"); web scrapes glue a bullet to the
    previous sentence ("cấp THCS.-Thực hiện"), which is cut too. "0,6", "TP.HCM", "Số: 897" and
    "GD&ĐT" have no space after their dot or colon and are never cut.
    """
    return [span for span, _ in _units(text)]


def _units(text: str) -> list[tuple[_Span, int]]:
    """Units with the index of the unit they hang under (a "+" item under a "-" item, under a heading)."""
    out: list[tuple[_Span, int]] = []
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
                if len(_tokens(text, *span)) >= 2:
                    out.append((span, parent))
                    levels.append(level)
        line_start = line_end + 1
    return out


def _sentences(text: str, start: int, end: int) -> Iterable[_Span]:
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


def _clauses(text: str, start: int, end: int) -> list[_Span]:
    """Cut a long sentence at "; " where both sides keep at least three words."""
    out, begin = [], start
    for i in range(start, end - 1):
        if text[i] == ";" and text[i + 1].isspace():
            if len(_tokens(text, begin, i)) >= 3 and len(_tokens(text, i + 1, end)) >= 3:
                out.append((begin, i + 1))
                begin = i + 1
    out.append((begin, end))
    return out


def _trim(text: str, start: int, end: int) -> _Span:
    while start < end and (text[start].isspace() or (text[start] in _BULLETS and (
            start + 1 == end or text[start + 1].isspace()))):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ";,:"):
        end -= 1
    return start, end


# -- entities ------------------------------------------------------------------------------------

def _entities(folded: str, span: _Span, kind: str, query: _Query, info: QueryInfo,
              doc_years: Iterable[str] = ()) -> tuple[list[_Span], int]:
    """Spans of what the question asks for inside `span` and how wanted that sort is (0 = most)."""
    start, end = span
    piece = folded[start:end]
    docs = _finds([_DOC_RE], piece)
    known = [fold(n) for n in info.doc_numbers]
    if kind == "document":
        groups = [[s for s in docs if not any(k in piece[s[0]:s[1]] for k in known)], docs]
    elif kind == "date":
        groups = _date_groups(piece, docs, query, known, {*doc_years, *info.school_years})
    else:
        groups = _number_groups(piece, docs, query)
    for rank, group in enumerate(groups):
        if group:
            return [(start + s, start + e) for s, e in group], rank
    return [], len(groups)


def _date_groups(piece: str, docs: list[_Span], query: _Query, known: list[str],
                 context: set[str]) -> list[list[_Span]]:
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
    if _has_phrase(query.words, ("nam", "nao")) or _has_phrase(query.words, ("hoc", "nao")) or "year" in query.words:
        return [years, own, days]
    return [named or own, years, times, cited]


def _number_groups(piece: str, docs: list[_Span], query: _Query) -> list[list[_Span]]:
    """Percentages first for a rate ("tỷ lệ", "phần trăm"), counts with their noun otherwise; the noun the
    question asks about ("bao nhiêu trường") first of all; labels ("lớp 10") only when asked ("lớp mấy")."""
    taken = docs + _finds(_DAY_RES, piece) + _finds(_YEAR_RES, piece)
    times = _finds([_TIME_RE], piece)
    percents = [s for s in _finds([_PERCENT_RE], piece) if not _overlaps(s, taken)]
    counts, labels = [], []
    for s in _finds([_NUMBER_RE], piece):
        if _overlaps(s, taken + times + percents) or _is_heading_number(piece, s) \
                or re.fullmatch(_YEAR, piece[s[0]:s[1]]):
            continue
        label = _label_before(piece, s[0])
        if label < s[0]:
            labels.append((label, s[1]))
        else:
            counts.append(_with_unit(piece, s, set(query.terms) | query.wants))
    wanted = [s for s in counts + labels if query.wants & {t for *_, t in _tokens(piece, *s)}]
    rate = any(_has_phrase(query.words, cue) for cue in _RATE_CUES)
    first = [times] if "gio" in query.words else []
    return first + ([percents, wanted, counts] if rate else [wanted, counts, percents])


def _finds(patterns: list[re.Pattern[str]], text: str) -> list[_Span]:
    """Non-overlapping matches of several patterns, the longest winning, trailing '.' or '-' dropped."""
    found = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            while e > s and text[e - 1] in ".-&":
                e -= 1
            found.append((s, e))
    kept: list[_Span] = []
    for span in sorted(found, key=lambda x: (x[0], x[0] - x[1])):
        if not _overlaps(span, kept):
            kept.append(span)
    return kept


def _overlaps(span: _Span, others: list[_Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def _label_before(text: str, at: int) -> int:
    """Start of the label noun right before a number ("lớp 10" -> start of "lớp"), or `at` if none."""
    words = _tokens(text, max(0, at - 20), at)
    if not words or text[words[-1][1]:at].strip():
        return at
    for label in _LABELS:
        n = len(label)
        if len(words) >= n and tuple(t for *_, t in words[-n:]) == label:
            return words[-n][0]
    return at


def _with_unit(text: str, span: _Span, asked: set[str]) -> _Span:
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
        if not word or word in _STOP_FOLDED or word in _STOP_EN or (n == 1 and word not in asked):
            break
        end = j
    return span[0], end


def _is_heading_number(text: str, span: _Span) -> bool:
    """"1." or "2)" opening a unit numbers a list; it is not a figure."""
    return not text[: span[0]].strip() and text[span[1]: span[1] + 1] in (".", ")")


def _has_name(text: str) -> bool:
    """A person's name: a common Vietnamese surname followed by a capitalised syllable."""
    words = text.split()
    return any(w.istitle() and fold(w) in _SURNAMES and nxt.istitle() for w, nxt in zip(words, words[1:]))


def _has_phrase(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i: i + n] == phrase for i in range(len(words) - n + 1))


# -- the answer ----------------------------------------------------------------------------------

def _answer(unit: _Unit, kind: str | None, query: _Query, info: QueryInfo) -> Answer:
    """The entity nearest the question words, the table cell, or the whole unit."""
    result = unit.result
    if result.kind == "table_row" and kind == "number":
        # a named column gives one cell; otherwise the whole row, so no value is shown without its column
        text, span = _table_cell(result.text, query, info) or (result.text, (unit.start, unit.end))
        return Answer(text=text, span=span, passage=result)
    if kind in ("number", "date", "document"):
        folded = fold(result.text)
        found, _ = _entities(folded, (unit.start, unit.end), kind, query, info, result.document.school_years)
        if found:
            hits = [(s, e, t) for s, e, t in _tokens(folded, unit.start, unit.end) if t in query.terms]
            s, e = max(found, key=lambda span: (_closeness(span, hits, query), -span[0]))
            return Answer(text=result.text[s:e], span=(s, e), passage=result)
    return Answer(text=result.text[unit.start:unit.end], span=(unit.start, unit.end), passage=result)


def _closeness(span: _Span, hits: list[_Tok], query: _Query) -> float:
    """Question words near the entity, each once at its nearest occurrence, weighted, fading with distance."""
    best: dict[str, float] = {}
    for s, e, term in hits:
        gap = max(s - span[1], span[0] - e, 0)
        best[term] = max(best.get(term, 0.0), query.terms[term] / (1 + gap / 30))
    return sum(best.values())


def table_cells(text: str) -> tuple[_Span, list[tuple[_Span, _Span]]]:
    """Parse a rendered row "label: header: value; header: value" into the label and (header, value) spans."""
    label: _Span = (0, 0)
    cells: list[tuple[_Span, _Span]] = []
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


def _table_cell(text: str, query: _Query, info: QueryInfo) -> tuple[str, _Span] | None:
    """The cell whose column the question names (a school year, or header words), as "row, column: value"."""
    label, cells = table_cells(text)
    years = {y.replace(" ", "") for y in info.school_years}

    def named(cell: tuple[_Span, _Span]) -> float:
        header = text[cell[0][0]:cell[0][1]]
        if header.replace(" ", "").replace("–", "-") in years:
            return 10.0
        return sum(query.terms.get(t, 0.0) for *_, t in _tokens(fold(header)))

    if not cells:
        return None
    best = max(cells, key=lambda c: (named(c), -c[1][0]))
    if named(best) <= 0 and len(cells) > 1:
        return None
    (hs, he), (vs, ve) = best
    head = f"{text[label[0]:label[1]]}, {text[hs:he]}" if he > hs else text[label[0]:label[1]]
    return f"{head}: {text[vs:ve]}", (vs, ve)
