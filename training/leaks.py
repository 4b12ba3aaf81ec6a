"""The leak check every training build runs: nothing evaluated may be trained on.

Two layers:
1. The training pack's own `check_leaks.py` (../shared/training) against tracuu's evaluation set,
   with and without diacritics: the pack itself must hold no copy or near-copy of our queries.
2. The same matching rules (its `norm` and near-duplicate `Index`: shared word 3-gram and difflib
   ratio >= 0.85) applied to every example this build makes, anchors against every query set
   (the benchmarks' and ours) and passages against the seed directives and the benchmark corpora
   (half of a passage's word 8-grams found there is a leak). Hits are dropped and reported; the
   verification after filtering raises if any remain, which stops the build.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from training.legal import shingles
from training.sources import SHARED, TRAINING, Example, read_jsonl

REPO = Path(__file__).resolve().parent.parent
EVAL_QUERIES = REPO / "eval" / "queries.jsonl"
BENCHMARKS = SHARED / "benchmarks"
NEAR = 0.85
PASSAGE_OVERLAP = 0.5


class LeakError(RuntimeError):
    """Training data overlaps evaluation data; the build stops."""


@dataclass
class LeakReport:
    dropped: dict[str, int] = field(default_factory=dict)    # reason -> examples dropped
    examples: list[str] = field(default_factory=list)         # a few dropped anchors, for the log


def _shared_checker():
    spec = importlib.util.spec_from_file_location("check_leaks", TRAINING / "check_leaks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_pack(queries: Path = EVAL_QUERIES) -> str:
    """Run the pack's check_leaks.py on our query set (plain and folded); raise on any hit."""
    outputs = []
    for extra in ([], ["--fold-diacritics"]):
        run = subprocess.run([sys.executable, str(TRAINING / "check_leaks.py"), "--queries", str(queries), *extra],
                             capture_output=True, text=True, check=True)
        outputs.append(run.stdout)
        for line in run.stdout.splitlines():
            cells = line.split()
            if len(cells) == 7 and cells[2].isdigit() and (int(cells[3]) or int(cells[5])):
                raise LeakError(f"check_leaks.py {' '.join(extra)}: {line.strip()}")
    return outputs[0]


def query_sets() -> list[tuple[str, str]]:
    """(id, text) of every query anyone scores: the three benchmarks, XQuAD and tracuu's own set."""
    out = []
    for folder in sorted(BENCHMARKS.iterdir()):
        if (folder / "queries.jsonl").is_file():
            out += [(f"{folder.name}/{q['id']}", q["text"]) for q in read_jsonl(folder / "queries.jsonl")]
    for row in read_jsonl(TRAINING / "en-vi" / "xquad-en-vi.jsonl"):
        out += [(row["id"] + "/en", row["question_en"]), (row["id"] + "/vi", row["question_vi"])]
    out += [(q["id"], q["query"]) for q in read_jsonl(EVAL_QUERIES)]
    return out


def protected_passages() -> set[str]:
    """Word 8-grams of the seed directives and every benchmark corpus."""
    grams: set[str] = set()
    for path in sorted((REPO / "corpus").glob("*.txt")) + sorted((SHARED / "seeds").glob("*.txt")):
        grams |= shingles(path.read_text(encoding="utf-8"))
    for folder in sorted(BENCHMARKS.iterdir()):
        if folder.name == "phapdien-corpus":
            continue        # the training source itself; its ALQAC overlap is removed in training.legal
        if (folder / "corpus.jsonl").is_file():
            for row in read_jsonl(folder / "corpus.jsonl"):
                grams |= shingles(row["text"])
    for row in read_jsonl(TRAINING / "en-vi" / "xquad-en-vi.jsonl"):
        grams |= shingles(row["context_vi"])
    return grams


class Guard:
    """Matches examples against everything evaluated; built once per build (about a minute)."""

    def __init__(self) -> None:
        checker = _shared_checker()
        self._norm = checker.norm
        queries = query_sets()
        self._plain = checker.Index(queries)
        checker.FOLD = True                      # the module's switch for diacritic-free matching
        self._folded = checker.Index(queries)
        checker.FOLD = False
        self._checker = checker
        self._passages = protected_passages()

    def reason(self, example: Example) -> str | None:
        for text in filter(None, (example.anchor, example.positive if len(example.positive.split()) < 30 else None)):
            if self._match(text):
                return "query near-duplicate"
        for text in filter(None, (example.positive, example.negative)):
            own = shingles(text)
            if len(text.split()) >= 12 and len(own & self._passages) >= PASSAGE_OVERLAP * len(own):
                return "passage from an evaluated corpus"
        return None

    def _match(self, text: str) -> bool:
        if self._plain.match(self._norm(text), NEAR):
            return True
        self._checker.FOLD = True
        try:
            return bool(self._folded.match(self._norm(text), NEAR))
        finally:
            self._checker.FOLD = False

    def filter(self, examples: list[Example], report: LeakReport) -> list[Example]:
        kept = []
        for example in examples:
            why = self.reason(example)
            if why is None:
                kept.append(example)
                continue
            key = f"{example.source}: {why}"
            report.dropped[key] = report.dropped.get(key, 0) + 1
            if len(report.examples) < 20:
                report.examples.append(f"{key}: {' '.join(example.anchor.split())[:90]}")
        return kept

    def verify(self, examples: list[Example]) -> None:
        """Raise LeakError if any example still matches (run on the final training file)."""
        for example in examples:
            why = self.reason(example)
            if why:
                raise LeakError(f"{example.source} example {example.anchor[:80]!r}: {why}")
