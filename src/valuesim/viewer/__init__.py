"""``valuesim view``: a local, read-only viewer over run directories (individual and population
runs): overview, predictions, a person, an item, population countries and personas, compare.

>>> from valuesim.viewer import serve, write_static
>>> write_static(["runs/demo/study"], "viewer-copy")  # doctest: +SKIP
>>> serve(["runs/demo/study"])  # prints the address; Ctrl-C stops it  # doctest: +SKIP
"""

from __future__ import annotations

import threading

from .export import write_static
from .site import Site

__all__ = ["Site", "serve", "write_static"]


def serve(runs: list, port: int = 0, host: str = "127.0.0.1", announce=print) -> None:
    """Serve the pages of ``runs`` on ``host`` (a free port unless ``port``) until Ctrl-C."""
    from .server import make_server

    site = Site(runs)
    server = make_server(site, port=port, host=host)
    threading.Thread(target=site.warm, daemon=True).start()  # the overviews' scores, before the first click
    announce(f"valuesim view: http://{host}:{server.server_address[1]}/  (Ctrl-C stops it)")
    try:
        server.serve_forever()
    finally:
        server.server_close()
