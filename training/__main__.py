"""`python -m training` (what `make model` runs): data -> fine-tune -> shipped patch, timed.

    python -m training            # everything; resumes a killed run from its last checkpoint
    python -m training data       # only step 1 (collect, leak check, mine, split)
    python -m training train      # steps 2 and 3 on existing data
Work files go to .cache/training/ (git-ignored): raw training data never enters the repository.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from training.dataset import build
from training.train import TrainConfig, train

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".cache" / "training"
NAME = "tracuu-e5-v1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=("all", "data", "train"), default="all")
    parser.add_argument("--work", type=Path, default=WORK, help="work folder (default .cache/training)")
    parser.add_argument("--limit", type=int, help="train on the first N examples only (a smoke run)")
    parser.add_argument("--name", default=NAME, help=f"name of the shipped model (default {NAME})")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    data = args.work / "data"
    if args.step in ("all", "data") or not (data / "train.jsonl").is_file():
        stats = build(data)
        print(f"data: {stats['train_examples']} training examples in {stats['seconds']:.0f} s; "
              f"leaks dropped: {sum(stats['leaks_dropped'].values())}", flush=True)
    if args.step in ("all", "train"):
        from indexer.e5file import E5File, bundled_path
        from training.export import model_image, write_patch

        config = TrainConfig(limit=args.limit)
        model = train(data, args.work, config)
        base = E5File(bundled_path())
        stats = json.loads((data / "stats.json").read_text(encoding="utf-8"))
        facts = {"training": {"config": config.__dict__, "data": stats,
                              "hours": round((time.perf_counter() - began) / 3600, 2)}}
        path = write_patch(model_image(model[0].auto_model, base), base, args.name, facts)
        print(f"model: {path} ({path.with_suffix('.patch').stat().st_size / 1e6:.1f} MB patch)")
    print(f"make model took {(time.perf_counter() - began) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
