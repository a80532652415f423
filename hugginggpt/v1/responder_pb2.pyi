from hugginggpt.v1 import common_pb2 as _common_pb2
from hugginggpt.v1 import executor_pb2 as _executor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RespondRequest(_message.Message):
    __slots__ = ("messages", "plan", "selections", "results", "declined")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SELECTIONS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    DECLINED_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    plan: _common_pb2.Plan
    selections: _containers.RepeatedCompositeFieldContainer[_common_pb2.Selection]
    results: _containers.RepeatedCompositeFieldContainer[_executor_pb2.TaskEvent]
    declined: _containers.RepeatedCompositeFieldContainer[_common_pb2.DeclinedTask]
    def __init__(self, messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ..., plan: _Optional[_Union[_common_pb2.Plan, _Mapping]] = ..., selections: _Optional[_Iterable[_Union[_common_pb2.Selection, _Mapping]]] = ..., results: _Optional[_Iterable[_Union[_executor_pb2.TaskEvent, _Mapping]]] = ..., declined: _Optional[_Iterable[_Union[_common_pb2.DeclinedTask, _Mapping]]] = ...) -> None: ...

class RespondResponse(_message.Message):
    __slots__ = ("delta", "done")
    DELTA_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    delta: str
    done: RespondDone
    def __init__(self, delta: _Optional[str] = ..., done: _Optional[_Union[RespondDone, _Mapping]] = ...) -> None: ...

class RespondDone(_message.Message):
    __slots__ = ("answer", "usage")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    answer: str
    usage: _common_pb2.LlmUsage
    def __init__(self, answer: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.LlmUsage, _Mapping]] = ...) -> None: ...
