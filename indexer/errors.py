"""Domain errors raised by the core; the CLI and the HTTP layer translate them (never raised as HTTP here)."""


class TracuuError(Exception):
    """Base class: `code` is stable and machine-readable, the message is for a person."""

    code = "error"


class LoadError(TracuuError):
    """A file cannot be turned into text (corrupt, encrypted, empty, binary, unsupported)."""

    code = "bad_file"

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexMissing(TracuuError):
    code = "index_missing"


class IndexMismatch(TracuuError):
    """The index on disk was built by another embedder or format version."""

    code = "index_mismatch"


class BadQuery(TracuuError):
    code = "bad_query"
