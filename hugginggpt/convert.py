"""Translation between the generated proto messages and the domain types, in one place."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from hugginggpt.domain import (
    Argument,
    Artifact,
    Candidate,
    Choice,
    Declined,
    InferenceMode,
    Kind,
    ModelStatus,
    Plan,
    Task,
    TaskState,
    TaskTypeSpec,
    Turn,
    TypeAvailability,
)
from hugginggpt.llm import Usage
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import executor_pb2 as epb
from hugginggpt.v1 import router_pb2

E = TypeVar("E", bound=Enum)


def _pair_by_name(domain: type[E], wire: EnumTypeWrapper, prefix: str) -> tuple[dict[E, Any], dict[Any, E]]:
    """Each domain member with the wire value of the same name (a member the contract lacks fails at import)."""
    to_pb = {member: wire.Value(prefix + member.name) for member in domain}
    return to_pb, {v: k for k, v in to_pb.items()}


_KIND_TO_PB, _PB_TO_KIND = _pair_by_name(Kind, pb.ValueKind, "VALUE_KIND_")
_MODE_TO_PB, _PB_TO_MODE = _pair_by_name(InferenceMode, pb.InferenceMode, "INFERENCE_MODE_")
_STATE_TO_PB, _PB_TO_STATE = _pair_by_name(TaskState, epb.TaskState, "TASK_STATE_")
# Message roles as the cores and the session store write them.
_ROLE_TO_PB = {"user": pb.ROLE_USER, "assistant": pb.ROLE_ASSISTANT, "system": pb.ROLE_SYSTEM}
_PB_TO_ROLE = {v: k for k, v in _ROLE_TO_PB.items()}


def kind_to_pb(kind: Kind) -> pb.ValueKind:
    return _KIND_TO_PB[kind]


def kind_from_pb(value: int) -> Kind:
    return _PB_TO_KIND.get(value, Kind.TEXT)


def mode_to_pb(mode: InferenceMode) -> pb.InferenceMode:
    return _MODE_TO_PB[mode]


def mode_from_pb(value: int) -> InferenceMode | None:
    """The mode a request asks for; None when unspecified (or unknown to this build): the deployment decides."""
    return _PB_TO_MODE.get(value)


def task_state_to_pb(state: TaskState) -> epb.TaskState:
    return _STATE_TO_PB[state]


def task_state_from_pb(value: int) -> TaskState | None:
    """The task's state; None when unspecified (or unknown to this build)."""
    return _PB_TO_STATE.get(value)


def role_to_pb(role: str) -> pb.Role:
    """A message role; anything not assistant or system is the user's."""
    return _ROLE_TO_PB.get(role, pb.ROLE_USER)


def role_from_pb(value: int) -> str:
    """"user", "assistant" or "system"; an unspecified role is the user's."""
    return _PB_TO_ROLE.get(value, "user")  # type: ignore[call-overload]


def artifact_to_pb(a: Artifact) -> pb.Artifact:
    return pb.Artifact(uri=a.uri, name=a.name, media_type=a.media_type, size_bytes=a.size_bytes,
                       kind=kind_to_pb(a.kind))


def artifact_from_pb(m: pb.Artifact) -> Artifact:
    return Artifact(m.uri, m.name, m.media_type, m.size_bytes, kind_from_pb(m.kind))


def turn_from_pb(m: pb.Message) -> Turn:
    return Turn(role_from_pb(m.role), m.content, tuple(artifact_from_pb(a) for a in m.attachments))


def argument_to_pb(a: Argument) -> pb.Argument:
    if a.task_ref is not None:
        return pb.Argument(name=a.name, task_ref=a.task_ref)
    if a.resource_uri is not None:
        return pb.Argument(name=a.name, resource_uri=a.resource_uri)
    return pb.Argument(name=a.name, literal=a.literal or "")


def argument_from_pb(m: pb.Argument) -> Argument:
    which = m.WhichOneof("source")
    if which == "task_ref":
        return Argument(m.name, task_ref=m.task_ref)
    if which == "resource_uri":
        return Argument(m.name, resource_uri=m.resource_uri)
    return Argument(m.name, literal=m.literal)


def task_to_pb(t: Task) -> pb.Task:
    return pb.Task(id=t.id, type=t.type, dependencies=list(t.dependencies),
                   arguments=[argument_to_pb(a) for a in t.arguments])


def task_from_pb(m: pb.Task) -> Task:
    return Task(m.id, m.type, tuple(m.dependencies), tuple(argument_from_pb(a) for a in m.arguments))


def plan_to_pb(p: Plan) -> pb.Plan:
    return pb.Plan(tasks=[task_to_pb(t) for t in p.tasks], direct_answer=p.direct_answer)


def plan_from_pb(m: pb.Plan) -> Plan:
    return Plan(tuple(task_from_pb(t) for t in m.tasks), m.direct_answer)


def task_type_to_pb(s: TaskTypeSpec) -> pb.TaskType:
    return pb.TaskType(name=s.name, description=s.description,
                       input_kinds=[kind_to_pb(k) for k in s.inputs],
                       output_kinds=[kind_to_pb(k) for k in s.outputs])


def task_type_from_pb(m: pb.TaskType) -> TaskTypeSpec:
    return TaskTypeSpec(m.name, m.description, tuple(kind_from_pb(k) for k in m.input_kinds),
                        tuple(kind_from_pb(k) for k in m.output_kinds))


def candidate_to_pb(c: Candidate) -> pb.ModelCandidate:
    site = pb.INFERENCE_SITE_LOCAL if c.local else pb.INFERENCE_SITE_HOSTED
    return pb.ModelCandidate(model_id=c.model_id, site=site, score=c.score, description=c.description)


def candidate_from_pb(m: pb.ModelCandidate) -> Candidate:
    return Candidate(m.model_id, m.site != pb.INFERENCE_SITE_HOSTED, m.score, m.description)


def availability_to_pb(a: TypeAvailability) -> pb.TaskTypeAvailability:
    site = (pb.INFERENCE_SITE_LOCAL if a.local else pb.INFERENCE_SITE_HOSTED) if a.runnable \
        else pb.INFERENCE_SITE_UNSPECIFIED
    return pb.TaskTypeAvailability(task_type=a.task_type, runnable=a.runnable, site=site, model_id=a.model_id,
                                   reason=a.reason)


def availability_from_pb(m: pb.TaskTypeAvailability) -> TypeAvailability:
    return TypeAvailability(m.task_type, m.runnable, m.model_id, m.site == pb.INFERENCE_SITE_LOCAL, m.reason)


def declined_to_pb(d: Declined) -> pb.DeclinedTask:
    return pb.DeclinedTask(task_type=d.task_type, request_text=d.request_text, reason=d.reason)


def declined_from_pb(m: pb.DeclinedTask) -> Declined:
    return Declined(m.task_type, m.request_text, m.reason)


def choice_to_pb(c: Choice) -> pb.Selection:
    return pb.Selection(task_id=c.task_id, chosen=candidate_to_pb(c.chosen), reason=c.reason,
                        fallbacks=[candidate_to_pb(f) for f in c.fallbacks])


def choice_from_pb(m: pb.Selection) -> Choice:
    return Choice(m.task_id, candidate_from_pb(m.chosen), m.reason,
                  tuple(candidate_from_pb(f) for f in m.fallbacks))


def usage_to_pb(u: Usage) -> pb.LlmUsage:
    return pb.LlmUsage(calls=u.calls, prompt_tokens=u.prompt_tokens,
                       completion_tokens=u.completion_tokens, seconds=u.seconds)


def usage_from_pb(m: pb.LlmUsage) -> Usage:
    return Usage(m.calls, m.prompt_tokens, m.completion_tokens, m.seconds)


def model_status_to_pb(s: ModelStatus) -> router_pb2.ModelStatus:
    return router_pb2.ModelStatus(model_id=s.model_id, task_types=list(s.task_types), loaded=s.loaded,
                                  memory_bytes=s.memory_bytes, error=s.error)


def model_status_from_pb(m: router_pb2.ModelStatus) -> ModelStatus:
    return ModelStatus(m.model_id, tuple(m.task_types), m.loaded, m.memory_bytes, m.error)
