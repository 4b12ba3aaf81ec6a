"""`python -m eval.ask_latency` (make bench-ask): `ask` and `search` latency of a warm `tracuu serve`, side by side.

A real server (eval/server.py) on the seed corpus, its index kept under .cache/ask-latency so a rerun
does not rebuild it. Every query of eval/queries.jsonl is asked once to warm the server (the first
start already warmed the models with one ask), then `--rounds` rounds go through GET /api/search and
GET /api/ask one request at a time, a search and an ask of the same query in turn, so load on the
machine hits both alike. Printed: p50/p95 as the client sees them (HTTP included) and the server's own
`took_ms`, for both routes, and the share of asks answered.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from eval.dataset import load_queries
from eval.latency import percentiles
from eval.server import REPO, Server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.ask_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=REPO / "eval" / "queries.jsonl")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the queries after the warm-up pass")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "ask-latency",
                        help="the server's corpus and index (kept between runs)")
    parser.add_argument("--report", type=Path, default=REPO / "eval" / "reports" / "ask-latency.json")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    queries = [q.query for q in load_queries(args.queries)]
    seed = sorted(p.name for p in (REPO / "corpus").iterdir() if p.suffix == ".txt")
    args.work.mkdir(parents=True, exist_ok=True)
    with Server(args.work, seed) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        for query in queries:                                   # warm-up pass, not timed
            http.get("/api/ask", params={"q": query}).raise_for_status()
        samples: dict[str, dict[str, list[float]]] = {route: {"client": [], "server": []} for route in ("search", "ask")}
        answered = 0
        order = random.Random(13)
        for _ in range(args.rounds):
            for query in order.sample(queries, len(queries)):
                for route in ("search", "ask"):
                    began = time.perf_counter()
                    response = http.get(f"/api/{route}", params={"q": query})
                    response.raise_for_status()
                    samples[route]["client"].append((time.perf_counter() - began) * 1000)
                    body = response.json()
                    samples[route]["server"].append(float(body["took_ms"]))
                    answered += route == "ask" and body.get("answer") is not None
    figures: dict[str, Any] = {route: {side: percentiles(values) for side, values in by_side.items()}
                               for route, by_side in samples.items()}
    figures["ask_answered_share"] = round(answered / len(samples["ask"]["client"]), 3)
    figures["queries"], figures["rounds"] = len(queries), args.rounds
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(table(figures))
    return 0


def table(figures: dict) -> str:
    lines = ["| route | client p50 / p95 ms | server took_ms p50 / p95 |", "|---|---|---|"]
    for route in ("search", "ask"):
        client, server = figures[route]["client"], figures[route]["server"]
        lines.append(f"| {route} | {client['p50']:.0f} / {client['p95']:.0f} | {server['p50']:.0f} / {server['p95']:.0f} |")
    lines.append(f"{figures['queries']} queries x {figures['rounds']} rounds on a warm server; "
                 f"asks answered: {figures['ask_answered_share']:.0%}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
