"""Text that reaches the terminal: control characters from models and files neutralised.

A model's reply or a data file's cell can hold escape sequences (set the window title, recolour
or clear the screen, hide text with a carriage return or a bidi override). The CLI prints such
text in many places (story, ask, profile, data inspect, run summaries, error lines), so the
command line wraps stdout and stderr once (``safe_streams``): every such character is written
as a visible escape (``\\x1b``) instead. Tab and newline pass; a carriage return passes on
stderr only, where the progress bar redraws its line.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Iterator

_BIDI = "\u202a-\u202e\u2066-\u2069"
_STDOUT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_STDERR = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")  # keeps \r for the progress bar


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str, keep_carriage_return: bool = False) -> str:
    """``text`` with every control character (but tab and newline) shown as an escape."""
    return (_STDERR if keep_carriage_return else _STDOUT).sub(_visible, text)


def one_line(text) -> str:
    """``text`` for a one-line warning or error: a line break inside it (an item id, a file's
    header) written as ``\\n``, so the line stays one line."""
    return str(text).replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


class SafeStream:
    """A text stream that neutralises what it is given before writing it."""

    def __init__(self, stream, pattern: re.Pattern):
        self._stream, self._pattern = stream, pattern

    def write(self, text: str) -> int:
        self._stream.write(self._pattern.sub(_visible, text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):  # flush, isatty, fileno, encoding, close ...
        return getattr(self._stream, name)


@contextmanager
def safe_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr neutralised for the duration (the CLI's whole command)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out, _STDOUT), SafeStream(err, _STDERR)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
