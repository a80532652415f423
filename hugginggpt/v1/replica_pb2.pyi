from hugginggpt.v1 import router_pb2 as _router_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PredictRequest(_message.Message):
    __slots__ = ("inference",)
    INFERENCE_FIELD_NUMBER: _ClassVar[int]
    inference: _router_pb2.Inference
    def __init__(self, inference: _Optional[_Union[_router_pb2.Inference, _Mapping]] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: _router_pb2.InferenceOutcome
    def __init__(self, outcome: _Optional[_Union[_router_pb2.InferenceOutcome, _Mapping]] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class LoadModelResponse(_message.Message):
    __slots__ = ("model", "load_seconds")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LOAD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    model: _router_pb2.ModelStatus
    load_seconds: float
    def __init__(self, model: _Optional[_Union[_router_pb2.ModelStatus, _Mapping]] = ..., load_seconds: _Optional[float] = ...) -> None: ...

class UnloadModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class UnloadModelResponse(_message.Message):
    __slots__ = ("was_loaded",)
    WAS_LOADED_FIELD_NUMBER: _ClassVar[int]
    was_loaded: bool
    def __init__(self, was_loaded: _Optional[bool] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("replica_id", "models")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    models: _containers.RepeatedCompositeFieldContainer[_router_pb2.ModelStatus]
    def __init__(self, replica_id: _Optional[str] = ..., models: _Optional[_Iterable[_Union[_router_pb2.ModelStatus, _Mapping]]] = ...) -> None: ...
