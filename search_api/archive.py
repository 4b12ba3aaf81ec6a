"""Unpacking an uploaded .zip into single files, with the guards a hostile archive needs.

Every member is judged on its own: one with an unsafe name (``..``, an absolute path, backslashes),
a declared size or compression ratio that looks like a zip bomb, a password, or an archive inside the
archive is reported with its reason while the other members go on. Sizes are checked three times:
the sizes the central directory declares (before anything is inflated), their sum over the archive,
and the bytes actually inflated while streaming (a lying header cannot make a member bigger).
"""
from __future__ import annotations

import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

MAX_MEMBERS = 2000                    # files in one archive; the rest are reported, not unpacked
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # uncompressed bytes of one archive, summed over its members
MAX_RATIO = 100                       # uncompressed : compressed; Word files and PDFs are near 1, text ~5-10
_RATIO_FLOOR = 1024 * 1024            # small members may compress better than that harmlessly
_CHUNK = 1024 * 1024
NESTED = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz")
_IGNORED_PARTS = ("__MACOSX",)        # macOS resource forks: not documents, not worth a report
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


@dataclass(frozen=True)
class Member:
    """One file of an archive: unpacked to `path`, or refused with `reason`."""

    name: str                          # as shown to people: "ho-so.zip/2021/ke-hoach.pdf"
    parts: tuple[str, ...]             # its path inside the archive, one component per folder
    path: Path | None = None
    reason: str | None = None


def is_zip(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def unpack(source: BinaryIO, label: str, dest: Path, max_member_bytes: int) -> list[Member]:
    """Unpack the members of the zip `source` (shown as `label`) into `dest`; refused members carry a reason."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return [Member(label, (label,), reason=f"not a readable zip archive ({exc})")]
    out: list[Member] = []
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = member_name(info)
            parts = tuple(PurePosixPath(name).parts)
            reason = refusal(info, name, max_member_bytes)
            if reason is None and any(p.startswith(".") or p in _IGNORED_PARTS for p in parts):
                continue  # hidden files and macOS resource forks are not documents
            shown = f"{label}/{name}"
            if reason is None and len(out) >= MAX_MEMBERS:
                reason = f"the archive has more than {MAX_MEMBERS} files; upload the rest in another archive"
            if reason is None and total + info.file_size > MAX_TOTAL_BYTES:
                reason = f"the archive unpacks to more than {MAX_TOTAL_BYTES // 1024 ** 3} GB; split it"
            if reason is None:
                total += info.file_size
                target = dest / f"{len(out):05d}{PurePosixPath(name).suffix.lower()}"
                reason = _extract(archive, info, target, min(info.file_size, max_member_bytes))
                if reason is None:
                    out.append(Member(shown, parts, path=target))
                    continue
            out.append(Member(shown, parts or (name,), reason=reason))
    return out


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author typed it: archives made on Windows without the UTF-8 flag store
    names in a legacy code page, which zipfile decodes as cp437 ("Kß║┐ hoß║ích"); UTF-8 bytes are tried first."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def refusal(info: zipfile.ZipInfo, name: str, max_member_bytes: int) -> str | None:
    """Why a member must not be unpacked, judged from the central directory alone (nothing inflated yet)."""
    if "\\" in name:
        return "unsafe name: backslashes are not allowed in archive paths"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "unsafe name: absolute path"
    if ".." in PurePosixPath(name).parts:
        return "unsafe name: the path leaves the archive (..)"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "unsafe name: control characters"
    if name.lower().endswith(NESTED):
        return "archives inside the archive are not unpacked; upload it on its own"
    if info.flag_bits & _ENCRYPTED_FLAG:
        return "the member is password-protected"
    if info.file_size > max_member_bytes:
        return f"too large: {info.file_size / 1024 ** 2:.1f} MB uncompressed (limit {max_member_bytes // 1024 ** 2} MB)"
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return f"suspicious compression ratio {ratio}:1 (zip bomb?); not unpacked"
    return None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> str | None:
    """Stream one member to `target`, stopping past `limit` bytes; the reason on failure, None on success."""
    written = 0
    try:
        with archive.open(info) as member, open(target, "wb") as out:
            while chunk := member.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise _Oversize
                out.write(chunk)
    except _Oversize:
        target.unlink(missing_ok=True)
        return "the member inflates past its declared size (zip bomb?); not unpacked"
    except NotImplementedError:
        target.unlink(missing_ok=True)
        return "unsupported compression method"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:  # CRC or deflate damage
        target.unlink(missing_ok=True)
        return f"corrupt member ({type(exc).__name__})"
    return None


class _Oversize(Exception):
    pass
