"""Figures from ranked results (ranx for every ranking metric) and the report folder they are written to.

report.json holds every figure, the misses and the configuration; report.md renders the same dict
as tables; modes.png draws the main metrics per system. One function builds the data, the others
only render it.
"""
from __future__ import annotations

import json
import os
import platform
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from eval.answer_keys import is_correct, missing_keys
from eval.dataset import KINDS, EvalQuery
from eval.relevance import relevant_gold

PRIMARY = "hybrid"          # the system whose misses are listed in full in report.md
MISS_ROWS_MD = 100          # benchmark miss lists are long; report.json keeps them all


# -- ranx glue ------------------------------------------------------------------------------------

def gold_unit_run(hits: list[list[int]]) -> dict[str, float]:
    """A ranx run in which each gold item is one relevant unit ("g0", "g1", ... as in gold_qrels).

    Walking down the ranking, a passage that hits gold items not credited yet contributes their ids
    "g{j}" (in gold order, at consecutive positions); a passage that hits nothing new -- irrelevant,
    or only repeating an item already found -- contributes a unique non-relevant id "_p{rank}".
    Scores fall with position so ranx keeps this order. Before the first hit every passage is one
    position, so hit rate (Recall@k) and MRR see exactly the passage ranks; a passage holding several
    gold items fills several positions, so nDCG credits all of them instead of only one.
    """
    ids: list[str] = []
    credited: set[int] = set()
    for rank, found in enumerate(hits, start=1):
        new = [j for j in found if j not in credited]
        credited.update(new)
        if new:
            ids.extend(f"g{j}" for j in new)
        else:
            ids.append(f"_p{rank}")
    return {doc: float(len(ids) - i) for i, doc in enumerate(ids)}


def gold_qrels(count: int) -> dict[str, int]:
    return {f"g{j}": 1 for j in range(count)}


def doc_run(ranked_docs: list[tuple[str, ...]], k: int) -> dict[str, float]:
    """Benchmark run: passages -> distinct documents, each at the best rank of any of its passages."""
    order: list[str] = []
    for docs in ranked_docs:
        order.extend(d for d in docs if d not in order)
        if len(order) >= k:
            break
    order = order[:k]
    return {doc: float(len(order) - i) for i, doc in enumerate(order)}


def ranx_scores(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]],
                metrics: dict[str, str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-query values of {our name: ranx metric}, e.g. {"R@1": "hit_rate@1"}."""
    from ranx import Qrels, Run, evaluate

    ranx_run = Run({q: run.get(q, {}) for q in qrels})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety chatter
        means = evaluate(Qrels(qrels), ranx_run, list(metrics.values()), make_comparable=True)
    if not isinstance(means, dict):
        means = {next(iter(metrics.values())): means}
    mean = {name: float(means[metric]) for name, metric in metrics.items()}
    per_query = {name: {q: float(v) for q, v in ranx_run.scores[metric].items()} for name, metric in metrics.items()}
    return mean, per_query


def metric_names(k: int, recall: str) -> dict[str, str]:
    """Our column names -> ranx metrics; `recall` is hit_rate (query set) or recall (benchmarks)."""
    cutoffs = sorted({c for c in (1, 5, k) if c <= k})
    names = {f"R@{c}": f"{recall}@{c}" for c in cutoffs}
    names.update({f"MRR@{k}": f"mrr@{k}", f"nDCG@{k}": f"ndcg@{k}"})
    return names


# -- the query set --------------------------------------------------------------------------------

def score_query_set(queries: list[EvalQuery], runs: dict, asked, floor: list[float] | None,
                    config: dict, k: int) -> dict:
    """All figures for tracuu's own query set. Unanswerable queries only count for `ask`."""
    answerable = [q for q in queries if q.gold]
    metrics = metric_names(k, "hit_rate")
    qrels = {q.id: gold_qrels(len(q.gold)) for q in answerable}
    hits_cache: dict[tuple[str, str], list[int]] = {}
    figures = _skeleton("query_set", config, metrics, floor)
    figures["config"]["queries"], figures["config"]["answerable"] = len(queries), len(answerable)
    per_query_r5: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        hits = {q.id: [_hits(hits_cache, q, p.text) for p in run.ranked.get(q.id, [])[:k]] for q in answerable}
        mean, per_query = ranx_scores(qrels, {q: gold_unit_run(h) for q, h in hits.items()}, metrics)
        figures["systems"][name] = {**mean, "latency_ms": latency(list(run.latency_ms.values())),
                                    "errors": len(run.errors)}
        per_query_r5[name] = per_query.get("R@5", per_query[next(iter(metrics))])
        firsts = {qid: _first_hit(h) for qid, h in hits.items()}
        figures["per_query"][name] = firsts
        figures["misses"][name] = [_query_miss(q, firsts[q.id], run.ranked.get(q.id, [])) for q in answerable
                                   if firsts[q.id] != 1]
    if "lexical" in per_query_r5 and "dense" in per_query_r5:
        lexical, dense = per_query_r5["lexical"], per_query_r5["dense"]
        per_query_r5[BEST_OF_TWO] = {qid: max(lexical[qid], dense[qid]) for qid in lexical}
        figures["best_of_two_R@5"] = float(np.mean(list(per_query_r5[BEST_OF_TWO].values())))
    figures["per_kind"] = _per_kind(answerable, per_query_r5)
    figures["ask"] = ask_figures(queries, asked) if asked else None
    return figures


BEST_OF_TWO = "best-of-lexical-dense"   # an oracle picking, per query, the better of the two retrievers


def _hits(cache: dict, query: EvalQuery, text: str) -> list[int]:
    key = (query.id, text)
    if key not in cache:
        cache[key] = relevant_gold(text, query.gold)
    return cache[key]


def _first_hit(hits: list[list[int]]) -> int | None:
    return next((rank for rank, found in enumerate(hits, start=1) if found), None)


def _per_kind(queries: list[EvalQuery], r5: dict[str, dict[str, float]]) -> dict:
    out = {}
    for kind in KINDS:
        ids = [q.id for q in queries if q.kind == kind]
        if ids:
            out[kind] = {"n": len(ids), "R@5": {s: float(np.mean([v[i] for i in ids])) for s, v in r5.items()}}
    return out


def _query_miss(query: EvalQuery, rank: int | None, passages: list) -> dict:
    top = passages[0] if passages else None
    return {"id": query.id, "kind": query.kind, "query": query.query, "rank": rank,
            "gold": _short(query.gold[0].quote, 90), "gold_doc": query.gold[0].doc,
            "top1": {"source": top.source, "text": _short(top.text, 100)} if top else None}


def ask_figures(queries: list[EvalQuery], asked) -> dict:
    """Answer accuracy (an answer is correct when it holds every answer key, eval.answer_keys), the
    same on list questions and per kind, abstention on unanswerable queries, and false abstention
    (no answer) on answerable ones."""
    keyed = [q for q in queries if q.answer_keys]
    correct = {q.id for q in keyed if is_correct(asked.answers.get(q.id), q.answer_keys)}
    listed = [q for q in keyed if q.is_list]
    unanswerable = [q for q in queries if not q.gold]
    abstained = [q.id for q in unanswerable if asked.answers.get(q.id) is None]
    answerable = [q for q in queries if q.gold]
    silent = [q.id for q in answerable if asked.answers.get(q.id) is None]
    per_kind = {kind: {"n": len(ids), "answer_accuracy": _ratio(len(correct.intersection(ids)), len(ids))}
                for kind in KINDS if (ids := [q.id for q in keyed if q.kind == kind])}
    return {
        "answer_accuracy": _ratio(len(correct), len(keyed)), "answer_n": len(keyed),
        "list_accuracy": _ratio(sum(q.id in correct for q in listed), len(listed)), "list_n": len(listed),
        "abstention_accuracy": _ratio(len(abstained), len(unanswerable)), "unanswerable_n": len(unanswerable),
        "false_abstention_rate": _ratio(len(silent), len(answerable)), "answerable_n": len(answerable),
        "per_kind": per_kind,
        "latency_ms": latency(list(asked.latency_ms.values())),
        "wrong": [{"id": q.id, "keys": list(q.answer_keys),
                   "missing": missing_keys(asked.answers.get(q.id), q.answer_keys),
                   "got": _short(asked.answers.get(q.id) or "", 100) or None}
                  for q in keyed if q.id not in correct],
        "answered_unanswerable": [{"id": q.id, "query": q.query, "got": _short(asked.answers[q.id] or "", 100)}
                                  for q in unanswerable if q.id not in abstained],
    }


# -- benchmarks -----------------------------------------------------------------------------------

def score_benchmark(pairs: list[tuple[str, str, dict]], qrels: dict[str, dict[str, int]], runs: dict,
                    floor: list[float] | None, config: dict, k: int) -> dict:
    """Figures for a BEIR-like benchmark, scored by its own qrels over distinct documents."""
    metrics = metric_names(k, "recall")
    figures = _skeleton("benchmark", config, metrics, floor)
    texts = {qid: text for qid, text, _ in pairs}
    for name, run in runs.items():
        docs = {qid: doc_run([p.docs for p in run.ranked.get(qid, [])], k) for qid in qrels}
        mean, _per_query = ranx_scores(qrels, docs, metrics)
        figures["systems"][name] = {**mean, "latency_ms": latency(list(run.latency_ms.values())),
                                    "errors": len(run.errors),
                                    # fewer than k distinct documents came back (passages shared documents)
                                    "short_rankings": sum(len(d) < k for d in docs.values())}
        firsts = {qid: _first_doc(docs[qid], qrels[qid]) for qid in qrels}
        figures["per_query"][name] = firsts
        figures["misses"][name] = [
            {"id": qid, "query": texts[qid], "rank": firsts[qid], "gold": sorted(qrels[qid])[:3],
             "top1": _bench_top(run.ranked.get(qid, []))}
            for qid in qrels if firsts[qid] != 1]
    return figures


def _first_doc(run: dict[str, float], relevant: dict[str, int]) -> int | None:
    ranked = sorted(run, key=lambda d: -run[d])
    return next((i for i, d in enumerate(ranked, start=1) if relevant.get(d, 0) > 0), None)


def _bench_top(passages: list) -> dict | None:
    if not passages:
        return None
    return {"doc": passages[0].docs[0] if passages[0].docs else passages[0].source,
            "text": _short(passages[0].text, 100)}


# -- shared -----------------------------------------------------------------------------------------

def _skeleton(kind: str, config: dict, metrics: dict[str, str], floor: list[float] | None) -> dict:
    return {"kind": kind, "metrics": list(metrics), "ranx_metrics": metrics,
            "config": {**config, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                       "python": platform.python_version(), "cpus": os.cpu_count(),
                       # latency is only comparable between runs on an equally idle machine
                       "load_average": [round(x, 2) for x in os.getloadavg()]},
            "systems": {}, "embed_floor_ms": latency(floor) if floor else None,
            "per_kind": None, "ask": None, "misses": {}, "per_query": {}}


def latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0}
    arr = np.asarray(values, dtype=np.float64)
    return {"p50": round(float(np.percentile(arr, 50)), 2), "p95": round(float(np.percentile(arr, 95)), 2),
            "mean": round(float(arr.mean()), 2)}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# -- rendering ------------------------------------------------------------------------------------

def write_report(folder: str | Path, figures: dict) -> Path:
    """report.json + report.md + modes.png in `folder` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(figures), encoding="utf-8")
    plot_modes(figures, folder / "modes.png")
    return folder


def main_table(figures: dict) -> list[list[str]]:
    """Header + one row per system: ranking metrics, then latency."""
    rows = [["system", *figures["metrics"], "p50 ms", "p95 ms"]]
    for name, row in figures["systems"].items():
        rows.append([name, *(f"{row[m]:.3f}" for m in figures["metrics"]),
                     f"{row['latency_ms']['p50']:.1f}", f"{row['latency_ms']['p95']:.1f}"])
    return rows


def render_terminal(figures: dict) -> str:
    lines = [_title(figures), _plain(main_table(figures))]
    if figures.get("embed_floor_ms"):
        floor = figures["embed_floor_ms"]
        lines.append(f"embedding one query alone: p50 {floor['p50']:.1f} ms, p95 {floor['p95']:.1f} ms")
    if figures["config"].get("compare_embed_ms"):
        other = figures["config"]["compare_embed_ms"]
        lines.append(f"the same with {figures['config']['compare']}: p50 {other['p50']:.1f} ms, "
                     f"p95 {other['p95']:.1f} ms")
    if figures["config"].get("cv"):
        cv = figures["config"]["cv"]
        picks = ", ".join(f"{c['alpha']}/{c['alpha_en']}" for c in cv["folds"])
        lines.append(f"hybrid-cv: dense weight (vi/en) chosen on the other folds: {picks}")
        spread = cv["over_splits"]
        lines.append(f"hybrid-cv over {spread['splits']} fold splits: " + ", ".join(
            f"{name} {spread[name]['mean']:.3f} ({spread[name]['min']:.3f}-{spread[name]['max']:.3f})"
            for name in ("r@5", "mrr@10")))
    if "unreachable_gold" in figures["config"]:
        missing = figures["config"]["unreachable_gold"]
        lines.append(f"gold items no indexed chunk is relevant to: {len(missing)} {' '.join(missing[:10])}")
    if figures.get("per_kind"):
        lines.append("Recall@5 per kind:\n" + _plain(_kind_table(figures)))
    if figures.get("best_of_two_R@5") is not None:
        lines.append(_ceiling_line(figures))
    if figures.get("ask"):
        lines.append(_ask_line(figures["ask"]))
    if figures.get("ask_cv"):
        lines += _ask_cv_lines(figures["ask_cv"])
    return "\n".join(lines)


def render_markdown(figures: dict) -> str:
    cfg = figures["config"]
    parts = [f"# {_title(figures)}", "", _config_lines(cfg), "", "## Retrieval", "", _md(main_table(figures)), ""]
    parts.append(_recall_note(figures))
    if figures.get("per_kind"):
        parts += ["", "## Recall@5 per kind", "", _md(_kind_table(figures))]
    if figures.get("best_of_two_R@5") is not None:
        parts += ["", _ceiling_line(figures)]
    if figures.get("ask"):
        parts += ["", "## Ask (hybrid, the shipped combiner)", "", _md(_ask_table(figures["ask"])),
                  "", "Answer accuracy per kind:", "", _md(_ask_kind_table(figures["ask"]))]
    if figures.get("ask_cv"):
        parts += ["", "## Ask, cross-validated (eval.calibration)", "", "```", *_ask_cv_lines(figures["ask_cv"]), "```",
                  "", "![reliability](reliability.png) ![coverage](coverage.png)"]
    parts += ["", "## Latency (ms per query, after one warm-up query)", "", _md(_latency_table(figures))]
    parts += ["", f"## Misses of {_primary(figures)} (first relevant result not at rank 1)", "", _misses_md(figures)]
    return "\n".join(parts) + "\n"


def _title(figures: dict) -> str:
    cfg = figures["config"]
    if figures["kind"] == "benchmark":
        return f"tracuu eval — benchmark {Path(cfg['benchmark']).name} ({cfg['queries_used']} queries)"
    return f"tracuu eval — query set ({cfg['answerable']} answerable of {cfg['queries']} queries)"


def _config_lines(cfg: dict) -> str:
    keys = [k for k in cfg if k not in ("fusion",)]
    lines = [f"- {k}: `{cfg[k]}`" for k in keys]
    if "fusion" in cfg:
        lines.append(f"- fusion: `{json.dumps(cfg['fusion'])}`")
    return "\n".join(lines)


def _recall_note(figures: dict) -> str:
    if figures["kind"] == "benchmark":
        return ("R@k = share of a query's relevant documents in the top k (ranx recall); passages are "
                "collapsed to distinct documents at their best rank.")
    return ("R@k = share of queries with any gold item in the top k (ranx hit_rate); MRR and nDCG count "
            "each gold item as one relevant unit; relevance = eval.relevance (folded containment or ≥60% block).")


def _ceiling_line(figures: dict) -> str:
    return (f"{BEST_OF_TWO}: R@5 {figures['best_of_two_R@5']:.3f} when an oracle picks, per query, the better "
            "of the lexical and dense rankings (how far re-weighting the two can go)")


def _kind_table(figures: dict) -> list[list[str]]:
    systems = list(next(iter(figures["per_kind"].values()))["R@5"])
    rows = [["kind", "n", *systems]]
    for kind, row in figures["per_kind"].items():
        rows.append([kind, str(row["n"]), *(f"{row['R@5'][s]:.3f}" for s in systems)])
    return rows


def _ask_table(ask: dict) -> list[list[str]]:
    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"
    return [["metric", "value", "n"],
            ["answer accuracy (every answer key in the answer)", pct(ask["answer_accuracy"]), str(ask["answer_n"])],
            ["answer accuracy, list questions", pct(ask["list_accuracy"]), str(ask["list_n"])],
            ["abstention accuracy (unanswerable)", pct(ask["abstention_accuracy"]), str(ask["unanswerable_n"])],
            ["false abstention rate (answerable)", pct(ask["false_abstention_rate"]), str(ask["answerable_n"])],
            ["ask latency p50 / p95 ms", f"{ask['latency_ms']['p50']:.1f} / {ask['latency_ms']['p95']:.1f}", ""]]


def _ask_kind_table(ask: dict) -> list[list[str]]:
    rows = [["kind", "n", "answer accuracy"]]
    for kind, row in ask["per_kind"].items():
        rows.append([kind, str(row["n"]), f"{row['answer_accuracy']:.3f}"])
    return rows


def _ask_cv_lines(ask_cv: dict) -> list[str]:
    """The held-out ask figures; the shipped combiner's own line above them is fitted on these queries."""
    from eval import calibration

    return ["ask figures with every combiner weight and threshold fitted on the other folds:",
            *calibration.lines(ask_cv)]


def _ask_line(ask: dict) -> str:
    return ("ask (the shipped combiner, fitted on these very queries: see the held-out figures): "
            + ", ".join(f"{row[0]} {row[1]}" for row in _ask_table(ask)[1:]))


def _latency_table(figures: dict) -> list[list[str]]:
    rows = [["system", "p50", "p95", "mean"]]
    for name, row in figures["systems"].items():
        rows.append([name, *(f"{row['latency_ms'][p]:.1f}" for p in ("p50", "p95", "mean"))])
    if figures.get("embed_floor_ms"):
        rows.append(["(embed query only)", *(f"{figures['embed_floor_ms'][p]:.1f}" for p in ("p50", "p95", "mean"))])
    if figures.get("ask"):
        rows.append(["ask (hybrid)", *(f"{figures['ask']['latency_ms'][p]:.1f}" for p in ("p50", "p95", "mean"))])
    return rows


def _primary(figures: dict) -> str:
    return PRIMARY if PRIMARY in figures["systems"] else next(iter(figures["systems"]), PRIMARY)


def _misses_md(figures: dict) -> str:
    primary = _primary(figures)
    misses = figures["misses"].get(primary, [])
    if not misses:
        return "None."
    others = [s for s in figures["systems"] if s != primary]
    ranked = sorted(misses, key=lambda m: (m["rank"] is not None, m["rank"] or 0, m["id"]))
    bench = figures["kind"] == "benchmark"
    head = ["id", *([] if bench else ["kind"]), "rank", *others, "query", "gold", "first instead"]
    rows = [head]
    for miss in ranked[: MISS_ROWS_MD if bench else None]:
        top = miss["top1"]
        first = "–" if top is None else f"{top.get('doc', top.get('source'))}: {top['text']}"
        gold = ", ".join(miss["gold"]) if bench else f"{miss['gold']} ({miss['gold_doc']})"
        rows.append([miss["id"], *([] if bench else [miss["kind"]]), _rank(miss["rank"]),
                     *(_rank(figures["per_query"][s].get(miss["id"])) for s in others), miss["query"], gold, first])
    note = f"\n\n{len(misses) - MISS_ROWS_MD} more in report.json." if bench and len(misses) > MISS_ROWS_MD else ""
    return f"Ranks: '>k' = no relevant result in the top {figures['config']['k']}.\n\n" + _md(rows) + note


def _rank(rank: int | None) -> str:
    return ">k" if rank is None else str(rank)


def _md(rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _plain(rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in rows)


def plot_modes(figures: dict, path: Path) -> None:
    """Grouped bars: one group per system, one bar per main metric (R@1, R@5, MRR, nDCG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = figures["config"]["k"]
    shown = [m for m in ("R@1", "R@5", f"MRR@{k}", f"nDCG@{k}") if m in figures["metrics"]]
    systems = list(figures["systems"])
    x = np.arange(len(systems))
    width = 0.8 / max(len(shown), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(systems) + 2), 4.2))
    for i, metric in enumerate(shown):
        values = [figures["systems"][s][metric] for s in systems]
        bars = ax.bar(x + (i - (len(shown) - 1) / 2) * width, values, width, label=metric)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(x, systems)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("score")
    ax.set_title(_title(figures), fontsize=10)
    ax.legend(ncol=len(shown), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
