"""Evaluation data: tracuu's own query set (JSONL) and public benchmarks in BEIR-like form.

Loading validates eagerly and names the line and the problem, so a typo in a hand-written
query ("glod", "kind": "lookups") fails before a long benchmark run, not after it. Given the
corpus folder, loading also checks every gold quote and answer key against the documents.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.answer_keys import contains_folded, fold_answer
from indexer.errors import TracuuError

KINDS = ("lookup", "numeric", "semantic", "crosslingual", "docref", "metadata",
         "nodiacritics", "unanswerable")
LANGS = ("vi", "en")
_REQUIRED = ("id", "query", "lang", "kind", "gold")
_OPTIONAL = ("answer", "answer_keys", "list", "filters")


class DatasetError(TracuuError, ValueError):
    """An evaluation file is malformed; the message names the file, the line and the problem."""

    code = "bad_eval_data"


@dataclass(frozen=True)
class GoldItem:
    doc: str            # corpus-relative path of the document the quote was copied from
    quote: str          # exact text of the relevant span in that document


@dataclass(frozen=True)
class EvalQuery:
    id: str
    query: str
    lang: str
    kind: str
    gold: tuple[GoldItem, ...]
    answer: str | None
    filters: dict[str, Any] = field(default_factory=dict, hash=False)
    answer_keys: tuple[str, ...] = ()   # strings, as written in the directive, a correct answer must all hold
    is_list: bool = False               # the answer is several items (schools, documents, activities)


def load_queries(path: str | Path, corpus_dir: str | Path | None = None) -> list[EvalQuery]:
    """Read and validate a query JSONL file (one object per line, blank lines allowed); with
    `corpus_dir`, also require every gold quote and answer key to be found in its gold documents."""
    path = Path(path)
    queries: list[EvalQuery] = []
    seen: dict[str, str] = {}
    for where, obj in _jsonl(path):
        query = _parse_query(obj, where)
        if query.id in seen:
            raise DatasetError(f"{where}: duplicate id {query.id!r} (first on line {seen[query.id]})")
        seen[query.id] = where.rsplit(":", 1)[1]
        queries.append(query)
    if not queries:
        raise DatasetError(f"{path}: no queries")
    if corpus_dir is not None:
        problems = verify_quotes(queries, corpus_dir) + verify_answer_keys(queries, corpus_dir)
        if problems:
            more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
            raise DatasetError(f"{path}: " + "; ".join(problems[:10]) + more)
    return queries


def _parse_query(obj: dict, where: str) -> EvalQuery:
    """One JSONL object -> EvalQuery, or DatasetError naming the problem."""
    missing = [k for k in _REQUIRED if k not in obj]
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        raise DatasetError(f"{where}: missing fields {missing}, unknown fields {unknown}")
    for key in ("id", "query"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise DatasetError(f"{where}: {key!r} must be a non-empty string")
    if obj["lang"] not in LANGS:
        raise DatasetError(f"{where}: lang {obj['lang']!r} is not one of {LANGS}")
    if obj["kind"] not in KINDS:
        raise DatasetError(f"{where}: kind {obj['kind']!r} is not one of {KINDS}")
    answer = obj.get("answer")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise DatasetError(f"{where}: 'answer' must be a non-empty string or null")
    filters = obj.get("filters") or {}
    if not isinstance(filters, dict):
        raise DatasetError(f"{where}: 'filters' must be an object")
    gold = _parse_gold(obj["gold"], where)
    if obj["kind"] == "unanswerable" and (gold or answer is not None):
        raise DatasetError(f"{where}: an unanswerable query needs empty gold and a null answer")
    if obj["kind"] != "unanswerable" and not gold:
        raise DatasetError(f"{where}: gold is empty but kind is {obj['kind']!r}")
    keys, is_list = _parse_answer_keys(obj, where)
    return EvalQuery(id=obj["id"], query=obj["query"], lang=obj["lang"], kind=obj["kind"],
                     gold=gold, answer=answer, filters=dict(filters), answer_keys=keys, is_list=is_list)


def _parse_answer_keys(obj: dict, where: str) -> tuple[tuple[str, ...], bool]:
    """`answer_keys` (required when answerable, forbidden when not) and the `list` flag."""
    is_list = obj.get("list", False)
    if not isinstance(is_list, bool):
        raise DatasetError(f"{where}: query {obj['id']}: 'list' must be true or false")
    if obj["kind"] == "unanswerable":
        if "answer_keys" in obj or is_list:
            raise DatasetError(f"{where}: query {obj['id']}: an unanswerable query takes no "
                               "'answer_keys' and no 'list' flag")
        return (), False
    keys = obj.get("answer_keys")
    if not isinstance(keys, list) or not keys:
        raise DatasetError(f"{where}: query {obj['id']}: 'answer_keys' must be a non-empty list "
                           "(the strings a correct answer must contain)")
    for n, key in enumerate(keys):
        if not isinstance(key, str) or not fold_answer(key):
            raise DatasetError(f"{where}: query {obj['id']}: answer_keys[{n}] {key!r} must be a "
                               "string with letters or digits")
    return tuple(keys), is_list


def _parse_gold(raw: Any, where: str) -> tuple[GoldItem, ...]:
    if not isinstance(raw, list):
        raise DatasetError(f"{where}: 'gold' must be a list")
    items = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"doc", "quote"}:
            raise DatasetError(f"{where}: gold[{n}] must be an object with exactly 'doc' and 'quote'")
        if not all(isinstance(item[k], str) and item[k].strip() for k in ("doc", "quote")):
            raise DatasetError(f"{where}: gold[{n}] 'doc' and 'quote' must be non-empty strings")
        items.append(GoldItem(doc=item["doc"], quote=item["quote"]))
    return tuple(items)


def verify_quotes(queries: list[EvalQuery], corpus_dir: str | Path) -> list[str]:
    """Problems where a gold quote is not an exact substring of its corpus file (empty = all good)."""
    corpus_dir = Path(corpus_dir)
    texts: dict[str, str | None] = {}
    problems = []
    for q in queries:
        for n, item in enumerate(q.gold):
            if item.doc not in texts:
                file = corpus_dir / item.doc
                texts[item.doc] = file.read_text(encoding="utf-8") if file.is_file() else None
            text = texts[item.doc]
            if text is None:
                problems.append(f"{q.id} gold[{n}]: no file {item.doc} in {corpus_dir}")
            elif item.quote not in text:
                problems.append(f"{q.id} gold[{n}]: quote not found in {item.doc}: {item.quote[:60]!r}")
    return problems


def verify_answer_keys(queries: list[EvalQuery], corpus_dir: str | Path) -> list[str]:
    """Problems where an answer key is in none of its query's gold documents, folded as answers are
    (eval.answer_keys), so that a correct answer can really hold every key (empty = all good)."""
    folded = _FoldedDocs(Path(corpus_dir))
    problems = []
    for q in queries:
        docs = sorted({item.doc for item in q.gold})
        for key in q.answer_keys:
            if not any(contains_folded(folded.get(doc), fold_answer(key)) for doc in docs):
                problems.append(f"{q.id}: answer key {key!r} is not in its gold documents {docs}")
    return problems


class _FoldedDocs:
    """Corpus files folded for answer matching, each read once ("" for a missing file)."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self.cache: dict[str, str] = {}

    def get(self, doc: str) -> str:
        if doc not in self.cache:
            file = self.corpus_dir / doc
            self.cache[doc] = fold_answer(file.read_text(encoding="utf-8")) if file.is_file() else ""
        return self.cache[doc]


Corpus = dict[str, dict[str, str]]
Qrels = dict[str, dict[str, int]]


def load_beir(directory: str | Path) -> tuple[Corpus, dict[str, str], Qrels]:
    """Read a BEIR-like benchmark folder: corpus.jsonl {id,title,text}, queries.jsonl {id,text},
    qrels.tsv (query_id TAB doc_id TAB relevance, no header). Qrels must name known ids."""
    directory = Path(directory)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (directory / name).is_file():
            raise DatasetError(f"{directory}: no {name} (a benchmark needs corpus.jsonl, "
                               "queries.jsonl and qrels.tsv)")
    corpus: Corpus = {}
    for where, obj in _jsonl(directory / "corpus.jsonl"):
        doc_id, text = _field(obj, "id", where), _field(obj, "text", where, allow_empty=True)
        title = obj.get("title") or ""
        if doc_id in corpus:
            raise DatasetError(f"{where}: duplicate document id {doc_id!r}")
        corpus[doc_id] = {"title": str(title), "text": text}
    queries: dict[str, str] = {}
    for where, obj in _jsonl(directory / "queries.jsonl"):
        queries[_field(obj, "id", where)] = _field(obj, "text", where)
    return corpus, queries, _read_qrels(directory / "qrels.tsv", corpus, queries)


def _jsonl(path: Path):
    """Yield (file:line, object) for each non-blank line of a JSONL file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read file ({exc})") from exc
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise DatasetError(f"{where}: expected a JSON object")
        yield where, obj


def _field(obj: dict, key: str, where: str, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise DatasetError(f"{where}: {key!r} must be a non-empty string")
    return value


def _read_qrels(path: Path, corpus: Corpus, queries: dict[str, str]) -> Qrels:
    """Parse qrels.tsv; every query and document id it names must exist."""
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            row = [cell.strip() for cell in line.rstrip("\r\n").split("\t")]
            if len(row) != 3:
                raise DatasetError(f"{where}: expected query_id<TAB>doc_id<TAB>relevance")
            qid, doc_id, rel = row
            if not rel.lstrip("-").isdigit():
                if lineno == 1:  # original BEIR files carry a "query-id corpus-id score" header
                    continue
                raise DatasetError(f"{where}: relevance {rel!r} is not an integer")
            if qid not in queries:
                raise DatasetError(f"{where}: unknown query id {qid!r}")
            if doc_id not in corpus:
                raise DatasetError(f"{where}: unknown document id {doc_id!r}")
            qrels.setdefault(qid, {})[doc_id] = int(rel)
    return qrels
