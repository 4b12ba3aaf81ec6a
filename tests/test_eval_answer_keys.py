"""The answer rule (eval/answer_keys.py): folded containment of every key, numbers kept whole."""
from __future__ import annotations

import pytest

from eval.answer_keys import contains_key, fold_answer, is_correct, missing_keys, scored_text
from eval.relevance import fold_for_match


@pytest.mark.parametrize("text, folded", [
    ("Nguyễn Phúc Tăng", "nguyenphuctang"),
    ("ĐỔI MỚI, Đào tạo!", "doimoidaotao"),           # the DESIGN.md fold on words
    ("Ho\u0323c sinh", "hocsinh"),                  # combining mark (NFD) -> NFC first
    ("0,6 %", "0,6"),                               # a decimal mark stays between digits
    ("75.7 %", "75,7"),
    ("2020-2021", "2020 2021"),                     # any other gap between digits: one space
    ("12 % 12,5 %", "12 12,5"),
    ("Ngày 31/10/2020 (thứ Bảy)", "ngay31 10 2020thubay"),
    ("01 phòng học", "1phonghoc"),                  # leading zeros go ...
    ("8 giờ 00 phút", "8gio0phut"),
    ("0,05", "0,05"),                               # ... but not after a decimal mark
    ("tối thiểu96%", "toithieu96"),                 # glued words and numbers as in the Sơn La scrape
    ("CT GDPT 2018¹ đối", "ctgdpt2018¹doi"),        # a footnote marker is no digit
])
def test_fold_answer(text, folded):
    assert fold_answer(text) == folded


def test_fold_answer_is_the_relevance_fold_plus_number_marks():
    # without leading zeros, dropping the marks gives back exactly the DESIGN.md fold
    for text in ("Vềchủtrương, định hướng", "Học sinh THCS\n\t0,43 %\n\t0,6 %", "Số:460/TB-SGDĐT",
                 "Công văn số3089/BGDĐT-GDTrH ngày 14/8/2020", "Sở GD&ĐT Sơn La"):
        assert fold_answer(text).replace(",", "").replace(" ", "") == fold_for_match(text), text


@pytest.mark.parametrize("answer, key, expected", [
    ("Phó Giám đốc NGUYEN PHUC TANG", "Nguyễn Phúc Tăng", True),
    ("Về chủ trương, định hướng chung", "Vềchủtrương", True),
    ("Tỷ lệ 0,6%", "0,6 %", True),
    ("học sinh THCS 0,43 % 0,6 %", "0,6 %", True),
    ("Trên chuẩn đào tạo sư phạm 12 % 12,5 %", "12,5 %", True),   # a table row read whole
    ("ít nhất 1 phòng học thông minh", "01 phòng học thông minh", True),
    ("tại 04 trườngmâm non", "04 trường", True),
    ("2 lần/năm học", "2lần/năm học", True),
    # plain folded containment would accept every one of these:
    ("năm học 2020-2021", "20 %", False),          # "2020" is not "20"
    ("06 trường", "0,6 %", False),                  # "06" is not "0,6"
    ("10,6 %", "0,6 %", False),
    ("0,6 trường", "06 trường", False),
    ("116 phường", "16 phường", False),
    ("lớp 10", "lớp 1", False),
    ("Nguyễn Phúc", "Nguyễn Phúc Tăng", False),
])
def test_contains_key(answer, key, expected):
    assert contains_key(answer, key) is expected


def test_a_later_occurrence_can_match_when_the_first_cuts_a_number():
    assert contains_key("năm 2020: 20 %", "20 %")


def test_is_correct_needs_every_key_and_an_answer():
    keys = ["Nguyễn Minh Hoàng", "Lê Quý Đôn", "Lữ Gia"]
    assert is_correct("THCS Nguyễn Minh Hoàng, THCS Lê Quý Đôn và THCS Lữ Gia", keys)
    assert not is_correct("THCS Nguyễn Minh Hoàng, THCS Lê Quý Đôn", keys)
    assert missing_keys("THCS Nguyễn Minh Hoàng, THCS Lê Quý Đôn", keys) == ["Lữ Gia"]
    assert not is_correct(None, keys) and missing_keys(None, keys) == keys
    assert not is_correct("", keys)
    assert not is_correct("anything", [])          # a query without keys can never be "correct"


def test_a_list_answer_is_scored_by_its_items():
    items = [{"text": "THCS Trường Sơn"}, {"text": "Quốc Tuấn"}]
    answer = {"text": "Hoàn thành trước tháng 12/2024: ...", "items": items}
    assert scored_text(answer) == "THCS Trường Sơn\nQuốc Tuấn"
    assert is_correct(scored_text(answer), ["Trường Sơn", "Quốc Tuấn"])
    assert scored_text({"text": "0,6 %", "items": None}) == "0,6 %"
    assert scored_text(None) is None
