"""Render tests for ui.pages: hand-made dicts shaped like the API models' model_dump(), no index needed."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

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
    rejected = {"ok": False, "filename": SCRIPT + ".exe", "message": SCRIPT}
    assert "<script>alert" not in pages.render_upload(True, result=rejected)


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
    assert 'enctype="multipart/form-data"' in form and 'name="token"' in form and 'accept=".pdf,.docx,.txt' in form
    ok = pages.render_upload(True, result={"ok": True, "filename": "a.docx", "message": "Đã lưu",
                                           "documents": [doc_info(id="x1")]})
    assert "Đã lập chỉ mục" in ok and 'href="/documents/x1"' in ok


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
    long = client.get("/", params={"q": "a" * 1200})
    assert long.status_code == 400 and "quá dài" in long.text and long.headers["content-type"].startswith("text/html")
    mode = client.get("/", params={"q": "STEM", "mode": "<script>"})
    assert mode.status_code == 400 and "<script>" not in mode.text
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
    files = {"file": ("virus.exe", b"MZ binary", "application/octet-stream")}
    wrong = client.post("/upload", data={"token": "sai"}, files=files)
    assert wrong.status_code == 403 and "Mã quản trị không đúng" in wrong.text
    rejected = client.post("/upload", data={"token": "jeton"}, files=files)
    assert rejected.status_code == 415 and "Loại tệp không được hỗ trợ" in rejected.text
    assert "Không nhận tệp" in rejected.text


def test_upload_is_hidden_without_an_admin_token(tmp_path) -> None:
    client = web_client(tmp_path, token=None)
    assert client.get("/upload").status_code == 404
    posted = client.post("/upload", data={"token": ""}, files={"file": ("a.txt", b"x", "text/plain")})
    assert posted.status_code == 404
    assert 'href="/upload"' not in client.get("/").text
