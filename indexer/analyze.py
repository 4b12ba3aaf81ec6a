"""Lexical analysis: the one place that turns text into BM25 tokens, for documents and queries alike.

Vietnamese writes one syllable per space-separated unit, and a word is often two or three syllables
("học sinh", "giáo dục"). Documents are word-segmented with underthesea, and every document yields

* syllable tokens ("học", "sinh") so partial matches still score, and
* compound tokens ("học_sinh") so that the right words score higher than the same syllables scattered.

Queries are short and often typed without diacritics, where a segmenter guesses badly, so a query
yields its syllables plus every 2- and 3-syllable n-gram as a compound candidate: the ones that are
real words exist in the index vocabulary and score; the rest are simply absent. Both sides go through
the same `_syllables` and `fold`, so they cannot drift apart.

The folded form (no diacritics, đ -> d) of each token feeds a second BM25 field so that
"hoc sinh bo hoc" meets "học sinh bỏ học".
"""
from __future__ import annotations

from functools import lru_cache

from indexer.normalize import fold, normalize_query

ANALYZER_VERSION = "1"
_JOIN = "_"
_MAX_QUERY_NGRAM = 3
# Characters that may sit inside a token: "0,6", "2020-2021", "3089/BGDĐT-GDTrH", "GD&ĐT".
_INNER = set(",.-/&")


def document_tokens(text: str) -> list[str]:
    """Accented tokens of a document passage: syllables + underthesea compound words."""
    tokens: list[str] = []
    for word in _segment(text):
        syllables = [s for part in word.split() for s in _syllables(part)]
        tokens.extend(syllables)
        if len(syllables) > 1 and all(s.isalpha() for s in syllables):
            tokens.append(_JOIN.join(syllables))
    return tokens


def query_tokens(text: str) -> list[str]:
    """Accented tokens of a query: syllables + every 2/3-gram as a compound candidate."""
    syllables = [s for part in normalize_query(text).split() for s in _syllables(part)]
    tokens = list(syllables)
    for n in range(2, _MAX_QUERY_NGRAM + 1):
        for i in range(len(syllables) - n + 1):
            gram = syllables[i : i + n]
            if all(s.isalpha() for s in gram):
                tokens.append(_JOIN.join(gram))
    return tokens


def folded(tokens: list[str]) -> list[str]:
    """The diacritic-free twin of a token list (for the folded BM25 field).

    Tokens repeat across an archive, so each distinct one is folded once and its folded string shared:
    a million passages hold a few hundred thousand distinct tokens."""
    return [_fold_token(t) for t in tokens]


_fold_token = lru_cache(maxsize=1 << 18)(fold)


def has_diacritics(text: str) -> bool:
    """True when folding changes the text, i.e. the user typed Vietnamese marks."""
    return fold(text) != text.lower()


def _segment(text: str) -> list[str]:
    from underthesea import word_tokenize  # imported lazily: it takes ~3 s to load

    words: list[str] = []
    for line in text.splitlines():
        if line.strip():
            words.extend(word_tokenize(line))
    return words


@lru_cache(maxsize=65536)
def _syllables(part: str) -> tuple[str, ...]:
    """Lowercased syllables of one whitespace-free piece; codes also yield their components."""
    piece = part.lower().strip("".join(_INNER) + "()[]{}\"'“”‘’:;!?…*")
    if not piece or not any(c.isalnum() for c in piece):
        return ()
    out = [piece]
    if any(c in _INNER for c in piece):
        # "3089/bgdđt-gdtrh" also yields "3089", "bgdđt", "gdtrh" so "3089/GDTrH" matches.
        current = []
        parts = []
        for c in piece:
            if c.isalnum():
                current.append(c)
            elif current:
                parts.append("".join(current))
                current = []
        if current:
            parts.append("".join(current))
        if not all(c.isdigit() or c in ",." for c in piece):  # keep "0,6" whole only
            out.extend(p for p in parts if p != piece)
    return tuple(out)
