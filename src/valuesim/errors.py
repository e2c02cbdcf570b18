"""Errors a user can cause. The CLI prints their message (one line, no traceback)."""


class ValuesimError(Exception):
    """Base for every error whose message is meant for the user as it is."""


class DataError(ValuesimError):
    """A survey file is unreadable, not WVS-7, truncated or has invalid codes."""


class ModelError(ValuesimError):
    """A model backend could not be loaded or reached, or answered unusably. ``attempts``:
    requests it took (retries included), for the run's accounting."""

    attempts: int = 1


class ConfigError(ValuesimError):
    """Bad options: unknown method, malformed model spec, missing setting."""
