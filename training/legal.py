"""Weak supervision from the Pháp điển (official legal code) articles, with the ALQAC laws left out.

Each article reads "(Điều N <Loại> số <số hiệu> <tên> ngày ..., có hiệu lực ...)" then its body. From it:
* heading -> body: a specific article heading ("Nhiệm vụ và quyền hạn của Phòng Giáo dục và Đào tạo")
  finds its article, titled with the document's name but without the heading itself, so the model must
  match the content, not the words of the heading;
* a sentence -> the rest of its article (inverse cloze: a passage answers a statement it implies);
* a document number ("nghị định 61/2006/NĐ-CP") -> the document's name.
ALQAC's statutes are a benchmark corpus: an article whose body shares half its word 8-grams with an
ALQAC article is dropped, and with it every article of the same document.
"""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from training.sources import ALQAC, PHAPDIEN, Example, clip_words, nfc, read_jsonl

_SOURCE = re.compile(r"^\(Điều [0-9a-zđ]+ (?P<kind>[^\W\d][^\d]*?) số (?P<number>[0-9][^\s,]*)(?P<rest>.*)\)$")
_NAME_END = re.compile(r" ngày \d{1,2}/\d{1,2}/\d{4}")
_GENERIC_HEADINGS = 5            # a heading seen this often ("Phạm vi điều chỉnh") names no content
SHINGLE = 8


@dataclass
class Article:
    id: str
    topic: str                   # chủ đề ("Giáo dục, đào tạo")
    heading: str                 # "Nhiệm vụ và quyền hạn của ..." (without "Điều 13.1.LQ.2.")
    kind: str                    # "Nghị định"
    number: str                  # "61/2006/NĐ-CP"
    name: str                    # "Về chính sách đối với nhà giáo ..." where the source line gives it
    body: str


def articles() -> list[Article]:
    """Pháp điển articles with a parsed source line, names filled in from the document's first article."""
    out = []
    for row in read_jsonl(PHAPDIEN):
        first, _, body = nfc(row["text"]).partition("\n")
        match = _SOURCE.match(first)
        topic, _, rest = row["title"].partition(" / ")
        heading = re.sub(r"^.*?— Điều [0-9A-Za-zĐđ.]+\.\s*", "", nfc(rest))
        if not match or not body.strip():
            continue
        name = _NAME_END.split(match["rest"].lstrip(", "))[0].strip()
        name = "" if name.startswith("có hiệu lực") else name
        out.append(Article(row["id"], topic, heading, match["kind"], match["number"].rstrip("."), name, body))
    names = {a.number: a.name for a in out if a.name}
    for article in out:
        article.name = article.name or names.get(article.number, "")
    return out


def without_alqac(items: list[Article]) -> tuple[list[Article], set[str]]:
    """Drop every document one of whose articles overlaps an ALQAC article (ALQAC is a benchmark)."""
    alqac = set()
    for row in read_jsonl(ALQAC):
        alqac |= shingles(row["text"])
    dropped = {a.number for a in items if _overlap(shingles(a.body), alqac) >= 0.5}
    return [a for a in items if a.number not in dropped], dropped


def shingles(text: str) -> set[str]:
    words = re.sub(r"\W+", " ", text.lower()).split()
    return {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def _overlap(own: set[str], other: set[str]) -> float:
    return len(own & other) / len(own) if own else 0.0


def title_of(article: Article) -> str:
    return f"{article.kind} số {article.number} {article.name}".strip()


def heading_pairs(items: list[Article], limit: int, rng: random.Random) -> list[Example]:
    """Specific headings -> their article body under the document's name (education articles first)."""
    counts = Counter(a.heading.lower() for a in items)
    usable = [a for a in items if len(a.heading.split()) >= 3 and counts[a.heading.lower()] < _GENERIC_HEADINGS]
    chosen = _education_first(usable, limit, rng)
    return [Example("phapdien/heading", a.heading, f"{title_of(a)}\n{clip_words(a.body)}", group=f"pd:{a.id}",
                    extra={"topic": a.topic}) for a in chosen]


def cloze_pairs(items: list[Article], limit: int, rng: random.Random) -> list[Example]:
    """One sentence of an article (8-40 words) -> the article without that sentence."""
    out: list[Example] = []
    for article in _education_first(items, limit * 2, rng):
        sentences = [s for s in re.split(r"(?<=[.;:])\s+|\n", article.body) if 8 <= len(s.split()) <= 40]
        if not sentences or len(out) >= limit:
            continue
        sentence = rng.choice(sentences)
        rest = " ".join(article.body.replace(sentence, " ").split())
        if len(rest.split()) >= 20:
            out.append(Example("phapdien/cloze", sentence, f"{title_of(article)}\n{clip_words(rest)}",
                               group=f"pd:{article.id}", extra={"topic": article.topic}))
    return out


def number_pairs(items: list[Article], limit: int, rng: random.Random) -> list[Example]:
    """"thông tư 35/2010/TT-BYT" -> "Thông tư số 35/2010/TT-BYT <tên>"; one per document."""
    docs: dict[str, Article] = {}
    for article in items:
        if article.name and len(article.name.split()) >= 4:
            docs.setdefault(article.number, article)
    chosen = rng.sample(sorted(docs.values(), key=lambda a: a.number), min(limit, len(docs)))
    return [Example("phapdien/number", f"{a.kind.lower()} {a.number}", title_of(a), group=f"pdn:{a.number}")
            for a in chosen]


def _education_first(items: list[Article], limit: int, rng: random.Random) -> list[Article]:
    """All "Giáo dục, đào tạo" articles that fit, then a random sample of the others."""
    by_topic = defaultdict(list)
    for article in items:
        by_topic[article.topic == "Giáo dục, đào tạo"].append(article)
    education, other = by_topic[True], by_topic[False]
    rng.shuffle(education)
    rng.shuffle(other)
    return (education + other)[:limit]
