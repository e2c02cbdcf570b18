"""`valuesim ask` (one person, one question, one method, shown step by step) and `valuesim story`
(a person's backstory, or its fidelity audit)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time


class Progress:
    """Prints each stage (backstory theme k of n, module, coordinator) with the elapsed time to
    stderr, so a long local run shows where it is; silent with --quiet."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.start = time.perf_counter()

    def __call__(self, stage: str) -> None:
        if self.enabled:
            print(f"  [{time.perf_counter() - self.start:6.1f}s] {stage}", file=sys.stderr, flush=True)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="survey file (CSV/SPSS/Stata/Parquet, official or synthetic), read with its codebook (--codebook)")
    p.add_argument("--respondent", required=True, metavar="ID", help="respondent id (the codebook's id column)")
    p.add_argument("--model", default="local", metavar="SPEC",
                   help="model: local, local:smollm2-135m, local:/x.gguf, openai:MODEL, scripted (default local)")
    p.add_argument("--base-url", action="append", default=None, metavar="URL",
                   help="OpenAI-compatible server URL (openai:MODEL); repeat or comma-separate for replicas")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the LLM response cache")
    p.add_argument("--story", choices=["model", "statements"], default=None,
                   help="backstory: model-written (default) or the profile's statements by theme (no model call)")
    p.add_argument("--story-prompt", choices=["auto", "paper", "small"], default=None,
                   help="story prompt: the paper's, the small-model variant, or auto (small for the embedded "
                        "engine, the paper's otherwise; default)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def register(sub) -> None:
    a = sub.add_parser(
        "ask",
        help="simulate one respondent's answer to one question, showing every step",
        description=(
            "Predict how one respondent answers one question with one method. For ValueSim it prints "
            "the backstory's first lines, each module's answer and analysis, the coordinator's decision "
            "and the final distribution; then the respondent's real answer when the file has it (the "
            "question is always held out of the profile). Statistical methods are fitted on the file "
            "without this respondent."
        ),
    )
    _common(a)
    a.add_argument("--question", required=True, metavar="QID", help="question id, as the codebook names it")
    a.add_argument("--method", default="valuesim", metavar="NAME", help="method name (default valuesim); "
                   "see `valuesim eval --help` for the list")
    a.add_argument("--option", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="a method option, e.g. valuesim.coordinator=average or hybrid.llm.coordinator=average "
                        "(repeatable; `valuesim methods` lists every option)")
    a.add_argument("--coordinator", default=None, metavar="MODE",
                   help="alias of --option METHOD.coordinator=MODE (always, on-disagreement, average)")
    a.add_argument("--prompt-order", default=None, metavar="ORDER",
                   help="alias of --option METHOD.prompt_order=ORDER (context-first or paper)")
    a.add_argument("--embedder", default=None, metavar="SPEC", help="alias of --option rag.embedder=SPEC")
    a.add_argument("--backstory-lines", type=int, default=6, metavar="N", help="backstory lines to show (default 6)")
    a.add_argument("--trace", default=None, metavar="FILE", help="also write the full trace as JSON to FILE")
    from .loading import add_loading_options

    add_loading_options(a)
    a.set_defaults(func=run_ask)

    s = sub.add_parser(
        "story",
        help="print a respondent's backstory (ValueSim's story module), or audit it",
        description=(
            "Write (or read from the cache) a respondent's second-person backstory from their profile and "
            "print it with the validity checks of every story call and its fidelity (a sample of the profile's "
            "own questions answered from the backstory alone, beside the chance rate). With --audit, list "
            "the audited questions instead of the story."
        ),
    )
    _common(s)
    s.add_argument("--exclude", default="", metavar="Q1,Q2", help="question ids to leave out of the profile")
    s.add_argument("--audit", action="store_true", help="audit the backstory instead of printing it")
    s.add_argument("--sample", type=int, default=8, metavar="N",
                   help="profile questions the fidelity audit answers from the story (default 8; 0: none)")
    s.add_argument("--seed", type=int, default=0, help="seed for the audit sample (default 0)")
    s.add_argument("--option", action="append", default=[], metavar="valuesim.KEY=VALUE",
                   help="a ValueSim option the backstory uses: story, story_prompt, story_max_tokens, "
                        "context_tokens, story_audit, min_fidelity, story_fallback, seed (repeatable)")
    add_loading_options(s)
    s.set_defaults(func=run_story)


def _model(args):
    from ..llm import DEFAULT_CACHE, get_model

    return get_model(args.model, base_url=args.base_url, cache=None if args.no_cache else DEFAULT_CACHE)


def _wrap(text: str, indent: str = "    ") -> str:
    return "\n".join(textwrap.fill(line, 100, initial_indent=indent, subsequent_indent=indent) if line else ""
                     for line in text.splitlines())


def ask_one(survey, respondent_id: str, question_id: str, method: str = "valuesim", model=None, progress=None,
            **options):
    """The Python call behind `valuesim ask`: (prediction, respondent, question), a study of one
    person and one question (``runs.study.ask``). ``progress``: called with each ValueSim stage
    (story, audit, modules, coordinator)."""
    from ..evaluation.work import OnePerson
    from ..methods.registry import get_method, method_info
    from ..methods.valuesim import ValueSim
    from ..runs import study
    from ..runs.runner import StudyMethod

    question = survey.codebook[question_id]
    protocol = OnePerson(survey, respondent_id, question_id)
    info = method_info(method)
    sim = get_method(method, model if info.needs_llm else None, **options)
    if progress is not None and isinstance(sim, ValueSim):
        sim.watch(progress)
    prediction = study.ask(protocol, StudyMethod(method, info.needs_llm, sim, dict(options)), model)
    return prediction, protocol.respondent, question


def run_ask(args: argparse.Namespace) -> int:
    from ..methods.options import ask_options
    from ..methods.registry import method_info
    from .loading import load_from_args

    info = method_info(args.method)
    aliases = dict(coordinator=args.coordinator, prompt_order=args.prompt_order, embedder=args.embedder)
    if info.target.startswith("valuesim:"):  # the methods that write a backstory
        aliases.update(story=args.story, story_prompt=args.story_prompt)
    elif args.story or args.story_prompt:
        from ..errors import ConfigError

        raise ConfigError(f"--story/--story-prompt apply to ValueSim methods, not {args.method}")
    options = ask_options(args.method, args.option, **aliases)  # checked before the file is read
    survey = load_from_args(args)
    question = survey.codebook[args.question]
    model = _model(args) if info.needs_llm else None
    prediction, resp, question = ask_one(survey, args.respondent, args.question, args.method, model,
                                         progress=Progress(not args.quiet), **options)
    from ..runs.trace import Trace

    trace = Trace.of(prediction.trace)

    print(f"respondent {resp.id} ({resp.country}) · {question.id} · method {args.method}"
          + (f" · model {model.spec}" if model is not None else ""))
    ctx = trace.context
    if trace.story is not None:
        from ..methods.story import story_status_line

        print(f"\nStory: {story_status_line(trace.story)}")
    if ctx.get("kind") == "backstory":
        lines = [ln for ln in ctx["text"].splitlines() if ln.strip()]
        story = trace.story or {}
        print(f"\nBackstory ({story.get('items', '?')} profile items, {len(ctx['text'])} characters"
              + (", written theme by theme" if story.get("themed") and story.get("kind") == "model" else "")
              + "), first lines:")
        print(_wrap("\n".join(lines[: args.backstory_lines])))
    elif ctx:
        print(f"\nContext: {ctx.get('kind')} ({len(ctx.get('text', ''))} characters)" +
              (f"; {ctx['note']}" if ctx.get("note") else ""))
    for r in trace.retrieved:
        print(f"    retrieved {r['question']} (answer {r['answer']}, similarity {r['similarity']})")
    print(f"\n{question.render()}")
    for name, turn in trace.modules.items():
        answer = turn.get("answer")
        label = f"{answer}. {question.label(answer)}" if answer is not None and question.is_valid(answer) else answer
        print(f"\n[{name}] answer: {label}")
        if turn.get("note"):  # how the answer was read when not from the reply itself (a fallback, a second read)
            print(f"    note: {turn['note']}")
        if turn.get("analysis"):
            print(_wrap(turn["analysis"]))
    decision = trace.decision
    if decision and decision.get("mode") not in ("single", "direct"):
        print(f"\n[coordinator] mode {decision['mode']}: {decision.get('rule', '')} -> {decision.get('answer')}")
        if decision.get("analysis"):
            print(_wrap(decision["analysis"]))
    if prediction.failed:  # no distribution and no verdict: a failure's placeholder answer means nothing
        print(f"\nFAILED: {prediction.error}\nNo prediction.")
    else:
        print("\nFinal distribution:")
        for code in question.codes:
            p = prediction.distribution.get(code, 0.0)
            if p > 0.0005 or len(question.codes) <= 12:
                mark = " <- prediction" if code == prediction.answer else ""
                print(f"  {code:>4} {question.label(code)[:40]:<40} {p:6.1%} {'#' * int(round(p * 30))}{mark}")
    real = resp.answers.get(question.id)
    if real is not None:
        verdict = "not predicted" if prediction.failed else "match" if real == prediction.answer else "no match"
        print(f"\nReal answer: {real}. {question.label(real)} ({verdict}; the question was held out of the profile)")
    elif question.id in resp.missing:
        print(f"\nReal answer: missing ({resp.missing[question.id].label})")
    if args.trace:
        with open(args.trace, "w", encoding="utf-8") as fh:
            json.dump({"answer": prediction.answer, "distribution": prediction.distribution,
                       "failed": prediction.failed, "error": prediction.error, "trace": trace.data}, fh, indent=1, default=str)
        print(f"trace written to {args.trace}", file=sys.stderr)
    if model is not None:
        print(f"\n{model.accounting.summary()}", file=sys.stderr)
    return 1 if prediction.failed else 0


def run_story(args: argparse.Namespace) -> int:
    from ..methods.story import StoryFailure, StoryWriter, audit_backstory, story_status_line
    from .loading import load_from_args

    from ..methods.options import story_options

    writer_options = story_options(args.option, story=args.story, story_prompt=args.story_prompt)
    writer_options.setdefault("audit_sample", args.sample)
    writer_options.setdefault("seed", args.seed)
    survey = load_from_args(args)
    exclude = [q.strip() for q in args.exclude.split(",") if q.strip()]
    for qid in exclude:
        survey.codebook[qid]
    from ..runs.people import respondent_context

    resp, person = respondent_context(survey, args.respondent, exclude=exclude)
    model = _model(args)
    writer = StoryWriter(model, progress=Progress(not args.quiet), **writer_options)
    try:
        story = writer.backstory(person)
    except StoryFailure as failure:
        print(f"story: FAILED: {failure.reason}")
        for tried in failure.summary.get("tried", []):
            print(f"  round {tried['round']}: {tried['reason']}")
        print(model.accounting.summary(), file=sys.stderr)
        return 1
    summary = story.summary()
    if not args.audit:
        print(story.text)
        print()
    print("Checks per story call (empty, refusal, echo, wrong person, loop, cut off, too short):")
    for part in story.parts:
        problems = part.get("problems") or []
        tries = f"{part.get('attempts', 1)} attempt(s)" if story.kind == "model" else "no model call"
        rejected = f"; rejected before: {' | '.join(problems)}" if problems else ""
        print(f"  ok  {part['theme']} ({part['items']} items, {tries}){rejected}")
    print(f"Story: {story_status_line(summary)}")
    if args.audit:
        result = audit_backstory(model, story.text, person.profile, sample=args.sample, seed=args.seed)
        for row in result.rows:
            mark = "ok " if row["correct"] else "-- "
            print(f"{mark} {row['question']:<6} {row['category']:<9} real {row['truth']:>4}  from backstory {row['answer']}")
        print(result.summary())
    print(model.accounting.summary(), file=sys.stderr)
    return 0
