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
