"""Text files -> Unicode, and the helpers every loader shares (legacy-font repair, short reasons, table layout).

Text files are decoded by BOM, UTF-16 byte pattern, UTF-8, Windows-1258 or charset-normalizer;
text typed in legacy Vietnamese fonts (TCVN3/ABC, VNI, VISCII) is converted to Unicode with
viparse's tables and content detector, in every format (a .doc or PDF typed in .VnTime is common).
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Sequence

from indexer.errors import LoadError
from indexer.normalize import is_syllable
from indexer.types import LoadedFile

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_MAGIC = ((b"%PDF-", "a PDF"), (b"PK\x03\x04", "a ZIP/Office file"),
          (OLE_MAGIC, "an old Office .doc/.xls"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"))
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0b\x0c\x1a")
# Letters only Unicode text has (ă đ ơ ư and the precomposed toned vowels), plus combining
# marks as written by Windows-1258: a line holding one is Unicode, never legacy-font bytes.
_UNICODE_VIET = re.compile("[\u0102\u0103\u0110\u0111\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9\u0300-\u036f]")
_LEGACY_MIN_CHARS = 16          # viparse's content detector guesses on shorter samples
_LEGACY_SAMPLE = 20000
_MIN_VIET_SHARE = 0.6           # Vietnamese words are single syllables; mis-decoded bytes are not


def load_text(data: bytes, source: str) -> LoadedFile:
    """A plain text file (.txt, .md) as one page."""
    text, encoding = decode_text(data, source)
    return LoadedFile(source=source, pages=(text,), encoding=encoding)


def unicode_pages(pages: list[str], encoding: str) -> tuple[tuple[str, ...], str]:
    """Pages with legacy-font lines converted, and the encoding label ("docx" or "docx+tcvn3")."""
    fixed, legacy = fix_legacy(pages)
    return tuple(fixed), f"{encoding}+{legacy}" if legacy else encoding


def short_reason(exc: BaseException) -> str:
    """First line of an exception message, cut to a readable length."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= 100 else text[:97] + "..."


def table_lines(rows: Iterable[Sequence[str]]) -> list[str]:
    """The one table layout the structure parser reads (as pasted from Word): a blank line, then each
    cell on its own line and a blank line after each row."""
    lines = [""]
    for row in rows:
        lines.extend(" ".join(cell.split()) for cell in row)
        lines.append("")
    return lines


# --- plain text ------------------------------------------------------------------------------

def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """(text, encoding name) of a text file's bytes; legacy font encodings converted to Unicode."""
    encoding, bom = unicode_encoding(data)
    if encoding:
        text = _strict(data[bom:], encoding.replace("-sig", ""), source)
    else:
        _reject_binary(data, source)
        text, encoding = _decode_8bit(data, source)
    if not text.strip().strip("\ufeff\u200b"):
        raise LoadError(source, "empty file")
    if encoding in ("tcvn3", "vni", "viscii"):
        return text, encoding
    pages, legacy = fix_legacy([text])
    return pages[0], f"{encoding}+{legacy}" if legacy else encoding


def unicode_encoding(data: bytes) -> tuple[str | None, int]:
    """(encoding, BOM length) named by a byte-order mark, or UTF-16 recognised by its zero high bytes."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return _utf16_without_bom(data), 0


def _utf16_without_bom(data: bytes) -> str | None:
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    # Vietnamese and ASCII sit below U+2000, so one byte of each pair is mostly zero.
    name = None
    if zeros_odd > 0.3 and zeros_even < 0.05:
        name = "utf-16-le"
    elif zeros_even > 0.3 and zeros_odd < 0.05:
        name = "utf-16-be"
    if name:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            return None
        if sum(ord(c) < 0x2100 for c in text) < 0.9 * len(text):
            return None                             # "abc\0def\0" pairs into CJK: binary, not UTF-16
    return name


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(source, f"invalid {encoding} text at byte {exc.start}") from exc


def _reject_binary(data: bytes, source: str) -> None:
    """NUL bytes or many control bytes mean the file is not text, whatever its extension says."""
    head = data[:8192]
    controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
    if b"\x00" in data or controls > 0.05 * len(head):
        kind = next((f" (looks like {name})" for magic, name in _MAGIC if data.startswith(magic)), "")
        raise LoadError(source, f"binary content, not text{kind}")


def _decode_8bit(data: bytes, source: str) -> tuple[str, str]:
    """UTF-8 (tolerating a few broken bytes), else Windows-1258 or a legacy font, else charset-normalizer."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if broken <= max(2, len(data) // 2000) and (broken == 0 or any(ord(c) > 0x7F and c != "\ufffd" for c in text)):
        return text, "utf-8"
    latin = data.decode("latin-1")
    legacy_pages, legacy = fix_legacy([latin])
    cp1258 = _try_decode(data, "cp1258")
    if cp1258 is not None and _viet_share(cp1258) >= _MIN_VIET_SHARE:
        if legacy is None or _score(cp1258) >= _score(legacy_pages[0]):
            return unicodedata.normalize("NFC", cp1258), "cp1258"
    if legacy:
        return legacy_pages[0], legacy
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise LoadError(source, "binary content, not text (no text encoding fits)")
    # Equal scores for cp1250/cp1252 on Western text: prefer the far more common Windows-1252.
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        return data.decode("cp1252", errors="replace"), "cp1252"
    return str(best), best.encoding


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _viet_share(text: str) -> float:
    """Share of the words with non-ASCII letters that are Vietnamese syllables (Cyrillic or
    Spanish bytes read as Windows-1258 make letters, but not syllables)."""
    words = [w for w in re.findall(r"[^\W\d_]+", unicodedata.normalize("NFC", text[:_LEGACY_SAMPLE]))
             if not w.isascii()]
    return sum(map(is_syllable, words)) / len(words) if words else 0.0


def _score(text: str) -> float:
    from viparse.normalize.frequency import vietnamese_score

    return vietnamese_score(text[:_LEGACY_SAMPLE])


def fix_legacy(pages: list[str]) -> tuple[list[str], str | None]:
    """Convert lines typed in a legacy Vietnamese font ("Bé Gi¸o dôc" -> "Bộ Giáo dục").

    Only lines with no Unicode-only Vietnamese letter are candidates, so a Unicode header above a
    TCVN3 body stays intact; viparse decides on all candidates together which table fits, if any.
    """
    split = [page.split("\n") for page in pages]
    todo = [(p, i) for p, lines in enumerate(split) for i, line in enumerate(lines)
            if not line.isascii() and not _UNICODE_VIET.search(line)]
    sample = "\n".join(split[p][i] for p, i in todo)[:_LEGACY_SAMPLE]
    if len(sample.strip()) < _LEGACY_MIN_CHARS:
        return pages, None
    from viparse.normalize.detector import detect_encoding_by_content
    from viparse.normalize.encodings import AUTO_DETECT_CHARMAPS, CHARMAPS
    from viparse.normalize.tables import convert

    verdict = detect_encoding_by_content(sample, AUTO_DETECT_CHARMAPS).encoding
    if verdict is None:
        return pages, None
    for p, i in todo:
        split[p][i] = convert(split[p][i], CHARMAPS[verdict])
    return ["\n".join(lines) for lines in split], verdict
