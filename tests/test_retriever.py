"""The retriever on a small hand-built index with a deterministic embedder, checked against a reference.

The reference below recomputes every score from the documented formulas with plain Python and numpy
(Lucene BM25 with k1=1.2, b=0.75 on the accented and folded fields; cosine; weighted fusion with
BM25 divided by its best candidate and min-max scaled cosine; RRF; the four boosts; score desc, row
asc), so a change of ranking behaviour fails here, whatever the retriever does inside.
"""
from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from indexer import store
from indexer.analyze import ANALYZER_VERSION, document_tokens, folded, query_tokens
from indexer.normalize import NORMALIZER_VERSION, fold
from indexer.types import Chunk, DocMeta, Document
from search_api.query import QueryInfo, analyze
from search_api.retriever import Filters, FusionConfig, Retriever

DIM = 64
K1, B = 1.2, 0.75


class HashEmbedder:
    """Bag of folded syllables hashed into 64 signed dimensions: same words, same vector, any order."""

    name = "test:hash-64"
    dim = DIM
    max_tokens = 512

    def _embed(self, text: str) -> np.ndarray:
        vector = np.zeros(DIM, dtype=np.float32)
        for word in fold(text).split():
            word = "".join(c for c in word if c.isalnum())
            if word:
                digest = hashlib.sha1(word.encode()).digest()
                vector[digest[0] % DIM] += 1.0 if digest[1] % 2 else -1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def encode_queries(self, texts):
        return np.stack([self._embed(t) for t in texts])

    def encode_documents(self, texts):
        return np.stack([self._embed(t) for t in texts])

    def token_len(self, text: str) -> int:
        return len(text.split())


KH = DocMeta(title="Kế hoạch năm học", number="897/PH-GDĐT", issuer="Phòng Giáo dục và Đào tạo Quận 11",
             date="2020-09-07", doc_type="kế hoạch", school_years=("2020-2021",))
HD = DocMeta(title="Hướng dẫn nhiệm vụ", number="322/PGD-THCS", issuer="Phòng Giáo dục và Đào tạo huyện An Lão",
             date="2024-09-04", doc_type="hướng dẫn", school_years=("2024-2025",))
TB = DocMeta(title="Thông báo kết luận", number="12/TB-SGDĐT", issuer="Sở Giáo dục và Đào tạo tỉnh Sơn La",
             date="2020-11-30", doc_type="thông báo", school_years=("2020-2021",))
STEM = "Đẩy mạnh giáo dục STEM trong nhà trường theo Công văn số 3089/BGDĐT-GDTrH."
DOCS: list[tuple[str, DocMeta, list[tuple[str, str]]]] = [
    ("d1", KH, [("text", "Tỷ lệ học sinh bỏ học cấp trung học cơ sở giảm so với năm trước."),
                ("text", STEM),
                ("heading", "I. NHIỆM VỤ CHUNG"),
                ("text", "Tổ chức kiểm tra đánh giá học sinh theo quy định.")]),
    ("d2", HD, [("text", "Hướng dẫn thực hiện nhiệm vụ giáo dục trung học cơ sở năm học 2024-2025."),
                ("text", "Tổ chức dạy học STEM và hoạt động trải nghiệm cho học sinh."),
                ("text", "Tỷ lệ học sinh đi học đúng độ tuổi đạt chỉ tiêu.")]),
    ("d3", TB, [("text", STEM),
                ("text", "Kết luận của Giám đốc Sở tại hội nghị giao ban."),
                ("text", "Học sinh bỏ học phải được vận động trở lại lớp.")]),
    ("d4", DocMeta(), [("text", "kiểm tra đánh giá"),
                       ("text", "đánh giá kiểm tra"),
                       ("text", "Báo cáo kết quả thực hiện chương trình."),
                       ("text", "Báo cáo kết quả thực hiện chương trình.")]),
]


@dataclass
class Built:
    retriever: Retriever
    chunks: list[Chunk]
    docs: dict[str, Document]
    tokens: list[list[str]]
    vectors: np.ndarray
    embedder: HashEmbedder


def _documents() -> tuple[list[Document], list[Chunk]]:
    documents, chunks = [], []
    for doc_id, meta, passages in DOCS:
        text = "\n\n".join(p for _, p in passages)
        documents.append(Document(doc_id=doc_id, source=f"{doc_id}.txt", sha256="0" * 64, text=text, meta=meta))
        offset = 0
        for ordinal, (kind, passage) in enumerate(passages):
            chunks.append(Chunk(f"{doc_id}-{ordinal:04d}", doc_id, ordinal, "", offset, offset + len(passage),
                                None, passage, kind))
            offset += len(passage) + 2
    return documents, chunks


def _build(index_dir: Path, fusion: FusionConfig = FusionConfig(), faiss_type: str = "flat") -> Built:
    embedder = HashEmbedder()
    documents, chunks = _documents()
    tokens = [document_tokens(c.text) for c in chunks]
    vectors = embedder.encode_documents([c.text for c in chunks])
    manifest = store.Manifest(embedder=embedder.name, dim=DIM, normalizer_version=NORMALIZER_VERSION,
                              analyzer_version=ANALYZER_VERSION, faiss_type=faiss_type)
    store.write_index(index_dir, store.IndexData(documents, chunks, vectors, tokens, [folded(t) for t in tokens]), manifest)
    reader = store.IndexReader(index_dir)
    return Built(Retriever(reader, embedder, fusion), chunks, {d.doc_id: d for d in documents}, tokens, vectors,
                 embedder)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("retriever-index"))


# -- the reference --------------------------------------------------------------------------------


def bm25(corpus: list[list[str]], query: list[str]) -> np.ndarray:
    """Lucene BM25 (the bm25s default), every query token occurrence counted, unknown tokens ignored."""
    n = len(corpus)
    avgdl = sum(len(d) for d in corpus) / n
    df = Counter(t for doc in corpus for t in set(doc))
    out = np.zeros(n)
    for i, doc in enumerate(corpus):
        tf = Counter(doc)
        for token in query:
            if tf[token]:
                idf = math.log(1 + (n - df[token] + 0.5) / (df[token] + 0.5))
                out[i] += idf * tf[token] / (tf[token] + K1 * (1 - B + B * len(doc) / avgdl))
    return out


def lexical_ref(b: Built, info: QueryInfo) -> np.ndarray:
    accented = bm25(b.tokens, query_tokens(info.restored or info.text))
    return accented + bm25([folded(t) for t in b.tokens], folded(query_tokens(info.text)))


def dense_ref(b: Built, info: QueryInfo) -> np.ndarray:
    return b.vectors.astype(np.float64) @ b.embedder.encode_queries([info.restored or info.text])[0]


def top(scores: np.ndarray, size: int, positive: bool = False) -> set[int]:
    order = sorted(range(len(scores)), key=lambda r: (-scores[r], r))
    return {r for r in order[:size] if not positive or scores[r] > 0}


def code_in(number: str, text: str) -> bool:
    """The document-number rule: '3089/gdtrh' is in '3089/bgddt-gdtrh' (leading number and each code part)."""
    if number in text:
        return True
    head, _, rest = number.partition("/")
    parts = [p for p in rest.replace("-", "/").split("/") if p]
    return head.isdigit() and f"{head}/" in text and all(p in text for p in parts)


def boost_ref(b: Built, info: QueryInfo, row: int, fusion: FusionConfig) -> float:
    chunk = b.chunks[row]
    meta = b.docs[chunk.doc_id].meta
    numbers = [fold(n) for n in info.doc_numbers]
    boost = 0.0
    if set(info.school_years) & set(meta.school_years):
        boost += fusion.year_boost
    if meta.number and any(code_in(n, fold(meta.number)) for n in numbers):
        boost += fusion.number_boost
    if any(code_in(n, fold(chunk.text)) for n in numbers):
        boost += fusion.cites_boost
    if info.doc_type and meta.doc_type and fold(meta.doc_type) == fold(info.doc_type):
        boost += fusion.type_boost
    return boost


def fused_ref(b: Built, info: QueryInfo, mode: str, fusion: FusionConfig,
              within: set[int] | None = None, boosts: bool = True) -> dict[int, float]:
    """Row -> final score over the candidate pool (optionally only rows `within` a filter)."""
    rows = set(range(len(b.chunks))) if within is None else within
    lex = lexical_ref(b, info) if mode != "dense" else None
    den = dense_ref(b, info) if mode != "lexical" else None
    pool: set[int] = set()
    if lex is not None:
        pool |= top(np.where([r in rows for r in range(len(lex))], lex, -1), fusion.pool, positive=True) & rows
    if den is not None:
        pool |= top(np.where([r in rows for r in range(len(den))], den, -np.inf), fusion.pool) & rows
    alpha = fusion.alpha_en if info.lang == "en" else fusion.alpha
    scores = {}
    for r in pool:
        if fusion.method == "rrf" and lex is not None and den is not None:
            ranked_l = sorted(pool, key=lambda x: (-lex[x], x))
            ranked_d = sorted(pool, key=lambda x: (-den[x], x))
            s = 1 / (fusion.rrf_k + ranked_l.index(r) + 1) + 1 / (fusion.rrf_k + ranked_d.index(r) + 1)
        elif lex is not None and den is not None:
            best = max(lex[x] for x in pool)
            low, high = min(den[x] for x in pool), max(den[x] for x in pool)
            # no word matched: raw BM25 (all 0); all cosines equal: every candidate scaled to 1
            s = (1 - alpha) * (lex[r] / best if best > 0 else lex[r]) \
                + alpha * ((den[r] - low) / (high - low) if high > low else 1.0)
        else:
            s = lex[r] / max(lex[x] for x in pool) if lex is not None else den[r]
        scores[r] = s + (boost_ref(b, info, r, fusion) if boosts else 0.0)
    return scores


def ranked(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda r: (-scores[r], r))


def retrievable(b: Built, rows: list[int]) -> list[int]:
    return [r for r in rows if b.chunks[r].kind != "heading"]


def rows_of(hits) -> list[int]:
    return [h.row for h in hits]


# -- fusion ---------------------------------------------------------------------------------------

QUERIES = ["tỷ lệ học sinh bỏ học", "ty le hoc sinh bo hoc", "giáo dục STEM", "kiểm tra đánh giá học sinh",
           "dropout rate of students", "hội nghị giao ban"]


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_scores_and_order_match_the_reference(built: Built, q: str, mode: str) -> None:
    info = analyze(q)
    expected = fused_ref(built, info, mode, built.retriever.fusion)
    hits = built.retriever.search(info, k=100, mode=mode).hits
    grouped = {r for h in hits for r in h.also_in}
    assert rows_of(hits) == [r for r in retrievable(built, ranked(expected)) if r in {h.row for h in hits}]
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.row], abs=1e-5)
    # every candidate is either a hit, folded into a hit, or a same-document twin of one
    assert {h.row for h in hits} | grouped <= set(expected)
    lex, den = lexical_ref(built, info), dense_ref(built, info)
    for hit in hits:
        assert hit.lexical == pytest.approx(lex[hit.row] if mode != "dense" else 0.0, abs=1e-4)
        assert hit.dense == pytest.approx(den[hit.row] if mode != "lexical" else 0.0, abs=1e-5)


def test_english_queries_lean_on_the_dense_score(built: Built) -> None:
    info = analyze("dropout rate of students")
    assert info.lang == "en"
    hits = built.retriever.search(info, k=100).hits
    expected = fused_ref(built, info, "hybrid", FusionConfig())
    assert [h.score for h in hits] == pytest.approx([expected[h.row] for h in hits], abs=1e-5)
    vi_alpha = fused_ref(built, info, "hybrid", FusionConfig(alpha_en=0.5))
    assert any(abs(vi_alpha[h.row] - h.score) > 1e-3 for h in hits), "alpha_en must matter"


def test_a_small_pool_takes_the_top_of_each_route_and_rescores_the_union(tmp_path: Path) -> None:
    fusion = FusionConfig(pool=3)
    b = _build(tmp_path, fusion)
    info = analyze("tổ chức hoạt động cho học sinh")
    lex, den = lexical_ref(b, info), dense_ref(b, info)
    for scores in (lex, den):  # no tie at the pool edge, so the pool is well defined
        edge = sorted(scores, reverse=True)
        assert edge[2] > edge[3]
    expected = fused_ref(b, info, "hybrid", fusion)
    assert set(expected) == top(lex, 3, positive=True) | top(den, 3) and len(expected) > 3
    hits = b.retriever.search(info, k=100).hits
    assert rows_of(hits) == retrievable(b, ranked(expected))[: len(hits)]
    assert [h.score for h in hits] == pytest.approx([expected[h.row] for h in hits], abs=1e-5)


def test_reciprocal_rank_fusion(tmp_path: Path) -> None:
    fusion = FusionConfig(method="rrf")
    b = _build(tmp_path, fusion)
    for q in ("học sinh bỏ học", "giáo dục STEM"):
        info = analyze(q)
        expected = fused_ref(b, info, "hybrid", fusion)
        hits = b.retriever.search(info, k=100).hits
        assert rows_of(hits) == [r for r in retrievable(b, ranked(expected)) if r in set(rows_of(hits))]
        assert [h.score for h in hits] == pytest.approx([expected[h.row] for h in hits], abs=1e-6)
        assert hits[0].score <= 2 / (fusion.rrf_k + 1)


# -- boosts ---------------------------------------------------------------------------------------


def _boost_of(b: Built, q: str) -> dict[int, float]:
    """Row -> (score returned) - (reference score without boosts), for every hit of a hybrid search."""
    info = analyze(q)
    plain = fused_ref(b, info, "hybrid", b.retriever.fusion, boosts=False)
    return {h.row: round(h.score - plain[h.row], 5) for h in b.retriever.search(info, k=100).hits}


def _rows(b: Built, doc_id: str) -> set[int]:
    """Retrievable rows of a document."""
    return {i for i, c in enumerate(b.chunks) if c.doc_id == doc_id and c.kind != "heading"}


def _all_rows(b: Built, *doc_ids: str) -> set[int]:
    """Every row of the documents, headings included (they are candidates, never results)."""
    return {i for i, c in enumerate(b.chunks) if c.doc_id in doc_ids}


def test_year_boost_goes_to_documents_of_the_named_school_year(built: Built) -> None:
    boosts = _boost_of(built, "học sinh năm học 2020-2021")
    assert {r for r, v in boosts.items() if v == pytest.approx(0.10)} == (_rows(built, "d1") | _rows(built, "d3")) & set(boosts)
    assert all(v == 0 for r, v in boosts.items() if built.chunks[r].doc_id in ("d2", "d4"))


def test_number_boost_goes_to_the_named_document_and_cites_boost_to_passages_citing_it(built: Built) -> None:
    own = _boost_of(built, "văn bản 897/PH-GDĐT")
    assert {r for r, v in own.items() if v > 0} == _rows(built, "d1") & set(own)
    assert all(v == pytest.approx(0.30) for r, v in own.items() if v > 0)
    cites = _boost_of(built, "công văn 3089/GDTrH")
    stem_rows = {i for i, c in enumerate(built.chunks) if c.text == STEM}
    assert {r for r, v in cites.items() if v > 0} == stem_rows & set(cites)
    assert all(v == pytest.approx(0.30) for r, v in cites.items() if v > 0)


def test_type_boost_goes_to_documents_of_the_named_type(built: Built) -> None:
    boosts = _boost_of(built, "kế hoạch kiểm tra đánh giá")
    assert analyze("kế hoạch kiểm tra đánh giá").doc_type == "kế hoạch"
    assert {r for r, v in boosts.items() if v > 0} == _rows(built, "d1") & set(boosts)
    assert all(v == pytest.approx(0.05) for v in boosts.values() if v > 0)


# -- filters, facets, grouping, ties -----------------------------------------------------------------


FILTERS = [
    (Filters(school_year="2020-2021"), {"d1", "d3"}),
    (Filters(issuer="an lao"), {"d2"}),
    (Filters(issuer="Giáo dục và Đào tạo"), {"d1", "d2", "d3"}),
    (Filters(doc_type="ke hoach"), {"d1"}),
    (Filters(doc_type="Thông báo"), {"d3"}),
    (Filters(doc_id="d4"), {"d4"}),
    (Filters(school_year="2020-2021", doc_type="thông báo"), {"d3"}),
    (Filters(school_year="1999-2000"), set()),
]


@pytest.mark.parametrize(("filters", "docs"), FILTERS)
@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_filters_keep_every_passage_within_them_and_nothing_else(built: Built, filters: Filters, docs: set[str],
                                                                  mode: str) -> None:
    info = analyze("học sinh giáo dục")
    hits = built.retriever.search(info, k=100, mode=mode, filters=filters).hits
    within = {r for d in docs for r in _rows(built, d)}
    expected = fused_ref(built, info, mode, built.retriever.fusion, within=_all_rows(built, *docs))
    assert [h.score for h in hits] == pytest.approx([expected[h.row] for h in hits], abs=1e-5)
    shown = {h.row for h in hits} | {r for h in hits for r in h.also_in}
    twins = {r for r in within if built.chunks[r].text == "Báo cáo kết quả thực hiện chương trình."}
    assert shown <= within and within - shown <= twins - {min(twins, default=-1)}
    assert rows_of(hits) == sorted(rows_of(hits), key=lambda r: (-next(h.score for h in hits if h.row == r), r))


def test_lexical_filters_return_the_matching_passages_in_reference_order(built: Built) -> None:
    info = analyze("học sinh")
    within = _rows(built, "d1") | _rows(built, "d3")
    hits = built.retriever.search(info, k=100, mode="lexical", filters=Filters(school_year="2020-2021")).hits
    lex = lexical_ref(built, info)
    assert set(rows_of(hits)) == {r for r in within if lex[r] > 0} - {r for h in hits for r in h.also_in}
    assert rows_of(hits) == sorted(rows_of(hits), key=lambda r: (-lex[r], r))


def test_facets_count_every_document_within_the_other_filters(built: Built) -> None:
    info = analyze("học sinh giáo dục")
    everything = built.retriever.search(info, k=3).facets
    assert everything == {"school_year": {"2020-2021": 2, "2024-2025": 1},
                          "issuer": {KH.issuer: 1, HD.issuer: 1, TB.issuer: 1},
                          "doc_type": {"kế hoạch": 1, "hướng dẫn": 1, "thông báo": 1}}
    # a field's counts ignore its own filter (the values one could switch to stay listed) but obey the others
    by_year = built.retriever.search(info, k=3, filters=Filters(school_year="2020-2021")).facets
    assert by_year == {"school_year": {"2020-2021": 2, "2024-2025": 1},
                       "issuer": {KH.issuer: 1, TB.issuer: 1},
                       "doc_type": {"kế hoạch": 1, "thông báo": 1}}
    one = built.retriever.search(info, k=3, filters=Filters(doc_id="d2")).facets
    assert one == {"school_year": {"2024-2025": 1}, "issuer": {HD.issuer: 1}, "doc_type": {"hướng dẫn": 1}}
    assert built.retriever.search(info, k=3, filters=Filters(date_from="2030-01-01")).facets == {
        "school_year": {}, "issuer": {}, "doc_type": {}}


@pytest.mark.parametrize(("date_from", "date_to", "docs"), [
    ("2020-09-07", "2020-09-07", {"d1"}), ("2020-09-08", None, {"d2", "d3"}), (None, "2020-12-31", {"d1", "d3"}),
    ("2021-01-01", "2024-01-01", set()),
])
def test_a_date_range_keeps_dated_documents_inside_it(built: Built, date_from: str | None, date_to: str | None,
                                                      docs: set[str]) -> None:
    hits = built.retriever.search(analyze("học sinh"), k=100, filters=Filters(date_from=date_from,
                                                                                date_to=date_to)).hits
    assert {built.chunks[h.row].doc_id for h in hits} == docs  # d4 has no date: never inside a range


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_filtered_scores_are_normalized_over_the_candidates_within_the_filter(built: Built, mode: str) -> None:
    info = analyze("tổ chức hoạt động cho học sinh")
    expected = fused_ref(built, info, mode, built.retriever.fusion, within=_all_rows(built, "d2"))
    hits = built.retriever.search(info, k=100, mode=mode, filters=Filters(issuer="an lao")).hits
    assert rows_of(hits) == [r for r in ranked(expected) if r in _rows(built, "d2")]
    assert [h.score for h in hits] == pytest.approx([expected[h.row] for h in hits], abs=1e-5)


def test_a_passage_repeated_in_another_document_is_one_hit_naming_the_other(built: Built) -> None:
    hits = built.retriever.search(analyze("giáo dục STEM trong nhà trường"), k=10).hits
    stem = [h for h in hits if built.chunks[h.row].text == STEM]
    assert len(stem) == 1
    (hit,) = stem
    twin = next(i for i, c in enumerate(built.chunks) if c.text == STEM and i != hit.row)
    assert hit.also_in == [twin] and built.chunks[twin].doc_id != built.chunks[hit.row].doc_id
    assert hit.row < twin, "equal scores: the lower row is kept"


def test_a_passage_repeated_in_the_same_document_is_dropped_not_listed(built: Built) -> None:
    hits = built.retriever.search(analyze("báo cáo kết quả thực hiện chương trình"), k=10).hits
    copies = [i for i, c in enumerate(built.chunks) if c.text == "Báo cáo kết quả thực hiện chương trình."]
    assert [h.row for h in hits if h.row in copies] == [copies[0]]
    assert not any(set(h.also_in) & set(copies) for h in hits)


def test_grouping_counts_toward_k_after_folding(built: Built) -> None:
    hits = built.retriever.search(analyze("giáo dục STEM trong nhà trường"), k=2).hits
    assert len(hits) == 2 and len({built.chunks[h.row].text for h in hits}) == 2


def test_equal_scores_are_ordered_by_row(built: Built) -> None:
    a, b = (i for i, c in enumerate(built.chunks) if c.text in ("kiểm tra đánh giá", "đánh giá kiểm tra"))
    assert Counter(built.tokens[a]) == Counter(built.tokens[b]), "same words, another order"
    for mode in ("hybrid", "lexical", "dense"):
        hits = built.retriever.search(analyze("kiểm tra đánh giá"), k=100, mode=mode).hits
        order = rows_of(hits)
        assert {a, b} <= set(order)
        assert next(h.score for h in hits if h.row == a) == next(h.score for h in hits if h.row == b)
        assert order.index(a) < order.index(b)


def test_headings_are_never_returned(built: Built) -> None:
    heading = next(i for i, c in enumerate(built.chunks) if c.kind == "heading")
    for mode in ("hybrid", "lexical", "dense"):
        hits = built.retriever.search(analyze("nhiệm vụ chung"), k=100, mode=mode).hits
        assert heading not in rows_of(hits) and hits


def test_dense_search_equals_brute_force_numpy(built: Built) -> None:
    for q in QUERIES:
        info = analyze(q)
        cosine = dense_ref(built, info)
        hits = built.retriever.search(info, k=5, mode="dense").hits
        expected = [r for r in sorted(range(len(cosine)), key=lambda r: (-cosine[r], r))
                    if built.chunks[r].kind != "heading"]
        grouped = {r for h in hits for r in h.also_in}
        twins = {i for i, c in enumerate(built.chunks) for h in hits
                 if c.text == built.chunks[h.row].text and i != h.row}
        assert rows_of(hits) == [r for r in expected if r not in grouped | twins][:5]
        assert [h.score for h in hits] == pytest.approx([cosine[r] for r in rows_of(hits)], abs=1e-5)


# -- filters inside retrieval at depth ------------------------------------------------------------

SYLLABLES = ("an toàn bàn ghế cây xanh thư viện sân chơi nước sạch điện năng bếp ăn phòng máy nhạc cụ "
             "bóng đá cờ vua bơi lội vẽ tranh múa hát kể chuyện trồng rau dã ngoại tham quan bảo tàng").split()


def _depth_index(index_dir: Path, faiss_type: str) -> Built:
    """1,100 passages naming every query word (school year 2020-2021) ahead of 250 naming only two
    (2024-2025), the last 30 of them from one issuer."""
    rng = np.random.default_rng(7)
    embedder = HashEmbedder()
    documents, chunks = [], []
    for d in range(135):
        year, lead = ("2024-2025", "Học sinh") if d >= 110 else ("2020-2021", "Kiểm tra học sinh")
        passages = [f"{lead} {' '.join(rng.choice(SYLLABLES, 8))}." for _ in range(10)]
        text = "\n\n".join(passages)
        doc_id = f"doc{d:03d}"
        meta = DocMeta(school_years=(year,), issuer="Phòng GD&ĐT huyện An Lão" if d >= 132 else None)
        documents.append(Document(doc_id, f"{doc_id}.txt", "0" * 64, text, meta))
        offset = 0
        for i, passage in enumerate(passages):
            chunks.append(Chunk(f"{doc_id}-{i:04d}", doc_id, i, "", offset, offset + len(passage), None, passage))
            offset += len(passage) + 2
    tokens = [query_tokens(c.text) for c in chunks]  # syllables and n-grams: enough words for BM25 here
    vectors = embedder.encode_documents([c.text for c in chunks])
    manifest = store.Manifest(embedder=embedder.name, dim=DIM, normalizer_version=NORMALIZER_VERSION,
                              analyzer_version=ANALYZER_VERSION, faiss_type=faiss_type)
    store.write_index(index_dir, store.IndexData(documents, chunks, vectors, tokens, [folded(t) for t in tokens]), manifest)
    return Built(Retriever(store.IndexReader(index_dir), embedder), chunks, {d.doc_id: d for d in documents},
                 tokens, vectors, embedder)


@pytest.mark.parametrize("faiss_type", ["flat", "ivf", "hnsw"])
def test_a_filter_finds_its_best_matches_even_below_the_unfiltered_top_thousand(
        tmp_path: Path, faiss_type: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EXACT_FILTER_ROWS", 0)  # make FAISS itself honour the filter (its selector path)
    b = _depth_index(tmp_path, faiss_type)
    assert b.retriever.backend.manifest.faiss_type == faiss_type
    info = analyze("kiểm tra học sinh")
    year = {i for i, c in enumerate(b.chunks) if c.doc_id >= "doc110"}
    issuer = {i for i, c in enumerate(b.chunks) if c.doc_id >= "doc132"}
    lex, cosine = lexical_ref(b, info), dense_ref(b, info)
    for scores in (lex, cosine):
        rank = {r: i for i, r in enumerate(sorted(range(len(b.chunks)), key=lambda r: (-scores[r], r)))}
        assert min(rank[t] for t in year) >= 1000, "the filtered matches all rank below 1,000 others"
    for mode in ("lexical", "dense", "hybrid"):
        assert not year & set(rows_of(b.retriever.search(info, k=100, mode=mode).hits))
        # 30 passages within a filter: every one comes back
        hits = b.retriever.search(info, k=30, mode=mode, filters=Filters(issuer="an lao")).hits
        assert set(rows_of(hits)) == issuer, mode
        # 250 within a filter (more than FAISS is asked for): the best 30 of them, as the reference ranks them
        expected = fused_ref(b, info, mode, b.retriever.fusion, within=year)
        hits = b.retriever.search(info, k=30, mode=mode, filters=Filters(school_year="2024-2025")).hits
        assert set(rows_of(hits)) <= year and len(hits) == 30
        if faiss_type == "hnsw" and mode != "lexical":  # a graph walk under a filter is approximate: most, not all
            assert len(set(rows_of(hits)) & set(ranked(expected)[:30])) >= 24
        else:  # IVF probes 1/share times more lists under a filter: here that is every list, so exact
            assert rows_of(hits) == ranked(expected)[:30], mode
