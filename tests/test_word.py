"""indexer.loaders.word: legacy .doc (Debian's catdoc, antiword fallback) and RTF (striprtf), with the real
tools on LibreOffice-made Vietnamese fixtures (tests/fixtures/make_word_fixtures.py says how they were made).

`PYTHONPATH=. python tests/test_word.py` prints the catdoc/antiword comparison the README quotes.
"""
from __future__ import annotations

import shutil
import time
import unicodedata
from pathlib import Path

import pytest

from indexer.errors import LoadError
from indexer.loaders import load_file
from indexer.loaders.word import ANTIWORD, CATDOC, DocTool, load_doc
from indexer.normalize import normalize_text
from indexer.structure import parse_document
from tests.docfactory import make_docx
from tests.fixtures.make_word_fixtures import AFTER, BEFORE, INVITATION, TABLE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOC, RTF, SHORT = FIXTURES / "chi-tieu.doc", FIXTURES / "chi-tieu.rtf", FIXTURES / "giay-moi.doc"
EXPECTED = [unicodedata.normalize("NFC", line) for line in [*BEFORE, *(c for row in TABLE for c in row), *AFTER]]
ROWS = ["Học sinh lớp 5 hoàn thành chương trình bậc tiểu học vào lớp 6: 2019-2020: 100 %; 2020-2021: 100 %",
        "Học sinh bỏ học THCS: 2019-2020: 0,43 %; 2020-2021: 0,6 %",
        "Hạnh kiểm tốt: 2019-2020: 94,5 %; 2020-2021: 95 %"]


def lines(text: str) -> list[str]:
    """Non-empty lines after NFC: the text a person reads, whatever blank lines a tool adds."""
    return [line.strip() for line in unicodedata.normalize("NFC", text).split("\n") if line.strip()]


@pytest.mark.parametrize("tools", [(CATDOC, ANTIWORD), (ANTIWORD,)], ids=["catdoc", "antiword"])
def test_doc_keeps_every_tone_mark_and_the_table(tools: tuple[DocTool, ...]) -> None:
    loaded = load_doc(DOC.read_bytes(), "chi-tieu.doc", tools)
    assert loaded.encoding == f"doc+{tools[0].name}" and not loaded.paged
    assert lines(loaded.pages[0]) == EXPECTED           # precomposed and combining-mark alphabets alike
    parsed = parse_document(normalize_text(loaded.pages[0]))
    assert [row.render() for row in parsed.tables] == ROWS
    assert (parsed.meta.number, parsed.meta.date, parsed.meta.doc_type) == ("897/PH-GDĐT", "2020-09-07", "phương hướng")


def test_doc_and_docx_of_one_directive_parse_alike(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "chi-tieu.docx", BEFORE, TABLE, AFTER)
    from_doc = parse_document(normalize_text(load_file(DOC, "a.doc").pages[0]))
    from_docx = parse_document(normalize_text(load_file(docx, "a.docx").pages[0]))
    assert from_doc.meta == from_docx.meta and from_doc.tables == from_docx.tables


def test_short_doc_antiword_refuses_is_read_by_catdoc() -> None:
    with pytest.raises(LoadError, match=r"antiword: .*too small"):
        load_doc(SHORT.read_bytes(), "giay-moi.doc", (ANTIWORD,))
    assert lines(load_file(SHORT, "giay-moi.doc").pages[0]) == INVITATION


def test_doc_falls_back_to_the_next_tool_and_reports_each_failure() -> None:
    failing = DocTool("false", "coreutils", (), "\t")       # a real command that reads nothing
    loaded = load_doc(DOC.read_bytes(), "chi-tieu.doc", (failing, CATDOC))
    assert loaded.encoding == "doc+catdoc"
    with pytest.raises(LoadError) as info:
        load_doc(SHORT.read_bytes(), "giay-moi.doc", (failing, ANTIWORD))
    assert info.value.reason.startswith("corrupt .doc: false: exit status 1, no text; antiword: ")


def test_doc_without_its_tools_names_the_debian_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LoadError) as info:
        load_file(DOC, "chi-tieu.doc")
    assert info.value.reason == ("reading .doc files needs catdoc or antiword: install the Debian package catdoc "
                                 "(apt-get install catdoc, or `make doctools`)")


def test_bytes_decide_the_word_format_not_the_name(tmp_path: Path) -> None:
    renamed = tmp_path / "really-doc.docx"
    shutil.copy(DOC, renamed)
    assert load_file(renamed, renamed.name).encoding == "doc+catdoc"
    rtf_as_doc = tmp_path / "saved-as-rtf.doc"                # Word's "save as RTF" keeps the .doc name
    shutil.copy(RTF, rtf_as_doc)
    assert load_file(rtf_as_doc, rtf_as_doc.name).encoding == "rtf"
    docx_as_doc = make_docx(tmp_path / "new.doc", ["Hướng dẫn kiểm tra cuối kỳ"])
    assert load_file(docx_as_doc, docx_as_doc.name).pages[0] == "Hướng dẫn kiểm tra cuối kỳ"
    (tmp_path / "junk.doc").write_bytes(bytes(range(256)) * 8)   # catdoc would print this as "text"
    with pytest.raises(LoadError, match=r"corrupt \.doc: not a Word document \(no OLE2 header\)"):
        load_file(tmp_path / "junk.doc", "junk.doc")


# --- RTF -----------------------------------------------------------------------------------------

def test_rtf_unicode_escapes_and_table() -> None:
    loaded = load_file(RTF, "chi-tieu.rtf")
    assert loaded.encoding == "rtf" and lines(loaded.pages[0]) == EXPECTED
    assert [row.render() for row in parse_document(normalize_text(loaded.pages[0])).tables] == ROWS


def test_rtf_in_windows_1258_with_combining_tones(tmp_path: Path) -> None:
    from tests.test_loaders import _cp1258

    body = "".join(f"\\'{b:02x}" if b > 0x7F else chr(b) for b in _cp1258("Bộ Giáo dục và Đào tạo hướng dẫn"))
    rtf = "{\\rtf1\\ansi\\ansicpg1258\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}\\f0\\pard " + body + "\\par}"
    (tmp_path / "cp1258.rtf").write_text(rtf, encoding="ascii")
    loaded = load_file(tmp_path / "cp1258.rtf", "cp1258.rtf")
    assert unicodedata.normalize("NFC", loaded.pages[0]).strip() == "Bộ Giáo dục và Đào tạo hướng dẫn"


def test_bad_rtf_files(tmp_path: Path) -> None:
    (tmp_path / "a.rtf").write_bytes(b"plain text, not rtf")
    (tmp_path / "b.rtf").write_bytes(b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}}")
    for name, reason in (("a.rtf", "corrupt RTF: no {\\rtf header"), ("b.rtf", "empty file (the RTF has no text)")):
        with pytest.raises(LoadError) as info:
            load_file(tmp_path / name, name)
        assert info.value.reason == reason


def _figures(runs: int = 50) -> None:
    """Per tool: whether each fixture's text comes out exact (NFC), and milliseconds per file."""
    data = {path.name: path.read_bytes() for path in (DOC, SHORT)}
    for tool in (CATDOC, ANTIWORD):
        verdicts = []
        for name, expected in (("chi-tieu.doc", EXPECTED), ("giay-moi.doc", INVITATION)):
            try:
                got = lines(load_doc(data[name], name, (tool,)).pages[0])
                verdicts.append(f"{name}: {'exact' if got == expected else 'DIFFERENT'}")
            except LoadError as exc:
                verdicts.append(f"{name}: refused ({exc.reason})")
        started = time.perf_counter()
        for _ in range(runs):
            load_doc(data["chi-tieu.doc"], "chi-tieu.doc", (tool,))
        print(f"{tool.name}: {(time.perf_counter() - started) / runs * 1000:.1f} ms/file; " + "; ".join(verdicts))


if __name__ == "__main__":
    _figures()
