"""indexer.loaders: every format and encoding decodes to the same Unicode text, and every bad file
raises LoadError with a one-line reason a person can act on. Fixtures are built in tmp_path with the
real libraries (reportlab, pypdf, python-docx) from the real corpus text."""
from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest

from indexer.errors import LoadError
from indexer.loaders import SUPPORTED_EXTENSIONS, decode_text, load_file
from indexer.normalize import normalize_text

CORPUS = sorted((Path(__file__).resolve().parents[1] / "corpus").glob("*.txt"))
SAMPLE = next(p for p in CORPUS if p.name.startswith("quan11-phuong-huong-thcs"))
UNICODE = "Cộng hòa xã hội chủ nghĩa Việt Nam\nĐộc lập - Tự do - Hạnh phúc\nBộ Giáo dục và Đào tạo hướng dẫn"
# The same three lines as typed with legacy fonts (bytes shown as Latin-1 characters).
TCVN3 = "Céng hßa x· héi chñ nghÜa ViÖt Nam\n§éc lËp - Tù do - H¹nh phóc\nBé Gi¸o dôc vµ §µo t¹o h\xadíng dÉn"
VNI = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam\nÑoäc laäp - Töï do - Haïnh phuùc\nBoä Giaùo duïc vaø Ñaøo taïo höôùng daãn"
VISCII = (b"C\xb5ng h\xf2a x\xe3 h\xb5i ch\xfc ngh\xeea Vi\xaet Nam\n\xd0\xb5c l\xa7p - T\xf1 do - H\xd5nh ph\xfac\n"
          b"B\xb5 Gi\xe1o d\xf8c v\xe0 \xd0\xe0o t\xd5o h\xdf\xbeng d\xe7n")


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _reason(path: Path) -> str:
    with pytest.raises(LoadError) as info:
        load_file(path, path.name)
    assert info.value.source == path.name and info.value.code == "bad_file"
    assert "\n" not in info.value.reason and str(info.value).startswith(path.name + ": ")
    return info.value.reason


def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed where the code page has it, else base + tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(m for m in parts if m in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in tones))
            out += (base + tones).encode("cp1258", errors="replace")
    return bytes(out)


def test_supported_extensions() -> None:
    assert SUPPORTED_EXTENSIONS == {".txt", ".md", ".pdf", ".docx", ".doc", ".rtf", ".xlsx", ".html", ".htm"}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_files_load_as_utf8(path: Path) -> None:
    loaded = load_file(path, f"corpus/{path.name}")
    assert loaded.source == f"corpus/{path.name}" and loaded.encoding == "utf-8"
    assert loaded.pages == (path.read_text(encoding="utf-8"),) and not loaded.paged


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16-le"), ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"),
])
def test_unicode_encodings_with_and_without_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    loaded = load_file(_write(tmp_path, "doc.txt", text.encode(encoding)), "doc.txt")
    assert loaded.encoding == expected
    assert loaded.pages[0] == text


def test_windows_1258_with_combining_tone_marks(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    loaded = load_file(_write(tmp_path, "doc.md", _cp1258(text)), "doc.md")
    assert loaded.encoding == "cp1258"
    assert normalize_text(loaded.pages[0]) == normalize_text(text)


@pytest.mark.parametrize(("data", "encoding"), [
    (TCVN3.encode("latin-1"), "tcvn3"), (VNI.encode("latin-1"), "vni"), (VISCII, "viscii"),
    (TCVN3.encode("utf-8"), "utf-8+tcvn3"), (VNI.encode("utf-8"), "utf-8+vni"),
])
def test_legacy_vietnamese_fonts_are_converted(tmp_path: Path, data: bytes, encoding: str) -> None:
    loaded = load_file(_write(tmp_path, "old.txt", data), "old.txt")
    assert loaded.encoding == encoding
    assert normalize_text(loaded.pages[0]) == UNICODE


def test_legacy_example_from_an_old_directive(tmp_path: Path) -> None:
    loaded = load_file(_write(tmp_path, "old.txt", "Bé Gi¸o dôc vµ §µo t¹o"), "old.txt")
    assert loaded.pages[0] == "Bộ Giáo dục và Đào tạo"


def test_unicode_header_above_legacy_body_stays_intact(tmp_path: Path) -> None:
    data = "ỦY BAN NHÂN DÂN QUẬN 11\nSố: 897/PH-GDĐT\n" + TCVN3
    loaded = load_file(_write(tmp_path, "mixed.txt", data), "mixed.txt")
    assert loaded.pages[0] == "ỦY BAN NHÂN DÂN QUẬN 11\nSố: 897/PH-GDĐT\n" + UNICODE


@pytest.mark.parametrize("text", [
    "Hola señor, ¿cómo está usted? El Ministerio de Educación publicó hoy la guía del año escolar.",
    "Bộ Giáo dục và Đào tạo, Sở GD&ĐT, năm học 2020-2021",
])
def test_unicode_text_is_never_legacy_converted(text: str) -> None:
    assert decode_text(text.encode("utf-8"), "x.txt") == (text, "utf-8")


def test_western_single_byte_text_goes_to_charset_normalizer() -> None:
    text = ("El Ministerio de Educación publicó hoy la nueva guía para el año escolar. Según el documento, "
            "los niños tendrán más horas de lectura y matemáticas. ") * 3
    assert decode_text(text.encode("latin-1"), "es.txt") == (text, "cp1252")


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty file"), (b"  \r\n\t \n", "empty file"), ("\ufeff \n".encode("utf-8"), "empty file"),
    (b"abc\x00def\x00" * 10, "binary content, not text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content, not text (looks like a PNG image)"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01\x02", "binary content, not text (looks like a PDF)"),
    (bytes(range(1, 32)) * 50, "binary content, not text"),
])
def test_bad_text_files(tmp_path: Path, data: bytes, reason: str) -> None:
    assert _reason(_write(tmp_path, "bad.txt", data)) == reason


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    reason = _reason(_write(tmp_path, "old.xls", b"x"))
    assert reason == "unsupported file type .xls (supported: .doc .docx .htm .html .md .pdf .rtf .txt .xlsx)"
    assert _reason(tmp_path / "gone.txt").startswith("cannot read file: ")
    (tmp_path / "folder.txt").mkdir()
    assert _reason(tmp_path / "folder.txt").startswith("cannot read file: ")


# --- PDF -------------------------------------------------------------------------------------

def _pdf(path: Path, pages: list[str]) -> Path:
    """A real text PDF; DejaVu has the Vietnamese glyphs, reportlab's own Vera only Latin-1."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    font = dejavu if dejavu.exists() else Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    pdfmetrics.registerFont(TTFont(font.stem, str(font)))
    pdf = canvas.Canvas(str(path))
    for text in pages:
        pdf.setFont(font.stem, 12)
        for i, line in enumerate(text.split("\n")):
            pdf.drawString(72, 760 - 16 * i, line if font == dejavu else line.encode("ascii", "ignore").decode())
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_one_string_per_page(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "doc.pdf", ["Số: 897/PH-GDĐT\nNăm học 2020 - 2021", "Trang hai: hướng dẫn 2018¹"])
    loaded = load_file(path, "doc.pdf")
    assert loaded.paged and loaded.encoding == "pdf" and len(loaded.pages) == 2
    assert "897/PH-GD" in loaded.pages[0] and "2020 - 2021" in loaded.pages[0]
    assert "Trang hai" in loaded.pages[1] and "897" not in loaded.pages[1]
    if Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists():
        assert "hướng dẫn 2018¹" in loaded.pages[1]


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_pdf_encrypted(tmp_path: Path, algorithm: str) -> None:
    """Owner password only (copying forbidden, common for official documents): opens as in any viewer,
    AES included (pypdf's cryptography extra); a real user password is refused with the reason."""
    from pypdf import PdfReader, PdfWriter

    source = _pdf(tmp_path / "src.pdf", ["Bộ Giáo dục và Đào tạo"])
    owner_only = PdfWriter(clone_from=source)
    owner_only.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    owner_only.write(tmp_path / "owner.pdf")
    assert PdfReader(tmp_path / "owner.pdf").is_encrypted
    assert "Giáo dục" in load_file(tmp_path / "owner.pdf", "owner.pdf").pages[0]
    locked = PdfWriter(clone_from=source)
    locked.encrypt(user_password="secret", owner_password="owner", algorithm=algorithm)
    locked.write(tmp_path / "locked.pdf")
    assert _reason(tmp_path / "locked.pdf") == ("encrypted PDF (password protected): it needs a password to open; "
                                                 "save a copy without the password and add that")


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    blank.write(tmp_path / "scan.pdf")
    assert _reason(tmp_path / "scan.pdf") == "no readable text on any page (page 1: blank page (nothing to read))"


def test_pdf_corrupt(tmp_path: Path) -> None:
    data = _pdf(tmp_path / "src.pdf", ["Bo Giao duc"]).read_bytes()
    assert _reason(_write(tmp_path, "cut.pdf", data[: len(data) // 3])).startswith("corrupt PDF: ")
    assert _reason(_write(tmp_path, "fake.pdf", b"hello, not a pdf")) == "corrupt PDF: no %PDF header (not a PDF file)"


# --- DOCX ------------------------------------------------------------------------------------

def test_docx_paragraphs_and_tables_in_document_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO")
    document.add_paragraph("III. CHỈ TIÊU PHẤN ĐẤU")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["STT", "Nội dung", "Tỷ lệ %"], ["1", "Học sinh bỏ học", "0,43 %"], ["2", "Lên lớp", ""]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(2, 1).merge(table.cell(2, 2))            # a merged cell is one cell
    document.add_paragraph("IV. TỔ CHỨC THỰC HIỆN")
    document.save(tmp_path / "doc.docx")
    loaded = load_file(tmp_path / "doc.docx", "doc.docx")
    assert loaded.encoding == "docx" and not loaded.paged
    assert loaded.pages[0] == ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO\nIII. CHỈ TIÊU PHẤN ĐẤU\n\n"
                               "STT\nNội dung\nTỷ lệ %\n\n1\nHọc sinh bỏ học\n0,43 %\n\n2\nLên lớp\n\n"
                               "IV. TỔ CHỨC THỰC HIỆN")


def test_docx_in_legacy_font_is_converted(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for line in TCVN3.split("\n"):
        document.add_paragraph(line)
    document.save(tmp_path / "old.docx")
    loaded = load_file(tmp_path / "old.docx", "old.docx")
    assert loaded.encoding == "docx+tcvn3" and normalize_text(loaded.pages[0]) == UNICODE


def test_docx_bad_files(tmp_path: Path) -> None:
    import docx

    assert _reason(_write(tmp_path, "a.docx", b"not a zip file")) == "corrupt DOCX: not a ZIP package"
    with zipfile.ZipFile(tmp_path / "b.docx", "w") as package:
        package.writestr("hello.txt", "x")
    assert _reason(tmp_path / "b.docx").startswith("corrupt DOCX: ")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64     # read as the .doc it is (test_word.py)
    assert _reason(_write(tmp_path, "c.docx", ole)).startswith("corrupt .doc: catdoc: ")
    docx.Document().save(tmp_path / "d.docx")
    assert _reason(tmp_path / "d.docx") == "empty file (the DOCX has no text)"


# --- HTML ------------------------------------------------------------------------------------

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Cổng thông tin</title>
<style>p { color: red }</style><script>var tracking = 1;</script></head>
<body><nav><a href="/">Trang chủ</a> | <a href="/tin">Tin tức</a></nav>
<h1>KẾ HOẠCH
    năm học 2020-2021</h1>
<div>Thực hiện <b>Công văn</b> số 2455/SGDĐT-GDTrH<br>ngày 28/9/2020</div>
<table><tr><th>STT</th><th>Nội dung</th></tr><tr><td>1</td><td>Học sinh&nbsp;THCS</td></tr></table>
<p hidden>ẩn</p><p>Hết.</p><script>document.write("x")</script></body></html>"""


def test_html_visible_text_with_block_lines(tmp_path: Path) -> None:
    loaded = load_file(_write(tmp_path, "page.html", PAGE), "page.html")
    assert loaded.encoding == "html"
    assert loaded.pages[0] == ("KẾ HOẠCH năm học 2020-2021\nThực hiện Công văn số 2455/SGDĐT-GDTrH\nngày 28/9/2020\n"
                               "STT\nNội dung\n\n1\nHọc sinh\u00a0THCS\n\nHết.")


def test_html_declared_windows_1258_and_empty_page(tmp_path: Path) -> None:
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1258"></head>'
    data = _cp1258(page + "<body><p>Hà Nội, ngày 28 tháng 9</p></body></html>")
    loaded = load_file(_write(tmp_path, "old.htm", data), "old.htm")
    assert normalize_text(loaded.pages[0]) == "Hà Nội, ngày 28 tháng 9"
    empty = "<html><head><title>x</title></head><body><script>1</script><nav>menu</nav></body></html>"
    assert _reason(_write(tmp_path, "empty.html", empty)) == "HTML has no visible text"
