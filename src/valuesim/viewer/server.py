"""The local server: the standard library's threading HTTP server on 127.0.0.1, one page per GET.

Nothing is written anywhere; every request reads the runs afresh (through ``Site``), so a run in
progress shows its new predictions on reload. Errors a user can meet (an unknown person, a
damaged store) are a short page, never a traceback in the browser.
"""

from __future__ import annotations

import mimetypes
import sqlite3
import sys
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import ValuesimError
from .site import HERE, NotFound, Site
from .text import clean

ASSETS = HERE / "static"


class Handler(BaseHTTPRequestHandler):
    site: Site  # set on the subclass ``make_server`` builds
    server_version = "valuesim-view"

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/static/"):
            return self._asset(url.path[len("/static/"):])
        try:
            body = self.site.render(url.path, urllib.parse.parse_qs(url.query))
        except NotFound as exc:
            return self._send(HTTPStatus.NOT_FOUND, _error_page("Not found", f"Nothing here: {exc}"))
        except (ValuesimError, sqlite3.Error) as exc:
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, _error_page("Cannot read the run", str(exc)))
        except Exception as exc:  # noqa: BLE001 (a page, and one line on the terminal, never a traceback)
            sys.stderr.write(clean(f"valuesim view: {self.path}: {type(exc).__name__}: {exc}") + "\n")
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, _error_page("This page failed", f"{type(exc).__name__}: {exc}"))
        self._send(HTTPStatus.OK, body)

    def _asset(self, name: str) -> None:
        path = (ASSETS / name).resolve()
        if ASSETS.resolve() not in path.parents or not path.is_file():
            return self._send(HTTPStatus.NOT_FOUND, _error_page("Not found", name))
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, path.read_bytes(), kind)

    def _send(self, status: HTTPStatus, body: "str | bytes", kind: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")  # a reload always reads the run again
        self.send_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                    "img-src 'self' data:")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # one quiet line per error only
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            sys.stderr.write(clean(f"valuesim view: {format % args}") + "\n")


def _error_page(title: str, text: str) -> str:
    from markupsafe import escape

    return (f"<!doctype html><meta charset='utf-8'><title>{escape(title)}</title><h1>{escape(title)}</h1>"
            f"<p>{escape(clean(text))}</p><p><a href='/'>All runs</a></p>")


def make_server(site: Site, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for ``site`` on ``host`` (port 0: a free one); ``serve_forever`` runs it."""
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
