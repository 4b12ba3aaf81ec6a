"""The evaluation set (eval/queries.jsonl), its loader, the relevance rule and the BEIR loader."""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from eval.answer_keys import contains_key, fold_answer, missing_keys
from eval.dataset import KINDS, DatasetError, GoldItem, load_beir, load_queries, verify_answer_keys, verify_quotes
from eval.relevance import MIN_BLOCK_SHARE, fold_for_match, is_relevant, longest_block, relevant_gold
from indexer.normalize import normalize_text

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
QUERIES = ROOT / "eval" / "queries.jsonl"
UIT = ROOT.parent / "shared" / "benchmarks" / "uit-regulations"
MIN_PER_KIND = {"lookup": 20, "numeric": 15, "semantic": 35, "crosslingual": 30, "docref": 10,
                "metadata": 8, "nodiacritics": 15, "unanswerable": 45}
MIN_PER_DOC = 12
KEY_WINDOW = 300        # an answer key lies in, or within this many characters of, a gold quote
SEARCH_STYLE_ECHO = {"q108"}   # "giao duc STEM": the passage's key phrase is the query itself


@pytest.fixture(scope="module")
def queries():
    return load_queries(QUERIES)


# ---------------------------------------------------------------- the query set

def test_set_size_and_kind_minimums(queries):
    counts = Counter(q.kind for q in queries)
    assert len(queries) >= 210
    assert set(MIN_PER_KIND) == set(KINDS)
    for kind, minimum in MIN_PER_KIND.items():
        assert counts[kind] >= minimum, (kind, counts[kind])


def test_every_gold_quote_is_an_exact_substring_of_its_file(queries):
    assert verify_quotes(queries, CORPUS) == []


def test_every_corpus_file_is_gold_for_enough_queries(queries):
    per_doc = Counter(doc for q in queries for doc in {g.doc for g in q.gold})
    files = sorted(p.name for p in CORPUS.glob("*.txt"))
    assert files, "corpus/ is empty"
    for name in files:
        assert per_doc[name] >= MIN_PER_DOC, (name, per_doc[name])


def test_ids_are_unique_and_sequential(queries):
    assert [q.id for q in queries] == [f"q{i:03d}" for i in range(1, len(queries) + 1)]


def test_unanswerable_have_no_gold_and_no_answer(queries):
    for q in queries:
        if q.kind == "unanswerable":
            assert q.gold == () and q.answer is None and q.answer_keys == () and not q.is_list, q.id
        else:
            assert q.gold and q.answer_keys, q.id


def test_every_answer_key_is_in_a_gold_document(queries):
    assert verify_answer_keys(queries, CORPUS) == []
    assert len(load_queries(QUERIES, CORPUS)) == len(queries)


def test_answer_keys_are_one_to_three_short_strings(queries):
    for q in queries:
        if q.gold:
            assert 1 <= len(q.answer_keys) <= 3, q.id
            assert all(len(key) <= 50 for key in q.answer_keys), q.id


def test_a_written_answer_holds_every_answer_key(queries):
    # `answer` is one expected answer as written; scored by the answer rule, it must be correct.
    for q in queries:
        if q.answer is not None:
            assert missing_keys(q.answer, q.answer_keys) == [], q.id


def test_list_questions_name_several_items(queries):
    listed = [q for q in queries if q.is_list]
    assert len(listed) >= 15
    assert all(len(q.answer_keys) >= 2 for q in listed), [q.id for q in listed if len(q.answer_keys) < 2]


def test_answer_keys_sit_in_or_next_to_a_gold_quote(queries):
    # A key must come from the evidence the query is about, not from elsewhere in the document.
    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}

    def around(g: GoldItem) -> str:
        start = texts[g.doc].index(g.quote)
        return texts[g.doc][max(0, start - KEY_WINDOW): start + len(g.quote) + KEY_WINDOW]

    for q in queries:
        for key in q.answer_keys:
            assert any(contains_key(around(g), key) for g in q.gold), (q.id, key)


def test_answer_keys_survive_normalization(queries):
    # Answers are cut from the normalized text; every key must still be found there.
    normalized = {p.name: fold_answer(normalize_text(p.read_text(encoding="utf-8"))) for p in CORPUS.glob("*.txt")}
    for q in queries:
        for key in q.answer_keys:
            assert any(contains_key(normalized[g.doc], key) for g in q.gold), (q.id, key)


def test_an_answer_repeating_the_query_is_not_correct(queries):
    echoed = {q.id for q in queries if q.answer_keys and all(contains_key(q.query, k) for k in q.answer_keys)}
    assert echoed == SEARCH_STYLE_ECHO


def test_new_semantic_and_crosslingual_queries_cover_every_directive(queries):
    files = {p.name for p in CORPUS.glob("*.txt")}
    for kind in ("semantic", "crosslingual"):
        docs = {g.doc for q in queries if q.kind == kind for g in q.gold}
        assert docs == files, (kind, files - docs)


def test_answers_are_written_in_a_gold_quote(queries):
    # The answer is checked by folded containment in the answer text, so it must be text the
    # corpus really contains, as written there: inside a gold quote, or completing the quote's
    # last line (table quotes stop early so their label keeps >= 60% of the folded quote).
    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}

    def line_completed(g: GoldItem) -> str:
        text = texts[g.doc]
        start = text.index(g.quote)
        end = text.find("\n", start + len(g.quote))
        return text[start:end if end >= 0 else len(text)]

    for q in queries:
        if q.answer is not None:
            assert any(fold_for_match(q.answer) in fold_for_match(line_completed(g)) for g in q.gold), q.id


def test_nodiacritics_queries_are_plain_ascii_and_crosslingual_are_english(queries):
    for q in queries:
        if q.kind == "nodiacritics":
            assert q.query.isascii() and q.lang == "vi", q.id
        if q.kind == "crosslingual":
            assert q.lang == "en" and q.query.isascii(), q.id


def test_queries_do_not_merely_copy_their_quotes(queries):
    for q in queries:
        for g in q.gold:
            assert fold_for_match(g.quote) not in fold_for_match(q.query), q.id


def test_gold_quotes_survive_normalization(queries):
    # Passages are cut from the normalized text (spaces repaired, tone marks moved, dashes
    # unified); folded, every quote must still be found there, or it could never be hit.
    folded = {p.name: fold_for_match(normalize_text(p.read_text(encoding="utf-8")))
              for p in CORPUS.glob("*.txt")}
    for q in queries:
        for g in q.gold:
            assert fold_for_match(g.quote) in folded[g.doc], q.id


# ---------------------------------------------------------------- the loader

def _write(tmp_path: Path, *objects: dict) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in objects) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "q1", "query": "giáo dục STEM", "lang": "vi", "kind": "lookup",
        "gold": [{"doc": "a.txt", "quote": "giáo dục STEM"}], "answer": None,
        "answer_keys": ["STEM"], "filters": {}}
NONE = {"id": "q9", "query": "giá xăng hôm nay", "lang": "vi", "kind": "unanswerable", "gold": [],
        "answer": None, "filters": {}}


def test_load_queries_builds_frozen_objects(tmp_path):
    [q, none] = load_queries(_write(tmp_path, {**GOOD, "list": True}, NONE))
    assert q.gold == (GoldItem("a.txt", "giáo dục STEM"),) and q.filters == {}
    assert q.answer_keys == ("STEM",) and q.is_list
    assert none.answer_keys == () and not none.is_list
    with pytest.raises(AttributeError):
        q.query = "x"  # type: ignore[misc]
    assert hash(q)


@pytest.mark.parametrize("change, message", [
    ({"kind": "lookups"}, "kind 'lookups'"),
    ({"lang": "fr"}, "lang 'fr'"),
    ({"gold": []}, "gold is empty"),
    ({"kind": "unanswerable"}, "empty gold"),
    ({"gold": [{"doc": "a.txt"}]}, "gold[0]"),
    ({"glod": []}, "unknown fields ['glod']"),
    ({"answer": 3}, "'answer'"),
    ({"answer_keys": None}, "query q2: 'answer_keys' must be a non-empty list"),
    ({"answer_keys": []}, "query q2: 'answer_keys' must be a non-empty list"),
    ({"answer_keys": "STEM"}, "query q2: 'answer_keys' must be a non-empty list"),
    ({"answer_keys": ["STEM", " % "]}, "query q2: answer_keys[1] ' % '"),
    ({"answer_keys": [7]}, "query q2: answer_keys[0] 7"),
    ({"list": "yes"}, "query q2: 'list' must be true or false"),
    ({**NONE, "id": "q2", "answer_keys": ["x"]}, "query q2: an unanswerable query takes no 'answer_keys'"),
])
def test_load_queries_names_line_and_problem(tmp_path, change, message):
    bad = {**GOOD, "id": "q2", **change}
    with pytest.raises(ValueError) as err:
        load_queries(_write(tmp_path, GOOD, bad))
    assert ":2:" in str(err.value) and message in str(err.value)


def test_load_queries_requires_answer_keys_when_answerable(tmp_path):
    missing = {k: v for k, v in GOOD.items() if k != "answer_keys"}
    with pytest.raises(DatasetError, match=r"q.jsonl:1: query q1: 'answer_keys' must be a non-empty list"):
        load_queries(_write(tmp_path, missing))
    with pytest.raises(DatasetError, match=r"q.jsonl:1: query q9: an unanswerable query takes no 'answer_keys' and no 'list'"):
        load_queries(_write(tmp_path, {**NONE, "list": True}))


def test_load_queries_with_a_corpus_names_the_query_and_the_key_not_found(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Đẩy mạnh giáo dục STEM; tỷ lệ bỏ học 0,6 % năm học 2020-2021.", encoding="utf-8")
    good = {**GOOD, "answer_keys": ["giao duc stem", "0,6%"]}
    assert load_queries(_write(tmp_path, good, NONE), corpus)[0].answer_keys == ("giao duc stem", "0,6%")
    for key in ("20 %", "06", "STEAM"):            # "20" is inside "2020" only, "06" is "0,6" folded plainly
        with pytest.raises(DatasetError, match=f"q1: answer key '{key}' is not in its gold documents"):
            load_queries(_write(tmp_path, {**GOOD, "answer_keys": ["STEM", key]}), corpus)
    with pytest.raises(DatasetError, match=r"quote not found in a\.txt"):
        load_queries(_write(tmp_path, {**GOOD, "gold": [{"doc": "a.txt", "quote": "giáo dục STEAM"}]}), corpus)


def test_load_queries_rejects_duplicate_ids_and_bad_json(tmp_path):
    with pytest.raises(DatasetError, match="duplicate id 'q1'"):
        load_queries(_write(tmp_path, GOOD, GOOD))
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "q1",\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"broken.jsonl:1: not valid JSON"):
        load_queries(path)


# ---------------------------------------------------------------- the relevance rule

def test_fold_strips_marks_dd_case_and_non_alphanumerics():
    assert fold_for_match("ĐỔI MỚI, Đào tạo!") == "doimoidaotao"
    assert fold_for_match("hoà") == fold_for_match("hòa") == "hoa"
    assert fold_for_match("Tỷ lệ:\t0,6 %") == "tyle06"
    decomposed = "Ho\u0323c sinh"  # combining dot below, as in the NFD header of a corpus file
    assert fold_for_match(decomposed) == "hocsinh"


def test_containment_ignores_diacritics_spacing_and_glued_words():
    assert is_relevant("1. Về chủ trương, định hướng chung của giáo dục trung học", "Vềchủtrương, định hướng")
    assert is_relevant("HỌC SINH BỎ HỌC: 0,6%", "hoc sinh bo hoc 0,6 %")
    assert is_relevant("Sở GD&ĐT Sơn La", "So GD DT Son La")
    assert is_relevant("Học sinh THCS\n\t\t0,43 %\n\t\t0,6 %", "Học sinh THCS 0,43% 0,6%")


def test_sixty_percent_rule_both_sides_of_the_threshold():
    quote = "abcdefghij" * 2                               # folded length 20
    assert is_relevant("xx " + quote[:12] + " yy", quote)  # 12/20 = 60%: relevant
    assert not is_relevant("xx " + quote[:11] + " yy", quote)  # 11/20 = 55%: not
    assert MIN_BLOCK_SHARE == 0.6


def test_sixty_percent_rule_on_a_cut_sentence():
    quote = "Tiếp tục đẩy mạnh công tác kiểm định chất lượng giáo dục."
    assert is_relevant("... công tác kiểm định chất lượng giáo dục. 5. Củng cố", quote)
    assert not is_relevant("Tiếp tục đẩy mạnh công tác truyền thông", quote)


def test_fast_rule_agrees_with_difflib_longest_block():
    # The window search in eval/relevance.py must decide exactly what difflib's
    # find_longest_match decides; small alphabets make many partial overlaps.
    rng = random.Random(7)
    for _ in range(3000):
        quote = "".join(rng.choice("abc") for _ in range(rng.randint(1, 25)))
        passage = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 40)))
        by_difflib = longest_block(passage, quote) >= MIN_BLOCK_SHARE * len(quote) - 1e-9
        assert is_relevant(passage, quote) == by_difflib, (passage, quote)


def test_relevance_edge_cases_and_relevant_gold():
    assert not is_relevant("anything at all", "")
    assert not is_relevant("", "giáo dục STEM")
    gold = [GoldItem("a.txt", "giáo dục STEM"), GoldItem("b.txt", "phổ cập giáo dục"),
            GoldItem("c.txt", "thuốc lá")]
    assert relevant_gold("Đẩy mạnh GIAO DUC STEM và phổ cập giáo dục", gold) == [0, 1]
    assert relevant_gold("không liên quan", tuple(gold)) == []


# ---------------------------------------------------------------- public benchmarks

def test_load_beir_uit_regulations():
    corpus, queries, qrels = load_beir(UIT)
    assert (len(corpus), len(queries), len(qrels)) == (88, 720, 720)
    assert set(corpus["uitreg/000"]) == {"title", "text"}
    assert queries["uitreg/train-0000"] == "Chuẩn đầu ra tiếng Pháp?"
    assert qrels["uitreg/train-0000"] == {"uitreg/000": 1}
    assert all(doc in corpus for rels in qrels.values() for doc in rels)


def test_load_beir_reports_missing_files_and_unknown_ids(tmp_path):
    with pytest.raises(DatasetError, match=r"no corpus\.jsonl"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text('{"id": "d1", "title": "", "text": "x"}\n', encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text('{"id": "q1", "text": "y"}\n', encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"qrels.tsv:2: unknown document id 'd2'"):
        load_beir(tmp_path)
