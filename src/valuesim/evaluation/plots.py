"""The report's charts as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

COLORS = plt.get_cmap("tab10").colors


from ..runs.render import png as _png  # noqa: E402


def radar(values: pd.DataFrame, categories: list[str], title: str, chance: pd.Series | None = None) -> bytes:
    """Accuracy by category, one closed line per method (rows: methods, columns: categories)."""
    angles = np.linspace(0, 2 * np.pi, len(categories), endpoint=False).tolist()
    angles += angles[:1]
    fig = plt.figure(figsize=(6.4, 6.0))
    ax = fig.add_subplot(111, polar=True)
    top = 0.0
    for i, (method, row) in enumerate(values.iterrows()):
        vals = [float(row.get(c, np.nan)) for c in categories]
        vals = [0.0 if np.isnan(v) else v for v in vals]
        top = max(top, *vals)
        ax.plot(angles, vals + vals[:1], color=COLORS[i % 10], linewidth=2, label=str(method))
        ax.fill(angles, vals + vals[:1], color=COLORS[i % 10], alpha=0.08)
    if chance is not None:
        vals = [float(chance.get(c, np.nan)) for c in categories]
        vals = [0.0 if np.isnan(v) else v for v in vals]
        ax.plot(angles, vals + vals[:1], color="grey", linestyle="--", linewidth=1.3, label="uniform guess (chance)")
    ax.set_xticks(angles[:-1])
    ax.set_xticklabels(categories, fontsize=10)
    ax.set_ylim(0, min(1.0, max(0.1, top * 1.1)))
    ax.set_title(title, fontsize=11, pad=18)
    ax.legend(loc="upper right", bbox_to_anchor=(1.35, 1.1), fontsize=8)
    return _png(fig)


def profile_curve(curve: pd.DataFrame, title: str) -> bytes:
    """Accuracy and normalized MAE against profile size; columns method, size, accuracy, nmae."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for i, (method, g) in enumerate(curve.groupby("method", sort=False)):
        g = g.sort_values("size")
        for ax, metric in zip(axes, ("accuracy", "nmae")):
            ax.plot(g["size"], g[metric], marker="o", color=COLORS[i % 10], label=str(method))
    axes[0].set_ylabel("top-1 accuracy (higher is better)")
    axes[1].set_ylabel("normalized MAE (lower is better)")
    for ax in axes:
        ax.set_xlabel("profile items shown")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=min(5, max(1, len(labels))), fontsize=9, frameon=False)
    return _png(fig)


def bars_with_ci(table: pd.DataFrame, metric_label: str, title: str) -> bytes:
    """Overall score per method with its 95% CI; columns method, mean, ci_low, ci_high."""
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(2, len(table))))
    y = np.arange(len(table))
    err = np.vstack([table["mean"] - table["ci_low"], table["ci_high"] - table["mean"]])
    ax.barh(y, table["mean"], xerr=err, color=[COLORS[i % 10] for i in range(len(table))], capsize=3)
    ax.set_yticks(y)
    ax.set_yticklabels([str(m) for m in table["method"]])
    ax.invert_yaxis()
    ax.set_xlabel(metric_label)
    ax.set_title(title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def country_points(table: pd.DataFrame, names: dict[str, str], title: str) -> bytes:
    """Accuracy per country with its 95% CI, one marker per method (columns method, country,
    mean, ci_low, ci_high); countries by name, sorted by their mean over methods."""
    order = table.groupby("country")["mean"].mean().sort_values().index.tolist()
    methods = list(dict.fromkeys(table["method"]))
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.28 * len(order) * max(1, len(methods)) ** 0.5))
    pos = {c: i for i, c in enumerate(order)}
    step = 0.7 / max(1, len(methods))
    for i, m in enumerate(methods):
        g = table[table["method"] == m]
        y = np.array([pos[c] for c in g["country"]]) - 0.35 + step * (i + 0.5)
        lo = (g["mean"] - g["ci_low"]).fillna(0).clip(lower=0)
        hi = (g["ci_high"] - g["mean"]).fillna(0).clip(lower=0)
        ax.errorbar(g["mean"], y, xerr=np.vstack([lo, hi]), fmt="o", color=COLORS[i % 10], capsize=2,
                    markersize=4, label=str(m))
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([names.get(c, c) for c in order], fontsize=8)
    ax.set_xlabel("top-1 accuracy (95% bootstrap CI over the country's users)")
    ax.set_title(title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _png(fig)
