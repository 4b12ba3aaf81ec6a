"""Render-only HTML for the search page: functions take the plain dicts of the API models and return HTML.

Nothing here searches or reads the index; search_api.web calls SearchService and hands the
`model_dump()` of its responses to these functions, so the page and the JSON API show the same data.
Every piece of document text and every query is escaped: marks are built by slicing text at
offsets and escaping each slice, never by inserting raw strings.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from indexer.loaders import SUPPORTED_EXTENSIONS

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

# URL parameters of the search page, in the order they appear in a shared link.
STATE_KEYS = ("q", "school_year", "issuer", "doc_type", "mode")
FILTER_KEYS = ("school_year", "issuer", "doc_type")
FILTER_LABELS = {"school_year": "Năm học", "issuer": "Cơ quan ban hành", "doc_type": "Loại văn bản"}
MODE_LABELS = {"hybrid": "Kết hợp (khuyên dùng)", "lexical": "Theo từ khóa", "dense": "Theo ý nghĩa"}
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*(?:\n[ \t\r\f\v]*)+\n")
EXAMPLES = (
    "tỷ lệ học sinh bỏ học THCS",
    "giao duc STEM",
    "STEM requirements 2020-2021",
    "Công văn 3089/GDTrH",
    "Khi nào tổ chức hội nghị giao ban?",
)


# -- text -> HTML ------------------------------------------------------------------------------------


def marked(text: str, spans: Iterable[Iterable[int]], css: str | None = None) -> Markup:
    """Passage text with each [start, end) span wrapped in <mark>; spans are clamped, sorted, de-overlapped.

    Offsets refer to the unmodified text: it is sliced first, then each slice is escaped and its runs of
    blank lines (table layouts leave many) are squeezed for display.
    """
    open_tag = Markup('<mark class="{}">').format(css) if css else Markup("<mark>")
    pieces: list[Markup] = []
    pos = 0
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        start, end = max(start, pos, 0), min(end, len(text))
        if end <= start:
            continue
        pieces += [_squeezed(text[pos:start]), open_tag, _squeezed(text[start:end]), Markup("</mark>")]
        pos = end
    pieces.append(_squeezed(text[pos:]))
    return Markup("").join(pieces)


def _squeezed(piece: str) -> Markup:
    return escape(_BLANK_LINES.sub("\n\n", piece))


def document_html(text: str, sections: list[Mapping], pages: list, passage: tuple[int, int] | None) -> Markup:
    """Full document text with outline anchors, page markers and the cited passage in <mark id="passage">."""
    inserts: dict[int, list[Markup]] = {}

    def add(offset: int, html: Markup) -> None:
        inserts.setdefault(max(0, min(int(offset), len(text))), []).append(html)

    if passage is not None:
        add(passage[1], Markup("</mark>"))  # a close comes before any anchor or open at the same offset
    for number, start, _end in pages:
        add(start, Markup('<span class="page-no" id="trang-{0}">Trang {0}</span>').format(int(number)))
    for i, section in enumerate(sections):
        add(section["start"], Markup('<span class="anchor" id="{}"></span>').format(section_anchor(i)))
    if passage is not None:
        add(passage[0], Markup('<mark id="passage" class="passage" tabindex="-1">'))
    pieces: list[Markup] = []
    pos = 0
    for offset in sorted(inserts):
        pieces.append(escape(text[pos:offset]))
        pieces.extend(inserts[offset])
        pos = offset
    pieces.append(escape(text[pos:]))
    return Markup("").join(pieces)


def passage_span(text: str, start: int | None, end: int | None) -> tuple[int, int] | None:
    """The [start, end) to highlight on a document page, or None when the URL offsets do not fit the text."""
    if start is None or end is None:
        return None
    start, end = max(0, start), min(len(text), end)
    return (start, end) if start < end else None


def section_anchor(index: int) -> str:
    return f"muc-{index + 1}"


# -- URLs -----------------------------------------------------------------------------------------


def search_url(state: Mapping[str, object], changes: Mapping[str, object] | None = None, **more: object) -> str:
    """The shareable URL of a search: `/?q=...&school_year=...`, with changes applied (None drops a key)."""
    merged = {k: state.get(k) for k in STATE_KEYS}
    merged.update(changes or {})
    merged.update(more)
    params = [(k, str(merged[k])) for k in STATE_KEYS if merged.get(k) and not (k == "mode" and merged[k] == "hybrid")]
    return "/?" + urlencode(params) if params else "/"


def document_url(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """Link to a document page; with offsets it opens scrolled to the passage, highlighted in place."""
    url = "/documents/" + quote(str(doc_id), safe="")
    if start is not None and end is not None:
        url += "?" + urlencode({"start": int(start), "end": int(end)}) + "#passage"
    return url


@cache
def _static_version(name: str) -> str:
    path = STATIC / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def static_url(name: str) -> str:
    """URL of a file in ui/static, versioned by content so browsers never keep a stale stylesheet."""
    return f"/static/{quote(name)}?v={_static_version(name)}"


def static_file(name: str) -> Path | None:
    """The path of a static asset by bare file name, or None (no sub-folders, so no path traversal)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = STATIC / name
    return path if path.is_file() else None


# -- formatting -----------------------------------------------------------------------------------


def format_date(iso: str | None) -> str:
    """'2020-09-07' -> '07/09/2020', the way dates are written in Vietnamese documents."""
    if not iso:
        return ""
    parts = iso.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else iso


def capitalize(value: str | None) -> str:
    return value[:1].upper() + value[1:] if value else ""


def document_line(doc: Mapping) -> list[str]:
    """Citation pieces: 'Phương hướng số 897/PH-GDĐT', issuer, date, school years."""
    head = capitalize(doc.get("doc_type")) or "Văn bản"
    if doc.get("number"):
        head += f" số {doc['number']}"
    pieces = [head]
    if doc.get("issuer"):
        pieces.append(doc["issuer"])
    if doc.get("date"):
        pieces.append("ngày " + format_date(doc["date"]))
    if doc.get("school_years"):
        pieces.append("năm học " + ", ".join(doc["school_years"]))
    return pieces


def scan_note(doc: Mapping) -> str:
    """'văn bản quét, độ tin cậy 94 %' for a document read by OCR ('' otherwise); names the pages
    when only some of them were scanned."""
    scanned = doc.get("scanned_pages") or []
    if not scanned or doc.get("ocr_confidence") is None:
        return ""
    confidence = f"độ tin cậy {doc['ocr_confidence']:.0f} %"
    if len(scanned) >= len(doc.get("pages") or []):
        return f"văn bản quét, {confidence}"
    pages = ", ".join(str(p["page"]) for p in scanned)
    return f"văn bản quét một phần (trang {pages}), {confidence}"


def document_title(doc: Mapping) -> str:
    return doc.get("title") or doc.get("number") or doc.get("source") or doc.get("id", "")


# -- environment ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment: autoescape on for .html, helpers exposed as globals and filters."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(search_url=search_url, document_url=document_url, static_url=static_url,
                       document_line=document_line, document_title=document_title, scan_note=scan_note,
                       filter_labels=FILTER_LABELS, mode_labels=MODE_LABELS)
    env.filters.update(marked=marked, vndate=format_date, capitalize_first=capitalize)
    return env


def _render(template: str, **context: object) -> str:
    context.setdefault("upload_enabled", False)
    context.setdefault("nav", "")
    return environment().get_template(template).render(**context)


# -- pages ----------------------------------------------------------------------------------------


def search_state(q: str = "", school_year: str | None = None, issuer: str | None = None,
                 doc_type: str | None = None, mode: str | None = None) -> dict[str, str]:
    """The search page's URL state as a plain dict (empty values dropped, mode defaults to hybrid)."""
    state = {"q": q.strip() if q else "", "mode": mode or "hybrid"}
    state.update({k: v for k, v in (("school_year", school_year), ("issuer", issuer), ("doc_type", doc_type)) if v})
    return state


def render_search(state: Mapping[str, str], search: Mapping | None = None, ask: Mapping | None = None,
                  error: str | None = None, upload_enabled: bool = False) -> str:
    """Home page (no query), results page (SearchResponse dict + optional AskResponse dict) or an error."""
    suggestions = _suggestions(state, search) if search is not None and not search.get("results") else {}
    active = [(k, state[k]) for k in FILTER_KEYS if state.get(k)]
    return _render("search.html", state=state, search=search, ask=ask, error=error, examples=EXAMPLES,
                   active_filters=active, suggestions=suggestions, upload_enabled=upload_enabled, nav="search")


def _suggestions(state: Mapping[str, str], search: Mapping) -> dict[str, str]:
    """Ways out of an empty result: the query with restored diacritics, and the query without them."""
    from indexer.normalize import fold

    q = state.get("q", "")
    out: dict[str, str] = {}
    restored = (search.get("analysis") or {}).get("restored")
    if restored and restored != q:
        out["restored"] = str(restored)
    folded = fold(q)
    if folded != q and folded.lower() != q.lower():
        out["folded"] = folded
    return out


def render_documents(listing: Mapping, upload_enabled: bool = False) -> str:
    """The table of indexed directives (a DocumentList dict)."""
    return _render("documents.html", listing=listing, upload_enabled=upload_enabled, nav="documents")


def render_document(detail: Mapping, start: int | None = None, end: int | None = None,
                    upload_enabled: bool = False) -> str:
    """One directive (a DocumentDetail dict): outline, metadata, full text with the cited passage marked."""
    text = detail.get("text", "")
    passage = passage_span(text, start, end)
    sections = list(detail.get("sections") or [])
    body = document_html(text, sections, list(detail.get("pages") or []), passage)
    at = passage[0] if passage else -1
    current = max((i for i, s in enumerate(sections) if s["start"] <= at < s["end"]), default=None)
    outline = [{"anchor": section_anchor(i), "current": i == current, **s} for i, s in enumerate(sections)]
    return _render("document.html", doc=detail, body=body, outline=outline, passage=passage,
                   upload_enabled=upload_enabled, nav="documents")


def render_upload(upload_enabled: bool, error: str | None = None, detail: str | None = None) -> str:
    """The upload form (many files or .zip archives at once), with the reason of a refused upload."""
    return _render("upload.html", upload_enabled=upload_enabled, error=error, detail=detail, nav="upload",
                   upload_accept=upload_accept())


def upload_accept() -> str:
    """The file input's accept list: every extension the loaders read (and .zip archives of them)."""
    return ",".join(sorted(SUPPORTED_EXTENSIONS | {".zip"}))


JOB_STATES = {"queued": "Đang chờ", "running": "Đang lập chỉ mục", "done": "Đã xong", "failed": "Thất bại",
              "interrupted": "Tạm dừng (máy chủ dừng; sẽ tiếp tục khi khởi động lại)"}
FILE_STATES = {"pending": "đang chờ", "placed": "đang lập chỉ mục", "indexed": "đã lập chỉ mục", "skipped": "bỏ qua"}


def format_seconds(seconds: float | None) -> str:
    """'about 2 minutes' in Vietnamese: 'khoảng 2 phút', 'khoảng 40 giây'."""
    if seconds is None:
        return "đang ước tính"
    if seconds < 60:
        return f"khoảng {max(1, round(seconds))} giây"
    return f"khoảng {round(seconds / 60)} phút"


def render_job(job: Mapping, upload_enabled: bool = False) -> str:
    """A JobStatus dict: progress, ETA, indexed files with links, skipped files with reasons."""
    return _render("job.html", job=job, states=JOB_STATES, file_states=FILE_STATES,
                   eta=format_seconds(job.get("eta_seconds")), running=job.get("state") in ("queued", "running"),
                   upload_enabled=upload_enabled, nav="upload")


def render_error(status: int, message: str, upload_enabled: bool = False, detail: str | None = None) -> str:
    """A friendly Vietnamese error page; `detail` is an escaped technical hint, never a stack trace."""
    return _render("error.html", status=status, message=message, detail=detail, upload_enabled=upload_enabled)
