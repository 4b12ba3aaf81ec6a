"""The web page in a real browser (Debian's Chromium via Playwright) against the live test server.

Screenshots of the results page, the answer box and a document page go to test-artifacts/ so a person
can look at them; uploads use unique names so the tests can run in any order within a session.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import ADMIN_TOKEN, REPO
from tests.docfactory import make_docx

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
QUESTION = "Tỷ lệ học sinh THCS bỏ học năm học 2020-2021 là bao nhiêu?"
LIST_QUESTION = "Sở phối hợp với Vụ GDTrH tập huấn cho hiệu trưởng những nội dung gì?"
UNANSWERABLE = "Giá vé máy bay từ Hà Nội đi Đà Nẵng tháng này là bao nhiêu?"   # out of domain
SIGNER_QUESTION = "Ai ký thông báo kết luận hội nghị của Sở GD&ĐT Sơn La?"   # the directive's own fact


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, server: str) -> Iterator[object]:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900}, locale="vi-VN")
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.dialogs = []  # every JS dialog that fires; escaped document text must never open one
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()


def search(page, query: str) -> None:
    """Type the query into the box and submit with Enter, like a person would."""
    page.goto("/")
    page.get_by_label("Nội dung cần tìm").fill(query)
    page.keyboard.press("Enter")
    page.wait_for_selector("#result-count")


def top_sources(page, top: int = 3) -> list[str]:
    """Corpus files of the first results, and of the documents they say also carry the passage."""
    return page.eval_on_selector_all(
        ".result", f"els => els.slice(0, {top}).flatMap(e => [e, ...e.querySelectorAll('[data-source]')])"
                   ".map(e => e.dataset.source)")


def shot(page, name: str, **options: object) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), **options)
    return path


# -- searching -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["tỷ lệ học sinh bỏ học", "ty le hoc sinh bo hoc", "dropout rate lower secondary school"])
def test_search_finds_the_quan_11_directive(page, query: str) -> None:
    search(page, query)
    assert parse_qs(urlsplit(page.url).query)["q"] == [query]  # the search lives in a shareable URL
    assert page.locator(".result").count() > 0
    assert any(source.startswith("quan11-") for source in top_sources(page)), top_sources(page)
    assert page.locator(".result mark").count() > 0 or query.startswith("dropout")
    if query == "tỷ lệ học sinh bỏ học":
        shot(page, "results.png", full_page=True)


def test_school_year_filter_applies_and_is_removable(page) -> None:
    search(page, "giáo dục STEM")
    facet = page.locator(".facet-list").first.locator("a.facet").filter(has_text="2020-2021")
    facet.first.click()
    page.wait_for_selector(".chip")
    assert parse_qs(urlsplit(page.url).query)["school_year"] == ["2020-2021"]
    years = page.locator(".result .meta").all_inner_texts()
    assert years and all("2020-2021" in text for text in years)
    page.locator(".chip").first.click()
    page.wait_for_selector("#result-count")
    assert "school_year" not in parse_qs(urlsplit(page.url).query)
    assert page.locator(".chip").count() == 0


def test_view_document_highlights_the_passage_in_view(page) -> None:
    search(page, "tỷ lệ học sinh bỏ học")
    page.locator(".result a.view").first.click()
    passage = page.locator("mark#passage")
    passage.wait_for()
    assert urlsplit(page.url).fragment == "passage"
    assert passage.inner_text().strip()
    page.wait_for_function("() => { const r = document.getElementById('passage').getBoundingClientRect();"
                           " return r.top >= 0 && r.top < window.innerHeight; }")
    shot(page, "document.png")


def test_question_shows_the_answer_box(page) -> None:
    page.goto("/?q=" + quote(QUESTION))
    box = page.locator("section.answer")
    box.wait_for()
    assert box.locator("mark.answer-span").count() == 1
    assert box.locator("a.view").count() == 1
    assert "Quận 11" in box.inner_text() or "897" in box.inner_text()
    box.scroll_into_view_if_needed()
    shot(page, "answer.png")
    box.screenshot(path=str(ARTIFACTS / "answer-box.png"))


def test_who_signed_a_directive_is_answered_from_its_signature_block(page) -> None:
    page.goto("/?q=" + quote(SIGNER_QUESTION))
    box = page.locator("section.answer")
    box.wait_for()
    assert box.locator(".answer-text").inner_text().strip() == "Nguyễn Huy Hoàng"
    assert box.locator("mark.answer-span").inner_text().strip() == "Nguyễn Huy Hoàng"
    assert "GIÁM ĐỐC" in box.locator("blockquote.passage").inner_text()      # the signature block it is read from
    assert "Kết luận Hội nghị" in box.locator("p.cite a.title").inner_text()  # and the directive it closes
    box.scroll_into_view_if_needed()
    shot(page, "answer-signer.png")


def test_list_question_shows_the_items_as_a_list_with_citation_links(page) -> None:
    page.goto("/?q=" + quote(LIST_QUESTION))
    box = page.locator("section.answer")
    box.wait_for()
    items = box.locator("ul.answer-items > li")
    assert items.count() >= 2
    texts = items.all_inner_texts()
    assert any("kế hoạch giáo dục nhà trường" in t for t in texts) and any("STEM" in t for t in texts), texts
    assert not any("(1)" in t or "(2)" in t for t in texts)   # the items, not the numbered run they sit in
    links = box.locator("ul.answer-items a.item-cite")
    assert links.count() == items.count()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert all(h.startswith("/documents/") and h.endswith("#passage") for h in hrefs), hrefs
    box.scroll_into_view_if_needed()
    shot(page, "answer-list.png")
    box.screenshot(path=str(ARTIFACTS / "answer-list-box.png"))
    first = items.first.locator(".item-text").inner_text().strip()
    links.first.click()                                   # the citation opens the document at that item
    passage = page.locator("mark#passage")
    passage.wait_for()
    assert " ".join(passage.inner_text().split()) == " ".join(first.split())


def test_unanswerable_question_says_so_and_still_shows_passages(page) -> None:
    page.goto("/?q=" + quote(UNANSWERABLE))
    page.wait_for_selector("#result-count")
    notice = page.locator("section.no-answer")
    assert notice.inner_text().strip() == ("Không tìm thấy câu trả lời trực tiếp trong văn bản — "
                                           "xem các đoạn liên quan bên dưới.")
    assert page.locator("section.answer").count() == 0     # no green box for a guess
    assert page.locator(".result").count() > 0            # the passages are still there to read
    shot(page, "no-answer.png")


def test_bad_query_is_a_friendly_422(page) -> None:
    response = page.goto("/?q=" + "a" * 1200)
    assert response.status == 422  # the API's status for the same input, with the page's own words
    assert "quá dài" in page.locator("[role=alert]").inner_text()
    assert page.get_by_label("Nội dung cần tìm").count() == 1  # the search form stays to fix the query
    response = page.goto("/documents/khong-co")
    assert response.status == 404 and "Không tìm thấy" in page.inner_text("main")


def test_keyboard_slash_focuses_the_search_box(page) -> None:
    page.goto("/?q=STEM")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_page_fits_a_phone_screen(browser, server: str) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740}, device_scale_factor=2)
    phone = context.new_page()
    try:
        for url in ("/", "/?q=" + quote("tỷ lệ học sinh bỏ học"), "/?q=" + quote(QUESTION), "/documents"):
            phone.goto(url)
            overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
        phone.goto("/?q=" + quote("tỷ lệ học sinh bỏ học"))
        phone.locator(".result a.view").first.click()
        phone.locator("mark#passage").wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        phone.goto("/?q=" + quote(QUESTION))
        shot(phone, "results-375px.png")
    finally:
        context.close()


def test_works_without_javascript(browser, server: str) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    tab = context.new_page()
    try:
        tab.goto("/")
        tab.get_by_label("Nội dung cần tìm").fill("giao duc STEM")
        tab.get_by_role("button", name="Tìm").click()
        tab.wait_for_selector(".result")
        tab.locator(".result a.view").first.click()
        tab.locator("mark#passage").wait_for()
    finally:
        context.close()


# -- uploads (last: they add documents to the shared index) ------------------------------------------


def upload(page, *paths: Path, token: str = ADMIN_TOKEN):
    """Upload through the form; the job page follows the job (its JS polls) until it ends."""
    page.goto("/")
    page.get_by_role("link", name="Tải lên").click()
    page.get_by_label("Tệp văn bản").set_input_files([str(p) for p in paths])
    page.get_by_label("Mã quản trị").fill(token)
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và lập chỉ mục").click()
    if page.locator("[data-job]").count():
        page.wait_for_selector("[data-job][data-state=done], [data-job][data-state=failed]", timeout=300_000)
        return page.locator("[data-job]")
    return page.locator(".upload-result, [role=alert]").first


def test_upload_with_a_wrong_token_is_refused(page, tmp_path: Path) -> None:
    path = tmp_path / f"sai-ma-{uuid.uuid4().hex[:8]}.txt"
    path.write_text("Kế hoạch thử nghiệm.\n", encoding="utf-8")
    outcome = upload(page, path, token="sai")
    assert page.locator("[data-job]").count() == 0
    assert "Mã quản trị không đúng" in outcome.inner_text()


def test_uploaded_script_renders_inert(page, tmp_path: Path) -> None:
    word = f"kiemtra{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"van-ban-doc-{word}.txt"
    path.write_text(f"KẾ HOẠCH THỬ NGHIỆM\nNăm học 2020-2021\n\nĐoạn có mã độc <script>alert(1)</script> "
                    f"và từ khóa {word} để tìm lại.\n<img src=x onerror=alert(2)>\n", encoding="utf-8")
    outcome = upload(page, path)
    assert "Đã xong" in outcome.inner_text(), outcome.inner_text()
    page.locator(".job-files a").first.click()
    page.wait_for_selector(".doc-text")
    shown = page.locator(".doc-text").inner_text()  # the normalizer may space "alert (1)"; tags stay text
    assert "<script>alert" in shown and "</script>" in shown and "<img src=x onerror=" in shown
    assert page.locator(".doc-text script, .doc-text img").count() == 0
    search(page, word)
    passage = page.locator(".result .passage").first.inner_text()
    assert "<script>alert" in passage and "</script>" in passage
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_uploaded_docx_is_searchable(page, tmp_path: Path) -> None:
    word = f"docxthu{uuid.uuid4().hex[:8]}"
    path = make_docx(tmp_path / f"ke-hoach-{word}.docx",
                     ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO THỬ NGHIỆM", "KẾ HOẠCH", "Tổ chức hội thi giáo viên dạy giỏi "
                      f"cấp huyện năm học 2021-2022, mã {word}."])
    outcome = upload(page, path)
    assert "Đã xong" in outcome.inner_text(), outcome.inner_text()
    shot(page, "upload.png")
    search(page, f"hội thi giáo viên dạy giỏi {word}")
    first = page.locator(".result").first
    assert word in first.inner_text()
    assert first.locator("mark").filter(has_text=word).count() == 1


def test_bulk_upload_shows_live_progress(page, tmp_path: Path) -> None:
    """Several files and a .zip at once: the progress view polls the job endpoint, then lists the outcome."""
    import zipfile

    tag = uuid.uuid4().hex[:8]
    paths = []
    for i, topic in enumerate(("bơi lội", "cờ vua", "bóng đá")):
        path = tmp_path / f"hoi-thao-{tag}-{i}.txt"
        path.write_text(f"KẾ HOẠCH\nHội thao {topic} mã hoithao{tag}{i} cho học sinh THCS.\n", encoding="utf-8")
        paths.append(path)
    archive = tmp_path / f"ho-so-{tag}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("2025/hoi-thao-cau-long.txt", f"KẾ HOẠCH\nHội thao cầu lông mã hoithao{tag}z.\n")
        out.writestr("../ngoai.txt", "không được giải nén")
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/api/jobs/" in request.url else None)
    outcome = upload(page, *paths, archive)
    text = outcome.inner_text()
    assert "Đã xong" in text and "4 đã lập chỉ mục" in text and "1 bỏ qua" in text, text
    assert polls, "the progress view never asked /api/jobs/{id}"
    skipped = page.locator(".job-files.skipped").inner_text()
    assert "../ngoai.txt" in skipped and "leaves the archive" in skipped
    assert page.locator(".job-files a").count() == 4
    shot(page, "job.png", full_page=True)
    search(page, f"hoithao{tag}z")
    assert "hoi-thao-cau-long.txt" in page.locator(".result").first.inner_text()


def test_api_docs_render_offline_under_their_csp(browser, server: str) -> None:
    """Swagger UI comes from this server: with every other host blocked it still lists the operations."""
    context = browser.new_context(base_url=server)
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    violations: list[str] = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        tab.goto("/docs")
        tab.wait_for_selector(".opblock", timeout=60_000)
        assert tab.locator(".opblock").count() >= 10
        assert "/api/jobs/{job_id}" in tab.inner_text("body")
        assert outside == [] and violations == [], (outside, violations)
    finally:
        context.close()
