"""Credentials: where the API key comes from, and the one scrubber for anything shown or stored.

The key is read from the environment only ($OPENAI_API_KEY or $VALUESIM_API_KEY). ``scrub``
removes every credential form we know of from a text before it reaches a log, a cache, a run
file, a report or the terminal: the key itself, ``user:password@`` in URLs, ``Bearer``/``Basic``
authorization values, ``sk-...`` style keys and ``api_key=...`` query parameters.
"""

from __future__ import annotations

import os
import re

KEY_ENV = ("OPENAI_API_KEY", "VALUESIM_API_KEY")
MASK = "***"

# scheme://AUTHORITY: the authority ends at the first "/", "?", "#", whitespace, or a comma that
# starts the next URL of a list; in one command-line argument, whitespace belongs to the URL too
_SCHEME = r"[a-z][a-z0-9+.\-]*://"
_URL = re.compile(rf"(?i)\b({_SCHEME})([^/?#\s]*?)(?=[/?#\s]|,\s*{_SCHEME}|$)")
_URL_ARG = re.compile(rf"(?i)\b({_SCHEME})([^/?#]*?)(?=[/?#]|,\s*{_SCHEME}|$)")

_PATTERNS = [
    # a bare user:password@host (no scheme); the password runs to the last "@" before the host
    (re.compile(r"(?<![\w/])[\w.\-~%+]+:[^\s/'\"]+@(?=[\w\-]+[.:\w])"), MASK + "@"),
    # Authorization header values, in any quoting
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=\-]{6,}"), r"\1\2" + MASK),
    # Basic base64(user:password): only values that look encoded, so "basic information" stays
    (re.compile(r"(?i)\b(basic)(\s+)(?-i:(?=[A-Za-z0-9+/=]*(?:[0-9+/=]|[a-z][A-Z])))[A-Za-z0-9+/]{6,}=*"), r"\1\2" + MASK),
    # OpenAI-style secret keys (sk-..., sk-proj-...) and similar prefixed keys
    (re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{4,}"), MASK),
    # key=... / api_key: ... / "password": "..."
    (re.compile(r"(?i)\b(api[_-]?key|access[_-]?token|password|passwd|secret)(\"?\s*[=:]\s*\"?)[^\s&\"',;]+"),
     r"\1\2" + MASK),
]


def api_key() -> str | None:
    """The API key from the environment, or None."""
    for name in KEY_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def scrub(text: object, *secrets: str, _url: re.Pattern = _URL) -> str:
    """``text`` with every credential replaced by ``***``: the environment's API key, the extra
    ``secrets`` given, URL user info, Bearer/Basic values, sk-... keys, key=... parameters."""
    out = "" if text is None else str(text)
    for secret in (*secrets, api_key() or ""):
        if secret and len(secret) >= 4:
            out = out.replace(secret, MASK)
    out = _url.sub(_mask_userinfo, out)
    for pattern, repl in _PATTERNS:
        out = pattern.sub(repl, out)
    return out


def _mask_userinfo(match: re.Match) -> str:
    """scheme://user:pass@host -> scheme://***@host, parsed: the user info is everything before
    the LAST "@" of the authority, so a raw "@" (or ":", "%40", any character) in a password
    is masked with the rest of it."""
    scheme, authority = match.group(1), match.group(2)
    at = authority.rfind("@")
    return scheme + (MASK + authority[at:] if at >= 0 else authority)


def scrub_argv(argv: list[str]) -> str:
    """A command line to record (run.json, reports) with credentials removed."""
    import shlex

    # each argument alone, so a URL's password may even hold spaces or quotes
    return " ".join(shlex.quote(scrub(a, _url=_URL_ARG)) for a in argv)
