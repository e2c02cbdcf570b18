"""The viewer's pages and their addresses, the same for the local server and the static copy.

``Site.render(path, params)`` answers one address (``/r/KEY/person/ID`` ...) with a page;
``Site.links(here)`` builds the links of a page: server addresses (``/r/KEY/predictions?...``)
or, for the static copy, file paths relative to the page (``../predictions/all--wrong--1.html``),
so the same templates serve both. Every text from a model or a data file is escaped by Jinja2
(autoescape) after ``text.clean`` has removed its escape sequences and control characters.
"""

from __future__ import annotations

import posixpath
import urllib.parse
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import charts, pages, people, scores
from .source import Filters, RunSource
from .text import clean, file_name

HERE = Path(__file__).parent
ALL = "all"


class NotFound(LookupError):
    """An address no page answers (the server says 404)."""


def _finalize(value):
    if value is None:
        return ""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return clean(value)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True),
                      finalize=_finalize, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(charts=charts, pct=lambda x: "–" if x is None else f"{100 * x:.0f}%",
                       num=lambda x, d=3: "–" if x is None or x != x else f"{x:.{d}f}")
    env.filters["clean"] = clean
    return env


class Links:
    """The links of one page (``here``: its address), for the server or the static copy."""

    def __init__(self, here: str, static: bool):
        self.here, self.static = here, static

    def __call__(self, route: str, key: str = "", **params) -> str:
        target = static_path(route, key, params) if self.static else server_path(route, key, params)
        if not self.static:
            return target
        rel = posixpath.relpath(target, posixpath.dirname(self.here) or ".")
        return urllib.parse.quote(rel)


def server_path(route: str, key: str, params: dict) -> str:
    q = {k: v for k, v in params.items() if v not in (None, "")}
    quote = lambda s: urllib.parse.quote(str(s), safe="")  # noqa: E731
    path = {"home": "/", "run": f"/r/{key}/", "predictions": f"/r/{key}/predictions",
            "compare": f"/r/{key}/compare", "static": f"/static/{q.pop('file', '')}"}.get(route)
    if path is None:
        name = {"person": "rid", "item": "qid", "country": "code"}.get(route)
        if route == "persona":
            path = f"/r/{key}/persona/{quote(q.pop('code'))}/{int(q.pop('index'))}"
        elif name:
            path = f"/r/{key}/{route}/{quote(q.pop(name))}"
        else:
            raise ValueError(route)
    return path + ("?" + urllib.parse.urlencode(q) if q else "")


def static_path(route: str, key: str, params: dict) -> str:
    """The file of a page in the static copy (filters it does not hold are left out)."""
    if route == "home":
        return "index.html"
    if route == "static":
        return f"static/{params['file']}"
    if route == "run":
        return f"r/{key}/index.html"
    if route == "predictions":
        return (f"r/{key}/predictions/{file_name(params.get('method') or ALL)}--{params.get('outcome') or ALL}--"
                f"{int(params.get('page') or 1)}.html")
    if route == "compare":
        if not params.get("a") and not params.get("b"):
            return f"r/{key}/compare/index.html"
        return (f"r/{key}/compare/{file_name(params.get('a', ''))}--{file_name(params.get('b', ''))}--"
                f"{params.get('show') or ALL}--{int(params.get('page') or 1)}.html")
    if route == "persona":
        return f"r/{key}/persona/{file_name(params['code'])}-{int(params['index'])}.html"
    name = {"person": "rid", "item": "qid", "country": "code"}[route]
    return f"r/{key}/{route}/{file_name(params[name])}.html"


class Site:
    """The runs being viewed (each under a short key) and their pages."""

    def __init__(self, runs: list["str | Path"], static: bool = False):
        self.sources: dict[str, RunSource] = {}
        for path in runs:
            key = base = file_name(Path(path).resolve().name or "run")
            n = 2
            while key in self.sources:
                key, n = f"{base}-{n}", n + 1
            self.sources[key] = RunSource(path, key)
        self.static = static
        self.env = environment()

    def warm(self) -> None:
        """Compute what the overviews show (scoring a large run takes seconds), so that the first
        visit finds it cached; a failure here is left for the page to report."""
        for src in self.sources.values():
            try:
                src.status()
                src.facets()
                if not src.is_population():
                    scores.eval_overview(src)
            except Exception:  # noqa: BLE001 (the page itself says what is wrong)
                pass

    # --- answering an address -------------------------------------------------------------------
    def render(self, path: str, params: dict | None = None) -> str:
        """The page at server address ``path`` (already split from its query ``params``)."""
        params = params or {}
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        if not parts:
            return self.page("home.html", "/", {})
        if parts[0] != "r" or len(parts) < 2 or parts[1] not in self.sources:
            raise NotFound(path)
        key, rest = parts[1], parts[2:]
        return self.run_page(key, rest, params, path)

    def run_page(self, key: str, rest: list[str], params: dict, here: str) -> str:
        src = self.sources[key]
        ctx = {"src": src, "key": key, "state": src.state()}
        if not rest:
            if src.is_population():
                return self.page("population.html", here, {**ctx, **scores.population_overview(src),
                                                           "countries": pages.countries(src)})
            return self.page("overview.html", here, {**ctx, **scores.eval_overview(src)})
        what = rest[0]
        if what == "predictions":
            filters = Filters.of(params)
            return self.page("predictions.html", here, {**ctx, "filters": filters, "facets": src.facets(),
                                                        "result": src.predictions(filters),
                                                        "population": src.is_population()})
        if what == "person" and len(rest) == 2:
            data = people.person(src, rest[1])
            if data is None:
                raise NotFound(rest[1])
            return self.page("person.html", here, {**ctx, "person": data})
        if what == "item" and len(rest) == 2:
            data = pages.item(src, rest[1])
            if data is None:
                raise NotFound(rest[1])
            return self.page("item.html", here, {**ctx, "item": data})
        if what == "country" and len(rest) == 2:
            return self.page("country.html", here, {**ctx, "country": pages.country(src, rest[1])})
        if what == "persona" and len(rest) == 3 and rest[2].lstrip("-").isdigit():
            data = people.persona(src, rest[1], int(rest[2]))
            if data is None:
                raise NotFound(rest[1])
            return self.page("persona.html", here, {**ctx, "persona": data})
        if what == "compare":
            return self.compare_page(key, params, here, ctx)
        raise NotFound(here)

    def compare_page(self, key: str, params: dict, here: str, ctx: dict) -> str:
        choices = pages.compare_choices(self.sources)
        a, b = _one(params, "a"), _one(params, "b")
        mine = [c for c, _ in choices if c.startswith(key + ":")]
        if not a and len(mine) >= 1:
            a = mine[0]
        if not b and len(mine) >= 2:
            b = mine[1]
        data = None
        if a and b:
            try:
                page = int(_one(params, "page") or 1)
            except ValueError:
                page = 1
            try:
                data = pages.compare(self.sources, a, b, _one(params, "show"), page)
            except LookupError as exc:
                raise NotFound(str(exc)) from None
        pairs = pages.compare_pairs(self.sources) if self.static else []
        return self.page("compare.html", here, {**ctx, "choices": choices, "a": a, "b": b, "cmp": data,
                                                "pairs": [p for p in pairs if p[0].startswith(key + ":")]})

    def page(self, template: str, here: str, ctx: dict) -> str:
        links = Links(here, self.static)
        return self.env.get_template(template).render(url=links, static=self.static, runs=self.sources, **ctx)


def _one(params: dict, name: str) -> str:
    value = params.get(name, "")
    return str(value[0] if isinstance(value, list) else value)
