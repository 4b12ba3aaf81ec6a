"""One calibrated confidence for `ask`: how likely the extracted answer is to be right, or no answer.

The answer (search_api.answer's extract of the top passages, with a list's items when it heads a list)
is described by a few numbers: the answerer's own score, the retrieval scores and their margin, the
passage it came from, its length, the kind of question, whether the question asks for a list and a list
was found under the answer. A logistic regression turns them into the probability that the answer is
right; it is given when that probability reaches the fitted threshold, otherwise `ask` says the
directives do not answer. Weights, scaling and threshold are fitted by `eval/calibration.py` on
eval/queries.jsonl, and that module reports every figure from 5-fold cross-validation: each fold is
scored by a combiner fitted on the other four. The shipped fit (all folds) is `combiner.json` here.

The trained span reader (training/reader.py) was a second candidate here until 2026-12-02: measured the
same way, the combiner without it answered as often and abstained as well (MODEL_CARD.md), and it was
most of `ask`'s time, so it left the request path.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from search_api import lists
from search_api.query import QueryInfo
from search_api.schemas import Answer, SearchResult

COMBINER_FILE = Path(__file__).with_name("combiner.json")
FEATURES = ("rule_confidence", "top_score", "score_margin", "passage_rank", "length", "kind_figure", "kind_other",
            "english", "wants_list", "items", "list_found")


@dataclass(frozen=True)
class Candidate:
    source: str                          # the answerer that made it: "rule" (search_api.answer)
    answer: Answer
    features: dict[str, float]


def candidates(info: QueryInfo, citations: list[SearchResult], rule: Answer | None,
               rule_confidence: float) -> list[Candidate]:
    """The extracted answer with its features (none without passages or an answer). An answer that
    heads a list carries the list's items (search_api.lists); the other features stay those of the
    answer as extracted."""
    if not citations or rule is None:
        return []
    scores = [c.score for c in citations]
    listed = lists.attach(rule, info, citations) or rule
    items = len(listed.items or [])
    return [Candidate("rule", listed, {
        "rule_confidence": rule_confidence,
        "top_score": scores[0],
        "score_margin": scores[0] - (scores[1] if len(scores) > 1 else 0.0),
        "passage_rank": float(rule.passage.rank),
        "length": math.log1p(len(rule.text)),
        "kind_figure": float(info.question_type in ("number", "date")),
        "kind_other": float(info.question_type in ("document", "who")),
        "english": float(info.lang == "en"),
        "wants_list": float(info.wants_list),
        "items": math.log1p(items),
        "list_found": float(info.wants_list and items >= 2),
    })]


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

