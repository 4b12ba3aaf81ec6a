"""Files -> decoded text (no normalization here). This package is the only importer of the document
parsers (pypdf, pypdfium2, python-docx, openpyxl, striprtf, selectolax, viparse, charset-normalizer)
and the only caller of tesseract, catdoc and antiword, so a parser can be swapped in one place.

    text.py      .txt .md: encodings, legacy TCVN3/VNI/VISCII fonts (used by every format)
    pdf.py       .pdf: text layer per page, encryption; ocr.py reads pages that are scanned images
    office.py    .docx .xlsx      word.py  .doc .rtf      html.py  .html .htm
    zipguard.py  check_zip: ZIP bombs refused before DOCX/XLSX (or a bulk .zip upload) is unpacked

Every unreadable file raises LoadError with a one-line reason; a page OCR cannot read is a warning
on the LoadedFile, never dropped silently.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indexer.errors import LoadError
from indexer.loaders.html import load_html
from indexer.loaders.office import load_docx, load_xlsx
from indexer.loaders.pdf import load_pdf
from indexer.loaders.text import OLE_MAGIC, decode_text, load_text
from indexer.loaders.word import load_doc, load_rtf
from indexer.loaders.zipguard import ZipLimits, check_zip
from indexer.types import LoadedFile

__all__ = ["SUPPORTED_EXTENSIONS", "ZipLimits", "check_zip", "decode_text", "load_file"]

_LOADERS: dict[str, Callable[[bytes, str], LoadedFile]] = {
    ".txt": load_text, ".md": load_text, ".pdf": load_pdf, ".docx": load_docx, ".doc": load_doc,
    ".rtf": load_rtf, ".xlsx": load_xlsx, ".html": load_html, ".htm": load_html,
}
SUPPORTED_EXTENSIONS = frozenset(_LOADERS)
_WORD_FAMILY = (".doc", ".docx", ".rtf")


def load_file(path: Path, source: str) -> LoadedFile:
    """Decode one file into text (one string per page for PDFs); LoadError names what is wrong."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        supported = " ".join(sorted(SUPPORTED_EXTENSIONS))
        raise LoadError(source, f"unsupported file type {suffix or '(none)'} (supported: {supported})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(source, f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError(source, "empty file")
    if suffix in _WORD_FAMILY:
        suffix = _word_format(data) or suffix
    return _LOADERS[suffix](data, source)


def _word_format(data: bytes) -> str | None:
    """Which Word format the bytes are, whatever the name says: Word saves RTF under .doc names, and
    offices rename .doc files to .docx and back."""
    if data.lstrip()[:5] == b"{\\rtf":
        return ".rtf"
    if data.startswith(OLE_MAGIC):
        return ".doc"
    if data.startswith(b"PK\x03\x04"):
        return ".docx"
    return None
