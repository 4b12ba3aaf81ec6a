"""Document metadata as dictionary-encoded columns: a filter becomes a mask, a facet a bincount.

An archive holds few distinct issuers, types and school years but many documents, so each column
keeps its distinct values once and one small integer per document. Matching a filter compares the
distinct values (folded, the way a person types them) and then selects documents by code, which
takes a few milliseconds for a million documents; so does counting every facet value. The store
fills the columns from SQLite when it opens an index; nothing here touches files.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

import numpy as np

from indexer.normalize import fold
from indexer.types import Filters

FACET_LIMIT = 20   # values shown per facet: the most frequent (an archive may have hundreds of issuers)
NO_DATE = 0


class DocColumns:
    """Issuer, type, date and school years of every document row, encoded for masks and counts."""

    def __init__(self, rows: Iterable[tuple[str | None, str | None, str | None, str]]) -> None:
        issuers: dict[str, int] = {}
        types: dict[str, int] = {}
        years: dict[str, int] = {}
        issuer_code, type_code, dates, year_doc, year_code = [], [], [], [], []
        for doc_row, (issuer, doc_type, issued, school_years) in enumerate(rows):
            issuer_code.append(issuers.setdefault(issuer, len(issuers)) if issuer else -1)
            type_code.append(types.setdefault(doc_type, len(types)) if doc_type else -1)
            dates.append(date_number(issued))
            for year in json.loads(school_years or "[]"):
                year_doc.append(doc_row)
                year_code.append(years.setdefault(year, len(years)))
        self.size = len(issuer_code)
        self.issuers, self.types, self.years = list(issuers), list(types), list(years)
        self.issuer_code = np.asarray(issuer_code, dtype=np.int32)
        self.type_code = np.asarray(type_code, dtype=np.int32)
        self.date = np.asarray(dates, dtype=np.int32)
        self.year_doc = np.asarray(year_doc, dtype=np.int32)
        self.year_code = np.asarray(year_code, dtype=np.int32)

    def mask(self, filters: Filters, doc_row: int | None = None) -> np.ndarray | None:
        """Documents within the filters (None when there is no constraint); `doc_row` is filters.doc_id's row."""
        if not filters.active():
            return None
        keep = np.ones(self.size, dtype=bool)
        if filters.doc_id:
            only = np.zeros(self.size, dtype=bool)
            if doc_row is not None and 0 <= doc_row < self.size:
                only[doc_row] = True
            keep &= only
        if filters.school_year:
            keep &= self._has_year(filters.school_year)
        if filters.issuer:
            wanted = fold(filters.issuer)
            keep &= np.isin(self.issuer_code, [i for i, v in enumerate(self.issuers) if wanted in fold(v)])
        if filters.doc_type:
            wanted = fold(filters.doc_type)
            keep &= np.isin(self.type_code, [i for i, v in enumerate(self.types) if fold(v) == wanted])
        if filters.date_from or filters.date_to:
            low = date_number(filters.date_from) if filters.date_from else 1
            high = date_number(filters.date_to) if filters.date_to else np.iinfo(np.int32).max
            keep &= (self.date != NO_DATE) & (self.date >= low) & (self.date <= high)
        return keep

    def facets(self, filters: Filters, doc_row: int | None = None,
               limit: int = FACET_LIMIT) -> dict[str, dict[str, int]]:
        """Documents per school year, issuer and type within the filters.

        Each field is counted under the other fields' constraints but not its own, so the values a
        user could switch to stay listed with the number of documents each would give.
        """
        out: dict[str, dict[str, int]] = {}
        for name, values in (("school_year", self.years), ("issuer", self.issuers), ("doc_type", self.types)):
            keep = self.mask(filters.without(name), doc_row)
            if name == "school_year":
                codes = self.year_code if keep is None else self.year_code[keep[self.year_doc]]
            else:
                column = self.issuer_code if name == "issuer" else self.type_code
                codes = column if keep is None else column[keep]
                codes = codes[codes >= 0]
            counts = np.bincount(codes, minlength=len(values))
            out[name] = _top_counts(values, counts, limit, getattr(filters, name))
        return out

    def _has_year(self, year: str) -> np.ndarray:
        keep = np.zeros(self.size, dtype=bool)
        if year in self.years:
            keep[self.year_doc[self.year_code == self.years.index(year)]] = True
        return keep


def date_number(value: str | None) -> int:
    """'2020-09-07' -> 20200907, so ranges compare as integers; a missing or malformed date is NO_DATE."""
    try:
        day = date.fromisoformat((value or "")[:10])
    except ValueError:
        return NO_DATE
    return day.year * 10_000 + day.month * 100 + day.day


def _top_counts(values: list[str], counts: np.ndarray, limit: int, active: str | None) -> dict[str, int]:
    """The `limit` most frequent values (ties by value), plus the active filter value when it has documents."""
    order = sorted((i for i in np.flatnonzero(counts)), key=lambda i: (-counts[i], values[i]))
    chosen = [int(i) for i in order[:limit]]
    if active:
        chosen += [int(i) for i in order[limit:] if values[i] == active]
    return {values[i]: int(counts[i]) for i in chosen}
