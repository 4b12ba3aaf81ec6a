"""The DESIGN.md relevance rule: is a returned passage relevant to a gold quote?

This is the single implementation; the runner, the reports and the tests all call it, so
numbers from different configurations stay comparable. Both texts are folded (NFC,
lowercase, no diacritics, đ -> d, letters and digits only), which makes the rule blind to
the normalizer's choices: tone-mark placement (hoà/hòa), repaired glued words
("Vềchủtrương" vs "Về chủ trương"), tabs and line breaks of one-cell-per-line tables,
dashes and quotes. A passage is relevant when the folded quote is contained in it, or when
their longest common block covers at least 60% of the folded quote (a chunk boundary that
cuts the quote, or a small edit, must not turn a hit into a miss).
"""
from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TYPE_CHECKING

from indexer.normalize import fold

if TYPE_CHECKING:
    from eval.dataset import GoldItem

# 60% as an exact fraction, so "covers at least 60%" has no float rounding at the edge.
_SHARE_NUM, _SHARE_DEN = 3, 5
MIN_BLOCK_SHARE = _SHARE_NUM / _SHARE_DEN


def fold_for_match(text: str) -> str:
    """Fold text for matching: NFC, lowercase, strip diacritics, đ->d, keep letters/digits only.

    Diacritic stripping is the normalizer's `fold` (one owner for Vietnamese folding); this
    function only adds NFC first and the letters-and-digits filter of the relevance rule.
    """
    folded = fold(unicodedata.normalize("NFC", text))
    return "".join(ch for ch in folded if ch.isalnum())


@lru_cache(maxsize=4096)
def _folded_quote(quote: str) -> str:
    """Gold quotes are scored against many passages: fold each one once."""
    return fold_for_match(quote)


def _needed(quote_len: int) -> int:
    """Smallest common-block length that covers >= 60% of a folded quote of this length."""
    return -(-quote_len * _SHARE_NUM // _SHARE_DEN)


def _covers(folded_passage: str, folded_quote: str) -> bool:
    """The rule on folded texts: containment, else a common block of >= 60% of the quote.

    A common block of length k exists iff some k-long window of the quote occurs in the passage,
    so the test runs as C-speed substring searches; it gives exactly what
    SequenceMatcher(None, quote, passage, autojunk=False).find_longest_match would decide
    (tests/test_eval_dataset.py checks the two agree). Since k > half the quote, every window
    contains the quote's middle slice [n-k, k): one search rejects most passages.
    """
    if not folded_quote:
        return False
    if folded_quote in folded_passage:
        return True
    n = len(folded_quote)
    k = _needed(n)
    if len(folded_passage) < k or folded_quote[n - k:k] not in folded_passage:
        return False
    return any(folded_quote[i:i + k] in folded_passage for i in range(n - k + 1))


def longest_block(passage: str, quote: str) -> int:
    """Length of the longest common block of the folded texts (difflib; for reports and tests)."""
    a, b = fold_for_match(quote), fold_for_match(passage)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.find_longest_match(0, len(a), 0, len(b)).size


def is_relevant(passage: str, quote: str) -> bool:
    """True when `passage` contains `quote` or shares a block covering >= 60% of it (folded)."""
    return _covers(fold_for_match(passage), _folded_quote(quote))


def relevant_gold(passage: str, gold: list[GoldItem] | tuple[GoldItem, ...]) -> list[int]:
    """Indices of the gold items the passage hits; the document is deliberately not compared."""
    folded_passage = fold_for_match(passage)
    return [i for i, item in enumerate(gold) if _covers(folded_passage, _folded_quote(item.quote))]
