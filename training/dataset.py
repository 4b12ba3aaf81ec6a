"""Step 1 of `make model`: collect, leak-check, mine and split the training examples.

Writes `<out>/train.jsonl`, `<out>/dev-<set>.jsonl` and `<out>/stats.json` (counts per set, leak report),
which the model card quotes. Dev splits are whole paragraphs / articles / news documents held out
from training, used only to watch training (the reported figures come from tracuu's benchmarks).
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from training import leaks, legal, sources
from training.mine import mine
from training.sources import Example


@dataclass(frozen=True)
class Sizes:
    viquad_per_paragraph: int = 2
    legal_headings: int = 3000
    legal_cloze: int = 1500
    legal_numbers: int = 300
    evbnews: int = 3000
    tatoeba: int = 800
    iwslt: int = 400
    dev_per_set: int = 400


def collect(sizes: Sizes, rng: random.Random) -> tuple[list[Example], dict[str, list[Example]], dict]:
    """Training examples and dev examples per set, before the leak check."""
    articles, dropped_docs = legal.without_alqac(legal.articles())
    train: list[Example] = []
    train += sources.viquad("train", sizes.viquad_per_paragraph, rng)
    train += sources.zalo(rng)
    train += legal.heading_pairs(articles, sizes.legal_headings + sizes.dev_per_set, rng)
    train += legal.cloze_pairs(articles, sizes.legal_cloze, rng)
    train += legal.number_pairs(articles, sizes.legal_numbers, rng)
    train += sources.congbao()
    train += sources.bitext("evbnews", sizes.evbnews + sizes.dev_per_set, rng)
    train += sources.bitext("tatoeba", sizes.tatoeba, rng, min_words=4)
    train += sources.bitext("iwslt-test", sizes.iwslt, rng)
    dev = {"viquad": sources.viquad("dev", 1, rng)[: sizes.dev_per_set]}
    for name, source in (("legal", "phapdien/heading"), ("en-vi", "evbnews")):
        groups = sorted({e.group for e in train if e.source == source})
        held = set(rng.sample(groups, min(len(groups) // 8, sizes.dev_per_set)))
        dev[name] = [e for e in train if e.source == source and e.group in held][: sizes.dev_per_set]
        train = [e for e in train if not (e.source == source and e.group in held)]
    facts = {"alqac_documents_left_out": len(dropped_docs), "phapdien_articles_used_from": len(articles)}
    return train, dev, facts


def build(out: Path, sizes: Sizes = Sizes(), seed: int = 13, encoder=None) -> dict:
    """Run the whole step; returns the stats it writes."""
    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    leaks.check_pack()
    rng = random.Random(seed)
    train, dev, facts = collect(sizes, rng)
    guard = leaks.Guard()
    report = leaks.LeakReport()
    train = guard.filter(train, report)
    dev = {name: guard.filter(items, report) for name, items in dev.items()}
    if encoder is None:
        from indexer.e5model import E5Encoder

        encoder = E5Encoder.load()
    mined = {}
    for family, prefixes in (("viquad", ("viquad1/",)), ("legal", ("phapdien/heading", "phapdien/cloze"))):
        items = [e for e in train if e.source.startswith(prefixes)]
        mined[family] = mine(items, encoder, family)
    train = guard.filter(train, report)          # mined negatives are checked like everything else
    guard.verify(train)
    rng.shuffle(train)
    _write(out / "train.jsonl", train)
    for name, items in dev.items():
        _write(out / f"dev-{name}.jsonl", items)
    stats = {
        "seed": seed, "sizes": sizes.__dict__, **facts,
        "train_examples": len(train), "train_per_set": dict(sorted(Counter(e.source for e in train).items())),
        "with_negative_per_set": dict(sorted(Counter(e.source for e in train if e.negative).items())),
        "mined_negatives": mined, "dev_per_set": {k: len(v) for k, v in dev.items()},
        "leaks_dropped": report.dropped, "leak_examples": report.examples,
        "seconds": round(time.perf_counter() - began, 1),
    }
    (out / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
    return stats


def _write(path: Path, items: list[Example]) -> None:
    path.write_text("".join(e.to_json() + "\n" for e in items), encoding="utf-8")


def read(path: Path) -> list[Example]:
    return [Example(**row) for row in sources.read_jsonl(path)]
