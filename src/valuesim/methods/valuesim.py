"""ValueSim (seeds/002, sections 3-5): backstory -> Cognitive/Affective/Behavioral modules -> coordinator.

    sim = ValueSim(model)                                  # the paper's method
    sim = ValueSim(model, coordinator="on-disagreement")   # what the paper's code did
    sim.predict(person, question)                          # -> Prediction with a full trace

Ablations (section 5.2) are the same class with parts switched off: ``use_story=False`` gives the
CAB modules the raw profile (Q/options/answer list) instead of the backstory; ``use_cab=False``
asks one direct question of the backstory; ``modules=(...)`` drops single CAB units;
``coordinator="average"`` replaces the coordinator with the rounded mean.

Story options (see methods/story.py): ``story="model"`` (default) or ``"statements"`` (the
profile's statements by theme, no model call: an ablation, labelled in every trace);
``story_prompt="auto"|"paper"|"small"`` (auto: the small-model prompt for a model declared small);
``story_audit`` items audited per story and ``min_fidelity`` (the gate); ``story_fallback=
"fail"|"statements"``. A person without a valid story gets failed predictions with the reason.
"""

from __future__ import annotations

import time

from ..llm import as_model
from ..llm.batch import gather
from ..errors import ModelError
from ..survey.model import Question
from .base import ModelUser, PersonContext, Prediction
from .cab import MODULES, run_module
from .coordinator import MODES, coordinate
from .prompting import LAYOUTS, OVERFLOW, Generation, Turn, fit_profile
from .residence import with_residence
from .story import StoryFailure, StoryWriter

# room kept in the context for a module's instructions, the question and the reply
RESERVE_TOKENS = 900


class ValueSim(ModelUser):
    """The ValueSim simulator and its ablations. Thread-safe (see StoryWriter for the cache)."""

    def __init__(
        self,
        model,
        *,
        name: str = "valuesim",
        use_story: bool = True,
        use_cab: bool = True,
        modules: tuple[str, ...] = MODULES,
        coordinator: str = "always",
        prompt_order: str = "context-first",
        overflow: str = "truncate",
        max_tokens: int = 256,
        story_max_tokens: int = 4096,
        context_tokens: int | None = None,
        use_logprobs: bool = True,
        seed: int = 0,
        story_writer: StoryWriter | None = None,
        story: str = "model",
        story_prompt: str = "auto",
        story_audit: int = 8,
        min_fidelity: float = 0.5,
        story_fallback: str = "fail",
        story_budget: float = 3.0,
        residence: bool = True,
    ):
        if coordinator not in MODES:
            raise ValueError(f"coordinator must be one of {MODES}, got {coordinator!r}")
        if prompt_order not in LAYOUTS:
            raise ValueError(f"prompt_order must be one of {LAYOUTS}, got {prompt_order!r}")
        if overflow not in OVERFLOW:
            raise ValueError(f"overflow must be one of {OVERFLOW}, got {overflow!r}")
        unknown = [m for m in modules if m not in MODULES]
        if unknown or (use_cab and not modules):
            raise ValueError(f"modules must be a non-empty subset of {MODULES}, got {modules!r}")
        self.model = model = as_model(model)  # a bare ModelAPI is wrapped once, here
        self.name = name
        self.use_story = use_story
        self.use_cab = use_cab
        self.modules = tuple(modules)
        self.coordinator = coordinator
        self.prompt_order = prompt_order
        self.overflow = overflow
        self.context_tokens = context_tokens
        self.residence = bool(residence)
        self.gen = Generation(max_tokens=max_tokens, seed=seed, use_logprobs=use_logprobs)
        self.progress = None  # watch() sets it
        self.story = story_writer or StoryWriter(
            model, kind=story, prompt=story_prompt, max_tokens=story_max_tokens, context_tokens=context_tokens,
            reserve_tokens=RESERVE_TOKENS + max_tokens, audit_sample=story_audit, min_fidelity=min_fidelity,
            fallback=story_fallback, seed=seed, budget=story_budget)

    def watch(self, progress) -> None:
        """Report each stage (story, audit, modules, coordinator) to ``progress`` (the CLI's lines)."""
        self.progress = self.story.progress = progress

    def describe(self) -> dict:
        return {
            "method": self.name, "story": self.use_story, "cab": self.use_cab, "modules": list(self.modules),
            "coordinator": self.coordinator if self.use_cab else None, "prompt_order": self.prompt_order,
            "story_kind": self.story.kind if self.use_story else None,
            "story_prompt": self.story.prompt if self.use_story and self.story.kind == "model" else None,
            "model": self.model.spec, "residence": self.residence,
        }

    # -- the person's context --------------------------------------------------------------
    def prepare(self, person: PersonContext) -> None:
        """Write (or fetch from the cache) the person's backstory, once before their questions;
        raises StoryFailure when no valid one can be written. Nothing to do without a story."""
        if self.use_story:
            self.story.backstory(person)

    def context(self, person: PersonContext, trace: dict) -> str:
        if self.use_story:
            try:
                story = self.story.backstory(person)
            except StoryFailure as failure:
                trace["story"] = failure.summary
                raise
            trace["story"] = story.summary()
            trace["context"] = {"kind": "backstory", "text": story.text}
            return with_residence(story.text, person, trace, second_person=True) if self.residence else story.text
        text, note = fit_profile(self.model, person.profile, RESERVE_TOKENS, self.overflow, self.context_tokens)
        trace["context"] = {"kind": "profile", "text": text, "items": len(person.profile)}
        if note:
            trace["context"]["note"] = note
        return with_residence(text, person, trace) if self.residence else text

    # -- predict -----------------------------------------------------------------------------
    def predict(self, person: PersonContext, question: Question) -> Prediction:
        trace: dict = {"config": self.describe(), "question": question.id}
        start = time.perf_counter()
        turns: list[Turn] = []
        context = ""
        try:
            context = self.context(person, trace)
            if not self.use_cab:
                self._say("direct answer")
                turn = run_module(self.model, "direct", context, question, self.prompt_order, self.gen)
                turns.append(turn)
                answer, dist = turn.answer, turn.distribution
                trace["decision"] = {"mode": "direct", "answer": answer}
            else:
                def module_turn(module: str) -> Turn:
                    self._say(f"module {module}")
                    return run_module(self.model, module, context, question, self.prompt_order, self.gen)

                # the modules are independent: in batch mode their requests go out in one round
                gather((lambda m=m: module_turn(m) for m in self.modules), turns)
                self._say("coordinator")
                answer, dist, decision, coord = coordinate(self.model, question, turns, self.coordinator, self.gen)
                trace["decision"] = decision
                if coord is not None:
                    trace["coordinator"] = coord.trace()
        except ModelError as exc:
            self._record_turns(trace, turns, context)
            trace["seconds"] = round(time.perf_counter() - start, 3)
            return Prediction.failure(question, f"{type(exc).__name__}: {exc}", trace)
        self._record_turns(trace, turns, context)
        trace["seconds"] = round(time.perf_counter() - start, 3)
        prediction = Prediction.from_distribution(dist, trace)
        prediction.answer = int(answer)  # the method's decision (may differ from the argmax when averaging)
        return prediction

    def _say(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(stage)

    @staticmethod
    def _record_turns(trace: dict, turns: list[Turn], context: str) -> None:
        kind = trace.get("context", {}).get("kind", "context")
        trace["modules"] = {t.name: t.trace(context, kind) for t in turns}


# --- registry factories --------------------------------------------------------------------------


def make_valuesim(model=None, **options) -> ValueSim:
    return ValueSim(model, **options)


def make_no_story(model=None, **options) -> ValueSim:
    return ValueSim(model, name="valuesim-no-story", use_story=False, **options)


def make_no_cab(model=None, **options) -> ValueSim:
    return ValueSim(model, name="valuesim-no-cab", use_cab=False, **options)


def make_average(model=None, **options) -> ValueSim:
    options.setdefault("coordinator", "average")
    return ValueSim(model, name="valuesim-average", **options)


def _without(module: str):
    def factory(model=None, **options) -> ValueSim:
        kept = tuple(m for m in MODULES if m != module)
        return ValueSim(model, name=f"valuesim-no-{module}", modules=kept, **options)

    factory.__name__ = f"make_no_{module}"
    return factory


make_no_cognitive = _without("cognitive")
make_no_affective = _without("affective")
make_no_behavioral = _without("behavioral")
