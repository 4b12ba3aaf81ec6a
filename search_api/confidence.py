"""One calibrated confidence for `ask`: which candidate answers (the rule-based extract, the trained
reader's span, or the directive's own number, date or signer) and how likely it is to be right, or no
answer at all.

Each candidate (with a list's items when it heads a list) is described by a few numbers: its own score,
the reader's span-vs-no-answer margin, whether the two answerers agree, the retrieval scores and their
margin, the passage it came from, its length, the kind of question, whether the question asks for a list
and a list was found under the answer; a directive's own fact (search_api.facts) adds how much of the
question the directive's description covers. A logistic regression turns them into the probability that
the candidate is right; the most probable one is given when that probability reaches the fitted
threshold, otherwise `ask` says the directives do not answer.
Weights, scaling and threshold are fitted by `eval/calibration.py` on eval/queries.jsonl, and that
module reports every figure from 5-fold cross-validation: each fold is scored by a combiner fitted on
the other four. The shipped fit (all folds) is `combiner.json` here.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from search_api import lists
from search_api.facts import Stated
from search_api.query import QueryInfo
from search_api.reader import Span
from search_api.schemas import Answer, SearchResult

COMBINER_FILE = Path(__file__).with_name("combiner.json")
READER_FEATURES = ("reader", "own_score", "reader_margin", "agree")
FACT_FEATURES = ("fact", "describes")
FEATURES = (*READER_FEATURES, "rule_confidence", "top_score", "score_margin", "passage_rank", "length",
            "kind_figure", "kind_other", "english", "wants_list", "items", "list_found", *FACT_FEATURES)


def sources(features: tuple[str, ...]) -> tuple[str, ...]:
    """The answerers whose candidates a combiner over `features` chooses among: the reader's and the
    document facts' only when it sees their features."""
    return ("rule",) + tuple(source for source, own in (("reader", READER_FEATURES), ("facts", FACT_FEATURES))
                             if any(name in own for name in features))


@dataclass(frozen=True)
class Candidate:
    source: str                          # the answerer that made it: "rule" (search_api.answer), "reader"
                                         # or "facts" (search_api.facts)
    answer: Answer
    features: dict[str, float]


def candidates(info: QueryInfo, citations: list[SearchResult], rule: Answer | None, rule_confidence: float,
               spans: list[Span], read: list[str], stated: Stated | None = None) -> list[Candidate]:
    """The rule-based answer, the reader's best span and the directive's own fact `stated`, each with its
    features (none without passages).

    `spans` are the reader's best span per passage of `read` (what it read of the first passages: a
    table row's display, else the passage text). An answer that heads a list carries the list's items
    (search_api.lists); the other features stay those of the answer as extracted."""
    if not citations:
        return []
    scores = [c.score for c in citations]
    best = max(spans, key=lambda s: s.margin, default=None)
    read_answer = _reader_answer(best, citations, read) if best else None
    shared = {
        "reader_margin": best.margin if best else -10.0,
        "agree": float(bool(rule and read_answer and _overlap(rule, read_answer))),
        "rule_confidence": rule_confidence,
        "top_score": scores[0],
        "score_margin": scores[0] - (scores[1] if len(scores) > 1 else 0.0),
        "kind_figure": float(info.question_type in ("number", "date")),
        "kind_other": float(info.question_type in ("document", "who")),
        "english": float(info.lang == "en"),
        "wants_list": float(info.wants_list),
    }
    out = []
    made: list[tuple[str, Answer | None, float, Stated | None]] = [
        ("rule", rule, rule_confidence, None),
        ("reader", read_answer, 1 / (1 + math.exp(-best.margin)) if best else 0.0, None),
        ("facts", stated.answer if stated else None, 0.0, stated)]
    for source, answer, own, fact in made:
        if answer is None:
            continue
        listed = (lists.attach(answer, info, citations) or answer) if fact is None else answer
        items = len(listed.items or [])
        out.append(Candidate(source, listed, {
            **shared, "reader": float(source == "reader"), "own_score": own,
            "passage_rank": float(answer.passage.rank), "length": math.log1p(len(answer.text)),
            "items": math.log1p(items), "list_found": float(info.wants_list and items >= 2),
            "fact": float(fact is not None), "describes": fact.describes if fact else 0.0}))
    return out


def _reader_answer(span: Span, citations: list[SearchResult], read: list[str]) -> Answer | None:
    """The reader's span as an answer: a slice of its passage's text (a table row's span points into
    its display, and into its text where the cell value is found there, else the whole row)."""
    passage = citations[span.passage]
    shown = read[span.passage]
    text = shown[span.start:span.end].strip(" ,;:.\n")
    if not text:
        return None
    start = shown.index(text, span.start)
    if passage.display is None:
        return Answer(text=text, span=(start, start + len(text)), passage=passage)
    at = passage.text.find(text)
    in_text = (at, at + len(text)) if at >= 0 else (0, len(passage.text))
    return Answer(text=text, span=in_text, display_span=(start, start + len(text)), passage=passage)


def _overlap(a: Answer, b: Answer) -> bool:
    return a.passage.chunk_id == b.passage.chunk_id and a.span[0] < b.span[1] and b.span[0] < a.span[1]


@dataclass(frozen=True)
class Combiner:
    """Logistic regression over standardized features (FEATURES, or those of them without the reader's
    when the measured fit left the reader out), and the probability an answer must reach."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    features: tuple[str, ...] = FEATURES

    @property
    def uses_reader(self) -> bool:
        """Whether `ask` must run the reader for this combiner (else only the rule-based answer is a candidate)."""
        return "reader" in sources(self.features)

    def probability(self, candidate: Candidate) -> float:
        z = self.bias + sum(w * (candidate.features[name] - m) / s
                            for w, name, m, s in zip(self.weights, self.features, self.mean, self.scale))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def decide(self, found: list[Candidate]) -> tuple[Candidate | None, float]:
        """The most probable candidate and its probability; the candidate is None below the threshold."""
        found = [c for c in found if c.source in sources(self.features)]
        if not found:
            return None, 0.0
        probability, index = max((self.probability(c), i) for i, c in enumerate(found))
        return (found[index] if probability >= self.threshold else None), probability

    @classmethod
    def load(cls, path: Path = COMBINER_FILE) -> Combiner:
        raw = json.loads(path.read_text(encoding="utf-8"))
        unknown = [name for name in raw["features"] if name not in FEATURES]
        if unknown:
            raise ValueError(f"{path.name} was fitted on features {unknown} this code does not compute: "
                             "refit it with `python -m eval.calibration --fit`")
        return cls(tuple(raw["weights"]), raw["bias"], tuple(raw["mean"]), tuple(raw["scale"]), raw["threshold"],
                   tuple(raw["features"]))

    def to_json(self, facts: dict) -> str:
        return json.dumps({"features": list(self.features), "weights": list(self.weights), "bias": self.bias,
                           "mean": list(self.mean), "scale": list(self.scale), "threshold": self.threshold,
                           **facts}, ensure_ascii=False, indent=1) + "\n"
