"""Fusion weights chosen by k-fold cross-validation, so the reported hybrid figures are held-out figures.

The dense weight of the weighted fusion (`alpha` for Vietnamese queries, `alpha_en` for English ones)
is picked on k-1 folds of the query set (best MRR@10, then R@5, then the grid point nearest the middle)
and the k-th fold is searched with it. The pooled rankings form the system `hybrid-cv`, scored like
every other system; the per-fold choices are reported beside it. Folds are stratified by query kind
and assigned by a hash of the query id, so every run and machine uses the same folds. The held-out
MRR@10 and R@5 are also given over SPLITS different fold splits (mean, min, max): with ~170 queries
one split is partly luck.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from statistics import median

from eval.dataset import EvalQuery
from eval.relevance import relevant_gold

GRID = tuple(round(0.1 * i, 1) for i in range(11))
SYSTEM = "hybrid-cv"
SPLITS = 10                     # fold splits held-out figures are repeated over (here and in eval.calibration)


def folds(queries: list[EvalQuery], k: int, split: int = 0) -> dict[str, int]:
    """Query id -> fold, stratified by kind (each kind is spread evenly over the folds). `split` > 0 draws
    another assignment (the hash of the id is salted with it), for figures repeated over several splits."""
    def order(query: EvalQuery) -> str:
        return hashlib.sha1((f"{split}:{query.id}" if split else query.id).encode()).hexdigest()

    out: dict[str, int] = {}
    by_kind: dict[str, list[EvalQuery]] = {}
    for query in queries:
        by_kind.setdefault(query.kind, []).append(query)
    offset = 0
    for kind in sorted(by_kind):
        members = sorted(by_kind[kind], key=order)
        for i, query in enumerate(members):
            out[query.id] = (offset + i) % k
        offset += len(members)
    return out


def cross_validate(service, queries: list[EvalQuery], k: int, depth: int, make_run, passage_of) -> tuple:
    """(SystemRun of held-out rankings, per-fold choices). `make_run(name)` builds an empty run and
    `passage_of(result)` turns an API result into the runner's Passage."""
    from search_api.schemas import SearchParams

    answerable = [q for q in queries if q.gold]
    assignment = folds(answerable, k)
    rankings: dict[float, dict[str, list]] = {}
    timing: dict[float, dict[str, float]] = {}
    for alpha in GRID:
        tuned = _with_alpha(service, alpha)
        rankings[alpha], timing[alpha] = {}, {}
        for query in answerable:
            began = time.perf_counter()
            response = tuned.search(SearchParams(q=query.query, k=depth, **{k_: str(v) for k_, v in query.filters.items()}))
            timing[alpha][query.id] = (time.perf_counter() - began) * 1000
            rankings[alpha][query.id] = [passage_of(r) for r in response.results]
    reciprocal = {a: {q.id: _reciprocal_rank(q, rankings[a][q.id]) for q in answerable} for a in GRID}
    run = make_run(SYSTEM)
    choices = []
    for fold in range(k):
        chosen = _chosen(reciprocal, answerable, assignment, fold)
        choices.append({"fold": fold, "alpha": chosen["vi"], "alpha_en": chosen["en"],
                        "queries": sum(assignment[q.id] == fold for q in answerable)})
        for query in answerable:
            if assignment[query.id] == fold:
                alpha = chosen[query.lang]
                run.ranked[query.id] = rankings[alpha][query.id]
                run.latency_ms[query.id] = timing[alpha][query.id]
    summary = {"folds": choices, "grid": list(GRID),
               "median_alpha": median(c["alpha"] for c in choices),
               "median_alpha_en": median(c["alpha_en"] for c in choices),
               "over_splits": over_splits(reciprocal, answerable, k)}
    return run, summary


def _chosen(reciprocal: dict, queries: list[EvalQuery], assignment: dict[str, int], fold: int) -> dict[str, float]:
    """The weight per query language, chosen on every fold but `fold`."""
    train = [q for q in queries if assignment[q.id] != fold]
    return {lang: _best(reciprocal, [q.id for q in train if q.lang == lang]) for lang in ("vi", "en")}


def over_splits(reciprocal: dict, queries: list[EvalQuery], k: int, splits: int = SPLITS) -> dict:
    """Held-out MRR@10 and R@5 of the k-fold choice, for `splits` fold splits: mean, min and max."""
    runs = []
    for split in range(splits):
        assignment = folds(queries, k, split)
        chosen = [_chosen(reciprocal, queries, assignment, fold) for fold in range(k)]
        held = [reciprocal[chosen[assignment[q.id]][q.lang]][q.id] for q in queries]
        runs.append(tuple(sum(h[i] for h in held) / len(held) for i in (0, 1)))
    return {"splits": splits, **{name: {"mean": round(sum(r[i] for r in runs) / splits, 4),
                                        "min": round(min(r[i] for r in runs), 4), "max": round(max(r[i] for r in runs), 4)}
                                 for i, name in enumerate(("mrr@10", "r@5"))}}


def _with_alpha(service, alpha: float):
    """A SearchService on the same index whose fusion uses `alpha` for both languages."""
    from search_api.service import SearchService

    tuned = SearchService(service.settings, service.embedder, replace(service.fusion, alpha=alpha, alpha_en=alpha))
    tuned.reload()
    return tuned


def _reciprocal_rank(query: EvalQuery, passages: list, k: int = 10) -> tuple[float, float]:
    """(MRR@10 contribution, hit in the top 5) of one ranking."""
    for rank, passage in enumerate(passages[:k], start=1):
        if relevant_gold(passage.text, query.gold):
            return 1.0 / rank, float(rank <= 5)
    return 0.0, 0.0


def _best(scores: dict[float, dict[str, tuple[float, float]]], ids: list[str]) -> float:
    """The grid point with the best mean MRR@10 on `ids` (then R@5, then nearest to 0.5)."""
    if not ids:
        return 0.5
    def key(alpha: float) -> tuple[float, float, float]:
        mrr = sum(scores[alpha][i][0] for i in ids) / len(ids)
        r5 = sum(scores[alpha][i][1] for i in ids) / len(ids)
        return (round(mrr, 6), round(r5, 6), -abs(alpha - 0.5))
    return max(GRID, key=key)
