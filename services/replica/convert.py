"""Proto <-> replica domain translation."""

from __future__ import annotations

from google.protobuf import json_format

from hugginggpt.convert import artifact_to_pb
from hugginggpt.v1 import common_pb2, router_pb2
from services.replica.results import Input, Request, Result


def request_from_pb(m: router_pb2.Inference, timeout: float | None) -> Request:
    inputs = tuple(
        Input(
            i.name,
            text=i.text if i.WhichOneof("value") == "text" else None,
            uri=i.artifact_uri if i.WhichOneof("value") == "artifact_uri" else None,
        )
        for i in m.inputs
    )
    parameters = json_format.MessageToDict(m.parameters) if m.HasField("parameters") else {}
    return Request(m.model_id, m.task_type, inputs, parameters, timeout)


def result_to_pb(r: Result) -> common_pb2.TaskResult:
    msg = common_pb2.TaskResult(
        text=r.text,
        labels=[common_pb2.Label(label=x.label, score=x.score) for x in r.labels],
        detections=[
            common_pb2.Detection(
                label=d.label,
                score=d.score,
                box=common_pb2.Box(x_min=d.box.x_min, y_min=d.box.y_min, x_max=d.box.x_max, y_max=d.box.y_max),
            )
            for d in r.detections
        ],
        entities=[
            common_pb2.Entity(text=e.text, label=e.label, start=e.start, end=e.end, score=e.score) for e in r.entities
        ],
        keypoints=[common_pb2.Keypoint(name=k.name, x=k.x, y=k.y, score=k.score) for k in r.keypoints],
        artifacts=[artifact_to_pb(a) for a in r.artifacts],
        vector=r.vector,
    )
    if r.score is not None:
        msg.score = r.score
    if r.extra:
        msg.extra.update(r.extra)
    return msg

