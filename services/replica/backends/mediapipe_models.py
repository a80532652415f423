"""MediaPipe pose, face detection and selfie segmentation (runs only in .venv-mediapipe, see setup_mediapipe.sh)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from hugginggpt.errors import NotFound
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import draw_detections, draw_keypoints, image_input, save_png
from services.replica.results import Box, Detection, Keypoint, Label, Request, Result

POSE = "google/mediapipe-pose"
FACE = "google/mediapipe-face-detection"
SELFIE = "google/mediapipe-selfie-segmentation"


class MediapipeHandle(Handle):
    """One mediapipe solution; its graph is not thread-safe, so the replica serialises calls (thread_safe False)."""

    def __init__(self, model_id: str, solution: Any, ctx: BackendContext) -> None:
        self.model_id, self.solution, self.ctx = model_id, solution, ctx

    def predict_one(self, request: Request) -> Result:
        image, path = image_input(request, self.ctx)
        output = self.solution.process(np.asarray(image))
        if self.model_id == POSE:
            return _pose(output, image, path.stem, self.ctx)
        if self.model_id == FACE:
            return _faces(output, image, path.stem, self.ctx)
        return _mask(output, path.stem, self.ctx)

    def close(self) -> None:
        self.solution.close()


def _pose(output: Any, image: Image.Image, stem: str, ctx: BackendContext) -> Result:
    import mediapipe as mp

    if output.pose_landmarks is None:
        return Result(text="no person found")
    w, h = image.size
    names = [lm.name.lower() for lm in mp.solutions.pose.PoseLandmark]
    points = [
        Keypoint(names[i], p.x * w, p.y * h, float(p.visibility)) for i, p in enumerate(output.pose_landmarks.landmark)
    ]
    drawn = image.copy()
    draw = ImageDraw.Draw(drawn)
    for a, b in mp.solutions.pose.POSE_CONNECTIONS:  # the skeleton, as the reference drew it
        draw.line([(points[a].x, points[a].y), (points[b].x, points[b].y)], fill=(0, 128, 255), width=3)
    art = save_png(ctx.store, draw_keypoints(drawn, points), f"{stem}_pose.png")
    return Result(text=f"1 person, {len(points)} keypoints", keypoints=points, artifacts=[art])


def _faces(output: Any, image: Image.Image, stem: str, ctx: BackendContext) -> Result:
    w, h = image.size
    dets = []
    for d in output.detections or []:
        r = d.location_data.relative_bounding_box
        box = Box(
            max(0.0, r.xmin * w), max(0.0, r.ymin * h), min(w, (r.xmin + r.width) * w), min(h, (r.ymin + r.height) * h)
        )
        dets.append(Detection("face", float(d.score[0]), box))
    art = save_png(ctx.store, draw_detections(image, dets), f"{stem}_faces.png")
    return Result(text=f"{len(dets)} face(s)", detections=dets, artifacts=[art])


def _mask(output: Any, stem: str, ctx: BackendContext) -> Result:
    mask = np.asarray(output.segmentation_mask) > 0.5
    art = save_png(ctx.store, Image.fromarray((mask * 255).astype(np.uint8), mode="L"), f"{stem}_person_mask.png")
    share = float(mask.mean())
    return Result(
        text=f"person covers {share:.0%} of the image",
        artifacts=[art],
        labels=[Label("person", share), Label("background", 1 - share)],
    )


class MediapipeBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        import mediapipe as mp

        solutions = mp.solutions
        if model_id == POSE:
            solution = solutions.pose.Pose(static_image_mode=True, model_complexity=1)
        elif model_id == FACE:
            solution = solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        elif model_id == SELFIE:
            solution = solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        else:
            raise NotFound(f"{model_id} is not a mediapipe model this replica knows")
        return MediapipeHandle(model_id, solution, ctx)
