"""Word's pre-2007 formats: binary .doc (Debian's catdoc, antiword as fallback) and RTF (striprtf).

catdoc is tried first: measured on LibreOffice-made Vietnamese .doc files both tools keep every tone
mark (precomposed and combining) in ~3 ms a file, but antiword refuses short documents ("text stream
too small": a two-line invitation) and draws tables as fixed-width |grids| with cells wrapped over
lines, while catdoc -w prints one line per paragraph and one tab-separated line per table row, which
becomes the one-cell-per-line layout the structure parser reads. antiword reads some files catdoc
cannot, so it is the fallback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from indexer.errors import LoadError
from indexer.loaders.text import OLE_MAGIC, short_reason, table_lines, unicode_pages
from indexer.types import LoadedFile

TOOL_TIMEOUT = 60               # seconds; both tools read a 20 MB .doc in well under one


@dataclass(frozen=True)
class DocTool:
    """A command that prints a .doc file's text as UTF-8 on stdout."""

    name: str
    package: str                # the Debian package that installs it
    args: tuple[str, ...]
    cell: str                   # what separates table cells in its output

    def available(self) -> bool:
        return shutil.which(self.name) is not None


CATDOC = DocTool("catdoc", "catdoc", ("-w", "-d", "utf-8"), "\t")
ANTIWORD = DocTool("antiword", "antiword", ("-m", "UTF-8.txt", "-w", "0"), "|")
DOC_TOOLS = (CATDOC, ANTIWORD)


def load_doc(data: bytes, source: str, tools: tuple[DocTool, ...] = DOC_TOOLS) -> LoadedFile:
    """A binary Word 97-2003 file via the first tool that reads it; LoadError names the missing package."""
    if not data.startswith(OLE_MAGIC):
        raise LoadError(source, "corrupt .doc: not a Word document (no OLE2 header)")
    usable = [t for t in tools if t.available()]
    if not usable:
        packages = " or ".join(t.package for t in tools)
        raise LoadError(source, f"reading .doc files needs {packages}: install the Debian package "
                                f"{tools[0].package} (apt-get install {tools[0].package}, or `make doctools`)")
    failures = []
    with tempfile.TemporaryDirectory(prefix="tracuu-doc-") as folder:
        path = os.path.join(folder, "input.doc")        # neither tool reads stdin: OLE2 needs seeking
        with open(path, "wb") as handle:
            handle.write(data)
        for tool in usable:
            text, problem = _run(tool, path)
            if text is not None:
                pages, encoding = unicode_pages([_cells_to_lines(text, tool.cell)], f"doc+{tool.name}")
                return LoadedFile(source=source, pages=pages, encoding=encoding)
            failures.append(f"{tool.name}: {problem}")
    raise LoadError(source, "corrupt .doc: " + "; ".join(failures))


def _run(tool: DocTool, path: str) -> tuple[str | None, str]:
    """(text, "") or (None, why the tool failed)."""
    try:
        done = subprocess.run([tool.name, *tool.args, path], capture_output=True, timeout=TOOL_TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        return None, f"no answer in {TOOL_TIMEOUT} s"
    except OSError as exc:
        return None, short_reason(exc)
    text = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0 or not text.strip():
        said = done.stderr.decode("utf-8", errors="replace").replace(path, "the file").strip()
        return None, (said.splitlines() or [f"exit status {done.returncode}, no text"])[-1][:120]
    return text, ""


def _cells_to_lines(text: str, separator: str) -> str:
    """Runs of table-row lines ("a<TAB>b<TAB>c" from catdoc, "|a|b|" from antiword, "a|b|" from striprtf)
    become the one-cell-per-line table layout; other lines stay as they are."""
    out: list[str] = []
    rows: list[list[str]] = []
    for line in text.replace("\r\n", "\n").replace("\f", "\n").split("\n"):
        cells = _row_cells(line, separator)
        if cells is not None:
            rows.append(cells)
            continue
        if rows:
            out.extend(table_lines(rows))
            rows = []
        out.append(line)
    if rows:
        out.extend(table_lines(rows))
    return "\n".join(out)


def _row_cells(line: str, separator: str) -> list[str] | None:
    if separator == "\t":
        cells = line.split("\t")
        return [c.strip() for c in cells] if len(cells) >= 2 else None
    stripped = line.strip()
    if stripped.endswith(separator) and stripped.count(separator) >= 2:
        inner = stripped[1:-1] if stripped.startswith(separator) else stripped[:-1]
        return [c.strip() for c in inner.split(separator)]
    return None


# --- RTF ---------------------------------------------------------------------------------------

def load_rtf(data: bytes, source: str) -> LoadedFile:
    """RTF via striprtf: \\uNNNN escapes, the \\ansicpg code page (1258 for Vietnamese) and per-font
    charsets are decoded; table rows (striprtf ends each cell with "|") become the table layout."""
    if not data.lstrip()[:5] == b"{\\rtf":
        raise LoadError(source, "corrupt RTF: no {\\rtf header")
    from striprtf.striprtf import rtf_to_text

    try:
        # RTF is 7-bit text; stray 8-bit bytes are kept one-to-one for the legacy-font check
        text = rtf_to_text(data.decode("latin-1"), encoding="cp1252", errors="replace")
    except Exception as exc:  # striprtf raises ValueError/IndexError/LookupError on damaged input
        raise LoadError(source, f"corrupt RTF: {short_reason(exc)}") from exc
    if not text.strip():
        raise LoadError(source, "empty file (the RTF has no text)")
    pages, encoding = unicode_pages([_cells_to_lines(text, "|")], "rtf")
    return LoadedFile(source=source, pages=pages, encoding=encoding)
