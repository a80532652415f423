from hugginggpt.v1 import common_pb2 as _common_pb2
from hugginggpt.v1 import executor_pb2 as _executor_pb2
from hugginggpt.v1 import planner_pb2 as _planner_pb2
from hugginggpt.v1 import selector_pb2 as _selector_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChatRequest(_message.Message):
    __slots__ = ("session_id", "content", "attachments", "mode")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    content: str
    attachments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Artifact]
    mode: _common_pb2.InferenceMode
    def __init__(self, session_id: _Optional[str] = ..., content: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_common_pb2.Artifact, _Mapping]]] = ..., mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ...) -> None: ...

class PlanTasksRequest(_message.Message):
    __slots__ = ("session_id", "content", "attachments")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    content: str
    attachments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Artifact]
    def __init__(self, session_id: _Optional[str] = ..., content: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_common_pb2.Artifact, _Mapping]]] = ...) -> None: ...

class PlanTasksResponse(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: _planner_pb2.PlanResponse
    def __init__(self, plan: _Optional[_Union[_planner_pb2.PlanResponse, _Mapping]] = ...) -> None: ...

class RunTasksRequest(_message.Message):
    __slots__ = ("session_id", "content", "attachments", "mode")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    content: str
    attachments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Artifact]
    mode: _common_pb2.InferenceMode
    def __init__(self, session_id: _Optional[str] = ..., content: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_common_pb2.Artifact, _Mapping]]] = ..., mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ...) -> None: ...

class RunTasksResponse(_message.Message):
    __slots__ = ("plan", "selections", "results")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SELECTIONS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    plan: _planner_pb2.PlanResponse
    selections: _selector_pb2.SelectResponse
    results: _containers.RepeatedCompositeFieldContainer[_executor_pb2.TaskEvent]
    def __init__(self, plan: _Optional[_Union[_planner_pb2.PlanResponse, _Mapping]] = ..., selections: _Optional[_Union[_selector_pb2.SelectResponse, _Mapping]] = ..., results: _Optional[_Iterable[_Union[_executor_pb2.TaskEvent, _Mapping]]] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("request_id", "session_id", "at_seconds", "planned_task", "plan", "selections", "task", "answer_delta", "summary")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PLANNED_TASK_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SELECTIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    ANSWER_DELTA_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session_id: str
    at_seconds: float
    planned_task: _common_pb2.Task
    plan: _planner_pb2.PlanResponse
    selections: _selector_pb2.SelectResponse
    task: _executor_pb2.TaskEvent
    answer_delta: str
    summary: ChatSummary
    def __init__(self, request_id: _Optional[str] = ..., session_id: _Optional[str] = ..., at_seconds: _Optional[float] = ..., planned_task: _Optional[_Union[_common_pb2.Task, _Mapping]] = ..., plan: _Optional[_Union[_planner_pb2.PlanResponse, _Mapping]] = ..., selections: _Optional[_Union[_selector_pb2.SelectResponse, _Mapping]] = ..., task: _Optional[_Union[_executor_pb2.TaskEvent, _Mapping]] = ..., answer_delta: _Optional[str] = ..., summary: _Optional[_Union[ChatSummary, _Mapping]] = ...) -> None: ...

class ChatSummary(_message.Message):
    __slots__ = ("answer", "artifacts", "tasks_succeeded", "tasks_failed", "tasks_skipped", "usage", "total_seconds", "inference_seconds")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    TASKS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    TASKS_FAILED_FIELD_NUMBER: _ClassVar[int]
    TASKS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    answer: str
    artifacts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Artifact]
    tasks_succeeded: int
    tasks_failed: int
    tasks_skipped: int
    usage: _common_pb2.LlmUsage
    total_seconds: float
    inference_seconds: float
    def __init__(self, answer: _Optional[str] = ..., artifacts: _Optional[_Iterable[_Union[_common_pb2.Artifact, _Mapping]]] = ..., tasks_succeeded: _Optional[int] = ..., tasks_failed: _Optional[int] = ..., tasks_skipped: _Optional[int] = ..., usage: _Optional[_Union[_common_pb2.LlmUsage, _Mapping]] = ..., total_seconds: _Optional[float] = ..., inference_seconds: _Optional[float] = ...) -> None: ...

class UploadArtifactRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[UploadMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadMetadata(_message.Message):
    __slots__ = ("name", "media_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    media_type: str
    def __init__(self, name: _Optional[str] = ..., media_type: _Optional[str] = ...) -> None: ...

class UploadArtifactResponse(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _common_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_common_pb2.Artifact, _Mapping]] = ...) -> None: ...

class DownloadArtifactRequest(_message.Message):
    __slots__ = ("uri",)
    URI_FIELD_NUMBER: _ClassVar[int]
    uri: str
    def __init__(self, uri: _Optional[str] = ...) -> None: ...

class DownloadArtifactResponse(_message.Message):
    __slots__ = ("artifact", "chunk")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    artifact: _common_pb2.Artifact
    chunk: bytes
    def __init__(self, artifact: _Optional[_Union[_common_pb2.Artifact, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    def __init__(self, messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ...) -> None: ...
