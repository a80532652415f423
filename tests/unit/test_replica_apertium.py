"""The Apertium English-Spanish pair (Debian's apertium-eng-spa) as a translation backend."""

from __future__ import annotations

import pytest

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.errors import HuggingGPTError, InvalidRequest
from services.replica.backends import backend_for
from services.replica.backends.apertium_mt import target_code
from services.replica.backends.base import BackendContext, Handle
from services.replica.results import Input, Request, Result


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> BackendContext:
    return BackendContext(ArtifactStore(tmp_path_factory.mktemp("artifacts"), 1 << 20))


def _translate(handle: Handle, model: str, text: str, **params: object) -> Result | HuggingGPTError:
    return handle.predict([Request(model, "translation", (Input("text", text=text),), dict(params))])[0]


def test_english_to_spanish(ctx: BackendContext) -> None:
    handle = backend_for("apertium").load("apertium/apertium-en-es", "translation", ctx)
    out = _translate(handle, "apertium/apertium-en-es", "My brother bought three red apples yesterday.",
                     target_language="Spanish")
    assert isinstance(out, Result)
    assert out.text == "Mi hermano compró tres manzanas rojas ayer."
    assert out.extra["target_language"] == "es"


def test_spanish_to_english_keeps_lines_and_markup_characters(ctx: BackendContext) -> None:
    handle = backend_for("apertium").load("apertium/apertium-es-en", "translation", ctx)
    out = _translate(handle, "apertium/apertium-es-en", "El perro duerme.\nTengo <dos> gatos & un pez [x].")
    assert isinstance(out, Result)
    first, second = out.text.splitlines()
    assert first == "The dog sleeps."
    assert "<" in second and "&" in second and "[x]" in second and "cats" in second


def test_a_request_for_another_target_language_is_refused(ctx: BackendContext) -> None:
    handle = backend_for("apertium").load("apertium/apertium-en-es", "translation", ctx)
    out = _translate(handle, "apertium/apertium-en-es", "Good morning.", target_language="German")
    assert isinstance(out, InvalidRequest) and "English into Spanish only" in out.message
    empty = _translate(handle, "apertium/apertium-en-es", "   ")
    assert isinstance(empty, InvalidRequest)


def test_target_language_names_and_codes() -> None:
    for value, code in (("Spanish", "es"), ("es", "es"), ("español", "es"), ("English", "en"), ("spa", "es")):
        assert target_code(Request("m", "translation", (), {"target_language": value})) == code
    assert target_code(Request("m", "translation")) is None
