"""Option scoring from token log-probabilities, and the free-text answer parser."""

import math

import pytest

from valuesim.errors import ModelError
from valuesim.llm import parse_answer, score_codes, vote_distribution

CODES_10 = [str(i) for i in range(1, 11)]


def logs(d: dict[str, float]) -> dict[str, float]:
    return {t: math.log(p) for t, p in d.items()}


def test_single_digit_tokenizer_splits_1_from_10():
    # Qwen-style: "10" is written "1" then "0". After "1", "0" continues to "10",
    # a newline or end token ends the answer at "1", and "5" ("15") is not a code.
    first = logs({"1": 0.5, "3": 0.3, "9": 0.2})
    after = {"1": logs({"0": 0.6, "\n": 0.2, "": 0.1, "5": 0.1})}
    asked = []

    def nxt(text):
        asked.append(text)
        return after.get(text)

    probs = score_codes(first, nxt, CODES_10)
    assert asked == ["1"]  # only the ambiguous branch costs a call
    total = 0.5 * 0.6 + 0.5 * 0.3 + 0.3 + 0.2
    assert probs["10"] == pytest.approx(0.30 / total)
    assert probs["1"] == pytest.approx(0.15 / total)
    assert probs["3"] == pytest.approx(0.30 / total)
    assert sum(probs.values()) == pytest.approx(1.0)


def test_grouped_digit_tokenizer_and_leading_space():
    # GPT-style: "10" is one token, sometimes with a leading space.
    first = logs({" 10": 0.5, "1": 0.2, " 2": 0.3})
    probs = score_codes(first, lambda text: None, CODES_10)  # continuation unknown
    assert probs["10"] == pytest.approx(0.5)
    assert probs["1"] == pytest.approx(0.2)
    assert probs["2"] == pytest.approx(0.3)


def test_codes_like_11_and_non_codes_are_discarded():
    codes = ["1", "2", "11", "12"]
    first = logs({"1": 0.8, "X": 0.2})
    after = {"1": logs({"1": 0.5, "2": 0.25, ".": 0.25})}
    probs = score_codes(first, after.get, codes)
    assert probs["11"] == pytest.approx(0.5)
    assert probs["12"] == pytest.approx(0.25)
    assert probs["1"] == pytest.approx(0.25)
    assert probs["2"] == 0.0


def test_token_carrying_code_and_punctuation():
    probs = score_codes(logs({"3.": 0.5, "10\n": 0.5}), lambda t: None, CODES_10)
    assert probs == pytest.approx({**{c: 0.0 for c in CODES_10}, "3": 0.5, "10": 0.5})


def test_no_code_mass_gives_empty():
    assert score_codes(logs({"Hello": 1.0}), lambda t: None, ["1", "2"]) == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Answer: 3", "3"),
        ("answer:10 because", "10"),
        ("**Answer:** 10.", "10"),
        ("Answer: [2]", "2"),
        ("The analysis says 1 and 4.\nAnswer: 4", "4"),
        ("Answer: 2\n\nAnalysis: options 1 and 3 were less likely", "2"),
        ("7", "7"),
        ("I would choose 10, clearly.", "10"),
        ("I pick 1.5", None),
        ("Answer: 15", None),
        ("no idea", None),
        ("Between 1 and 2", None),
        ("", None),
    ],
)
def test_parse_answer(text, expected):
    assert parse_answer(text, CODES_10) == expected


def test_vote_distribution_counts_parsable_answers_only():
    probs = vote_distribution(["Answer: 1", "Answer: 10", "Answer: 10", "???"], CODES_10)
    assert probs["10"] == pytest.approx(2 / 3) and probs["1"] == pytest.approx(1 / 3)
    with pytest.raises(ModelError, match="no parsable answer"):
        vote_distribution(["???", "hmm"], CODES_10)


def test_distribution_read_where_a_free_reply_writes_its_code():
    import math

    from valuesim.llm.base import TokenLogprob
    from valuesim.llm.options import answer_position, probs_from_written

    def tok(t, alts):
        return TokenLogprob(t, math.log(alts.get(t, 1e-9)), {k: math.log(v) for k, v in alts.items()})

    reply = [tok("The", {"The": 1.0}), tok(" answer", {" answer": 1.0}), tok(" is", {" is": 1.0}),
             tok(" 1", {" 1": 0.5, " 2": 0.3, " 4": 0.2}), tok(".", {".": 1.0}), tok(" Very", {" Very": 1.0})]
    assert answer_position(reply, ["1", "2", "3", "4"]) == 3
    probs = probs_from_written(reply, ["1", "2", "3", "4"])
    assert probs["1"] == 0.5 and probs["2"] == 0.3 and probs["3"] == 0.0
    # a code glued inside a token ("is1") has no alternatives that are codes: not covered
    glued = [tok("It", {"It": 1.0}), tok(" is1", {" is1": 1.0})]
    assert probs_from_written(glued, ["1", "2"]) == {}
