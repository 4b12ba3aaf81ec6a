"""The ask combiner: candidates and their features, the shipped fit, and the calibration arithmetic."""
from __future__ import annotations

import math

import numpy as np
import pytest

from eval import calibration
from eval.dataset import EvalQuery
from search_api.answer import passage_text
from search_api.confidence import FEATURES, READER_FEATURES, Candidate, Combiner, candidates
from search_api.query import analyze
from search_api.reader import Span
from search_api.schemas import Answer, DocumentInfo, SearchResult

TEXT = "Hội nghị giao ban được tổ chức ngày 31/10/2020 tại huyện Cờ Đỏ."


def result(text: str, rank: int = 1, score: float = 0.9, display: str | None = None) -> SearchResult:
    return SearchResult(rank=rank, score=score, chunk_id=f"c{rank}", text=text, highlights=[], section="",
                        start=0, end=len(text), page=None, display=display,
                        document=DocumentInfo(id=f"d{rank}", source=f"d{rank}.txt"))


def test_the_answer_is_described_by_its_scores_and_its_passage() -> None:
    passages = [result("Văn bản không liên quan.", 1, 0.9), result(TEXT, 2, 0.7)]
    start = TEXT.index("ngày 31/10/2020")
    answer = Answer(text="ngày 31/10/2020", span=(start, start + 15), passage=passages[1])
    [found] = candidates(analyze("Hội nghị giao ban tổ chức ngày nào?"), passages, answer, 0.8, [], [])
    assert found.source == "rule" and found.answer == answer
    assert found.features["rule_confidence"] == 0.8 and found.features["passage_rank"] == 2.0
    assert math.isclose(found.features["score_margin"], 0.2) and found.features["top_score"] == 0.9
    assert found.features["kind_figure"] == 1.0 and found.features["english"] == 0.0
    assert found.features["reader"] == 0.0 and found.features["reader_margin"] == -10.0, "no reader: no margin"
    assert set(found.features) == set(FEATURES)


def test_reader_span_becomes_an_answer_that_is_a_slice_of_its_passage() -> None:
    passages = [result("Văn bản không liên quan.", 1, 0.9), result(TEXT, 2, 0.7)]
    start = TEXT.index("ngày 31/10/2020")
    spans = [Span(1, start, start + len("ngày 31/10/2020"), 9.0, 1.0), Span(0, 0, 4, 2.0, 5.0)]
    found = candidates(analyze("Hội nghị giao ban tổ chức ngày nào?"), passages, None, 0.0, spans,
                       [passage_text(p) for p in passages])
    [reader] = found
    assert reader.source == "reader" and reader.answer.text == "ngày 31/10/2020"
    assert reader.answer.passage.text[slice(*reader.answer.span)] == reader.answer.text
    assert reader.features["reader_margin"] == 8.0 and reader.features["passage_rank"] == 2.0
    assert math.isclose(reader.features["own_score"], 1 / (1 + math.exp(-8.0)))
    assert set(reader.features) == set(FEATURES)


def test_a_table_row_is_read_as_displayed_and_its_span_points_into_its_text() -> None:
    display = "Học sinh bỏ học › THCS: 2019-2020: 0,43 %; 2020-2021: 0,6 %"
    row = result("THCS 0,43 % 0,6 %", display=display)
    start = display.index("0,6 %")
    [reader] = candidates(analyze("tỷ lệ bỏ học THCS 2020-2021"), [row], None, 0.0,
                          [Span(0, start, start + 5, 5.0, 0.0)], [passage_text(row)])
    assert reader.answer.display_span == (start, start + 5) and display[slice(*reader.answer.display_span)] == "0,6 %"
    assert row.text[slice(*reader.answer.span)] == "0,6 %"


def test_agreeing_answerers_are_marked() -> None:
    passage = result(TEXT)
    start = TEXT.index("31/10/2020")
    rule = Answer(text="ngày 31/10/2020", span=(start - 5, start + 10), passage=passage)
    found = candidates(analyze("họp ngày nào?"), [passage], rule, 0.8, [Span(0, start, start + 10, 4.0, 0.0)], [TEXT])
    assert [c.source for c in found] == ["rule", "reader"]
    assert all(c.features["agree"] == 1.0 for c in found)


def test_a_list_found_under_the_answer_is_a_feature_and_the_answer_carries_its_items() -> None:
    text = ("2. Thành phần tham dự\n- Hiệu trưởng các trường tiểu học;\n- Tổ trưởng chuyên môn khối 5;\n"
            "- Giáo viên dạy lớp 5.\n3. Kinh phí\n- Các đơn vị tự chi trả.")
    passage = result(text)
    heading = Answer(text="2. Thành phần tham dự", span=(0, 21), passage=passage)
    [asked_list] = candidates(analyze("Thành phần tham dự gồm những ai?"), [passage], heading, 0.6, [], [])
    assert [i.text for i in asked_list.answer.items or []] == ["Hiệu trưởng các trường tiểu học",
                                                               "Tổ trưởng chuyên môn khối 5", "Giáo viên dạy lớp 5"]
    assert asked_list.features["wants_list"] == 1.0 and asked_list.features["list_found"] == 1.0
    assert math.isclose(asked_list.features["items"], math.log1p(3))
    assert asked_list.features["length"] == math.log1p(len("2. Thành phần tham dự")), "features of the answer as read"
    at = TEXT.index("31/10/2020")
    figure = Answer(text="31/10/2020", span=(at, at + 10), passage=result(TEXT))
    [single] = candidates(analyze("Hội nghị tổ chức ngày nào?"), [result(TEXT)], figure, 0.9, [], [])
    assert single.features["wants_list"] == 0.0 and single.features["list_found"] == 0.0


def test_no_passages_or_no_answer_no_candidates() -> None:
    assert candidates(analyze("bao nhiêu trường?"), [], None, 0.0, [], []) == []
    assert candidates(analyze("bao nhiêu trường?"), [result(TEXT)], None, 0.0, [], []) == []


def combiner(threshold: float = 0.5) -> Combiner:
    weights = tuple(2.0 if name == "rule_confidence" else 0.0 for name in FEATURES)
    return Combiner(weights, 0.0, tuple(0.5 for _ in FEATURES), tuple(1.0 for _ in FEATURES), threshold)


def candidate(own: float, source: str = "rule") -> Candidate:
    features = {name: 0.0 for name in FEATURES} | {"rule_confidence": own}
    return Candidate(source, Answer(text="x", span=(0, 1), passage=result("x")), features)


def test_combiner_picks_the_most_probable_candidate_and_abstains_below_its_threshold() -> None:
    low, high = candidate(0.1), candidate(0.9, "reader")
    chosen, p = combiner().decide([low, high])
    assert chosen is high and math.isclose(p, 1 / (1 + math.exp(-0.8)))
    chosen, p = combiner(threshold=0.9).decide([low, high])
    assert chosen is None and p < 0.9
    assert combiner().decide([]) == (None, 0.0)


def test_a_combiner_fitted_without_the_reader_ignores_its_candidate() -> None:
    rule_only = tuple(f for f in FEATURES if f not in READER_FEATURES)
    without = Combiner(tuple(2.0 if f == "rule_confidence" else 0.0 for f in rule_only), 0.0,
                       tuple(0.5 for _ in rule_only), tuple(1.0 for _ in rule_only), 0.5, rule_only)
    assert not without.uses_reader and combiner().uses_reader
    low, high = candidate(0.6), candidate(0.9, "reader")
    chosen, _ = without.decide([low, high])
    assert chosen is low


def test_the_shipped_combiner_matches_the_features_computed() -> None:
    shipped = Combiner.load()
    assert set(shipped.features) <= set(FEATURES) and len(shipped.weights) == len(shipped.features)
    assert 0.0 < shipped.threshold < 1.0


def test_expected_calibration_error_and_reliability() -> None:
    perfect = [(0.25, False), (0.25, False), (0.25, False), (0.25, True), (0.95, True)]
    assert calibration.expected_calibration_error(perfect) == pytest.approx(0.2 * 0.05)
    overconfident = [(0.9, False)] * 4
    assert calibration.expected_calibration_error(overconfident) == pytest.approx(0.9)
    [row] = calibration.reliability(overconfident)
    assert row == {"low": 0.9, "high": 1.0, "n": 4, "confidence": 0.9, "accuracy": 0.0}


def test_threshold_maximizes_utility() -> None:
    scored = [(0.9, True), (0.8, True), (0.7, False), (0.6, False), (0.5, True)]
    assert calibration.best_threshold(scored) == 0.75, "halfway between the cut 0.8 and the 0.7 below it"
    assert calibration.best_threshold([(0.4, False)]) == 1.01, "answering nothing beats a wrong answer"


def eval_query(i: int, answerable: bool) -> EvalQuery:
    """A stand-in query of the evaluation set: answerable ones have gold and the answer key "x"."""
    return EvalQuery(id=f"q{i}", query="?", lang="vi", kind="lookup" if answerable else "unanswerable",
                     gold=(object(),) if answerable else (), answer=None,  # type: ignore[arg-type]
                     answer_keys=("x",) if answerable else ())


def test_cross_validation_scores_each_fold_with_a_fit_on_the_others() -> None:
    """Candidates whose own score says whether they are right: held-out figures come out perfect, and
    an unanswerable query with a weak candidate is abstained on."""
    rng = np.random.default_rng(0)
    asked = []
    for i in range(60):
        answerable = i % 4 != 0
        own = rng.uniform(0.6, 1.0) if answerable else rng.uniform(0.0, 0.4)
        features = np.asarray([[own if name == "rule_confidence" else 0.0 for name in FEATURES]])
        query = eval_query(i, answerable)
        asked.append(calibration.Asked(query, features, np.asarray([answerable]), ["rule"], ["x"], 1.0))
    held_out = calibration.cross_validate(asked, 5)
    for system in ("combined", "no reader"):
        out = calibration.figures(asked, held_out[system])
        assert out["answer_accuracy"] == 1.0 and out["abstention_accuracy"] == 1.0, system
    assert out["coverage_curve"][-1]["coverage"] == 1.0


def test_headline_figures_are_repeated_over_fold_splits() -> None:
    """Candidates whose score only partly tells right from wrong: each split into folds gives other
    held-out figures, and the report keeps their mean, min and max."""
    rng = np.random.default_rng(1)
    asked = []
    for i in range(80):
        answerable = i % 3 != 0
        right = answerable and rng.uniform() < 0.6
        own = rng.uniform(0.3, 1.0) if right else rng.uniform(0.0, 0.7)
        features = np.asarray([[own if name == "rule_confidence" else 0.0 for name in FEATURES]])
        query = eval_query(i, answerable)
        asked.append(calibration.Asked(query, features, np.asarray([right]), ["rule"], ["x"], 1.0))
    out = calibration.calibrate(asked, 5, splits=3)
    assert out["splits"] == 3
    for name in calibration.NAMES:
        for key in calibration.REPEATED:
            spread = out[name]["over_splits"][key]
            assert spread["min"] <= spread["mean"] <= spread["max"], (name, key)
    accuracy = out["no reader"]["over_splits"]["answer_accuracy"]
    assert accuracy["min"] < accuracy["max"], "the splits must differ"
    assert out["rule"]["over_splits"]["answer_accuracy"]["min"] == out["rule"]["answer_accuracy"], \
        "a fixed threshold fits nothing: every split scores it the same"
    assert any("fold splits" in line for line in calibration.lines(out))


def test_no_reader_system_never_chooses_the_readers_candidate() -> None:
    """The reader's candidate is the right one on every answerable query, the rule-based one on a few:
    the combiner with the reader answers them all, the one fitted without it (rule candidates, rule
    features) cannot."""
    reader_at = FEATURES.index("reader")
    asked = []
    for i in range(40):
        answerable = i % 4 != 0
        rule_right = i % 8 == 1
        rule = [(0.9 if rule_right else 0.5) if name == "rule_confidence" else 0.0 for name in FEATURES]
        read = [1.0 if name == "reader" else (0.9 if answerable and name == "own_score" else 0.0) for name in FEATURES]
        query = eval_query(i, answerable)
        asked.append(calibration.Asked(query, np.asarray([rule, read]), np.asarray([rule_right, answerable]),
                                       ["rule", "reader"], ["y", "x"], 1.0))
    assert asked[1].features[1, reader_at] == 1.0
    held_out = calibration.cross_validate(asked, 5)
    assert calibration.figures(asked, held_out["combined"])["answer_accuracy"] == 1.0
    without = calibration.figures(asked, held_out["no reader"])
    assert without["answer_accuracy"] <= 0.2, "right only where the rule-based answer is"
