from google.protobuf import struct_pb2 as _struct_pb2
from hugginggpt.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InferenceInput(_message.Message):
    __slots__ = ("name", "text", "artifact_uri")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    name: str
    text: str
    artifact_uri: str
    def __init__(self, name: _Optional[str] = ..., text: _Optional[str] = ..., artifact_uri: _Optional[str] = ...) -> None: ...

class Inference(_message.Message):
    __slots__ = ("model_id", "task_type", "inputs", "parameters", "mode")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    task_type: str
    inputs: _containers.RepeatedCompositeFieldContainer[InferenceInput]
    parameters: _struct_pb2.Struct
    mode: _common_pb2.InferenceMode
    def __init__(self, model_id: _Optional[str] = ..., task_type: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[InferenceInput, _Mapping]]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., mode: _Optional[_Union[_common_pb2.InferenceMode, str]] = ...) -> None: ...

class InferRequest(_message.Message):
    __slots__ = ("inference",)
    INFERENCE_FIELD_NUMBER: _ClassVar[int]
    inference: Inference
    def __init__(self, inference: _Optional[_Union[Inference, _Mapping]] = ...) -> None: ...

class InferResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: InferenceOutcome
    def __init__(self, outcome: _Optional[_Union[InferenceOutcome, _Mapping]] = ...) -> None: ...

class InferenceOutcome(_message.Message):
    __slots__ = ("result", "replica_id", "site", "inference_seconds")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    result: _common_pb2.TaskResult
    replica_id: str
    site: _common_pb2.InferenceSite
    inference_seconds: float
    def __init__(self, result: _Optional[_Union[_common_pb2.TaskResult, _Mapping]] = ..., replica_id: _Optional[str] = ..., site: _Optional[_Union[_common_pb2.InferenceSite, str]] = ..., inference_seconds: _Optional[float] = ...) -> None: ...

class ModelStatus(_message.Message):
    __slots__ = ("model_id", "task_types", "loaded", "memory_bytes", "error")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    LOADED_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    task_types: _containers.RepeatedScalarFieldContainer[str]
    loaded: bool
    memory_bytes: int
    error: str
    def __init__(self, model_id: _Optional[str] = ..., task_types: _Optional[_Iterable[str]] = ..., loaded: _Optional[bool] = ..., memory_bytes: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ReplicaInfo(_message.Message):
    __slots__ = ("replica_id", "address", "models", "max_in_flight")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    address: str
    models: _containers.RepeatedCompositeFieldContainer[ModelStatus]
    max_in_flight: int
    def __init__(self, replica_id: _Optional[str] = ..., address: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelStatus, _Mapping]]] = ..., max_in_flight: _Optional[int] = ...) -> None: ...

class RegisterReplicaRequest(_message.Message):
    __slots__ = ("replica",)
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    replica: ReplicaInfo
    def __init__(self, replica: _Optional[_Union[ReplicaInfo, _Mapping]] = ...) -> None: ...

class RegisterReplicaResponse(_message.Message):
    __slots__ = ("heartbeat_interval_seconds",)
    HEARTBEAT_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval_seconds: float
    def __init__(self, heartbeat_interval_seconds: _Optional[float] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("replica_id", "models")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    models: _containers.RepeatedCompositeFieldContainer[ModelStatus]
    def __init__(self, replica_id: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelStatus, _Mapping]]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("known",)
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    known: bool
    def __init__(self, known: _Optional[bool] = ...) -> None: ...

class ListDeploymentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReplicaState(_message.Message):
    __slots__ = ("replica", "in_flight", "seconds_since_heartbeat")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    SECONDS_SINCE_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    replica: ReplicaInfo
    in_flight: int
    seconds_since_heartbeat: float
    def __init__(self, replica: _Optional[_Union[ReplicaInfo, _Mapping]] = ..., in_flight: _Optional[int] = ..., seconds_since_heartbeat: _Optional[float] = ...) -> None: ...

class ListDeploymentsResponse(_message.Message):
    __slots__ = ("replicas", "hosted_available")
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    HOSTED_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaState]
    hosted_available: bool
    def __init__(self, replicas: _Optional[_Iterable[_Union[ReplicaState, _Mapping]]] = ..., hosted_available: _Optional[bool] = ...) -> None: ...
