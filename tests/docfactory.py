"""Real PDF, DOCX and scanned-page files made on the fly, so loader and build tests need no binary fixtures."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

if TYPE_CHECKING:
    from PIL import Image

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"  # has Vietnamese glyphs


def make_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    """A text PDF, one string per page (lines split on newlines), optionally encrypted."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=password)
    for page in pages:
        pdf.setFont("DejaVuSans", 11)
        y = 800
        for line in page.splitlines():
            pdf.drawString(50, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def make_image_pdf(path: Path) -> Path:
    """A PDF with drawings but no text layer, like a scan."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.rect(100, 400, 300, 200, fill=1)
    pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None,
              after_table: Sequence[str] = ()) -> Path:
    """A DOCX with paragraphs, an optional table, then more paragraphs (document order matters)."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    for text in after_table:
        document.add_paragraph(text)
    document.save(str(path))
    return path


# --- scans ---------------------------------------------------------------------------------------

SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SCAN_DPI = 300


def render_scan(lines: list[str], dpi: int = SCAN_DPI, points: int = 12) -> tuple[Image.Image, list[str]]:
    """An A4 page image of the lines, word-wrapped to the text width, as a scanner at `dpi` sees it;
    returns the image and the wrapped lines (the OCR reference)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(SYSTEM_DEJAVU if SYSTEM_DEJAVU.exists() else FONT), round(points * dpi / 72))
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    margin, step = round(0.8 * dpi), round(points * dpi / 72 * 1.5)
    wrapped: list[str] = []
    for line in lines:
        current = ""
        for word in line.split():
            candidate = f"{current} {word}".strip()
            if current and font.getlength(candidate) > width - 2 * margin:
                wrapped.append(current)
                candidate = word
            current = candidate
        wrapped.append(current)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(wrapped):
        draw.text((margin, margin + i * step), line, font=font, fill=0)
    return image, wrapped


def speckle(image: Image.Image, share: float, seed: int = 7) -> Image.Image:
    """Salt-and-pepper noise on `share` of the pixels, like a dirty photocopy."""
    import numpy as np
    from PIL import Image

    pixels = np.array(image)
    draw = np.random.default_rng(seed).random(pixels.shape)
    pixels[draw < share / 2] = 0
    pixels[(draw >= share / 2) & (draw < share)] = 255
    return Image.fromarray(pixels)


def make_scanned_pdf(path: Path, pages: Sequence[Image.Image | str], dpi: int = SCAN_DPI) -> Path:
    """A PDF of image pages (no text layer) and, for str entries, text pages, in the given order."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for i, page in enumerate(pages):
        single = path.with_name(f".{path.stem}-{i}.pdf")
        if isinstance(page, str):
            make_pdf(single, [page])
        else:
            page.save(single, format="PDF", resolution=dpi)
        writer.append(PdfReader(single))
        single.unlink()
    writer.write(path)
    return path
