"""Errors a user can cause. The CLI prints their message (one line, no traceback)."""


class ValuesimError(Exception):
    """Base for every error whose message is meant for the user as it is."""


class DataError(ValuesimError):
    """A survey file is unreadable, not the codebook's survey, truncated or has invalid codes."""


class ModelError(ValuesimError):
    """A model backend could not be loaded or reached, or answered unusably. ``attempts``:
    requests it took (retries included), for the run's accounting. ``retryable``: the backend
    declares that asking again may succeed (a 429, a 5xx, a timeout, a busy engine); then
    ``retry_after`` is the wait it asks for in seconds (Retry-After), or None. The one retry
    loop (``valuesim.llm.model.Model``) reads these; nothing else retries."""

    attempts: int = 1
    retryable: bool = False
    retry_after: float | None = None


class ConfigError(ValuesimError):
    """Bad options: unknown method, malformed model spec, missing setting."""


SQLITE_CAUSES = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_CORRUPT": "the file is damaged (a corrupted page)",
    "SQLITE_NOTADB": "the file is not a SQLite database",
    "SQLITE_BUSY": "another process held it locked for longer than valuesim waits",
    "SQLITE_LOCKED": "another connection has kept it locked",
    "SQLITE_READONLY": "it cannot be written (read-only file or folder)",
    "SQLITE_CANTOPEN": "it cannot be opened (a missing or unwritable folder)",
    "SQLITE_IOERR": "the disk failed to read or write it",
    "SQLITE_PERM": "permission denied",
}


def sqlite_cause(exc: Exception) -> str:
    """What went wrong with a SQLite file, in words, from the error's own code (the primary
    code: SQLITE_IOERR_WRITE is an I/O error); the library's message beside it."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")  # set on every sqlite3.Error raised by SQLite
    for code, words in SQLITE_CAUSES.items():
        if name == code or name.startswith(code + "_"):
            return f"{words} ({exc})"
    return str(exc)
