"""One process at a time in a run directory: an OS lock on RUN_DIR/.lock that names its holder."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path

from ..errors import ConfigError
from .names import LOCK_FILE
from .resume import now


class RunLocked(ConfigError):
    """Another process is working in this run directory."""


class RunLock:
    """An exclusive OS lock on RUN_DIR/.lock for as long as a run works in the directory.

    ``with RunLock(out, command):`` creates the directory if needed. The lock file records the
    holder (pid, host, command, since) so the refused process can say who it is."""

    def __init__(self, out: str | Path, command: str | None = None):
        self.out, self.command = Path(out), command or "python API"
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a file in the way, a read-only folder: one line, not a traceback
            raise ConfigError(f"cannot use {self.out} as a run directory: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunLocked(
                f"{self.out} is in use by another valuesim process ({holder}); wait for it to finish, "
                "stop it, or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                                  "since": now()}).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def lock_holder(out: "str | Path") -> str | None:
    """Who holds the run lock of ``out`` (another process, still working), or None."""
    path = Path(out) / LOCK_FILE
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(fd)
    except OSError:
        return None
    finally:
        os.close(fd)  # (closing drops a shared lock taken just now)
    return None


def _read_holder(fd: int) -> str:
    try:
        h = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        h = {}
    if not h:
        return "holder unknown"
    return f"pid {h.get('pid')} on {h.get('host')} since {h.get('since')}: {h.get('command')}"
