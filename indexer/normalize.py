"""The one place that changes text: documents and queries both pass through here, so they can never drift apart.

normalize_text: NFC, one tone-mark placement (hoà -> hòa), unified dashes/quotes/spaces, repaired
missing spaces ("Vềchủtrương" -> "Về chủ trương"), line structure kept. fold: the diacritic-free,
lowercase, same-length twin used to match queries typed without marks and to place highlights.
"""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from functools import lru_cache

from indexer.syllables import COMMON, LOANWORDS, QU_RHYMES, RHYMES

NORMALIZER_VERSION = "1"

# Tone marks as NFD combining characters: huyền, sắc, ngã, hỏi, nặng.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_STOP_TONES = frozenset("\u0301\u0323")    # a syllable closed by p/t/c/ch takes sắc or nặng only
_STOP_CODAS = ("p", "t", "c", "ch")
_LETTERS = frozenset("abcdeghiklmnopqrstuvxyăâđêôơư")      # no f, j, w, z in Vietnamese
_VOWELS = frozenset("aăâeêioôơuưy")
_ONSETS = tuple(sorted(
    "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x".split() + [""],
    key=len, reverse=True))
_MAX_SYLLABLE = 7                                          # "nghiêng"
_VIET_LETTERS = frozenset(
    unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in ("", *_TONES)) | {"đ"}
_VIET_NON_ASCII = frozenset(c for x in _VIET_LETTERS for c in (x, x.upper()) if not c.isascii())
_SUPERSCRIPTS = frozenset("⁰¹²³⁴⁵⁶⁷⁸⁹")
_FILE_TYPES = (".doc", ".docx", ".pdf", ".xls", ".xlsx", ".ppt", ".pptx", ".txt", ".htm", ".html", ".zip", ".rar",
               ".jpg", ".png")
_DIGITS = frozenset("0123456789")

_CHAR_MAP: dict[int, str | None] = {c: None for c in [*range(0x20), *range(0x7F, 0xA0)]}
_CHAR_MAP.update({ord("\n"): "\n", ord("\t"): " ", 0x0B: "\n", 0x0C: "\n", 0x85: "\n"})
_CHAR_MAP.update({c: "\n" for c in (0x2028, 0x2029)})
_CHAR_MAP.update({c: " " for c in (0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)})
_CHAR_MAP.update({c: None for c in (0xAD, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF)})
_CHAR_MAP.update({ord(c): '"' for c in "“”„‟"})
_CHAR_MAP.update({ord(c): "'" for c in "‘’‚‛"})
_CHAR_MAP.update({ord(c): "-" for c in "‐‑‒–—―−﹘﹣－"})
_CHAR_MAP[0xD0] = "Đ"      # Icelandic eth, a look-alike that old converters put where Đ belongs


# --- syllable grammar ------------------------------------------------------------------------

@lru_cache(maxsize=1 << 16)
def _parse(low: str) -> tuple[str, str] | None:
    """(onset, tone) of a lowercase NFC syllable, or None when Vietnamese spelling rules reject it."""
    base, tone = [], ""
    for ch in low:
        marks = unicodedata.normalize("NFD", ch)
        found = [m for m in marks if m in _TONES]
        if found:
            if tone or len(found) > 1:
                return None
            tone = found[0]
            marks = marks.replace(tone, "")
        plain = unicodedata.normalize("NFC", marks)
        if plain not in _LETTERS:
            return None
        base.append(plain)
    word = "".join(base)
    for onset in _ONSETS:
        if word.startswith(onset) and _rhyme_ok(onset, word[len(onset):], tone):
            return onset, tone
    return None


def _rhyme_ok(onset: str, rhyme: str, tone: str) -> bool:
    """Spelling rules: c/k, g/gh, ng/ngh before e ê i y; yê only word-initially; stop codas take sắc/nặng."""
    if onset == "qu":
        ok = rhyme in QU_RHYMES
    elif onset == "gi":
        ok = rhyme in RHYMES and rhyme[0] not in "iy"     # "gì", "giếng" parse as g + i...
    else:
        ok = rhyme in RHYMES
    if not ok:
        return False
    first = rhyme[0]
    if (onset in ("c", "ng") and first in "eêiy") or (onset == "g" and first in "eêy"):
        return False
    if (onset in ("k", "gh", "ngh") and first not in "eêiy") or (onset in ("gh", "ngh") and first == "y"):
        return False
    if rhyme.startswith("y") and len(rhyme) > 1 and onset not in ("", "qu"):
        return False
    if rhyme.startswith("iê") and onset == "":
        return False
    return tone in _STOP_TONES or not rhyme.endswith(_STOP_CODAS)


def is_syllable(word: str) -> bool:
    """True when `word` is one well-formed Vietnamese syllable ("nghiêng", "Quý"; not "tồt", "STEM")."""
    low = unicodedata.normalize("NFC", word).lower()
    return bool(low) and _parse(low) is not None


@lru_cache(maxsize=1 << 14)
def _best_split(low: str) -> tuple[tuple[int, ...], bool] | None:
    """Piece lengths of the best split of `low` into syllables, and whether no other split is as good.

    Best = fewest pieces, then fewest uncommon syllables ("cả một", not "cảm ột").
    """
    n = len(low)
    best: list[tuple[tuple[int, int], int, int] | None] = [None] * (n + 1)
    best[0] = ((0, 0), 1, 0)
    for end in range(1, n + 1):
        for start in range(max(0, end - _MAX_SYLLABLE), end):
            prev, piece = best[start], low[start:end]
            if prev is None or _parse(piece) is None:
                continue
            cost = (prev[0][0] + 1, prev[0][1] + (piece not in COMMON))
            cur = best[end]
            if cur is None or cost < cur[0]:
                best[end] = (cost, prev[1], start)
            elif cost == cur[0]:
                best[end] = (cost, min(2, cur[1] + prev[1]), cur[2])
    last = best[n]
    if last is None:
        return None
    lengths, end = [], n
    while end:
        start = best[end][2]  # type: ignore[index]
        lengths.append(end - start)
        end = start
    return tuple(reversed(lengths)), last[1] == 1


def _words(s: str) -> list[str] | None:
    """`s` as syllables: itself when it is one, its unambiguous split into common ones, else None."""
    low = s.lower()
    if len(low) != len(s):
        return None
    if _parse(low) is not None:
        return [s]
    found = _best_split(low)
    if not found or not found[1]:
        return None
    out, start = [], 0
    for length in found[0]:
        out.append(s[start:start + length])
        start += length
    if any(w.isascii() and w.lower() not in COMMON for w in out):
        return None                                 # "calo", "yoga": a loanword, not glued syllables
    return out


def _rare(words: list[str]) -> int:
    return sum(w.lower() not in COMMON for w in words)


def _has_viet(s: str) -> bool:
    return any(c in _VIET_NON_ASCII for c in s)


def _has_foreign(s: str) -> bool:
    """A letter no Vietnamese word has (ç, ñ, ö, ...): the token is a foreign word, leave it."""
    return any(not c.isascii() and c not in _VIET_NON_ASCII for c in s)


def _one_case(s: str) -> bool:
    return s.islower() or s.isupper() or (s[0].isupper() and s[1:].islower())


# --- space repair ----------------------------------------------------------------------------

def _case_cut_shift(left: str, right: str) -> int | None:
    """Where a change of case splits `left`+`right`: 0 (between them), 1 (one letter later), None."""
    if left[-1].islower():                          # "SởGD", "tậpthểLãnh", "BộGiáo"
        ok = (_has_viet(left) or _has_viet(right)) and _words(left) is not None and (
            _words(right) is not None or (right.isupper() and len(right) > 1))
        return 0 if ok else None
    # Capitals, then a capital starting lowercase: "TẠOSố" (word + word), "THPTcho" (THPT + cho).
    # A lone capital before a word ("KHoa", "NGhệ") is a typo; a vowel-initial tail ("UBNDỉnh") no word.
    whole = _words(right) if right[0].lower() not in _VOWELS else None
    if whole and len(left) == 1:
        return None
    rest = right[1:]
    tail = _words(rest) if rest.islower() and rest[0] not in _VOWELS else None
    if whole and not (_has_viet(left) or _has_viet(right)):
        whole = None
    if whole and tail and _words(left) is None:     # "GDĐThuyện": GDĐ + Thuyện or GDĐT + huyện?
        rare_whole, rare_tail = _rare(whole), _rare(tail)
        return None if rare_whole == rare_tail else (0 if rare_whole < rare_tail else 1)
    return 0 if whole else (1 if tail else None)


def _case_cuts(run: str) -> list[int]:
    """Cut points inside a letter run where a change of case marks two glued words."""
    n = len(run)
    cands = [i for i in range(1, n) if run[i].isupper() and (
        run[i - 1].islower() or (run[i - 1].isupper() and i + 1 < n and run[i + 1].islower()))]
    edges = [0, *cands, n]
    cuts = []
    for k, i in enumerate(cands):
        shift = _case_cut_shift(run[edges[k]:i], run[i:edges[k + 2]])
        if shift is not None:
            cuts.append(i + shift)
    return cuts


def _split_syllables(piece: str) -> list[str]:
    """Split a one-case piece with Vietnamese letters into syllables when that is unambiguous."""
    if not _has_viet(piece) or _has_foreign(piece) or not _one_case(piece) or piece.lower() in LOANWORDS:
        return [piece]
    return _words(piece) or [piece]


def _split_run(run: str) -> list[str]:
    """The words glued together in one run of letters ("Vềchủtrương" -> Về, chủ, trương)."""
    bounds = [0, *_case_cuts(run), len(run)]
    return [w for a, b in zip(bounds, bounds[1:]) for w in _split_syllables(run[a:b])]


def _runs(chunk: str) -> list[tuple[str, str]]:
    """Split a chunk into letter ("L"), ASCII digit ("D") and single other-character ("O") runs."""
    runs: list[tuple[str, str]] = []
    for ch in chunk:
        kind = "L" if ch.isalpha() or unicodedata.category(ch).startswith("M") else (
            "D" if ch in _DIGITS else "O")
        if runs and kind != "O" and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + ch)
        else:
            runs.append((kind, ch))
    return runs


def _word_by_number(word: str, *, after: bool) -> bool:
    """A Vietnamese word glued to a number: "ngày30", "2020của"; never "QH14", "12a1", "2nd"."""
    if not _one_case(word) or _has_foreign(word) or _parse(word.lower()) is None:
        return False
    return _has_viet(word) or (after and not word.isupper() and len(word) >= 3 and word.lower() in COMMON)


def _gap(runs: list[tuple[str, str]], words: list[list[str]], i: int) -> bool:
    """Whether a space belongs between run i-1 and run i."""
    (kind0, text0), (kind, text) = runs[i - 1], runs[i]
    if kind0 == "L" and kind == "D":
        return _word_by_number(words[i - 1][-1], after=False)
    if kind0 == "D" and kind == "L":
        next_digit = i + 1 < len(runs) and runs[i + 1][0] == "D" and len(words[i]) == 1
        return not next_digit and _word_by_number(words[i][0], after=True)
    if kind0 == "L" and text == "(":                # "tử(sổ điểm" -> "tử (sổ điểm"
        return True
    if kind0 != "O" or kind != "L" or i < 2:
        return False
    before = runs[i - 2]
    if text0 == ".":                                # "trường.Nhà", "1.1.Tiếp"; not "TP.HCM"
        ends_ok = before[0] == "D" or (before[0] == "L" and before[1][-1].islower())
        return ends_ok and len(text) > 1 and _one_case(text) and text[:2].istitle()
    return (text0 in ",;)" and before[0] in "LD") or (text0 == ":" and before[0] == "L")


def _repair_chunk(chunk: str) -> str:
    """Insert the missing spaces inside one whitespace-free chunk of a line."""
    low = chunk.lower()
    if "://" in low or "@" in low or low.startswith("www.") or low.endswith(_FILE_TYPES):
        return chunk                                # addresses and file names keep their spelling
    runs = _runs(chunk)
    words = [_split_run(text) if kind == "L" else [text] for kind, text in runs]
    out = [" ".join(words[0])]
    for i in range(1, len(runs)):
        out.append((" " if _gap(runs, words, i) else "") + " ".join(words[i]))
    return "".join(out)


# --- tone placement, lines, public API ---------------------------------------------------------

def _modern_tone(word: str) -> str:
    """Put the tone of an open oa/oe/uy syllable on its first vowel: hoà -> hòa, thuỷ -> thủy, uỷ -> ủy.

    With a coda the tone sits on the second vowel in both styles (hoàn, thuyết); after "qu" the
    u belongs to the onset, so quý, quà are already right.
    """
    last = unicodedata.normalize("NFD", word[-1])
    tone = next((m for m in last if m in _TONES), "")
    if not tone:
        return word
    bare = unicodedata.normalize("NFC", last.replace(tone, ""))
    head = word[:-2].lower()
    if (word[-2] + bare).lower() not in ("oa", "oe", "uy") or head not in _ONSETS or head == "qu":
        return word
    return word[:-2] + unicodedata.normalize("NFC", word[-2] + tone) + bare


def _fix_tones(line: str) -> str:
    """Apply _modern_tone to every letter run of 2-5 letters in a line."""
    out, start = [], 0
    for i in range(len(line) + 1):
        if i == len(line) or not line[i].isalpha():
            word = line[start:i]
            out.append(_modern_tone(word) if 2 <= len(word) <= 5 else word)
            out.append(line[i:i + 1])
            start = i + 1
    return "".join(out)


def _separate_superscripts(line: str) -> str:
    """Keep footnote markers ("2018¹") but never let them fuse with what follows ("¹Bộ" -> "¹ Bộ")."""
    out = []
    for i, ch in enumerate(line):
        out.append(ch)
        nxt = line[i + 1:i + 2]
        if ch in _SUPERSCRIPTS and nxt.isalnum() and nxt not in _SUPERSCRIPTS:
            out.append(" ")
    return "".join(out)


def _clean_chars(text: str) -> str:
    """Unify line breaks, spaces, quotes and dashes, drop invisible characters, then compose (NFC)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CHAR_MAP)
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=1 << 16)
def _normalize_chunk(chunk: str, repair_spaces: bool) -> str:
    """One whitespace-free chunk; cached, since documents repeat the same words."""
    if repair_spaces:
        chunk = _repair_chunk(chunk)
    return _fix_tones(_separate_superscripts(chunk))


def _normalize_line(line: str, repair_spaces: bool) -> str:
    return " ".join(_normalize_chunk(c, repair_spaces) for c in line.split())


def normalize_text(text: str, *, repair_spaces: bool = True) -> str:
    """Canonical form of a document. Lines are kept (tables are one cell per line); inside a line
    spaces and tabs collapse to one space and the ends are stripped; at most two blank lines in a
    row; never NFKC (it would turn "2018¹" into "20181")."""
    out: list[str] = []
    blank = 0
    for line in _clean_chars(text).split("\n"):
        line = _normalize_line(line, repair_spaces)
        blank = blank + 1 if not line else 0
        if blank <= 2:
            out.append(line)
    return "\n".join(out).strip("\n")


def normalize_query(q: str) -> str:
    """A query gets the same rules as a document, on one line."""
    return _normalize_line(_clean_chars(q).replace("\n", " "), True).strip()


@lru_cache(maxsize=1 << 12)
def _fold_char(ch: str) -> str:
    if ch in "đĐÐ":
        return "d"
    low = ch.lower() if len(ch.lower()) == 1 else ch
    parts = unicodedata.normalize("NFD", low)
    if len(parts) > 1 and parts[0].isascii() and all(unicodedata.combining(m) for m in parts[1:]):
        return parts[0]
    return low


def fold(text: str) -> str:
    """Lowercase, no diacritics, đ -> d. Works character by character, so len(fold(t)) == len(t)
    for ANY input and an offset in fold(t) is the same offset in t (highlights rely on it).
    A lone combining mark (absent from NFC Vietnamese) is kept rather than dropped."""
    return "".join(_fold_char(c) for c in text)


def repair_report(text: str) -> dict[str, object]:
    """Measure the space repair. glued: runs of letters with Vietnamese marks that are not one
    syllable but split into 2+ syllables (before repair); repaired: those the repair splits; left:
    the rest. ASCII-only runs are counted apart (a loanword like "video" also splits)."""
    counts = {"glued": 0, "repaired": 0, "ascii_glued": 0, "ascii_repaired": 0}
    left: set[str] = set()
    for chunk in _clean_chars(text).split():
        for kind, run in _runs(chunk):
            low = run.lower()
            if kind != "L" or len(low) != len(run) or _parse(low) is not None or (run.isupper() and run.isascii()):
                continue                            # not letters, one syllable, or "II", "ISO"
            found = _best_split(low)
            if not found or len(found[0]) < 2:
                continue
            key = "glued" if _has_viet(run) else "ascii_glued"   # "camera" may be a word, "sinhtrong" glue
            counts[key] += 1
            if len(_split_run(run)) > 1:
                counts[key.replace("glued", "repaired")] += 1
            elif key == "glued":
                left.add(run)
    share = counts["repaired"] / counts["glued"] if counts["glued"] else 1.0
    return {**counts, "left": counts["glued"] - counts["repaired"], "share_repaired": round(share, 4),
            "left_tokens": sorted(left)}


def main(argv: list[str] | None = None) -> int:
    """`python -m indexer.normalize [--report] FILE`: the normalized text, or the repair report as JSON."""
    from pathlib import Path

    from indexer.errors import LoadError
    from indexer.loaders import load_file

    parser = argparse.ArgumentParser(prog="python -m indexer.normalize")
    parser.add_argument("file", type=Path)
    parser.add_argument("--report", action="store_true", help="print space-repair counts as JSON")
    args = parser.parse_args(argv)
    try:
        text = "\n".join(load_file(args.file, str(args.file)).pages)
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(repair_report(text), ensure_ascii=False, indent=1) if args.report else normalize_text(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
