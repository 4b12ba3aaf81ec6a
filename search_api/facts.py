"""A directive's own facts as answers: its number, its date of issue and who signed it.

"Ai ký kế hoạch ...?", "Số hiệu văn bản ... là gì?", "Phương hướng ... ban hành ngày nào?" ask about a
directive, not about what it says; the passages a search returns rarely hold its header or signature
block, and when they do the rule-based answerer has no reason to prefer them.

The fact is read where the document states it, so the answer is a span of a stored passage like any
other: the number after "Số:" and the "<place>, ngày ..." line in its first passages (the same number
and date `indexer.header` put in the document's metadata), and the name under the signing title
("TRƯỞNG PHÒNG", "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC") of its signature block, which may come before an
appendix. The document asked about is the cited one whose own description (title, type, issuer, place,
date, number, school years, and its first passage) covers most of the question, the higher ranked on a
tie: one candidate per question (one per cited document gave the combiner many wrong ones to learn
from, and measured worse). Whether it is given is the combiner's decision (search_api.confidence),
which also sees that coverage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.header import ISSUE_DATE
from indexer.normalize import fold
from indexer.types import Chunk
from indexer.vocab import date_iso, find_document_numbers, spelled_words
from search_api import answer as answering
from search_api import spans
from search_api.query import QueryInfo
from search_api.schemas import Answer, DocumentInfo, SearchResult

HEADER_PASSAGES = 3        # a directive's number and date lie in its first passages
OPENING_PASSAGES = 1       # ... and the first of them describes it, with its metadata (held out, 0 / 1 / 2 / 3
                           # passages: answer accuracy 0.402 / 0.413 / 0.412 / 0.413, abstention 0.861 / 0.863 /
                           # 0.861 / 0.845, mean of 10 splits, when "văn bản nào" still asked the number)
SIGNATURE_PASSAGES = 2     # passages with a signing title searched for the signer, the last first
SIGNATURE_LINES = 4        # the name follows its title within this many lines
# Titles a directive is signed under, as its signature block writes them ("PHÓ TRƯỞNG PHÒNG" holds one).
SIGNING_TITLES = ("TRƯỞNG PHÒNG", "GIÁM ĐỐC", "HIỆU TRƯỞNG", "CHỦ TỊCH", "BỘ TRƯỞNG", "THỨ TRƯỞNG", "CỤC TRƯỞNG",
                  "VỤ TRƯỞNG", "TRƯỞNG BAN", "CHÁNH VĂN PHÒNG", "THỦ TƯỚNG")
_SIGNING = re.compile("|".join(map(re.escape, SIGNING_TITLES)))
_ISSUE_CUES = (("ban", "hanh"), ("so", "hieu"), ("issued",), ("signed",), ("number",))
_NUMBER_CUES = (("so", "hieu"), ("ky", "hieu"), ("ki", "hieu"))


@dataclass(frozen=True)
class Fact:
    """Where a document states one of its facts: `chunk.text[start:end]`."""

    chunk: Chunk
    start: int
    end: int


@dataclass(frozen=True)
class Stated:
    """A fact as an answer (its passage is the chunk stating it), with what the combiner weighs."""

    answer: Answer
    fact: str
    describes: float


def asked(info: QueryInfo) -> str | None:
    """The fact a question asks of a directive: "signer", "date" (of issue) or "number"; None when it asks
    something else (a figure, a place, the date of an event, a document it names by number)."""
    words = tuple(t for *_, t in spelled_words(fold(info.text)))
    if info.doc_numbers:
        return None                # a document it names: its facts, if it is indexed, are in the passages cited
    if answering.asks_signer(info):
        return "signer"
    if info.question_type == "date":
        return "date" if any(spans.has_phrase(words, cue) for cue in _ISSUE_CUES) else None
    if any(spans.has_phrase(words, cue) for cue in _NUMBER_CUES):
        return "number"            # not "văn bản nào quy định ...": that asks for the document cited on it
    return None


def describes(terms: dict[str, float], document: DocumentInfo, first: list[Chunk]) -> float:
    """Weighted share of the question's words (`terms`, answer.question_terms) that the document's own
    description holds: its metadata and its first passage (header and title, or the opening sentence
    where a file lost its header)."""
    opening = " ".join(c.text for c in first[:OPENING_PASSAGES])
    total = sum(terms.values())
    if not total:
        return 0.0
    day = "/".join(reversed(document.date.split("-"))) if document.date else None
    described = " ".join(filter(None, (document.title, document.doc_type, document.issuer, document.place,
                                       document.number, day, document.level, *document.school_years, opening)))
    held = {t for *_, t in spelled_words(fold(described))}
    return sum(w for t, w in terms.items() if t in held) / total


def cited_documents(citations: list[SearchResult]) -> list[SearchResult]:
    """The first passage of each cited document, in rank order."""
    seen: dict[str, SearchResult] = {}
    for result in citations:
        seen.setdefault(result.document.id, result)
    return list(seen.values())


def locate(fact: str, document: DocumentInfo, first: list[Chunk], signed: list[Chunk]) -> Fact | None:
    """Where the document states `fact`: in its `first` passages (number, date) or, for the signer, in the
    passages holding a signing title (`signed`, in document order)."""
    if fact == "number" and document.number:
        return next((Fact(c, s, e) for c in first for s, e, code in find_document_numbers(c.text)
                     if code == document.number), None)
    if fact == "date" and document.date:
        return next((Fact(c, m.start(), m.end()) for c in first for m in ISSUE_DATE.finditer(fold(c.text))
                     if date_iso(m) == document.date), None)
    if fact == "signer":
        return next((found for c in reversed(signed) if (found := _signer(c)) is not None), None)
    return None


def _signer(chunk: Chunk) -> Fact | None:
    """The name under the last signing title of the passage ("KT. TRƯỞNG PHÒNG / PHÓ TRƯỞNG PHÒNG / Nguyễn
    Xuân Thạch"), or on its line ("GIÁM ĐỐC Nguyễn Huy Hoàng")."""
    text = chunk.text
    for title in reversed(list(_SIGNING.finditer(text))):
        start = title.end()
        for _ in range(SIGNATURE_LINES + 1):             # the rest of the title's line, then the lines under it
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            if (name := spans.name_at_end(text, start, end)) is not None:
                return Fact(chunk, *name)
            if end == len(text):
                break
            start = end + 1
    return None
