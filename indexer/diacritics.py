"""Restoring the diacritics of queries typed without them ("phong hoc thong minh" -> "phòng học thông minh").

Office staff often type Vietnamese without marks. Each unmarked syllable stands for several real
syllables ("hoc" -> học, hóc, hộc), and only the neighbours tell which one is meant. The model is a
syllable trigram model learned from the indexed text itself at index time, so it knows exactly the
vocabulary the index can match; a query is restored by Viterbi search over the marked forms of each
syllable, scored with Witten-Bell interpolated trigram/bigram/unigram probabilities.

The model is plain JSON (stored by indexer/store.py as diacritics.json):

    {"version": 1, "tokens": N,
     "forms":    {folded: {marked: count}},          # every syllable seen, grouped by folded form
     "bigrams":  {marked1: {marked2: count}},
     "trigrams": {"marked1 marked2": {marked3: count}}}
"""
from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from indexer.normalize import fold

MODEL_VERSION = 1
MAX_FORMS = 6                # marked forms kept per folded syllable at decode time (by frequency)
MAX_SYLLABLE = 7             # "nghiêng" is the longest Vietnamese syllable; longer runs are not syllables
_PRUNE_ABOVE = 200_000       # n-gram types above which singletons are dropped, to keep the JSON small
# Characters that glue a letter run into a code ("3089/GDTrH", "TT-BGDĐT", "GD&ĐT"): not a syllable.
_GLUE = set("/&_-")
_Path = tuple[str, ...]
# Directives state things; users ask. Question phrases are rare in the corpus ("bao nhieu" would come
# back as "bảo nhiều"), so the model also learns these phrases, as if each appeared twice in the corpus.
_QUERY_PHRASES = (
    "là bao nhiêu", "có bao nhiêu", "khi nào", "bao giờ", "ở đâu", "là gì", "như thế nào", "ra sao",
    "có phải", "tại sao", "vì sao", "là ai", "do ai", "văn bản nào", "công văn nào", "đơn vị nào",
    "ngày nào", "năm nào", "mấy", "hay không",
)


def train_restorer(texts: Iterable[str]) -> dict:
    """Learn the JSON-serializable syllable n-gram model from normalized corpus texts."""
    unigrams: Counter[str] = Counter()
    bigrams: defaultdict[str, Counter[str]] = defaultdict(Counter)
    trigrams: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for text in [*texts, *_QUERY_PHRASES, *_QUERY_PHRASES]:
        for segment in _segments(text.lower()):
            for i, word in enumerate(segment):
                unigrams[word] += 1
                if i >= 1:
                    bigrams[segment[i - 1]][word] += 1
                if i >= 2:
                    trigrams[f"{segment[i - 2]} {segment[i - 1]}"][word] += 1
    forms: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for word, count in sorted(unigrams.items()):
        forms[fold(word)][word] = count
    return {
        "version": MODEL_VERSION,
        "tokens": sum(unigrams.values()),
        "forms": dict(sorted(forms.items())),
        "bigrams": _pruned(bigrams),
        "trigrams": _pruned(trigrams),
    }


def _pruned(table: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    """Sorted plain dicts; singletons are dropped only when the table is large."""
    size = sum(len(followers) for followers in table.values())
    floor = 2 if size > _PRUNE_ABOVE else 1
    out = {}
    for history in sorted(table):
        kept = {w: c for w, c in sorted(table[history].items()) if c >= floor}
        if kept:
            out[history] = kept
    return out


def _segments(text: str) -> Iterator[list[str]]:
    """Runs of syllables separated only by spaces; punctuation, digits and codes end a run."""
    segment: list[str] = []
    for kind, piece in _pieces(text):
        if kind == "syllable":
            segment.append(piece)
        elif kind == "break" or kind == "code":
            if segment:
                yield segment
            segment = []
    if segment:
        yield segment


def _pieces(text: str) -> Iterator[tuple[str, str]]:
    """Split text into ("syllable" | "code" | "space" | "break", piece) in order, covering every char."""
    i, n = 0, len(text)
    while i < n:
        j = i
        if text[i].isalpha():
            while j < n and text[j].isalpha():
                j += 1
            before = text[i - 1] if i > 0 else " "
            after = text[j] if j < n else " "
            glued = before.isdigit() or after.isdigit() or before in _GLUE or after in _GLUE
            long_run = j - i > MAX_SYLLABLE
            yield ("code" if glued or long_run else "syllable"), text[i:j]
        elif text[i] == " ":
            while j < n and text[j] == " ":
                j += 1
            yield "space", text[i:j]
        else:
            while j < n and not text[j].isalpha() and text[j] != " ":
                j += 1
            yield "break", text[i:j]
        i = j


class Restorer:
    """Viterbi decoder over the marked forms of each unmarked query syllable."""

    def __init__(self, forms: dict[str, list[str]], unigrams: dict[str, int], bigrams: dict[str, dict[str, int]],
                 trigrams: dict[str, dict[str, int]]):
        self._forms = forms
        self._unigrams = unigrams
        self._bigrams = bigrams
        self._trigrams = trigrams
        total = sum(unigrams.values())
        self._floor = math.log(1.0 / (total + len(unigrams) + 1))
        self._uni_log = {w: math.log((c + 1) / (total + len(unigrams) + 1)) for w, c in unigrams.items()}
        self._bi_hist = {h: (sum(f.values()), len(f)) for h, f in bigrams.items()}
        self._tri_hist = {h: (sum(f.values()), len(f)) for h, f in trigrams.items()}
        self._cache: dict[tuple[str | None, str | None, str], float] = {}

    @classmethod
    def from_model(cls, model: dict) -> Restorer:
        """Build the decoder from the JSON model written by `train_restorer`."""
        forms: dict[str, list[str]] = {}
        unigrams: dict[str, int] = {}
        for folded_form, marked in model.get("forms", {}).items():
            ranked = sorted(marked.items(), key=lambda item: (-item[1], item[0]))
            forms[folded_form] = [w for w, _ in ranked[:MAX_FORMS]]
            unigrams.update(marked)
        return cls(forms, unigrams, model.get("bigrams", {}), model.get("trigrams", {}))

    def knows(self, folded_syllable: str) -> bool:
        """True when the corpus contains some syllable with this folded form."""
        return folded_syllable in self._forms

    def restore(self, query: str) -> str:
        """The most likely marked spelling of the query; marked syllables, codes and unknowns stay as typed."""
        best = self.candidates(query, n=1)
        return best[0][0] if best else query

    def candidates(self, query: str, n: int = 3) -> list[tuple[str, float]]:
        """The n best restorations with their log-probabilities, best first (the query itself if no choice)."""
        query = unicodedata.normalize("NFC", query)
        pieces = list(_pieces(query))
        slots, resets = self._lattice(pieces)
        if not slots:
            return [(query, 0.0)]
        paths = self._decode(slots, resets, max(1, n))
        return [(self._render(pieces, path), round(score, 4)) for score, path in paths]

    def _lattice(self, pieces: list[tuple[str, str]]) -> tuple[list[list[str]], list[bool]]:
        """Candidate lowercase forms per syllable slot, and whether each slot starts a new context."""
        syllables = [p for kind, p in pieces if kind == "syllable"]
        caps_lock = len(syllables) >= 2 and all(s.isupper() for s in syllables)
        slots: list[list[str]] = []
        resets: list[bool] = []
        reset = True
        for kind, piece in pieces:
            if kind == "syllable":
                slots.append(self._options(piece, caps_lock))
                resets.append(reset)
                reset = False
            elif kind != "space":
                reset = True
        return slots, resets

    def _options(self, syllable: str, caps_lock: bool) -> list[str]:
        """Marked forms a typed syllable may stand for; a single option when it must stay as typed."""
        lower = syllable.lower()
        acronym = len(syllable) >= 2 and syllable.isupper() and not caps_lock   # THCS, STEM stay as typed
        if acronym or fold(lower) != lower:   # already marked by the user: keep it
            return [lower]
        return self._forms.get(lower) or [lower]

    def _decode(self, slots: list[list[str]], resets: list[bool], n: int) -> list[tuple[float, _Path]]:
        """List Viterbi over trigram states (last two choices), keeping the n best paths per state."""
        # state key: (word before last, last word); None marks "no context" after a reset.
        beams: dict[tuple[str | None, str | None], list[tuple[float, _Path]]] = {(None, None): [(0.0, ())]}
        for options, reset in zip(slots, resets):
            grown: dict[tuple[str | None, str | None], list[tuple[float, _Path]]] = {}
            for (h2, h1), hyps in beams.items():
                if reset:
                    h2 = h1 = None
                for word in options:
                    step = self._logp(h2, h1, word)
                    bucket = grown.setdefault((h1, word), [])
                    bucket.extend((score + step, path + (word,)) for score, path in hyps)
            beams = {key: sorted(hyps, key=_rank)[:n] for key, hyps in grown.items()}
        finals = [hyp for hyps in beams.values() for hyp in hyps]
        return sorted(finals, key=_rank)[:n]

    def _logp(self, h2: str | None, h1: str | None, word: str) -> float:
        """Witten-Bell interpolated log P(word | h2 h1), backing off to bigram and add-one unigram."""
        key = (h2, h1, word)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            cached = self._cache[key] = self._interpolated(h2, h1, word)
        return cached

    def _interpolated(self, h2: str | None, h1: str | None, word: str) -> float:
        p = math.exp(self._uni_log.get(word, self._floor))
        if h1 is not None and h1 in self._bi_hist:
            total, types = self._bi_hist[h1]
            p = (self._bigrams[h1].get(word, 0) + types * p) / (total + types)
            if h2 is not None:
                key = f"{h2} {h1}"
                if key in self._tri_hist:
                    total, types = self._tri_hist[key]
                    p = (self._trigrams[key].get(word, 0) + types * p) / (total + types)
        return math.log(p)

    @staticmethod
    def _render(pieces: list[tuple[str, str]], path: _Path) -> str:
        """Put the chosen forms back in place, keeping the case the user typed."""
        out: list[str] = []
        chosen = iter(path)
        for kind, piece in pieces:
            out.append(_with_case(piece, next(chosen)) if kind == "syllable" else piece)
        return "".join(out)


def _rank(hyp: tuple[float, _Path]) -> tuple[float, _Path]:
    return (-hyp[0], hyp[1])   # ties broken by the path itself, so results are deterministic


def _with_case(typed: str, form: str) -> str:
    """The chosen form in the typed case: "Hoc" -> "Học", "HOC" -> "HỌC"."""
    if form == typed.lower():
        return typed
    if typed.isupper() and len(typed) >= 2:
        return form.upper()
    if typed[0].isupper():
        return form[0].upper() + form[1:]
    return form
