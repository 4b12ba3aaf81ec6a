"""search_api.archive on real zip files built here: unsafe names, zip bombs, nesting, passwords, limits."""
from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from search_api import archive

LIMIT = 20 * 1024 * 1024
TEXT = "KẾ HOẠCH\nTổ chức hội thi giáo viên dạy giỏi năm học 2021-2022.\n".encode()


def make_zip(members: list[tuple[str, bytes]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
    buffer.seek(0)
    return buffer


def reasons(members: list[archive.Member]) -> dict[str, str | None]:
    return {m.name: m.reason for m in members}


def test_good_members_are_unpacked_with_their_folders(tmp_path: Path) -> None:
    source = make_zip([("2021/Kế hoạch.txt", TEXT), ("2022/Kế hoạch.txt", TEXT + b"!"), ("__MACOSX/._x", b"x"),
                       (".DS_Store", b"x"), ("rong/", b"")])
    members = archive.unpack(source, "ho-so.zip", tmp_path / "out", LIMIT)
    assert [m.name for m in members] == ["ho-so.zip/2021/Kế hoạch.txt", "ho-so.zip/2022/Kế hoạch.txt"]
    assert [m.parts for m in members] == [("2021", "Kế hoạch.txt"), ("2022", "Kế hoạch.txt")]
    assert all(m.reason is None and m.path is not None for m in members)
    assert members[1].path.read_bytes() == TEXT + b"!"


@pytest.mark.parametrize("name,reason", [
    ("../../etc/cron.d/x.txt", "leaves the archive"),
    ("a/../../x.txt", "leaves the archive"),
    ("/etc/passwd.txt", "absolute path"),
    ("C:/Windows/x.txt", "absolute path"),
    ("..\\..\\x.txt", "backslashes"),
    ("thu-muc\\x.txt", "backslashes"),
    ("ben-trong.zip", "archives inside the archive"),
    ("ben-trong.tar.gz", "archives inside the archive"),
])
def test_unsafe_members_are_refused_and_the_rest_go_on(tmp_path: Path, name: str, reason: str) -> None:
    source = make_zip([(name, TEXT), ("tot.txt", TEXT)])
    out = tmp_path / "out"
    found = reasons(archive.unpack(source, "x.zip", out, LIMIT))
    assert reason in (found[f"x.zip/{name}"] or "")
    assert found["x.zip/tot.txt"] is None
    assert len(list(out.iterdir())) == 1  # only the good member reached the disk
    assert not (tmp_path / "etc").exists() and not Path("/etc/cron.d/x.txt").exists()


def test_declared_size_over_the_limit_is_refused_before_inflating(tmp_path: Path) -> None:
    source = make_zip([("lon.txt", b"a" * (3 * 1024 * 1024)), ("tot.txt", TEXT)])
    found = reasons(archive.unpack(source, "x.zip", tmp_path / "out", 2 * 1024 * 1024))
    assert "too large: 3.0 MB uncompressed (limit 2 MB)" == found["x.zip/lon.txt"]
    assert found["x.zip/tot.txt"] is None


def test_compression_ratio_of_a_bomb_is_refused(tmp_path: Path) -> None:
    zeros = b"\0" * (8 * 1024 * 1024)  # deflates to ~8 KB: a 1000:1 ratio
    source = make_zip([("bom.txt", zeros)])
    assert source.getbuffer().nbytes < 64 * 1024
    (member,) = archive.unpack(source, "x.zip", tmp_path / "out", LIMIT)
    assert member.reason is not None and "suspicious compression ratio" in member.reason
    assert not any((tmp_path / "out").iterdir())


def test_a_header_that_lies_about_the_size_cannot_inflate_past_it(tmp_path: Path) -> None:
    """Patch both headers to declare 1 KB for a member that inflates to 1 MB of text."""
    body = ("Kế hoạch năm học. " * 60_000).encode()[: 1024 * 1024]
    raw = bytearray(make_zip([("noi-doi.txt", body)]).getvalue())
    real = struct.pack("<I", len(body))
    assert raw.count(real) == 2  # local header and central directory
    raw = raw.replace(real, struct.pack("<I", 1024))
    (member,) = archive.unpack(io.BytesIO(bytes(raw)), "x.zip", tmp_path / "out", LIMIT)
    assert member.reason is not None
    assert "declared size" in member.reason or "corrupt member" in member.reason
    assert not any((tmp_path / "out").iterdir())


def test_password_protected_members_are_refused(tmp_path: Path) -> None:
    raw = bytearray(make_zip([("mat-khau.txt", TEXT)]).getvalue())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the "encrypted" bit in both headers
        at = raw.index(signature) + offset
        raw[at] |= 0x1
    (member,) = archive.unpack(io.BytesIO(bytes(raw)), "x.zip", tmp_path / "out", LIMIT)
    assert member.reason == "the member is password-protected"


def test_too_many_members_are_reported_not_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    source = make_zip([(f"{i}.txt", TEXT) for i in range(5)])
    members = archive.unpack(source, "x.zip", tmp_path / "out", LIMIT)
    assert [m.reason is None for m in members] == [True, True, True, False, False]
    assert "more than 3 files" in (members[-1].reason or "")


def test_total_uncompressed_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", len(TEXT) * 2)
    members = archive.unpack(make_zip([(f"{i}.txt", TEXT) for i in range(3)]), "x.zip", tmp_path / "out", LIMIT)
    assert [m.reason is None for m in members] == [True, True, False]


def test_not_a_zip_is_one_readable_refusal(tmp_path: Path) -> None:
    (member,) = archive.unpack(io.BytesIO(b"PK\x03\x04 not really"), "hong.zip", tmp_path / "out", LIMIT)
    assert member.name == "hong.zip" and "not a readable zip archive" in (member.reason or "")
