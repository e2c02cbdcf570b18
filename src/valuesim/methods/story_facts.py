"""Which survey facts does a story state? Finds sentences that contradict the profile or invent.

A model retelling a profile can keep the length and the "you" of a good story and still change
it: turn "politics is not very important" into "not at all", or add a fact the person never
gave ("You attend religious services once a week", copied from a prompt example or made up).
Both are checked here against the question bank's own statements (``Question.statement``):

* an item's **topic** is what all its options' statements share ("Politics ... important ...
  life"); a sentence **mentions** an item when it holds most of the topic's weight (words rare
  in the bank weigh more, so "politics" counts more than "important");
* an option's **forms** are what its statement (and its label) adds to the topic ("not at
  all", "once a week", the scale point "7"); a form is **stated** when all its words are in the
  sentence (a word the topic itself holds, e.g. a scale's "10", must occur once more);
  a form inside a longer stated form ("very" in "not very") does not count.

A sentence that mentions a profile item and states only options other than the person's
answer **contradicts** it. A sentence that mentions no profile item but clearly mentions a bank
item the profile does not hold, and states one of its options, **invents** it. Words are
compared by their first five letters ("justifiable" ~ "justified"). The matching is
deliberately conservative: when in doubt (a paraphrase, several options in one sentence) it
says nothing, so the statements story itself never fails; the fidelity audit judges the rest.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ..survey.model import Codebook, Profile, Question

MENTION_SHARE = 0.4  # share of an item's topic weight a sentence must hold to mention it
INVENT_SHARE = 0.4  # ... to count as stating an absent item
TOP_SHARE = 0.8  # items mentioned almost as strongly as the best one are all checked
SHARE_MARGIN = 0.1  # ... and almost as fully
RARE_MARGIN = 0.5  # a mention holds a topic word (nearly) as rare in the bank as the topic's rarest
_STOP = frozenset("""a an the and or but of to in on at by for from with as is are was were be been that this
these those it its you your yours yourself there their they them what which who how when where whether than then
about into over would could should do does did have has had i me my""".split())
_BARE_LABELS = frozenset({"yes", "no", "not", "menti", "other", "don", "know", "none"})
_TOKEN = re.compile(r"[a-z]+|\d+")
_NEGATION = frozenset({"not", "never", "no", "nor", "neith"})


def tokens(text: str, stem: bool = True) -> list[str]:
    """Lower-case words cut to five letters (``stem``), numbers whole; "n't" becomes "not"."""
    text = text.lower().replace("n't", " not").replace("cannot", "can not")
    return [w if w.isdigit() or not stem else w[:5] for w in _TOKEN.findall(text)]


def clauses(text: str) -> list[str]:
    """Sentences of ``text``, split again where a clause joins another (";", ", and", ", while",
    ", whereas"; not inside quotes, not ", but": "You have not signed a petition, but you might
    do it" is one answer): "Family is very important to you, and politics is not" states two
    items, each in its own clause."""
    kept = re.sub(r'"[^"]*"', lambda m: m.group(0).replace(",", "\x00").replace(";", "\x01"), text)
    parts = re.split(r"(?<=[.!?])\s+|;\s*|,\s+(?:and|while|whereas)\s+|\n+", kept)
    return [p.replace("\x00", ",").replace("\x01", ";").strip() for p in parts if p and p.strip()]


@dataclass(frozen=True)
class ItemFacts:
    """One question's topic and the forms of each of its options."""

    question: Question
    topic: Counter  # tokens every option's statement holds (with their least count)
    key: frozenset  # the topic's content words (what a mention is judged by)
    forms: dict  # option code -> tuple of forms (each a Counter of tokens beyond the topic)
    stem: bool = True  # False: whole words (items without topic words: "unemployed" is not "unemployment")

    @property
    def id(self) -> str:
        return self.question.id

    def stated(self, clause: "Clause") -> set[int]:
        """Options whose forms the clause states, innermost forms dropped."""
        counts = clause.stems if self.stem else clause.words
        negated = _negated(counts, self)  # "You have not signed a petition" does not state "have signed"
        hits: list[tuple[int, Counter]] = []
        for code, forms in self.forms.items():
            for form in forms:
                if form and all(counts[t] >= self.topic[t] + n for t, n in form.items()) and (
                        not negated or form.keys() & _NEGATION):
                    hits.append((code, form))
        kept = {code for code, form in hits
                if not any(other != form and _within(form, other) for _, other in hits)}
        return kept


def _content(token: str) -> bool:
    return token.isalpha() and token not in _STOP and len(token) > 2


def _strip(form: Counter) -> Counter:
    """A form without its small words ("a", "at", "you"), unless nothing else is left."""
    kept = Counter({t: n for t, n in form.items() if t not in _STOP})
    return kept or form


def _within(small: Counter, big: Counter) -> bool:
    return all(big[t] >= n for t, n in small.items())


@dataclass(frozen=True)
class Clause:
    text: str
    stems: Counter
    words: Counter

    @classmethod
    def of(cls, text: str) -> "Clause":
        return cls(text, Counter(tokens(text)), Counter(tokens(text, stem=False)))


@lru_cache(maxsize=4096)
def item_facts(question: Question, stem: bool = True) -> ItemFacts | None:
    """The item's topic and option forms (None: no options, or one option only)."""
    if len(question.options) < 2:
        return None
    statements = {o.code: Counter(tokens(question.statement(o.code), stem)) for o in question.options}
    topic = None
    for counts in statements.values():
        topic = counts.copy() if topic is None else topic & counts
    topic = topic or Counter()
    labels = {o.code: Counter(tokens(o.label, stem)) for o in question.options}
    shared_label = None
    for counts in labels.values():
        shared_label = counts.copy() if shared_label is None else shared_label & counts
    forms = {}
    for code, counts in statements.items():
        own = [counts - topic]
        label = labels[code] - (shared_label or Counter())
        if any(_content(t) and t not in _BARE_LABELS for t in label):
            own.append(label)
        forms[code] = tuple(_strip(f) for f in own if f)
    key = frozenset(t for t in topic if _content(t))
    if not key and stem:
        return item_facts(question, stem=False)
    return ItemFacts(question, topic, key, forms, stem)


class FactIndex:
    """The bank's items (and a profile's own questions) for finding the facts a text states."""

    def __init__(self, questions):
        self._set({f.id: f for f in map(item_facts, questions) if f is not None})

    def _set(self, items: dict[str, ItemFacts]) -> None:
        # items whose statements share no content word ("You are married" / "You are single")
        # are mentioned by stating one of their options' content words
        self.items = {qid: f for qid, f in items.items() if f.key}
        self.keyless = {qid: f for qid, f in items.items()
                        if not f.key and all(any(_content(t) for t in form) for forms in f.forms.values()
                                             for form in forms)}
        df = Counter(t for f in self.items.values() for t in f.key)
        n = len(self.items) or 1
        self.weight = {t: math.log((n + 1) / c) + 0.1 for t, c in df.items()}

    def with_questions(self, questions) -> "FactIndex":
        """This index with ``questions`` added or replacing the bank's items of the same id."""
        extra = {f.id: f for f in map(item_facts, questions) if f is not None}
        if all(self.items.get(qid, self.keyless.get(qid)) == f for qid, f in extra.items()):
            return self
        out = FactIndex.__new__(FactIndex)
        out._set({**self.items, **self.keyless, **extra})
        return out

    def mentions(self, clause: Clause) -> dict[str, float]:
        """item id -> share of its topic weight found in the clause (1.0 for an item without
        topic words whose option the clause states)."""
        counts = clause.stems
        out = {}
        for qid, facts in self.items.items():
            weights = [self.weight[t] for t in facts.key]
            total = sum(weights)
            got = [self.weight[t] for t in facts.key if counts[t]]
            # the share of the topic, and one of its rarest words ("God", not only "important")
            if total and got and sum(got) / total >= MENTION_SHARE and max(got) >= max(weights) - RARE_MARGIN:
                out[qid] = sum(got) / total
        for qid, facts in self.keyless.items():
            if facts.stated(clause):
                out[qid] = 1.0
        return out

    def facts(self, qid: str) -> ItemFacts:
        return self.items.get(qid) or self.keyless[qid]


@dataclass(frozen=True)
class Finding:
    kind: str  # "contradicts" | "invents"
    question: Question
    sentence: str
    stated: tuple[int, ...]  # option codes the sentence states
    answer: int | None  # the person's answer (None: an item the profile does not hold)

    @property
    def item(self) -> str:
        return self.question.id

    def __str__(self) -> str:
        said = " / ".join(repr(self.question.label(c)) for c in self.stated)
        quote = self.sentence if len(self.sentence) <= 90 else self.sentence[:87] + "..."
        if self.kind == "contradicts":
            return f"{quote!r} states {self.item} {said}, the answer was {self.question.label(self.answer)!r}"
        return f"{quote!r} states {self.item} {said}, which this profile does not hold"


def _leaders(index: FactIndex, mentioned: dict[str, float], words: set[str]) -> list[str]:
    """The items a clause is about: those mentioned (nearly) as fully as the best one and with
    (nearly) as much weight; items without topic words only when no other item is mentioned
    ("Your spouse is unemployed" is about the spouse's job, not yours)."""
    keyed = {q: s for q, s in mentioned.items() if q in index.items}
    if not keyed:
        return list(mentioned)
    top = max(keyed.values())
    near = {q: s for q, s in keyed.items() if s >= top - SHARE_MARGIN}
    # "Your mother's highest education" holds all of "your highest education" and more: the mother's
    covered = {q: index.items[q].key & words for q in near}
    near = {q: s for q, s in near.items() if not any(covered[q] < covered[o] for o in near)}
    score = {q: s * sum(index.weight[t] for t in index.items[q].key) for q, s in near.items()}
    best = max(score.values())
    return [q for q in near if score[q] >= TOP_SHARE * best]


def find_facts(text: str, profile: Profile, index: FactIndex) -> list[Finding]:
    """Sentences of ``text`` that state another option of a profile item than the person's
    answer ("contradicts"), or an option of a bank item the profile does not hold ("invents")."""
    answers = {q.id: int(c) for q, c in profile.items}
    index = index.with_questions([q for q, _ in profile.items])
    found: list[Finding] = []
    for sentence in clauses(text):
        clause = Clause.of(sentence)
        counts = clause.stems
        mentioned = index.mentions(clause)
        if not mentioned:
            continue
        leaders = _leaders(index, mentioned, set(counts))
        own = [q for q in leaders if q in answers]
        for qid in own:
            stated = index.facts(qid).stated(clause)
            if not stated and not _negated(counts, index.facts(qid)):
                stated = _default(index.facts(qid))
            if stated and answers[qid] not in stated:
                found.append(Finding("contradicts", index.facts(qid).question, sentence, tuple(sorted(stated)),
                                     answers[qid]))
        for qid in ([] if own else leaders):
            share = mentioned[qid]
            if share < INVENT_SHARE:
                continue
            stated = index.facts(qid).stated(clause)
            if not stated and share >= 1.0 and not _negated(counts, index.facts(qid)):
                stated = _default(index.facts(qid))  # "You believe in God." with no God item
            if stated:
                found.append(Finding("invents", index.facts(qid).question, sentence, tuple(sorted(stated)), None))
                break
    return found


def _negated(counts: Counter, facts: ItemFacts) -> bool:
    """Whether the clause says "not"/"never"/"no" more often than the item's topic does."""
    return sum(counts[t] for t in _NEGATION) > sum(facts.topic[t] for t in _NEGATION)


def _default(facts: ItemFacts) -> set[int]:
    """The option stated by a sentence that adds nothing to the topic (and says no "not"):
    the one option whose statement is the bare topic ("You believe in God.")."""
    bare = [code for code, forms in facts.forms.items() if not forms]
    return set(bare) if len(bare) == 1 else set()


_INDEXES: dict[int, tuple[Codebook, FactIndex]] = {}


def codebook_index(codebook: Codebook) -> FactIndex:
    """The index of a codebook's items (built once per codebook: a study's people share it)."""
    hit = _INDEXES.get(id(codebook))
    if hit is None or hit[0] is not codebook:
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        hit = _INDEXES[id(codebook)] = (codebook, FactIndex(list(codebook)))
    return hit[1]


def index_for(profile: Profile) -> FactIndex:
    """The index of the profile's codebook (a story may state any of its items) when the profile
    says which it is and its questions are that codebook's, else an index of the profile's own
    questions only (items it does not know of cannot be 'invented')."""
    if profile.codebook is not None:
        book = codebook_index(profile.codebook)
        if all(book.items.get(q.id, book.keyless.get(q.id)) in (None, item_facts(q)) for q, _ in profile.items) and all(
                q.id in book.items or q.id in book.keyless or item_facts(q) is None for q, _ in profile.items):
            return book
    return FactIndex([q for q, _ in profile.items])
