"""One calibrated confidence for `ask`: which candidate answers (the rule-based extract or the trained
reader's span) and how likely it is to be right, or no answer at all.

Each candidate is described by a few numbers (its own score, the reader's span-vs-no-answer margin,
the retrieval scores and their margin, whether the two answerers agree, the kind of question) and a
logistic regression turns them into the probability that the candidate holds the answer. The best
candidate is answered when that probability reaches the fitted threshold; otherwise `ask` says the
directives do not answer. Weights, scaling and threshold are fitted by `eval/calibration.py` on
eval/queries.jsonl, and that module reports every figure from 5-fold cross-validation: each fold is
scored by a combiner fitted on the other four. The shipped fit (all folds) is `combiner.json` here.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from search_api.query import QueryInfo
from search_api.reader import Span
from search_api.schemas import Answer, SearchResult

COMBINER_FILE = Path(__file__).with_name("combiner.json")
FEATURES = ("reader", "own_score", "reader_margin", "rule_confidence", "agree", "top_score", "score_margin",
            "passage_rank", "length", "kind_figure", "kind_other", "english")


@dataclass(frozen=True)
class Candidate:
    source: str                          # "rule" | "reader"
    answer: Answer
    features: dict[str, float]


def candidates(info: QueryInfo, citations: list[SearchResult], rule: Answer | None, rule_confidence: float,
               spans: list[Span], read_texts: list[str]) -> list[Candidate]:
    """The rule-based answer and the reader's best span (each with its features); none without passages.

    `spans` are the reader's best span per passage of `read_texts` (what it read: a table row's
    display, else the passage text)."""
    if not citations:
        return []
    scores = [c.score for c in citations]
    top = scores[0]
    margin = top - (scores[1] if len(scores) > 1 else 0.0)
    best_span = max(spans, key=lambda s: s.margin, default=None)
    reader_answer = _reader_answer(best_span, citations, read_texts) if best_span else None
    shared = {
        "reader_margin": best_span.margin if best_span else -10.0,
        "rule_confidence": rule_confidence,
        "agree": float(bool(rule and reader_answer and _overlap(rule, reader_answer))),
        "top_score": top,
        "score_margin": margin,
        "kind_figure": float(info.question_type in ("number", "date")),
        "kind_other": float(info.question_type in ("document", "who")),
        "english": float(info.lang == "en"),
    }
    out = []
    if rule is not None:
        out.append(Candidate("rule", rule, {**shared, "reader": 0.0, "own_score": rule_confidence,
                                            "passage_rank": float(rule.passage.rank),
                                            "length": math.log1p(len(rule.text))}))
    if reader_answer is not None and best_span is not None:
        out.append(Candidate("reader", reader_answer, {
            **shared, "reader": 1.0, "own_score": 1 / (1 + math.exp(-best_span.margin)),
            "passage_rank": float(reader_answer.passage.rank), "length": math.log1p(len(reader_answer.text))}))
    return out


@dataclass(frozen=True)
class Combiner:
    """Logistic regression over standardized FEATURES, and the probability an answer must reach."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def probability(self, candidate: Candidate) -> float:
        z = self.bias + sum(w * (candidate.features[name] - m) / s
                            for w, name, m, s in zip(self.weights, FEATURES, self.mean, self.scale))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def decide(self, found: list[Candidate]) -> tuple[Candidate | None, float]:
        """The most probable candidate and its probability; the candidate is None below the threshold."""
        if not found:
            return None, 0.0
        scored = max(((self.probability(c), i) for i, c in enumerate(found)))
        probability, index = scored
        return (found[index] if probability >= self.threshold else None), probability

    @classmethod
    def load(cls, path: Path = COMBINER_FILE) -> Combiner:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw["features"]) != FEATURES:
            raise ValueError(f"{path.name} was fitted on features {raw['features']}, this code computes "
                             f"{list(FEATURES)}: refit it with `python -m eval.calibration --fit`")
        return cls(tuple(raw["weights"]), raw["bias"], tuple(raw["mean"]), tuple(raw["scale"]), raw["threshold"])

    def to_json(self, facts: dict) -> str:
        return json.dumps({"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias,
                           "mean": list(self.mean), "scale": list(self.scale), "threshold": self.threshold,
                           **facts}, ensure_ascii=False, indent=1) + "\n"


def read_text(result: SearchResult) -> str:
    """What the reader reads of a passage: a table row with its column headers, else the passage."""
    return result.display or result.text


def _reader_answer(span: Span, citations: list[SearchResult], read_texts: list[str]) -> Answer | None:
    passage = citations[span.passage]
    shown = read_texts[span.passage]
    text = shown[span.start:span.end].strip(" ,;:.\n")
    if not text:
        return None
    start = shown.index(text, span.start)
    if passage.display is None:
        return Answer(text=text, span=(start, start + len(text)), passage=passage)
    at = passage.text.find(text)          # a cell value found in the row's own text, else the whole row
    span_in_text = (at, at + len(text)) if at >= 0 else (0, len(passage.text))
    return Answer(text=text, span=span_in_text, display_span=(start, start + len(text)), passage=passage)


def _overlap(a: Answer, b: Answer) -> bool:
    if a.passage.chunk_id != b.passage.chunk_id:
        return False
    return a.span[0] < b.span[1] and b.span[0] < a.span[1]
