"""HTML routes of the web search page: the same SearchService calls as the JSON API, rendered by ui.pages.

Every failure a person can cause (empty or too long query, unknown document, bad upload) becomes a
Vietnamese message inside the page with a 4xx status, never a stack trace or a JSON body.
Routes are plain `def` like the API's, so searches and uploads run in the threadpool.
"""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError

from indexer.errors import BadQuery, IndexMismatch, IndexMissing, LoadError, TracuuError
from search_api import routes
from search_api.errors import Conflict, PayloadTooLarge, UnsupportedType, status_for
from search_api.routes import ServiceDep, SettingsDep
from search_api.schemas import MAX_QUERY_CHARS, AskParams, SearchParams, SearchResponse
from search_api.service import NotFound, SearchService
from ui import pages

# Pages load only their own CSS and JS; document text can never bring a script or a style with it.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

router = APIRouter(include_in_schema=False)


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _uploads_on(request: Request) -> bool:
    return bool(request.app.state.settings.admin_token)


# -- search -------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, service: ServiceDep, q: str = "", school_year: str | None = None,
                issuer: str | None = None, doc_type: str | None = None, mode: str | None = None) -> HTMLResponse:
    """Home page without a query; results (and an answer box for questions) with one."""
    state = pages.search_state(q, school_year, issuer, doc_type, mode)
    upload = _uploads_on(request)
    if not state["q"]:
        return html(pages.render_search(state, upload_enabled=upload))
    try:
        params = SearchParams(q=state["q"], mode=state["mode"], school_year=school_year or None,
                              issuer=issuer or None, doc_type=doc_type or None)
        search = service.search(params)
        ask = _ask(service, params, search) if search.analysis.get("is_question") and search.results else None
    except ValidationError as exc:
        return html(pages.render_search(state, error=_params_message(exc), upload_enabled=upload), 400)
    except BadQuery as exc:
        return html(pages.render_search(state, error=str(exc), upload_enabled=upload), 400)
    except (IndexMissing, IndexMismatch) as exc:
        return html(pages.render_error(503, "Chỉ mục chưa sẵn sàng, vui lòng thử lại sau ít phút.",
                                       upload, detail=str(exc)), 503)
    return html(pages.render_search(state, search.model_dump(), ask, upload_enabled=upload))


def _ask(service: SearchService, params: SearchParams, search: SearchResponse) -> dict | None:
    """The answer box data for a question; a failing answerer never takes the results page down."""
    try:
        answer = service.ask(AskParams(q=params.q, school_year=params.school_year, issuer=params.issuer,
                                       doc_type=params.doc_type), search)
    except TracuuError:
        return None
    return answer.model_dump() if answer.answer is not None else None


def _params_message(exc: ValidationError) -> str:
    """The first broken URL parameter, explained in Vietnamese."""
    error = exc.errors()[0]
    name = str(error.get("loc", ("",))[0])
    if name == "q" and error.get("type") == "string_too_long":
        return f"Câu truy vấn quá dài: tối đa {MAX_QUERY_CHARS} ký tự. Hãy rút gọn và tìm lại."
    if name == "mode":
        return "Cách tìm không hợp lệ: chọn “hybrid”, “lexical” hoặc “dense”."
    if name in pages.FILTER_LABELS:
        return f"Giá trị bộ lọc “{pages.FILTER_LABELS[name]}” không hợp lệ (quá dài)."
    return "Yêu cầu tìm kiếm không hợp lệ. Hãy nhập lại từ khóa."


# -- documents ----------------------------------------------------------------------------------


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, service: ServiceDep) -> HTMLResponse:
    try:
        listing = service.documents()
    except (IndexMissing, IndexMismatch) as exc:
        return html(pages.render_error(503, "Chỉ mục chưa sẵn sàng, vui lòng thử lại sau ít phút.",
                                       _uploads_on(request), detail=str(exc)), 503)
    return html(pages.render_documents(listing.model_dump(), upload_enabled=_uploads_on(request)))


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str, service: ServiceDep, start: str | None = None,
                  end: str | None = None) -> HTMLResponse:
    """One directive; `?start=&end=` (offsets in its text) marks the cited passage, `#passage` scrolls to it."""
    upload = _uploads_on(request)
    try:
        detail = service.document(doc_id)
    except NotFound:
        return html(pages.render_error(404, "Không tìm thấy văn bản này.", upload,
                                       detail="Văn bản có thể đã bị xóa khỏi chỉ mục; xem danh mục văn bản."), 404)
    except (IndexMissing, IndexMismatch) as exc:
        return html(pages.render_error(503, "Chỉ mục chưa sẵn sàng, vui lòng thử lại sau ít phút.",
                                       upload, detail=str(exc)), 503)
    return html(pages.render_document(detail.model_dump(), _offset(start), _offset(end), upload_enabled=upload))


def _offset(raw: str | None) -> int | None:
    """A URL offset; anything that is not a small whole number is ignored rather than an error."""
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 9:
        return None
    return int(raw)


# -- upload -------------------------------------------------------------------------------------

# What a rejected upload means, by error class (the detail keeps the core's own message).
_REJECTIONS: list[tuple[type[TracuuError], str]] = [
    (UnsupportedType, "Loại tệp không được hỗ trợ. Hãy tải lên tệp PDF, Word (DOC, DOCX, RTF), Excel (XLSX), HTML hoặc TXT."),
    (PayloadTooLarge, f"Tệp quá lớn (tối đa {routes.MAX_UPLOAD_BYTES // (1024 * 1024)} MB)."),
    (LoadError, "Không đọc được nội dung văn bản trong tệp (tệp rỗng, hỏng, có mật khẩu hoặc ảnh quét không nhận dạng được)."),
    (Conflict, "Đã có tệp cùng tên trong kho văn bản. Hãy đổi tên tệp hoặc xóa văn bản cũ trước."),
    (TracuuError, "Không lập chỉ mục được tệp này."),
]


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request) -> HTMLResponse:
    upload = _uploads_on(request)
    return html(pages.render_upload(upload), 200 if upload else 404)


@router.post("/upload", response_class=HTMLResponse, max_body_size=routes.MAX_UPLOAD_BYTES + 64 * 1024)
def upload_submit(request: Request, service: ServiceDep, settings: SettingsDep,
                  token: Annotated[str, Form()] = "",
                  file: Annotated[UploadFile | None, File()] = None) -> HTMLResponse:
    """The form's POST: check the admin token, then run the API's own upload (routes.upload_document)."""
    if not settings.admin_token:
        return html(pages.render_upload(False), 404)
    if not secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        return html(pages.render_upload(True, error="Mã quản trị không đúng. Tệp chưa được tải lên."), 403)
    if file is None or not file.filename:
        return html(pages.render_upload(True, error="Hãy chọn một tệp văn bản (PDF, DOC, DOCX, RTF, XLSX, HTML, TXT) để tải lên."), 400)
    name = file.filename
    try:
        done = routes.upload_document(file, service, settings)
    except TracuuError as exc:
        reason = next(text for cls, text in _REJECTIONS if isinstance(exc, cls))
        result = {"ok": False, "filename": name, "message": f"{reason} Chi tiết: {exc}"}
        return html(pages.render_upload(True, result=result), status_for(exc))
    result = {"ok": True, "filename": name, "documents": [done.document.model_dump()],
              "message": f"Đã lưu thành {done.file} và chia thành {done.chunks} đoạn.",
              "warnings": [w.message for w in done.index.warnings if w.source == done.file]}
    return html(pages.render_upload(True, result=result), 201)


# -- static files and error pages ---------------------------------------------------------------


@router.get("/static/{name}")
def static_asset(name: str) -> Response:
    path = pages.static_file(name)
    if path is None:
        return html(pages.render_error(404, "Không tìm thấy tệp này."), 404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400", **SECURITY_HEADERS})


_STATUS_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần mã quản trị để thực hiện thao tác này.",
    403: "Không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy trang này.",
    405: "Thao tác này không được hỗ trợ trên trang này.",
    413: "Tệp hoặc yêu cầu quá lớn.",
    422: "Dữ liệu gửi lên không hợp lệ.",
    503: "Dịch vụ tạm thời chưa sẵn sàng, vui lòng thử lại sau.",
}


def render_error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """For `app.state.render_error` (search_api.errors): errors outside /api as a Vietnamese page."""
    headline = _STATUS_MESSAGES.get(status, "Đã có lỗi xảy ra.")
    upload = bool(getattr(request.app.state, "settings", None) and request.app.state.settings.admin_token)
    return html(pages.render_error(status, headline, upload, detail=message), status)
