"""indexer.loaders.ocr and the scanned-page path of the PDF loader, with the real Tesseract (vie).

Scans are made here: corpus lines rendered with DejaVu (it has every Vietnamese glyph) at 300 dpi and
wrapped in a PDF. Character error rate (CER) is the Levenshtein distance (rapidfuzz) between the NFC,
whitespace-collapsed reference and OCR text, over the reference length. OCR takes seconds a page, so
the tests that run it are marked slow and kept to one or two small pages each.

`PYTHONPATH=. python tests/test_ocr.py` prints the figures the README quotes.
"""
from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest

from indexer.errors import LoadError
from indexer.loaders import load_file, ocr
from tests.docfactory import make_scanned_pdf, render_scan, speckle

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MAX_CER = 0.02
NOISE = 0.05                    # share of pixels flipped to black or white


def corpus_lines(name: str = "an-lao-huong-dan-thcs-2024-2025.txt", count: int = 7) -> list[str]:
    """The first non-empty lines of a corpus directive: header, salutation and a long paragraph."""
    lines = [line.strip() for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:count]


def cer(reference: str, hypothesis: str) -> float:
    from rapidfuzz.distance import Levenshtein

    def flat(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    return Levenshtein.distance(flat(reference), flat(hypothesis)) / len(flat(reference))


# --- fast: no OCR run ----------------------------------------------------------------------------

TSV = "\n".join([
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
    "1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t",
    "5\t1\t1\t1\t1\t1\t236\t236\t100\t50\t96.5\tSố:",
    "5\t1\t1\t1\t1\t2\t350\t236\t300\t50\t93.5\t322/PGD-THCS",
    "4\t1\t1\t1\t2\t0\t236\t300\t900\t50\t-1\t",
    "5\t1\t1\t1\t2\t1\t236\t300\t200\t50\t90\tAn",
    "5\t1\t1\t1\t2\t2\t450\t300\t200\t50\t80\tLão",
    "5\t1\t2\t1\t1\t1\t236\t500\t200\t50\t60\tKính",
    "5\t1\t2\t1\t1\t2\t450\t500\t200\t50\t-1\t ",
])


def test_tsv_words_lines_and_mean_confidence() -> None:
    text, confidence, words = ocr.parse_tsv(TSV)
    assert text == "Số: 322/PGD-THCS\nAn Lão\n\nKính"        # a blank line between Tesseract's paragraphs
    assert words == 5 and confidence == pytest.approx((96.5 + 93.5 + 90 + 80 + 60) / 5)
    assert ocr.parse_tsv(TSV.splitlines()[0]) == ("", 0.0, 0)


def test_blank_scan_is_a_load_error_naming_the_page(tmp_path: Path, monkeypatch) -> None:
    from PIL import Image

    blank = Image.new("L", (1240, 1754), 242)                 # greyish paper, a few specks
    blank.putpixel((600, 800), 0)
    path = make_scanned_pdf(tmp_path / "blank.pdf", [blank], dpi=150)
    with pytest.raises(LoadError) as info:
        load_file(path, "blank.pdf")
    assert info.value.reason == "no readable text on any page (page 1: blank page (nothing to read))"
    monkeypatch.setenv("PATH", str(tmp_path))                # no tesseract: a blank page never needs it
    assert ocr.read_image(blank, 150).problem == "blank page (nothing to read)"
    faint, _ = render_scan(["Bản sao mờ: chữ xám nhạt vẫn là chữ"], dpi=150)
    faint = faint.point(lambda shade: 255 - (255 - shade) // 3)   # ink at grey 170 on white
    assert not ocr._is_blank(faint), "a faint photocopy is ink, not a blank page"


def test_missing_tesseract_or_model_names_the_debian_packages(tmp_path: Path, monkeypatch) -> None:
    from PIL import Image

    path = make_scanned_pdf(tmp_path / "scan.pdf", ["Trang một có lớp chữ đầy đủ.", Image.new("L", (600, 800), 255)],
                            dpi=72)
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))     # a Tesseract without the Vietnamese model
    monkeypatch.setattr(ocr, "_languages_seen", False)
    with pytest.raises(LoadError, match=r"page 2 is a scanned image and Tesseract has no Vietnamese model: "
                                        r"install the Debian package tesseract-ocr-vie"):
        load_file(path, "scan.pdf")
    monkeypatch.setenv("PATH", str(tmp_path))                # no tesseract binary at all
    with pytest.raises(LoadError, match=r"OCR is not installed: install the Debian packages tesseract-ocr "
                                        r"tesseract-ocr-vie"):
        load_file(path, "scan.pdf")


# --- slow: real OCR ------------------------------------------------------------------------------

@pytest.mark.slow
def test_mixed_pdf_keeps_page_numbers_and_reads_the_scan(tmp_path: Path) -> None:
    image, reference = render_scan(corpus_lines())
    path = make_scanned_pdf(tmp_path / "mixed.pdf", ["Trang một: lớp chữ của tệp PDF", image])
    loaded = load_file(path, "mixed.pdf")
    assert loaded.paged and len(loaded.pages) == 2 and loaded.encoding == "pdf+ocr"
    assert "Trang một: lớp chữ của tệp PDF" in loaded.pages[0]
    assert "322/PGD-THCS" in loaded.pages[1] and "Trang một" not in loaded.pages[1]
    assert cer("\n".join(reference), loaded.pages[1]) <= MAX_CER
    [(page, confidence)] = loaded.ocr
    assert page == 2 and 85 <= confidence <= 100 and loaded.warnings == ()


@pytest.mark.slow
def test_upside_down_scan_is_turned_before_reading() -> None:
    image, reference = render_scan(corpus_lines(count=4))
    read = ocr.read_image(image.rotate(180))
    assert read.problem is None and cer("\n".join(reference), read.text) <= MAX_CER


@pytest.mark.slow
def test_median_filter_repairs_a_speckled_scan() -> None:
    image, reference = render_scan(corpus_lines(count=6))
    noisy = speckle(image, NOISE)
    raw = ocr.read_image(noisy, despeckle=False)
    cleaned = ocr.read_image(noisy)
    assert cer("\n".join(reference), cleaned.text) <= MAX_CER
    assert cer("\n".join(reference), raw.text) > 3 * MAX_CER, "the noise must hurt, or the test proves nothing"
    assert cleaned.confidence > raw.confidence


@pytest.mark.slow
def test_unreadable_pages_are_reported_by_page_not_dropped(tmp_path: Path) -> None:
    from PIL import Image

    # a script the Vietnamese model cannot read: words found, with a confidence near 16 %
    foreign, _ = render_scan(["ქართული ენა არის ქართველური ენების ოჯახის ენა", "საქართველოს სახელმწიფო ენა"] * 2)
    path = make_scanned_pdf(tmp_path / "bad.pdf", ["Trang một đọc được.", Image.new("L", (2480, 3508), 255), foreign])
    loaded = load_file(path, "bad.pdf")
    assert len(loaded.pages) == 3 and loaded.pages[1:] == ("", "") and loaded.ocr == ()
    assert loaded.warnings[0] == "page 2: blank page (nothing to read)"
    assert loaded.warnings[1].startswith("page 3: OCR confidence ") and "too low" in loaded.warnings[1]


def _figures(count: int = 12) -> None:
    """CER on clean and speckled renders of one A4 page, with and without the median filter; wall seconds
    and CPU seconds (this process plus Tesseract) per page, CPU being what a busy machine cannot inflate."""
    import os

    image, reference = render_scan(corpus_lines(count=count))
    truth = "\n".join(reference)
    for label, page in (("clean", image), (f"speckled {NOISE:.0%}", speckle(image, NOISE))):
        for despeckle in (False, True):
            before, started = os.times(), time.perf_counter()
            read = ocr.read_image(page, despeckle=despeckle)
            after = os.times()
            cpu = sum(after[:4]) - sum(before[:4])
            print(f"{label:13} median={despeckle!s:5} CER={cer(truth, read.text):.4f} confidence={read.confidence:.1f} "
                  f"wall={time.perf_counter() - started:.1f}s cpu={cpu:.1f}s chars={len(truth)} lines={len(reference)}")


if __name__ == "__main__":
    _figures()
