"""The index format and the local backend: FAISS and BM25 routes against brute force, filters, facets, payloads."""
from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from indexer import store
from indexer.analyze import folded
from indexer.columns import DocColumns, date_number
from indexer.errors import IndexMismatch
from indexer.ranking import top_rows
from indexer.types import Chunk, DocMeta, Document, Filters

DIM = 32
WORDS = "học sinh giáo viên trường lớp kiểm tra đánh giá năm học kế hoạch báo cáo thi đua khen thưởng".split()
ISSUERS = ["Sở Giáo dục và Đào tạo tỉnh Sơn La", "Phòng Giáo dục và Đào tạo huyện An Lão", None]
TYPES = ["kế hoạch", "thông báo", "hướng dẫn"]


def _index(index_dir: Path, n: int, faiss_type: str = "flat", seed: int = 0) -> tuple[store.IndexReader, np.ndarray,
                                                                                        list[list[str]]]:
    """n one-passage documents of random words and random unit vectors, with varied metadata."""
    rng = np.random.default_rng(seed)
    documents, chunks, tokens = [], [], []
    for i in range(n):
        words = [str(w) for w in rng.choice(WORDS, 6)]
        text = " ".join(words)
        year = f"{2018 + i % 4}-{2019 + i % 4}"
        meta = DocMeta(issuer=ISSUERS[i % 3], doc_type=TYPES[i % 3] if i % 5 else None,
                       date=f"{2018 + i % 4}-0{1 + i % 9}-1{i % 10}", school_years=(year,))
        documents.append(Document(f"d{i:05d}", f"d{i:05d}.txt", "0" * 64, text, meta))
        chunks.append(Chunk(f"d{i:05d}-0000", f"d{i:05d}", 0, "", 0, len(text), None, text,
                            "heading" if i % 50 == 49 else "text"))
        tokens.append(words)
    # passages gather around topics, as real embeddings do: 40 centres, each vector near one
    centres = rng.standard_normal((40, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = store.Manifest(embedder="test", dim=DIM, normalizer_version="n", analyzer_version="a",
                              faiss_type=faiss_type)
    store.write_index(index_dir, store.IndexData(documents, chunks, vectors, tokens, [folded(t) for t in tokens]), manifest)
    return store.IndexReader(index_dir), vectors, tokens


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory):
    return _index(tmp_path_factory.mktemp("flat"), 2000)


def _brute(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    scores = vectors @ query
    rows = [r for r in np.lexsort((np.arange(len(scores)), -scores)) if allowed is None or allowed[r]]
    return [int(r) for r in rows[:k]]


def test_exact_dense_route_equals_brute_force_numpy(flat) -> None:
    reader, vectors, _ = flat
    assert reader.manifest.faiss_type == "flat"
    for seed in range(5):
        query = vectors[seed * 7] + 0.3 * np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        rows, scores = reader.dense(query, 10)
        assert rows.tolist() == _brute(vectors, query, 10)
        assert np.allclose(scores, vectors[rows] @ query, atol=1e-6)


@pytest.mark.parametrize("faiss_type", ["ivf", "hnsw"])
def test_approximate_dense_routes_find_most_of_the_exact_top_ten(tmp_path: Path, faiss_type: str) -> None:
    reader, vectors, _ = _index(tmp_path, 5000, faiss_type)
    assert reader.manifest.faiss_type == faiss_type
    rng = np.random.default_rng(1)
    found = 0
    for i in range(20):
        query = vectors[i] + 0.5 * rng.standard_normal(DIM).astype(np.float32)
        rows, scores = reader.dense(query, 10)
        assert np.allclose(scores, vectors[rows] @ query, atol=1e-6), "candidates are rescored exactly"
        found += len(set(rows.tolist()) & set(_brute(vectors, query, 10)))
    assert found / 200 >= 0.9


@pytest.mark.parametrize("faiss_type", ["flat", "ivf"])
def test_filtered_dense_route_equals_brute_force_within_the_filter(tmp_path: Path, faiss_type: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EXACT_FILTER_ROWS", 0)  # FAISS's selector path, not the exact fallback
    reader, vectors, _ = _index(tmp_path, 3000, faiss_type)
    filters = Filters(school_year="2019-2020", issuer="an lao")
    allowed = np.array([i % 4 == 1 and i % 3 == 1 for i in range(3000)])
    assert reader._allowed(filters).mask.tolist() == allowed.tolist()
    query = vectors[0]  # far from most allowed rows: an unfiltered top 10 would hold none of them
    rows, _ = reader.dense(query, 10, filters)
    assert rows.tolist() == _brute(vectors, query, 10, allowed)


def test_lexical_route_equals_bm25s_and_rescoring_equals_the_full_scores(flat) -> None:
    reader, _, tokens = flat
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index(tokens, show_progress=False)
    query = ["kiểm", "tra", "học", "học", "xyz"]
    expected = reference.get_scores(query)  # the folded field adds the same words' folded twins
    folded_ref = bm25s.BM25(k1=1.2, b=0.75)
    from indexer.analyze import folded

    folded_ref.index([folded(t) for t in tokens], show_progress=False)
    expected = expected + folded_ref.get_scores(folded(query))
    rows, scores = reader.lexical(query, folded(query), 50)
    assert rows.tolist() == [int(r) for r in np.lexsort((np.arange(len(expected)), -expected))[:50]]
    assert np.allclose(scores, expected[rows], rtol=1e-5)
    probe = np.array([0, 5, 17, 1999, 123])
    assert np.allclose(reader.lexical_at(query, folded(query), probe), expected[probe], rtol=1e-5)
    allowed = reader._allowed(Filters(doc_type="thông báo")).mask
    rows, _ = reader.lexical(query, folded(query), 2000, Filters(doc_type="thong bao"))
    assert set(rows.tolist()) == {r for r in np.flatnonzero(allowed) if expected[r] > 0}
    assert reader.lexical(["không", "có"], ["khong", "co"], 10)[0].tolist() == []


def test_top_rows_orders_by_score_then_row_and_keeps_the_lowest_rows_at_a_tie() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.0, 0.9, 0.5, -1.0], dtype=np.float32)
    assert top_rows(scores, 3).tolist() == [1, 4, 0]
    assert top_rows(scores, 4).tolist() == [1, 4, 0, 2]
    assert top_rows(scores, 10, positive=True).tolist() == [1, 4, 0, 2, 5]
    assert top_rows(scores, 0).tolist() == []


def test_payloads_are_read_by_row_and_by_document(flat) -> None:
    reader, _, tokens = flat
    found = reader.chunks([3, 1999, 0])
    assert sorted(found) == [0, 3, 1999] and found[3].chunk_id == "d00003-0000"
    assert found[3].text == " ".join(tokens[3])
    docs = reader.documents(["d00003", "missing"])
    assert list(docs) == ["d00003"] and docs["d00003"].meta.issuer == ISSUERS[0] and docs["d00003"].text == ""
    assert reader.document("d00003").text == found[3].text
    rows, chunks, doc_tokens = reader.doc_chunks("d00004")
    assert rows == [4] and chunks[0].chunk_id == "d00004-0000" and doc_tokens == [tokens[4]]
    assert [c.chunk_id for c in reader.iter_chunks()][:3] == ["d00000-0000", "d00001-0000", "d00002-0000"]
    assert len(reader.list_documents()) == reader.size == 2000
    assert not reader.retrievable[49] and reader.retrievable[48]


def test_facets_count_documents_within_the_other_filters(flat) -> None:
    reader, _, _ = flat
    facets = reader.facets()
    assert facets["school_year"] == {"2018-2019": 500, "2019-2020": 500, "2020-2021": 500, "2021-2022": 500}
    assert sum(facets["issuer"].values()) == 2000 - 666  # a third of the documents name no issuer
    narrowed = reader.facets(Filters(school_year="2018-2019", doc_type="kế hoạch"))
    # each field under the other field's filter: years of "kế hoạch" documents, types of 2018-2019 ones
    assert narrowed["school_year"] == {f"{2018 + y}-{2019 + y}": sum(1 for i in range(2000) if i % 4 == y
                                                                      and i % 3 == 0 and i % 5) for y in range(4)}
    assert narrowed["doc_type"] == {t: sum(1 for i in range(0, 2000, 4) if i % 3 == j and i % 5)
                                    for j, t in enumerate(TYPES)}
    assert narrowed["doc_type"] == reader.facets(Filters(school_year="2018-2019"))["doc_type"]


def test_columns_match_filters_the_way_people_type_them() -> None:
    rows = [("Phòng GD&ĐT huyện An Lão", "Kế hoạch", "2020-09-07", '["2020-2021"]'),
            ("Sở GD&ĐT Sơn La", "thông báo", None, '["2020-2021", "2021-2022"]'),
            (None, None, "2024-13-45x", "[]")]
    columns = DocColumns(rows)
    assert columns.mask(Filters()) is None
    assert columns.mask(Filters(issuer="an lao")).tolist() == [True, False, False]
    assert columns.mask(Filters(doc_type="KE HOACH")).tolist() == [True, False, False]
    assert columns.mask(Filters(school_year="2021-2022")).tolist() == [False, True, False]
    assert columns.mask(Filters(date_from="2020-01-01")).tolist() == [True, False, False]
    assert columns.mask(Filters(date_to="2020-09-06")).tolist() == [False, False, False]
    assert columns.mask(Filters(doc_id="x"), doc_row=2).tolist() == [False, False, True]
    assert columns.mask(Filters(doc_id="x"), doc_row=-1).tolist() == [False, False, False]
    assert date_number("2020-09-07") == 20200907 and date_number(None) == date_number("2024-13") == 0
    many = DocColumns([(f"issuer {i % 30}", None, None, "[]") for i in range(300)])
    issuers = many.facets(Filters(), limit=5)["issuer"]
    assert list(issuers) == ["issuer 0", "issuer 1", "issuer 10", "issuer 11", "issuer 12"]
    assert "issuer 29" in many.facets(Filters(issuer="issuer 29"), limit=5)["issuer"], "the active value stays"


def test_auto_index_type_is_exact_below_the_threshold_and_ivf_above() -> None:
    assert store.faiss_kind("auto", store.ANN_MIN_CHUNKS - 1) == "flat"
    assert store.faiss_kind("auto", store.ANN_MIN_CHUNKS) == "ivf"
    assert store.faiss_kind("hnsw", 10) == "hnsw"
    with pytest.raises(Exception, match="unknown faiss index type"):
        store.faiss_kind("lsh", 10)


def test_an_index_of_another_format_names_the_rebuild_command(flat, tmp_path: Path) -> None:
    reader, _, _ = flat
    manifest = reader.path / "manifest.json"
    old = tmp_path / "old"
    (old / "gen-1").mkdir(parents=True)
    (old / "gen-1" / "manifest.json").write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 1}))
    (old / "CURRENT").write_text("gen-1")
    with pytest.raises(IndexMismatch, match=r"format 1 .* reads 2.*tracuu index --rebuild"):
        store.IndexReader(old)


def test_an_empty_index_answers_nothing(tmp_path: Path) -> None:
    manifest = store.Manifest(embedder="test", dim=DIM, normalizer_version="n", analyzer_version="a", faiss_type="ivf")
    store.write_index(tmp_path, store.IndexData([], [], np.zeros((0, DIM), np.float32), [], []), manifest)
    reader = store.IndexReader(tmp_path)
    assert reader.size == 0 and reader.manifest.faiss_type == "flat"  # IVF cannot train on nothing
    assert reader.dense(np.ones(DIM, np.float32), 5)[0].tolist() == []
    assert reader.lexical(["học"], ["hoc"], 5)[0].tolist() == []
    assert reader.facets() == {"school_year": {}, "issuer": {}, "doc_type": {}}
