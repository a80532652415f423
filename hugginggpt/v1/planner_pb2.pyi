from hugginggpt.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlanRequest(_message.Message):
    __slots__ = ("messages", "task_types", "max_llm_calls", "availability")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    MAX_LLM_CALLS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    task_types: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskType]
    max_llm_calls: int
    availability: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskTypeAvailability]
    def __init__(self, messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ..., task_types: _Optional[_Iterable[_Union[_common_pb2.TaskType, _Mapping]]] = ..., max_llm_calls: _Optional[int] = ..., availability: _Optional[_Iterable[_Union[_common_pb2.TaskTypeAvailability, _Mapping]]] = ...) -> None: ...

class PlanResponse(_message.Message):
    __slots__ = ("plan", "repair_rounds", "usage", "declined")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    REPAIR_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    DECLINED_FIELD_NUMBER: _ClassVar[int]
    plan: _common_pb2.Plan
    repair_rounds: int
    usage: _common_pb2.LlmUsage
    declined: _containers.RepeatedCompositeFieldContainer[_common_pb2.DeclinedTask]
    def __init__(self, plan: _Optional[_Union[_common_pb2.Plan, _Mapping]] = ..., repair_rounds: _Optional[int] = ..., usage: _Optional[_Union[_common_pb2.LlmUsage, _Mapping]] = ..., declined: _Optional[_Iterable[_Union[_common_pb2.DeclinedTask, _Mapping]]] = ...) -> None: ...

class StreamPlanRequest(_message.Message):
    __slots__ = ("messages", "task_types", "max_llm_calls", "availability")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    MAX_LLM_CALLS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    task_types: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskType]
    max_llm_calls: int
    availability: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskTypeAvailability]
    def __init__(self, messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ..., task_types: _Optional[_Iterable[_Union[_common_pb2.TaskType, _Mapping]]] = ..., max_llm_calls: _Optional[int] = ..., availability: _Optional[_Iterable[_Union[_common_pb2.TaskTypeAvailability, _Mapping]]] = ...) -> None: ...

class StreamPlanResponse(_message.Message):
    __slots__ = ("task", "plan")
    TASK_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    task: _common_pb2.Task
    plan: PlanResponse
    def __init__(self, task: _Optional[_Union[_common_pb2.Task, _Mapping]] = ..., plan: _Optional[_Union[PlanResponse, _Mapping]] = ...) -> None: ...
