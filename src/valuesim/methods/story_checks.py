"""Is a backstory a backstory? Checks run on every story (or story part) before it is used.

A small model asked for a backstory may answer with a refusal ("I'm sorry, but I cannot ..."),
repeat the prompt, write about itself in the first person, loop one sentence until the length
limit, or stop after two lines; or it may write a fluent story that changes an answer or adds a
survey fact the person never gave (story_facts). Each check returns a ``Problem`` (kind + a human-readable
detail); a story with any problem is retried and, if it stays invalid, recorded as the person's
story failure. The checks are plain text heuristics: cheap, deterministic, and strict only
about things that are never part of a good second-person backstory.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..survey.model import Profile
from .story_facts import FactIndex, find_facts, index_for

KINDS = ("empty", "refusal", "echo", "wrong_person", "loop", "cut_off", "too_short", "omits", "contradicts",
         "invents")

MIN_WORDS = 12  # fewer words than this is no story at all (5 per item for a one- or two-fact part)
MIN_WORDS_PER_ITEM = 2.5  # a story (part) shorter than this per profile item left most items out
MIN_SOURCE_SHARE = 0.3  # ... or shorter than this share of the items' statements
FIRST_PERSON_SHARE = 0.3  # first-person pronouns / (first + second): above this, the wrong person
REPEATED_SENTENCE_SHARE = 0.25  # share of sentences that repeat an earlier one
DISTINCT_NGRAM_SHARE = 0.5  # distinct word 6-grams / all 6-grams: below this, a loop
NGRAM = 6
OMITTED_FACT_SHARE = 0.25  # with keep_facts: more than this share of its facts missing (and at least
# two, unless the part has one fact), and the story omits; one lost fact is the fidelity audit's to judge
FACT_WORDS_FOUND = 0.5  # a fact is found when this share of its distinctive words is in the story
_STOP = frozenset("""a an the and or but of to in on at by for from with as is are was were be been that this
these those it its you your yours yourself there their they them what which who how when where whether than then
about into over under would could should do does did have has had whole asked answer answered""".split())

_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i apologi[sz]e|my apologies|i (?:can ?not|can't|cannot|am unable to|'m unable to|"
    r"won't be able to) (?:provide|write|create|generate|help|complete|craft|fulfil)|as an ai\b|"
    r"as a language model|(?:information|data) (?:provided |given )?is (?:too limited|insufficient|not enough)|"
    r"not enough information|i(?:'d| would) rather not|i(?:'d| would)? prefer not to)",
    re.IGNORECASE,
)
# phrases of the story prompts that never belong in a story (the small prompt's example facts
# are about a colour and tea, which no survey item asks: copied into a story, they are caught here)
_ECHO = re.compile(
    r"(writer of (?:background|back) ?stor|background story writer|rules you must follow|every single data point|"
    r"information about (?:this|one) person|data points?\b|leave nothing out|nothing has been left out|"
    r"^\s*(?:Q\d+[A-Z]?:|Answer:)|\bthe facts below\b|example paragraph|\bfavou?rite colou?r\b|\bdrink(?:ing)? tea\b|imaginary person)",
    re.IGNORECASE | re.MULTILINE,
)
_FIRST = re.compile(r"\b(i|me|my|mine|myself|i'm|i've|i'd|i'll)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(you|your|yours|yourself|you're|you've|you'd|you'll)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class Problem:
    kind: str  # one of KINDS
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [re.sub(r"\s+", " ", p).strip().lower() for p in parts if p.strip()]


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def check_story(text: str, n_items: int, *, finish_reason: str = "", prompt: str = "",
                source: str = "", keep_facts: bool = False, profile: Profile | None = None,
                index: FactIndex | None = None) -> list[Problem]:
    """Every problem found in ``text``, a story (or story part) written from ``n_items`` profile
    items. ``finish_reason`` "length" means the model was stopped at its token limit; ``prompt``
    (the rules part, without the profile) is used to spot a story that repeats its instructions;
    ``source`` (the items as second-person statements, their shortest faithful form) sets how
    short is too short. ``keep_facts`` (the small-model prompt, which asks for every fact with
    its value): a story that leaves out more than a quarter of ``source``'s facts (at least two;
    the only one of a one-fact part) "omits". ``profile`` (the person's whole profile): a
    sentence stating another option of one of its items than the answer "contradicts", one
    stating an option of a bank item (``index``, default the default codebook's when the profile
    is drawn from it) that the profile does not hold "invents" (story_facts)."""
    text = text or ""
    words = _words(text)
    source_words = len(_words(source))
    if len(words) < (min(MIN_WORDS, max(3, 0.6 * source_words)) if source else MIN_WORDS):
        return [Problem("empty", f"{len(words)} words")]
    problems: list[Problem] = []
    head = text[:400]
    refusal = _REFUSAL.search(head)
    if refusal:
        problems.append(Problem("refusal", f"says {refusal.group(0)!r}"))
    echo = _ECHO.search(text) or _prompt_overlap(text, prompt)
    if echo:
        shown = echo if isinstance(echo, str) else echo.group(0).strip()
        problems.append(Problem("echo", f"repeats the prompt ({shown!r})"))
    first, second = len(_FIRST.findall(text)), len(_SECOND.findall(text))
    if first >= 3 and first / (first + second) > FIRST_PERSON_SHARE:
        problems.append(Problem("wrong_person", f"first person ({first} I/me/my against {second} you/your)"))
    elif second == 0:
        problems.append(Problem("wrong_person", "never addresses the person as 'you'"))
    loop = _loop(text, words, _words(source))
    if loop:
        problems.append(Problem("loop", loop))
    if finish_reason == "length":
        problems.append(Problem("cut_off", "stopped at the length limit"))
    floor = MIN_SOURCE_SHARE * source_words if source else MIN_WORDS_PER_ITEM * n_items
    if len(words) < floor:
        problems.append(Problem("too_short", f"{len(words)} words for {n_items} profile items "
                                             f"(at least {floor:.0f} expected)"))
    if keep_facts and source:
        facts = fact_lines(source)
        missing = missing_facts(text, facts)
        allowed = max(1 if len(facts) > 1 else 0, int(OMITTED_FACT_SHARE * len(facts)))
        if len(missing) > allowed:
            problems.append(Problem("omits", f"{len(missing)} of {len(facts)} facts not found "
                                             f"(e.g. {missing[0][:70]!r})"))
    if profile is not None:
        findings = find_facts(text, profile, index or index_for(profile))
        for kind in ("contradicts", "invents"):
            mine = [f for f in findings if f.kind == kind]
            if mine:
                more = f" (and {len(mine) - 1} more)" if len(mine) > 1 else ""
                problems.append(Problem(kind, f"{mine[0]}{more}"))
    return problems


def _stem(word: str) -> str:
    return word[:5]


def fact_lines(source: str) -> list[str]:
    """The facts of ``source``, one statement per line."""
    return [f.strip() for f in source.splitlines() if f.strip()]


def missing_facts(text: str, facts: list[str]) -> list[str]:
    """The ``facts`` whose distinctive words are mostly absent from ``text``.

    A fact's distinctive words are its content words and numbers that no other fact of the same
    part has (so shared scale wording says nothing), compared by their first five letters
    ("justifiable" ~ "justified"). A retelling that keeps the fact keeps most of them ("divorce",
    "6"); a story that swaps the facts for invented traits does not."""
    tokens = [{_stem(w) for w in _words(f) if w not in _STOP and (len(w) > 2 or w.isdigit())} for f in facts]
    shared = Counter(t for own in tokens for t in own)  # in how many facts each word occurs
    found = {_stem(w) for w in _words(text)}
    missing = []
    for fact, own in zip(facts, tokens):
        distinctive = {t for t in own if shared[t] == 1} or own
        if distinctive and len(distinctive & found) / len(distinctive) < FACT_WORDS_FOUND:
            missing.append(fact)
    return missing


def _loop(text: str, words: list[str], source: list[str] = ()) -> str:
    """A story that repeats itself: many repeated sentences, or few distinct word 6-grams (a
    6-gram repeated as often in ``source``, the statements, is their wording, not a loop: "You
    did not choose ... as one of the especially important qualities" for each quality)."""
    sents = sentences(text)
    if len(sents) >= 4:
        repeated = len(sents) - len(set(sents))
        if repeated / len(sents) > REPEATED_SENTENCE_SHARE:
            top, count = Counter(sents).most_common(1)[0]
            return f"{repeated} of {len(sents)} sentences repeat (e.g. {count}x {top[:60]!r})"
    grams = [tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)]
    if len(grams) >= 40:
        counts = Counter(grams)
        given = Counter(tuple(source[i:i + NGRAM]) for i in range(len(source) - NGRAM + 1))
        repeats = sum(max(0, n - max(1, given[g])) for g, n in counts.items())
        distinct = 1 - repeats / len(grams)
        if distinct < DISTINCT_NGRAM_SHARE:
            return f"only {distinct:.0%} of its {NGRAM}-word sequences are distinct"
    return ""


def _prompt_overlap(text: str, prompt: str, n: int = 8, share: float = 0.2) -> str:
    """A story whose word 8-grams are largely copied from its instructions."""
    if not prompt:
        return ""
    story = _words(text)
    grams = {tuple(story[i:i + n]) for i in range(len(story) - n + 1)}
    if not grams:
        return ""
    rules = _words(prompt)
    source = {tuple(rules[i:i + n]) for i in range(len(rules) - n + 1)}
    copied = grams & source
    if len(copied) / len(grams) > share:
        return " ".join(next(iter(copied)))
    return ""


def describe(problems: list[Problem]) -> str:
    return "; ".join(str(p) for p in problems)
