"""One check of the model before the first prediction: loadable, reachable, answering.

Without it, a model that cannot answer (an unreachable server, a wrong model name, a key the
server refuses, a file that is not a model) turned every prediction of a run into a stored
failure, one retry cycle each, and the run still ended with exit 0. ``preflight(model)`` asks
the backend's own check (``ModelAPI.preflight``: the embedded engine loads, a server is asked
whether it is there and, when its model list says nothing of the key, for one token) outside the
cache and the retry loop; it raises one ModelError naming the model, once per model object.
The requests the check sent are counted in the model's accounting (servers saw them).
"""

from __future__ import annotations

import weakref

from ..errors import ModelError, ValuesimError
from .base import ModelAPI
from .model import Model
from .secrets import scrub

_READY: "weakref.WeakSet" = weakref.WeakSet()


def preflight(model: "Model | ModelAPI | None") -> None:
    """Raise ModelError (one line) unless ``model`` loads (or its server answers)."""
    if isinstance(model, Model) and model.collector is not None:
        return  # batch mode sends nothing now; a batch driver meets its endpoint when it submits
    backend = model.api if isinstance(model, Model) else model
    if not isinstance(backend, ModelAPI) or model in _READY:
        return  # None (statistical methods), or a stand-in object the caller answers for
    spec = backend.spec or type(backend).__name__
    try:
        requests = backend.preflight()
    except ValuesimError as exc:
        raise ModelError(f"model {spec} failed its check before the first prediction: {scrub(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - whatever a backend raises, the user gets one line
        raise ModelError(f"model {spec} failed its check before the first prediction: "
                         f"{type(exc).__name__}: {scrub(exc)}") from None
    if isinstance(model, Model) and requests:
        model.accounting.record_requests(requests)
    _READY.add(model)
