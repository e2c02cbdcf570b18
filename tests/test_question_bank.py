"""The WVS-7 question bank: complete, coded like the official label file, and usable in prompts."""

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from valuesim.survey.model import Kind, Profile
from valuesim.survey.wvs7.bank import (
    CATEGORIES,
    CATEGORY_NAMES,
    COUNTRY_SPECIFIC,
    SECTIONS,
    for_country,
    load_codebook,
)

LABEL_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "wvs7" / "codebook_labels.json"

# seeds/002 Table 5 (the 14 WVS sections) and Table 6 (the paper's 9 categories), written out
# independently of the build script so that a slip in either one is caught here.
TABLE5_6 = [
    (1, 45, "Social Values, Attitudes & Stereotypes", "Core"),
    (46, 56, "Happiness and Well-Being", "Hap."),
    (57, 105, "Social Capital, Trust & Organizational Membership", "Trust"),
    (106, 111, "Economic Values", "Econ.Int"),
    (112, 120, "Corruption", "Econ.Int"),
    (121, 130, "Migration", "Security"),
    (131, 151, "Security", "Security"),
    (152, 157, "Postmaterialist Index", "Core"),
    (158, 163, "Science & Technology", "Tech"),
    (164, 175, "Religious Values", "Mo.&Rel."),
    (176, 198, "Ethical Values and Norms", "Mo.&Rel."),
    (199, 234, "Political Interest & Political Participation", "Pol.Eng"),
    (235, 259, "Political Culture & Political Regimes", "Pol.Eng"),
    (260, 290, "Demographics", "Demo"),
]
ALL_IDS = [f"Q{n}" for n in range(1, 291)]
SECOND_PERSON = re.compile(r"\byou(r|rs|rself)?\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def bank():
    return load_codebook()


@pytest.fixture(scope="module")
def label_file():
    if not LABEL_FILE.exists():
        pytest.skip(f"WVS-7 label file not found at {LABEL_FILE} (clone the shared/ reference beside the repo)")
    return json.loads(LABEL_FILE.read_text(encoding="utf-8"))


def test_every_core_item_is_present_in_questionnaire_order(bank):
    assert bank.ids == ALL_IDS


def test_sections_and_categories_follow_the_papers_tables(bank):
    assert SECTIONS == tuple(s for _, _, s, _ in TABLE5_6)
    assert set(CATEGORY_NAMES) == set(CATEGORIES) and len(CATEGORIES) == 9
    for lo, hi, section, category in TABLE5_6:
        for n in range(lo, hi + 1):
            q = bank[f"Q{n}"]
            assert (q.section, q.category) == (section, category), q.id
    assert set(bank.by_category()) == set(CATEGORIES)


def test_codes_are_the_label_files_non_negative_codes(bank, label_file):
    for q in bank:
        official = sorted(int(c) for c in label_file[q.id]["choices"] if not c.startswith("-"))
        if official:
            assert list(q.codes) == official, q.id
        else:  # year of birth and age: the label file lists missing codes only
            assert q.kind == Kind.NUMERIC and not q.options, q.id


def test_options_are_in_code_order_and_valid_range_spans_them(bank):
    for q in bank:
        if q.options:
            codes = [o.code for o in q.options]
            assert codes == sorted(codes) and len(set(codes)) == len(codes), q.id
            assert q.valid_range == (codes[0], codes[-1]), q.id


def test_numeric_items_are_year_of_birth_age_and_children(bank):
    numeric = [q.id for q in bank if q.kind == Kind.NUMERIC]
    assert numeric == ["Q261", "Q262", "Q274"]
    for qid in numeric:
        q = bank[qid]
        assert q.valid_range and "{value}" in q.numeric_statement
    assert bank["Q261"].statement(1980) == "You were born in 1980."
    assert bank["Q262"].statement(44) == "You are 44 years old."
    assert bank["Q274"].statement(0) == "You have no children."
    assert bank["Q274"].statement(7) == "You have 7 or more children."  # the label file top-codes at 7
    assert bank["Q262"].is_valid(44) and not bank["Q262"].is_valid(5)


def test_every_option_has_its_own_second_person_statement(bank):
    for q in bank:
        for o in q.options:
            assert o.statement, f"{q.id} code {o.code} has no statement"
            assert SECOND_PERSON.search(o.statement), f"{q.id} code {o.code}: {o.statement!r}"
            assert "{" not in o.statement and o.statement.endswith((".", ")")), (q.id, o.statement)
        # distinct answers read differently; country lists repeat names across countries, and the label
        # file itself repeats a few labels within one country (Serbia, Cyprus, Pakistan): same label, same words
        seen: dict[tuple[int, str], str] = {}
        for o in q.options:
            key = (o.code // 1000 if q.id in COUNTRY_SPECIFIC else 0, o.statement)
            assert seen.setdefault(key, o.label) == o.label, f"{q.id}: two answers give the same statement"


def test_statements_say_the_answer(bank):
    assert bank["Q1"].statement(1) == "Family is very important in your life."
    assert bank["Q46"].statement(2) == "You feel quite happy."
    assert bank["Q182"].statement(7) == (
        "On a scale from 1 (never justifiable) to 10 (always justifiable), you rate homosexuality as 7."
    )
    assert "against democracy" in bank["Q241"].statement(0)
    # country-specific lists get their statements from the question's template, without the country prefix
    party = bank["Q223"].option(276002)
    assert party.statement == "If there were a national election tomorrow, you would vote for Social Democratic Party."
    assert bank["Q266"].statement(276) == "You were born in Germany."


def test_ordinal_items_are_consecutive_scales_with_a_direction(bank):
    for q in bank:
        if q.kind == Kind.ORDINAL:
            codes = list(q.codes)
            assert codes == list(range(codes[0], codes[0] + len(codes))), q.id
            assert len(codes) >= 3 and q.ordinal_high, q.id
        elif q.kind == Kind.BINARY:
            assert len(q.options) == 2, q.id


@pytest.mark.parametrize(
    "qid, why",
    [
        ("Q56", "1 better off, 2 worse off, 3 about the same: codes are not in scale order"),
        ("Q119", "0 = hard to say sits outside the agree-disagree scale 1-4"),
        ("Q221", "4 = not allowed to vote is not a voting frequency"),
        ("Q222", "4 = not allowed to vote is not a voting frequency"),
        ("Q254", "5 = not a national of this country is not a degree of pride"),
        ("Q111", "3 = other answer"),
        ("Q223", "party"),
        ("Q289", "denomination"),
    ],
)
def test_items_whose_codes_are_not_a_scale_are_not_ordinal(bank, qid, why):
    assert bank[qid].kind == Kind.NOMINAL, why


def test_wording_is_the_questionnaires_not_the_short_label(bank):
    for q in bank:
        assert q.short and q.text != q.short, q.id
        assert "[" not in q.text and "  " not in q.text, q.id  # placeholders like [country] are resolved
    assert bank["Q1"].text.startswith("For each of the following, indicate how important it is in your life: Family.")
    assert "the immigrants" in bank["Q121"].text and "this country" in bank["Q121"].text


def test_labels_are_clean(bank):
    for q in bank:
        for o in q.options:
            assert o.label and o.label == o.label.strip() and "  " not in o.label, (q.id, o.code)
            assert not re.match(r"^\d+\.- ", o.label), (q.id, o.label)
    assert bank["Q274"].label(7) == "7 or more children"
    assert bank["Q270"].label(7) == "7 or more"
    assert bank["Q288"].label(8) == "8"
    assert bank["Q182"].label(1) == "1 - Never justifiable" and bank["Q182"].label(10) == "10 - Always justifiable"


def test_rendering_and_profile_statements(bank):
    rendered = bank["Q1"].render()
    assert rendered.splitlines()[0].startswith("Q1: For each of the following")
    assert "1. Very important" in rendered and "4. Not at all important" in rendered
    assert "(a number from 1900 to 2010)" in bank["Q261"].render()
    profile = Profile(((bank["Q1"], 1), (bank["Q262"], 30), (bank["Q46"], 2)))
    assert profile.as_statements().splitlines() == [
        "Family is very important in your life.",
        "You are 30 years old.",
        "You feel quite happy.",
    ]
    assert "Answer: 1. Very important" in profile.as_qa_list()


def test_for_country_keeps_the_common_codes_and_that_countrys_list(bank):
    parties = for_country(bank["Q223"], 276)
    assert {o.code for o in parties.options if o.code < 1000} == {1, 2, 3, 4, 5, 7, 8}
    assert all(o.code < 1000 or o.code // 1000 == 276 for o in parties.options)
    assert any(o.code >= 1000 for o in parties.options) and len(parties.options) < 50
    assert parties.valid_range == (1, max(o.code for o in parties.options))
    assert for_country(bank["Q290"], 276) is bank["Q290"]  # no German list: everything kept
    assert for_country(bank["Q1"], 276) is bank["Q1"]
    with pytest.raises(ValueError, match="ISO 3166-1 numeric"):
        for_country(bank["Q223"], "DEU")


def test_bank_file_stays_small():
    size = len(resources.files("valuesim.survey.wvs7").joinpath("questions.json").read_bytes())
    assert size < 1_000_000


def test_code_lists_accept_any_code_and_name_it():
    from valuesim.survey.wvs7.bank import load_codebook

    cb = load_codebook()
    birth, language, party = cb["Q266"], cb["Q272"], cb["Q223"]
    assert birth.code_list == "country" and birth.is_valid(120) and not birth.is_valid(-1)
    assert birth.label(120) == "Cameroon" and birth.label(4) == "Afghanistan"  # ISO list, then bank
    assert birth.statement(462) == "You were born in Maldives."
    assert language.label(1105) == "language code 1105, not in the codebook's list" and party.is_valid(858001)
    assert cb["Q270"].count and cb["Q274"].count and not cb["Q262"].count
    assert not cb["Q1"].code_list and not cb["Q1"].is_valid(9)


def test_shipped_iso_3166_list():
    import csv
    from importlib import resources

    from valuesim.survey.wvs7 import countries

    rows = list(csv.DictReader(resources.files(countries.__package__).joinpath("countries.csv")
                               .read_text(encoding="utf-8").splitlines()))
    iso = [r for r in rows if r["source"] == "iso"]
    assert len(iso) == 249 and len({r["alpha3"] for r in iso}) == 249 and len({r["numeric"] for r in iso}) == 249
    assert countries.alpha3_for(276) == "DEU" and countries.alpha3_for("Germany") == "DEU"
    assert countries.alpha3_name("NIR") == "Northern Ireland" and countries.alpha3_name("MOR") == "Morocco"
    assert countries.country_name(9999) == "Other country"
    assert not countries.is_country_shaped("<script>") and not countries.is_country_shaped("../../x")
