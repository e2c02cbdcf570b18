"""Report rendering shared by every report: tables, pages, figures, CSV, atomic writes.

Everything that comes from data or models (method names, countries, question text, persona
text, model labels, error messages) is escaped here, in one place, before it reaches HTML or
Markdown; CSV cells a spreadsheet would run as formulas are neutralised here too.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    bold: set[tuple[int, int]] = field(default_factory=set)  # (row, col) cells to emphasise


def fmt(x, digits: int = 3) -> str:
    """A number for a table cell; missing values are an en dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def md_cell(text: str) -> str:
    """Markdown cell: no raw HTML tags (renderers pass them through), no table breaks."""
    return str(text).replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def md_text(text: str) -> str:
    """Markdown running text from a data file (a codebook's category names): every character
    Markdown gives a meaning (links, emphasis, code, headings, tables, raw HTML) written as itself."""
    return md_cell(re.sub(r"([\\`*_{}\[\]()#+!~])", r"\\\1", str(text)))


def table_markdown(t: Table) -> str:
    lines = [f"### {md_cell(t.title)}", ""]
    if t.caption:
        lines += [md_cell(t.caption), ""]
    lines.append("| " + " | ".join(md_cell(h) for h in t.header) + " |")
    lines.append("|" + "|".join("---" for _ in t.header) + "|")
    for i, row in enumerate(t.rows):
        cells = [(f"**{md_cell(c)}**" if (i, j) in t.bold else md_cell(c)) for j, c in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_NUMERIC = re.compile(r"^[\s\d.,%\[\]*–+\-e]*$")


def table_html(t: Table) -> str:
    out = [f"<h3>{html.escape(t.title)}</h3>"]
    if t.caption:
        out.append(f'<p class="caption">{html.escape(t.caption)}</p>')
    first = t.rows[0] if t.rows else []
    text_col = [j < len(first) and not _NUMERIC.match(str(first[j])) for j in range(len(t.header))]
    heads = [(' class="t"' if text_col[j] else "", html.escape(h)) for j, h in enumerate(t.header)]
    out.append("<table><thead><tr>" + "".join(f"<th{cls}>{h}</th>" for cls, h in heads) + "</tr></thead><tbody>")
    for i, row in enumerate(t.rows):
        cells = []
        for j, c in enumerate(row):
            text = html.escape(str(c))
            cls = "" if _NUMERIC.match(str(c)) else ' class="t"'  # words: left-aligned, may wrap
            cells.append(f"<td{cls}><b>{text}</b></td>" if (i, j) in t.bold else f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1250px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{margin-bottom:.3em} table{border-collapse:collapse;font-size:13px;margin:.4em 0 1.2em}
th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f3f3f3} td:first-child,th:first-child,td.t,th.t{text-align:left} td.t{white-space:normal;min-width:6em} tbody tr:nth-child(even){background:#fafafa}
.caption{color:#555;font-size:13px;max-width:1100px} .meta td{text-align:left;white-space:normal}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .scroll{overflow-x:auto}
"""


def markdown_page(title: str, meta, sections, intro: str, footer: str) -> str:
    """A report as Markdown: title, a key/value table, ``intro``, then the sections' tables and
    figures ((kind, file name, caption) triples), then ``footer``. Shared by every report."""
    out = [f"# {md_cell(title)}", ""]
    out += ["| | |", "|---|---|"] + [f"| {md_cell(k)} | {md_cell(v)} |" for k, v in meta] + [""]
    if intro:
        out += [md_text(intro), ""]
    for heading, items in sections:
        out += [f"## {md_cell(heading)}", ""]
        for item in items:
            if isinstance(item, Table):
                out.append(table_markdown(item))
            else:
                _, name, caption = item
                out += [f"![{md_cell(caption)}]({name})", ""]
    out.append(footer)
    return "\n".join(out) + "\n"


def html_page(title: str, meta, sections, images: dict[str, bytes], intro: str, footer: str) -> str:
    """The same report as one self-contained HTML page (figures embedded as base64 PNG)."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             '<table class="meta"><tbody>'
             + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in meta)
             + "</tbody></table>"]
    if intro:
        parts.append(f'<p class="caption">{html.escape(intro)}</p>')
    for heading, items in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        for item in items:
            if isinstance(item, Table):
                parts.append('<div class="scroll">' + table_html(item) + "</div>")
            else:
                _, name, caption = item
                b64 = base64.b64encode(images[name]).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
                             f'<figcaption class="caption">{html.escape(caption)}</figcaption></figure>')
    parts.append(f'<p class="caption">{html.escape(footer)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (and the figure closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# --- files ----------------------------------------------------------------------------------
def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: a reader
    (or a kill) sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a spreadsheet shows the text instead of running it
    return value


def safe_for_spreadsheet(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that start like a formula (=, +, -, @) get a leading apostrophe (the OWASP
    advice for CSV injection); numbers are left alone, so -0.5 stays a number."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_defuse)
    return out


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """CSV for people and spreadsheets: formula cells neutralised, written atomically."""
    return write_atomic(path, safe_for_spreadsheet(df).to_csv(index=False))


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return write_atomic(path, buf.getvalue())
