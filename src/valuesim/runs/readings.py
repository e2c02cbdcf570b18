"""How the LLM answers of a run were read, per method: from the reply, after a pre-filled
"Answer: " (``prefilled-fallback``: the reply named no option, also when asked again), and how
many turns reason towards another option than the one they answer (methods.consistency).
The eval and the population report show it; ``reading_counts`` is the same as a DataFrame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .render import Table
from .rundir import RunDir

FALLBACK = "prefilled-fallback"


def reading_counts(run: "RunDir | str | Path") -> pd.DataFrame:
    """One row per LLM method: turns, re-read after a pre-filled "Answer: ", contradicted."""
    turns = (run if isinstance(run, RunDir) else RunDir(run)).traces()
    columns = ["method", "turns", "prefilled fallback", "contradicted"]
    if turns.empty:
        return pd.DataFrame(columns=columns)
    grouped = turns.groupby("method", sort=False)
    return pd.DataFrame({
        "method": list(grouped.groups),
        "turns": grouped.size().to_numpy(),
        "prefilled fallback": grouped["distribution_request"].apply(lambda s: int((s == FALLBACK).sum())).to_numpy(),
        "contradicted": grouped["contradiction"].apply(lambda s: int((s != "").sum())).to_numpy(),
    })[columns]


def reading_table(run: "RunDir | str | Path") -> Table | None:
    """The report's "How answers were read" table, or None without LLM turns."""
    counts = reading_counts(run)
    if counts.empty:
        return None
    rows = [[r["method"], str(r["turns"]), str(r["prefilled fallback"]), str(r["contradicted"])]
            for r in counts.to_dict("records")]
    caption = ("Answering turns per method (modules, coordinator, baselines' single turn). Prefilled fallback: the "
               "reply named no option, also when asked again, and the engine was asked to continue a pre-filled "
               "\"Answer: \" (answer and distribution read there). Contradicted: the turn's analysis names one "
               "option and its answer is another (the answer stands; the trace says which).")
    return Table("How answers were read", ["method", "turns", "prefilled fallback", "contradicted"], rows, caption)
