"""The mixed upload of `eval.upload_bench`, made from real Vietnamese legal text (Pháp điển articles).

Consecutive articles of one văn bản (education first: chủ đề 13 "Giáo dục, đào tạo") form a piece of a few
articles; each piece becomes one file: .txt, .docx (python-docx), a text PDF (reportlab, DejaVu Sans), a
scanned PDF (image-only pages rendered like a 300 dpi scan, 1-2 pages) or a legacy .doc (LibreOffice,
when `soffice` is installed; otherwise copies of the LibreOffice-made fixtures under new names). A few bad
files ride along (empty, a corrupt PDF, a .pptx, a zip-bomb-like member, a nested archive) and must be
skipped by name with a reason while the rest goes on. Files are packed into .zip archives (members keep
folders) plus a few loose parts, as an office would send them.
"""
from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHAPDIEN = REPO.parent / "shared" / "benchmarks" / "phapdien-corpus" / "corpus.jsonl"
FIXTURES = REPO / "tests" / "fixtures"
EDUCATION = "Giáo dục, đào tạo /"
KINDS = ("txt", "docx", "pdf", "scan", "doc")
SHARES = {"doc": 0.10, "pdf": 0.25, "docx": 0.25}     # of the good files that are not scans; the rest is .txt
PIECE_ARTICLES, PIECE_CHARS = 4, 5000                 # a piece: at most this many articles and characters
SCAN_LINES = 36                                       # wrapped lines on one scanned A4 page (12 pt at 300 dpi)
PDF_LINES, PDF_WIDTH = 48, 495                        # lines a text-PDF page holds, text width in points
ARCHIVES = 2                                          # .zip files the upload is split into
_SOURCE_LINE = re.compile(r"^\(Điều \S+ (?P<kind>.+?) số (?P<number>[^\s,]+)")


@dataclass
class Piece:
    kind: str        # "Thông tư", "Nghị định", "Luật", ...
    number: str      # "21/2017/TT-BGDĐT"
    lines: list[str]
    articles: int = 0

    @property
    def chars(self) -> int:
        return sum(len(line) for line in self.lines)


@dataclass
class GoodFile:
    """A file that must be indexed: its name in the upload ("ho-so-1.zip/Thông tư/x.pdf" or "x.pdf")."""

    name: str
    kind: str
    path: Path
    text: str                                   # its source text, for phrase checks
    scan_pages: list[str] = field(default_factory=list)   # reference text of each scanned page
    blank_page: int | None = None               # a page left blank on purpose: the job must warn about it
    group: str = "Khác"                         # the folder it goes in: the kind of văn bản, or what it is


@dataclass
class BadFile:
    """A file the job must skip, reported by name with a reason containing `expect`."""

    name: str
    kind: str
    path: Path
    expect: str


@dataclass
class Upload:
    good: list[GoodFile]
    bad: list[BadFile]
    parts: list[Path]                           # what is sent: the archives and loose files
    doc_maker: str                              # "libreoffice" or "fixture copies"


def counts(files: int, scanned: int) -> dict[str, int]:
    """Files of each kind for an upload of `files` files, `scanned` of them scans and six of them bad."""
    rest = files - scanned - len(BAD_KINDS)
    if rest < len(SHARES) + 1:
        raise ValueError(f"--files {files} is too few for --scanned {scanned} and {len(BAD_KINDS)} bad files")
    out = {kind: max(1, round(rest * share)) for kind, share in SHARES.items()}
    out["txt"] = rest - sum(out.values())
    out["scan"] = scanned
    return out


def pieces(limit: int, path: Path = PHAPDIEN) -> list[Piece]:
    """Up to `limit` pieces: the articles of each văn bản in corpus order (education first), cut into runs
    of at most PIECE_ARTICLES articles and PIECE_CHARS characters."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records.sort(key=lambda r: not r["title"].startswith(EDUCATION))   # stable: corpus order kept within
    articles: dict[str, tuple[str, list[list[str]]]] = {}
    for record in records:
        first, _, body = record["text"].partition("\n")
        match = _SOURCE_LINE.match(first)
        if match is None or not body.strip():
            continue
        heading = record["title"].split(" — ", 1)[-1]
        lines = [heading, first, *[line for line in body.splitlines() if line.strip()]]
        articles.setdefault(match["number"], (match["kind"], []))[1].append(lines)
    out: list[Piece] = []
    for number, (kind, items) in articles.items():
        current: Piece | None = None
        for lines in items:
            if current is None or current.articles >= PIECE_ARTICLES or current.chars > PIECE_CHARS:
                if len(out) >= limit:
                    return out
                current = Piece(kind, number, [f"{kind.upper()} SỐ {number} (TRÍCH)"])
                out.append(current)
            current.lines.extend(lines)
            current.articles += 1
    return out


def make(folder: Path, files: int, scanned: int, seed: int) -> Upload:
    """Write the good and bad files under `folder` and pack them; `folder` must be empty or new."""
    plan = counts(files, scanned)
    rng = random.Random(seed)
    source = pieces(sum(plan.values()) + 50)
    rng.shuffle(source)
    raw = folder / "files"
    raw.mkdir(parents=True, exist_ok=True)
    good: list[GoodFile] = []
    seen: dict[str, int] = {}
    for kind in KINDS:
        for _ in range(plan[kind]):
            pages = rng.choice((1, 2)) if kind == "scan" else 0
            # a scan of n pages takes a piece long enough to fill them (about 2,700 characters a page)
            at = next((i for i in range(len(source) - 1, -1, -1) if source[i].chars >= 2700 * pages), -1)
            piece = source.pop(at)
            stem = piece.number.replace("/", "-")
            seen[stem] = seen.get(stem, 0) + 1
            good.append(_write(kind, piece, raw / f"{stem}-{seen[stem]}", pages))
    if good and plan["scan"]:
        _add_blank_page(next(g for g in good if g.kind == "scan"))
    doc_maker = _make_docs([g for g in good if g.kind == "doc"], raw)
    bad = _bad_files(raw)
    return _pack(good, bad, folder / "upload", rng, doc_maker)


# -- one file of each kind ------------------------------------------------------------------------


def _write(kind: str, piece: Piece, base: Path, pages: int) -> GoodFile:
    from tests.docfactory import make_docx, make_pdf

    text = "\n".join(piece.lines)
    if kind == "txt":
        path = base.with_suffix(".txt")
        path.write_text(text + "\n", encoding="utf-8")
    elif kind == "docx":
        path = make_docx(base.with_suffix(".docx"), piece.lines)
    elif kind == "pdf":
        path = make_pdf(base.with_suffix(".pdf"), _pdf_pages(piece.lines))
    elif kind == "scan":
        scan = _scan(piece, base.with_name(base.name + " (bản quét).pdf"), pages=pages)
        scan.group = "Bản quét"
        return scan
    else:                                        # .doc: written in one LibreOffice run by _make_docs
        path = base.with_suffix(".html")
        path.write_text("".join(f"<p>{html.escape(line)}</p>" for line in piece.lines), encoding="utf-8")
    return GoodFile(path.name, kind, path, text, group="Văn bản cũ" if kind == "doc" else piece.kind)


def _pdf_pages(lines: list[str]) -> list[str]:
    """The lines word-wrapped to the text width of make_pdf's 11 pt DejaVu Sans, PDF_LINES to a page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from tests.docfactory import FONT

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    wrapped: list[str] = []
    for line in lines:
        current = ""
        for word in line.split():
            candidate = f"{current} {word}".strip()
            if current and pdfmetrics.stringWidth(candidate, "DejaVuSans", 11) > PDF_WIDTH:
                wrapped.append(current)
                candidate = word
            current = candidate
        wrapped.append(current)
    return ["\n".join(wrapped[i:i + PDF_LINES]) for i in range(0, len(wrapped), PDF_LINES)]


def _scan(piece: Piece, path: Path, pages: int) -> GoodFile:
    """Image-only pages of the piece's first `pages` * SCAN_LINES wrapped lines; each page's lines are its
    OCR reference."""
    from tests.docfactory import make_scanned_pdf, render_scan

    _, wrapped = render_scan(piece.lines)        # wraps only; pages are rendered below
    chunks = [wrapped[i:i + SCAN_LINES] for i in range(0, min(len(wrapped), pages * SCAN_LINES), SCAN_LINES)]
    images = [render_scan(chunk)[0] for chunk in chunks]
    make_scanned_pdf(path, images)
    references = ["\n".join(chunk) for chunk in chunks]
    return GoodFile(path.name, "scan", path, "\n".join(references), scan_pages=references)


def _add_blank_page(scan: GoodFile) -> None:
    """Append a blank page to one scan: it is indexed, and the job must report the page it could not read."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    from tests.docfactory import make_scanned_pdf

    blank = scan.path.with_name(".blank.pdf")
    make_scanned_pdf(blank, [Image.new("L", (2480, 3508), 255)])
    writer = PdfWriter()
    writer.append(PdfReader(scan.path))
    writer.append(PdfReader(blank))
    writer.write(scan.path)
    blank.unlink()
    scan.blank_page = len(scan.scan_pages) + 1


def _make_docs(docs: list[GoodFile], raw: Path) -> str:
    """Convert the .doc files' HTML with one LibreOffice run, or fall back to copies of the fixtures."""
    if not docs:
        return "none"
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                            "doc:MS Word 97", "--outdir", str(raw), *[str(d.path) for d in docs]],
                           check=False, capture_output=True, timeout=900)
    made = soffice is not None and all(d.path.with_suffix(".doc").is_file() for d in docs)
    for i, doc in enumerate(docs):
        target = doc.path.with_suffix(".doc")
        if not made:                             # same text, new names: the phrases come from the fixture
            from tests.fixtures.make_word_fixtures import BEFORE, INVITATION

            fixture, lines = (("chi-tieu.doc", BEFORE) if i % 2 == 0 else ("giay-moi.doc", INVITATION))
            shutil.copyfile(FIXTURES / fixture, target)
            doc.text = "\n".join(lines)
        doc.path.unlink()
        doc.path, doc.name = target, target.name
    return "libreoffice" if made else "fixture copies"


# -- bad files ------------------------------------------------------------------------------------


BAD_KINDS = ("empty (loose)", "empty", "corrupt pdf", "pptx", "zip bomb", "nested zip")


def _bad_files(raw: Path) -> list[BadFile]:
    """One file of each BAD_KINDS; the first is sent as a loose part, the others inside an archive."""
    bad = raw / "bad"
    bad.mkdir()
    pptx = bad / "trinh-chieu-tong-ket.pptx"
    with zipfile.ZipFile(pptx, "w") as slides:
        slides.writestr("[Content_Types].xml", "<Types/>")
    nested = bad / "ho-so-cu.zip"
    with zipfile.ZipFile(nested, "w") as old:
        old.writestr("cu.txt", "Kế hoạch cũ")
    files = {
        "empty (loose)": (bad / "bien-ban-rong.txt", b"", "the file is empty"),
        "empty": (bad / "phu-luc-trong.docx", b"", "the file is empty"),
        "corrupt pdf": (bad / "bao-cao-hong.pdf", b"%PDF-1.4\n" + random.Random(5).randbytes(4000), ""),
        "pptx": (pptx, None, "unsupported file type .pptx"),
        "zip bomb": (bad / "du-lieu-nen.txt", "Học sinh ".encode() * 600_000, "compression ratio"),
        "nested zip": (nested, None, "archives inside the archive"),
    }
    out = []
    for kind in BAD_KINDS:
        path, data, expect = files[kind]
        if data is not None:
            path.write_bytes(data)
        out.append(BadFile(path.name, kind, path, expect))
    return out


# -- packing --------------------------------------------------------------------------------------


def _pack(good: list[GoodFile], bad: list[BadFile], folder: Path, rng: random.Random, doc_maker: str) -> Upload:
    """ARCHIVES zips of shuffled members under folders by văn bản kind, plus loose parts: the empty file,
    one .doc and one text PDF. Names are rewritten to what the job reports ("archive.zip/folder/file")."""
    folder.mkdir(parents=True, exist_ok=True)
    loose: list[GoodFile | BadFile] = [bad[0]]
    for kind in ("doc", "pdf"):
        loose += [g for g in good if g.kind == kind][:1]
    members = [f for f in [*good, *bad] if f not in loose]
    rng.shuffle(members)
    parts = []
    for n in range(ARCHIVES):
        share = members[n::ARCHIVES]
        if not share:
            continue
        archive = folder / f"ho-so-{2024 + n}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for item in share:
                assert isinstance(item, (GoodFile, BadFile))
                inner = f"{item.group if isinstance(item, GoodFile) else 'Khác'}/{item.path.name}"
                zf.write(item.path, inner)
                item.name = f"{archive.name}/{inner}"
        parts.append(archive)
    for item in loose:
        parts.append(item.path)
        item.name = item.path.name
    return Upload(good, bad, parts, doc_maker)

