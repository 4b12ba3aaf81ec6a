"""`tracuu` run as a real subprocess: index (twice, incremental), search, ask, and one-line errors."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import CORPUS, REPO

pytestmark = pytest.mark.slow
SMALL = "giao-ban-thcs-lan-1-2020-2021.txt"
STEM_NOTE = ("# KẾ HOẠCH\n\nGiáo dục STEM năm học 2020-2021\n\n## 1. Mục tiêu\n\n"
             "Mỗi trường THCS tổ chức ít nhất hai chủ đề STEM trong học kỳ I.\n")


def tracuu(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACUU_")}
    return subprocess.run([sys.executable, "-m", "eval.cli", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(run: subprocess.CompletedProcess) -> str:
    """User errors: exit 2, exactly one line on stderr, no traceback."""
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("tracuu: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """`tracuu index` of a small corpus copy into a fresh index: (index folder, the run).

    Two files, not all five: embedding the whole corpus again would double the suite's run time, and
    the API tests already index all of it.
    """
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy2(CORPUS / SMALL, corpus / SMALL)
    (corpus / "stem.md").write_text(STEM_NOTE, encoding="utf-8")
    (corpus / "notes.xlsx").write_bytes(b"PK\x03\x04 not indexed")
    (corpus / "slides.pptx").write_bytes(b"PK\x03\x04 not indexed")
    run = tracuu("index", corpus, "--index", root / "index")
    return root / "index", run


def test_index_reports_a_summary(built) -> None:
    _index, run = built
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert ": 2 documents," in out
    assert "added 2, changed 0, removed 0, unchanged 0" in out
    assert "chunks/s" in out
    assert "notes.xlsx: corrupt XLSX" in out
    assert "slides.pptx: unsupported file type .pptx" in out


def test_second_index_run_embeds_nothing(built) -> None:
    index, _run = built
    again = tracuu("index", "--index", index)  # no PATH: the folders recorded in the index
    assert again.returncode == 0, again.stderr
    assert "added 0, changed 0, removed 0, unchanged 2" in again.stdout
    assert "embedded 0 chunks" in again.stdout


def test_search_json_is_the_api_body(server: str, settings) -> None:
    args = ["search", "giáo dục STEM", "-k", "4", "--mode", "hybrid", "--index", settings.index_dir, "--json"]
    run = tracuu(*args)
    assert run.returncode == 0, run.stderr
    from_cli = json.loads(run.stdout)
    from_api = httpx.get(f"{server}/api/search", params={"q": "giáo dục STEM", "k": 4}, timeout=60).json()
    from_cli.pop("took_ms"), from_api.pop("took_ms")
    assert from_cli == from_api


def test_search_human_output(built) -> None:
    index, _run = built
    run = tracuu("search", "hoi nghi giao ban", "-k", "2", "--index", index)
    assert run.returncode == 0, run.stderr
    assert run.stdout.lstrip().startswith("1. ")
    assert " 2. " in run.stdout and "[" in run.stdout  # highlights are bracketed outside a terminal
    assert "2 results in" in run.stdout


def test_ask_json_and_text(built) -> None:
    index, _run = built
    run = tracuu("ask", "Khi nào tổ chức hội nghị giao ban?", "--index", index, "--json")
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert {"question", "answer", "confidence", "citations"} <= set(body)
    text = tracuu("ask", "Khi nào tổ chức hội nghị giao ban?", "--index", index)
    assert text.returncode == 0 and text.stdout.strip()


def test_user_errors_are_one_line(tmp_path: Path, built) -> None:
    index, _run = built
    assert "no such file or folder" in one_line_error(tracuu("index", tmp_path / "missing", "--index", index))
    assert "k must be between 1 and 100" in one_line_error(tracuu("search", "STEM", "-k", "0", "--index", index))
    assert "query is empty" in one_line_error(tracuu("search", "   ", "--index", index))
    assert "no index" in one_line_error(tracuu("search", "STEM", "--index", tmp_path / "none"))
    one_line_error(tracuu("search", "STEM", "--mode", "fuzzy"))
    one_line_error(tracuu("frobnicate"))


def test_ask_text_output_lists_the_items_with_their_citations() -> None:
    from search_api.cli import format_ask
    from search_api.schemas import Answer, AnswerItem, AskResponse, DocumentInfo, SearchResult

    text = "Thành phần:\n- Hiệu trưởng các trường;\n- Tổ trưởng chuyên môn."
    passage = SearchResult(rank=1, score=0.9, chunk_id="c1", text=text, highlights=[], section="", start=0,
                           end=len(text), page=None, document=DocumentInfo(id="d1", source="d1.txt"))
    spans = [(text.index("Hiệu"), text.index(";")), (text.index("Tổ"), len(text) - 1)]
    items = [AnswerItem(text=text[s:e], span=(s, e), citation=1, chunk_id="c1") for s, e in spans]
    answer = Answer(text=text[spans[0][0]:spans[1][1]], span=(spans[0][0], spans[1][1]), passage=passage,
                    items=items)
    shown = format_ask(AskResponse(question="q", took_ms=1.0, answer=answer, confidence=0.9, citations=[passage]))
    assert shown.splitlines()[:3] == ["- Hiệu trưởng các trường [1]", "- Tổ trưởng chuyên môn [1]",
                                      "(confidence 0.90)"]
