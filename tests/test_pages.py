"""Render tests for ui.pages: hand-made dicts shaped like the API models' model_dump(), no index needed."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from indexer.loaders import SUPPORTED_EXTENSIONS
from ui import pages

SCRIPT = "<script>alert(1)</script>"
TEXT = "Giảm tỉ lệ học sinh bỏ học THCS xuống dưới 0,6% trong năm học 2020-2021."


def doc_info(**over: object) -> dict:
    info = {"id": "d1", "source": "quan11-phuong-huong-thcs-2020-2021.txt",
            "title": "PHƯƠNG HƯỚNG NHIỆM VỤ CẤP TRUNG HỌC CƠ SỞ", "number": "897/PH-GDĐT",
            "issuer": "Phòng Giáo dục và Đào tạo Quận 11", "date": "2020-09-07", "doc_type": "phương hướng",
            "school_years": ["2020-2021"], "level": "THCS", "place": "Quận 11"}
    info.update(over)
    return info


def result(text: str = TEXT, highlights: list | None = None, **over: object) -> dict:
    item = {"rank": 1, "score": 0.8, "chunk_id": "c1", "text": text,
            "highlights": highlights if highlights is not None else [(5, 26)],
            "section": "II. NHIỆM VỤ › 5.", "start": 1200, "end": 1200 + len(text), "page": None,
            "kind": "text", "document": doc_info(), "also_in": []}
    item.update(over)
    return item


def response(results: list[dict], q: str = "tỉ lệ học sinh bỏ học", **over: object) -> dict:
    body = {"query": q, "took_ms": 12.0, "mode": "hybrid", "filters": {},
            "analysis": {"normalized": q, "restored": None, "is_question": False},
            "facets": {"school_year": [{"value": "2020-2021", "count": 7}, {"value": "2024-2025", "count": 2}],
                       "issuer": [{"value": "Phòng Giáo dục và Đào tạo Quận 11", "count": 6}],
                       "doc_type": [{"value": "phương hướng", "count": 6}]},
            "results": results}
    body.update(over)
    return body


class Marks(HTMLParser):
    """Collects the text inside every <mark> and every href, the way a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[str] = []
        self.hrefs: list[str] = []
        self.depth = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag == "mark":
            self.depth += 1
            self.marks.append("")
        href = dict(attrs).get("href")
        if href:
            self.hrefs.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.marks[-1] += data


def parse(html: str) -> Marks:
    parser = Marks()
    parser.feed(html)
    return parser


# -- highlight slicing -----------------------------------------------------------------------------


def test_marked_slices_vietnamese_text_at_offsets() -> None:
    html = str(pages.marked(TEXT, [(11, 26), (5, 10)]))
    assert parse(html).marks == ["tỉ lệ", "học sinh bỏ học"]
    assert re.sub(r"</?mark>", "", html) == TEXT


def test_marked_sorts_clamps_and_drops_overlaps() -> None:
    html = str(pages.marked("Năm học 2020-2021", [(8, 17), (0, 3), (1, 5), (15, 99), (-4, 0)]))
    assert parse(html).marks == ["Năm", " h", "2020-2021"]
    assert re.sub(r"</?mark>", "", html) == "Năm học 2020-2021"


def test_marked_squeezes_blank_lines_but_keeps_offsets() -> None:
    text = "STT\n\n\n\t\nTỷ lệ %\n\n\n\n2020-2021"
    html = str(pages.marked(text, [(text.index("Tỷ"), text.index("Tỷ") + 5)]))
    assert html == "STT\n\nTỷ lệ %\n\n2020-2021".replace("Tỷ lệ", "<mark>Tỷ lệ</mark>")


def test_marked_escapes_each_piece() -> None:
    text = f"trước {SCRIPT} sau & <b>"
    html = str(pages.marked(text, [(6, 14)]))
    assert "<script>" not in html and "<b>" not in html
    assert parse(html).marks == ["<script>"]
    assert "&lt;/script&gt; sau &amp; &lt;b&gt;" in html


def test_result_highlights_render_as_marks() -> None:
    html = pages.render_search(pages.search_state("tỉ lệ học sinh bỏ học"), response([result()]))
    assert "học sinh bỏ học" in "".join(parse(html).marks)
    assert "tỉ lệ học sinh bỏ học" in parse(html).marks


# -- escaping --------------------------------------------------------------------------------------


def test_script_in_query_title_and_text_renders_as_text() -> None:
    evil = result(text=f"Nội dung {SCRIPT} cuối", highlights=[(9, 17)],
                  document=doc_info(title=SCRIPT, issuer=SCRIPT, number="<b>1</b>"), section=SCRIPT)
    html = pages.render_search(pages.search_state(SCRIPT), response([evil], q=SCRIPT))
    assert "<script>alert" not in html
    assert "<b>1</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_document_page_escapes_text_and_metadata() -> None:
    text = f"Tiêu đề\n{SCRIPT}\nĐoạn <img src=x onerror=alert(1)> cuối"
    detail = {**doc_info(title=SCRIPT), "text": text, "references": [SCRIPT],
              "sections": [{"label": SCRIPT, "path": [SCRIPT], "level": 1, "start": 8, "end": len(text)}],
              "pages": []}
    html = pages.render_document(detail, start=8, end=33)
    assert "<script>alert" not in html and "<img" not in html
    assert parse(html).marks == [SCRIPT]


def test_error_and_upload_pages_escape() -> None:
    assert "<script>alert" not in pages.render_error(400, SCRIPT, detail=SCRIPT)
    assert "<script>alert" not in pages.render_upload(True, error=SCRIPT, detail=SCRIPT)
    job = job_status(files=[{"name": SCRIPT + ".zip/" + SCRIPT, "target": None, "state": "skipped",
                             "reason": SCRIPT, "document_id": None}],
                     skipped=[{"source": SCRIPT + ".zip/" + SCRIPT, "reason": SCRIPT}], message=SCRIPT)
    assert "<script>alert" not in pages.render_job(job)


# -- answer box ------------------------------------------------------------------------------------


def test_answer_box_marks_the_span_and_cites() -> None:
    row = "Học sinh bỏ học › Học sinh THCS: 2019-2020: 0,43 %; 2020-2021: 0,6 %"
    cells = "Học sinh bỏ học:\nHọc sinh THCS\n0,43 %\n0,6 %"
    passage = result(text=cells, highlights=[(0, 15)], kind="table_row", display=row,
                     display_highlights=[(0, 15)])
    span = (cells.index("0,6 %"), cells.index("0,6 %") + 5)
    shown = (row.index("0,6 %"), row.index("0,6 %") + 5)
    ask = {"question": "Tỷ lệ học sinh THCS bỏ học năm học 2020-2021 là bao nhiêu?", "took_ms": 20.0,
           "answer": {"text": "0,6 %", "span": span, "display_span": shown, "passage": passage},
           "confidence": 0.9, "citations": [passage]}
    state = pages.search_state(ask["question"])
    html = pages.render_search(state, response([passage], q=ask["question"]), ask)
    assert 'class="answer"' in html
    box = html[html.index('class="answer"'):html.index("</section>")]
    assert '<mark class="answer-span">0,6 %</mark>' in box
    assert "2019-2020: 0,43 %" in box                   # the row is shown with its column headers
    assert "897/PH-GDĐT" in box
    assert "/documents/d1?start=1200&amp;end=" in box and "#passage" in box
    results = html[html.index('class="results"'):]
    assert "2020-2021: 0,6 %" in results and "<mark>Học sinh bỏ học</mark>" in results


def test_a_text_passage_is_shown_as_its_text_with_its_highlights() -> None:
    html = pages.render_search(pages.search_state("bỏ học"), response([result(highlights=[(20, 26)])]))
    results = html[html.index('class="results"'):]
    assert "<mark>bỏ học</mark>" in results and TEXT[:10] in results


def test_no_answer_box_without_answer() -> None:
    ask = {"question": "q?", "took_ms": 1.0, "answer": None, "confidence": 0.0, "citations": []}
    html = pages.render_search(pages.search_state("q?"), response([result()]), ask)
    assert 'class="answer"' not in html


NO_ANSWER = "Không tìm thấy câu trả lời trực tiếp trong văn bản — xem các đoạn liên quan bên dưới."


def test_a_question_without_an_answer_says_so_and_keeps_the_passages() -> None:
    passage = result()
    ask = {"question": "Huyện có bao nhiêu giáo viên?", "took_ms": 1.0, "answer": None, "confidence": 0.4,
           "citations": [passage]}
    html = pages.render_search(pages.search_state(ask["question"]), response([passage], q=ask["question"]), ask)
    assert NO_ANSWER in html and 'class="answer"' not in html
    assert html.index(NO_ANSWER) < html.index('class="results"') and "xuống dưới 0,6%" in html
    # a search that is not a question asks nothing, so it claims nothing about answers
    assert NO_ANSWER not in pages.render_search(pages.search_state("bỏ học"), response([passage]))


LIST = ("* Thành lập cụm chuyên môn:\n+ Cụm 1: Phú Lâm, Hòa Bình <b>.\n+ Cụm 2: Đống Đa, Ba Đình.")


def test_a_list_answer_is_a_list_whose_items_link_their_place_in_the_document() -> None:
    passage = result(text=LIST, highlights=[], start=500, end=500 + len(LIST))
    spans = [(LIST.index("Cụm 1"), LIST.index(" <b>.") + 4), (LIST.index("Cụm 2"), len(LIST) - 1)]
    items = [{"text": LIST[s:e], "span": (s, e), "display_span": None, "citation": 1, "chunk_id": "c1"}
             for s, e in spans]
    ask = {"question": "Các cụm chuyên môn gồm những trường nào?", "took_ms": 3.0, "confidence": 0.9,
           "answer": {"text": LIST[spans[0][0]:spans[1][1]], "span": (spans[0][0], spans[1][1]),
                      "display_span": None, "passage": passage, "items": items},
           "citations": [passage]}
    html = pages.render_search(pages.search_state(ask["question"]), response([passage], q=ask["question"]), ask)
    box = html[html.index('class="answer"'):html.index("</section>")]
    listed = box[box.index('<ul class="answer-items">'):box.index("</ul>")]
    assert listed.count("<li>") == 2 and "Thành lập cụm" not in listed
    assert "Cụm 1: Phú Lâm, Hòa Bình &lt;b&gt;" in listed and "<b>" not in box
    links = [h for h in parse(listed).hrefs]
    assert links == [f"/documents/d1?start={500 + s}&end={500 + e}#passage" for s, e in spans]
    assert box.count('<mark class="answer-span">') == 2      # both items marked in the passage shown
    assert NO_ANSWER not in html


# -- no results, filters ------------------------------------------------------------------------------


def test_no_results_suggests_dropping_filters_and_diacritics() -> None:
    state = pages.search_state("ty le hoc sinh bo hoc", school_year="2024-2025")
    search = response([], q=state["q"], analysis={"restored": "tỷ lệ học sinh bỏ học", "is_question": False})
    html = pages.render_search(state, search)
    assert "Không tìm thấy đoạn văn bản phù hợp" in html
    hrefs = parse(html).hrefs
    assert "/?q=ty+le+hoc+sinh+bo+hoc" in hrefs  # the same search without the filter
    restored = [h for h in hrefs if parse_qs(urlsplit(h).query).get("q") == ["tỷ lệ học sinh bỏ học"]]
    assert restored and "tỷ lệ học sinh bỏ học" in html


def test_no_results_offers_the_query_without_diacritics() -> None:
    state = pages.search_state("Tỷ lệ bỏ học")
    html = pages.render_search(state, response([], q=state["q"]))
    assert any(parse_qs(urlsplit(h).query).get("q") == ["ty le bo hoc"] for h in parse(html).hrefs)


def test_active_filter_chip_links_to_the_same_search_without_it() -> None:
    state = pages.search_state("STEM", school_year="2020-2021", doc_type="phương hướng", mode="lexical")
    html = pages.render_search(state, response([result()], q="STEM"))
    chips = re.findall(r'<a class="chip" href="([^"]+)"', html)
    assert len(chips) == 2
    queries = [parse_qs(urlsplit(h.replace("&amp;", "&")).query) for h in chips]
    assert {"q": ["STEM"], "doc_type": ["phương hướng"], "mode": ["lexical"]} in queries
    assert {"q": ["STEM"], "school_year": ["2020-2021"], "mode": ["lexical"]} in queries
    # the form keeps active filters, so a new query stays inside them
    assert '<input type="hidden" name="school_year" value="2020-2021">' in html


def test_facet_links_add_a_filter_with_counts() -> None:
    html = pages.render_search(pages.search_state("STEM"), response([result()], q="STEM"))
    assert 'href="/?q=STEM&amp;school_year=2024-2025"' in html
    assert re.search(r"2024-2025</span> <span class=\"n\">2<", html)


def test_search_url_round_trip() -> None:
    state = pages.search_state("giáo dục STEM", issuer="Phòng GD&ĐT", mode="hybrid")
    url = pages.search_url(state)
    assert parse_qs(urlsplit(url).query) == {"q": ["giáo dục STEM"], "issuer": ["Phòng GD&ĐT"]}
    assert pages.search_url({}) == "/"


# -- pages -----------------------------------------------------------------------------------------


def test_home_page_has_labelled_search_box_and_examples() -> None:
    html = pages.render_search(pages.search_state())
    assert '<html lang="vi">' in html
    assert '<label for="q"' in html and 'placeholder="Tìm trong văn bản chỉ đạo…"' in html
    assert "<header" in html and "<main" in html and "<nav" in html
    assert len([h for h in parse(html).hrefs if h.startswith("/?q=")]) == len(pages.EXAMPLES)
    assert 'href="/upload"' not in html
    assert 'href="/upload"' in pages.render_search(pages.search_state(), upload_enabled=True)


def test_result_count_is_live_and_view_link_targets_passage() -> None:
    html = pages.render_search(pages.search_state("bỏ học"), response([result()], q="bỏ học"))
    assert 'aria-live="polite"' in html
    end = 1200 + len(TEXT)
    assert f'href="/documents/d1?start=1200&amp;end={end}#passage"' in html
    assert "Xem văn bản" in html


def test_also_in_lists_other_documents() -> None:
    other = {"chunk_id": "c9", "start": 50, "end": 90, "document": doc_info(id="d2", number="1234/KH-GDĐT")}
    html = pages.render_search(pages.search_state("bỏ học"), response([result(also_in=[other])], q="bỏ học"))
    assert "Cũng có trong" in html and 'href="/documents/d2?start=50&amp;end=90#passage"' in html


def test_document_page_outline_pages_and_passage() -> None:
    text = "I. PHƯƠNG HƯỚNG\nNội dung một.\nII. NHIỆM VỤ\nNội dung hai về bỏ học."
    second = text.index("II.")
    detail = {**doc_info(), "text": text, "references": ["3089/GDTrH"],
              "sections": [{"label": "I. PHƯƠNG HƯỚNG", "path": ["I. PHƯƠNG HƯỚNG"], "level": 1, "start": 0,
                            "end": second},
                           {"label": "II. NHIỆM VỤ", "path": ["II. NHIỆM VỤ"], "level": 1, "start": second,
                            "end": len(text)}],
              "pages": [(1, 0, second), (2, second, len(text))]}
    start = text.index("Nội dung hai")
    html = pages.render_document(detail, start=start, end=len(text))
    assert 'href="#muc-2"' in html and 'id="muc-2"' in html
    assert 'id="trang-2">Trang 2<' in html
    assert parse(html).marks == ["Nội dung hai về bỏ học."]
    assert '<mark id="passage"' in html
    assert 'href="#muc-2" class="current" aria-current="location"' in html
    # text outside the marks is intact once tags are removed
    body = html[html.index('class="doc-text"'):]
    body = re.sub(r"<span class=\"page-no\"[^>]*>Trang \d</span>", "", body)
    assert text in re.sub(r"<[^>]+>", "", body.split(">", 1)[1])


def test_document_page_ignores_offsets_outside_the_text() -> None:
    detail = {**doc_info(), "text": "ngắn", "sections": [], "pages": [], "references": []}
    assert "<mark" not in pages.render_document(detail, start=50, end=90)
    assert "<mark" not in pages.render_document(detail, start=3, end=2)


def test_documents_table_lists_metadata() -> None:
    listing = {"count": 1, "documents": [doc_info()]}
    html = pages.render_documents(listing)
    for text in ("897/PH-GDĐT", "Phương hướng", "Phòng Giáo dục và Đào tạo Quận 11", "07/09/2020", "2020-2021"):
        assert text in html
    assert 'href="/documents/d1"' in html


def test_upload_page_states() -> None:
    assert "<form" not in pages.render_upload(False)
    form = pages.render_upload(True)
    assert 'enctype="multipart/form-data"' in form and 'name="token"' in form
    accept = re.search(r'accept="([^"]*)"', form).group(1).split(",")
    assert set(accept) == SUPPORTED_EXTENSIONS | {".zip"}     # the page offers every format the loaders read
    assert 'name="files"' in form and " multiple " in form and ".zip" in form
    refused = pages.render_upload(True, error="Mã quản trị không đúng.", detail="wrong admin token")
    assert "Mã quản trị không đúng." in refused and "Chi tiết: wrong admin token" in refused


def job_status(**over: object) -> dict:
    job = {"id": "j1", "state": "done", "created_at": "2026-11-22T10:00:00+00:00",
           "updated_at": "2026-11-22T10:01:00+00:00", "total": 2, "done": 2, "indexed": 1,
           "skipped": [{"source": "ho-so.zip/a.exe", "reason": "unsupported file type .exe"}],
           "eta_seconds": 0.0, "commits": 1, "message": None,
           "files": [{"name": "ho-so.zip/ke-hoach.docx", "target": "uploads/ho-so/ke-hoach.docx", "state": "indexed",
                      "reason": None, "document_id": "x1"},
                     {"name": "ho-so.zip/a.exe", "target": None, "state": "skipped",
                      "reason": "unsupported file type .exe", "document_id": None}]}
    job.update(over)
    return job


def test_job_page_states() -> None:
    done = pages.render_job(job_status())
    assert "Đã xong" in done and 'href="/documents/x1"' in done and "unsupported file type .exe" in done
    assert "data-poll" not in done  # a finished job is not polled
    running = pages.render_job(job_status(state="running", done=1, indexed=0, eta_seconds=75.0))
    assert 'data-poll="/api/jobs/j1"' in running and "khoảng 1 phút" in running
    assert '<progress id="job-progress" max="2" value="1">' in running
    assert "đang ước tính" in pages.render_job(job_status(state="queued", done=0, eta_seconds=None))
    warned = pages.render_job(job_status(warnings=[{"source": "ho-so.zip/quet.pdf",
                                                    "message": "page 2: blank page (nothing to read)"}]))
    assert "Cảnh báo (1)" in warned and "page 2: blank page (nothing to read)" in warned
    assert "Cảnh báo" not in done


def test_document_page_says_when_it_was_scanned() -> None:
    pages_of = [(1, 0, 10), (2, 12, 20)]
    base = {**doc_info(), "text": "Trang một.\n\nTrang hai", "sections": [], "pages": pages_of, "references": []}
    assert "văn bản quét" not in pages.render_document(base)
    whole = {**base, "scanned_pages": [{"page": 1, "confidence": 93.6}, {"page": 2, "confidence": 94.4}],
             "ocr_confidence": 94.0}
    html = pages.render_document(whole)
    assert "<dd title=\"trang 1: 94 %; trang 2: 94 %\">văn bản quét, độ tin cậy 94 %</dd>" in html
    part = {**base, "scanned_pages": [{"page": 2, "confidence": 88.4}], "ocr_confidence": 88.4}
    assert "văn bản quét một phần (trang 2), độ tin cậy 88 %" in pages.render_document(part)


def test_static_file_refuses_paths() -> None:
    assert pages.static_file("style.css") is not None
    for name in ("../pages.py", ".hidden", "", "a/b.css", "missing.css"):
        assert pages.static_file(name) is None


# -- HTML routes that need no index (search_api.web), through the real app ----------------------------


def web_client(tmp_path, token: str | None = "jeton"):
    from fastapi.testclient import TestClient

    from search_api.app import create_app
    from search_api.config import Settings

    settings = Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus", admin_token=token)
    return TestClient(create_app(settings))  # no `with`: the lifespan (index build) does not run


def test_routes_reject_bad_input_with_a_vietnamese_page(tmp_path) -> None:
    client = web_client(tmp_path)
    long = client.get("/", params={"q": "a" * 1200})  # the API's status for bad input, the page's own words
    assert long.status_code == 422 and "quá dài" in long.text and long.headers["content-type"].startswith("text/html")
    assert '<form class="search-form"' in long.text  # the search form stays, with the message under it
    mode = client.get("/", params={"q": "STEM", "mode": "<script>"})
    assert mode.status_code == 422 and "<script>" not in mode.text and "Cách tìm không hợp lệ" in mode.text
    nul = client.get("/", params={"q": "STEM", "issuer": "Phòng\x00"})
    assert nul.status_code == 422 and "Cơ quan ban hành" in nul.text
    api = client.get("/api/search", params={"q": "a" * 1200})
    assert api.status_code == long.status_code and api.json()["error"]["code"] == "invalid_request"
    home = client.get("/")
    assert home.status_code == 200 and "default-src 'self'" in home.headers["content-security-policy"]
    missing = client.get("/documents/abc")
    assert missing.status_code == 503 and "Chỉ mục chưa sẵn sàng" in missing.text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/..%2Fpages.py").status_code == 404
    lost = client.get("/khong-co-trang-nay", headers={"Accept": "text/html"})
    assert lost.status_code == 404 and "Không tìm thấy trang này" in lost.text


def test_upload_route_checks_the_token_and_the_file_type(tmp_path) -> None:
    client = web_client(tmp_path)
    files = {"files": ("virus.exe", b"MZ binary", "application/octet-stream")}
    wrong = client.post("/upload", data={"token": "sai"}, files=files)
    assert wrong.status_code == 403 and "Mã quản trị không đúng" in wrong.text and '<form class="upload-form"' in wrong.text
    assert client.post("/api/jobs", files=files, headers={"Authorization": "Bearer sai"}).status_code == 403
    rejected = client.post("/upload", data={"token": "jeton"}, files=files, follow_redirects=False)
    assert rejected.status_code == 303 and rejected.headers["location"].startswith("/jobs/")
    report = client.get(rejected.headers["location"])  # nothing to index: the job is done at once
    assert report.status_code == 200 and "Đã xong" in report.text
    assert "virus.exe" in report.text and "unsupported file type .exe" in report.text
    empty = client.post("/upload", data={"token": "jeton"}, files={"files": ("", b"", "application/octet-stream")})
    assert empty.status_code == 422 and "Hãy chọn ít nhất một tệp" in empty.text
    assert client.get("/jobs/khong-co").status_code == 404


def test_upload_is_hidden_without_an_admin_token(tmp_path) -> None:
    client = web_client(tmp_path, token=None)
    assert client.get("/upload").status_code == 404
    posted = client.post("/upload", data={"token": ""}, files={"files": ("a.txt", b"x", "text/plain")})
    assert posted.status_code == 404
    assert 'href="/upload"' not in client.get("/").text
