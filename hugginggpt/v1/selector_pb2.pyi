from hugginggpt.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SelectRequest(_message.Message):
    __slots__ = ("user_request", "tasks", "mode", "defer_undecided", "ranking_only")
    USER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DEFER_UNDECIDED_FIELD_NUMBER: _ClassVar[int]
    RANKING_ONLY_FIELD_NUMBER: _ClassVar[int]
    user_request: str
    tasks: _containers.RepeatedCompositeFieldContainer[_common_pb2.Task]
    mode: _common_pb2.InferenceMode
    defer_undecided: bool
    ranking_only: bool
    def __init__(self, user_request: _Optional[str] = ..., tasks: _Optional[_Iterable[_Union[_common_pb2.Task, _Mapping]]] = ..., mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ..., defer_undecided: _Optional[bool] = ..., ranking_only: _Optional[bool] = ...) -> None: ...

class SelectResponse(_message.Message):
    __slots__ = ("selections", "usage")
    SELECTIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    selections: _containers.RepeatedCompositeFieldContainer[_common_pb2.Selection]
    usage: _common_pb2.LlmUsage
    def __init__(self, selections: _Optional[_Iterable[_Union[_common_pb2.Selection, _Mapping]]] = ..., usage: _Optional[_Union[_common_pb2.LlmUsage, _Mapping]] = ...) -> None: ...

class ListCandidatesRequest(_message.Message):
    __slots__ = ("task_type", "user_request", "mode")
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    task_type: str
    user_request: str
    mode: _common_pb2.InferenceMode
    def __init__(self, task_type: _Optional[str] = ..., user_request: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ...) -> None: ...

class ListCandidatesResponse(_message.Message):
    __slots__ = ("candidates",)
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelCandidate]
    def __init__(self, candidates: _Optional[_Iterable[_Union[_common_pb2.ModelCandidate, _Mapping]]] = ...) -> None: ...

class ListTaskTypesRequest(_message.Message):
    __slots__ = ("mode",)
    MODE_FIELD_NUMBER: _ClassVar[int]
    mode: _common_pb2.InferenceMode
    def __init__(self, mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ...) -> None: ...

class ListTaskTypesResponse(_message.Message):
    __slots__ = ("task_types",)
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    task_types: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskTypeAvailability]
    def __init__(self, task_types: _Optional[_Iterable[_Union[_common_pb2.TaskTypeAvailability, _Mapping]]] = ...) -> None: ...
