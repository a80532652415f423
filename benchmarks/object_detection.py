"""The COCO detector (MobileNetV3-CenterNet on TensorFlow.js) against the Haar face cascade it replaces for
general requests: load time, memory, warm latency, and counting quality on images labelled by hand.

The labels are this benchmark's own: for each image, how many of each COCO class a person counts in it (only
clearly visible, whole-enough objects; crowds in the background of messi5.jpg are left out and scored as
"at least"). Images come from the shared media, examples/media and Debian's opencv-doc samples (when
installed, under /usr/share/doc/opencv-doc/examples/data, or OPENCV_SAMPLES: `apt-get download opencv-doc`
and `dpkg -x` it anywhere), plus images made here: a blank one (nothing to
find) and collages of one portrait repeated (two and three people). For each score threshold the detector
is scored on: the exact count of each labelled class, presence of each labelled class (recall), and classes
reported that are not in the labels (false classes). Haar is scored on counting people by their faces.
Prints a table and one JSON object on its last line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "data" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/data/media")
OPENCV_DOC = Path(os.environ.get("OPENCV_SAMPLES", "/usr/share/doc/opencv-doc/examples/data"))
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
DETECTOR = "vladmandic/mb3-centernet-coco"

# image -> {class: count}; a count written as "N+" means at least N (crowds).
LABELS: dict[str, dict[str, str]] = {
    "grace_hopper.jpg": {"person": "1", "tie": "1"},
    "messi5.jpg": {"person": "1+", "sports ball": "1"},
    "fruits.jpg": {"orange": "2"},
    "squirrel_cls.jpg": {},
    "invoice_text.png": {},
    "blank.png": {},
    "two_people.png": {"person": "2", "tie": "2"},
    "three_people.png": {"person": "3", "tie": "3"},
    "basketball1.png": {"person": "2", "sports ball": "1"},
    "apple.jpg": {"apple": "1"},
    "orange.jpg": {"orange": "1"},
    "butterfly.jpg": {},
    "baboon.jpg": {},
    "stuff.jpg": {},
}


def make_images(folder: Path) -> dict[str, Path]:
    """The labelled images that exist here: shared media, opencv-doc samples, and the made ones."""
    found: dict[str, Path] = {}
    for name in LABELS:
        for base in (MEDIA, ROOT / "examples" / "media", OPENCV_DOC):
            if (base / name).is_file():
                found[name] = base / name
                break
    Image.new("RGB", (640, 480), (128, 128, 128)).save(folder / "blank.png")
    found["blank.png"] = folder / "blank.png"
    with Image.open(MEDIA / "grace_hopper.jpg") as portrait:
        face = portrait.convert("RGB")
        for n, name in ((2, "two_people.png"), (3, "three_people.png")):
            collage = Image.new("RGB", (face.width * n, face.height), "white")
            for i in range(n):
                collage.paste(face, (i * face.width, 0))
            collage.save(folder / name)
            found[name] = folder / name
    return found


def count_ok(label: str, got: int) -> bool:
    return got >= int(label[:-1]) if label.endswith("+") else got == int(label)


def score(predictions: dict[str, list[tuple[str, float]]], threshold: float) -> dict[str, float]:
    exact = counted = present = wanted = false_classes = 0
    for name, labels in LABELS.items():
        if name not in predictions:
            continue
        kept = [label for label, s in predictions[name] if s >= threshold]
        for cls, expected in labels.items():
            got = kept.count(cls)
            counted += 1
            exact += count_ok(expected, got)
            if expected not in ("0", "0+"):
                wanted += 1
                present += got > 0
        false_classes += len({c for c in kept if c not in labels})
    return {"threshold": threshold, "exact_counts": f"{exact}/{counted}", "class_recall": round(present / wanted, 3),
            "false_classes": false_classes}


def main() -> None:
    from hugginggpt.artifacts import ArtifactStore
    from services.replica.backends import backend_for
    from services.replica.backends.base import BackendContext
    from services.replica.models import resident_bytes
    from services.replica.results import Input, Request, Result

    with tempfile.TemporaryDirectory() as tmp:
        images = make_images(Path(tmp))
        ctx = BackendContext(ArtifactStore(Path(tmp) / "artifacts", 50 * 1024 * 1024))
        before = resident_bytes()
        started = time.perf_counter()
        detector = backend_for("tfjs_detector").load(DETECTOR, "object-detection", ctx)
        load_s = time.perf_counter() - started
        python_delta = resident_bytes() - before
        node_rss = detector.process.resident_bytes()  # type: ignore[attr-defined]
        haar = backend_for("haar_face").load("opencv/haarcascade-frontalface", "object-detection", ctx)

        predictions: dict[str, list[tuple[str, float]]] = {}
        faces: dict[str, int] = {}
        latencies: list[float] = []
        haar_latencies: list[float] = []
        for name, path in images.items():
            uri = ctx.store.put_bytes(name, path.read_bytes()).uri
            request = Request(DETECTOR, "object-detection", (Input("image", uri=uri),), {"threshold": min(THRESHOLDS)})
            for _ in range(3):
                t = time.perf_counter()
                result = detector.predict([request])[0]
                latencies.append(time.perf_counter() - t)
            assert isinstance(result, Result), result
            predictions[name] = [(d.label, d.score) for d in result.detections]
            t = time.perf_counter()
            face_result = haar.predict([Request("opencv/haarcascade-frontalface", "object-detection",
                                                (Input("image", uri=uri),))])[0]
            haar_latencies.append(time.perf_counter() - t)
            assert isinstance(face_result, Result), face_result
            faces[name] = len(face_result.detections)
        node_rss_after = detector.process.resident_bytes()  # type: ignore[attr-defined]
        detector.close()

    table = [score(predictions, t) for t in THRESHOLDS]
    people = {n: lab["person"] for n, lab in LABELS.items() if "person" in lab and n in predictions}
    people.update({n: "0" for n, lab in LABELS.items() if "person" not in lab and n in predictions})
    default = 0.35  # the model's default (services/replica/backends/tfjs_detector.py)
    detector_people = sum(count_ok(v, sum(1 for c, s in predictions[n] if c == "person" and s >= default))
                          for n, v in people.items())
    haar_people = sum(count_ok(v, faces[n]) for n, v in people.items())
    print(f"{len(images)} labelled images; load {load_s:.2f} s; node RSS {node_rss / 2**20:.0f} MB "
          f"(after the run {node_rss_after / 2**20:.0f} MB); replica-side delta {python_delta / 2**20:.0f} MB")
    p90 = sorted(latencies)[int(0.9 * len(latencies))]
    print(f"warm latency median {statistics.median(latencies):.3f} s (p90 {p90:.3f})"
          f"; Haar median {statistics.median(haar_latencies):.3f} s")
    for row in table:
        print(f"  threshold {row['threshold']:.2f}: exact counts {row['exact_counts']}, class recall "
              f"{row['class_recall']:.3f}, false classes {row['false_classes']}")
    print(f"people counted right at {default}: detector {detector_people}/{len(people)}, "
          f"Haar faces {haar_people}/{len(people)}")
    for name in images:
        kept = [f"{c} {s:.2f}" for c, s in predictions[name] if s >= default]
        print(f"  {name:18} labels {LABELS[name]}  detector@{default}: {kept}  Haar faces: {faces[name]}")
    print(json.dumps({
        "images": len(images), "load_s": round(load_s, 2), "node_rss_mb": round(node_rss / 2**20),
        "node_rss_after_mb": round(node_rss_after / 2**20), "replica_delta_mb": round(python_delta / 2**20),
        "warm_median_s": round(statistics.median(latencies), 3), "warm_p90_s": round(p90, 3),
        "haar_median_s": round(statistics.median(haar_latencies), 3),
        "thresholds": table, "people_right": {"detector": detector_people, "haar": haar_people, "of": len(people)},
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
