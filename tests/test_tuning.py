"""k-fold choice of the fusion weights: folds are stable and stratified, and a fold never sees its own queries."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from eval import tuning
from eval.dataset import load_queries

QUERIES = Path(__file__).resolve().parent.parent / "eval" / "queries.jsonl"


def test_folds_are_deterministic_and_spread_every_kind():
    queries = [q for q in load_queries(QUERIES) if q.gold]
    first, second = tuning.folds(queries, 5), tuning.folds(list(reversed(queries)), 5)
    assert first == second, "fold assignment must not depend on file order"
    sizes = Counter(first.values())
    assert set(sizes) == set(range(5)) and max(sizes.values()) - min(sizes.values()) <= 1
    for kind in {q.kind for q in queries}:
        per_fold = Counter(first[q.id] for q in queries if q.kind == kind)
        assert max(per_fold.values()) - min(per_fold.get(f, 0) for f in range(5)) <= 1, kind
    other = tuning.folds(queries, 5, split=3)
    assert other != first and Counter(other.values()) == sizes, "another split: other folds, same sizes"
    assert tuning.folds(queries, 5, split=3) == other


def test_best_grid_point_uses_only_the_given_queries():
    # alpha 0.2 is best on q1/q2, alpha 0.9 on q3: the choice follows the ids it is given
    scores = {a: {"q1": (0.0, 0.0), "q2": (0.0, 0.0), "q3": (0.0, 0.0)} for a in tuning.GRID}
    scores[0.2].update(q1=(1.0, 1.0), q2=(0.5, 1.0))
    scores[0.9].update(q3=(1.0, 1.0))
    assert tuning._best(scores, ["q1", "q2"]) == 0.2
    assert tuning._best(scores, ["q3"]) == 0.9
    assert tuning._best(scores, []) == 0.5
    # ties go to the point nearest the middle of the grid
    flat = {a: {"q1": (0.5, 1.0)} for a in tuning.GRID}
    assert tuning._best(flat, ["q1"]) == 0.5


def test_held_out_figures_over_several_fold_splits():
    """Which grid point wins depends on the queries a fold leaves out: other splits, other figures."""
    import random

    queries = [q for q in load_queries(QUERIES) if q.gold]
    rng = random.Random(7)
    scores = {a: {q.id: (rng.choice((0.0, 0.5, 1.0)), rng.choice((0.0, 1.0))) for q in queries} for a in tuning.GRID}
    spread = tuning.over_splits(scores, queries, 5, splits=4)
    assert spread["splits"] == 4
    for name in ("mrr@10", "r@5"):
        assert spread[name]["min"] <= spread[name]["mean"] <= spread[name]["max"], name
    assert spread["mrr@10"]["min"] < spread["mrr@10"]["max"], "the splits must differ"
    one = tuning.over_splits(scores, queries, 5, splits=1)["mrr@10"]
    assignment = tuning.folds(queries, 5)
    first = sum(scores[tuning._chosen(scores, queries, assignment, assignment[q.id])[q.lang]][q.id][0]
                for q in queries) / len(queries)
    assert one["mean"] == round(first, 4), "split 0 is the folds hybrid-cv itself is scored on"
