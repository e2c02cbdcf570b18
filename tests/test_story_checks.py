"""Backstory validation, retry/failure, the fidelity gate and the statements story (scripted model)."""

from __future__ import annotations

import re

import pytest

from valuesim.llm import ScriptedModel, get_model
from valuesim.methods.base import PersonContext
from valuesim.methods.story import StoryFailure, StoryWriter, statements_story
from valuesim.methods.story_checks import check_story
from valuesim.methods.valuesim import ValueSim
from valuesim.survey.model import Profile
from valuesim.survey.wvs7.bank import load_codebook

BOOK = load_codebook()
ITEMS = tuple((BOOK[q], c) for q, c in (("Q1", 1), ("Q2", 2), ("Q3", 3), ("Q46", 2), ("Q49", 8), ("Q57", 2),
                                         ("Q164", 9), ("Q171", 3), ("Q199", 2), ("Q260", 2)))
PERSON = PersonContext("p1", "DEU", Profile(ITEMS, BOOK))
TRUTH = {q.id: c for q, c in ITEMS}
GOOD = " ".join(q.statement(c) for q, c in ITEMS) + " You grew up in a quiet street, and you still like long walks."

BAD = {
    "empty": "",
    "refusal": ("I'm sorry, but I cannot provide a complete backstory for the person based on the information "
                "given. The information provided is too limited to write a full story about you."),
    "wrong_person": ("I am a 35-year-old man who was born in New York City. My family is very important in my life "
                     "and I see my friends often. I am quite happy, and I go to church on holidays. My parents had "
                     "always been farmers, and I believe that hard work pays off in the end for me."),
    "loop": "You are not at all happy. " * 30,
    "echo": ("You are a writer of background stories. Using the information about one person given below, you "
             "write a complete backstory. RULES YOU MUST FOLLOW: every single data point must appear."),
}


def is_story(messages) -> bool:
    text = messages[-1]["content"]
    return "writer of background stories" in text or "You turn facts about one person" in text


def audit_reply(messages, wrong: bool = False) -> str:
    qid = re.search(r"Question:\n(Q\d+)", messages[-1]["content"]).group(1)
    q = BOOK[qid]
    code = TRUTH[qid] if not wrong else next(c for c in q.codes if c != TRUTH[qid])
    return f"Answer: {code}"


def model_with(story_replies, wrong_audit: bool = False) -> ScriptedModel:
    """Story calls get ``story_replies`` (by sample index), audits answer truthfully (or not)."""

    def reply(messages):
        if "Using ONLY what the backstory says" in messages[-1]["content"]:
            return audit_reply(messages, wrong_audit)
        return "Answer: 1\nAnalysis: a module."

    return ScriptedModel([(is_story, story_replies)], default=reply)


def test_a_polite_refusal_is_a_refusal():
    reply = ("I'd rather not write about this person, as the details are private and I prefer not to guess "
             "about your life at all.")
    assert "refusal" in {p.kind for p in check_story(reply, 2, source=PERSON.profile.as_statements())}
    assert check_story("I would rather not say.", 2, source=PERSON.profile.as_statements())  # (too short: 'empty')


def test_a_profile_from_another_survey_is_checked_against_its_own_questions():
    from valuesim.methods.story_facts import codebook_index, index_for
    from valuesim.survey.model import Option, Question

    q = Question("X1", "How often do you cycle?", BOOK["Q171"].kind,
                 options=(Option(1, "Daily", "You cycle every day."), Option(2, "Never", "You never cycle.")))
    own = Profile(((q, 2),))
    assert index_for(PERSON.profile) is codebook_index(BOOK) and index_for(own) is not codebook_index(BOOK)
    problems = check_story("You cycle every day. You attend religious services once a week.", 1,
                           source="You never cycle.", profile=own)
    assert [p.kind for p in problems] == ["contradicts"]  # no WVS item is 'invented' for another survey


@pytest.mark.parametrize("kind", sorted(BAD))
def test_each_invalid_kind_is_detected(kind):
    problems = check_story(BAD[kind], len(ITEMS), source=PERSON.profile.as_statements(),
                           prompt="You are a writer of background stories. RULES YOU MUST FOLLOW: every single data point")
    assert kind in {p.kind for p in problems}, problems


def test_cut_off_and_too_short_are_detected():
    src = PERSON.profile.as_statements()
    assert [p.kind for p in check_story(GOOD, len(ITEMS), finish_reason="length", source=src)] == ["cut_off"]
    short = "You are female and family is very important in your life, and you are quite happy."
    assert "too_short" in {p.kind for p in check_story(short, len(ITEMS), source=src)}


def test_a_good_story_and_the_statements_story_pass():
    src = PERSON.profile.as_statements()
    assert check_story(GOOD, len(ITEMS), finish_reason="stop", source=src) == []
    text, _ = statements_story(PERSON.profile)
    assert check_story(text, len(ITEMS), source=src) == []


@pytest.mark.parametrize("kind", sorted(BAD))
def test_invalid_story_is_retried_with_another_sample(kind):
    model = model_with([BAD[kind], GOOD])
    story = StoryWriter(model, prompt="paper").backstory(PERSON)
    assert story.text == GOOD and story.retries == 1 and story.status == "valid"
    calls = [c for c in model.calls if c.kind == "complete" and is_story(c.messages)]
    assert [c.params["sample_index"] for c in calls] == [0, 1]
    assert calls[0].params["temperature"] == 0.0 and calls[1].params["temperature"] > 0
    assert story.parts[0]["problems"] and kind in story.parts[0]["problems"][0]
    assert story.parts[0]["rejected"] == [BAD[kind].strip()[:300]]  # the trace shows what was rejected


def test_a_story_that_stays_invalid_fails_every_prediction_with_the_reason():
    model = model_with([BAD["refusal"]])
    sim = ValueSim(model, story_prompt="paper")
    first = sim.predict(PERSON, BOOK["Q47"])
    second = sim.predict(PERSON, BOOK["Q48"])
    assert first.failed and second.failed
    assert "no valid backstory" in first.error and "refusal" in first.error
    assert first.trace["story"]["status"] == "failed" and "context" not in first.trace
    story_calls = [c for c in model.calls if is_story(c.messages)]
    # 3 attempts on the whole profile (10 items), then 3 on each first half down to one fact
    # (5, 2, 1), which fails: no need to try the rest; the failure is remembered, so the second
    # prediction makes no story call
    assert len(story_calls) == 3 * 4 and "also in smaller parts" in first.error
    assert not [c for c in model.calls if "the cognitive side" in c.prompt]  # no module saw the refusal


@pytest.mark.parametrize("kind", ["refusal", "loop"])
def test_a_story_reply_that_fails_the_checks_is_remembered_as_rejected(tmp_path, kind):
    """A refusal is not a story, and it is not paid for twice: it is stored as rejected, so a
    re-run checks it again without a model call and goes straight to the next attempt; it is
    never served as a story, nor to a caller that does not ask for rejected replies."""
    backend = model_with([BAD[kind], GOOD])
    cache = tmp_path / "c.sqlite"
    first = get_model(backend, cache=cache)
    StoryWriter(first, prompt="paper").backstory(PERSON)
    first.cache.flush()
    assert [c.params["sample_index"] for c in backend.calls if is_story(c.messages)] == [0, 1]
    n = len(backend.calls)
    again_model = get_model(backend, cache=cache)
    again = StoryWriter(again_model, prompt="paper").backstory(PERSON)
    assert not [c for c in backend.calls[n:] if is_story(c.messages)]  # no draft written again
    assert again.text == GOOD and again.retries == 1 and again.parts[0]["rejected"] == [BAD[kind].strip()[:300]]
    import sqlite3

    with sqlite3.connect(cache) as db:
        rows = {k: " ".join(v for (v,) in db.execute("SELECT value FROM responses WHERE kind = ?", (k,)))
                for k in ("complete", "rejected")}
    assert GOOD[:40] in rows["complete"] and BAD[kind][:40] not in rows["complete"] and BAD[kind][:40] in rows["rejected"]
    story_call = next(c for c in backend.calls if is_story(c.messages) and c.params["sample_index"] == 0)
    plain = again_model.complete(story_call.messages, max_tokens=story_call.params["max_tokens"], temperature=0.0,
                                 seed=0, sample_index=0)  # the same request without the story's check
    assert plain.text == BAD[kind] and not plain.cached  # asked the model: a rejection is never an answer


def test_fidelity_gate_regenerates_then_fails():
    model = model_with([GOOD], wrong_audit=True)
    writer = StoryWriter(model, prompt="paper", audit_sample=5, min_fidelity=0.5)
    with pytest.raises(StoryFailure) as err:
        writer.backstory(PERSON)
    assert "fidelity 0/6" in err.value.reason  # 5 asked, one per each of the 6 themes given
    assert err.value.summary["rounds"] == 2
    story_calls = [c for c in model.calls if is_story(c.messages)]
    assert [c.params["sample_index"] for c in story_calls] == [0, 3]  # round 2 is a fresh sample


def test_fidelity_gate_passes_and_is_recorded_in_the_trace():
    model = model_with([GOOD])
    prediction = ValueSim(model, story_prompt="paper", story_audit=5).predict(PERSON, BOOK["Q47"])
    story = prediction.trace["story"]
    assert not prediction.failed and story["status"] == "valid"
    assert story["fidelity"]["recovered"] == story["fidelity"]["n"] == 6 and 0 < story["fidelity"]["chance"] < 1
    audits = [c for c in model.calls if c.kind == "read" and c.params["prefix"] == "Answer: " and "Using ONLY" in c.prompt]
    assert len(audits) == 6 and all(GOOD in c.prompt for c in audits)  # 5 asked, at least one per theme (6)


def test_fallback_uses_the_statements_story_labelled():
    model = model_with([BAD["refusal"]])
    prediction = ValueSim(model, story_prompt="paper", story_fallback="statements").predict(PERSON, BOOK["Q47"])
    story = prediction.trace["story"]
    assert story["kind"] == "statements" and story["status"] == "fallback" and "refusal" in story["reason"]
    assert prediction.trace["context"]["text"] == statements_story(PERSON.profile)[0]


def test_statements_story_holds_every_answer_and_makes_no_story_call():
    rng_items = tuple((q, q.codes[len(q.codes) // 2]) for q in BOOK if q.codes)
    profile = Profile(rng_items, BOOK)
    text, parts = statements_story(profile)
    for q, code in profile.items:
        assert q.statement(code) in text
    assert sum(p["items"] for p in parts) == len(profile)
    assert text == statements_story(profile)[0]  # deterministic
    model = model_with([GOOD])
    prediction = ValueSim(model, story="statements", story_audit=0).predict(PERSON, BOOK["Q47"])
    assert not [c for c in model.calls if is_story(c.messages)]
    assert prediction.trace["story"]["kind"] == "statements"
    assert prediction.trace["config"]["story_kind"] == "statements"


def test_small_prompt_writes_statements_theme_by_theme_and_is_chosen_for_the_embedded_engine():
    model = model_with(lambda m: " ".join(m[-1]["content"].rsplit("\nFacts:\n", 1)[1].split("\n")))
    story = StoryWriter(model, prompt="small", part_items=3, audit_sample=0).backstory(PERSON)
    prompts = [c.last_user for c in model.calls if is_story(c.messages)]
    assert len(prompts) == len(story.parts) > 3 and all("Example paragraph:" in p for p in prompts)
    for q, code in ITEMS:
        assert sum(q.statement(code) in p.rsplit("\nFacts:\n", 1)[1] for p in prompts) == 1
    assert max(p["items"] for p in story.parts) <= 3
    from valuesim.methods.story import resolve_prompt

    # the declared size hint decides, never the spec string; the user can override it
    assert resolve_prompt("auto", get_model(ScriptedModel(spec="local", size="small"))) == "small"
    assert resolve_prompt("auto", get_model(ScriptedModel(spec="local:big.gguf"))) == "paper"
    assert resolve_prompt("auto", get_model(ScriptedModel(spec="openai:gpt-4o"))) == "paper"
    assert resolve_prompt("auto", get_model(ScriptedModel(spec="openai:tiny"), size="small")) == "small"


def test_a_small_prompt_part_that_drops_facts_omits_and_is_retried():
    src = PERSON.profile.as_statements()
    invented = ("You are a thoughtful and ethical person who values integrity and science. You believe in hard "
                "work and fairness, and you are excited about the future of your country and the world.")
    kept_half = " ".join(q.statement(c) for q, c in ITEMS[:4]) + " " + invented
    paraphrase = " ".join(q.statement(c).replace("You ", "Asked about it, you ") for q, c in ITEMS)
    assert "omits" in {p.kind for p in check_story(kept_half, len(ITEMS), source=src, keep_facts=True)}
    assert "omits" not in {p.kind for p in check_story(kept_half, len(ITEMS), source=src)}  # the paper's prompt
    assert check_story(paraphrase, len(ITEMS), source=src, keep_facts=True) == []
    three = "\n".join(q.statement(c) for q, c in ITEMS[:3])
    two_kept = " ".join(q.statement(c) for q, c in ITEMS[:2]) + " You like long walks in the quiet streets."
    assert check_story(two_kept, 3, source=three, keep_facts=True) == []  # one lost fact: the audit judges it
    one = ITEMS[3][0].statement(ITEMS[3][1])
    assert "omits" in {p.kind for p in check_story(two_kept, 1, source=one, keep_facts=True)}  # its only fact
    model = model_with([kept_half, GOOD])
    story = StoryWriter(model, prompt="small", part_items=len(ITEMS), audit_sample=0).backstory(PERSON)
    assert story.status == "valid" and story.retries == len(story.parts)  # each part: dropped facts, then kept
    assert all("omits" in p["problems"][0] and p["text"] == GOOD for p in story.parts)


def test_a_part_is_split_down_until_its_halves_can_be_written():
    """A small model that can keep at most one fact per reply: the 4-fact parts are split into
    2-fact halves, then single facts, and the story is still valid and complete."""

    def one_fact(messages):
        facts = messages[-1]["content"].rsplit("\nFacts:\n", 1)[1].split("\n")
        return facts[0] + " You grew up in a quiet street with long walks."

    model = model_with(one_fact)
    story = StoryWriter(model, prompt="small", part_items=8, audit_sample=0, budget=0).backstory(PERSON)
    assert story.status == "valid" and story.retries > 0
    assert sum(p["items"] for p in story.parts) == len(ITEMS) and max(p["items"] for p in story.parts) <= 2
    assert any(p["theme"].endswith("(smaller part: 1 fact)") for p in story.parts)  # a half was halved again
    prompts = [c.last_user for c in model.calls if is_story(c.messages)]
    assert not any("smaller part" in p.split("\n")[0] for p in prompts)  # the prompt names the theme, not the split


def test_after_a_loop_the_next_attempt_uses_a_repetition_penalty():
    model = model_with([BAD["loop"], BAD["wrong_person"], GOOD])
    StoryWriter(model, prompt="paper", audit_sample=0).backstory(PERSON)
    penalties = [c.params["repeat_penalty"] for c in model.calls if is_story(c.messages)]
    assert penalties[0] == 1.0 and penalties[1] > 1.0 and len(penalties) == 3


def test_bad_story_options_are_rejected():
    with pytest.raises(ValueError):
        ValueSim(ScriptedModel(), story="novel")
    with pytest.raises(ValueError):
        ValueSim(ScriptedModel(), story_prompt="huge")


def swapped(text: str, qid: str, code: int) -> str:
    """``text`` with item ``qid``'s statement turned into another option's."""
    q, truth = BOOK[qid], TRUTH[qid]
    assert q.statement(truth) in text
    return text.replace(q.statement(truth), q.statement(code))


@pytest.mark.parametrize("qid,code", [("Q3", 4), ("Q49", 5), ("Q46", 1), ("Q171", 2), ("Q260", 1)])
def test_a_sentence_stating_another_option_of_a_profile_item_contradicts(qid, code):
    """'not very important' retold as 'not at all important', a scale point moved, the sex turned."""
    bad = swapped(GOOD, qid, code)
    problems = check_story(bad, len(ITEMS), source=PERSON.profile.as_statements(), profile=PERSON.profile)
    assert [p.kind for p in problems] == ["contradicts"], problems
    assert qid in problems[0].detail and repr(BOOK[qid].label(TRUTH[qid])) in problems[0].detail
    assert check_story(GOOD, len(ITEMS), source=PERSON.profile.as_statements(), profile=PERSON.profile) == []
    # a paraphrase that keeps the answer is no contradiction
    fine = GOOD.replace("Leisure time is not very important in your life.", "To you, leisure time is not very important.")
    assert check_story(fine, len(ITEMS), source=PERSON.profile.as_statements(), profile=PERSON.profile) == []


def test_a_sentence_stating_a_bank_item_the_profile_lacks_invents():
    """The old small prompt's example fact, copied into a story whose profile has no attendance
    item (issue 21 item 7), and other made-up survey facts."""
    person = Profile(tuple((q, c) for q, c in ITEMS if q.id != "Q171"), BOOK)
    src = person.as_statements()
    for added in ("You attend religious services once a week.", "Religion is very important in your life.",
                  "You believe in God.", "You are married.", "You are a full-time employee (30 hours a week or more)."):
        story = person.as_statements().replace("\n", " ") + " " + added
        problems = check_story(story, len(person), source=src, profile=person)
        assert [p.kind for p in problems] == ["invents"], (added, problems)
    with_item = check_story(GOOD.replace(BOOK["Q171"].statement(3), "You attend religious services once a week."),
                            len(ITEMS), source=PERSON.profile.as_statements(), profile=PERSON.profile)
    assert [p.kind for p in with_item] == ["contradicts"]  # the same sentence, when the item is there: another option


def test_the_small_prompt_states_no_fact_a_profile_could_hold():
    from valuesim.methods.prompting import load_prompt
    from valuesim.methods.story_facts import codebook_index, find_facts

    rules = load_prompt("story_small").split("\nFacts:\n")[0]
    assert find_facts(rules, Profile(()), codebook_index(BOOK)) == []
    copied = GOOD + " Your favourite colour is green, and you drink tea most days."
    assert "echo" in {p.kind for p in check_story(copied, len(ITEMS), source=PERSON.profile.as_statements())}


def test_the_statements_story_of_every_bank_item_raises_no_fact_problem():
    """No false alarm on the lossless story: every option of every item, as its own statement."""
    from valuesim.methods.story_facts import codebook_index, find_facts

    for shift in range(3):
        items = tuple((q, q.codes[(len(q.codes) // 2 + shift) % len(q.codes)]) for q in BOOK if q.options)
        profile = Profile(items, BOOK)
        text, _ = statements_story(profile)
        assert find_facts(text, profile, codebook_index(BOOK)) == []


def test_a_part_that_contradicts_the_profile_is_retried_with_another_sample():
    bad = swapped(GOOD, "Q3", 4)
    model = model_with([bad, GOOD])
    story = StoryWriter(model, prompt="paper").backstory(PERSON)
    assert story.text == GOOD and story.retries == 1 and "contradicts" in story.parts[0]["problems"][0]


def test_a_model_that_never_writes_a_usable_story_stops_at_the_request_budget():
    """Issue 20 item 4: a server whose stories only ever keep one fact made a story split down to
    single facts, hundreds of requests per person; now the person fails at the budget, with the reason."""
    profile = Profile(tuple((q, q.codes[0]) for q in BOOK if q.options), BOOK)

    def one_fact(messages):
        facts = messages[-1]["content"].rsplit("\nFacts:\n", 1)[1].split("\n")
        return facts[0] + " You grew up in a quiet street with long walks."

    model = ScriptedModel([(is_story, one_fact)], default="Answer: 1")
    writer = StoryWriter(model, prompt="small")
    limit = writer.request_limit(profile)
    n_parts = len(writer._chunks(profile))
    assert limit == 3 * (n_parts + 9) <= 150  # 9 audited items: one per theme at least
    person = PersonContext("p2", "DEU", profile)
    prediction = ValueSim(model, story_writer=writer).predict(person, BOOK["Q47"])
    requests = len([c for c in model.calls if is_story(c.messages) or "Using ONLY" in c.prompt])
    assert prediction.failed and "request budget" in prediction.error and requests <= limit
    assert prediction.trace["story"]["requests"] == requests
    unlimited = StoryWriter(model_with(one_fact), prompt="small", budget=0, audit_sample=0)
    assert unlimited.request_limit(profile) is None


def test_the_paper_prompt_against_a_server_whose_stories_stay_too_short_stops_at_the_budget():
    """The paper prompt (any server model): one call for the whole profile, then smaller parts;
    a reply that is always a few sentences only suits parts of four or five items. The old code
    wrote on down to such parts (hundreds of requests for one `ask`); now the person fails at
    3 x (1 part + 9 audited items) = 30 requests."""
    profile = Profile(tuple((q, q.codes[0]) for q in BOOK if q.options), BOOK)
    reply = "You grew up in a quiet street with long walks, and you still like the evening light over the river."
    model = ScriptedModel([(is_story, reply)], default="Answer: 1")
    prediction = ValueSim(model, story_prompt="paper").predict(PersonContext("p4", "DEU", profile), BOOK["Q47"])
    requests = len(model.calls)
    assert prediction.failed and "request budget" in prediction.error and requests <= 30


def test_a_good_model_stays_far_inside_the_budget():
    profile = Profile(tuple((q, q.codes[-1]) for q in BOOK if q.options), BOOK)
    truth = {q.id: c for q, c in profile.items}

    def audit(messages):
        qid = re.search(r"Question:\n(Q\d+)", messages[-1]["content"]).group(1)
        return f"Answer: {truth[qid]}"

    model = ScriptedModel([(is_story, lambda m: " ".join(m[-1]["content"].rsplit("\nFacts:\n", 1)[1].split("\n")))],
                          default=audit)
    writer = StoryWriter(model, prompt="small")
    story = writer.backstory(PersonContext("p3", "DEU", profile))
    assert story.status == "valid" and story.requests == len(story.parts) + 9 < writer.request_limit(profile) / 2


def test_the_audit_samples_every_theme():
    """Issue 21 item 7: 8 audited items could all miss the paragraphs that were wrong."""
    from valuesim.methods.story import by_category
    from valuesim.methods.story_audit import audit_items

    profile = Profile(tuple((q, q.codes[0]) for q in BOOK if q.options and len(q.codes) <= 20), BOOK)
    themes = {q.category for q, _ in profile.items}
    for seed in range(5):
        chosen = audit_items(profile, 8, seed)
        assert {q.category for q, _ in chosen} == themes and len(chosen) == len(themes) == len(by_category(profile))
        assert len({q.id for q, _ in audit_items(profile, 20, seed)}) == 20
    assert audit_items(profile, 8, 0) == audit_items(profile, 8, 0) != audit_items(profile, 8, 1)
