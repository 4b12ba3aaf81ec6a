"""bench-scale: growing an archive from a real base, and (slow) the whole benchmark on a small archive."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eval import scale
from eval import scale_corpus as grow
from indexer.types import Chunk, DocMeta, Document

REPO = Path(__file__).resolve().parent.parent


def _base(passages_per_doc: tuple[int, ...] = (3, 1, 2), dim: int = 16) -> grow.Base:
    rng = np.random.default_rng(0)
    documents, chunks, tokens = [], [], []
    for d, count in enumerate(passages_per_doc):
        texts = [f"Điều {d}.{i} học sinh lớp {i} tham gia hoạt động số {d * 10 + i} của nhà trường"
                 for i in range(count)]
        documents.append(Document(f"doc{d}", f"doc{d}.txt", "0" * 64, "\n\n".join(texts), DocMeta(title=f"T{d}")))
        offset = 0
        for i, text in enumerate(texts):
            chunks.append(Chunk(f"doc{d}-{i:04d}", f"doc{d}", i, "", offset, offset + len(text), None, text))
            tokens.append(text.lower().split())
            offset += len(text) + 2
    vectors = rng.standard_normal((len(chunks), dim)).astype(np.float32)
    return grow.Base(documents, chunks, tokens, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


METAS = [DocMeta(number=f"{i}/2013/TT-BGDĐT", issuer="BỘ GIÁO DỤC VÀ ĐÀO TẠO", doc_type="Thông tư",
                 date=f"2013-{1 + i:02d}-15", school_years=(grow.school_year(f"2013-{1 + i:02d}-15"),))
         for i in range(12)]


def test_an_archive_has_the_size_asked_and_every_passage_points_into_its_document() -> None:
    base = _base()
    data = grow.grow(base, 20, METAS)
    assert len(data.chunks) == len(data.tokens) == len(data.vectors) == 20
    docs = {d.doc_id: d for d in data.documents}
    assert len(docs) == len(data.documents), "document ids are unique"
    assert len({c.chunk_id for c in data.chunks}) == 20
    for chunk in data.chunks:
        assert docs[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
    assert [c.text for c in data.chunks[:6]] == [c.text for c in base.chunks], "copy 0 is the base itself"
    assert all(replace(d.meta, title=None) in METAS for d in data.documents), "metadata of real records"
    assert [d.meta.title for d in data.documents[:3]] == ["T0", "T1", "T2"], "titles stay the base's"


def test_copies_splice_two_passages_and_perturb_the_vector() -> None:
    base = _base()
    data = grow.grow(base, 12, METAS)
    partner = (0 + 1 * grow.STRIDE) % 6   # copy 1 of passage 0 borrows from this passage
    first, other, copy = base.chunks[0], base.chunks[partner], data.chunks[6]
    assert partner != 0 and copy.text != first.text
    assert copy.text.startswith(first.text[: len(first.text) // 2 - 5])
    assert copy.text.endswith(other.text[-(len(other.text) // 2 - 5):])
    half, tail = len(base.tokens[0]) // 2, len(base.tokens[partner]) // 2
    assert data.tokens[6] == base.tokens[0][:half] + base.tokens[partner][tail:]
    assert np.allclose(np.linalg.norm(data.vectors, axis=1), 1.0, atol=1e-5)
    cosine = float(data.vectors[6] @ base.vectors[0])
    assert 0.0 < cosine < 0.9999, "perturbed, yet still near its original"


def test_noise_moves_a_copy_as_far_as_a_tenth_nearest_neighbour() -> None:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 64))
    vectors = centres[rng.integers(0, 20, 2000)] + 0.5 * rng.standard_normal((2000, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    sigma = grow.noise_scale(vectors)
    sims = vectors[:200] @ vectors.T
    sims[np.arange(200), np.arange(200)] = -np.inf
    tenth = float(np.median(np.sort(sims, axis=1)[:, -10]))
    noisy = vectors[:200] + sigma * rng.standard_normal((200, 64)).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    moved = float(np.median(np.sum(noisy * vectors[:200], axis=1)))
    assert moved == pytest.approx(tenth, abs=0.03)


def test_school_years_run_from_september() -> None:
    assert grow.school_year("2013-09-01") == "2013-2014"
    assert grow.school_year("2014-08-31") == "2013-2014"


def test_the_table_has_one_row_per_index_and_every_figure() -> None:
    figure = {"p50": 1.0, "p95": 2.0}
    row = {"name": "x", "chunks": 1000, "index_type": "flat", "build_s": 3.0, "disk_mb": 4.0,
           "memory_mb": {"end": {"VmRSS": 500.0}}, "recall@10": 1.0,
           **{k: figure for k in ("hybrid", "hybrid_filtered", "lexical", "lexical_filtered", "dense",
                                  "dense_filtered", "hybrid_with_embedding", "embed_query")}}
    lines = scale.table([row, {**row, "name": "y"}]).splitlines()
    assert len(lines) == 5 and lines[2].count("1.0 / 2.0") == 8 and "| y |" in lines[3]


@pytest.mark.slow
def test_bench_scale_builds_and_measures_a_small_archive(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    report = tmp_path / "report.json"
    assert scale.main(["--sizes", "2000", "--base", "64", "--no-seed", "--limit", "5", "--cache",
                       str(tmp_path / "cache"), "--report", str(report)]) == 0
    (row,) = json.loads(report.read_text())
    assert row["chunks"] == 2000 and row["index_type"] == "flat" and row["recall@10"] == 1.0
    assert row["build_s"] > 0 and row["disk_mb"] > 0 and row["memory_mb"]["end"]["VmRSS"] > 100
    for key in ("hybrid", "hybrid_filtered", "lexical", "dense_filtered", "hybrid_with_embedding", "embed_query"):
        assert 0 < row[key]["p50"] <= row[key]["p95"] and row[key]["n"] == 5
    assert "| 2,000 passages | 2,000 | flat |" in capsys.readouterr().out
    assert not (tmp_path / "cache" / "archive-2000").exists(), "archives are deleted unless --keep"
