"""The answer rule: an `ask` answer is correct when it contains every answer key of its query.

Both texts get the DESIGN.md fold (NFC, lowercase, no diacritics, đ -> d, letters and digits only),
so "NGUYEN PHUC TANG" holds "Nguyễn Phúc Tăng" and "Về chủ trương" holds "Vềchủtrương". Dropping
every separator would also merge numbers, though: "0,6 %" would fold to "06" and be found in
"06 trường", and "20 %" would be found in any answer that names the school year "2020-2021". So
this fold keeps where a number is cut: between two digit runs it writes "," for a single "," or "."
(a decimal or thousands mark: "0,6" -> "0,6", "75.7" -> "75,7") and " " for any other gap
("2020-2021" -> "2020 2021", "12 % 12,5 %" -> "12 12,5"); leading zeros go ("01" -> "1",
"07/9" -> "7 9") except after a decimal mark ("0,05"). A key must then sit on whole numbers: a
key starting (ending) with a digit may not follow (precede) a digit or a decimal mark.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping

from indexer.normalize import fold

_DIGITS = frozenset("0123456789")      # ASCII only: footnote markers ("2018¹") count as letters
_DECIMAL_GAPS = frozenset({",", "."})
_DECIMAL, _GAP = ",", " "               # what a gap between two digit runs becomes


def fold_answer(text: str) -> str:
    """Fold `text` for answer matching: the DESIGN.md fold, with number boundaries kept."""
    folded = fold(unicodedata.normalize("NFC", text))
    out: list[str] = []
    gap = ""                 # separators seen since the last letter or digit kept
    after_digit = False      # the last character kept is a digit
    i = 0
    while i < len(folded):
        if folded[i] in _DIGITS:
            j = i
            while j < len(folded) and folded[j] in _DIGITS:
                j += 1
            decimal = after_digit and gap in _DECIMAL_GAPS
            if after_digit and gap:
                out.append(_DECIMAL if decimal else _GAP)
            run = folded[i:j]
            out.append(run if decimal else run.lstrip("0") or "0")
            after_digit, gap, i = True, "", j
            continue
        if folded[i].isalnum():
            out.append(folded[i])
            after_digit, gap = False, ""
        else:
            gap += folded[i]
        i += 1
    return "".join(out)


def _glued(char: str) -> bool:
    """A character that would continue a number at the edge of a key."""
    return char in _DIGITS or char == _DECIMAL


def contains_folded(folded_text: str, folded_key: str) -> bool:
    """`folded_key` occurs in `folded_text` (both from fold_answer) without cutting a number."""
    if not folded_key:
        return False
    start = folded_text.find(folded_key)
    while start >= 0:
        end = start + len(folded_key)
        cut_before = folded_key[0] in _DIGITS and start > 0 and _glued(folded_text[start - 1])
        cut_after = folded_key[-1] in _DIGITS and end < len(folded_text) and _glued(folded_text[end])
        if not cut_before and not cut_after:
            return True
        start = folded_text.find(folded_key, start + 1)
    return False


def contains_key(text: str, key: str) -> bool:
    """True when `text` holds `key` by the answer rule (folded, numbers whole)."""
    return contains_folded(fold_answer(text), fold_answer(key))


def missing_keys(answer: str | None, keys: Iterable[str]) -> list[str]:
    """The keys an answer lacks; every key when there is no answer."""
    folded = fold_answer(answer) if answer else None
    return [k for k in keys if folded is None or not contains_folded(folded, fold_answer(k))]


def is_correct(answer: str | None, keys: Iterable[str]) -> bool:
    """An answer is correct when it holds every key (an empty key list is never satisfied)."""
    keys = list(keys)
    return bool(keys) and bool(answer) and not missing_keys(answer, keys)


def scored_text(answer: Mapping | None) -> str | None:
    """What an `ask` answer (the API's `answer` object) is scored by: a list answer's items, one a line (the
    items are the answer, the stretch of passage around them is not), else its text; None for no answer."""
    if not answer:
        return None
    items = answer.get("items")
    return "\n".join(item["text"] for item in items) if items else answer["text"]
