"""A profile cut into the parts a backstory is written from: by the survey's categories, a long
category split to fit a token budget or a number of facts, and the no-model statements story."""

from __future__ import annotations

from ..survey.model import Profile
from .prompting import count_tokens


def by_category(profile: Profile) -> list[tuple[str, list]]:
    """The profile's items grouped by their survey's categories (WVS-7: the paper's nine), in the
    order the profile first meets them (the codebook's order); items without one come last."""
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for q, code in profile.items:
        key = q.category or "Other"
        groups.setdefault(key, []).append((q, code))
        names.setdefault(key, q.category_name or q.category or "other information")
    order = [c for c in groups if c != "Other"] + (["Other"] if "Other" in groups else [])
    return [(names[c], groups[c]) for c in order]


def _split(title: str, parts: list[list]) -> list[tuple[str, Profile]]:
    return [(title if len(parts) == 1 else f"{title} (part {i + 1} of {len(parts)})", Profile(tuple(p)))
            for i, p in enumerate(parts) if p]


def theme_chunks(profile: Profile, budget_tokens: int, model) -> list[tuple[str, Profile]]:
    """The profile split by category, a category still too long for ``budget_tokens`` (as a
    Q/options/answer list) split into consecutive parts."""
    chunks: list[tuple[str, Profile]] = []
    for title, items in by_category(profile):
        parts: list[list] = [[]]
        for item in items:
            if parts[-1] and count_tokens(model, Profile(tuple(parts[-1] + [item])).as_qa_list()) > budget_tokens:
                parts.append([item])
            else:
                parts[-1].append(item)
        chunks += _split(title, parts)
    return chunks


def small_chunks(profile: Profile, part_items: int) -> list[tuple[str, Profile]]:
    """Parts of at most ``part_items`` facts in category order: a long category split evenly,
    short neighbouring categories packed together (fewer calls, each still one or two themes)."""
    pieces: list[tuple[str, list]] = []
    for title, items in by_category(profile):
        n = -(-len(items) // max(1, part_items))
        size = -(-len(items) // n)
        pieces += [(title, items[i:i + size]) for i in range(0, len(items), size)]
    chunks: list[tuple[list[str], list]] = []
    for title, items in pieces:
        if chunks and len(chunks[-1][1]) + len(items) <= part_items and len(chunks[-1][0]) < 3:
            chunks[-1][0].append(title)
            chunks[-1][1].extend(items)
        else:
            chunks.append(([title], list(items)))
    return [("; ".join(dict.fromkeys(titles)), Profile(tuple(items))) for titles, items in chunks]


def statements_story(profile: Profile) -> tuple[str, list[dict]]:
    """The profile's second-person statements, one paragraph per category: no model call."""
    paragraphs, parts = [], []
    for title, items in by_category(profile):
        paragraphs.append(" ".join(q.statement(code) for q, code in items))
        parts.append({"theme": title, "items": len(items)})
    return "\n\n".join(paragraphs), parts
