"""Structure-aware chunking: passages that stay inside one section; table rows and footnotes on their own.

Lines are packed greedily up to `max_tokens` of the embedder's tokenizer. A line that is too long is
split at sentence ends, then at ";"/":" clause ends, then between words (then, for a run without
spaces, between characters), so every passage fits the model and none is cut mid-word when avoidable.
A heading line with nothing under it but sub-sections or a table, and no words beyond its section label,
is kept (kind "heading", for coverage) but not retrieved; so are a table's column-header lines ("STT / Nội
dung / 2019-2020 / 2020-2021"), which travel with every row instead. A table row is always one chunk (its
rendered "label: header: value; ..." is what gets embedded); a footnote is one chunk, or several split the
same way when it is too long. Every chunk is an exact
slice of the document text; boilerplate from `structure.skipped_spans` is the only non-blank text no
chunk covers.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from indexer.errors import TracuuError
from indexer.structure import skipped_spans
from indexer.types import Chunk, Document, Section

TokenLen = Callable[[str], int]
Fits = Callable[[int, int], bool]
Span = tuple[int, int]

_LINE = re.compile(r"\S(?:[^\n]*\S)?")                  # a line without its surrounding blanks
_MARKER = re.compile(r"(?:\d{1,2}(?:\.\d{1,2})*|[IVX]{1,5}|[A-Za-zĐđ])[.)]")
_SPLITTERS = (
    re.compile(r"[.!?…][”\"')\]]*\s+"),                 # sentence end
    re.compile(r"[;:]\s+"),                              # clause end: directives chain clauses with ";"
    re.compile(r"\s+"),                                  # between words
)


def chunk_document(doc: Document, token_len: TokenLen, max_tokens: int = 200) -> list[Chunk]:
    """All chunks of a document in text order, with ids f"{doc_id}-{ordinal:04d}"."""
    if max_tokens < 1:
        raise TracuuError(f"max_tokens must be at least 1, not {max_tokens}")
    text = doc.text

    def fits(start: int, end: int) -> bool:
        return token_len(text[start:end]) <= max_tokens

    pieces: list[tuple[int, int, str, str | None]] = []
    for row in doc.tables:
        if text[row.start:row.end].strip():
            pieces.append((row.start, row.end, "table_row", row.render()))
    heads = sorted({(r.head_start, r.head_end) for r in doc.tables if r.head_end > r.head_start})
    for head in heads:
        pieces.extend((s, e, "heading", None) for s, e in _pack(text, [head], fits, 0))
    for note in doc.footnotes:
        pieces.extend((s, e, "footnote", None) for s, e in _pack(text, [(note.start, note.end)], fits, 0))
    blocked = sorted([(r.start, r.end) for r in doc.tables] + [(n.start, n.end) for n in doc.footnotes]
                     + heads + list(skipped_spans(text)))
    # a passage never spans a heading or a page break, so its citation names one section and one page
    cuts = sorted({s.start for s in doc.sections} | {start for _, start, _ in doc.pages})
    for run in _text_runs(text, blocked, cuts):
        pieces.extend((s, e, "text", None) for s, e in _pack(text, run, fits, 0))
    pieces.sort()
    # sections whose heading line stands for more than itself: they hold sub-sections or a table
    parents = {s.path[:-1] for s in doc.sections if len(s.path) > 1}
    parents |= {found.path for r in doc.tables if (found := section_at(doc.sections, r.start))}
    chunks = []
    for ordinal, (start, end, kind, rendered) in enumerate(pieces):
        found = section_at(doc.sections, start)
        section = " › ".join(found.path) if found else ""
        if (kind == "text" and found and found.start == start and found.path in parents
                and _label_holds(found.label, text[start:end])):
            kind = "heading"    # "II. NỘI DUNG" alone: its words live on in the section path of what it holds
        chunks.append(Chunk(
            chunk_id=f"{doc.doc_id}-{ordinal:04d}", doc_id=doc.doc_id, ordinal=ordinal, section=section,
            start=start, end=end, page=doc.page_at(start), text=text[start:end], kind=kind,
            rendered=rendered, context=chunk_context(doc, section),
        ))
    return chunks


def _label_holds(label: str, line: str) -> bool:
    """The section label keeps every word of the heading line. A long lead-in ("2. Phạm tội thuộc một
    trong các trường hợp sau đây, thì bị phạt tù từ 02 năm đến 07 năm:") has a shortened label, so it
    stays a retrievable passage: on alqac-legal, hiding those lines cost lexical nDCG@10 0.949 -> 0.934."""
    if "\n" in line or label.endswith("…"):
        return False
    return " ".join(line.split()).rstrip(":;.,") == label.rstrip(":;.,")


def chunk_context(doc: Document, section: str) -> str:
    """Title and section path ("PHƯƠNG HƯỚNG … › II. NHIỆM VỤ › 7. …"), prepended for embedding and BM25."""
    return " › ".join(part for part in (doc.meta.title or "", section) if part)


def section_at(sections: tuple[Section, ...], offset: int) -> Section | None:
    """The deepest section containing `offset` (sections come in document order, children after parents)."""
    found = None
    for section in sections:
        if section.start > offset:
            break
        if offset < section.end:
            found = section
    return found


def _text_runs(text: str, blocked: list[Span], cuts: list[int]) -> list[list[Span]]:
    """Lines that may share a chunk: no heading, table row, footnote or boilerplate between them."""
    runs: list[list[Span]] = []
    pos = 0
    for start, end in blocked + [(len(text), len(text))]:
        if start > pos:
            edges = [pos] + [c for c in cuts if pos < c < start] + [start]
            for a, b in zip(edges, edges[1:]):
                lines = [(m.start(), m.end()) for m in _LINE.finditer(text, a, b)]
                if lines:
                    runs.append(lines)
        pos = max(pos, end)
    return runs


def _pack(text: str, units: list[Span], fits: Fits, level: int) -> list[Span]:
    """Greedy packing of consecutive units; a unit that alone is too long is split one level finer."""
    out: list[Span] = []
    i = 0
    while i < len(units):
        j = _reach(units, i, fits)
        if j == i:
            out.extend(_split(text, units[i], fits, level))
            i += 1
        else:
            out.append((units[i][0], units[j - 1][1]))
            i = j
    return out


def _reach(units: list[Span], i: int, fits: Fits) -> int:
    """Largest j such that units[i:j] fit in one chunk (i when even units[i] alone does not)."""
    start = units[i][0]
    if not fits(start, units[i][1]):
        return i
    lo, step = i + 1, 1                                   # lo: a count known to fit
    while lo + step <= len(units) and fits(start, units[lo + step - 1][1]):
        lo, step = lo + step, step * 2
    hi = min(lo + step, len(units) + 1)                   # hi: known not to fit, or past the end
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(start, units[mid - 1][1]):
            lo = mid
        else:
            hi = mid
    return lo


def _split(text: str, span: Span, fits: Fits, level: int) -> list[Span]:
    start, end = span
    for depth in range(level, len(_SPLITTERS)):
        edges = [start] + [m.end() for m in _SPLITTERS[depth].finditer(text, start, end) if m.end() < end] + [end]
        parts = [_trim(text, a, b) for a, b in zip(edges, edges[1:])]
        parts = _join_markers(text, [p for p in parts if p[1] > p[0]])
        if len(parts) > 1:
            return _pack(text, parts, fits, depth + 1)
    return _hard_split(start, end, fits)


def _join_markers(text: str, parts: list[Span]) -> list[Span]:
    """A numbering marker cut off as a "sentence" ("2.2.", "a)") stays with the text it numbers."""
    out: list[Span] = []
    for a, b in parts:
        if out and _MARKER.fullmatch(text, *out[-1]):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _hard_split(start: int, end: int, fits: Fits) -> list[Span]:
    """A run of text without spaces that still does not fit: the longest fitting prefixes, at least 1 char."""
    out = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(start, mid):
                lo = mid
            else:
                hi = mid - 1
        out.append((start, lo))
        start = lo
    return out


def _trim(text: str, a: int, b: int) -> Span:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
