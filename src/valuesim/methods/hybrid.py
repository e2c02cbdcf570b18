"""LLM + statistics: a log-linear pool of an LLM simulator's distribution and a statistical one.

    p(code) ∝ p_llm(code)^w * p_stat(code)^(1-w)

The weight ``w`` is fitted on *training* respondents, never on the people being predicted:
``fit(train)`` sets aside ``validation_respondents`` training respondents (the statistical
method is fitted on the rest, so its validation predictions are honest). On the first
prediction, those respondents' items are split 4:1 the way the paper splits questions (seeded),
``validation_items`` of the held-out fifth are asked from their answers on the other four
fifths, by both methods, and ``w`` maximises the pooled log-likelihood of their true answers
over a grid of 0..1 — optionally per value category (categories with fewer than
``min_category_answers`` validation answers use the overall ``w``). One weight set per fit,
whether predictions come one at a time (threaded LLM runs, ``ask``) or in batches.

Why training respondents rather than the target person's own profile (leave-some-profile-out)?
It keeps the target person completely out of the fit — the weights cannot depend on anything
about them — and it costs a fixed number of LLM calls (respondents x items) per fit instead of
extra calls for every person. Pass ``weight=`` to skip fitting (no validation LLM calls at all).

The LLM distribution is mixed with ``llm_floor`` of uniform before pooling, so a one-hot LLM
answer (logprob-free backends) cannot veto every other code. A failed LLM prediction falls back
to the statistical distribution (and vice versa); the trace records it.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import ConfigError
from ..survey.model import Profile, Question
from ..survey.survey import COUNTRY, WEIGHT, Survey
from .base import Fittable, ModelUser, PersonContext, Prediction, Simulator, predict_many

Pair = tuple[PersonContext, Question]


def pool(p_llm: np.ndarray, p_stat: np.ndarray, w, llm_floor: float = 0.01) -> np.ndarray:
    """Log-linear pool of two distributions over the same codes (rows); ``w`` a number or a
    column of weights, one per row."""
    k = p_llm.shape[-1]
    a = (1 - llm_floor) * p_llm + llm_floor / k
    b = np.maximum(p_stat, 1e-12)
    logp = w * np.log(a) + (1 - w) * np.log(b)
    logp -= logp.max(axis=-1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=-1, keepdims=True)


def _vector(pred: Prediction, question: Question) -> np.ndarray:
    v = np.asarray([max(float(pred.distribution.get(c, 0.0)), 0.0) for c in question.codes])
    s = v.sum()
    return v / s if s > 0 else np.full(len(v), 1.0 / len(v))


class HybridSimulator(ModelUser):
    name = "hybrid"

    def __init__(
        self,
        llm: Simulator,
        stat: Simulator,
        *,
        weight: float | None = None,
        per_category: bool = False,
        validation_respondents: int = 8,
        validation_items: int = 20,
        grid: int = 21,
        min_category_answers: int = 20,
        llm_floor: float = 0.01,
        seed: int = 0,
    ):
        if weight is not None and not 0.0 <= float(weight) <= 1.0:
            raise ConfigError(f"hybrid weight must be between 0 and 1, got {weight}")
        self.llm, self.stat = llm, stat
        self.weight = None if weight is None else float(weight)
        self.per_category = bool(per_category)
        self.validation_respondents = int(validation_respondents)
        self.validation_items = int(validation_items)
        self.grid = np.linspace(0.0, 1.0, int(grid))
        self.min_category_answers = int(min_category_answers)
        self.llm_floor = float(llm_floor)
        self.seed = int(seed)
        self.validation: Survey | None = None
        self.weights: dict[str, float] | None = None  # {"*": w, category: w}; fitted on first use
        self._lock = threading.Lock()
        self.fits: list[dict] = []  # one record per fitted weight set (what it saw, what it chose)

    # -- fitting ---------------------------------------------------------------------
    def fit(self, train: Survey) -> "HybridSimulator":
        ids = train.data.index.to_numpy()
        rng = np.random.default_rng(self.seed)
        n_val = 0 if self.weight is not None else min(self.validation_respondents, max(len(ids) // 10, 1))
        val_ids = rng.choice(ids, size=n_val, replace=False) if n_val else ids[:0]
        rest = train.subset([i for i in ids if i not in set(val_ids)]) if n_val else train
        self.validation = train.subset(val_ids) if n_val else None
        for method in (self.stat, self.llm):
            if isinstance(method, Fittable):
                method.fit(rest)
        self.weights = None
        return self

    def _validation_pairs(self):
        """Validation respondents x up to ``validation_items`` held-out items, profile = the other
        four fifths of the items (a seeded 4:1 question split, as in the paper's protocol)."""
        survey = self.validation
        cb = survey.codebook
        rng = np.random.default_rng([self.seed, 5])
        qids = list(survey.question_ids)
        order = rng.permutation(len(qids))
        n_target = max(1, len(qids) // 5)
        held = [qids[i] for i in sorted(order[:n_target])]
        if len(held) > self.validation_items:
            held = [held[i] for i in sorted(rng.choice(len(held), self.validation_items, replace=False))]
        profile_ids = [qids[i] for i in sorted(order[n_target:])]
        prof, targ = survey.valid(profile_ids), survey.valid(held)
        pairs, truth = [], []
        for rid in survey.data.index:
            items = tuple((cb[q], int(v)) for q, v in prof.loc[rid].items() if not np.isnan(v) and cb[q].is_valid(int(v)))
            person = PersonContext(str(rid), str(survey.data.at[rid, COUNTRY]), Profile(items),
                                   float(survey.data.at[rid, WEIGHT]))
            for qid in held:
                v = targ.at[rid, qid]
                if not np.isnan(v) and cb[qid].is_valid(int(v)):
                    pairs.append((person, cb[qid]))
                    truth.append(int(v))
        return pairs, truth

    def _fit_weights(self) -> dict[str, float]:
        if self.weight is not None:
            return {"*": self.weight}
        if self.validation is None:
            raise ConfigError("the hybrid method must be fitted on training respondents first (call fit(train))")
        pairs, truth = self._validation_pairs()
        llm_preds = predict_many(self.llm, pairs)
        stat_preds = predict_many(self.stat, pairs)
        loglik: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for (_, q), true, lp, sp in zip(pairs, truth, llm_preds, stat_preds):
            if lp.failed or sp.failed:
                continue
            j = q.codes.index(true)
            ll = np.log(pool(np.tile(_vector(lp, q), (len(self.grid), 1)), np.tile(_vector(sp, q), (len(self.grid), 1)),
                             self.grid[:, None], self.llm_floor)[:, j])
            for key in ("*", q.category) if self.per_category else ("*",):
                loglik[key] = loglik.get(key, 0.0) + ll
                counts[key] = counts.get(key, 0) + 1
        weights = {"*": float(self.grid[int(np.argmax(loglik["*"]))]) if "*" in loglik else 0.0}
        for key, ll in loglik.items():
            if key != "*" and counts[key] >= self.min_category_answers:
                weights[key] = float(self.grid[int(np.argmax(ll))])
        self.fits.append(dict(targets=sorted({q.id for _, q in pairs}),
                              validation_ids=[str(i) for i in self.validation.data.index],
                              answers=counts.get("*", 0), weights=dict(weights)))
        return weights

    def fitted_weights(self) -> dict[str, float]:
        """{"*": overall w, category: w, ...}; fitted on first use (thread-safe)."""
        with self._lock:
            if self.weights is None:
                self.weights = self._fit_weights()
            return self.weights

    # -- prediction ------------------------------------------------------------------
    @property
    def model(self):
        """The Model the LLM part calls (a hybrid is an LLM method)."""
        return self.llm.model if isinstance(self.llm, ModelUser) else None

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        return self.predict_batch([(person, question)])[0]

    def predict_batch(self, pairs: list[Pair]) -> list[Prediction]:
        pairs = list(pairs)
        if not pairs:
            return []
        weights = self.fitted_weights()
        llm_preds = predict_many(self.llm, pairs)
        stat_preds = predict_many(self.stat, pairs)
        out = []
        for (_, q), lp, sp in zip(pairs, llm_preds, stat_preds):
            w = weights.get(q.category, weights["*"])
            trace = {"method": self.name, "weight": w, "llm": lp.trace, "stat": sp.trace}
            if lp.failed and sp.failed:
                out.append(Prediction.failure(q, f"both failed: {lp.error}; {sp.error}", trace))
                continue
            if lp.failed or sp.failed:
                trace["fallback"] = "stat" if lp.failed else "llm"
                trace["error"] = lp.error or sp.error
                probs = _vector(sp if lp.failed else lp, q)
            else:
                probs = pool(_vector(lp, q), _vector(sp, q), w, self.llm_floor)
            out.append(Prediction.from_distribution(dict(zip(q.codes, probs.tolist())), trace))
        return out


def hybrid(model=None, llm: str = "valuesim", stat: str = "regression", llm_options: dict | None = None,
           stat_options: dict | None = None, **options) -> HybridSimulator:
    """Registry factory: builds both methods by name (the LLM one with ``model``)."""
    from .registry import get_method, method_info

    if not method_info(llm).needs_llm:
        raise ConfigError(f"hybrid: llm={llm!r} is a statistical method; name an LLM method")
    if method_info(stat).needs_llm:
        raise ConfigError(f"hybrid: stat={stat!r} needs an LLM; name a statistical method")
    return HybridSimulator(get_method(llm, model=model, **(llm_options or {})),
                           get_method(stat, **(stat_options or {})), **options)
