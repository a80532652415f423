from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_SYSTEM: _ClassVar[Role]
    ROLE_USER: _ClassVar[Role]
    ROLE_ASSISTANT: _ClassVar[Role]

class ValueKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_KIND_UNSPECIFIED: _ClassVar[ValueKind]
    VALUE_KIND_TEXT: _ClassVar[ValueKind]
    VALUE_KIND_IMAGE: _ClassVar[ValueKind]
    VALUE_KIND_AUDIO: _ClassVar[ValueKind]
    VALUE_KIND_VIDEO: _ClassVar[ValueKind]

class InferenceSite(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFERENCE_SITE_UNSPECIFIED: _ClassVar[InferenceSite]
    INFERENCE_SITE_LOCAL: _ClassVar[InferenceSite]
    INFERENCE_SITE_HOSTED: _ClassVar[InferenceSite]

class InferenceMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFERENCE_MODE_UNSPECIFIED: _ClassVar[InferenceMode]
    INFERENCE_MODE_LOCAL: _ClassVar[InferenceMode]
    INFERENCE_MODE_HUGGINGFACE: _ClassVar[InferenceMode]
    INFERENCE_MODE_HYBRID: _ClassVar[InferenceMode]
ROLE_UNSPECIFIED: Role
ROLE_SYSTEM: Role
ROLE_USER: Role
ROLE_ASSISTANT: Role
VALUE_KIND_UNSPECIFIED: ValueKind
VALUE_KIND_TEXT: ValueKind
VALUE_KIND_IMAGE: ValueKind
VALUE_KIND_AUDIO: ValueKind
VALUE_KIND_VIDEO: ValueKind
INFERENCE_SITE_UNSPECIFIED: InferenceSite
INFERENCE_SITE_LOCAL: InferenceSite
INFERENCE_SITE_HOSTED: InferenceSite
INFERENCE_MODE_UNSPECIFIED: InferenceMode
INFERENCE_MODE_LOCAL: InferenceMode
INFERENCE_MODE_HUGGINGFACE: InferenceMode
INFERENCE_MODE_HYBRID: InferenceMode

class Artifact(_message.Message):
    __slots__ = ("uri", "name", "media_type", "size_bytes", "kind")
    URI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    uri: str
    name: str
    media_type: str
    size_bytes: int
    kind: ValueKind
    def __init__(self, uri: _Optional[str] = ..., name: _Optional[str] = ..., media_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., kind: _Optional[_Union[ValueKind, str]] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("role", "content", "attachments")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    role: Role
    content: str
    attachments: _containers.RepeatedCompositeFieldContainer[Artifact]
    def __init__(self, role: _Optional[_Union[Role, str]] = ..., content: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Artifact, _Mapping]]] = ...) -> None: ...

class TaskType(_message.Message):
    __slots__ = ("name", "description", "input_kinds", "output_kinds")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_KINDS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KINDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    input_kinds: _containers.RepeatedScalarFieldContainer[ValueKind]
    output_kinds: _containers.RepeatedScalarFieldContainer[ValueKind]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., input_kinds: _Optional[_Iterable[_Union[ValueKind, str]]] = ..., output_kinds: _Optional[_Iterable[_Union[ValueKind, str]]] = ...) -> None: ...

class Argument(_message.Message):
    __slots__ = ("name", "literal", "resource_uri", "task_ref")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LITERAL_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_URI_FIELD_NUMBER: _ClassVar[int]
    TASK_REF_FIELD_NUMBER: _ClassVar[int]
    name: str
    literal: str
    resource_uri: str
    task_ref: int
    def __init__(self, name: _Optional[str] = ..., literal: _Optional[str] = ..., resource_uri: _Optional[str] = ..., task_ref: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("id", "type", "dependencies", "arguments", "parameters")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: int
    type: str
    dependencies: _containers.RepeatedScalarFieldContainer[int]
    arguments: _containers.RepeatedCompositeFieldContainer[Argument]
    parameters: _struct_pb2.Struct
    def __init__(self, id: _Optional[int] = ..., type: _Optional[str] = ..., dependencies: _Optional[_Iterable[int]] = ..., arguments: _Optional[_Iterable[_Union[Argument, _Mapping]]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("tasks", "direct_answer")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    DIRECT_ANSWER_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    direct_answer: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., direct_answer: _Optional[str] = ...) -> None: ...

class ModelCandidate(_message.Message):
    __slots__ = ("model_id", "site", "score", "description")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    site: InferenceSite
    score: float
    description: str
    def __init__(self, model_id: _Optional[str] = ..., site: _Optional[_Union[InferenceSite, str]] = ..., score: _Optional[float] = ..., description: _Optional[str] = ...) -> None: ...

class TaskTypeAvailability(_message.Message):
    __slots__ = ("task_type", "runnable", "site", "model_id", "reason")
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    RUNNABLE_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    task_type: str
    runnable: bool
    site: InferenceSite
    model_id: str
    reason: str
    def __init__(self, task_type: _Optional[str] = ..., runnable: _Optional[bool] = ..., site: _Optional[_Union[InferenceSite, str]] = ..., model_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeclinedTask(_message.Message):
    __slots__ = ("task_type", "request_text", "reason")
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TEXT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    task_type: str
    request_text: str
    reason: str
    def __init__(self, task_type: _Optional[str] = ..., request_text: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Selection(_message.Message):
    __slots__ = ("task_id", "chosen", "reason", "fallbacks")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    chosen: ModelCandidate
    reason: str
    fallbacks: _containers.RepeatedCompositeFieldContainer[ModelCandidate]
    def __init__(self, task_id: _Optional[int] = ..., chosen: _Optional[_Union[ModelCandidate, _Mapping]] = ..., reason: _Optional[str] = ..., fallbacks: _Optional[_Iterable[_Union[ModelCandidate, _Mapping]]] = ...) -> None: ...

class Label(_message.Message):
    __slots__ = ("label", "score")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("x_min", "y_min", "x_max", "y_max")
    X_MIN_FIELD_NUMBER: _ClassVar[int]
    Y_MIN_FIELD_NUMBER: _ClassVar[int]
    X_MAX_FIELD_NUMBER: _ClassVar[int]
    Y_MAX_FIELD_NUMBER: _ClassVar[int]
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    def __init__(self, x_min: _Optional[float] = ..., y_min: _Optional[float] = ..., x_max: _Optional[float] = ..., y_max: _Optional[float] = ...) -> None: ...

class Detection(_message.Message):
    __slots__ = ("label", "score", "box")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    box: Box
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ..., box: _Optional[_Union[Box, _Mapping]] = ...) -> None: ...

class Entity(_message.Message):
    __slots__ = ("text", "label", "start", "end", "score")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    text: str
    label: str
    start: int
    end: int
    score: float
    def __init__(self, text: _Optional[str] = ..., label: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., score: _Optional[float] = ...) -> None: ...

class Keypoint(_message.Message):
    __slots__ = ("name", "x", "y", "score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    x: float
    y: float
    score: float
    def __init__(self, name: _Optional[str] = ..., x: _Optional[float] = ..., y: _Optional[float] = ..., score: _Optional[float] = ...) -> None: ...

class TaskResult(_message.Message):
    __slots__ = ("text", "labels", "detections", "entities", "keypoints", "artifacts", "vector", "score", "extra", "vector_length")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    VECTOR_LENGTH_FIELD_NUMBER: _ClassVar[int]
    text: str
    labels: _containers.RepeatedCompositeFieldContainer[Label]
    detections: _containers.RepeatedCompositeFieldContainer[Detection]
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    keypoints: _containers.RepeatedCompositeFieldContainer[Keypoint]
    artifacts: _containers.RepeatedCompositeFieldContainer[Artifact]
    vector: _containers.RepeatedScalarFieldContainer[float]
    score: float
    extra: _struct_pb2.Struct
    vector_length: int
    def __init__(self, text: _Optional[str] = ..., labels: _Optional[_Iterable[_Union[Label, _Mapping]]] = ..., detections: _Optional[_Iterable[_Union[Detection, _Mapping]]] = ..., entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ..., keypoints: _Optional[_Iterable[_Union[Keypoint, _Mapping]]] = ..., artifacts: _Optional[_Iterable[_Union[Artifact, _Mapping]]] = ..., vector: _Optional[_Iterable[float]] = ..., score: _Optional[float] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., vector_length: _Optional[int] = ...) -> None: ...

class LlmUsage(_message.Message):
    __slots__ = ("calls", "prompt_tokens", "completion_tokens", "seconds")
    CALLS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    def __init__(self, calls: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...
