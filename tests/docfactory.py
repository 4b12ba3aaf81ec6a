"""Real PDF and DOCX files made on the fly, so loader and build tests never depend on binary fixtures."""
from __future__ import annotations

from pathlib import Path

import matplotlib

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
              after_table: list[str] = ()) -> Path:
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
