"""The `ask` combiner fitted and scored by k-fold cross-validation, with its calibration.

Every query of the set is asked once (retrieval, the extracted answer and the reader's span, each with
its list items); each candidate answer is labelled correct when it holds every answer key
(eval.answer_keys; never for an unanswerable query). Then, fold by fold, a logistic regression
(search_api.confidence.FEATURES) and the probability an answer must reach are fitted on the other folds
and applied to this one, so every figure below is held out: answer accuracy on answerable queries,
abstention on unanswerable ones, the expected calibration error of the stated confidence, a reliability
diagram and a coverage/accuracy curve (PNG). Four systems side by side, from the same asks: the
combiner with every candidate ("combined"), the combiner fitted without the reader's candidate and
features ("no reader"), without the reader's nor the document facts' ("no facts", search_api.facts),
and the former fixed threshold on the rule-based answerer's own score ("rule"). The
ceiling says how many answerable questions an extractive answer could get right at all: every key in a
passage read, and some candidate holding them.

With 168 answerable and 49 unanswerable questions one split into folds is luck as much as merit (the same
system measured 0.82–0.92 abstention over ten splits), so the headline figures are repeated over several
fold splits (`--splits`, default 10) and given as mean, min and max; the curves and diagrams are the first
split's.

    python -m eval.calibration [--queries eval/queries.jsonl] [--report DIR] [--splits N] [--fit]

`--fit` also refits the best of "combined", "no reader" and "no facts" (held-out answer accuracy plus
abstention, mean over the splits) on every query and writes search_api/combiner.json, the combiner `ask`
ships.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.answer_keys import is_correct, scored_text
from eval.dataset import EvalQuery, load_queries
from eval.tuning import SPLITS, folds

REPO = Path(__file__).resolve().parent.parent
BINS = 10
WRONG_COST = 1.0            # a wrong answer costs as much as a right one gains; abstaining costs nothing
RULE_THRESHOLD = 0.72       # the former answerer's fixed threshold (search_api.answer.ABSTAIN_BELOW)
NAMES = ("combined", "no reader", "no facts", "rule")   # the systems reported side by side
REPEATED = ("answer_accuracy", "list_accuracy", "abstention_accuracy", "ece")


@dataclass
class Asked:
    """One query's candidates: feature rows, whether each is correct, and which answerer made it."""

    query: EvalQuery
    features: np.ndarray         # (candidates, FEATURES)
    correct: np.ndarray          # (candidates,) bool
    sources: list[str]
    texts: list[str]
    latency_ms: float
    keys_read: bool = False      # some passage read holds every answer key: an extractive answer could be right


def answer_text(answer) -> str:
    """What is scored: a list answer's items joined, else the answer text (eval.answer_keys.scored_text)."""
    return scored_text(answer.model_dump(include={"text", "items"})) or ""


def collect(service, queries: list[EvalQuery], progress: bool = True) -> list[Asked]:
    """Ask every query once and keep all its candidates."""
    from tqdm import tqdm

    from search_api.answer import passage_text
    from search_api.confidence import FEATURES
    from search_api.schemas import AskParams
    from search_api.service import ASK_PASSAGES

    out = []
    for query in tqdm(queries, desc="ask candidates", unit="q", disable=not progress, file=sys.stderr):
        wanted = {k: str(v) for k, v in query.filters.items() if k in AskParams.model_fields}
        began = time.perf_counter()
        search, found = service.ask_candidates(AskParams(q=query.query, **wanted), with_reader=True)
        latency = (time.perf_counter() - began) * 1000
        texts = [answer_text(c.answer) for c in found]
        read = [passage_text(r) for r in search.results[:ASK_PASSAGES]]
        out.append(Asked(query, np.asarray([[c.features[f] for f in FEATURES] for c in found], dtype=float)
                         .reshape(len(found), len(FEATURES)),
                         np.asarray([bool(query.answer_keys) and is_correct(t, query.answer_keys) for t in texts]),
                         [c.source for c in found], texts, latency,
                         bool(query.answer_keys) and any(is_correct(t, query.answer_keys) for t in read)))
    return out


# -- fitting ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class System:
    """A combiner's inputs: the features it sees (and so the answerers it chooses among,
    search_api.confidence.sources)."""

    name: str
    features: tuple[str, ...]

    def rows(self, asked: Asked) -> tuple[np.ndarray, np.ndarray]:
        """(candidate indexes of this system, their feature rows)."""
        from search_api.confidence import FEATURES, sources

        allowed = sources(self.features)
        index = np.asarray([i for i, s in enumerate(asked.sources) if s in allowed], dtype=int)
        columns = [FEATURES.index(f) for f in self.features]
        return index, asked.features[index][:, columns] if len(index) else np.zeros((0, len(columns)))


def systems() -> tuple[System, ...]:
    from search_api.confidence import FACT_FEATURES, FEATURES, READER_FEATURES

    return (System("combined", FEATURES),
            System("no reader", tuple(f for f in FEATURES if f not in READER_FEATURES)),
            System("no facts", tuple(f for f in FEATURES if f not in READER_FEATURES + FACT_FEATURES)))


@dataclass(frozen=True)
class Fit:
    system: System
    model: Any                   # sklearn pipeline: StandardScaler + LogisticRegression
    threshold: float

    def best(self, asked: Asked) -> tuple[int | None, float]:
        """(index of the most probable candidate, None without candidates; its probability). The
        query is answered when the probability reaches `threshold`."""
        index, x = self.system.rows(asked)
        if not len(index):
            return None, 0.0
        probabilities = self.model.predict_proba(x)[:, 1]
        best = int(np.argmax(probabilities))
        return int(index[best]), float(probabilities[best])


def fit(train: list[Asked], system: System) -> Fit:
    """Logistic regression on every candidate of the training queries, then the threshold that
    maximizes the training queries' utility (right +1, wrong -WRONG_COST, no answer 0)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    picked = [(a, *system.rows(a)) for a in train]
    x = np.concatenate([rows for _, index, rows in picked if len(index)])
    y = np.concatenate([a.correct[index] for a, index, _ in picked if len(index)]).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    model.fit(x, y)
    chosen = [Fit(system, model, 0.0).best(a) for a in train]
    return Fit(system, model, best_threshold([(p, bool(i is not None and a.correct[i]))
                                              for a, (i, p) in zip(train, chosen)]))


def best_threshold(scored: Sequence[tuple[float, bool]]) -> float:
    """The probability cut with the highest utility (ties to the lower cut), placed halfway down to the
    next lower probability seen, so an unseen query just below the lowest kept one is not cut off."""
    cuts = sorted({p for p, _ in scored} | {1.01})

    def utility(cut: float) -> float:
        return sum((1.0 if ok else -WRONG_COST) for p, ok in scored if p >= cut)
    best = max(cuts, key=lambda c: (utility(c), -c))
    below = [c for c in cuts if c < best]
    return round((best + below[-1]) / 2, 6) if below and best <= 1.0 else best


# -- held-out scoring ------------------------------------------------------------------------------

@dataclass
class Decision:
    answered: bool
    correct: bool               # the chosen candidate is right (whether or not it was answered)
    confidence: float
    text: str | None = None     # the chosen candidate's text


def cross_validate(asked: list[Asked], k: int, split: int = 0) -> dict[str, dict[str, Decision]]:
    """Held-out decisions per system: each combiner (fitted on the other folds) and the rule-based
    answerer with its former fixed threshold; `split` chooses the fold assignment (eval.tuning.folds)."""
    from search_api.confidence import FEATURES

    assignment = folds([a.query for a in asked], k, split)
    out: dict[str, dict[str, Decision]] = {name: {} for name in NAMES}
    own = FEATURES.index("rule_confidence")
    for fold in range(k):
        train = [a for a in asked if assignment[a.query.id] != fold]
        fitted = [fit(train, system) for system in systems()]
        for a in (a for a in asked if assignment[a.query.id] == fold):
            for combiner in fitted:
                index, probability = combiner.best(a)
                out[combiner.system.name][a.query.id] = Decision(
                    index is not None and probability >= combiner.threshold,
                    index is not None and bool(a.correct[index]), probability,
                    a.texts[index] if index is not None else None)
            rule = a.sources.index("rule") if "rule" in a.sources else None
            score = float(a.features[rule, own]) if rule is not None else 0.0
            out["rule"][a.query.id] = Decision(rule is not None and score >= RULE_THRESHOLD,
                                               rule is not None and bool(a.correct[rule]), score)
    return out


def figures(asked: list[Asked], decisions: dict[str, Decision]) -> dict:
    """Answer accuracy, abstention, false abstention, ECE and the curves of one system."""
    answerable = [a.query.id for a in asked if a.query.answer_keys]
    unanswerable = [a.query.id for a in asked if not a.query.gold]
    lists = [a.query.id for a in asked if a.query.is_list]
    right = {q for q, d in decisions.items() if d.answered and d.correct}
    outcome = [(d.confidence, d.answered and d.correct if q in answerable else not d.answered)
               for q, d in decisions.items()]
    stated = [(d.confidence, d.correct and q in answerable) for q, d in decisions.items()]
    return {
        "answer_accuracy": _ratio(len(right & set(answerable)), len(answerable)), "answer_n": len(answerable),
        "list_accuracy": _ratio(len(right & set(lists)), len(lists)), "list_n": len(lists),
        "abstention_accuracy": _ratio(sum(not decisions[q].answered for q in unanswerable), len(unanswerable)),
        "unanswerable_n": len(unanswerable),
        "false_abstention_rate": _ratio(sum(not decisions[q].answered for q in answerable), len(answerable)),
        "overall_accuracy": _ratio(sum(ok for _, ok in outcome), len(outcome)),
        "ece": round(expected_calibration_error(stated), 4),
        "reliability": reliability(stated),
        "coverage_curve": coverage_curve(stated),
    }


def expected_calibration_error(stated: Sequence[tuple[float, bool]], bins: int = BINS) -> float:
    """Σ over equal-width confidence bins of |accuracy − mean confidence| weighted by the bin's share."""
    if not stated:
        return 0.0
    total = 0.0
    for row in reliability(stated, bins):
        total += row["n"] / len(stated) * abs(row["accuracy"] - row["confidence"])
    return total


def reliability(stated: Sequence[tuple[float, bool]], bins: int = BINS) -> list[dict]:
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [(p, ok) for p, ok in stated if low <= p < high or (b == bins - 1 and p == 1.0)]
        if members:
            out.append({"low": low, "high": high, "n": len(members),
                        "confidence": round(float(np.mean([p for p, _ in members])), 4),
                        "accuracy": round(float(np.mean([ok for _, ok in members])), 4)})
    return out


def coverage_curve(stated: Sequence[tuple[float, bool]]) -> list[dict]:
    """Answering only the most confident share of queries: (coverage, accuracy of those answered)."""
    ranked = sorted(stated, key=lambda s: -s[0])
    out = []
    for step in range(1, 11):
        n = max(1, round(len(ranked) * step / 10))
        out.append({"coverage": round(n / len(ranked), 3), "accuracy": round(float(np.mean([ok for _, ok in ranked[:n]])), 4),
                    "min_confidence": round(ranked[n - 1][0], 4)})
    return out


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


# -- report ----------------------------------------------------------------------------------------

def calibrate(asked: list[Asked], k: int = 5, report: Path | None = None, splits: int = SPLITS) -> dict:
    """Held-out figures of every system: the first split's in full, the headline ones over `splits`
    splits as mean, min and max (`over_splits`); PNGs in `report`."""
    held_out = cross_validate(asked, k)
    out: dict[str, Any] = {name: figures(asked, decisions) for name, decisions in held_out.items()}
    repeated = [out] + [{name: figures(asked, decisions) for name, decisions in cross_validate(asked, k, split).items()}
                        for split in range(1, splits)]
    for name in NAMES:
        out[name]["over_splits"] = {
            key: {"mean": round(float(np.mean(values)), 4), "min": min(values), "max": max(values)}
            for key in REPEATED for values in [[run[name][key] for run in repeated]]}
    out["folds"], out["splits"] = k, splits
    answerable = [a for a in asked if a.query.answer_keys]
    out["ceiling"] = {"keys_in_passages_read": _ratio(sum(a.keys_read for a in answerable), len(answerable)),
                      "answer_right": _ratio(sum(bool(a.correct.any()) for a in answerable), len(answerable)),
                      **{f"{source}_right": _ratio(sum(any(ok for ok, s in zip(a.correct, a.sources) if s == source)
                                                       for a in answerable), len(answerable))
                         for source in ("rule", "reader", "facts")}}
    latencies = sorted(a.latency_ms for a in asked)
    out["candidates_latency_ms"] = {"p50": round(float(np.percentile(latencies, 50)), 1),
                                    "p95": round(float(np.percentile(latencies, 95)), 1)}
    out["shipped"] = shipped_system(out)
    decided = held_out[out["shipped"]]
    out["wrong"] = [{"id": a.query.id, "query": a.query.query, "got": (decided[a.query.id].text or "")[:100]}
                    for a in asked if decided[a.query.id].answered and not decided[a.query.id].correct][:40]
    if report:
        plot(out, report)
    return out


def plot(out: dict, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for name in NAMES:
        rows = out[name]["reliability"]
        ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker="o",
                label=f"{name} (ECE {out[name]['ece']:.3f})")
    ax.set_xlabel("stated confidence")
    ax.set_ylabel("share correct")
    ax.set_title(f"ask reliability ({out['folds']}-fold held-out)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "reliability.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in NAMES:
        rows = out[name]["coverage_curve"]
        ax.plot([r["coverage"] for r in rows], [r["accuracy"] for r in rows], marker="o", label=name)
    ax.set_xlabel("share of queries answered (most confident first)")
    ax.set_ylabel("share of those answered correctly")
    ax.set_ylim(0, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "coverage.png", dpi=110)
    plt.close(fig)


def lines(out: dict) -> list[str]:
    """The printed table: systems side by side."""
    rows = [("answer accuracy (answerable)", "answer_accuracy"), ("answer accuracy, list questions", "list_accuracy"),
            ("abstention (unanswerable)", "abstention_accuracy"), ("false abstention (answerable)", "false_abstention_rate"),
            ("expected calibration error", "ece")]
    text = [f"ask, {out['folds']}-fold held-out, first split    " + "  ".join(f"{n:>9}" for n in NAMES)]
    for label, key in rows:
        text.append(f"{label:<43}" + "  ".join(f"{out[n][key]:>9.3f}" for n in NAMES))
    text.append(f"mean over {out['splits']} fold splits (min-max)")
    for label, key in rows:
        if key in REPEATED:
            spread = [out[n]["over_splits"][key] for n in NAMES]
            text.append(f"  {label:<41}" + "  ".join(f"{s['mean']:.3f} ({s['min']:.2f}-{s['max']:.2f})" for s in spread))
    ceiling = out["ceiling"]
    text.append(f"ceiling on answerable questions: every key in a passage read {ceiling['keys_in_passages_read']:.3f}, "
                f"some candidate right {ceiling['answer_right']:.3f} (rule-based {ceiling['rule_right']:.3f}, "
                f"reader {ceiling['reader_right']:.3f}, document facts {ceiling['facts_right']:.3f})")
    lat = out["candidates_latency_ms"]
    text.append(f"retrieve + answer + read per question: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms")
    text.append(f"shipped: {out['shipped']}")
    return text


def shipped_system(out: dict) -> str:
    """The combiner `ask` ships: the one with the highest held-out answer accuracy plus abstention, mean
    over the fold splits (the simplest on a tie: without document facts, then without the reader)."""
    def merit(name: str) -> float:
        repeated = out[name]["over_splits"]
        return repeated["answer_accuracy"]["mean"] + repeated["abstention_accuracy"]["mean"]
    return max(("no facts", "no reader", "combined"), key=merit)


def fit_all(asked: list[Asked], out: dict) -> Path:
    """Refit the shipped system on every query and write its combiner (with the held-out figures it
    was judged by)."""
    from search_api.confidence import COMBINER_FILE, Combiner

    system = next(s for s in systems() if s.name == out["shipped"])
    chosen = fit(asked, system)
    scaler, regression = chosen.model.steps[0][1], chosen.model.steps[1][1]
    combiner = Combiner(tuple(float(w) for w in regression.coef_[0]), float(regression.intercept_[0]),
                        tuple(float(m) for m in scaler.mean_), tuple(float(s) for s in scaler.scale_),
                        float(chosen.threshold), system.features)
    held_out = {name: {k: out[name]["over_splits"][k]["mean"] for k in ("answer_accuracy", "abstention_accuracy", "ece")}
                for name in NAMES}
    COMBINER_FILE.write_text(combiner.to_json({"fitted_on": f"{len(asked)} queries of eval/queries.jsonl",
                                               f"held_out_mean_of_{out['splits']}_splits": held_out}),
                             encoding="utf-8")
    return COMBINER_FILE


def main(argv: Sequence[str] | None = None) -> int:
    from search_api.config import Settings
    from search_api.service import SearchService

    parser = argparse.ArgumentParser(prog="python -m eval.calibration", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", default=str(REPO / "eval" / "queries.jsonl"))
    parser.add_argument("--index", help="index folder (default: the configured one, built from corpus/)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--splits", type=int, default=SPLITS, help="fold splits the headline figures are repeated over")
    parser.add_argument("--report", default=str(REPO / "eval" / "reports" / "ask"))
    parser.add_argument("--fit", action="store_true", help="also write search_api/combiner.json")
    args = parser.parse_args(argv)
    settings = Settings.from_env(index_dir=args.index)
    service = SearchService(settings)
    service.ensure_index()
    asked = collect(service, load_queries(args.queries))
    out = calibrate(asked, args.folds, Path(args.report), args.splits)
    Path(args.report, "calibration.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n".join(lines(out)))
    if args.fit:
        print(f"wrote {fit_all(asked, out).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
