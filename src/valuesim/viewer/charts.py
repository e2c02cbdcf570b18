"""Small inline SVG charts (no library, nothing fetched): a distribution as bars with the true
answer marked, and several distributions over one question's codes against the real one.
Every label is escaped here, since the SVG reaches the page as markup."""

from __future__ import annotations

from markupsafe import Markup, escape

from .text import clean

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def bars(codes, probs: dict, truth=None, answer=None, width: int = 12, height: int = 28) -> Markup:
    """One distribution as small bars, one per code; the true answer's bar is outlined and the
    chosen answer's is dark."""
    codes = list(codes or sorted(probs))
    if not codes:
        return Markup("")
    w = width * len(codes)
    out = [f'<svg class="bars" width="{w}" height="{height + 10}" viewBox="0 0 {w} {height + 10}" role="img">']
    title = ", ".join(f"{c}: {100 * float(probs.get(c, 0.0)):.0f}%" for c in codes)
    out.append(f"<title>{escape(title)}</title>")
    for i, c in enumerate(codes):
        p = max(0.0, min(1.0, float(probs.get(c, 0.0))))
        h = max(1.0, p * height)
        fill = "#333" if answer is not None and c == answer else "#8aa9cc"
        stroke = ' stroke="#c00" stroke-width="2"' if truth is not None and c == truth else ""
        out.append(f'<rect x="{i * width + 1}" y="{height - h:.1f}" width="{width - 2}" height="{h:.1f}" '
                   f'fill="{fill}"{stroke}/>')
        out.append(f'<text x="{i * width + width / 2:.1f}" y="{height + 9}" font-size="7" text-anchor="middle">'
                   f"{escape(str(c))}</text>")
    out.append("</svg>")
    return Markup("".join(out))


def against(codes, real: dict, series: list[dict], real_label: str = "real", labels: dict | None = None,
            width: int = 420, height: int = 160) -> Markup:
    """``real`` as grey bars and each of ``series`` ({name, probs, dashed}) as a line over the codes."""
    codes = list(codes)
    if not codes:
        return Markup("")
    left, bottom, top = 30, 30, 8
    inner_w, inner_h = width - left - 8, height - bottom - top
    step = inner_w / len(codes)
    peak = max([float(v) for v in real.values()] + [float(v) for s in series for v in s["probs"].values()] + [0.05])
    y = lambda p: top + inner_h * (1 - float(p) / peak)  # noqa: E731
    out = [f'<svg class="against" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for frac in (0, 0.5, 1):
        yy = y(peak * frac)
        out.append(f'<line x1="{left}" x2="{width - 8}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 3}" y="{yy + 3:.1f}" font-size="8" text-anchor="end">{peak * frac:.0%}</text>')
    for i, c in enumerate(codes):
        p = float(real.get(c, 0.0))
        x = left + i * step
        out.append(f'<rect x="{x + step * 0.15:.1f}" y="{y(p):.1f}" width="{step * 0.7:.1f}" '
                   f'height="{top + inner_h - y(p):.1f}" fill="#ccc"><title>{escape(real_label)} {escape(str(c))}: '
                   f"{p:.0%}</title></rect>")
        label = clean((labels or {}).get(c, ""))[:14] if labels and len(codes) <= 5 else ""
        out.append(f'<text x="{x + step / 2:.1f}" y="{top + inner_h + 11}" font-size="8" text-anchor="middle">'
                   f"{escape(str(c))}</text>")
        if label:
            out.append(f'<text x="{x + step / 2:.1f}" y="{top + inner_h + 21}" font-size="7" text-anchor="middle">'
                       f"{escape(label)}</text>")
    for k, s in enumerate(series):
        pts = " ".join(f"{left + i * step + step / 2:.1f},{y(s['probs'].get(c, 0.0)):.1f}" for i, c in enumerate(codes))
        dash = ' stroke-dasharray="4 3"' if s.get("dashed") else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{s.get("color") or color(k)}" stroke-width="2"{dash}>'
                   f"<title>{escape(clean(s['name']))}</title></polyline>")
    out.append("</svg>")
    return Markup("".join(out))
