"""Responder core: grounding footnote, condensing, direct answers, bad input, with a scripted LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hugginggpt.domain import Artifact, Kind, Plan, Task
from hugginggpt.errors import InvalidRequest, Unavailable
from hugginggpt.llm import Usage
from services.responder.outcomes import Outcome, Result, condense
from services.responder.responding import Done, Responder, ResponderPolicy, Turn


class ScriptedLlm:
    def __init__(self, pieces: list[str], fail: bool = False) -> None:
        self.pieces, self.fail, self.prompts = pieces, fail, []

    async def stream(self, messages, usage: Usage, *, max_tokens=512, timeout=None) -> AsyncIterator[str]:
        self.prompts.append(messages)
        usage.calls += 1
        if self.fail:
            raise Unavailable("the LLM endpoint cannot be reached")
        for piece in self.pieces:
            yield piece


IMG = Artifact("artifact://abc/boxes.png", "boxes.png", "image/png", 10, Kind.IMAGE)
PLAN = Plan((Task(1, "object-detection"), Task(2, "image-to-text", (1,)), Task(3, "text-to-speech")))
OUTCOMES = [
    Outcome(1, "object-detection", "succeeded", "facebook/detr-resnet-50",
            result=Result(detections=(("cat", 0.9), ("cat", 0.8), ("dog", 0.7)), artifacts=(IMG,))),
    Outcome(2, "image-to-text", "failed", "tesseract/eng", reason="the replica ran out of memory"),
]


async def _collect(responder: Responder, turns, plan, outcomes) -> tuple[list[str], Done]:
    pieces, done = [], None
    async for item in responder.respond(turns, plan, outcomes):
        if isinstance(item, Done):
            done = item
        else:
            pieces.append(item)
    assert done is not None
    return pieces, done


async def test_answer_streams_then_footnote_names_models_files_and_failures() -> None:
    llm = ScriptedLlm(["Two cats ", "and a dog. See artifact://zzz/fake.png"])
    pieces, done = await _collect(Responder(llm), [Turn("user", "What is in my photo?")], PLAN, OUTCOMES)
    assert pieces[:2] == ["Two cats ", "and a dog. See artifact://zzz/fake.png"]
    assert "facebook/detr-resnet-50" in done.answer and "boxes.png (artifact://abc/boxes.png)" in done.answer
    assert "task 2 (image-to-text) failed: the replica ran out of memory" in done.answer
    assert "task 3 (text-to-speech) skipped" in done.answer  # no outcome reported: never dropped
    assert "artifact://zzz/fake.png: not a generated file" in done.answer
    prompt = llm.prompts[0][1]["content"]
    assert "cat x2 (best 0.90)" in prompt and "Answer in English" in prompt
    assert done.usage.calls == 1


async def test_answers_in_the_users_language() -> None:
    llm = ScriptedLlm(["Zwei Katzen."])
    _, done = await _collect(Responder(llm), [Turn("user", "Was ist auf meinem Foto? Bitte sag es mir.")],
                             PLAN, OUTCOMES)
    assert "Answer in German" in llm.prompts[0][1]["content"]
    assert "Verwendete Modelle" in done.answer


async def test_direct_answer_needs_no_llm_call() -> None:
    llm = ScriptedLlm([])
    pieces, done = await _collect(Responder(llm), [Turn("user", "hi")], Plan((), "Hello! How can I help?"), [])
    assert "".join(pieces) == "Hello! How can I help?" and done.usage.calls == 0 and not llm.prompts


async def test_long_results_are_condensed_to_fit_the_window() -> None:
    long = Outcome(1, "summarization", "succeeded", "m", result=Result(text="word " * 20000))
    llm = ScriptedLlm(["ok"])
    responder = Responder(llm, ResponderPolicy(context_window=2048, max_answer_tokens=200))
    await _collect(responder, [Turn("user", "Summarize")], Plan((Task(1, "summarization"),)), [long])
    prompt = llm.prompts[0][0]["content"] + llm.prompts[0][1]["content"]
    assert len(prompt) / 3 < 2048 - 200 and "[truncated: 99999 characters in all]" in prompt


def test_condense_counts_boxes_by_label() -> None:
    facts = condense(Result(detections=tuple(("person", 0.5) for _ in range(300))), 100)
    assert facts == ["detected 300 objects: person x300 (best 0.50)"]


@pytest.mark.parametrize("turns", [[], [Turn("assistant", "hi")], [Turn("user", "  ")]])
async def test_bad_conversation_is_rejected(turns) -> None:
    with pytest.raises(InvalidRequest):
        await _collect(Responder(ScriptedLlm([])), turns, PLAN, OUTCOMES)


async def test_llm_down_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        await _collect(Responder(ScriptedLlm([], fail=True)), [Turn("user", "What?")], PLAN, OUTCOMES)


async def test_footnote_quotes_every_result_whatever_the_llm_wrote() -> None:
    plan = Plan((Task(0, "automatic-speech-recognition"),))
    outcomes = [Outcome(0, "automatic-speech-recognition", "succeeded", "openai/whisper-tiny.en",
                        result=Result(text="the quick brown fox", extra={"segments": [1, 2]}))]
    llm = ScriptedLlm(["The transcript is: $42.50"])  # a small model mislabelling results
    _, done = await _collect(Responder(llm), [Turn("user", "Transcribe it")], plan, outcomes)
    assert "Results:\n- task 0 (automatic-speech-recognition): text: 'the quick brown fox'" in done.answer
    assert "segments" not in done.answer.split("---", 1)[1]
