"""PDF -> one string per page: pypdf reads the text layer, pages without one are OCR'd (ocr.py).

Encryption: a PDF with only an owner password (copying or printing forbidden, common for official
documents) opens with the empty user password, RC4 or AES alike (AES needs pypdf's `cryptography`
extra); only a real user password is refused.
"""
from __future__ import annotations

import io
import logging

from indexer.errors import LoadError
from indexer.loaders import ocr
from indexer.loaders.text import short_reason, unicode_pages
from indexer.types import LoadedFile

_MIN_TEXT_CHARS = 16            # fewer letters/digits than this in the text layer: a scanned page


def load_pdf(data: bytes, source: str) -> LoadedFile:
    """One string per page; scanned pages OCR'd, pages OCR cannot read reported as warnings."""
    if b"%PDF-" not in data[:1024]:
        raise LoadError(source, "corrupt PDF: no %PDF header (not a PDF file)")
    texts = _text_layer(data, source)
    scanned = [i for i, text in enumerate(texts) if _letters(text) < _MIN_TEXT_CHARS]
    warnings: list[str] = []
    confidences: list[tuple[int, float]] = []
    if scanned:
        ocr.require_tesseract(source, scanned[0] + 1)
        try:
            read = ocr.read_pdf_pages(data, scanned)
        except Exception as exc:  # PDFium refuses some files pypdf reads leniently
            raise LoadError(source, f"scanned pages cannot be rendered for OCR: {short_reason(exc)}") from exc
        for index, page in zip(scanned, read, strict=True):
            if page.problem is None and _letters(page.text) > _letters(texts[index]):
                texts[index] = page.text
                confidences.append((index + 1, round(page.confidence, 1)))
            elif page.problem is not None and not texts[index].strip():
                warnings.append(f"page {index + 1}: {page.problem}")
    if not any(text.strip() for text in texts):
        found = "; ".join(warnings) if warnings else "no page has text"
        raise LoadError(source, f"no readable text on any page ({found})")
    pages, encoding = unicode_pages(texts, "pdf+ocr" if confidences else "pdf")
    return LoadedFile(source=source, pages=pages, encoding=encoding, paged=True,
                      warnings=tuple(warnings), ocr=tuple(confidences))


def _text_layer(data: bytes, source: str) -> list[str]:
    """Each page's extracted text ("" for an image-only page); encrypted and corrupt files refused."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)     # lenient parsing warns on every quirk
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(source, "encrypted PDF (password protected): it needs a password to open; "
                                    "save a copy without the password and add that")
        texts = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except DependencyError as exc:
        raise LoadError(source, "encrypted PDF (AES) cannot be decrypted: the Python package 'cryptography' "
                                "is missing (pip install 'pypdf[crypto]')") from exc
    except FileNotDecryptedError as exc:
        raise LoadError(source, "encrypted PDF (password protected): it needs a password to open") from exc
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, KeyError...) on damage
        raise LoadError(source, f"corrupt PDF: {short_reason(exc)}") from exc
    if not texts:
        raise LoadError(source, "corrupt PDF: no pages")
    return texts


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)
