"""MiniLM embeddings: ONNX Runtime gives torch's vectors, falls back to torch, refuses a bad setting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hugginggpt import embedding
from hugginggpt.embedded import default_cache_dir
from hugginggpt.embedding import MiniLm
from hugginggpt.settings import SettingsError

TEXTS = ["hi", "A kitten rests on a rug.", "Übersetze diesen Satz ins Englische, bitte. " * 40, ""]


@pytest.fixture(scope="module")
def both() -> tuple[MiniLm, MiniLm]:
    return MiniLm("onnx", default_cache_dir()), MiniLm("torch")


def test_onnx_vectors_equal_torch_vectors_in_any_order_and_length(both: tuple[MiniLm, MiniLm]) -> None:
    onnx, torch = both
    assert onnx.backend == "onnx" and torch.backend == "torch"
    got, want = onnx.embed(TEXTS), torch.embed(TEXTS)
    assert got.shape == want.shape == (4, 384)
    assert float(np.abs(got - want).max()) < 1e-4
    assert np.allclose(np.linalg.norm(got[:3], axis=1), 1.0, atol=1e-5)
    assert onnx.embed([]).shape == (0, 384)


def test_a_failed_export_falls_back_to_torch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(source: Path, cache_dir: Path) -> Path:
        raise RuntimeError("no onnx package")

    monkeypatch.setattr(embedding, "ensure_onnx", broken)
    assert MiniLm("onnx", tmp_path).backend == "torch"


def test_an_export_that_differs_from_torch_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(embedding, "TOLERANCE", -1.0)  # nothing can be that close
    with pytest.raises(ValueError, match="differs from torch"):
        embedding.ensure_onnx(embedding.model_dir(), tmp_path)
    assert not list((tmp_path / "onnx").iterdir())  # no half-checked file left behind


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(SettingsError, match="HUGGINGGPT_EMBEDDINGS_BACKEND"):
        MiniLm("gpu-please")


def test_a_prebuilt_export_is_used_when_the_cache_has_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made = embedding.ensure_onnx(embedding.model_dir(), default_cache_dir())
    prebuilt = tmp_path / "prebuilt"
    prebuilt.mkdir()
    (prebuilt / made.name).symlink_to(made)

    def no_export(source: Path, path: Path) -> None:
        raise AssertionError("must not export when a prebuilt file exists")

    monkeypatch.setattr(embedding, "PREBUILT", prebuilt)
    monkeypatch.setattr(embedding, "_export", no_export)
    assert embedding.ensure_onnx(embedding.model_dir(), tmp_path / "empty-cache") == prebuilt / made.name


def test_recent_embeddings_embed_each_new_text_once_and_forget_the_oldest() -> None:
    from hugginggpt.embedding import RecentEmbeddings
    from tests.doubles.embedder import HashEmbedder

    class Counting(HashEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[list[str]] = []

        def embed(self, texts):  # type: ignore[no-untyped-def]
            self.seen.append(list(texts))
            return super().embed(texts)

    inner = Counting()
    recent = RecentEmbeddings(inner, size=2)
    first = recent.embed(["a cat", "a dog", "a cat"])
    assert inner.seen == [["a cat", "a dog"]] and first.shape == (3, 256)
    assert (recent.embed(["a dog"])[0] == first[1]).all() and len(inner.seen) == 1
    recent.embed(["a bird"])  # "a cat" is now the oldest of three: forgotten
    recent.embed(["a cat"])
    assert inner.seen[-1] == ["a cat"] and recent.embed([]).shape[0] == 0
