"""Build src/valuesim/survey/wvs7/questions.json, the WVS-7 question bank (Q1-Q290).

Why a script: the codes must match the official label file exactly, while the wording,
option labels and second-person statements are authored here once, battery by battery, from
the public master questionnaire. Re-running the script regenerates the bank deterministically.

    python scripts/build_wvs7_bank.py [--labels PATH] [--out PATH]

Inputs (public reference copies, not shipped in the package):
  ../shared/reference/wvs7/codebook_labels.json   every variable with its codes and labels
  ../shared/reference/wvs7/questionnaire.txt      the master questionnaire (wording source)
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "reference" / "wvs7" / "codebook_labels.json"
DEFAULT_OUT = REPO / "src" / "valuesim" / "survey" / "wvs7" / "questions.json"
# The official variable and value labels, as labelled exports (SPSS/Stata/R, value labels
# applied) carry them: how valuesim maps such a file's headers and cells back to codes.
FILE_LABELS = "file_labels.json"
META_VARIABLES = ("D_INTERVIEW", "B_COUNTRY_ALPHA", "B_COUNTRY", "W_WEIGHT", "H_URBRURAL")

# The 14 WVS sections (seeds/002 Table 5) and the paper's 9 categories (Table 6).
SECTIONS = [
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

SPEC: dict[str, dict] = {}


def q(n: int, **fields) -> None:
    qid = f"Q{n}"
    if qid in SPEC:
        raise SystemExit(f"{qid} defined twice")
    SPEC[qid] = fields


def lower_first(s: str) -> str:
    """'A stable economy' -> 'a stable economy', but acronyms stay ('TV news')."""
    first = s.split(" ", 1)[0] if s else ""
    if not s or (len(first) > 1 and first.isupper()):
        return s
    return s[0].lower() + s[1:]


def scale10(lo: str, hi: str, template: str, first: int = 1) -> tuple[dict, dict]:
    """Labels '1 - lo', '2', ..., '10 - hi' and one statement per point from template({n})."""
    labels = {n: str(n) for n in range(first, 11)}
    labels[1] = f"1 - {lo}"
    labels[10] = f"10 - {hi}"
    statements = {n: template.format(n=n) for n in range(1, 11)}
    return labels, statements


# ---------------------------------------------------------------- Social values (Q1-Q45)
IMPORTANCE = {1: "Very important", 2: "Rather important", 3: "Not very important", 4: "Not at all important"}
for n, item in zip(range(1, 7), ["Family", "Friends", "Leisure time", "Politics", "Work", "Religion"]):
    q(n, kind="ordinal", ordinal_high="less important",
      text=(f"For each of the following, indicate how important it is in your life: {item}. Would you say it is "
            "very important, rather important, not very important or not at all important?"),
      labels=IMPORTANCE,
      statements={c: f"{item} {'are' if item == 'Friends' else 'is'} {lab.lower()} in your life."
                  for c, lab in IMPORTANCE.items()})

QUALITIES = ["Good manners", "Independence", "Hard work", "Feeling of responsibility", "Imagination",
             "Tolerance and respect for other people", "Thrift, saving money and things",
             "Determination, perseverance", "Religious faith", "Not being selfish (unselfishness)", "Obedience"]
QUALITY_OBJECTS = ["good manners", "independence", "hard work", "a feeling of responsibility", "imagination",
                   "tolerance and respect for other people", "thrift (saving money and things)",
                   "determination and perseverance", "religious faith", "unselfishness (not being selfish)", "obedience"]
for n, item, low in zip(range(7, 18), QUALITIES, QUALITY_OBJECTS):
    q(n, kind="binary",
      text=("Here is a list of qualities that children can be encouraged to learn at home. Which, if any, do you "
            f"consider to be especially important? Please choose up to five. Quality: {item}."),
      labels={1: "Mentioned", 2: "Not mentioned"},
      statements={1: f"You consider {low} an especially important quality for children to learn at home.",
                  2: f"You did not choose {low} as one of the especially important qualities for children to learn at home."})

NEIGHBOURS = ["Drug addicts", "People of a different race", "People who have AIDS", "Immigrants/foreign workers",
              "Homosexuals", "People of a different religion", "Heavy drinkers", "Unmarried couples living together",
              "People who speak a different language"]
for n, item in zip(range(18, 27), NEIGHBOURS):
    low = lower_first(item).replace("immigrants/foreign workers", "immigrants or foreign workers")
    q(n, kind="binary",
      text=("On this list are various groups of people. Could you please mention any that you would not like to "
            f"have as neighbors? Group: {item}."),
      labels={1: "Mentioned", 2: "Not mentioned"},
      statements={1: f"You would not like to have {low} as neighbors.",
                  2: f"You did not mention {low} among the people you would not like to have as neighbors."})

AGREE4 = {1: "Strongly agree", 2: "Agree", 3: "Disagree", 4: "Strongly disagree"}
AGREE4_VERB = {1: "You strongly agree that", 2: "You agree that", 3: "You disagree that", 4: "You strongly disagree that"}
for n, item, clause in [
    (27, "One of my main goals in life has been to make my parents proud",
     "one of your main goals in life has been to make your parents proud"),
    (28, "When a mother works for pay, the children suffer", "when a mother works for pay, the children suffer"),
    (29, "On the whole, men make better political leaders than women do",
     "on the whole, men make better political leaders than women do"),
    (30, "A university education is more important for a boy than for a girl",
     "a university education is more important for a boy than for a girl"),
    (31, "On the whole, men make better business executives than women do",
     "on the whole, men make better business executives than women do"),
    (32, "Being a housewife is just as fulfilling as working for pay",
     "being a housewife is just as fulfilling as working for pay"),
]:
    q(n, kind="ordinal", ordinal_high="more disagreement",
      text=("For the following statement, can you tell me how strongly you agree or disagree with it? Do you "
            f"strongly agree, agree, disagree, or strongly disagree? \"{item}\""),
      labels=AGREE4, statements={c: f"{v} {clause}." for c, v in AGREE4_VERB.items()})

AGREE5 = {1: "Agree strongly", 2: "Agree", 3: "Neither agree nor disagree", 4: "Disagree", 5: "Disagree strongly"}
AGREE5_VERB = {1: "You strongly agree that", 2: "You agree that", 3: "You neither agree nor disagree that",
               4: "You disagree that", 5: "You strongly disagree that"}
for n, item, clause in [
    (33, "When jobs are scarce, men should have more right to a job than women",
     "when jobs are scarce, men should have more right to a job than women"),
    (34, "When jobs are scarce, employers should give priority to people of this country over immigrants",
     "when jobs are scarce, employers should give priority to people of your country over immigrants"),
    (35, "If a woman earns more money than her husband, it's almost certain to cause problems",
     "if a woman earns more money than her husband, it's almost certain to cause problems"),
    (36, "Homosexual couples are as good parents as other couples",
     "homosexual couples are as good parents as other couples"),
    (37, "It is a duty towards society to have children", "it is a duty towards society to have children"),
    (38, "Adult children have the duty to provide long-term care for their parents",
     "adult children have the duty to provide long-term care for their parents"),
    (39, "People who don't work turn lazy", "people who don't work turn lazy"),
    (40, "Work is a duty towards society", "work is a duty towards society"),
    (41, "Work should always come first, even if it means less spare time",
     "work should always come first, even if it means less spare time"),
]:
    q(n, kind="ordinal", ordinal_high="more disagreement",
      text=(f"How would you feel about the following statement? Do you agree or disagree with it? \"{item}\""),
      labels=AGREE5, statements={c: f"{v} {clause}." for c, v in AGREE5_VERB.items()})

q(42, kind="ordinal", ordinal_high="more in favour of keeping society as it is (1 revolution, 2 reform, 3 defend)",
  text=("On this card are three basic kinds of attitudes concerning the society we live in. Please choose the one "
        "which best describes your own opinion."),
  statements={1: "You think the entire way our society is organized must be radically changed by revolutionary action.",
              2: "You think our society must be gradually improved by reforms.",
              3: "You think our present society must be valiantly defended against all subversive forces."})

for n, item, phrase in [
    (43, "Less importance placed on work in our lives", "less importance placed on work in our lives"),
    (44, "More emphasis on the development of technology", "more emphasis on the development of technology"),
    (45, "Greater respect for authority", "greater respect for authority"),
]:
    q(n, kind="ordinal", ordinal_high="worse (1 good thing, 2 don't mind, 3 bad thing)",
      text=("I'm going to read out a list of various changes in our way of life that might take place in the near "
            "future. Please tell me, if it were to happen, whether you think it would be a good thing, a bad thing, "
            f"or don't you mind: {item}."),
      labels={1: "Good thing", 2: "Don't mind", 3: "Bad thing"},
      statements={1: f"You think it would be a good thing if there were {phrase}.",
                  2: f"You would not mind if there were {phrase}.",
                  3: f"You think it would be a bad thing if there were {phrase}."})

# ---------------------------------------------------------------- Happiness (Q46-Q56)
q(46, kind="ordinal", ordinal_high="less happy",
  text="Taking all things together, would you say you are:",
  statements={1: "You feel very happy.", 2: "You feel quite happy.", 3: "You do not feel very happy.",
              4: "You do not feel happy at all."})
q(47, kind="ordinal", ordinal_high="worse health",
  text=("All in all, how would you describe your state of health these days? Would you say it is very good, good, "
        "fair, poor or very poor?"),
  statements={c: f"You describe your state of health these days as {w}." for c, w in
              {1: "very good", 2: "good", 3: "fair", 4: "poor", 5: "very poor"}.items()})
lab, st = scale10("No choice at all", "A great deal of choice",
                  "On a scale from 1 (no choice at all) to 10 (a great deal of choice), you rate how much freedom of "
                  "choice and control you feel you have over the way your life turns out as {n}.")
q(48, kind="ordinal", ordinal_high="more freedom of choice and control", labels=lab, statements=st,
  text=("Some people feel they have completely free choice and control over their lives, while other people feel "
        "that what they do has no real effect on what happens to them. Please use this scale where 1 means \"no choice "
        "at all\" and 10 means \"a great deal of choice\" to indicate how much freedom of choice and control you feel "
        "you have over the way your life turns out."))
lab, st = scale10("Completely dissatisfied", "Completely satisfied",
                  "On a scale from 1 (completely dissatisfied) to 10 (completely satisfied), you rate your "
                  "satisfaction with your life as a whole these days as {n}.")
q(49, kind="ordinal", ordinal_high="more satisfied", labels=lab, statements=st,
  text=("All things considered, how satisfied are you with your life as a whole these days? Using this card on which "
        "1 means you are \"completely dissatisfied\" and 10 means you are \"completely satisfied\", where would you put "
        "your satisfaction with your life as a whole?"))
lab, st = scale10("Completely dissatisfied", "Completely satisfied",
                  "On a scale from 1 (completely dissatisfied) to 10 (completely satisfied), you rate your "
                  "satisfaction with the financial situation of your household as {n}.")
q(50, kind="ordinal", ordinal_high="more satisfied", labels=lab, statements=st,
  text=("How satisfied are you with the financial situation of your household? Please use the same scale, where 1 "
        "means \"completely dissatisfied\" and 10 means \"completely satisfied\"."))
OFTEN = {1: "Often", 2: "Sometimes", 3: "Rarely", 4: "Never"}
for n, item, vp in [
    (51, "Gone without enough food to eat", "gone without enough food to eat"),
    (52, "Felt unsafe from crime in your home", "felt unsafe from crime in your home"),
    (53, "Gone without medicine or medical treatment that you needed",
     "gone without medicine or medical treatment that you needed"),
    (54, "Gone without a cash income", "gone without a cash income"),
    (55, "Gone without a safe shelter over your head", "gone without a safe shelter over your head"),
]:
    q(n, kind="ordinal", ordinal_high="less often (1 often ... 4 never)",
      text=f"In the last 12 months, how often have you or your family: {item}? Often, sometimes, rarely or never?",
      labels=OFTEN,
      statements={c: f"In the last 12 months, you or your family have {w.lower()} {vp}." for c, w in OFTEN.items()})
q(56, kind="nominal",
  text=("Comparing your standard of living with your parents' standard of living when they were about your age, "
        "would you say that you are better off, worse off or about the same?"),
  labels={1: "Better off", 2: "Worse off", 3: "About the same"},
  statements={1: "You are better off than your parents were at your age.",
              2: "You are worse off than your parents were at your age.",
              3: "Your standard of living is about the same as your parents' was at your age."})

# ---------------------------------------------------------------- Trust (Q57-Q105)
q(57, kind="binary",
  text=("Generally speaking, would you say that most people can be trusted or that you need to be very careful in "
        "dealing with people?"),
  statements={1: "You think most people can be trusted.",
              2: "You think you need to be very careful in dealing with people."})
for n, item, obj in [
    (58, "Your family", "your family"), (59, "Your neighborhood", "people in your neighborhood"),
    (60, "People you know personally", "people you know personally"),
    (61, "People you meet for the first time", "people you meet for the first time"),
    (62, "People of another religion", "people of another religion"),
    (63, "People of another nationality", "people of another nationality"),
]:
    q(n, kind="ordinal", ordinal_high="less trust",
      text=("I'd like to ask you how much you trust people from various groups. Could you tell me whether you trust "
            f"people from this group completely, somewhat, not very much or not at all? {item}."),
      statements={1: f"You trust {obj} completely.", 2: f"You trust {obj} somewhat.",
                  3: f"You do not trust {obj} very much.", 4: f"You do not trust {obj} at all."})
CONFIDENCE = {1: "A great deal", 2: "Quite a lot", 3: "Not very much", 4: "None at all"}
for n, item, obj in [
    (64, "The churches (or the equivalent religious institutions: mosques, temples, etc.)",
     "the churches (or equivalent religious institutions)"),
    (65, "The armed forces", "the armed forces"), (66, "The press", "the press"),
    (67, "Television", "television"), (68, "Labor unions", "labor unions"), (69, "The police", "the police"),
    (70, "The courts", "the courts"), (71, "The government", "the government"),
    (72, "Political parties", "political parties"), (73, "Parliament", "parliament"),
    (74, "The civil service", "the civil service"), (75, "Universities", "universities"),
    (76, "Elections", "elections"), (77, "Major companies", "major companies"), (78, "Banks", "banks"),
    (79, "Environmental organizations", "environmental organizations"),
    (80, "Women's organizations", "women's organizations"),
    (81, "Charitable or humanitarian organizations", "charitable or humanitarian organizations"),
    (82, "The major regional organization of your region (for example the European Union, African Union, ASEAN, "
         "Mercosur or the Arab League)", "the major regional organization of your region"),
    (83, "The United Nations", "the United Nations"),
    (84, "The International Monetary Fund (IMF)", "the International Monetary Fund (IMF)"),
    (85, "International Criminal Court (ICC)", "the International Criminal Court (ICC)"),
    (86, "The North Atlantic Treaty Organization (NATO)", "the North Atlantic Treaty Organization (NATO)"),
    (87, "The World Bank", "the World Bank"),
    (88, "The World Health Organization (WHO)", "the World Health Organization (WHO)"),
    (89, "The World Trade Organization (WTO)", "the World Trade Organization (WTO)"),
]:
    q(n, kind="ordinal", ordinal_high="less confidence",
      text=("I am going to name a number of organizations. For each one, could you tell me how much confidence you "
            "have in them: is it a great deal of confidence, quite a lot of confidence, not very much confidence or "
            f"none at all? {item}."),
      labels=CONFIDENCE,
      statements={1: f"You have a great deal of confidence in {obj}.",
                  2: f"You have quite a lot of confidence in {obj}.",
                  3: f"You do not have very much confidence in {obj}.",
                  4: f"You have no confidence at all in {obj}."})
lab, st = scale10("Being effective", "Being democratic",
                  "On a scale from 1 (being effective) to 10 (being democratic), you place your view of what "
                  "international organizations should prioritize at {n}.")
q(90, kind="ordinal", ordinal_high="more priority on being democratic", labels=lab, statements=st,
  text=("Nowadays there's a lot of talk about international organizations. People sometimes say that international "
        "organizations should prioritize improving people's lives, even if this may imply that decisions are not made "
        "democratically. What do you think should international organizations prioritize, being effective or being "
        "democratic? If your views are somewhat mixed, choose the appropriate number in between."))
KNOW = ("Here are some questions about international organizations. Many people don't know the answers to these "
        "questions, but if you do please tell me. ")
q(91, kind="nominal",
  text=KNOW + ("Five countries have permanent seats on the Security Council of the United Nations. Which one of the "
               "following is not a member? A) France, B) China, C) India"),
  labels={1: "A) France", 2: "B) China", 3: "C) India"},
  statements={c: ("Asked which of France, China and India is not a permanent member of the UN Security Council, "
                  f"you answered {w}.") for c, w in {1: "France", 2: "China", 3: "India"}.items()})
q(92, kind="nominal",
  text=KNOW + ("Where are the headquarters of the International Monetary Fund (IMF) located? A) Washington DC, "
               "B) London, C) Geneva"),
  labels={1: "A) Washington DC", 2: "B) London", 3: "C) Geneva"},
  statements={c: f"You think the headquarters of the International Monetary Fund (IMF) are in {w}." for c, w in
              {1: "Washington DC", 2: "London", 3: "Geneva"}.items()})
q(93, kind="nominal",
  text=KNOW + ("Which of the following problems does the organization Amnesty International deal with? "
               "A) Climate change, B) Human rights, C) Destruction of historic monuments"),
  labels={1: "A) Climate change", 2: "B) Human rights", 3: "C) Destruction of historic monuments"},
  statements={c: f"You think Amnesty International deals with {w}." for c, w in
              {1: "climate change", 2: "human rights", 3: "the destruction of historic monuments"}.items()})
MEMBER = {0: "Don't belong", 1: "Inactive member", 2: "Active member"}
for n, item, obj in [
    (94, "Church or religious organization", "a church or religious organization"),
    (95, "Sport or recreational organization, football/baseball/rugby team",
     "a sport or recreational organization (such as a football, baseball or rugby team)"),
    (96, "Art, music or educational organization", "an art, music or educational organization"),
    (97, "Labor union", "a labor union"), (98, "Political party", "a political party"),
    (99, "Environmental organization", "an environmental organization"),
    (100, "Professional association", "a professional association"),
    (101, "Humanitarian or charitable organization", "a humanitarian or charitable organization"),
    (102, "Consumer organization", "a consumer organization"),
    (103, "Self-help group, mutual aid group", "a self-help or mutual aid group"),
    (104, "Women's group", "a women's group"), (105, "Other organization", "another kind of voluntary organization"),
]:
    q(n, kind="ordinal", ordinal_high="more active membership (0 none, 1 inactive, 2 active)",
      text=("Now I am going to read off a list of voluntary organizations. Could you tell me whether you are an active "
            f"member, an inactive member or not a member of this type of organization? {item}."),
      labels=MEMBER,
      statements={0: f"You do not belong to {obj}.", 1: f"You are an inactive member of {obj}.",
                  2: f"You are an active member of {obj}."})

# ---------------------------------------------------------------- Economic values (Q106-Q111)
ECON_STEM = ("Now I'd like you to tell me your views on various issues. How would you place your views on this "
             "scale? 1 means you agree completely with the statement on the left; 10 means you agree completely with "
             "the statement on the right; and if your views fall somewhere in between, you can choose any number in "
             "between.")
for n, left, right, high in [
    (106, "Incomes should be made more equal", "There should be greater incentives for individual effort",
     "more in favour of incentives for individual effort"),
    (107, "Private ownership of business and industry should be increased",
     "Government ownership of business and industry should be increased", "more in favour of government ownership"),
    (108, "Government should take more responsibility to ensure that everyone is provided for",
     "People should take more responsibility to provide for themselves",
     "more in favour of individual responsibility"),
    (109, "Competition is good", "Competition is harmful", "competition seen as more harmful"),
    (110, "In the long run, hard work usually brings a better life",
     "Hard work doesn't generally bring success - it's more a matter of luck and connections",
     "success seen as more a matter of luck and connections"),
]:
    lab, st = scale10(left, right, f"On a scale from 1 (\"{left}\") to 10 (\"{right}\"), you place your view at {{n}}.")
    q(n, kind="ordinal", ordinal_high=high, labels=lab, statements=st,
      text=f"{ECON_STEM} Left (1): \"{left}.\" Right (10): \"{right}.\"")
q(111, kind="nominal",
  text=("Here are two statements people sometimes make when discussing the environment and economic growth. Which "
        "of them comes closer to your own point of view?"),
  labels={1: "Protecting the environment should be given priority, even if it causes slower economic growth and some "
             "loss of jobs",
          2: "Economic growth and creating jobs should be the top priority, even if the environment suffers to some "
             "extent",
          3: "Other answer (volunteered)"},
  statements={1: ("You think protecting the environment should be given priority, even if it causes slower economic "
                  "growth and some loss of jobs."),
              2: ("You think economic growth and creating jobs should be the top priority, even if the environment "
                  "suffers to some extent."),
              3: "On environment versus economic growth, you gave an answer other than the two statements offered."})

# ---------------------------------------------------------------- Corruption (Q112-Q120)
lab, st = scale10("There is no corruption in my country", "There is abundant corruption in my country",
                  "On a scale from 1 (there is no corruption in your country) to 10 (there is abundant corruption in "
                  "your country), you rate corruption in your country as {n}.")
q(112, kind="ordinal", ordinal_high="more corruption perceived", labels=lab, statements=st,
  text=("Now I'd like you to tell me your views on corruption - when people pay a bribe, give a gift or do a favor to "
        "other people in order to get the things they need done or the services they need. How would you place your "
        "views on corruption in your country on a 10-point scale where \"1\" means \"there is no corruption in my "
        "country\" and \"10\" means \"there is abundant corruption in my country\"? If your views are somewhat mixed, "
        "choose the appropriate number in between."))
for n, item, obj in [
    (113, "State authorities", "state authorities"), (114, "Business executives", "business executives"),
    (115, "Local authorities", "local authorities"),
    (116, "Civil service providers (police, judiciary, civil servants, doctors, teachers)",
     "civil service providers (police, judiciary, civil servants, doctors, teachers)"),
    (117, "Journalists and media", "journalists and media people"),
]:
    q(n, kind="ordinal", ordinal_high="more of them seen as corrupt",
      text=("Among the following groups of people, how many do you believe are involved in corruption? Is it none of "
            f"them, few of them, most of them or all of them? {item}."),
      statements={c: f"You believe {w} {obj} are involved in corruption." for c, w in
                  {1: "none of the", 2: "few of the", 3: "most of the", 4: "all of the"}.items()})
q(118, kind="ordinal", ordinal_high="more frequent bribery",
  text=("We want to know about your experience with local officials and service providers, like police officers, "
        "lawyers, doctors, teachers and civil servants in your community. How often do you think ordinary people like "
        "yourself or people from your neighbourhood have to pay a bribe, give a gift or do a favor to these people in "
        "order to get the services you need? Does it happen never, rarely, frequently or always?"),
  statements={c: (f"You think ordinary people like you {w} have to pay a bribe, give a gift or do a favor to local "
                  "officials and service providers to get the services they need.") for c, w in
              {1: "never", 2: "rarely", 3: "frequently", 4: "always"}.items()})
q(119, kind="nominal",
  text=("Can you tell me how strongly you agree or disagree with the following statement: \"On the whole, women are "
        "less corrupt than men\"? Strongly agree, agree, disagree, strongly disagree (or hard to say)?"),
  labels={0: "Hard to say", 1: "Strongly agree", 2: "Agree", 3: "Disagree", 4: "Strongly disagree"},
  statements={0: "You find it hard to say whether, on the whole, women are less corrupt than men.",
              **{c: f"{v} on the whole, women are less corrupt than men." for c, v in AGREE4_VERB.items()}})
lab, st = scale10("No risk at all", "Very high risk",
                  "On a scale from 1 (no risk at all) to 10 (very high risk), you rate the risk in your country of being "
                  "held accountable for giving or receiving a bribe, gift or favor in return for public service as {n}.")
q(120, kind="ordinal", ordinal_high="higher risk", labels=lab, statements=st,
  text=("How high is the risk in this country to be held accountable for giving or receiving a bribe, gift or favor "
        "in return for public service? To indicate your opinion, use a 10-point scale where \"1\" means \"no risk at "
        "all\" and \"10\" means \"very high risk\"."))

# ---------------------------------------------------------------- Migration (Q121-Q130)
q(121, kind="ordinal", ordinal_high="more positive impact (1 very bad ... 5 very good)",
  text=("Now we would like to know your opinion about the people from other countries who come to live in this "
        "country - the immigrants. How would you evaluate the impact of these people on the development of this "
        "country? Very good, quite good, neither good nor bad, quite bad or very bad?"),
  labels={1: "Very bad", 2: "Quite bad", 3: "Neither good, nor bad", 4: "Quite good", 5: "Very good"},
  statements={c: f"You evaluate the impact of immigrants on the development of your country as {w}." for c, w in
              {1: "very bad", 2: "quite bad", 3: "neither good nor bad", 4: "quite good", 5: "very good"}.items()})
for n, item, clause in [
    (122, "Fills important jobs vacancies", "fills important job vacancies"),
    (123, "Strengthens cultural diversity", "strengthens cultural diversity"),
    (124, "Increases the crime rate", "increases the crime rate"),
    (125, "Gives asylum to political refugees who are persecuted elsewhere",
     "gives asylum to political refugees who are persecuted elsewhere"),
    (126, "Increases the risks of terrorism", "increases the risks of terrorism"),
    (127, "Offers people from poor countries a better living", "offers people from poor countries a better living"),
    (128, "Increases unemployment", "increases unemployment"),
    (129, "Leads to social conflict", "leads to social conflict"),
]:
    q(n, kind="ordinal", ordinal_high="more agreement (0 disagree, 1 hard to say, 2 agree)",
      text=("From your point of view, what have been the effects of immigration on the development of this country? "
            "Please tell me whether you agree or disagree with the following statement about the effects of "
            f"immigration: immigration {lower_first(item)}."),
      labels={0: "Disagree", 1: "Hard to say", 2: "Agree"},
      statements={0: f"You disagree that immigration in your country {clause}.",
                  1: f"You find it hard to say whether immigration in your country {clause}.",
                  2: f"You agree that immigration in your country {clause}."})
q(130, kind="ordinal", ordinal_high="more restrictive immigration policy",
  text=("How about people from other countries coming here to work. Which one of the following do you think the "
        "government should do?"),
  statements={1: "You think the government should let anyone come to work who wants to.",
              2: "You think the government should let people come to work as long as there are jobs available.",
              3: "You think the government should place strict limits on the number of foreigners who can come here.",
              4: "You think the government should prohibit people coming here from other countries."})

# ---------------------------------------------------------------- Security (Q131-Q151)
q(131, kind="ordinal", ordinal_high="less secure",
  text="Could you tell me how secure do you feel these days? Very secure, quite secure, not very secure or not at all secure?",
  labels={1: "Very secure", 2: "Quite secure", 3: "Not very secure", 4: "Not at all secure"},
  statements={1: "You feel very secure these days.", 2: "You feel quite secure these days.",
              3: "You do not feel very secure these days.", 4: "You do not feel secure at all these days."})
FREQ4 = {1: "Very frequently", 2: "Quite frequently", 3: "Not frequently", 4: "Not at all frequently"}
for n, item, subj in [
    (132, "Robberies", "robberies"), (133, "Alcohol consumption in the streets", "alcohol consumption in the streets"),
    (134, "Police or military interfere with people's private life",
     "police or military interference with people's private life"),
    (135, "Racist behavior", "racist behavior"), (136, "Drug sale in streets", "drug sales in the streets"),
    (137, "Street violence and fights", "street violence and fights"), (138, "Sexual harassment", "sexual harassment"),
]:
    q(n, kind="ordinal", ordinal_high="less frequent",
      text=("How frequently do the following things occur in your neighborhood? Very frequently, quite frequently, "
            f"not frequently or not at all frequently? {item}."),
      labels=FREQ4,
      statements=(lambda S, plural: {
          1: f"{S} {'happen' if plural else 'happens'} very frequently in your neighborhood.",
          2: f"{S} {'happen' if plural else 'happens'} quite frequently in your neighborhood.",
          3: f"{S} {'do' if plural else 'does'} not happen frequently in your neighborhood.",
          4: f"{S} {'do' if plural else 'does'} not happen at all frequently in your neighborhood.",
      })(subj[0].upper() + subj[1:], n in (132, 136, 137)))
for n, item, yes, no in [
    (139, "Didn't carry much money", "For reasons of security, you have avoided carrying much money.",
     "You have not avoided carrying much money for reasons of security."),
    (140, "Preferred not to go out at night", "For reasons of security, you have preferred not to go out at night.",
     "You have not avoided going out at night for reasons of security."),
    (141, "Carried a knife, gun or other weapon", "For reasons of security, you have carried a knife, gun or other weapon.",
     "You have not carried a knife, gun or other weapon for reasons of security."),
]:
    q(n, kind="binary",
      text=f"Which of the following things have you done for reasons of security? {item}: yes or no?",
      statements={1: yes, 2: no})
WORRY = {1: "Very much", 2: "A good deal", 3: "Not much", 4: "Not at all"}
for n, item, obj in [
    (142, "Losing my job or not finding a job", "losing your job or not finding a job"),
    (143, "Not being able to give my children a good education", "not being able to give your children a good education"),
    (146, "A war involving my country", "a war involving your country"),
    (147, "A terrorist attack", "a terrorist attack"), (148, "A civil war", "a civil war"),
]:
    q(n, kind="ordinal", ordinal_high="less worried",
      text=("To what degree are you worried about the following situation? Very much, a good deal, not much or not at "
            f"all? {item}."),
      labels=WORRY,
      statements={1: f"You worry very much about {obj}.", 2: f"You worry a good deal about {obj}.",
                  3: f"You do not worry much about {obj}.", 4: f"You do not worry at all about {obj}."})
q(144, kind="binary", text="Have you been the victim of a crime during the past year?",
  statements={1: "You have been the victim of a crime during the past year.",
              2: "You have not been the victim of a crime during the past year."})
q(145, kind="binary",
  text=("And what about your immediate family - has someone in your family been the victim of a crime during the "
        "last year?"),
  statements={1: "Someone in your immediate family has been the victim of a crime during the last year.",
              2: "No one in your immediate family has been the victim of a crime during the last year."})
for n, other in [(149, "equality"), (150, "security")]:
    q(n, kind="binary",
      text=(f"Most people consider both freedom and {other} to be important, but if you had to choose between them, "
            "which one would you consider more important?"),
      statements={1: f"If you had to choose, you would consider freedom more important than {other}.",
                  2: f"If you had to choose, you would consider {other} more important than freedom."})
q(151, kind="binary",
  text=("Of course, we all hope that there will not be another war, but if it were to come to that, would you be "
        "willing to fight for your country?"),
  statements={1: "You would be willing to fight for your country if there were a war.",
              2: "You would not be willing to fight for your country if there were a war."})

# ---------------------------------------------------------------- Postmaterialist index (Q152-Q157)
AIMS = {1: "A high level of economic growth", 2: "Making sure this country has strong defense forces",
        3: "Seeing that people have more say about how things are done at their jobs and in their communities",
        4: "Trying to make our cities and countryside more beautiful"}
AIMS_ST = {1: "a high level of economic growth", 2: "making sure your country has strong defense forces",
           3: "seeing that people have more say about how things are done at their jobs and in their communities",
           4: "trying to make your cities and countryside more beautiful"}
AIMS_STEM = ("People sometimes talk about what the aims of this country should be for the next ten years. On this card "
             "are listed some of the goals which different people would give top priority.")
q(152, kind="nominal", labels=AIMS,
  text=AIMS_STEM + " Would you please say which one of these you, yourself, consider the most important?",
  statements={c: f"Among the aims for your country for the next ten years, your first choice is {w}." for c, w in AIMS_ST.items()})
q(153, kind="nominal", labels=AIMS,
  text=AIMS_STEM + " And which would be the next most important (your second choice)?",
  statements={c: f"Among the aims for your country for the next ten years, your second choice is {w}." for c, w in AIMS_ST.items()})
GOALS = {1: "Maintaining order in the nation", 2: "Giving people more say in important government decisions",
         3: "Fighting rising prices", 4: "Protecting freedom of speech"}
for n, which, stem in [(154, "first", "If you had to choose, which one of the things on this card would you say is most important?"),
                       (155, "second", "If you had to choose among these things (maintaining order in the nation; giving people more say in important government decisions; fighting rising prices; protecting freedom of speech), which would be the next most important (your second choice)?")]:
    q(n, kind="nominal", labels=GOALS, text=stem,
      statements={c: f"Among these national goals, your {which} choice is {lower_first(w)}." for c, w in GOALS.items()})
LIST3 = {1: "A stable economy", 2: "Progress toward a less impersonal and more humane society",
         3: "Progress toward a society in which ideas count more than money", 4: "The fight against crime"}
for n, which, stem in [(156, "first", "Here is another list. In your opinion, which one of these is most important?"),
                       (157, "second", "Here is another list (a stable economy; progress toward a less impersonal and more humane society; progress toward a society in which ideas count more than money; the fight against crime). Which would be the next most important (your second choice)?")]:
    q(n, kind="nominal", labels=LIST3, text=stem,
      statements={c: f"Of these goals, your {which} choice as most important is {lower_first(w)}." for c, w in LIST3.items()})
# Give Q154 and Q156 the list in their text too, so each item reads on its own.
SPEC["Q154"]["text"] = ("If you had to choose, which one of the following things would you say is most important: "
                        "maintaining order in the nation; giving people more say in important government decisions; "
                        "fighting rising prices; protecting freedom of speech?")
SPEC["Q156"]["text"] = ("Here is another list. In your opinion, which one of these is most important: a stable economy; "
                        "progress toward a less impersonal and more humane society; progress toward a society in which "
                        "ideas count more than money; the fight against crime?")

# ---------------------------------------------------------------- Science & technology (Q158-Q163)
SCI_STEM = ("Now, I would like to read some statements and ask how much you agree or disagree with each of these "
            "statements. For these questions, a 1 means that you \"completely disagree\" and a 10 means that you "
            "\"completely agree.\"")
for n, item in [
    (158, "Science and technology are making our lives healthier, easier, and more comfortable."),
    (159, "Because of science and technology, there will be more opportunities for the next generation."),
    (160, "We depend too much on science and not enough on faith."),
    (161, "One of the bad effects of science is that it breaks down people's ideas of right and wrong."),
    (162, "It is not important for me to know about science in my daily life."),
]:
    lab, st = scale10("Completely disagree", "Completely agree",
                      "On a scale from 1 (completely disagree) to 10 (completely agree), you rate your agreement with "
                      f"the statement \"{item[:-1]}\" as {{n}}.")
    q(n, kind="ordinal", ordinal_high="more agreement", labels=lab, statements=st, text=f"{SCI_STEM} \"{item}\"")
lab, st = scale10("A lot worse off", "A lot better off",
                  "On a scale from 1 (the world is a lot worse off) to 10 (the world is a lot better off), you rate how "
                  "science and technology have affected the world as {n}.")
q(163, kind="ordinal", ordinal_high="world better off", labels=lab, statements=st,
  text=("All things considered, would you say that the world is better off, or worse off, because of science and "
        "technology? Please tell me which comes closest to your view on this scale: 1 means that \"the world is a lot "
        "worse off,\" and 10 means that \"the world is a lot better off.\""))

# ---------------------------------------------------------------- Religious values (Q164-Q175)
lab, st = scale10("Not at all important", "Very important",
                  "On a scale from 1 (not at all important) to 10 (very important), you rate the importance of God in "
                  "your life as {n}.")
q(164, kind="ordinal", ordinal_high="more important", labels=lab, statements=st,
  text=("How important is God in your life? Please use this scale to indicate. 10 means \"very important\" and 1 means "
        "\"not at all important.\""))
for n, item, obj in [(165, "God", "God"), (166, "Life after death", "life after death"), (167, "Hell", "hell"),
                     (168, "Heaven", "heaven")]:
    q(n, kind="binary", text=f"Which, if any, of the following do you believe in? {item}: yes or no?",
      statements={1: f"You believe in {obj}.", 2: f"You do not believe in {obj}."})
for n, item, clause in [
    (169, "Whenever science and religion conflict, religion is always right",
     "whenever science and religion conflict, religion is always right"),
    (170, "The only acceptable religion is my religion", "the only acceptable religion is your religion"),
]:
    q(n, kind="ordinal", ordinal_high="more disagreement",
      text=("Please tell us if you strongly agree, agree, disagree, or strongly disagree with the following statement: "
            f"\"{item}.\""),
      labels=AGREE4, statements={c: f"{v} {clause}." for c, v in AGREE4_VERB.items()})
q(171, kind="ordinal", ordinal_high="less often",
  text="Apart from weddings and funerals, about how often do you attend religious services these days?",
  statements={c: f"Apart from weddings and funerals, you attend religious services {w}." for c, w in
              {1: "more than once a week", 2: "once a week", 3: "once a month", 4: "only on special holy days",
               5: "once a year", 6: "less often than once a year"}.items()}
  | {7: "Apart from weddings and funerals, you never or practically never attend religious services."})
q(172, kind="ordinal", ordinal_high="less often",
  text="Apart from weddings and funerals, about how often do you pray?",
  statements={c: f"Apart from weddings and funerals, you pray {w}." for c, w in
              {1: "several times a day", 2: "once a day", 3: "several times each week",
               4: "only when attending religious services", 5: "only on special holy days", 6: "once a year",
               7: "less often than once a year"}.items()}
  | {8: "Apart from weddings and funerals, you never or practically never pray."})
q(173, kind="ordinal", ordinal_high="less religious (1 religious, 2 not religious, 3 atheist)",
  text="Independently of whether you attend religious services or not, would you say you are a religious person, not a religious person or an atheist?",
  statements={1: "You are a religious person.", 2: "You are not a religious person.", 3: "You are an atheist."})
q(174, kind="binary",
  text=("With which one of the following statements do you agree most? The basic meaning of religion is: to follow "
        "religious norms and ceremonies, or to do good to other people?"),
  labels={1: "To follow religious norms and ceremonies", 2: "To do good to other people"},
  statements={1: "To you, the basic meaning of religion is to follow religious norms and ceremonies.",
              2: "To you, the basic meaning of religion is to do good to other people."})
q(175, kind="binary",
  text=("And with which of the following statements do you agree most? The basic meaning of religion is: to make "
        "sense of life after death, or to make sense of life in this world?"),
  labels={1: "To make sense of life after death", 2: "To make sense of life in this world"},
  statements={1: "To you, the basic meaning of religion is to make sense of life after death.",
              2: "To you, the basic meaning of religion is to make sense of life in this world."})

# ---------------------------------------------------------------- Ethical values (Q176-Q198)
lab, st = scale10("Completely agree", "Completely disagree",
                  "On a scale from 1 (completely agree) to 10 (completely disagree), you place your view on the "
                  "statement that nowadays one often has trouble deciding which moral rules are the right ones to "
                  "follow at {n}.")
q(176, kind="ordinal", ordinal_high="more disagreement", labels=lab, statements=st,
  text=("How much do you agree or disagree with the statement that nowadays one often has trouble deciding which "
        "moral rules are the right ones to follow? (1 = completely agree, 10 = completely disagree)"))
for n, item, obj in [
    (177, "Claiming government benefits to which you are not entitled",
     "claiming government benefits to which one is not entitled"),
    (178, "Avoiding a fare on public transport", "avoiding a fare on public transport"),
    (179, "Stealing property", "stealing property"),
    (180, "Cheating on taxes if you have a chance", "cheating on taxes if one has a chance"),
    (181, "Someone accepting a bribe in the course of their duties",
     "someone accepting a bribe in the course of their duties"),
    (182, "Homosexuality", "homosexuality"), (183, "Prostitution", "prostitution"), (184, "Abortion", "abortion"),
    (185, "Divorce", "divorce"), (186, "Sex before marriage", "sex before marriage"), (187, "Suicide", "suicide"),
    (188, "Euthanasia", "euthanasia"), (189, "For a man to beat his wife", "a man beating his wife"),
    (190, "Parents beating children", "parents beating children"),
    (191, "Violence against other people", "violence against other people"),
    (192, "Terrorism as a political, ideological or religious mean",
     "terrorism as a political, ideological or religious means"),
    (193, "Having casual sex", "having casual sex"), (194, "Political violence", "political violence"),
    (195, "Death penalty", "the death penalty"),
]:
    lab, st = scale10("Never justifiable", "Always justifiable",
                      f"On a scale from 1 (never justifiable) to 10 (always justifiable), you rate {obj} as {{n}}.")
    q(n, kind="ordinal", ordinal_high="more justifiable", labels=lab, statements=st,
      text=("Please tell me for the following action whether you think it can always be justified, never be "
            "justified, or something in between, using this card where 1 means \"never justifiable\" and 10 means "
            f"\"always justifiable\": {item}."))
RIGHT = {1: "Definitely should have the right", 2: "Probably should have the right",
         3: "Probably should not have the right", 4: "Definitely should not have the right"}
for n, item, vp in [
    (196, "Keep people under video surveillance in public areas", "keep people under video surveillance in public areas"),
    (197, "Monitor all e-mails and any other information exchanged on the Internet",
     "monitor all e-mails and any other information exchanged on the Internet"),
    (198, "Collect information about anyone living in this country without their knowledge",
     "collect information about anyone living in your country without their knowledge"),
]:
    q(n, kind="ordinal", ordinal_high="less in favour of the government having this right",
      text=("Do you think that your country's government should or should not have the right to do the following: "
            f"{item}? Definitely should, probably should, probably should not or definitely should not have the right?"),
      labels=RIGHT,
      statements={c: f"You think your country's government {lower_first(w)} to {vp}." for c, w in RIGHT.items()})

# ---------------------------------------------------------------- Political interest & participation (Q199-Q234)
q(199, kind="ordinal", ordinal_high="less interested",
  text=("How interested would you say you are in politics? Are you very interested, somewhat interested, not very "
        "interested or not at all interested?"),
  statements={c: f"You are {w} in politics." for c, w in
              {1: "very interested", 2: "somewhat interested", 3: "not very interested", 4: "not at all interested"}.items()})
q(200, kind="ordinal", ordinal_high="less often",
  text=("When you get together with your friends, would you say you discuss political matters frequently, "
        "occasionally or never?"),
  statements={c: f"When you get together with your friends, you {w} discuss political matters." for c, w in
              {1: "frequently", 2: "occasionally", 3: "never"}.items()})
SOURCE_FREQ = {1: "every day", 2: "every week", 3: "every month", 4: "less than once a month"}
for n, item, obj in [
    (201, "Daily newspaper", "a daily newspaper"), (202, "TV news", "TV news"), (203, "Radio news", "radio news"),
    (204, "Mobile phone", "your mobile phone"), (205, "Email", "email"), (206, "Internet", "the Internet"),
    (207, "Social media (Facebook, Twitter, etc.)", "social media (Facebook, Twitter, etc.)"),
    (208, "Talk with friends or colleagues", "talking with friends or colleagues"),
]:
    st = {c: f"You get information about what is going on in your country and the world from {obj} {w}."
          for c, w in SOURCE_FREQ.items()}
    st[5] = f"You never get information about what is going on in your country and the world from {obj}."
    q(n, kind="ordinal", ordinal_high="less often",
      text=("People learn what is going on in this country and the world from various sources. For the following "
            "source, please indicate whether you use it to obtain information daily, weekly, monthly, less than monthly "
            f"or never: {item}."),
      statements=st)
ACTION_STEMS = {
    "offline": ("Now I'd like you to look at this card. I'm going to read out some forms of political action that "
                "people can take, and I'd like you to tell me whether you have done this, whether you might do it or "
                "would never under any circumstances do it: "),
    "activism": ("What about these forms of political action and social activism that people can take? Please tell me "
                 "whether you have done this, whether you might do it or would never under any circumstances do it: "),
    "online": ("I'm going to read out some other forms of political action that people can take using Internet and "
               "social media tools like Facebook, Twitter etc. Please tell me whether you have done this, whether you "
               "might do it or would never under any circumstances do it: "),
}
for n, stem, item, done, base in [
    (209, "offline", "Signing a petition", "signed a petition", "sign a petition"),
    (210, "offline", "Joining in boycotts", "joined in boycotts", "join in boycotts"),
    (211, "offline", "Attending peaceful demonstrations", "attended peaceful demonstrations", "attend peaceful demonstrations"),
    (212, "offline", "Joining strikes", "joined strikes", "join strikes"),
    (213, "activism", "Donating to a group or campaign", "donated to a group or campaign", "donate to a group or campaign"),
    (214, "activism", "Contacting a government official", "contacted a government official", "contact a government official"),
    (215, "activism", "Encouraging others to take action about political issues",
     "encouraged others to take action about political issues", "encourage others to take action about political issues"),
    (216, "activism", "Encouraging others to vote", "encouraged others to vote", "encourage others to vote"),
    (217, "online", "Searching information about politics and political events",
     "searched online for information about politics and political events",
     "search online for information about politics and political events"),
    (218, "online", "Signing an electronic petition", "signed an electronic petition", "sign an electronic petition"),
    (219, "online", "Encouraging other people to take any form of political action",
     "used the Internet or social media to encourage other people to take political action",
     "use the Internet or social media to encourage other people to take political action"),
    (220, "online", "Organizing political activities, events, protests",
     "used the Internet or social media to organize political activities, events or protests",
     "use the Internet or social media to organize political activities, events or protests"),
]:
    q(n, kind="ordinal", ordinal_high="less willing (1 have done, 2 might do, 3 would never do)",
      text=ACTION_STEMS[stem] + item + ".",
      labels={1: "Have done", 2: "Might do", 3: "Would never do"},
      statements={1: f"You have {done}.", 2: f"You have not {done}, but you might do it.",
                  3: f"You would never {base}, under any circumstances."})
for n, level in [(221, "local"), (222, "national")]:
    q(n, kind="nominal",
      text=("When elections take place, do you vote always, usually or never? Please tell me for the following "
            f"level: {level.capitalize()} level."),
      statements={1: f"You always vote in {level} elections.", 2: f"You usually vote in {level} elections.",
                  3: f"You never vote in {level} elections.", 4: f"You are not allowed to vote in {level} elections."})
q(223, kind="nominal",
  text=("If there were a national election tomorrow, for which party on this list would you vote? If you don't know: "
        "which party appeals to you most?"),
  labels={3: "I would cast a blank ballot", 5: "Other party", 7: "Null vote"},
  statements={1: "You have no right to vote in national elections.",
              2: "If there were a national election tomorrow, you would not vote.",
              3: "If there were a national election tomorrow, you would cast a blank ballot.",
              4: "If there were a national election tomorrow, there is no party you would vote for.",
              5: "If there were a national election tomorrow, you would vote for a party not on the list.",
              7: "If there were a national election tomorrow, you would cast a null (spoiled) vote.",
              8: "If there were a national election tomorrow, you would vote for an independent candidate."},
  statement_template="If there were a national election tomorrow, you would vote for {name}.",
  country_specific=True)
ELECTION = {1: "Very often", 2: "Fairly often", 3: "Not often", 4: "Not at all often"}
for n, item, clause in [
    (224, "Votes are counted fairly", "votes are counted fairly"),
    (225, "Opposition candidates are prevented from running", "opposition candidates are prevented from running"),
    (226, "TV news favors the governing party", "TV news favors the governing party"),
    (227, "Voters are bribed", "voters are bribed"),
    (228, "Journalists provide fair coverage of elections", "journalists provide fair coverage of elections"),
    (229, "Election officials are fair", "election officials are fair"),
    (230, "Rich people buy elections", "rich people buy elections"),
    (231, "Voters are threatened with violence at the polls", "voters are threatened with violence at the polls"),
    (232, "Voters are offered a genuine choice in the elections", "voters are offered a genuine choice in the elections"),
    (233, "Women have equal opportunities to run the office", "women have equal opportunities to run for office"),
]:
    q(n, kind="ordinal", ordinal_high="less often",
      text=("In your view, how often do the following things occur in this country's elections? Very often, fairly "
            f"often, not often or not at all often? {item}."),
      labels=ELECTION,
      statements={c: f"You think it happens {w.lower()} in your country's elections that {clause}." for c, w in ELECTION.items()})
q(234, kind="ordinal", ordinal_high="less important",
  text=("Some people think that having honest elections makes a lot of difference in their lives; other people think "
        "that it doesn't matter much. How important would you say is having honest elections for you - very "
        "important, rather important, not very important or not at all important?"),
  labels=IMPORTANCE,
  statements={c: f"Having honest elections is {w.lower()} to you." for c, w in IMPORTANCE.items()})

# ---------------------------------------------------------------- Political culture & regimes (Q235-Q259)
GOVERN = {1: "Very good", 2: "Fairly good", 3: "Fairly bad", 4: "Very bad"}
for n, item in [
    (235, "Having a strong leader who does not have to bother with parliament and elections"),
    (236, "Having experts, not government, make decisions according to what they think is best for the country"),
    (237, "Having the army rule"), (238, "Having a democratic political system"),
    (239, "Having a system governed by religious law in which there are no political parties or elections"),
]:
    q(n, kind="ordinal", ordinal_high="worse way of governing",
      text=("I'm going to describe various types of political systems and ask what you think about each as a way of "
            "governing this country. Would you say it is a very good, fairly good, fairly bad or very bad way of "
            f"governing this country? {item}."),
      labels=GOVERN,
      statements={c: f"You think {lower_first(item)} is a {w.lower()} way of governing your country." for c, w in GOVERN.items()})
lab, st = scale10("Left", "Right", "On a scale from 1 (left) to 10 (right), you place your political views at {n}.")
q(240, kind="ordinal", ordinal_high="further right", labels=lab, statements=st,
  text=("In political matters, people talk of \"the left\" and \"the right.\" How would you place your views on this "
        "scale, generally speaking? (1 = left, 10 = right)"))
for n, item, clause in [
    (241, "Governments tax the rich and subsidize the poor", "governments tax the rich and subsidize the poor"),
    (242, "Religious authorities ultimately interpret the laws", "religious authorities ultimately interpret the laws"),
    (243, "People choose their leaders in free elections", "people choose their leaders in free elections"),
    (244, "People receive state aid for unemployment", "people receive state aid for unemployment"),
    (245, "The army takes over when government is incompetent", "the army takes over when government is incompetent"),
    (246, "Civil rights protect people from state oppression", "civil rights protect people from state oppression"),
    (247, "The state makes people's incomes equal", "the state makes people's incomes equal"),
    (248, "People obey their rulers", "people obey their rulers"),
    (249, "Women have the same rights as men", "women have the same rights as men"),
]:
    lab, st = scale10("Not an essential characteristic of democracy", "An essential characteristic of democracy",
                      "On a scale from 1 (not an essential characteristic of democracy) to 10 (an essential "
                      f"characteristic of democracy), you rate how essential it is for democracy that {clause} as {{n}}.")
    lab = {0: "0 - It is against democracy (volunteered)", **lab}
    st = {0: f"You think it is against democracy that {clause}.", **st}
    q(n, kind="ordinal", ordinal_high="more essential to democracy (0 = against democracy, below 1)",
      labels=lab, statements=st,
      text=("Many things are desirable, but not all of them are essential characteristics of democracy. Please tell me "
            "how essential you think the following is as a characteristic of democracy. Use this scale where 1 means "
            "\"not at all an essential characteristic of democracy\" and 10 means it definitely is \"an essential "
            "characteristic of democracy\" (0 if you think it is against democracy): " f"{item}."))
lab, st = scale10("Not at all important", "Absolutely important",
                  "On a scale from 1 (not at all important) to 10 (absolutely important), you rate how important it is "
                  "for you to live in a country that is governed democratically as {n}.")
q(250, kind="ordinal", ordinal_high="more important", labels=lab, statements=st,
  text=("How important is it for you to live in a country that is governed democratically? On this scale where 1 "
        "means it is \"not at all important\" and 10 means \"absolutely important\" what position would you choose?"))
lab, st = scale10("Not at all democratic", "Completely democratic",
                  "On a scale from 1 (not at all democratic) to 10 (completely democratic), you rate how democratically "
                  "your country is being governed today as {n}.")
q(251, kind="ordinal", ordinal_high="more democratic", labels=lab, statements=st,
  text=("And how democratically is this country being governed today? Again using a scale from 1 to 10, where 1 means "
        "that it is \"not at all democratic\" and 10 means that it is \"completely democratic,\" what position would "
        "you choose?"))
lab, st = scale10("Not satisfied at all", "Completely satisfied",
                  "On a scale from 1 (not satisfied at all) to 10 (completely satisfied), you rate your satisfaction "
                  "with how the political system is functioning in your country these days as {n}.")
q(252, kind="ordinal", ordinal_high="more satisfied", labels=lab, statements=st,
  text=("On a scale from 1 to 10 where \"1\" is \"not satisfied at all\" and \"10\" is \"completely satisfied\", how "
        "satisfied are you with how the political system is functioning in your country these days?"))
q(253, kind="ordinal", ordinal_high="less respect",
  text="How much respect is there for individual human rights nowadays in this country? Do you feel there is:",
  labels={1: "A great deal of respect for individual human rights", 2: "Fairly much respect", 3: "Not much respect",
          4: "No respect at all"},
  statements={c: f"You feel there is {w} for individual human rights nowadays in your country." for c, w in
              {1: "a great deal of respect", 2: "fairly much respect", 3: "not much respect", 4: "no respect at all"}.items()})
q(254, kind="nominal",
  text=("How proud are you to be a national of this country? Very proud, quite proud, not very proud or not at all "
        "proud?"),
  labels={1: "Very proud", 2: "Quite proud", 3: "Not very proud", 4: "Not at all proud",
          5: "I am not a national of this country (volunteered)"},
  statements={1: "You are very proud of your nationality.", 2: "You are quite proud of your nationality.",
              3: "You are not very proud of your nationality.", 4: "You are not at all proud of your nationality.",
              5: "You are not a national of the country you live in."})
CLOSE = {1: "Very close", 2: "Close", 3: "Not very close", 4: "Not close at all"}
for n, item, obj in [
    (255, "Your village, town or city", "your village, town or city"),
    (256, "Your county, region or district", "your county, region or district"),
    (257, "This country", "your country"), (258, "Your continent (e.g. Europe, Asia etc.)", "your continent"),
    (259, "The world", "the world"),
]:
    q(n, kind="ordinal", ordinal_high="less close",
      text=("People have different views about themselves and how they relate to the world. Would you tell me how "
            f"close you feel to the following? Very close, close, not very close or not close at all? {item}."),
      labels=CLOSE,
      statements={1: f"You feel very close to {obj}.", 2: f"You feel close to {obj}.",
                  3: f"You do not feel very close to {obj}.", 4: f"You do not feel close at all to {obj}."})

# ---------------------------------------------------------------- Demographics (Q260-Q290)
q(260, kind="binary", text="Respondent's sex (recorded by the interviewer).",
  statements={1: "You are male.", 2: "You are female."})
q(261, kind="numeric", text="Can you tell me your year of birth, please?", valid_range=[1900, 2010],
  numeric_statement="You were born in {value}.")
q(262, kind="numeric", text="How old are you? (age in years)", valid_range=[16, 103],
  numeric_statement="You are {value} years old.")
q(263, kind="binary", text="Were you born in this country or are you an immigrant to this country?",
  labels={1: "Born in this country", 2: "Immigrant to this country (born outside this country)"},
  statements={1: "You were born in the country where you live.",
              2: "You are an immigrant to the country where you live (you were born outside it)."})
for n, who in [(264, "mother"), (265, "father")]:
    q(n, kind="binary",
      text=f"Are your mother and father immigrants to this country or not? Please indicate for your {who}.",
      statements={1: f"Your {who} is not an immigrant to the country where you live.",
                  2: f"Your {who} is an immigrant to the country where you live."})
for n, who, subj in [(266, "yourself", "You were"), (267, "your mother", "Your mother was"),
                     (268, "your father", "Your father was")]:
    q(n, kind="nominal",
      text=("In which country were you, your father and your mother (or those who raised you) born? Please answer for "
            f"{who}."),
      labels={9999: "Other country"},
      statements={9999: f"{subj} born in a country not on the list."},
      statement_template=f"{subj} born in {{name}}.")
q(269, kind="nominal", text="Are you a citizen of this country?",
  labels={1: "Yes, I am a citizen of this country", 2: "No, I am not a citizen of this country",
          3: "Applied for citizenship, awaiting decision (Switzerland only)"},
  statements={1: "You are a citizen of the country where you live.",
              2: "You are not a citizen of the country where you live.",
              3: "You have applied for citizenship of the country where you live and are awaiting a decision."})
q(270, kind="ordinal", ordinal_high="larger household (7 = 7 or more)",
  text=("Including yourself, how many people - including children - live here regularly as members of this "
        "household?"),
  labels={c: str(c) for c in range(1, 7)} | {7: "7 or more"},
  statements={1: "You live alone: your household has one member, yourself.",
              **{c: f"Including yourself, {c} people live in your household." for c in range(2, 7)},
              7: "Including yourself, 7 or more people live in your household."})
q(271, kind="nominal", text="Do you live with your parents or your parents-in-law?",
  labels={1: "No", 2: "Yes, own parent(s)", 3: "Yes, parent(s)-in-law", 4: "Yes, both own parent(s) and parent(s)-in-law"},
  statements={1: "You do not live with your parents or parents-in-law.", 2: "You live with your own parent(s).",
              3: "You live with your parent(s)-in-law.",
              4: "You live with both your own parent(s) and your parent(s)-in-law."})
q(272, kind="nominal", text="What language do you normally speak at home?",
  labels={9000: "Other language", 9900: "Other local, aboriginal, tribal or community language"},
  statements={9000: "At home you normally speak a language not on the list.",
              9040: "At home you normally speak another European language.",
              9060: "At home you normally speak another Chinese dialect.",
              9900: "At home you normally speak another local, aboriginal, tribal or community language."},
  statement_template="At home you normally speak {name}.")
q(273, kind="nominal", text="Are you currently married, living together as married, divorced, separated, widowed or single?",
  statements={1: "You are married.", 2: "You are living together with a partner as married.", 3: "You are divorced.",
              4: "You are separated.", 5: "You are widowed.", 6: "You are single."})
q(274, kind="numeric", text="Do you have any children? If yes, how many? (0 if none)", valid_range=[0, 7],
  labels={0: "No children", 1: "1 child", **{c: f"{c} children" for c in range(2, 7)}, 7: "7 or more children"},
  statements={0: "You have no children.", 1: "You have one child.",
              **{c: f"You have {c} children." for c in range(2, 7)}, 7: "You have 7 or more children."},
  numeric_statement="You have {value} children.")
EDU = {0: "Early childhood education (ISCED 0) / no education", 1: "Primary education (ISCED 1)",
       2: "Lower secondary education (ISCED 2)", 3: "Upper secondary education (ISCED 3)",
       4: "Post-secondary non-tertiary education (ISCED 4)", 5: "Short-cycle tertiary education (ISCED 5)",
       6: "Bachelor or equivalent (ISCED 6)", 7: "Master or equivalent (ISCED 7)", 8: "Doctoral or equivalent (ISCED 8)"}
EDU_ST = {0: "early childhood education or no education (ISCED 0)", 1: "primary education (ISCED 1)",
          2: "lower secondary education (ISCED 2)", 3: "upper secondary education (ISCED 3)",
          4: "post-secondary non-tertiary education (ISCED 4)", 5: "short-cycle tertiary education (ISCED 5)",
          6: "a bachelor's degree or equivalent (ISCED 6)", 7: "a master's degree or equivalent (ISCED 7)",
          8: "a doctorate or equivalent (ISCED 8)"}
for n, who, poss in [(275, "yourself", "Your"), (276, "your spouse", "Your spouse's"), (277, "your mother", "Your mother's"),
                     (278, "your father", "Your father's")]:
    q(n, kind="ordinal", ordinal_high="higher education level",
      text=("What is the highest educational level that you, your spouse, your mother and your father have attained? "
            f"Please answer for {who}."),
      labels=EDU, statements={c: f"{poss} highest educational level attained is {w}." for c, w in EDU_ST.items()})
EMPLOY = {1: "Full time employee (30 hours a week or more)", 2: "Part time employee (less than 30 hours a week)",
          3: "Self employed", 4: "Retired/pensioned", 5: "Housewife not otherwise employed", 6: "Student",
          7: "Unemployed", 8: "Other"}
q(279, kind="nominal",
  text=("Are you employed now or not? If yes, about how many hours a week? If more than one job: only for the main job."),
  labels=EMPLOY,
  statements={1: "You are a full-time employee (30 hours a week or more).",
              2: "You are a part-time employee (less than 30 hours a week).", 3: "You are self-employed.",
              4: "You are retired or pensioned.", 5: "You are a housewife or homemaker, not otherwise employed.",
              6: "You are a student.", 7: "You are unemployed.",
              8: "Your employment situation is none of the usual categories (other)."})
q(280, kind="nominal",
  text=("Is your spouse employed? In his/her last job was he/she employed (either full time or part time) or was "
        "he/she self-employed?"),
  labels=EMPLOY,
  statements={1: "Your spouse is a full-time employee (30 hours a week or more).",
              2: "Your spouse is a part-time employee (less than 30 hours a week).", 3: "Your spouse is self-employed.",
              4: "Your spouse is retired or pensioned.",
              5: "Your spouse is a housewife or homemaker, not otherwise employed.", 6: "Your spouse is a student.",
              7: "Your spouse is unemployed.", 8: "Your spouse's employment situation is none of the usual categories (other)."})
OCC = {0: "Never had a job",
       1: "Professional and technical (for example: doctor, teacher, engineer, artist, accountant, nurse)",
       2: "Higher administrative (for example: banker, executive in big business, high government official, union official)",
       3: "Clerical (for example: secretary, clerk, office manager, civil servant, bookkeeper)",
       4: "Sales (for example: sales manager, shop owner, shop assistant, insurance agent, buyer)",
       5: "Service (for example: restaurant owner, police officer, waitress, barber, caretaker)",
       6: "Skilled worker (for example: foreman, motor mechanic, printer, seamstress, tool and die maker, electrician)",
       7: "Semi-skilled worker (for example: bricklayer, bus driver, cannery worker, carpenter, sheet metal worker, baker)",
       8: "Unskilled worker (for example: labourer, porter, unskilled factory worker, cleaner)",
       9: "Farm worker (for example: farm labourer, tractor driver)",
       10: "Farm proprietor, farm manager",
       11: "Other (only in some countries)"}
OCC_ST = {1: "professional and technical work (for example doctor, teacher, engineer, artist, accountant, nurse)",
          2: "higher administrative work (for example banker, executive in big business, high government official, union official)",
          3: "clerical work (for example secretary, clerk, office manager, civil servant, bookkeeper)",
          4: "sales (for example sales manager, shop owner, shop assistant, insurance agent, buyer)",
          5: "service work (for example restaurant owner, police officer, waitress, barber, caretaker)",
          6: "skilled work (for example foreman, motor mechanic, printer, seamstress, tool and die maker, electrician)",
          7: "semi-skilled work (for example bricklayer, bus driver, cannery worker, carpenter, sheet metal worker, baker)",
          8: "unskilled work (for example labourer, porter, unskilled factory worker, cleaner)",
          9: "farm work (for example farm labourer, tractor driver)",
          10: "farm proprietor or farm manager",
          11: "another occupational group"}
for n, text, subj, zero in [
    (281, "To which of the following occupational groups do you belong? (If you do not have a job now, answer about your last job.)",
     "Your occupational group (current or last job) is", "You have never had a job."),
    (282, "To which of the following occupational groups does your spouse belong? (If he/she does not have a job now, answer about the last job.)",
     "Your spouse's occupational group (current or last job) is", "Your spouse has never had a job."),
    (283, "When you were 14, to which of the following occupational groups did your father belong? (If he did not have a job then or had already died, answer about his last job.)",
     "When you were 14, your father's occupational group was", "When you were 14, your father had never had a job."),
]:
    q(n, kind="nominal", text=text, labels=OCC,
      statements={0: zero, **{c: f"{subj} {w}." for c, w in OCC_ST.items()}})
q(284, kind="nominal",
  text=("Are you working for the government or public institution, for private business or industry, or for a "
        "private non-profit organization? If you do not work currently, characterize your major work in the past."),
  statements={1: "You work (or worked) for the government or a public institution.",
              2: "You work (or worked) for a private business or industry.",
              3: "You work (or worked) for a private non-profit organization."})
q(285, kind="binary", text="Are you the chief wage earner in your household?",
  statements={1: "You are the chief wage earner in your household.",
              2: "You are not the chief wage earner in your household."})
q(286, kind="ordinal", ordinal_high="worse household finances",
  text="During the past year, did your family save money, just get by, spend some savings, or spend savings and borrow money?",
  labels={1: "Saved money", 2: "Just got by", 3: "Spent some savings", 4: "Spent savings and borrowed money"},
  statements={1: "During the past year, your family saved money.", 2: "During the past year, your family just got by.",
              3: "During the past year, your family spent some savings.",
              4: "During the past year, your family spent savings and borrowed money."})
q(287, kind="ordinal", ordinal_high="lower class",
  text=("People sometimes describe themselves as belonging to the working class, the middle class, or the upper or "
        "lower class. Would you describe yourself as belonging to the upper class, upper middle class, lower middle "
        "class, working class or lower class?"),
  statements={c: f"You describe yourself as belonging to the {w}." for c, w in
              {1: "upper class", 2: "upper middle class", 3: "lower middle class", 4: "working class",
               5: "lower class"}.items()})
lab, st = scale10("Lowest income group", "Highest income group",
                  "On an income scale from 1 (lowest income group) to 10 (highest income group) in your country, you "
                  "place your household in group {n}.")
q(288, kind="ordinal", ordinal_high="higher income group", labels=lab, statements=st,
  text=("On this card is an income scale on which 1 indicates the lowest income group and 10 the highest income group "
        "in your country. We would like to know in what group your household is. Please specify the appropriate "
        "number, counting all wages, salaries, pensions and other incomes that come in."))
q(289, kind="nominal",
  text="Do you belong to a religion or religious denomination? If yes, which one?",
  labels={0: "No, do not belong to a denomination", 4: "Jewish",
          8: "Other Christian (Evangelical/Pentecostal/Free church/etc.)", 9: "Other"},
  statements={0: "You do not belong to a religious denomination.", 1: "You are Roman Catholic.",
              2: "You are Protestant.", 3: "You are Orthodox (Russian, Greek, etc.).", 4: "You are Jewish.",
              5: "You are Muslim.", 6: "You are Hindu.", 7: "You are Buddhist.",
              8: "You belong to another Christian denomination (Evangelical, Pentecostal, Free church, etc.).",
              9: "You belong to another religion or denomination."})
q(290, kind="nominal", text="Respondent's ethnic group (from the list used in your country).",
  statement_template="Your ethnic group is: {name}.", country_specific=True)

# Labels the label file mangles or words differently from the questionnaire. Codes never change.
LABEL_FIXES: dict[str, dict[int, str]] = {}


# Long country-list labels are cut at 60 characters in the label file, and a few are garbled;
# these are the full names (codes unchanged). Cuts not listed here get an ellipsis.
COUNTRY_LIST_FIXES: dict[str, dict[int, str]] = {
    "Q223": {
        112016: "BLR: Conservative Christian Party of Belarusian People's Front",
        191042: "HRV: Rijeka Democratic Alliance - Alliance of Primorje-Gorski Kotar",
        276035: "DEU: Christian Democratic Union of Germany; Christian Social Union in Bavaria",
        344001: "HKG: Hong Kong Association for Democracy and People's Livelihood",
        352023: "ISL: Dawn - The organization of justice, fairness and democracy",
        380007: "ITA: South Tyrolean People's Party/Trentino Tyrolean Autonomist Party",
        404001: "KEN: Amani National Congress (ANC)",
        404003: "KEN: Forum for the Restoration of Democracy-Kenya (FORD-Kenya)",
        404004: "KEN: Forum for the Restoration of Democracy-People",
        404005: "KEN: Jubilee Party of Kenya (Jubilee)",
        404006: "KEN: Kenya African National Union (KANU)",
        404008: "KEN: Maendeleo Chap Chap Party (MCC)",
        404009: "KEN: National Rainbow Coalition-Kenya (NARC-Kenya)",
        404011: "KEN: Orange Democratic Movement (ODM)",
        404012: "KEN: People's Empowerment Party (PEP)",
        404013: "KEN: Thirdway Alliance Party of Kenya",
        404014: "KEN: United Democratic Alliance (UDA)",
        404015: "KEN: United Democratic Forum Party (UDFP)",
        404016: "KEN: United Democratic Movement (UDM)",
        404018: "KEN: Wiper Democratic Movement-Kenya (WDM-K)",
        504001: "MAR: Socialist Union of Popular Forces (USFP)",
        504002: "MAR: Istiqlal Party (PI)",
        616057: "POL: Coalition for the Renewal of the Republic - Liberty and Hope",
        643022: "RUS: Russian Communist Workers' Party of the Communist Party of the Soviet Union",
        716026: "ZWE: National Alliance of Patriotic and Democratic Republicans",
        807018: "MKD: Internal Macedonian Revolutionary Organization - Democratic Party for Macedonian National Unity",
        807040: "MKD: POPGM (Party of United Pensioners and Citizens of Macedonia)",
    },
    "Q290": {
        124006: "CA: South Asian (Indian, Bangladeshi, Pakistani, Sri Lankan, etc.)",
    },
}
LONG_LISTS = ("Q223", "Q266", "Q267", "Q268", "Q272", "Q290")


def clean_label(text: str, qid: str = "") -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^\d+\.- ", "", text)  # "25.- 7 or more children"
    if qid in LONG_LISTS:
        text = re.sub(r"^([A-Z]{2,4}\d?):(?=\S)", r"\1: ", text)  # "BOL:Movement" -> "BOL: Movement"
        text = re.sub(r"\bNegro\b ?(?:[Bb]lack)?", "Black", text)  # dated label wording, same category
        text = text.replace(", please describe", "")
        if len(text) >= 59 and text.count("(") > text.count(")"):
            text = text.rstrip(" ,") + "...)"
        elif len(text) >= 60 and not text.endswith(")"):
            text = text.rstrip(" ,") + "..."
    return text


def strip_prefix(label: str) -> str:
    """'ALB: Socialist Party of Albania' -> 'Socialist Party of Albania' (country prefix of country lists)."""
    return re.sub(r"^[A-Z]{2,4}\d?: ", "", label)  # same rule as bank._PREFIX


def section_of(n: int) -> tuple[str, str]:
    return next((s, c) for lo, hi, s, c in SECTIONS if lo <= n <= hi)


def build(labels_path: Path) -> dict:
    ref = json.loads(labels_path.read_text(encoding="utf-8"))
    questions = []
    for n in range(1, 291):
        qid = f"Q{n}"
        spec = SPEC.get(qid)
        if spec is None:
            raise SystemExit(f"{qid} has no spec")
        entry = ref[qid]
        ref_opts = sorted((int(k), v) for k, v in entry["choices"].items() if not k.startswith("-"))
        section, category = section_of(n)
        item = {"id": qid, "short": clean_label(entry["question"]), "text": spec["text"], "section": section,
                "category": category, "kind": spec["kind"]}
        if spec.get("ordinal_high"):
            item["ordinal_high"] = spec["ordinal_high"]
        labels = spec.get("labels", {})
        statements = spec.get("statements", {})
        ref_codes = [c for c, _ in ref_opts]
        unknown = (set(labels) | set(statements)) - set(ref_codes)
        if unknown:
            raise SystemExit(f"{qid}: codes {sorted(unknown)} are not in the label file")
        template = spec.get("statement_template")
        options = []
        for code, ref_label in ref_opts:
            label = (LABEL_FIXES.get(qid, {}).get(code) or COUNTRY_LIST_FIXES.get(qid, {}).get(code) or labels.get(code)
                     or clean_label(ref_label, qid))
            opt = {"code": code, "label": label}
            if code in statements:
                opt["statement"] = statements[code]
            elif not template:
                raise SystemExit(f"{qid}: code {code} ({label}) has no statement")
            options.append(opt)
        if spec["kind"] == "numeric":
            item["valid_range"] = spec["valid_range"]
            item["numeric_statement"] = spec["numeric_statement"]
            if options:
                if [o["code"] for o in options] != list(range(spec["valid_range"][0], spec["valid_range"][1] + 1)):
                    raise SystemExit(f"{qid}: numeric codes do not fill valid_range")
                item["options"] = options
        else:
            item["options"] = options
            item["valid_range"] = [ref_codes[0], ref_codes[-1]]
        if template:
            item["statement_template"] = template
        if spec.get("country_specific"):
            item["country_specific"] = True
        questions.append(item)
    return {
        "name": "WVS-7 core questionnaire (Q1-Q290)",
        "version": 1,
        "source": ("Wording from the WVS-7 master survey questionnaire (2017-2021); codes from the WVS-7 label file. "
                   "Built by scripts/build_wvs7_bank.py."),
        "notes": ("Option codes are the official codes (negative missing codes excluded). For Q223 and Q290 the "
                  "country-specific codes are ISO 3166-1 numeric country code * 1000 + a number; codes below 1000 "
                  "are common to all countries. Options without a statement take the question's "
                  "statement_template ({label} = full label, {name} = label without the country prefix)."),
        "sections": [s for _, _, s, _ in SECTIONS],
        "questions": questions,
    }


def dump(bank: dict) -> str:
    """indent=1, but one option per line so the file stays short and diffs stay readable."""
    lines = ["{"]
    head = {k: v for k, v in bank.items() if k != "questions"}
    for k, v in head.items():
        lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},")
    lines.append(' "questions": [')
    for qi, item in enumerate(bank["questions"]):
        lines.append("  {")
        keys = list(item)
        for ki, k in enumerate(keys):
            comma = "," if ki < len(keys) - 1 else ""
            if k == "options":
                lines.append('   "options": [')
                for oi, o in enumerate(item["options"]):
                    oc = "," if oi < len(item["options"]) - 1 else ""
                    lines.append("    " + json.dumps(o, ensure_ascii=False) + oc)
                lines.append("   ]" + comma)
            else:
                lines.append(f"   {json.dumps(k)}: {json.dumps(item[k], ensure_ascii=False)}{comma}")
        lines.append("  }" + ("," if qi < len(bank["questions"]) - 1 else ""))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def build_file_labels(labels_path: Path) -> dict:
    """Variable labels of the bank items and key columns, value labels of the bank items."""
    raw = json.loads(labels_path.read_text(encoding="utf-8"))
    qids = [f"Q{n}" for n in range(1, 291)]
    return {
        "source": "WVS-7 label file, " + raw["version"]["question_instruction"],
        "variables": {k: " ".join(raw[k]["question"].split()) for k in list(META_VARIABLES) + qids},
        "values": {k: {c: lab for c, lab in raw[k]["choices"].items()} for k in qids + ["B_COUNTRY_ALPHA"]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="WVS-7 label file (codebook_labels.json)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write questions.json")
    args = ap.parse_args()
    bank = build(args.labels)
    text = dump(bank)
    json.loads(text)  # the custom layout must still be valid JSON
    args.out.write_text(text, encoding="utf-8")
    kinds: dict[str, int] = {}
    for item in bank["questions"]:
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    print(f"wrote {args.out} ({len(text) // 1024} KB): {len(bank['questions'])} questions, kinds {kinds}")
    labels_out = args.out.with_name(FILE_LABELS)
    labels_out.write_text(json.dumps(build_file_labels(args.labels), ensure_ascii=False, indent=0) + "\n",
                          encoding="utf-8")
    print(f"wrote {labels_out} ({labels_out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
