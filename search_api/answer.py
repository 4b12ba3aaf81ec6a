"""Extractive answers for `ask`: the sentence, list item, table cell or entity that answers a question.

The top passages are cut into units (sentences, list items, table rows) with their offsets by
`search_api.spans`, which also finds the dates, figures and numbers inside them. Here each unit is
scored by the question words it holds, compared without diacritics because users often type none
(but "đặt" typed with marks does not match "đạt"), weighted by how few units hold them, plus its
list parents' words and the passage's retrieval score. A figure, a date or a document number is
answered by that entity in the best unit, otherwise the unit itself is the answer. Nothing is
generated: `passage.text[s:e]` is the answer text, or the cell value for a table row. A table row is
read as it is shown (`passage.display`, the row with its column headers), so its answer also carries
`display_span`, and its `span` is that cell's place in the document's own text.

The confidence mixes how much of the question the unit covers with the top retrieval score; below
ABSTAIN_BELOW the answer is None, because a near miss in an official directive is worse than none.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from indexer.normalize import fold
from indexer.vocab import Word, same_spelling, spelled_words
from search_api import spans
from search_api.query import QueryInfo
from search_api.schemas import Answer, SearchResult

ABSTAIN_BELOW = 0.72     # confidence under which `extract` abstains (tuned on eval/queries.jsonl)
TOP_PASSAGES = 5         # passages searched for an answer
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

_GENERIC = frozenset("giao duc hoc sinh truong nam cap vien nha thuc hien cong tac gd dt gddt nganh thcs "
                     "nhiem vu".split())
_CUES = (((("o", "dau"), ("tai", "dau"), ("where",)), ("dia", "diem")),
         ((("gio",), ("khi", "nao"), ("when",)), ("thoi", "gian")))
_PERCENT_WORDS = frozenset({"ti", "le", "phan", "tram", "percent", "percentage", "rate"})


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


def extract(info: QueryInfo, results: list[SearchResult],
            threshold: float | None = None) -> tuple[Answer | None, float]:
    """The answer span in the top passages and a confidence in [0, 1]; None below `threshold`
    (default ABSTAIN_BELOW; `ask` passes 0 and lets search_api.confidence decide)."""
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
    floor = ABSTAIN_BELOW if threshold is None else threshold
    return (_answer(source, kind, query, info) if confidence >= floor else None), confidence


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
    for source in filter(None, (info.restored, info.text)):     # no restored text: the typed one alone
        previous = None
        tokens = spelled_words(fold(source or ""))
        for i, (s, e, folded) in enumerate(tokens):
            words.append(folded)
            typed = same_spelling(source[s:e])
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
    cues = tuple(cue for asks, cue in _CUES if any(spans.has_phrase(tuple(words), a) for a in asks)
                 or (info.question_type == "date" and cue == ("thoi", "gian")))
    return _Query(terms, frozenset(pairs), tuple(words), marked, frozenset(wants), frozenset(typed_words), cues)


def _kind(info: QueryInfo, query: _Query) -> str | None:
    """The sort of answer: the analyzer's question type, plus "số hiệu" (a number), "ký" (a signer) and
    "ở đâu" (a place: the unit under "Địa điểm")."""
    if spans.has_phrase(query.words, ("so", "hieu")):
        return "document"
    if info.is_question and _asks_signer(query):
        return "who"
    if info.question_type == "who" and query.wants & {"quan", "vi"}:
        return None                 # "cơ quan nào", "đơn vị nào": an office, not a person's name
    if info.question_type in ("number", "date", "document", "who"):
        return info.question_type
    return "where" if ("dia", "diem") in query.cues else None


def question_terms(info: QueryInfo) -> dict[str, float]:
    """The question's content words (folded) with their weights, as answers are scored by them."""
    return _query(info).terms


def asks_signer(info: QueryInfo) -> bool:
    """Whether the query asks who signed a directive ("Ai ký ...?", "người ký hướng dẫn ...")."""
    return _asks_signer(_query(info))


def _asks_signer(query: _Query) -> bool:
    """"Ai ký ...?", "người ký", "Trưởng phòng nào ký" ("ký" as vocab.same_spelling spells it), not "đăng ký"."""
    if "signed" in query.words:
        return True
    asks = (("ai",), ("nguoi", "ki"), ("nao", "ki"))
    return "kí" in query.typed and any(spans.has_phrase(query.words, p) for p in asks)


def _answer_type(tokens: list[Word], i: int) -> bool:
    """"ngày nào", "mấy giờ", "bao nhiêu trường": the word names the sort of answer, not its topic."""
    before = tokens[i - 1][2] if i > 0 else ""
    after = tokens[i + 1][2] if i + 1 < len(tokens) else ""
    return after == "nao" or before in ("may", "nhieu")


def _weight(typed: str, folded: str) -> float:
    if typed in spans.STOP_MARKED or folded in spans.STOP_EN or (typed == folded and folded in spans.STOP_FOLDED):
        return 0.0
    if len(folded) == 1 and not folded.isdigit():
        return 0.0
    return GENERIC_WEIGHT if folded in _GENERIC else 1.0


# -- candidate units -----------------------------------------------------------------------------

@dataclass
class _Piece:
    """What scoring needs to know about one unit: its words, and the words above and around it."""

    result: SearchResult
    shown: str                         # the passage as read: a table row's display, else its text
    folded: str                        # fold(shown)
    span: spans.Span
    leaf: tuple[str, ...]              # words of the innermost section heading
    inside: set[str]
    marks: set[str]                    # the unit's words with their marks (see vocab.same_spelling)
    above: set[str]                    # list parents, section heading, document title/issuer/place
    around: set[str]                   # the whole passage


def _pieces(passages: list[SearchResult]) -> list[_Piece]:
    out = []
    for result in passages:
        shown = passage_text(result)
        folded = fold(shown)
        leaf = tuple(t for *_, t in spelled_words(fold(result.section.split("›")[-1])))
        doc = result.document
        # the document's own words (title, issuer, place) answer "Quận 11", "An Lão" in a question
        named = " ".join(filter(None, (doc.title, doc.number, doc.issuer, doc.place, result.section)))
        heading = {t for *_, t in spelled_words(fold(named))}
        around = {t for *_, t in spelled_words(folded)}
        units = [((0, len(shown)), -1)] if result.display else spans.nested_units(shown)
        words = [_word_set(spelled_words(folded, s, e), folded[s:e]) for (s, e), _ in units]
        for ((s, e), parent), inside in zip(units, words):
            above = set(heading)
            while parent >= 0:
                above |= words[parent]
                parent = units[parent][1]
            marks = {same_spelling(shown[a:b]) for a, b, _ in spelled_words(folded, s, e)}
            out.append(_Piece(result, shown, folded, (s, e), leaf, inside, marks, above, around))
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
        tokens = spelled_words(piece.folded, start, end)
        coverage, focus = _coverage(query, query.terms, piece), _coverage(query, rare, piece)
        score = focus + PHRASE_WEIGHT * _phrase(query.pairs, rare, tokens)
        score += RANK_WEIGHT * max(0.0, piece.result.score) / top
        words = tuple(t for *_, t in tokens)
        cued = any(spans.has_phrase(words, cue) or spans.has_phrase(piece.leaf, cue) for cue in query.cues)
        score += CUE_BONUS * cued
        entity = float(cued) if kind == "where" else _holds_entity(piece, kind, query, info)
        if kind and not entity:
            score *= MISSING_ENTITY
        out.append(_Unit(piece.result, start, end, coverage, score + ENTITY_BONUS * entity, entity, focus))
    return out


def _word_set(tokens: list[Word], folded: str) -> set[str]:
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


def _phrase(pairs: frozenset[tuple[str, str]], rare: dict[str, float], tokens: list[Word]) -> float:
    """Share of adjacent question word pairs adjacent in the unit too ("phương châm"), rare pairs weighing more."""
    adjacent = {(a[2], b[2]) for a, b in zip(tokens, tokens[1:])}
    total = sum(rare[a] + rare[b] for a, b in pairs)
    return sum(rare[a] + rare[b] for a, b in pairs & adjacent) / total if total > 0 else 0.0


def _holds_entity(piece: _Piece, kind: str | None, query: _Query, info: QueryInfo) -> float:
    """1 when the unit has what is asked for, 0.5 for a lesser sort, 2 for a table cell the question names."""
    result, span = piece.result, piece.span
    if kind == "who":
        text = piece.shown[span[0]:span[1]]
        # a line that is only a name closes the signature block: the signer ("Ai ký ...?")
        signer = _asks_signer(query) and spans.has_name(text) and len(text.split()) <= 4
        return 2.0 if signer else float(spans.has_name(text))
    if not kind:
        return 0.0
    found, rank = _entities(piece.shown, span, kind, query, info, result.document.school_years)
    if not found:
        return 0.0
    if rank == 0 and result.display and kind == "number" and _table_cell(piece.shown, query, info):
        return 2.0
    return 1.0 if rank == 0 else 0.5


def _entities(text: str, span: spans.Span, kind: str, query: _Query, info: QueryInfo,
              doc_years: Iterable[str] = ()) -> tuple[list[spans.Span], int]:
    """`spans.entities` with the numbers the question names and the school years that set the scene."""
    return spans.entities(text, span, kind, query, info.doc_numbers, {*doc_years, *info.school_years})


# -- the answer ----------------------------------------------------------------------------------

def _answer(unit: _Unit, kind: str | None, query: _Query, info: QueryInfo) -> Answer:
    """The entity nearest the question words, the table cell, or the whole unit."""
    result = unit.result
    shown = passage_text(result)
    text, span = shown[unit.start:unit.end], (unit.start, unit.end)
    if result.display and kind == "number":
        # a named column gives one cell; otherwise the whole row, so no value is shown without its column
        text, span = _table_cell(shown, query, info) or (text, span)
    elif kind in ("number", "date", "document"):
        found, _ = _entities(shown, span, kind, query, info, result.document.school_years)
        if found:
            folded = fold(shown)
            hits = [(s, e, t) for s, e, t in spelled_words(folded, unit.start, unit.end) if t in query.terms]
            span = max(found, key=lambda f: (_closeness(f, hits, query), -f[0]))
            text = shown[span[0]:span[1]]
    if result.display is None:
        return Answer(text=text, span=span, passage=result)
    return Answer(text=text, span=spans.row_text_span(result.text, result.display, span), display_span=span,
                  passage=result)


def passage_text(result: SearchResult) -> str:
    """The passage as a reader sees it: a table row with its column headers, any other passage as written."""
    return result.display or result.text


def _closeness(span: spans.Span, hits: list[Word], query: _Query) -> float:
    """Question words near the entity, each once at its nearest occurrence, weighted, fading with distance."""
    best: dict[str, float] = {}
    for s, e, term in hits:
        gap = max(s - span[1], span[0] - e, 0)
        best[term] = max(best.get(term, 0.0), query.terms[term] / (1 + gap / 30))
    return sum(best.values())


def _table_cell(text: str, query: _Query, info: QueryInfo) -> tuple[str, spans.Span] | None:
    """The cell whose column the question names (a school year, or header words), as "row, column: value"."""
    label, cells = spans.table_cells(text)
    years = {y.replace(" ", "") for y in info.school_years}

    def named(cell: tuple[spans.Span, spans.Span]) -> float:
        header = text[cell[0][0]:cell[0][1]]
        if header.replace(" ", "").replace("–", "-") in years:
            return 10.0
        return sum(query.terms.get(t, 0.0) for *_, t in spelled_words(fold(header)))

    if not cells:
        return None
    best = max(cells, key=lambda c: (named(c), -c[1][0]))
    if named(best) <= 0 and len(cells) > 1:
        return None
    (hs, he), (vs, ve) = best
    head = f"{text[label[0]:label[1]]}, {text[hs:he]}" if he > hs else text[label[0]:label[1]]
    return f"{head}: {text[vs:ve]}", (vs, ve)
