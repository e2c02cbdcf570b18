"""What a run's model requests actually cost, per method, next to what the estimate said.

The actual figures are summed from the predictions' traces (every turn records the usage the
server reported, ``cached_tokens`` from ``prompt_tokens_details.cached_tokens`` included), so
they are per method and stay right across resumed sessions and response-cache hits. A
backstory appears in the trace of every prediction of its person and profile: it is counted
once. The estimate is the one stored in the run directory (``RunDir.write_estimate``) when the run was made.
"""

from __future__ import annotations

from pathlib import Path

from ..runs.rundir import RunDir

from .estimate import Estimate

FIELDS = ("requests", "prompt_tokens", "cached_tokens", "completion_tokens")


def _count(usage: dict) -> dict:
    reads = 1 if any(k.startswith("distribution_") for k in usage) else 0
    n = {k: int(usage.get(k) or 0) + int(usage.get(f"distribution_{k}") or 0) for k in FIELDS[1:]}
    n["requests"] = int(usage.get("requests") or 1) + reads
    return n


def actual_by_method(run_dir: "RunDir | str | Path") -> dict[str, dict]:
    """method -> predictions, and over the ``counted`` (successful) ones: requests, prompt,
    cached and completion tokens summed from their traces."""
    out: dict[str, dict] = {}
    stories: dict[str, set] = {}
    for method, failed, trace in RunDir(run_dir).prediction_traces():
        acc = out.setdefault(method, {"predictions": 0, "counted": 0, **{k: 0 for k in FIELDS}})
        acc["predictions"] += 1
        if failed or not trace:  # a failed prediction's trace may lack the usage of the turn that failed
            continue
        acc["counted"] += 1
        for usage in trace.usages(stories.setdefault(method, set())):
            for k, v in _count(usage).items():
                acc[k] += v
    return out


def load_estimate(run_dir: "RunDir | str | Path") -> Estimate | None:
    data = RunDir(run_dir).estimate_json()
    if data is None:
        return None
    try:
        return Estimate.from_dict(data)
    except (ValueError, TypeError):  # an unreadable estimate is left out of the report
        return None


def _share(cached: float, prompt: float) -> str:
    return f"{cached / prompt:.0%}" if prompt else "–"


def _ratio(actual: float, est: float) -> str:
    return f"{actual / est:.2f}" if est else "–"


def method_usage_rows(run_dir: str | Path) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and caption: per LLM method, estimate vs actual and the cached-token share."""
    actual = {m: a for m, a in actual_by_method(run_dir).items() if a["requests"]}
    est = load_estimate(run_dir)
    by_est = {m.method: m for m in est.methods} if est else {}
    header = ["Method", "Predictions", "Requests est.", "Requests", "Prompt tok. est.", "Prompt tok.",
              "actual/est.", "Cached share est.", "Cached share", "Completion est.", "Completion", "actual/est."]
    rows = []
    for method in sorted(set(actual) | {m for m, e in by_est.items() if e.requests}):
        a = actual.get(method, {"predictions": 0, "counted": 0, **{k: 0 for k in FIELDS}})
        e = by_est.get(method)
        scale = (a["counted"] / e.predictions) if e and e.predictions else 0.0
        es = {k: getattr(e, k) * scale for k in FIELDS} if e else None
        rows.append([method, f"{a['counted']:,} of {a['predictions']:,}",
                     f"{es['requests']:,.0f}" if es else "–", f"{a['requests']:,}",
                     f"{es['prompt_tokens']:,.0f}" if es else "–", f"{a['prompt_tokens']:,}",
                     _ratio(a["prompt_tokens"], es["prompt_tokens"]) if es else "–",
                     _share(es["cached_tokens"], es["prompt_tokens"]) if es else "–",
                     _share(a["cached_tokens"], a["prompt_tokens"]),
                     f"{es['completion_tokens']:,.0f}" if es else "–", f"{a['completion_tokens']:,}",
                     _ratio(a["completion_tokens"], es["completion_tokens"]) if es else "–"])
    caption = ("Predictions: successful of stored. Actual: summed from the successful predictions' traces (what the "
               "server reported, response-cache hits included, each backstory once); cached share = prompt tokens the server served from its prefix "
               "cache. ")
    caption += (f"Estimate: made before the run ({est.tokenizer}), scaled to the successful predictions."
                if est else "No estimate stored for this run.")
    return header, rows, caption


def method_usage_tables(run_dir: str | Path) -> list:
    """The report's table (empty list when no LLM method ran)."""
    from ..runs.render import Table

    header, rows, caption = method_usage_rows(run_dir)
    return [Table("LLM usage per method: estimate and actual", header, rows, caption)] if rows else []


def summary_lines(run_dir: str | Path) -> str:
    """For the run summary: each LLM method's tokens and the share the prefix cache served."""
    lines = []
    for method, a in sorted(actual_by_method(run_dir).items()):
        if a["requests"]:
            lines.append(f"  {method}: {a['requests']:,} requests, {a['prompt_tokens']:,} prompt tokens "
                         f"({_share(a['cached_tokens'], a['prompt_tokens'])} served from the prefix cache), "
                         f"{a['completion_tokens']:,} completion")
    return ("LLM usage per method (successful predictions, all sessions):\n" + "\n".join(lines)) if lines else ""
