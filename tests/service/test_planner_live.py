"""The demo request planned by the real embedded LLM and MiniLM demo choice (needs the dev LLM server)."""

from __future__ import annotations

import pytest

from hugginggpt.domain import Artifact, Kind, Turn
from hugginggpt.tasktypes import load_task_types
from services.planner.clients import build_planner
from services.planner.config import PlannerConfig

pytestmark = pytest.mark.integration


async def test_demo_request_is_planned_by_the_real_llm() -> None:
    deps = build_planner(PlannerConfig.from_env(), load_task_types())
    files = (Artifact("artifact://i/invoice_text.png", "invoice_text.png", "image/png", 1, Kind.IMAGE),
             Artifact("artifact://s/speech_fox.wav", "speech_fox.wav", "audio/wav", 1, Kind.AUDIO))
    request = ("What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list "
               "the named entities in it.")
    try:
        outcome = await deps.planner.plan([Turn("user", request, files)], timeout=300)
    finally:
        await deps.close()
    by_type = {t.type: t for t in outcome.plan.tasks}
    assert set(by_type) == {"document-question-answering", "automatic-speech-recognition", "token-classification"}
    assert by_type["document-question-answering"].arguments[0].resource_uri == files[0].uri
    assert by_type["token-classification"].dependencies == (by_type["automatic-speech-recognition"].id,)
