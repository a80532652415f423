"""Why no model of a task type can run in this deployment, and what a person could change so that one would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hugginggpt.domain import InferenceMode
from services.selector.catalog import CatalogModel

REPLICA_FIX = "a replica serving a model of that type (a GPU replica for the heavy ones)"
HOSTED_SETUP = "hosted inference (HUGGINGGPT_INFERENCE_MODE=hybrid and HUGGINGGPT_HF_TOKEN for the model router)"


@dataclass(frozen=True)
class HostedState:
    """What the selector knows of hosted inference for one request."""

    usable: bool  # hosted models may serve this request
    mode: InferenceMode
    switch: str  # the selector's policy: on | off | auto
    router_reachable: bool = True


def why_not(task_type: str, models: Sequence[CatalogModel], hosted: HostedState) -> str:
    """The reason, for a type none of whose `models` (its catalogue entries) can run now."""
    local = [m.id for m in models if m.local_capable]
    hosted_known = any(m.hosted_capable for m in models)
    if local:
        where = f"no running replica serves its local model{'s' if len(local) > 1 else ''} ({', '.join(local[:3])})"
    elif hosted_known:
        where = f"only hosted models serve {task_type}"
    else:
        router = "" if hosted.router_reachable else " (the model router was unreachable: offline models assumed)"
        return f"the catalogue has no model of {task_type}{router}; {REPLICA_FIX} would serve it"
    fix = ""
    if hosted.usable:
        why = "hosted inference has no model of that type"
    elif not hosted_known:
        why = "no hosted model serves it either"
    elif hosted.mode == InferenceMode.LOCAL:
        why = "this request allows local models only"
        fix = "a hybrid or huggingface mode request to a deployment with hosted inference"
    elif hosted.switch == "off":
        why = "hosted inference is switched off"
        fix = "hosted inference switched on (HUGGINGGPT_SELECTOR_HOSTED)"
    else:
        why = "hosted inference is not set up"
        fix = HOSTED_SETUP
    router = "" if hosted.router_reachable else " (the model router was unreachable: offline models assumed)"
    fixes = f"{fix}, or {REPLICA_FIX}" if fix else REPLICA_FIX
    return f"{where}, and {why}{router}; {fixes} would serve it"
