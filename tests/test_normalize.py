"""indexer.normalize on the real corpus and on small strings: NFC, tone placement, dashes, quotes,
footnote markers, space repair (precision on well-spaced files, recall on the web-scrape seed), fold."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from indexer.normalize import (
    NORMALIZER_VERSION,
    fold,
    is_syllable,
    main,
    normalize_query,
    normalize_text,
    repair_report,
)

CORPUS = sorted((Path(__file__).resolve().parents[1] / "corpus").glob("*.txt"))
SEED = next(p for p in CORPUS if p.name.startswith("son-la"))      # web scrape with missing spaces
WELL_SPACED = [p for p in CORPUS if p != SEED]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_corpus_is_present() -> None:
    assert len(CORPUS) == 5 and len(WELL_SPACED) == 4


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_idempotent_on_corpus(path: Path) -> None:
    once = normalize_text(_read(path))
    assert normalize_text(once) == once
    assert unicodedata.is_normalized("NFC", once)


@pytest.mark.parametrize("path", WELL_SPACED, ids=lambda p: p.name)
def test_space_repair_leaves_well_spaced_documents_alone(path: Path) -> None:
    text = _read(path)
    assert normalize_text(text) == normalize_text(text, repair_spaces=False)
    assert repair_report(text)["glued"] == 0


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_fold_keeps_length_on_corpus(path: Path) -> None:
    for text in (unicodedata.normalize("NFC", _read(path)), normalize_text(_read(path))):
        folded = fold(text)
        assert len(folded) == len(text)
        assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", folded))
        assert "đ" not in folded and "Đ" not in folded


# Glued tokens from the web-scrape seed (son-la...), checked by hand against the meaning.
SEED_REPAIRS = [
    ("Vềchủtrương", "Về chủ trương"),
    ("tỷlệtốt", "tỷ lệ tốt"),
    ("ngày30tháng 11năm 2020THÔNG BÁO", "ngày 30 tháng 11 năm 2020 THÔNG BÁO"),
    ("UBND TỈNH SƠN LASỞ GIÁO DỤCVÀ ĐÀO TẠOSố:460/TB-SGDĐT",
     "UBND TỈNH SƠN LA SỞ GIÁO DỤC VÀ ĐÀO TẠO Số:460/TB-SGDĐT"),
    ("VIỆT NAMĐộc lập", "VIỆT NAM Độc lập"),
    ("THÔNG BÁOKết luận", "THÔNG BÁO Kết luận"),
    ("Côngvăn3414/BGDĐT-GDTrH", "Công văn 3414/BGDĐT-GDTrH"),
    ("năm học2020-2021Thựchiện Chỉthịsố", "năm học 2020-2021 Thực hiện Chỉ thị số"),
    ("2020-2021của", "2020-2021 của"),
    ("2020-2021,ngày", "2020-2021, ngày"),
    ("Đào tạo(GDĐT)về", "Đào tạo (GDĐT) về"),
    ("Giám đốc SởGD&ĐT", "Giám đốc Sở GD&ĐT"),
    ("tập thểLãnh đạo", "tập thể Lãnh đạo"),
    ("cảmột quá trình", "cả một quá trình"),
    ("thi thửởlớp", "thi thử ở lớp"),
    ("cơbản giữổn định", "cơ bản giữ ổn định"),
    ("nghiệp THPTcho lớp 12trong", "nghiệp THPT cho lớp 12 trong"),
    ("THPTnăm 2021", "THPT năm 2021"),
    ("chất lượngvàhiệu quả", "chất lượng và hiệu quả"),
    ("làhọc sinhlớp12", "là học sinh lớp 12"),
    ("vàcáctổchuyênmôn;", "và các tổ chuyên môn;"),
    ("kỹthuậtsửdụng", "kỹ thuật sử dụng"),
    ("Nghịquyết 88/2019/QH14ngày", "Nghị quyết 88/2019/QH14 ngày"),
    ("VụGDTrH tổchức", "Vụ GDTrH tổ chức"),
    ("hệGDTX(phối hợp", "hệ GDTX (phối hợp"),
    ("phòng GDĐThuyện/thành phốphải", "phòng GDĐT huyện/thành phố phải"),
    ("giáo dục STEM,kỹnăng", "giáo dục STEM, kỹ năng"),
    ("Đềán tổng thể", "Đề án tổng thể"),
    ("Tăng cườngứng dụng", "Tăng cường ứng dụng"),
    ("mởrộngsửdụngsổđiện tử(sổđiểm,", "mở rộng sử dụng sổ điện tử (sổ điểm,"),
    ("Hội liên hiệpPhụnữ...)", "Hội liên hiệp Phụ nữ...)"),
    ("trong nhà trường.Nhà trường", "trong nhà trường. Nhà trường"),
    ("-sạch -đẹp-antoàn-không", "-sạch -đẹp-an toàn-không"),
    ("học kỳ1", "học kỳ 1"),
    ("trung học1.1.Tiếp tục", "trung học 1.1. Tiếp tục"),
]


@pytest.mark.parametrize(("glued", "expected"), SEED_REPAIRS)
def test_seed_glued_tokens_split_as_checked_by_hand(glued: str, expected: str) -> None:
    assert glued in _read(SEED)
    assert normalize_text(glued) == expected


@pytest.mark.parametrize("text", [
    "3089/BGDĐT-GDTrH", "GD&ĐT", "TH&THCS", "COVID-19", "THCS", "STEM", "Thursday, 19/05/2022 - 02:09|",
    "trong", "thanh", "nghiêng", "Quyết Thắng", "Số: 897/PH-GDĐT", "lớp 10A1, lớp 6a, 12a1", "2nd 5km 7h30 F0",
    "iPhone PowerPoint ThS. PGS.TS TP.HCM KHoa", "calo vitamin online video camera internet",
    "CT GDPT 2018¹ đối với", "0,43 %", "lúc 7:30", "https://moet.gov.vn/a2020thong", "email@sgd.edu.vn",
    "(V)edit.doc", "52.2015.Đ8.doc", "10mm+1mm.D", "ôn thi.Ở",
])
def test_repair_never_splits_words_numbers_or_codes(text: str) -> None:
    assert normalize_text(text) == text


def test_repair_share_on_seed_is_printed_and_high() -> None:
    report = repair_report(_read(SEED))
    print(f"\nspace repair on {SEED.name}: {report['repaired']}/{report['glued']} glued tokens "
          f"repaired ({report['share_repaired']:.1%}), left: {report['left_tokens']}")
    assert report["glued"] >= 500
    assert report["share_repaired"] >= 0.95


def test_report_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--report", str(SEED)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["repaired"] + report["left"] == report["glued"]


@pytest.mark.parametrize(("old", "new"), [
    ("hoà", "hòa"), ("Hoà", "Hòa"), ("HOÀ", "HÒA"), ("thuỷ", "thủy"), ("Thuỷ", "Thủy"), ("THUỶ", "THỦY"),
    ("khoẻ", "khỏe"), ("Khoẻ", "Khỏe"), ("uỷ ban", "ủy ban"), ("Uỷ", "Ủy"), ("hoạ", "họa"), ("toạ đàm", "tọa đàm"),
    ("xoè", "xòe"), ("hoá", "hóa"), ("luỹ", "lũy"), ("CỘNG HOÀ", "CỘNG HÒA"),
])
def test_tone_mark_moves_to_modern_place(old: str, new: str) -> None:
    assert normalize_text(old) == new
    assert normalize_query(old) == new


@pytest.mark.parametrize("word", ["quý", "Quý", "quà", "quỳ", "quẻ", "hoàn", "thuyết", "Huỳnh", "khuya", "ngoài",
                                  "hòa", "thủy", "khỏe", "khuỷu", "hoài", "oai"])
def test_tone_mark_already_right_or_not_applicable(word: str) -> None:
    assert normalize_text(word) == word


def test_old_style_tones_in_seed_are_unified() -> None:
    raw = _read(SEED)
    assert "CỘNG HOÀ" in raw
    assert "CỘNG HÒA" in normalize_text(raw) and "HOÀ " not in normalize_text(raw)


def test_dashes_and_quotes() -> None:
    assert normalize_text("năm học 2024–2025 và 2020—2021") == "năm học 2024-2025 và 2020-2021"
    assert normalize_text("xanh – sạch – đẹp") == "xanh - sạch - đẹp"
    assert normalize_text("“phổ thông, cơ bản” và ‘dạy thật’") == '"phổ thông, cơ bản" và \'dạy thật\''
    assert normalize_text("COVID‑19 −5") == "COVID-19 -5"


def test_footnote_markers_kept_and_separated() -> None:
    assert normalize_text("CT GDPT 2018¹ đối với") == "CT GDPT 2018¹ đối với"
    assert normalize_text("CT GDPT 2018¹đối với") == "CT GDPT 2018¹ đối với"
    assert normalize_text("năm 2018¹2") == "năm 2018¹ 2"
    raw = _read(next(p for p in CORPUS if p.name.startswith("an-lao")))
    out = normalize_text(raw)
    for marker in "¹²³⁴⁵⁶⁷⁸⁹":
        assert raw.count(marker) == out.count(marker) > 0
    assert "2018¹" in out and "20181" not in out


def test_spaces_lines_and_invisible_characters() -> None:
    assert normalize_text("a\u00a0b\u200bc\u00adđ\tđ  e   \r\nx") == "a bcđ đ e\nx"
    assert normalize_text("\tSTT\n\tNội dung  \n\t\n\t2019-2020") == "STT\nNội dung\n\n2019-2020"
    assert normalize_text("a\n\n\n\n\n\nb\n\n\nc") == "a\n\n\nb\n\n\nc"
    assert normalize_text("\n\n  a  \n\n") == "a"


def test_combining_marks_from_cp1258_become_nfc() -> None:
    cp1258 = "Bo\u0323\u0302 Gia\u0301o du\u0323c va\u0300 \u0110a\u0300o ta\u0323o, ho\u0300a bi\u0300nh"
    assert normalize_text(cp1258) == "Bộ Giáo dục và Đào tạo, hòa bình"
    raw = _read(WELL_SPACED[0])
    decomposed = unicodedata.normalize("NFD", raw)
    assert normalize_text(decomposed) == normalize_text(raw)


def test_d_with_stroke() -> None:
    assert fold("Đào ĐẠI đề") == "dao dai de"
    assert normalize_text("Ðào tạo") == "Đào tạo"          # U+00D0 (eth) look-alike
    assert fold("Ðào") == "dao"
    assert is_syllable("Đào") and is_syllable("ĐÀO")


def test_fold_examples_and_length_on_odd_input() -> None:
    assert fold("Nghị quyết 88/2019/QH14 – Hòa") == "nghi quyet 88/2019/qh14 – hoa"
    for text in ("İstanbul", "a\u0301\u0323", "ǅ", "ﬁ", "¹²", ""):
        assert len(fold(text)) == len(text)


def test_normalize_query_is_one_line() -> None:
    assert normalize_query("  Hoà   bình\n thuỷ  ") == "Hòa bình thủy"
    assert normalize_query("ngày30 tháng 9") == "ngày 30 tháng 9"
    assert normalize_query("“STEM” 2020–2021") == '"STEM" 2020-2021'


def test_syllable_grammar() -> None:
    for word in ("nghiêng", "quý", "quốc", "giữa", "gìn", "giếng", "khuỷu", "yêu", "được", "người", "xoong", "ứng"):
        assert is_syllable(word), word
    for word in ("tồt", "STEM", "Thursday", "ce", "ngi", "kan", "ghá", "iêu", "camera", ""):
        assert not is_syllable(word), word


def test_version_is_stamped() -> None:
    assert isinstance(NORMALIZER_VERSION, str) and NORMALIZER_VERSION
