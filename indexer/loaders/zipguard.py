"""ZIP bombs and hostile archives, refused before any parser inflates them (DOCX, XLSX, bulk .zip uploads).

`check_zip` reads only the central directory first: member count, names, declared sizes and
compression ratios. A 1 MB file declaring a gigabyte is refused in microseconds. Declared sizes can
lie, so the members are then inflated in bounded chunks (never more than 1 MiB at a time and never
past the declared size; Python's zipfile stops there too and fails the CRC), which proves the
declared sizes true before python-docx or openpyxl builds a tree from them.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from indexer.errors import LoadError
from indexer.loaders.text import short_reason

_MiB = 1024 * 1024
_CHUNK = _MiB


@dataclass(frozen=True)
class ZipLimits:
    """What an archive may declare. Office XML compresses 5-20x; a ratio near 1000 is a bomb."""

    max_members: int = 5_000
    max_total: int = 256 * _MiB          # declared uncompressed bytes of all members together
    max_ratio: float = 100.0             # uncompressed / compressed, for members above ratio_floor
    ratio_floor: int = _MiB              # small members (styles, settings) legitimately compress 100x+
    inflate: bool = True                 # also inflate every member to prove the declared sizes


OFFICE_LIMITS = ZipLimits()


def check_zip(data: bytes | BinaryIO | Path, source: str, limits: ZipLimits = OFFICE_LIMITS) -> list[zipfile.ZipInfo]:
    """The members of a ZIP archive once it is shown not to be a bomb; LoadError names the file and the limit.

    Also refuses member names that would leave an extraction folder ("../x", "/etc/x", "C:x"), so the
    bulk-upload path can extract with the same call.
    """
    handle: BinaryIO | Path = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        with zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
            _check_declared(members, source, limits)
            if limits.inflate:
                for info in members:
                    _inflate(archive, info, source)
    except LoadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise LoadError(source, f"corrupt ZIP package: {short_reason(exc)}") from exc
    return members


def _check_declared(members: list[zipfile.ZipInfo], source: str, limits: ZipLimits) -> None:
    if len(members) > limits.max_members:
        raise LoadError(source, f"ZIP package has {len(members)} members (limit {limits.max_members}); refused")
    total = 0
    for info in members:
        _check_name(info.filename, source)
        if info.flag_bits & 0x1:
            raise LoadError(source, f"ZIP member {info.filename!r} is encrypted")
        total += info.file_size
        if total > limits.max_total:
            raise LoadError(source, f"ZIP package unpacks to more than {limits.max_total // _MiB} MB "
                                    f"(zip bomb?); refused before unpacking")
        if info.file_size > limits.ratio_floor:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise LoadError(source, f"ZIP member {info.filename!r} is compressed {ratio:.0f}:1 "
                                        f"(limit {limits.max_ratio:.0f}:1, zip bomb?); refused before unpacking")


def _check_name(name: str, source: str) -> None:
    """A member name must stay inside the folder it is extracted to."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if "\x00" in name or posix.startswith("/") or ".." in parts or (len(posix) > 1 and posix[1] == ":"):
        raise LoadError(source, f"ZIP member name {name!r} points outside the archive; refused")


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> None:
    """Inflate one member in bounded chunks; zipfile stops at the declared size and checks the CRC."""
    if info.is_dir():
        return
    seen = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            seen += len(chunk)
    if seen != info.file_size:
        raise LoadError(source, f"ZIP member {info.filename!r} holds {seen} bytes, not the {info.file_size} it declares")
