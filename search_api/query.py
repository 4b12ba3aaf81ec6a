"""Query analysis: normalize, fold, restore diacritics, and detect what the query names.

The analysis only reports (school years, document numbers, document type, language, question kind);
the retriever and the answerer decide what to do with it. Detection works on words compared the
way a person reads an unmarked query: a word the user typed WITH marks must match exactly
("ải" is not "ai"), a word typed WITHOUT marks matches on its folded form ("nao" is "nào").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from indexer.analyze import has_diacritics
from indexer.diacritics import Restorer
from indexer.errors import BadQuery
from indexer.normalize import fold, normalize_query
from indexer.vocab import (
    DOC_TYPES,
    DOCUMENT_WORDS_EN,
    DOCUMENT_WORDS_VI,
    NUMBER_CUES,
    YEAR,
    Word,
    find_document_numbers,
    query_spellings,
    school_years,
    word_spans,
)

MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class QueryInfo:
    """What a query says and names; it reports, it does not filter (the retriever decides)."""

    raw: str
    text: str                       # normalize_query(raw)
    folded: str                     # fold(text): lowercase, no diacritics, same length as text
    has_diacritics: bool
    restored: str | None            # diacritics restored, when the query had none and it changed something
    school_years: tuple[str, ...]   # canonical "2020-2021"
    doc_numbers: tuple[str, ...]    # as typed: "3089/GDTrH", "32/2018", "2455"
    doc_type: str | None            # canonical Vietnamese: "kế hoạch", "hướng dẫn", ...
    lang: str                       # "vi" | "en"
    is_question: bool
    question_type: str | None       # "number" | "date" | "document" | "who" | "generic" | None
    wants_list: bool = False        # asks for several things: "những trường nào", "gồm những gì", "which schools"


def validate_query(q: object) -> str:
    """The query stripped of surrounding space, or BadQuery with a message a person can act on."""
    if q is None or (isinstance(q, str) and not q.strip()):
        raise BadQuery("Hãy nhập từ khóa tìm kiếm (query is empty: type a few words)")
    if not isinstance(q, str):
        raise BadQuery(f"Câu truy vấn phải là chuỗi văn bản (query must be text, got {type(q).__name__})")
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery(f"Câu truy vấn quá dài: {len(q)} ký tự, tối đa {MAX_QUERY_CHARS} "
                       f"(query is {len(q)} characters long; the limit is {MAX_QUERY_CHARS})")
    for i, c in enumerate(q):
        if _is_junk(c):
            raise BadQuery(f"Câu truy vấn chứa ký tự không hợp lệ U+{ord(c):04X} ở vị trí {i} "
                           f"(query contains a control or binary character U+{ord(c):04X} at position {i}; "
                           "retype it or paste plain text)")
    if not any(c.isalnum() for c in q):
        raise BadQuery("Câu truy vấn không có chữ hay số nào (query has no letters or digits: type a few words)")
    return q.strip()


def _is_junk(c: str) -> bool:
    """Control characters (tabs and newlines excepted), surrogates, and the decoder's U+FFFD mark."""
    if c in "\t\n\r":
        return False
    return unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffd\ufffe\uffff"


def analyze(q: str, restorer: Restorer | None = None) -> QueryInfo:
    """Everything the retriever and the answerer need to know about a query (BadQuery on bad input)."""
    raw = q
    text = normalize_query(validate_query(q))
    if not any(c.isalnum() for c in text):
        raise BadQuery("Câu truy vấn không có chữ hay số nào (query has no letters or digits: type a few words)")
    folded_text = fold(text)
    marked = has_diacritics(text)
    words = word_spans(text)
    lang = _language(text, words)
    restored = None
    if restorer is not None and not marked and lang == "vi":
        candidate = restorer.restore(text)
        restored = candidate if candidate != text else None
    is_question = "?" in text or _question_word(words, lang)
    return QueryInfo(
        raw=raw, text=text, folded=folded_text, has_diacritics=marked, restored=restored,
        school_years=school_years(text), doc_numbers=find_query_numbers(text),
        doc_type=find_doc_type(text), lang=lang, is_question=is_question,
        question_type=_question_type(words) if is_question else None, wants_list=_wants_list(words),
    )


# -- words and phrases ---------------------------------------------------------------------------

@lru_cache(maxsize=16384)
def _fold_word(word: str) -> str:
    """fold() of one word; phrase lookups compare the same few hundred words over and over."""
    return fold(word)


def _same(typed: str, wanted: str, accent_only: bool = False) -> bool:
    """A marked word must match exactly; an unmarked one matches the folded form (unless accent_only)."""
    if typed == wanted:
        return True
    return not accent_only and _fold_word(typed) == typed and typed == _fold_word(wanted)


@lru_cache(maxsize=4096)
def _phrase_words(phrase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of a phrase and their folded forms (the phrase lists are fixed: computed once each)."""
    wanted = tuple(phrase.split())
    return wanted, tuple(_fold_word(w) for w in wanted)


def _find(words: list[Word], phrase: str, accent_only: bool = False) -> int:
    """Index of the first word where `phrase` (space-separated words) starts, or -1 (words compared as
    by _same; query analysis calls this ~200 times a query, so the test is inlined, cheapest first)."""
    wanted, folded = _phrase_words(phrase)
    for i in range(len(words) - len(wanted) + 1):
        for k in range(len(wanted)):
            typed = words[i + k][2]
            if typed != wanted[k] and (accent_only or typed != folded[k] or _fold_word(typed) != typed):
                break
        else:
            return i
    return -1


# -- document numbers ----------------------------------------------------------------------------

# indexer.vocab finds the codes of directives as they are printed ("3089/GDTrH", "32/2018/TT-BGDĐT").
# Queries add what people type: lowercase codes ("3089/gdtrh"), number/year after an unmarked cue
# ("thong tu 5/2018"), and bare numbers after a document word ("cong van 2455", "CV 2455", "số 460").
_LOWER_CODE = re.compile(r"(?<![0-9/\w])([0-9]{1,5}(?:/[0-9]{4})?/([^\W\d_]+)[\w&-]*)")
_NUMBER_YEAR = re.compile(rf"(?<![0-9/])([0-9]{{1,5}})/({YEAR})(?![0-9/])")


def find_query_numbers(text: str) -> tuple[str, ...]:
    """Document numbers named by a query, as typed, in order of appearance (the longest reading of a span)."""
    words = word_spans(text)
    spans = list(find_document_numbers(text))
    for m in _LOWER_CODE.finditer(text):
        # "3089/gdtrh" is a code, "2/tuan" (2 per week) is not: code letters never form a Vietnamese syllable.
        if len(m.group(2)) >= 2 and not _VI_SYLLABLE.match(fold(m.group(2))):
            code = m.group(1).rstrip("-&")
            spans.append((m.start(1), m.start(1) + len(code), code))
    for m in _NUMBER_YEAR.finditer(text):
        if _ends_with([w for w in words if w[1] <= m.start()], NUMBER_CUES):
            spans.append((m.start(), m.end(), m.group(0)))
    spans.extend(_cued_numbers(text, words))
    kept: list[tuple[int, int, str]] = []
    for s, e, code in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if _is_school_year(code) or any(s < ke and ks < e for ks, ke, _ in kept):
            continue
        kept.append((s, e, code))
    return tuple(dict.fromkeys(code for _, _, code in kept))


def _is_school_year(code: str) -> bool:
    """"2020/2021" and "2020-2021" name a school year, not a document."""
    parts = code.replace("-", "/").split("/")
    return len(parts) == 2 and all(p.isdigit() and len(p) == 4 for p in parts) and int(parts[1]) == int(parts[0]) + 1


def _cued_numbers(text: str, words: list[Word]) -> list[tuple[int, int, str]]:
    """Bare numbers right after a document word ("công văn số 2455", "CV 2455"); a year only after "số"."""
    out = []
    for i, (s, e, w) in enumerate(words):
        decimal = e + 1 < len(text) and text[e] in ".," and text[e + 1].isdigit()   # "0,6" is not a number
        if not w.isdigit() or len(w) > 5 or decimal or (s > 0 and text[s - 1] in "/-–"):
            continue
        before = words[max(0, i - 3): i]
        via_so = bool(before) and _same(before[-1][2], "số")
        cue_words = before[:-1] if via_so else before
        cued = _ends_with(cue_words, NUMBER_CUES)
        year_like = len(w) == 4 and 1990 <= int(w) <= 2039
        if via_so or (cued and not year_like):
            out.append((s, e, w))
    return out


def _ends_with(words: list[Word], phrases: tuple[str, ...]) -> bool:
    """True when the words end with one of the phrases."""
    for phrase in phrases:
        size = len(phrase.split())
        if len(words) >= size and _find(words[-size:], phrase) == 0:
            return True
    return False


# -- document type -------------------------------------------------------------------------------

def find_doc_type(text: str) -> str | None:
    """The document type the query names first ("ke hoach giao ban" -> "kế hoạch"), in canonical Vietnamese."""
    words = word_spans(text)
    best: tuple[int, str] | None = None
    for doc_type in DOC_TYPES:
        for spelling in query_spellings(doc_type):
            at = _find(words, spelling)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, doc_type.name)
    return best[1] if best else None


# -- language ------------------------------------------------------------------------------------

# English words an office user would type; words that are also everyday unmarked Vietnamese
# ("to", "do", "an", "a", "me", "the" = thể/thế) are left out so they cannot tip the balance.
_ENGLISH = frozenset("""
of and or for in on at by with from about into per is are was were be been has have had will should
must can could does did what when where who whom whose which why how many much number percentage
percent rate ratio share school schools student students pupil pupils teacher teachers education
educational plan plans guidance guideline guidelines requirement requirements year years academic
grade grades level secondary primary high lower upper district city province department ministry
office letter circular decision directive notice report conclusion conclusions conference meeting
dropout dropouts drop out rate smart classroom classrooms training exam exams test tests result results
program programme curriculum subject subjects activity activities deadline date when target targets
digital online learning teaching quality assessment evaluation new this that these those there their
""".split())
# Onset + vowel cluster + coda of a Vietnamese syllable, on folded text ("nghieng", "thuong", "ke").
_VI_SYLLABLE = re.compile(r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdghklmnprstvx])?[aeiouy]{1,3}(ng|nh|ch|[cmnpt])?$")


def _language(text: str, words: list[Word]) -> str:
    """"en" when English words outnumber Vietnamese-looking ones; acronyms and numbers do not vote."""
    english = vietnamese = 0
    for s, e, w in words:
        acronym = (e - s > 1 and text[s:e].isupper()) or w in _ACRONYM_LIKE     # THCS, STEM, GDĐT
        if acronym or not w.isalpha():
            continue
        if fold(w) != w:
            vietnamese += 1
        elif w in _ENGLISH or not _VI_SYLLABLE.match(w):
            english += 1
        else:
            vietnamese += 1
    return "en" if english > vietnamese else "vi"


# Unmarked letter runs that are codes, not English: "thcs", "thpt", "gddt", "stem", "sgddt" ...
_ACRONYM_LIKE = frozenset("thcs thpt gddt sgddt bgddt gdtrh stem steam ubnd hdnd ctgdpt gdpt cntt ict".split())


# -- questions -----------------------------------------------------------------------------------

_QUESTION_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("document", tuple(f"{d} {q}" for d in DOCUMENT_WORDS_VI for q in ("nào", "gì"))
     + tuple(f"{q} {d}" for d in DOCUMENT_WORDS_EN for q in ("which", "what")) + ("số mấy",)),
    ("date", ("khi nào", "bao giờ", "lúc nào", "ngày nào", "thời gian nào", "thời hạn", "hạn chót", "ngày mấy",
              "tháng mấy", "năm nào", "when", "what date", "which date", "what day", "what time", "deadline")),
    ("who", ("ai", "cơ quan nào", "đơn vị nào", "bộ phận nào", "tổ chức nào", "người nào", "who", "whom", "whose",
             "which agency", "which department", "which office", "which unit")),
    ("number", ("bao nhiêu", "mấy", "tỷ lệ", "tỉ lệ", "số lượng", "how many", "how much", "what percentage",
                "what percent", "what proportion", "what share", "what rate", "percentage", "rate")),
)
# Words that make a query a question. Single syllables whose folded form is an everyday word are
# recognised only when typed with marks: "mấy" (may = máy), "đâu" (dau = đầu).
_QUESTION_WORDS = ("bao nhiêu", "khi nào", "bao giờ", "lúc nào", "ở đâu", "nơi nào", "ai", "gì", "nào",
                   "như thế nào", "thế nào", "ra sao", "có phải", "tại sao", "vì sao", "làm sao", "hay không",
                   "được không", "what", "when", "where", "who", "whom", "whose", "which", "why", "how")
_QUESTION_WORDS_MARKED = ("mấy", "đâu")
_ENGLISH_AUX = frozenset("is are was were do does did can could should will has have".split())


def _question_word(words: list[Word], lang: str) -> bool:
    if any(_find(words, p) >= 0 for p in _QUESTION_WORDS):
        return True
    if any(_find(words, p, accent_only=True) >= 0 for p in _QUESTION_WORDS_MARKED):
        return True
    if len(words) >= 2 and _yes_no(words):
        return True
    return lang == "en" and bool(words) and words[0][2] in _ENGLISH_AUX   # "is there a deadline"


def _yes_no(words: list[Word]) -> bool:
    """Vietnamese yes/no questions end the sentence: "có tổ chức thi không", "đã nộp báo cáo chưa"."""
    last = words[-1][2]
    if _same(last, "không"):
        return any(_same(w, "có") or _same(w, "được") for _, _, w in words[:-1])
    return _same(last, "chưa", accent_only=True)


# Phrases that ask for several things. "những"/"các" ask for a list when a question word closes their noun
# phrase ("những trường THCS nào", "các nội dung gì"), not a question word further on ("các em ... làm gì");
# "những" typed with marks is never "nhưng" (but).
_LIST_PHRASES = ("danh sách", "liệt kê", "kể tên", "bao gồm", "gồm những", "gồm các", "gồm có", "những gì",
                 "những ai", "list", "enumerate", "what are", "which are")
_PLURALS = (("những", 6), ("các", 3))      # plural word, most words until its "nào"/"gì"
_ENGLISH_NOT_PLURAL = frozenset("is was has does this its thus always".split())


def _wants_list(words: list[Word]) -> bool:
    """A question whose answer is several items: the schools of a cluster, the tasks under a heading."""
    if any(_find(words, p) >= 0 for p in _LIST_PHRASES):
        return True
    for plural, reach in _PLURALS:
        at = _find(words, plural)
        if at >= 0 and any(_find(words[at + 1:at + 2 + reach], q) >= 0 for q in ("nào", "gì")):
            return True
    if words and _same(words[0][2], "những"):
        return True             # a plural noun phrase: "những dụng cụ hỗ trợ tính toán ..."
    # "which schools", "which contests": which + a plural noun
    return any(w == "which" and len(nxt) > 3 and nxt.endswith("s") and nxt not in _ENGLISH_NOT_PLURAL
               for (_, _, w), (_, _, nxt) in zip(words, words[1:]))


def _question_type(words: list[Word]) -> str:
    """The kind of answer a question wants; checked from the most specific kind to the least."""
    for kind, phrases in _QUESTION_TYPES:
        for phrase in phrases:
            if _find(words, phrase, accent_only=phrase in _QUESTION_WORDS_MARKED) >= 0:
                return kind
    return "generic"
