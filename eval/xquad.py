"""XQuAD's English questions over its Vietnamese paragraphs, as a BEIR-like benchmark folder.

The set (../shared/training/en-vi/xquad-en-vi.jsonl, CC BY-SA 4.0) is evaluation-only: the training
build's leak check keeps its questions and paragraphs out of every training example. Paragraphs carry
no title: XQuAD's titles are English Wikipedia page names, which no Vietnamese directive would have.

    python -m eval.xquad [OUT]        # default .cache/benchmarks/xquad-en-vi
    tracuu eval --benchmark .cache/benchmarks/xquad-en-vi
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from search_api.config import REPO_ROOT

SOURCE = REPO_ROOT.parent / "shared" / "training" / "en-vi" / "xquad-en-vi.jsonl"
DEFAULT_OUT = REPO_ROOT / ".cache" / "benchmarks" / "xquad-en-vi"


def prepare(out: Path = DEFAULT_OUT, source: Path = SOURCE) -> Path:
    """Write corpus.jsonl (Vietnamese paragraphs), queries.jsonl (English questions) and qrels.tsv."""
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    paragraphs: dict[str, str] = {}
    for row in rows:
        paragraphs.setdefault(row["context_vi"], f"xquad-vi-{len(paragraphs):03d}")
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for text, doc_id in paragraphs.items():
            handle.write(json.dumps({"id": doc_id, "title": "", "text": text}, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"id": row["id"], "text": row["question_en"]}, ensure_ascii=False) + "\n")
    (out / "qrels.tsv").write_text("".join(f"{row['id']}\t{paragraphs[row['context_vi']]}\t1\n" for row in rows),
                                   encoding="utf-8")
    return out


if __name__ == "__main__":
    print(prepare(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
