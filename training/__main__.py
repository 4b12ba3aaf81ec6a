"""`python -m training` (what `make model` runs): data -> fine-tune -> shipped patch, timed.

    python -m training            # everything; resumes a killed run from its last checkpoint
    python -m training data       # only step 1 (collect, leak check, mine, split)
    python -m training train      # steps 2 and 3 on existing data
    python -m training reader     # the span reader (ViQuAD) and its dev scores against the rule-based answerer
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
    parser.add_argument("step", nargs="?", choices=("all", "data", "train", "reader"), default="all")
    parser.add_argument("--work", type=Path, default=WORK, help="work folder (default .cache/training)")
    parser.add_argument("--limit", type=int, help="train on the first N examples only (a smoke run)")
    parser.add_argument("--name", default=NAME, help=f"name of the shipped model (default {NAME})")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    data = args.work / "data"
    if args.step in ("all", "data") or (args.step == "train" and not (data / "train.jsonl").is_file()):
        stats = build(data)
        print(f"data: {stats['train_examples']} training examples in {stats['seconds']:.0f} s; "
              f"leaks dropped: {sum(stats['leaks_dropped'].values())}", flush=True)
    if args.step in ("all", "train"):
        from indexer.e5file import E5File, bundled_path
        from training.export import model_image, write_patch

        config = TrainConfig(limit=args.limit) if args.limit else TrainConfig()
        model = train(data, args.work, config)
        base = E5File(bundled_path())
        stats = json.loads((data / "stats.json").read_text(encoding="utf-8"))
        facts = {"training": {"config": config.__dict__, "data": stats, "dev": dev_history(args.work),
                              "hours_this_run": round((time.perf_counter() - began) / 3600, 2)}}
        path = write_patch(model_image(model[0].auto_model, base), base, args.name, facts)
        print(f"model: {path} ({path.with_suffix('.patch').stat().st_size / 1e6:.1f} MB patch)")
    if args.step in ("all", "reader"):
        _reader(args.work)
    print(f"make model took {(time.perf_counter() - began) / 60:.1f} min")
    return 0


def dev_history(work: Path) -> dict[str, dict[str, float]]:
    """MAP@10 and accuracy@1 of each dev set per evaluated step (step 0: the base model), as served:
    the layers are fake-quantized to 4 bits in every forward pass."""
    history = json.loads((work / "train-log.json").read_text(encoding="utf-8"))
    out: dict[str, dict[str, float]] = {}
    for entry in history:
        marks = {k.removeprefix("eval_").replace("_cosine", ""): round(v, 4) for k, v in entry.items()
                 if k.endswith(("cosine_map@10", "cosine_accuracy@1"))}
        if marks:
            out[str(entry.get("step", 0))] = marks
    return out


def _reader(work: Path) -> None:
    """Train the reader, score it and the rule-based answerer on ViQuAD dev, and write it to
    indexer/models/ (patch + facts with the dev scores)."""
    from indexer.embed import ShippedModel
    from search_api.reader import Reader
    from training.export import MODELS
    from training.reader import READER_NAME, dev_questions, export_reader, rule_answerer, score, train_reader

    model, facts = train_reader(work)
    reader = Reader.load(ShippedModel.read(export_reader(model, work / "reader-export", facts)), work / "reader-export")

    def read(question: str, context: str) -> str | None:
        """The best span, whatever the no-answer score: ViQuAD dev questions all have an answer, and both
        answerers are scored answering every one (abstention is judged on tracuu's own queries)."""
        spans = reader.read(question, [context])
        return context[spans[0].start:spans[0].end] if spans else None

    questions = dev_questions(300)
    facts["viquad_dev"] = {"reader": score(read, questions), "rule_based": score(rule_answerer(), questions)}
    print(json.dumps(facts["viquad_dev"], indent=1), flush=True)
    print(f"reader: {export_reader(model, MODELS, facts)} ({READER_NAME})")


if __name__ == "__main__":
    sys.exit(main())
