"""indexer.loaders.zipguard: ZIP bombs and hostile archives are refused fast and without memory, before
python-docx or openpyxl inflate anything (the probe of issue 12: a 1 MB bomb named .docx took 10 s and
2.6 GB). Bombs are built here byte by byte: a real deflate stream of 1 GiB of spaces is 1 MB."""
from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from indexer.errors import LoadError
from indexer.loaders import ZipLimits, check_zip, load_file
from tests.docfactory import make_docx

_MiB = 1 << 20


def raw_zip(members: list[tuple[str, bytes, int, int]], flags: int = 0) -> bytes:
    """A ZIP of already-deflated members (name, deflate stream, crc32, uncompressed size)."""
    body, directory = bytearray(), bytearray()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        body += encoded + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 8, 0, 0, crc, len(data), size,
                                 len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    return bytes(body + directory + end)


def deflated(text: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(text) + packer.flush(), zlib.crc32(text), len(text)


def spaces(mib: int) -> tuple[bytes, int, int]:
    """`mib` MiB of spaces as one deflate stream of about `mib` KB, built without compressing them all
    (after a full flush every 1 MiB block compresses to the same bytes)."""
    block = b" " * _MiB
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = first * mib + packer.flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return stream, crc, mib * _MiB


@pytest.fixture(scope="module")
def bomb_member() -> tuple[bytes, int, int]:
    """1 GiB of spaces in a 1 MB deflate stream."""
    return spaces(1024)


@pytest.mark.parametrize(("name", "part"), [("bomb.docx", "word/document.xml"), ("bomb.xlsx", "xl/worksheets/sheet1.xml")])
def test_zip_bomb_disguised_as_office_file_is_refused_fast(tmp_path: Path, bomb_member, name: str, part: str) -> None:
    data = raw_zip([("[Content_Types].xml", *deflated(b"<Types/>")), (part, *bomb_member)])
    assert len(data) < 1.1 * _MiB
    (tmp_path / name).write_bytes(data)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(LoadError) as info:
        load_file(tmp_path / name, name)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert info.value.reason == "ZIP package unpacks to more than 256 MB (zip bomb?); refused before unpacking"
    assert seconds < 0.5 and peak < 8 * _MiB, (seconds, peak)


def test_member_compressed_beyond_the_ratio_is_refused() -> None:
    member = deflated(b" " * (20 * _MiB))                      # 20 MB under the total, but 1000:1
    with pytest.raises(LoadError, match=r"ZIP member 'word/document.xml' is compressed \d+:1 \(limit 100:1"):
        check_zip(raw_zip([("word/document.xml", *member)]), "a.docx")


def test_declared_sizes_that_lie_are_caught_while_inflating() -> None:
    stream, crc, _size = deflated(b"<w:t>" * (2 * _MiB))       # 10 MB that claims to be 1 KB
    started = time.perf_counter()
    with pytest.raises(LoadError, match=r"^a\.docx: corrupt ZIP package: Bad CRC-32"):
        check_zip(raw_zip([("word/document.xml", stream, crc, 1024)]), "a.docx")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/cron.d/x", "C:/x.txt", "a/../../b.txt", "a\\..\\..\\b.txt"])
def test_member_names_leaving_the_folder_are_refused(name: str) -> None:
    with pytest.raises(LoadError, match="points outside the archive"):
        check_zip(raw_zip([("ok.txt", *deflated(b"x")), (name, *deflated(b"x"))]), "upload.zip")


def test_encrypted_members_and_member_count() -> None:
    with pytest.raises(LoadError, match=r"ZIP member 'a\.txt' is encrypted"):
        check_zip(raw_zip([("a.txt", *deflated(b"x"))], flags=1), "x.zip")
    many = raw_zip([(f"{i}.txt", *deflated(b"x")) for i in range(6)])
    with pytest.raises(LoadError, match=r"ZIP package has 6 members \(limit 5\)"):
        check_zip(many, "x.zip", ZipLimits(max_members=5))
    assert len(check_zip(many, "x.zip")) == 6


def test_real_packages_pass_as_bytes_file_or_path(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "a.docx", ["Hướng dẫn kiểm tra cuối kỳ"], [["Khối", "Số tiết"], ["Lớp 6", "4"]])
    names = {i.filename for i in check_zip(path, "a.docx")}
    assert "word/document.xml" in names
    assert {i.filename for i in check_zip(path.read_bytes(), "a.docx")} == names
    with open(path, "rb") as handle:
        assert {i.filename for i in check_zip(handle, "a.docx")} == names
    with pytest.raises(LoadError, match="corrupt ZIP package"):
        check_zip(b"PK\x03\x04 not really", "b.zip")
    assert zipfile.is_zipfile(io.BytesIO(path.read_bytes()))
