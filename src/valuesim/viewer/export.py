"""``valuesim view RUN --static DIR``: every page of the runs written as files that open from
disk without a server (links are relative; the stylesheet and script are copied beside them).

The predictions table is written for each method and outcome (all / correct / wrong / failed),
page by page; the item, category and country filters need the server (each item has its page).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import ConfigError
from ..runs.render import write_atomic
from . import pages
from .site import HERE, Site, static_path
from .source import OUTCOMES, Filters, PER_PAGE


def write_static(runs: list, out: "str | Path") -> Path:
    """Write the pages of ``runs`` into ``out`` (created; files already there are replaced);
    returns the path of its index.html. Nothing is written inside the runs."""
    out = Path(out)
    site = Site(runs, static=True)
    for src in site.sources.values():
        if out.resolve() == src.run.path.resolve() or src.run.path.resolve() in out.resolve().parents:
            raise ConfigError(f"--static {out} is inside the run {src.run.path}: the viewer never writes to a run; "
                              "choose a folder outside it")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(HERE / "static", out / "static", dirs_exist_ok=True)

    def write(route: str, key: str, rest: list[str], params: dict, **path_params) -> None:
        here = static_path(route, key, {**params, **path_params})
        write_atomic(out / here, site.run_page(key, rest, params, here) if route != "home"
                     else site.page("home.html", here, {}))

    write("home", "", [], {})
    for key, src in site.sources.items():
        write("run", key, [], {})
        _predictions(src, key, write)
        if src.is_population():
            for c in pages.countries(src):
                write("country", key, ["country", c["country"]], {}, code=c["country"])
            for p in src.query("SELECT DISTINCT country, persona FROM predictions WHERE persona >= 0"):
                write("persona", key, ["persona", p["country"], str(p["persona"])], {}, code=p["country"],
                      index=p["persona"])
            continue
        for (rid,) in src.query("SELECT DISTINCT respondent_id FROM predictions WHERE persona < 0"):
            write("person", key, ["person", rid], {}, rid=rid)
        for (qid,) in src.query("SELECT DISTINCT question_id FROM predictions"):
            write("item", key, ["item", qid], {}, qid=qid)
        write("compare", key, ["compare"], {})
        _comparisons(site, key, write)
    return out / "index.html"


def _predictions(src, key: str, write) -> None:
    outcomes = ("",) if src.is_population() else ("",) + OUTCOMES
    for method in [""] + src.facets()["method"]:
        for outcome in outcomes:
            total = src.predictions(Filters(method=method, outcome=outcome)).total
            for page in range(1, max(1, -(-total // PER_PAGE)) + 1):
                params = Filters(method=method, outcome=outcome, page=page).params()
                write("predictions", key, ["predictions"], params)


def _comparisons(site: Site, key: str, write) -> None:
    for a, b in pages.compare_pairs(site.sources):
        if not a.startswith(key + ":"):
            continue
        for show in pages.COMPARE_SHOWS:
            data = pages.compare(site.sources, a, b, show, 1)
            for page in range(1, data["pages"] + 1):
                write("compare", key, ["compare"], {"a": a, "b": b, "show": show, "page": str(page)})
