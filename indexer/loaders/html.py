"""HTML pages -> visible text, block elements as lines and table cells one per line (selectolax)."""
from __future__ import annotations

import re

from indexer.errors import LoadError
from indexer.loaders.text import decode_text, unicode_encoding, unicode_pages
from indexer.types import LoadedFile

_DROP = "script, style, nav, head, noscript, template, svg, iframe, object, embed, canvas, [hidden]"
_BLOCKS = ("address, article, aside, blockquote, caption, dd, details, dialog, div, dl, dt, fieldset, "
           "figcaption, figure, footer, form, h1, h2, h3, h4, h5, h6, header, hr, li, main, ol, p, pre, "
           "section, summary, table, tbody, td, tfoot, th, thead, ul, br")
_BREAK, _ROW = "\x1e", "\x1d"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def load_html(data: bytes, source: str) -> LoadedFile:
    """Visible text only; block elements become line breaks, table cells one per line."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(_decode_html(data, source))
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css(_BLOCKS):
        node.insert_before(_BREAK)
        node.insert_after(_BREAK)
    for node in tree.css("tr"):
        node.insert_after(_ROW)
    root = tree.body or tree.root
    text = re.sub(r"[ \t\r\n\f]+", " ", root.text(separator="") if root is not None else "")
    text = re.sub(f"[ {_BREAK}{_ROW}]*{_ROW}[ {_BREAK}{_ROW}]*", "\n\n", text)   # table row: blank line
    text = re.sub(f"[ {_BREAK}]*{_BREAK}[ {_BREAK}]*", "\n", text).strip()
    if not text:
        raise LoadError(source, "HTML has no visible text")
    pages, encoding = unicode_pages([text], "html")
    return LoadedFile(source=source, pages=pages, encoding=encoding)


def _decode_html(data: bytes, source: str) -> str:
    """A declared <meta charset> wins when it decodes the bytes; otherwise decode like a text file."""
    declared = _META_CHARSET.search(data[:4096])
    if declared and not unicode_encoding(data)[0]:
        name = declared.group(1).decode("ascii").lower()
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data, source)[0]
