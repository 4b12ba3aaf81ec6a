"""List answers: when the answer is several items, the items with their citations, not the heading above them.

Directives answer "which schools", "what to prepare", "the activities of October" with structure, not with
one sentence: a heading followed by "-", "+", "a)", "1." lines, an inline "(1) ...; (2) ..." after a colon,
"; "-separated tasks after a lead-in, or consecutive rows of one table. `attach` reads that structure
around the answer an answerer chose and, where the answer is a list's heading, an item of a list its
question names, or a list question's enumeration, returns the items instead; every item is a span of a
cited passage. Nothing here scores passages or decides whether to answer: the confidence is the
answerer's.

How lines nest (`_outline`): a marker kind already open closes back to its sibling, a new kind opens a
child, as `indexer.structure` nests headings; an unmarked line ("10/2020", "Cụ thể như sau:") closes the
bullet lists above it, so a month of a work calendar holds the "-" lines under it.
"""
from __future__ import annotations

from dataclasses import dataclass

from indexer.normalize import fold
from indexer.structure import line_kind
from indexer.vocab import same_spelling, spelled_words
from search_api import spans
from search_api.query import QueryInfo
from search_api.schemas import Answer, AnswerItem, SearchResult

Span = tuple[int, int]

LABEL_WORDS = 20         # a heading line without ":" is a label up to this long; longer, a paragraph
SHORT_ITEM = 6           # words of a comma-separated item ("Spark", "THCS Trường Sơn"); longer parts are clauses
_BULLETS = {"-": "-", "–": "-", "—": "-", "+": "+", "•": "•", "*": "*", "·": "•"}
_ITEM_KINDS = frozenset({"-", "+", "•", "*", "(1)", "(a)", "1)"})     # closed by an unmarked line
_ENTITY_TYPES = ("number", "date", "document")                           # one value, never a list
_LETTERS = "abcdđeghiklmnopqrstuvxy"                                     # Vietnamese order of "a)", "b)", "đ)"
_TRIM = " \t\n;,:."


@dataclass(frozen=True)
class _Line:
    start: int               # first character of the line's content
    body: int                # first character after its marker ("- ", "a) ", "1. ")
    end: int                 # end of its content
    kind: str                # marker kind ("-", "+", "(1)", "arabic1", "roman", ...) or "plain"
    parent: int              # index of the line it hangs under, -1 at the top of the passage


@dataclass(frozen=True)
class _Heading:
    """A line that introduces items, in one cited passage."""

    cited: int               # index in citations
    line: int                # index in that passage's outline
    path: tuple[tuple[str, ...], ...]   # label keys of the sections and lines above it, then its own


@dataclass
class _Question:
    words: tuple[str, ...]   # content words in order (folded), function words dropped
    wants_list: bool


def attach(answer: Answer | None, info: QueryInfo, citations: list[SearchResult]) -> Answer | None:
    """The answer with its items when it is a list (the items replace the heading it pointed at); else unchanged."""
    if answer is None or (info.question_type in _ENTITY_TYPES) or (info.question_type == "who" and not info.wants_list):
        return answer
    at = next((i for i, c in enumerate(citations) if c.chunk_id == answer.passage.chunk_id), None)
    if at is None:
        return answer
    question = _Question(_content_words(info.restored or info.text), info.wants_list)
    if answer.passage.display is not None:
        return _table_items(answer, at, citations) if question.wants_list else answer
    found = _line_items(answer, at, citations, question)
    if not found:
        return answer
    cited, items = found
    passage = citations[cited]
    text = passage.text
    first, last = items[0][0], items[-1][1]
    if len(items) == 1:
        return Answer(text=text[first:last], span=(first, last), passage=passage)
    return Answer(text=text[first:last], span=(first, last), passage=passage,
                  items=[AnswerItem(text=text[s:e], span=(s, e), citation=cited + 1, chunk_id=passage.chunk_id)
                         for s, e in items])


def _line_items(answer: Answer, at: int, citations: list[SearchResult],
                question: _Question) -> tuple[int, list[Span]] | None:
    """(citation index, item spans) of the list the answer points at, or None."""
    text = answer.passage.text
    outline = _outline(text)
    here = next((i for i, ln in enumerate(outline) if ln.start <= answer.span[0] <= ln.end), None)
    if here is None:
        return None
    line = outline[here]
    # the answer is a heading: its items (or those of the heading below it that the question names)
    if _introduces(text, outline, here) and answer.span[1] >= _core_end(text, line.start, line.end):
        return _items_under(_Heading(at, here, _path(citations[at], outline, here)), citations, question)
    inline = _inline_items(text, line, answer.span, question.wants_list)
    if inline:
        return at, inline
    parent = line.parent
    if parent >= 0 and _introduces(text, outline, parent) and _named(question, text, outline[parent]) \
            and not _distinguished(question, citations[at], outline, here):
        return _items_under(_Heading(at, parent, _path(citations[at], outline, parent)), citations, question)
    if question.wants_list:
        # a list question answered outside any list: the list whose heading the question names, if any
        named = _named_heading(citations, question)
        return _items_under(named, citations, question) if named else None
    return None


def _named_heading(citations: list[SearchResult], question: _Question) -> _Heading | None:
    """The heading in the cited passages that the question names with the most words (the first on a tie)."""
    best: tuple[int, _Heading] | None = None
    for cited, passage in enumerate(citations):
        if passage.display is not None:
            continue
        outline = _outline(passage.text)
        for i, line in enumerate(outline):
            words = _named(question, passage.text, line) if _introduces(passage.text, outline, i) else 0
            if words and (best is None or words > best[0]):
                best = (words, _Heading(cited, i, _path(passage, outline, i)))
    return best[1] if best else None


# -- outline of a passage ------------------------------------------------------------------------

def _outline(text: str) -> list[_Line]:
    """The passage's non-empty lines with their markers and the line each hangs under."""
    lines: list[_Line] = []
    stack: list[tuple[str, int]] = []
    pos = 0
    for raw in text.split("\n"):
        start, end = pos + len(raw) - len(raw.lstrip()), pos + len(raw.rstrip())
        pos += len(raw) + 1
        if end <= start:
            continue
        kind, body = _marker(text, start, end)
        if kind == "plain":
            while stack and stack[-1][0] in _ITEM_KINDS:
                stack.pop()
        kinds = [k for k, _ in stack]
        if kind in kinds:
            del stack[kinds.index(kind):]
        lines.append(_Line(start, body, end, kind, stack[-1][1] if stack else -1))
        stack.append((kind, len(lines) - 1))
    return lines


def _marker(text: str, start: int, end: int) -> tuple[str, int]:
    """The marker kind a line opens with and where its content starts."""
    c, nxt = text[start], text[start + 1: start + 2]
    if c in _BULLETS and nxt and (nxt.isspace() or nxt.isalpha() or nxt in "“\"("):
        return _BULLETS[c], _skip_space(text, start + 1, end)
    if c == "(":
        close = text.find(")", start, min(end, start + 5))
        inner = text[start + 1: close] if close > 0 else ""
        if inner.isdigit() or (len(inner) == 1 and inner in _LETTERS):
            return ("(1)" if inner.isdigit() else "(a)"), _skip_space(text, close + 1, end)
    found = line_kind(text[start:end])
    if found:
        return found[0], _skip_space(text, start + found[2], end)
    digits = start
    while digits < end and text[digits].isdigit():
        digits += 1
    if start < digits <= start + 2 and text[digits: digits + 1] == ")":
        return "1)", _skip_space(text, digits + 1, end)
    return "plain", start


def _skip_space(text: str, i: int, end: int) -> int:
    while i < end and text[i].isspace():
        i += 1
    return i


def _children(outline: list[_Line], i: int) -> list[int]:
    return [j for j in range(i + 1, len(outline)) if outline[j].parent == i]


def _introduces(text: str, outline: list[_Line], i: int) -> bool:
    """Line i heads the lines under it: a lead-in ending with ":" or a label ("1. Mục đích", "10/2020"), not
    a numbered paragraph ("7. Tiếp tục đổi mới ... của Bộ GDĐT.") that a plain paragraph follows."""
    line = outline[i]
    if not _children(outline, i):
        return False
    body = text[line.body:line.end].rstrip()
    if body.endswith(":"):
        return True
    return not body.endswith((".", ";", "!", "?")) and len(spans.sentences(text, line.body, line.end)) == 1 \
        and len(spans.word_spans(text, line.body, line.end)) <= LABEL_WORDS


def _block_end(outline: list[_Line], i: int) -> int:
    """End of line i with every line nested under it."""
    end, j = outline[i].end, i + 1
    while j < len(outline) and _under(outline, j, i):
        end, j = outline[j].end, j + 1
    return end


def _under(outline: list[_Line], j: int, i: int) -> bool:
    while j > i:
        j = outline[j].parent
    return j == i


def _core_end(text: str, start: int, end: int) -> int:
    """End of text[start:end] without trailing separators: "Thành lập cụm chuyên môn:" ends before ":"."""
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return end


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start] in " \t\n;,":
        start += 1
    end = _core_end(text, start, end)
    return (start, end) if spans.word_spans(text, start, end) else None


# -- items under a heading -------------------------------------------------------------------------

def _items_under(heading: _Heading, citations: list[SearchResult], question: _Question) -> tuple[int, list[Span]] | None:
    """The items of `heading`, or of the most specific heading below it that the question names; a lone
    child that introduces items ("Cụ thể như sau:") is a lead-in, and its items are the answer."""
    heading = _most_specific(heading, citations, question)
    text = citations[heading.cited].text
    outline = _outline(text)
    line = heading.line
    children = _children(outline, line)
    while len(children) == 1 and _children(outline, children[0]):
        line = children[0]
        children = _children(outline, line)
    items = [span for j in children if (span := _trimmed(text, outline[j].body, _block_end(outline, j)))]
    return (heading.cited, items) if items else None


def _most_specific(heading: _Heading, citations: list[SearchResult], question: _Question) -> _Heading:
    """The deepest heading at or below `heading` (same document) whose label the question names, e.g. the
    month "10/2020" below "V. LỊCH CÔNG TÁC" for "lịch công tác tháng 10/2020"."""
    doc = citations[heading.cited].document.id
    best = heading
    for cited, passage in enumerate(citations):
        if passage.document.id != doc or passage.display is not None:
            continue
        outline = _outline(passage.text)
        for i, line in enumerate(outline):
            if not _introduces(passage.text, outline, i) or not _named(question, passage.text, line):
                continue
            path = _path(passage, outline, i)
            below = heading.path[-1] in path[:-1] or (cited == heading.cited and _under(outline, i, heading.line))
            if below and len(path) > len(best.path):
                best = _Heading(cited, i, path)
    return best


def _path(passage: SearchResult, outline: list[_Line], i: int) -> tuple[tuple[str, ...], ...]:
    """Label keys from the passage's section path down to line i (a section heading opening the passage
    is not counted twice)."""
    keys = [_key(part.strip().rstrip("…")) for part in passage.section.split("›") if part.strip()]
    chain = []
    while i >= 0:
        chain.append(_key(passage.text[outline[i].start:outline[i].end]))
        i = outline[i].parent
    for key in reversed(chain):
        if not keys or keys[-1] != key:
            keys.append(key)
    return tuple(keys)


def _key(label: str) -> tuple[str, ...]:
    """A heading label as its first words before any ":" (section paths cut long labels with "…")."""
    _, body = _marker(label, 0, len(label)) if label else ("plain", 0)
    head = label[body:].split(":")[0]
    return tuple(w for *_, w in spelled_words(fold(head)))[:5]


# -- does the question name it -------------------------------------------------------------------

def _content_words(text: str, start: int = 0, end: int | None = None) -> tuple[str, ...]:
    """Folded words without function words ("của", "những", "the"), as the answerer reads questions."""
    folded = fold(text)
    out = []
    for s, e, w in spelled_words(folded, start, end):
        typed = same_spelling(text[s:e])
        if typed in spans.STOP_MARKED or w in spans.STOP_EN or (typed == w and w in spans.STOP_FOLDED):
            continue
        if len(w) > 1 or w.isdigit():
            out.append(w)
    return tuple(out)


def _doc_words(passage: SearchResult) -> set[str]:
    doc = passage.document
    named = " ".join(filter(None, (doc.title, doc.issuer, doc.place, doc.number)))
    return set(_content_words(named))


def _named(question: _Question, text: str, line: _Line) -> int:
    """How many words of the heading's label the question names, when it names them all, together and in
    order ("Mục đích", "10/2020", "Sở Giáo dục và Đào tạo"); 0 when it does not name the heading."""
    label = _content_words(text[line.body:line.end].split(":")[0])
    n = len(label)
    named = n and any(question.words[k:k + n] == label for k in range(len(question.words) - n + 1))
    return n if named else 0


def _distinguished(question: _Question, passage: SearchResult, outline: list[_Line], i: int) -> bool:
    """The item holds a question word its siblings and its heading do not: the question asks for this item
    ("trước tháng 12/2024"), not for the whole list."""
    text = passage.text
    line = outline[i]
    siblings = [j for j in _children(outline, line.parent) if j != i]
    context = set(_content_words(text, outline[line.parent].start, outline[line.parent].end)) | _doc_words(passage)
    context |= set(_content_words(passage.section))
    mine = set(_content_words(text, line.start, _block_end(outline, i)))
    others = [set(_content_words(text, outline[j].start, _block_end(outline, j))) for j in siblings]
    return any(w in mine and w not in context and not all(w in o for o in others) for w in set(question.words))


# -- inline enumerations -----------------------------------------------------------------------------

def _inline_items(text: str, line: _Line, unit: Span, wants_list: bool) -> list[Span] | None:
    """Items written inside the answer's sentence: "(1) ...; (2) ...", "a) ...; b) ...", or "; "-separated
    parts after a lead-in's colon, when the answer holds the lead-in (any part, for a list question); for a
    list question also short comma-separated names after a colon or in brackets ("(Spark, Access, ...)")."""
    sentence = next(((s, e) for s, e in spans.sentences(text, line.body, line.end) if s <= unit[0] < e),
                    (line.body, line.end))
    s_start, s_end = sentence
    def holds_lead_in(lead_end: int) -> bool:
        return wants_list or bool(spans.word_spans(text, unit[0], lead_end))

    numbered = _enumerated(text, s_start, s_end)
    if numbered and holds_lead_in(numbered[0]):
        return [span for a, b in numbered[1] if (span := _trimmed(text, a, b))]
    colon = text.find(": ", s_start, s_end)
    groups = [(colon + 2, s_end)] if colon >= 0 and holds_lead_in(colon) else []
    if wants_list:
        groups += [(i + 1, text.find(")", i, s_end)) for i in range(s_start, s_end) if text[i] == "("]
    for begin, end in groups:
        if end > begin:
            parts: list[Span] | None = _split(text, begin, end, ";")
            parts = parts if parts and len(parts) >= 2 else _short_parts(text, begin, end) if wants_list else None
            if parts:
                return parts
    return None


def _enumerated(text: str, start: int, end: int) -> tuple[int, list[Span]] | None:
    """Where "(1)" (or "1)", "a)", "(a)") starts, and the spans after it and its successors "(2)", "(3)" ...,
    numbered in order from the first, at least two."""
    for style in ("({})", "{})"):
        for values in ([str(n) for n in range(1, 21)], list(_LETTERS)):
            marks: list[Span] = []
            pos = start
            for value in values:
                mark = style.format(value)
                at = text.find(mark, pos, end)
                while at > 0 and style == "{})" and (text[at - 1].isalnum() or text[at - 1] == "("):
                    at = text.find(mark, at + 1, end)   # "12)" or "(a)" is not "2)" or "a)"
                if at < 0:
                    break
                marks.append((at, at + len(mark)))
                pos = at + len(mark)
            if len(marks) >= 2:
                bounds = [m[0] for m in marks[1:]] + [end]
                return marks[0][0], [(m[1], b) for m, b in zip(marks, bounds)]
    return None


def _split(text: str, start: int, end: int, sep: str) -> list[Span]:
    """text[start:end] cut at `sep`, each part trimmed; empty parts dropped."""
    out, begin = [], start
    while begin < end:
        cut = text.find(sep, begin, end)
        cut = end if cut < 0 else cut
        if (span := _trimmed(text, begin, cut)):
            kind, body = _marker(text, *span)
            out.append((body, span[1]) if kind in _ITEM_KINDS and body < span[1] else span)
        begin = cut + 1
    return out


def _short_parts(text: str, start: int, end: int) -> list[Span] | None:
    """Comma-separated names, each at most SHORT_ITEM words, the last one split at "và"/"and"; None otherwise."""
    parts = _split(text, start, end, ",")
    if len(parts) >= 1:
        s, e = parts[-1]
        folded = fold(text[s:e])
        for joint in (" va ", " and "):
            at = folded.find(joint)
            if at > 0:
                parts[-1:] = [p for p in (_trimmed(text, s, s + at), _trimmed(text, s + at + len(joint), e)) if p]
                break
    if len(parts) < 2 or any(len(spans.word_spans(text, s, e)) > SHORT_ITEM for s, e in parts):
        return None
    return parts


# -- table rows ----------------------------------------------------------------------------------------

def _table_items(answer: Answer, at: int, citations: list[SearchResult]) -> Answer:
    """Consecutive rows of the answer's table among the citations (same document, section and columns)."""
    row = citations[at]
    columns = _columns(row)
    same = sorted((c.start, i) for i, c in enumerate(citations)
                  if c.display is not None and c.document.id == row.document.id and c.section == row.section
                  and _columns(c) == columns)
    run: list[int] = []
    for _, i in same:
        if run and citations[i].start - citations[run[-1]].end > 4:
            if at in run:
                break
            run = []
        run.append(i)
    if at not in run or len(run) < 2:
        return answer
    items = [AnswerItem(text=citations[i].text, span=(0, len(citations[i].text)),
                        display_span=(0, len(citations[i].display or "")), citation=i + 1,
                        chunk_id=citations[i].chunk_id) for i in run]
    return answer.model_copy(update={"items": items})


def _columns(row: SearchResult) -> tuple[str, ...]:
    shown = row.display or ""
    return tuple(shown[h[0]:h[1]] for h, _ in spans.table_cells(shown)[1])
