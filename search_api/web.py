"""HTML routes of the web search page: the same SearchService calls as the JSON API, rendered by ui.pages.

Routes only translate: they raise what the service raises, and the app's one error handler
(search_api.errors) hands every failure of a route tagged PAGE_TAG to `render_error_page` below, which
renders the same status as the API with a Vietnamese message: the search form with the message for a
bad query, the upload form for a refused upload, an error page otherwise.
"""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from indexer.errors import LoadError, TracuuError
from search_api.errors import PAGE_TAG, Forbidden, NotFound, Problem
from search_api.ingest import MAX_UPLOAD_BYTES, Incoming
from search_api.limits import body_limit
from search_api.routes import MAX_BATCH_REQUEST_BYTES, ServiceDep, SettingsDep, in_daemon_thread
from search_api.schemas import MAX_QUERY_CHARS, AskParams, SearchParams, SearchResponse
from search_api.service import SearchService
from ui import pages

# Pages load only their own CSS and JS; document text can never bring a script or a style with it.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

router = APIRouter(include_in_schema=False, tags=[PAGE_TAG])


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _uploads_on(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return bool(settings and settings.admin_token)


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
    except ValidationError as exc:  # the same 422 as the API's query validation, rendered by the one handler
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None
    search = service.search(params)
    ask = _ask(service, params, search) if search.analysis.get("is_question") and search.results else None
    return html(pages.render_search(state, search.model_dump(), ask, upload_enabled=upload))


def _ask(service: SearchService, params: SearchParams, search: SearchResponse) -> dict | None:
    """The answer box data for a question, also when there is no answer (the page then says so plainly);
    a failing answerer never takes the results page down."""
    try:
        answer = service.ask(AskParams(q=params.q, school_year=params.school_year, issuer=params.issuer,
                                       doc_type=params.doc_type), search)
    except TracuuError:
        return None
    return answer.model_dump()


# -- documents ----------------------------------------------------------------------------------


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, service: ServiceDep) -> HTMLResponse:
    listing = service.documents()
    return html(pages.render_documents(listing.model_dump(), upload_enabled=_uploads_on(request)))


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str, service: ServiceDep, start: str | None = None,
                  end: str | None = None) -> HTMLResponse:
    """One directive; `?start=&end=` (offsets in its text) marks the cited passage, `#passage` scrolls to it."""
    detail = service.document(doc_id)
    return html(pages.render_document(detail.model_dump(), _offset(start), _offset(end),
                                      upload_enabled=_uploads_on(request)))


def _offset(raw: str | None) -> int | None:
    """A URL offset; anything that is not a small whole number is ignored rather than an error."""
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 9:
        return None
    return int(raw)


# -- upload and job progress --------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request) -> HTMLResponse:
    if not _uploads_on(request):
        raise NotFound("uploads are turned off on this server (TRACUU_ADMIN_TOKEN is unset)")
    return html(pages.render_upload(True))


@router.post("/upload", response_class=HTMLResponse, openapi_extra=body_limit(MAX_BATCH_REQUEST_BYTES))
async def upload_submit(request: Request, service: ServiceDep, settings: SettingsDep,
                        token: Annotated[str, Form()] = "",
                        files: Annotated[list[UploadFile | str], File()] = []) -> Response:  # noqa: B006
    """The form's POST: check the admin token, start an ingestion job, and show its progress page."""
    if not settings.admin_token:
        raise NotFound("uploads are turned off on this server (TRACUU_ADMIN_TOKEN is unset)")
    if not secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        raise Forbidden("wrong admin token")
    # a form sent with no file chosen has one empty part, which arrives as a string
    parts = [Incoming(f.filename, f.file) for f in files if not isinstance(f, str) and f.filename]
    if not parts:
        raise LoadError("(no file)", "choose one or more files or a .zip archive")
    status = await in_daemon_thread(service.ingest.submit, parts)
    return RedirectResponse(f"/jobs/{status.id}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, service: ServiceDep) -> HTMLResponse:
    """A job's progress; while it runs, app.js polls /api/jobs/{id} and reloads the page when it ends."""
    status = service.ingest.job(job_id)
    return html(pages.render_job(status.model_dump(), upload_enabled=_uploads_on(request)))


# -- static files -------------------------------------------------------------------------------


@router.get("/static/{name}")
def static_asset(name: str) -> Response:
    path = pages.static_file(name)
    if path is None:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400", **SECURITY_HEADERS})


# -- the page side of the one error handler ------------------------------------------------------

_HEADLINES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần mã quản trị để thực hiện thao tác này.",
    403: "Không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy trang này.",
    405: "Thao tác này không được hỗ trợ trên trang này.",
    409: "Thao tác xung đột với dữ liệu hiện có.",
    413: "Tệp hoặc yêu cầu quá lớn.",
    415: "Loại tệp không được hỗ trợ.",
    422: "Dữ liệu gửi lên không hợp lệ.",
    503: "Dịch vụ tạm thời chưa sẵn sàng, vui lòng thử lại sau.",
}
_BY_CODE = {
    "stopping": "Máy chủ đang dừng; tệp đã được ghi nhận và sẽ được lập chỉ mục khi máy chủ khởi động lại.",
    "bad_file": "Không đọc được nội dung văn bản trong tệp (tệp rỗng, hỏng, có mật khẩu hoặc chỉ có ảnh).",
    "unsupported_type": "Loại tệp không được hỗ trợ. Hãy tải lên tệp PDF, DOCX, TXT hoặc một tệp .zip.",
    "too_large": f"Tệp quá lớn (tối đa {MAX_UPLOAD_BYTES // (1024 * 1024)} MB mỗi tệp).",
    "conflict": "Đã có tệp cùng tên trong kho văn bản. Hãy đổi tên tệp hoặc xóa văn bản cũ trước.",
    "forbidden": "Mã quản trị không đúng. Tệp chưa được tải lên.",
    "unauthorized": "Cần mã quản trị để thực hiện thao tác này.",
    "writes_disabled": "Chức năng tải lên chưa được bật.",
    "index_missing": "Chỉ mục chưa sẵn sàng, vui lòng thử lại sau ít phút.",
    "index_mismatch": "Chỉ mục được lập bằng mô hình khác; quản trị viên cần lập lại chỉ mục (tracuu index --rebuild).",
}
_NOT_FOUND = {"/documents/": "Không tìm thấy văn bản này.", "/jobs/": "Không tìm thấy lượt tải lên này."}


def page_message(problem: Problem, exc: Exception | None, path: str) -> str:
    """The Vietnamese sentence a page shows for a failure (the technical message goes in the detail)."""
    if problem.code == "bad_query":
        return problem.message  # query analysis already writes its messages in Vietnamese first
    if problem.code == "invalid_request" and path == "/" and isinstance(exc, RequestValidationError):
        return _params_message(exc)
    if problem.code == "not_found":
        return next((text for prefix, text in _NOT_FOUND.items() if path.startswith(prefix)), _HEADLINES[404])
    if problem.code == "bad_file" and path == "/upload" and isinstance(exc, LoadError) and exc.source == "(no file)":
        return "Hãy chọn ít nhất một tệp PDF, DOCX, TXT hoặc một tệp .zip để tải lên."
    return _BY_CODE.get(problem.code) or _HEADLINES.get(problem.status, "Đã có lỗi xảy ra.")


def _params_message(exc: RequestValidationError) -> str:
    """The first broken URL parameter of the search page, explained in Vietnamese."""
    error = exc.errors()[0]
    name = str(error.get("loc", ("", ""))[-1])
    if name == "q" and error.get("type") == "string_too_long":
        return f"Câu truy vấn quá dài: tối đa {MAX_QUERY_CHARS} ký tự. Hãy rút gọn và tìm lại."
    if name == "mode":
        return "Cách tìm không hợp lệ: chọn “hybrid”, “lexical” hoặc “dense”."
    if name in pages.FILTER_LABELS:
        return f"Giá trị bộ lọc “{pages.FILTER_LABELS[name]}” không hợp lệ (quá dài hoặc có ký tự điều khiển)."
    return "Yêu cầu tìm kiếm không hợp lệ. Hãy nhập lại từ khóa."


def render_error_page(request: Request, problem: Problem, exc: Exception | None) -> HTMLResponse:
    """`app.state.render_error`: the page for a failed page request, with the API's status."""
    path, upload = request.url.path, _uploads_on(request)
    message = page_message(problem, exc, path)
    if path == "/" and problem.status == 422:
        query = request.query_params
        state = pages.search_state(query.get("q", ""), query.get("school_year"), query.get("issuer"),
                                   query.get("doc_type"), query.get("mode"))
        return html(pages.render_search(state, error=message, upload_enabled=upload), problem.status)
    if path == "/upload":
        enabled = upload and problem.code != "not_found"
        return html(pages.render_upload(enabled, error=message, detail=problem.message), problem.status)
    return html(pages.render_error(problem.status, message, upload, detail=problem.message), problem.status)
