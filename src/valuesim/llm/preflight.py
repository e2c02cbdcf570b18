"""One check of the model before the first prediction: loadable, reachable, answering.

Without it, a model that cannot answer (an unreachable server, a wrong model name, a file
that is not a model) turned every prediction of a run into a stored failure, one retry cycle
each, and the run still ended with exit 0. ``preflight(model)`` asks for one token, outside
the cache and the run's accounting, with one retry; it raises one ModelError naming the
model, and is done once per model object.
"""

from __future__ import annotations

import weakref

from ..errors import ModelError, ValuesimError
from .base import ModelAPI
from .managed import ManagedModel
from .secrets import scrub

_READY: "weakref.WeakSet" = weakref.WeakSet()
_PING = [{"role": "user", "content": "Reply with the word OK."}]


def preflight(model) -> None:
    """Raise ModelError (one line) unless ``model`` loads and answers a one-token request."""
    if model is None:
        return
    try:
        if model in _READY:
            return
    except TypeError:  # an object that cannot be remembered weakly: check it every time
        pass
    backend = model.backend if isinstance(model, ManagedModel) else model
    if not isinstance(backend, ModelAPI):  # a model object of another kind (tests, notebooks): its own business
        return
    spec = getattr(model, "spec", None) or type(model).__name__
    try:
        backend.load()  # the embedded engine loads here (a bad file fails here, once)
        _answer(backend)
    except ValuesimError as exc:
        raise ModelError(f"model {spec} failed its check before the first prediction: {scrub(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - whatever a backend raises, the user gets one line
        raise ModelError(f"model {spec} failed its check before the first prediction: "
                         f"{type(exc).__name__}: {scrub(exc)}") from None
    try:
        _READY.add(model)
    except TypeError:
        pass


def _answer(backend) -> None:
    from .openai_backend import OpenAIModel

    if isinstance(backend, OpenAIModel):  # a server: one request, one retry, no backoff ladder
        def check(response) -> None:
            if not getattr(response, "choices", None):
                raise ValueError("no choices")

        backend.transport.send(lambda c: c.chat.completions.create(model=backend.model, messages=_PING, max_tokens=1),
                               check, retries=1)
