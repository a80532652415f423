"""object-detection of frontal faces with OpenCV's Haar cascade; draws the boxes on a copy of the image."""

from __future__ import annotations

from typing import Any

import numpy as np

from hugginggpt.errors import NotFound
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import draw_detections, image_input, save_png
from services.replica.results import Box, Detection, Request, Result


class HaarHandle(Handle):
    def __init__(self, cascade: Any, ctx: BackendContext) -> None:
        self.cascade = cascade
        self.ctx = ctx

    def predict_one(self, request: Request) -> Result:
        import cv2

        image, path = image_input(request, self.ctx)
        gray = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2GRAY)
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        detections = [
            Detection("face", 1.0, Box(float(x), float(y), float(x + w), float(y + h)))
            for (x, y, w, h) in (found if len(found) else [])
        ]
        drawn = save_png(self.ctx.store, draw_detections(image, detections), f"{path.stem}_faces.png")
        return Result(text=f"{len(detections)} face(s)", detections=detections, artifacts=[drawn])


class HaarBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        import cv2

        path = f"{cv2.data.haarcascades}haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise NotFound(f"OpenCV's Haar cascade is missing at {path}")
        return HaarHandle(cascade, ctx)
