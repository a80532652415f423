from hugginggpt.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATE_UNSPECIFIED: _ClassVar[TaskState]
    TASK_STATE_STARTED: _ClassVar[TaskState]
    TASK_STATE_SUCCEEDED: _ClassVar[TaskState]
    TASK_STATE_FAILED: _ClassVar[TaskState]
    TASK_STATE_SKIPPED: _ClassVar[TaskState]
TASK_STATE_UNSPECIFIED: TaskState
TASK_STATE_STARTED: TaskState
TASK_STATE_SUCCEEDED: TaskState
TASK_STATE_FAILED: TaskState
TASK_STATE_SKIPPED: TaskState

class ExecuteRequest(_message.Message):
    __slots__ = ("tasks", "selections", "mode", "task_timeout_seconds")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    SELECTIONS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TASK_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[_common_pb2.Task]
    selections: _containers.RepeatedCompositeFieldContainer[_common_pb2.Selection]
    mode: _common_pb2.InferenceMode
    task_timeout_seconds: float
    def __init__(self, tasks: _Optional[_Iterable[_Union[_common_pb2.Task, _Mapping]]] = ..., selections: _Optional[_Iterable[_Union[_common_pb2.Selection, _Mapping]]] = ..., mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ..., task_timeout_seconds: _Optional[float] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: TaskEvent
    def __init__(self, event: _Optional[_Union[TaskEvent, _Mapping]] = ...) -> None: ...

class ExecuteStreamRequest(_message.Message):
    __slots__ = ("options", "task", "complete")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    options: ExecuteOptions
    task: ScheduledTask
    complete: PlanComplete
    def __init__(self, options: _Optional[_Union[ExecuteOptions, _Mapping]] = ..., task: _Optional[_Union[ScheduledTask, _Mapping]] = ..., complete: _Optional[_Union[PlanComplete, _Mapping]] = ...) -> None: ...

class ExecuteOptions(_message.Message):
    __slots__ = ("mode", "task_timeout_seconds")
    MODE_FIELD_NUMBER: _ClassVar[int]
    TASK_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    mode: _common_pb2.InferenceMode
    task_timeout_seconds: float
    def __init__(self, mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ..., task_timeout_seconds: _Optional[float] = ...) -> None: ...

class ScheduledTask(_message.Message):
    __slots__ = ("task", "selection")
    TASK_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    task: _common_pb2.Task
    selection: _common_pb2.Selection
    def __init__(self, task: _Optional[_Union[_common_pb2.Task, _Mapping]] = ..., selection: _Optional[_Union[_common_pb2.Selection, _Mapping]] = ...) -> None: ...

class PlanComplete(_message.Message):
    __slots__ = ("task_count",)
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    task_count: int
    def __init__(self, task_count: _Optional[int] = ...) -> None: ...

class ExecuteStreamResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: TaskEvent
    def __init__(self, event: _Optional[_Union[TaskEvent, _Mapping]] = ...) -> None: ...

class TaskEvent(_message.Message):
    __slots__ = ("task_id", "task_type", "state", "model_id", "site", "result", "reason", "attempts", "at_seconds", "duration_seconds", "inference_seconds")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    AT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    task_type: str
    state: TaskState
    model_id: str
    site: _common_pb2.InferenceSite
    result: _common_pb2.TaskResult
    reason: str
    attempts: int
    at_seconds: float
    duration_seconds: float
    inference_seconds: float
    def __init__(self, task_id: _Optional[int] = ..., task_type: _Optional[str] = ..., state: _Optional[_Union[TaskState, str]] = ..., model_id: _Optional[str] = ..., site: _Optional[_Union[_common_pb2.InferenceSite, str]] = ..., result: _Optional[_Union[_common_pb2.TaskResult, _Mapping]] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ..., at_seconds: _Optional[float] = ..., duration_seconds: _Optional[float] = ..., inference_seconds: _Optional[float] = ...) -> None: ...
