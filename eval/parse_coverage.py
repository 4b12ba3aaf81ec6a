"""How much header metadata the structure parser finds on real archives, and how often it is right.

Every record goes through the real pipeline (`normalize_text`, `structure.parse_document`, and the
chunker, so a crash anywhere is counted): the 21,233 Pháp điển articles (title + text fed as one
document) and the 548 Công báo records, whose own fields (number, type, issuer, date) are the truth
the parser's values are compared with. A Công báo record's text is its portal page's attribute block
("Số, ký hiệu: …") plus the lists of documents it cites, so it is measured twice: as it is, and with
the attribute block removed, where every value found comes from the header layout rules and the cited
documents around them, and must still not be a wrong one. Run:

    python -m eval.parse_coverage [--phapdien FILE] [--congbao FILE] [--show N] [--sample N]

It prints the markdown tables (the README's); --show N lists disagreements and --sample N prints N
parsed records of each corpus, for reading by hand.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer.chunking import chunk_document
from indexer.header import ATTRIBUTE
from indexer.normalize import fold, normalize_text
from indexer.structure import parse_document
from indexer.types import DocMeta, Document
from indexer.vocab import canonical_type

SHARED = Path(__file__).resolve().parents[2] / "shared"
PHAPDIEN = SHARED / "benchmarks" / "phapdien-corpus" / "corpus.jsonl"
CONGBAO = SHARED / "training" / "congbao" / "docs.jsonl"
FIELDS = ("number", "date", "issuer", "doc_type")


@dataclass
class Coverage:
    """Counts for one corpus: documents, exceptions, fields found, and fields agreeing with the record."""

    name: str
    documents: int = 0
    errors: list[str] = field(default_factory=list)
    found: Counter[str] = field(default_factory=Counter)
    agree: Counter[str] = field(default_factory=Counter)
    disagreements: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    truth: bool = False             # the records carry the true values


def parse_record(record_id: str, text: str) -> DocMeta:
    """The metadata of one record through the real pipeline; the chunker runs too, so it is covered."""
    normalized = normalize_text(text)
    parsed = parse_document(normalized)
    doc = Document(doc_id=record_id, source=record_id, sha256="", text=normalized, meta=parsed.meta,
                   sections=parsed.sections, tables=parsed.tables, footnotes=parsed.footnotes)
    chunk_document(doc, lambda s: len(s.split()), 220)
    return parsed.meta


def record_text(record: dict, truth: bool, attributes: bool = True) -> str:
    """What is fed to the parser: a Pháp điển article as title + text; a Công báo page as it is, or without
    its attribute block."""
    if not truth:
        return f"{record['title']}\n{record['text']}"
    return record["text"] if attributes else ATTRIBUTE.sub("", record["text"])


def measure(name: str, records: Iterable[dict], truth: bool, attributes: bool = True) -> Coverage:
    """Parse every record; with `truth`, compare each found field with the record's own value."""
    cov = Coverage(name, truth=truth)
    for record in records:
        cov.documents += 1
        text = record_text(record, truth, attributes)
        try:
            meta = parse_record(record["id"], text)
        except Exception as exc:    # counted and reported: the parser must never raise on real text
            cov.errors.append(f"{record['id']}: {type(exc).__name__}: {exc}")
            continue
        for name_ in FIELDS:
            value = getattr(meta, name_)
            if value is None:
                continue
            cov.found[name_] += 1
            if truth:
                if same_value(name_, value, record.get(name_)):
                    cov.agree[name_] += 1
                else:
                    cov.disagreements.append((record["id"], name_, value, record.get(name_)))
    return cov


def same_value(name: str, parsed: str, true: str | None) -> bool:
    """Whether a parsed field says what the record says (issuers compared without case or marks)."""
    if true is None:
        return False
    if name == "doc_type":
        return parsed == canonical_type(true)
    if name == "issuer":
        return fold(parsed) == fold(true)
    return parsed == true


def markdown(rows: list[Coverage]) -> str:
    """The coverage table: share found per field, and for records with true values the share agreeing."""
    head = "| corpus | documents | exceptions | " + " | ".join(f"{f} found" for f in FIELDS) + " |"
    lines = [head, "|" + "---|" * (3 + len(FIELDS))]
    for cov in rows:
        cells = [_share(cov.found[f], cov.documents) for f in FIELDS]
        lines.append(f"| {cov.name} | {cov.documents:,} | {len(cov.errors)} | " + " | ".join(cells) + " |")
    truth = [cov for cov in rows if cov.truth]
    if truth:
        lines += ["", "| corpus | " + " | ".join(f"{f}: agrees / found (of all)" for f in FIELDS) + " |",
                  "|" + "---|" * (1 + len(FIELDS))]
        for cov in truth:
            cells = [f"{_share(cov.agree[f], cov.found[f])} ({_share(cov.agree[f], cov.documents)})" for f in FIELDS]
            lines.append(f"| {cov.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def print_sample(records: list[dict], truth: bool, n: int) -> None:
    """N records picked at random (fixed seed), each with what the parser found, for a check by hand."""
    for record in random.Random(11).sample(records, min(n, len(records))):
        text = record_text(record, truth)
        parsed = parse_document(normalize_text(text))
        found = {k: v for k, v in vars(parsed.meta).items() if v and k != "references"}
        print(f"\n## {record['id']}\n{text[:300]!r}\nfound: {found}\nreferences: {parsed.meta.references[:6]}"
              f"\nsections: {[s.label for s in parsed.sections[:6]]} tables: {len(parsed.tables)}")
        if truth:
            print("record: " + str({k: record.get(k) for k in FIELDS}))


def read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.parse_coverage", description=__doc__.split("\n")[0])
    parser.add_argument("--phapdien", type=Path, default=PHAPDIEN, help="Pháp điển corpus.jsonl (id, title, text)")
    parser.add_argument("--congbao", type=Path, default=CONGBAO, help="Công báo docs.jsonl (with true fields)")
    parser.add_argument("--show", type=int, default=0, help="print this many disagreements for reading by hand")
    parser.add_argument("--sample", type=int, default=0, help="print this many parsed records of each corpus")
    args = parser.parse_args(argv)
    for path in (args.phapdien, args.congbao):
        if not path.is_file():
            print(f"error: {path} does not exist (pass --phapdien/--congbao)", file=sys.stderr)
            return 2
    rows = [measure("Pháp điển articles", read_jsonl(args.phapdien), truth=False),
            measure("Công báo records", read_jsonl(args.congbao), truth=True),
            measure("Công báo, attribute block removed", read_jsonl(args.congbao), truth=True, attributes=False)]
    print(markdown(rows))
    for path, truth in ((args.phapdien, False), (args.congbao, True)):
        print_sample(list(read_jsonl(path)), truth, args.sample)
    for cov in rows:
        for error in cov.errors[:20]:
            print(f"exception: {error}")
        for record_id, name, parsed, true in cov.disagreements[:args.show]:
            print(f"disagrees: {record_id} {name}: parsed {parsed!r}, record {true!r}")
    return 1 if any(cov.errors for cov in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
