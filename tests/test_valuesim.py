"""ValueSim with the scripted model: what each module is shown, what each mode and ablation calls."""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from eval_helpers import bank_person
from valuesim.llm import ScriptedModel, get_model
from valuesim.llm.base import estimate_tokens
from valuesim.methods.base import PersonContext
from valuesim.methods.cab import MODULES
from valuesim.methods.coordinator import average_answer
from valuesim.methods.prompting import read_analysis, read_answer, render, sections
from valuesim.methods.registry import get_method
from valuesim.methods.story import StoryWriter, audit_backstory, theme_chunks
from valuesim.methods.valuesim import ValueSim
from valuesim.survey.model import Profile
from valuesim.survey.wvs7.bank import CATEGORIES, load_codebook

STORY = ("BACKSTORY-MARKER. You were born in a small town near the river, the second of three children. "
         "Your family and your friends fill your weekends. You value leisure "
         "time, and you read about politics in the evening paper. Work matters a great deal: you believe that "
         "hard work usually brings a better life. You keep a small garden behind the house and grow beans "
         "and tomatoes there every summer. You enjoy quiet evenings, and you cook for friends on Sundays. You "
         "know most of your neighbours by name, and you lend them tools when they ask for them. You "
         "think that a good society needs both order and freedom, and you vote in local elections. Your "
         "parents ran a bakery, and you still remember the smell of bread before sunrise. You finished "
         "secondary school and later trained as an electrician, a job you have now held for twenty years. "
         "Money is sometimes tight, yet you save a little each month and you rarely borrow. You follow the "
         "news on the radio every morning, and you read the local paper when you have the time on weekends. "
         "Science, in your eyes, makes life healthier and easier, although you worry that it moves "
         "too fast. You believe that men and women should share the work at home, that children need "
         "patience more than discipline, and that neighbours should help each other in hard times.")
AUDIT_TRUTH: dict[str, int] = {}  # the person fixture's answers: the scripted audit reader recovers them
DIMENSIONS = {
    "cognitive": ["gather information", "ways of reasoning", "view of the world", "weigh most heavily", "habits of thought"],
    "affective": ["emotional patterns", "values and principles", "emotional needs", "feel about each", "relationships and their identity"],
    "behavioral": ["behavioral tendencies", "environment and social setting", "abilities and limits", "past experiences", "into practice"],
}


def is_story(messages) -> bool:
    return "writer of background stories" in messages[-1]["content"]


def module_of(messages) -> str | None:
    text = messages[-1]["content"]
    for name in MODULES:
        if f"the {name} side of this person" in text:
            return name
    if "You coordinate a system" in text:
        return "coordinator"
    if "Study the User Profile and answer" in text:
        return "direct"
    return None


def scripted(answers: dict | None = None, **kwargs) -> ScriptedModel:
    """Story -> STORY; module M -> "Answer: answers[M]" with an analysis naming M."""
    answers = {"cognitive": 1, "affective": 1, "behavioral": 1, "coordinator": 2, "direct": 3, **(answers or {})}

    def reply(messages):
        if is_story(messages):
            return STORY
        audit = re.search(r"Using ONLY what the backstory says.*?Question:\n(Q\d+)", messages[-1]["content"], re.S)
        if audit:
            return f"Answer: {AUDIT_TRUTH.get(audit.group(1), 1)}"
        name = module_of(messages)
        if name is None:
            return "Answer: 4"
        value = answers[name]
        return value if isinstance(value, str) else f"Answer: {value}\nAnalysis: the {name} reasoning of this person."

    return ScriptedModel(reply, **kwargs)


@pytest.fixture(scope="module")
def person():
    person = bank_person(seed=1, items=40)
    AUDIT_TRUTH.update({q.id: code for q, code in person.profile.items})
    return person


@pytest.fixture(scope="module")
def q46(codebook):
    return codebook["Q46"]


def calls_by_module(model: ScriptedModel, kind: str = "complete") -> dict[str, list]:
    out: dict[str, list] = {}
    for call in model.calls:
        if call.kind != kind:
            continue
        name = "story" if is_story(call.messages) else module_of(call.messages)
        out.setdefault(name, []).append(call)
    return out


def test_every_profile_item_reaches_the_story_prompt(person, q46):
    model = scripted()
    ValueSim(model).predict(person, q46)
    story_calls = calls_by_module(model)["story"]
    assert len(story_calls) == 1
    prompt = story_calls[0].last_user
    for q, code in person.profile.items:
        assert q.render() in prompt
        assert f"{q.render()}\nAnswer: {q.answer_text(code)}" in prompt
    for rule in ("Every single data point", "specific values, numbers and exact answers", "second person",
                 "paragraphs, each about one aspect", "completeness matters more than brevity",
                 "Output only the finished backstory"):
        assert rule in prompt


def faithful_part(messages) -> str:
    """A story part that names every item of its prompt once (passes the checks)."""
    if "\nFacts:\n" in messages[-1]["content"]:  # the small-model prompt lists statements
        return "PART. " + " ".join(messages[-1]["content"].rsplit("\nFacts:\n", 1)[1].split("\n"))
    found = re.findall(r"^(Q\d+[A-Z]?): .*?\nAnswer: (\d+)", messages[-1]["content"], re.M | re.S)
    book = load_codebook()
    return "PART. " + " ".join(book[q].statement(int(c)) for q, c in found)


def test_long_profile_is_written_theme_by_theme_and_joined(codebook):
    rng = random.Random(2)
    items = tuple((q, rng.choice(q.codes)) for q in codebook if q.options and len(q.codes) <= 12)
    person = PersonContext("big", "DEU", Profile(items))
    model = ScriptedModel(faithful_part)
    story = StoryWriter(model, context_tokens=12000, audit_sample=0).backstory(person)
    assert story.themed and len(story.parts) > len(CATEGORIES)  # long categories are split further
    prompts = [c.last_user for c in model.calls]
    assert all("The information about one person is long" in p for p in prompts)
    for q, code in items:  # every item in exactly one part
        assert sum(f"{q.render()}\nAnswer: {q.answer_text(code)}" in p for p in prompts) == 1
    assert story.text.count("PART. ") == len(story.parts)
    themes = [p["theme"] for p in story.parts]
    assert themes[0].startswith("Core Value Orientations")


def test_long_profile_story_leaves_room_for_the_module_prompts(codebook):
    """Issue 13 item 5: the theme parts' lengths are planned so the joined story fits the
    context beside the module prompts (a 268-item profile in an 8k window)."""
    rng = random.Random(3)
    items = tuple((q, rng.choice(q.codes)) for q in codebook if q.options and len(q.codes) <= 12)
    person = PersonContext("long", "DEU", Profile(items))
    model = ScriptedModel(faithful_part)
    writer = StoryWriter(model, context_tokens=8192, reserve_tokens=1200, audit_sample=0, prompt="small")
    story = writer.backstory(person)
    assert sum(p["max_tokens"] for p in story.parts) <= 8192 - 1200
    assert sum(p["items"] for p in story.parts) == len(items)


def test_theme_chunks_respect_the_budget(codebook):
    items = tuple((q, q.codes[0]) for q in codebook if q.options and len(q.codes) <= 12)
    model = get_model(ScriptedModel())
    chunks = theme_chunks(Profile(items), 800, model)
    assert sum(len(p) for _, p in chunks) == len(items)
    assert all(estimate_tokens(p.as_qa_list()) <= 800 or len(p) == 1 for _, p in chunks)


def test_each_module_gets_backstory_question_and_its_dimensions(person, q46):
    model = scripted()
    prediction = ValueSim(model).predict(person, q46)
    assert not prediction.failed
    calls = calls_by_module(model)
    for name in MODULES:
        (call,) = calls[name]
        prompt = call.last_user
        assert STORY in prompt and q46.render() in prompt
        for dim in DIMENSIONS[name]:
            assert dim in prompt, (name, dim)
        assert "Answer: [option number]" in prompt and "Analysis:" in prompt
    assert set(prediction.trace["modules"]) == set(MODULES)


def test_coordinator_sees_all_three_answers_and_analyses(person, q46):
    model = scripted({"cognitive": 1, "affective": 2, "behavioral": 3, "coordinator": 2})
    prediction = ValueSim(model).predict(person, q46)
    (call,) = calls_by_module(model)["coordinator"]
    prompt = call.last_user
    for label, name, code in (("Cognitive", "cognitive", 1), ("Emotional", "affective", 2), ("Behavioral", "behavioral", 3)):
        assert f"{label} perspective answer: {code}. {q46.label(code)}" in prompt
        assert f"{label} perspective analysis: the {name} reasoning of this person." in prompt
    assert STORY not in prompt  # the paper's coordinator does not see the backstory
    assert q46.text in prompt and "4. Not at all happy" in prompt
    assert prediction.answer == 2
    assert prediction.trace["decision"]["rule"] == "coordinator"


def test_on_disagreement_skips_the_coordinator_when_modules_agree(person, q46):
    model = scripted({"cognitive": 3, "affective": 3, "behavioral": 3})
    prediction = ValueSim(model, coordinator="on-disagreement").predict(person, q46)
    assert "coordinator" not in calls_by_module(model)
    assert prediction.answer == 3 and prediction.trace["decision"]["agree"]
    model = scripted({"cognitive": 3, "affective": 1, "behavioral": 3, "coordinator": 4})
    prediction = ValueSim(model, coordinator="on-disagreement").predict(person, q46)
    assert len(calls_by_module(model)["coordinator"]) == 1 and prediction.answer == 4


def test_average_mode_rounds_the_mean_and_never_calls_the_coordinator(person, q46):
    model = scripted({"cognitive": 1, "affective": 2, "behavioral": 4})
    prediction = get_method("valuesim-average", model).predict(person, q46)
    assert "coordinator" not in calls_by_module(model)
    assert prediction.answer == 2  # round(7/3)
    assert average_answer(q46, [1, 2]) == 2  # round(1.5) = 2 (halves to even)
    assert average_answer(q46, [2, 3]) == 2  # round(2.5) = 2
    assert abs(sum(prediction.distribution.values()) - 1) < 1e-9


def test_no_story_ablation_gives_the_modules_the_raw_profile(person, q46):
    model = scripted()
    get_method("valuesim-no-story", model).predict(person, q46)
    calls = calls_by_module(model)
    assert "story" not in calls
    for name in MODULES:
        assert person.profile.as_qa_list() in calls[name][0].last_user
    assert len(calls["coordinator"]) == 1


def test_no_cab_ablation_asks_one_direct_question_of_the_backstory(person, q46):
    model = scripted({"direct": 3})
    prediction = get_method("valuesim-no-cab", model).predict(person, q46)
    calls = calls_by_module(model)
    assert set(calls) == {"story", "direct"} and len(calls["direct"]) == 1
    assert STORY in calls["direct"][0].last_user
    assert prediction.answer == 3


@pytest.mark.parametrize("removed", MODULES)
def test_single_unit_ablations_drop_exactly_one_module(person, q46, removed):
    model = scripted()
    prediction = get_method(f"valuesim-no-{removed}", model).predict(person, q46)
    calls = calls_by_module(model)
    kept = [m for m in MODULES if m != removed]
    assert removed not in calls and all(len(calls[m]) == 1 for m in kept)
    coordinator_prompt = calls["coordinator"][0].last_user
    assert "from 2 different perspectives" in coordinator_prompt
    assert coordinator_prompt.count("perspective analysis:") == 2
    assert set(prediction.trace["modules"]) == set(kept)


def test_malformed_module_output_is_a_failure_for_that_item_only(person, codebook, q46):
    model = scripted({"affective": "I would rather not say."}, supports_logprobs=False)  # no pre-filled read
    sim = ValueSim(model)
    bad = sim.predict(person, q46)
    assert bad.failed and "affective" in bad.error
    assert bad.trace["modules"]["cognitive"]["answer"] == 1  # the turns before the failure are kept
    assert abs(sum(bad.distribution.values()) - 1) < 1e-9
    good = ValueSim(scripted()).predict(person, codebook["Q47"])
    assert not good.failed


def test_backend_errors_become_failures(person, q46):
    model = scripted(fail_on="the behavioral side")
    prediction = ValueSim(model).predict(person, q46)
    assert prediction.failed and "ModelError" in prediction.error


def test_backstory_is_written_once_under_concurrency(person, codebook):
    model = scripted()
    sim = ValueSim(model)
    questions = [codebook[q] for q in ("Q46", "Q47", "Q48", "Q49", "Q50", "Q51", "Q52", "Q53")]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda q: sim.predict(person, q), questions))
    assert not any(r.failed for r in results)
    assert len(calls_by_module(model)["story"]) == 1
    # a different profile item set is a different backstory
    sim.predict(PersonContext("r1", "DEU", person.profile.restrict(person.profile.question_ids[:5])), questions[0])
    assert len(calls_by_module(model)["story"]) == 2


def test_rerun_through_the_response_cache_makes_no_model_calls(person, q46, tmp_path):
    backend = scripted()
    first = ValueSim(get_model(backend, cache=tmp_path / "c.sqlite")).predict(person, q46)
    n = len(backend.calls)
    again = ValueSim(get_model(backend, cache=tmp_path / "c.sqlite")).predict(person, q46)
    assert len(backend.calls) == n and again.answer == first.answer


def test_distribution_comes_from_logprobs_at_the_answer_position(person, q46):
    def options(messages, codes):
        assert messages[-1]["role"] == "user"
        return {"1": 0.1, "2": 0.6, "3": 0.2, "4": 0.1}

    model = scripted({"coordinator": 2}, options=options)
    prediction = ValueSim(model, story_audit=0).predict(person, q46)
    dist_calls = [c for c in model.calls if c.kind == "read"]  # one pre-filled read per turn
    assert len(dist_calls) == 4 and all(c.params["prefix"] == "Answer: " for c in dist_calls)
    assert prediction.distribution == pytest.approx({1: 0.1, 2: 0.6, 3: 0.2, 4: 0.1})
    assert prediction.trace["modules"]["cognitive"]["distribution_method"] == "logprobs"


def test_without_logprobs_the_distribution_is_one_hot_at_the_parsed_answer(person, q46):
    model = scripted({"coordinator": 3}, supports_logprobs=False)
    prediction = ValueSim(model, story_audit=0).predict(person, q46)
    assert not [c for c in model.calls if c.kind == "read"]
    assert prediction.distribution == {1: 0.0, 2: 0.0, 3: 1.0, 4: 0.0}


def test_prompt_orders(person, q46):
    model = scripted()
    ValueSim(model).predict(person, q46)
    first = calls_by_module(model)["cognitive"][0].last_user
    assert first.startswith("User Profile:\n" + STORY)
    model = scripted()
    ValueSim(model, prompt_order="paper").predict(person, q46)
    paper = calls_by_module(model)["cognitive"][0].last_user
    assert paper.startswith("Follow the Guide")
    assert paper.index("User Profile:") < paper.index("Question:") < paper.index("Reply in exactly")
    # context-first: the three modules share the same opening (the engine's prefix cache)
    prompts = [calls_by_module(scripted_run(person, q46))[m][0].last_user for m in MODULES]
    shared = len("User Profile:\n" + STORY)
    assert prompts[0][:shared] == prompts[1][:shared] == prompts[2][:shared]


def scripted_run(person, question):
    model = scripted()
    ValueSim(model).predict(person, question)
    return model


def test_sections_and_render():
    names = [n for n, _ in sections("cognitive")]
    assert names == ["instruction", "context", "question", "format"]
    text = render("direct", "paper", context="CTX", question="QQ")
    assert text.index("Study the User Profile") < text.index("CTX") < text.index("QQ")


@pytest.mark.parametrize("reply,expected", [
    ("Answer: 3", 3),
    ("Answer: 3. Not very happy\nAnalysis: x", 3),
    ("**Answer:** 2\n**Analysis:** y", 2),
    ("Answer: [4]", 4),
    ("answer - 1", 1),
    ("Answer: Not very happy", 3),
    ("Answer: Very happy", 1),
    ("I think quite happy.", None),
    ("Answer: 7", None),
    ("", None),
])
def test_read_answer(q46, reply, expected):
    assert read_answer(reply, q46) == expected


def test_read_analysis():
    assert read_analysis("Answer: 2\nAnalysis: because of X.\nAnd Y.") == "because of X.\nAnd Y."
    assert read_analysis("**Answer:** 2\n**Analysis:** z") == "z"
    assert read_analysis("Answer: 2\nJust reasons.") == "Just reasons."


def test_trace_keeps_one_copy_of_the_backstory(person, q46):
    prediction = ValueSim(scripted()).predict(person, q46)
    trace = prediction.trace
    assert trace["context"]["text"] == STORY
    for turn in trace["modules"].values():
        assert STORY not in turn["messages"][-1]["content"]
        assert "<<backstory: see trace['context']>>" in turn["messages"][-1]["content"]
    assert trace["story"]["items"] == len(person.profile)


def test_audit_reports_the_share_recovered(person):
    truth = {q.id: code for q, code in person.profile.items}
    wrong_ids = set(list(truth)[:5])

    def reply(messages):
        qid = re.search(r"Question:\n(Q\d+):", messages[-1]["content"]).group(1)
        code = truth[qid]
        if qid in wrong_ids:
            q = next(q for q, _ in person.profile.items if q.id == qid)
            code = next(c for c in q.codes if c != code)
        return f"Answer: {code}"

    model = ScriptedModel(reply)
    result = audit_backstory(get_model(model), STORY, person.profile, sample=len(truth), seed=0)
    assert result.n == len(truth) and result.recovered == len(truth) - 5
    assert STORY in model.calls[0].last_user
    assert 0 < result.chance < 1 and "recovered" in result.summary()


def test_invalid_options_are_config_errors():
    """What a user types reaches ValueSim through the registry: one ConfigError line naming the
    key and the accepted values (the CLI prints it and exits 2), never a ValueError traceback."""
    from valuesim.errors import ConfigError
    from valuesim.methods.registry import get_method

    with pytest.raises(ConfigError, match=r"valuesim.coordinator=vote .*always, on-disagreement, average"):
        get_method("valuesim", ScriptedModel(), coordinator="vote")
    with pytest.raises(ConfigError, match=r"prompt_order=random .*context-first, paper"):
        get_method("valuesim", ScriptedModel(), prompt_order="random")
    with pytest.raises(ConfigError, match=r"has no option 'modules'"):  # ablations are methods, not options
        get_method("valuesim", ScriptedModel(), modules=("cognitive", "intuitive"))
    with pytest.raises(ValueError, match="non-empty subset"):  # the class still guards the Python API
        ValueSim(ScriptedModel(), modules=("cognitive", "intuitive"))
