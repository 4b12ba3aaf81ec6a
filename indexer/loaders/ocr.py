"""Scanned pages -> text with Debian's Tesseract and its Vietnamese model (tesseract-ocr-vie).

A page is rendered at 300 dpi with pypdfium2 (PDFium, the renderer Chrome uses), cleaned with a 3x3
median filter (salt-and-pepper specks of a photocopied scan vanish; 300 dpi strokes and tone marks
survive it), and read by the `tesseract` command with TSV output, which gives the words, their
lines and each word's confidence in one run. Page segmentation mode 1 runs orientation detection
first, so a page fed upside down or sideways is read like an upright one (mode 3 read such a page
as confident-looking garbage: CER 0.88).

The CLI is called directly rather than through pytesseract: pytesseract writes the image to a
temporary file and runs the same binary, while a direct call passes the image on stdin, sets
OMP_THREAD_LIMIT=1 (Tesseract's OpenMP threads spin on a busy 2-core machine: 11.9 s -> 3.2 s a
page), bounds the run with a timeout and turns a missing binary or model into a LoadError that names
the Debian package.
"""
from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.errors import LoadError

if TYPE_CHECKING:
    import pypdfium2
    from PIL import Image

OCR_DPI = 300
LANGUAGE = "vie"
MIN_CONFIDENCE = 50.0           # mean word confidence (0-100) below which a page's text is not trusted
PAGE_TIMEOUT = 180              # seconds for one page (a dense A4 page takes 2-4 s)
_MAX_PIXELS = 40_000_000        # an A3 page at 300 dpi is 17 M; huge pages are rendered at a lower dpi
_BLANK_INK = 0.0005             # share of inked pixels under which a page is blank (a stray speck or two)
_INK_CONTRAST = 60              # a pixel this much darker than the paper is ink (faint photocopies included)
_PACKAGES = "tesseract-ocr tesseract-ocr-vie"
_PDFIUM = threading.Lock()      # PDFium is not thread-safe; uploads and builds may render at once


@dataclass(frozen=True)
class OcrPage:
    """What OCR made of one page. `problem` says why the text cannot be used (None: it can)."""

    text: str
    confidence: float           # mean word confidence, 0-100 (0 when no word was found)
    words: int
    problem: str | None = None


def require_tesseract(source: str, page: int) -> None:
    """LoadError naming the Debian packages when the tesseract binary or its Vietnamese model is missing."""
    if shutil.which("tesseract") is None:
        raise LoadError(source, f"page {page} is a scanned image and OCR is not installed: "
                                f"install the Debian packages {_PACKAGES} (`make doctools`)")
    if not _has_language():
        raise LoadError(source, f"page {page} is a scanned image and Tesseract has no Vietnamese model: "
                                f"install the Debian package tesseract-ocr-vie (`make doctools`)")


_languages_seen = False


def _has_language() -> bool:
    global _languages_seen  # remembered once found; a missing model is looked for again next time
    if not _languages_seen:
        done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, timeout=30, check=False)
        _languages_seen = LANGUAGE in done.stdout.decode("utf-8", errors="replace").split()
    return _languages_seen


def read_pdf_pages(data: bytes, indexes: list[int]) -> list[OcrPage]:
    """OCR of the given pages (0-based) of a PDF, in that order; one page image in memory at a time."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(data)
    try:
        read = []
        for index in indexes:
            with _PDFIUM:                       # only PDFium calls are serialised, not the OCR itself
                image, dpi = _render(document, index)
            read.append(read_image(image, dpi))
        return read
    finally:
        with _PDFIUM:
            document.close()


def _render(document: pypdfium2.PdfDocument, index: int) -> tuple[Image.Image, int]:
    """A page as a grayscale image at OCR_DPI (less for a page too large to render whole), and its dpi."""
    page = document[index]
    try:
        width, height = page.get_size()        # points, 72 a inch
        scale = min(OCR_DPI / 72, math.sqrt(_MAX_PIXELS / max(width * height, 1.0)))
        bitmap = page.render(scale=scale, grayscale=True)
        return bitmap.to_pil().convert("L"), round(scale * 72)
    finally:
        page.close()


def read_image(image: Image.Image, dpi: int = OCR_DPI, despeckle: bool = True) -> OcrPage:
    """OCR of one page image; `despeckle=False` skips the median filter (for measuring what it buys)."""
    from PIL import ImageFilter

    gray = image.convert("L")
    if despeckle:
        gray = gray.filter(ImageFilter.MedianFilter(3))
    if _is_blank(gray):
        return OcrPage("", 0.0, 0, "blank page (nothing to read)")
    buffer = io.BytesIO()
    gray.save(buffer, format="PPM")             # uncompressed PGM: no PNG encoding cost for 8 MB
    try:
        tsv = _tesseract(buffer.getvalue(), dpi)
    except RuntimeError as exc:
        return OcrPage("", 0.0, 0, str(exc))
    text, confidence, words = parse_tsv(tsv)
    if not words:
        return OcrPage("", 0.0, 0, "OCR found no text")
    if confidence < MIN_CONFIDENCE:
        return OcrPage(text, confidence, words, f"OCR confidence {confidence:.0f} % is too low to trust "
                                                f"({words} words); the page is not indexed")
    return OcrPage(text, confidence, words)


def _is_blank(gray: Image.Image) -> bool:
    """Almost no pixel darker than the paper (the median shade: white, cream or a scanner's grey)."""
    histogram = gray.histogram()
    total = gray.width * gray.height
    seen, paper = 0, 255
    for shade, count in enumerate(histogram):
        seen += count
        if seen * 2 >= total:
            paper = shade
            break
    ink = sum(histogram[: max(paper - _INK_CONTRAST, 0)])
    return ink <= _BLANK_INK * total


def _tesseract(image: bytes, dpi: int) -> str:
    command = ["tesseract", "stdin", "stdout", "-l", LANGUAGE, "--dpi", str(dpi), "--psm", "1", "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(command, input=image, capture_output=True, timeout=PAGE_TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"OCR gave no answer in {PAGE_TIMEOUT} s") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise RuntimeError(f"tesseract failed: {(said or [f'exit status {done.returncode}'])[-1][:120]}")
    return done.stdout.decode("utf-8", errors="replace")


def parse_tsv(tsv: str) -> tuple[str, float, int]:
    """(text, mean word confidence, word count) from Tesseract's TSV: words joined into its lines,
    a blank line between its paragraphs, as its own text output lays them out."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) != 12 or cols[0] != "5" or not cols[11].strip():
            continue                              # level 5 rows are words; the others are layout boxes
        confidence = float(cols[10])
        if confidence < 0:
            continue
        block, paragraph, line = int(cols[2]), int(cols[3]), int(cols[4])
        lines.setdefault((block, paragraph, line), []).append(cols[11].strip())
        confidences.append(confidence)
    out: list[str] = []
    previous: tuple[int, int] | None = None
    for (block, paragraph, _), words in lines.items():
        if previous is not None and previous != (block, paragraph):
            out.append("")
        out.append(" ".join(words))
        previous = (block, paragraph)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(out), mean, len(confidences)
