"""One check of the model before the first prediction: loadable, reachable, answering.

Without it, a model that cannot answer (an unreachable server, a wrong model name, a file
that is not a model) turned every prediction of a run into a stored failure, one retry cycle
each, and the run still ended with exit 0. ``preflight(model)`` loads the model (the embedded engine)
or asks the server whether it is there (outside the cache and the run's accounting, one
attempt per replica); it raises one ModelError naming the model, once per model object.
"""

from __future__ import annotations

import weakref

from ..errors import ModelError, ValuesimError
from .base import ModelAPI
from .model import Model
from .secrets import scrub

_READY: "weakref.WeakSet" = weakref.WeakSet()


def preflight(model) -> None:
    """Raise ModelError (one line) unless ``model`` loads (or its server answers)."""
    if model is None:
        return
    try:
        if model in _READY:
            return
    except TypeError:  # an object that cannot be remembered weakly: check it every time
        pass
    backend = model.api if isinstance(model, Model) else model
    if not isinstance(backend, ModelAPI):  # a model object of another kind (tests, notebooks): its own business
        return
    spec = backend.spec or type(backend).__name__
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
    from .transport import RequestError

    if not isinstance(backend, OpenAIModel):
        return
    # a server: GET {base}/models on each replica in turn (one attempt each) until one answers.
    # Any HTTP answer but a refused key or a failing gateway means a server speaks there;
    # a chat request is not used, as it would count against the run and wake a cold model.
    transport = backend.transport
    try:
        transport.send(lambda c: c.get(str(c.base_url.join("models")), cast_to=object), replica=0,
                       retries=len(transport.replicas) - 1)
    except RequestError as exc:
        if exc.status is None or exc.status in (401, 403, 502, 503, 504):
            raise
