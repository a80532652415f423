"""The fixed plan's skeleton: data flow by kinds, the schema the LLM fills, and plans rebuilt from any answer."""

from __future__ import annotations

import json

from hugginggpt.domain import Artifact, Kind, Task, Turn
from hugginggpt.planvalidation import Resources, complete_dependencies, parse_plan, validate_plan
from hugginggpt.tasktypes import load_task_types
from services.planner.demos import Demo, DemoBank
from services.planner.intents import Proposal
from services.planner.planning import Planner, PlanOutcome
from services.planner.prompting import Budget, PromptBuilder
from services.planner.templates import load_demo_lines
from services.planner.tokens import EstimatingCounter
from services.planner.wiring import wire
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import ScriptedLlm

TYPES = load_task_types()
INVOICE = Artifact("artifact://t1/invoice.png", "invoice.png", "image/png", 10, Kind.IMAGE)
PHOTO = Artifact("artifact://t1/photo.jpg", "photo.jpg", "image/jpeg", 10, Kind.IMAGE)
SPEECH = Artifact("artifact://t2/speech.wav", "speech.wav", "audio/wav", 10, Kind.AUDIO)


def found(*names: str) -> list[Proposal]:
    return [Proposal(name, f"do {name} please", 0.5) for name in names]


def files(*artifacts: Artifact) -> dict[str, Artifact]:
    return {a.name: a for a in artifacts}


def valid(plan: dict, artifacts: dict[str, Artifact]) -> list[str]:
    parsed, issues = parse_plan(plan, Resources(artifacts))
    issues += validate_plan(complete_dependencies(parsed), TYPES, frozenset(a.uri for a in artifacts.values()))
    return [issue.message for issue in issues]


def test_each_task_is_fed_by_the_nearest_unused_earlier_output_of_its_kind() -> None:
    skeleton = wire(found("automatic-speech-recognition", "translation", "text-to-speech", "summarization"),
                    TYPES, files(SPEECH))
    assert [(s.spec.name, s.dep) for s in skeleton.steps] == [
        ("automatic-speech-recognition", []), ("translation", [0]), ("text-to-speech", [1]),
        ("summarization", [])]  # the translation's text went to speech; the transcript to the translation
    assert skeleton.steps[3].free_texts() == 1


def test_a_task_whose_input_nothing_gives_is_left_out() -> None:
    skeleton = wire(found("image-classification", "translation"), TYPES, files())
    assert [s.spec.name for s in skeleton.steps] == ["translation"]


def test_the_schema_fixes_everything_but_texts_and_file_choices() -> None:
    skeleton = wire(found("document-question-answering", "text-to-speech"), TYPES, files(INVOICE, PHOTO))
    items = skeleton.schema()["properties"]["tasks"]["prefixItems"]
    first, second = (item["properties"] for item in items)
    assert first["task"] == {"const": "document-question-answering"}
    assert first["args"]["properties"] == {"image": {"type": "string", "enum": ["invoice.png", "photo.jpg"]},
                                           "text": {"type": "string"}}
    assert second["dep"]["prefixItems"] == [{"const": 0}]
    assert second["args"]["properties"] == {"text": {"const": "<GENERATED>-0"}}


def test_a_question_fed_by_an_earlier_text_keeps_the_question_for_the_llm() -> None:
    skeleton = wire(found("image-to-text", "question-answering"), TYPES, files(INVOICE))
    plan = skeleton.apply({"tasks": [{"args": {"image": "invoice.png"}},
                                     {"args": {"text": ["<GENERATED>-0", "What is the total?"]}}]})
    assert plan["tasks"][1] == {"task": "question-answering", "id": 1, "dep": [0],
                                "args": {"text": ["<GENERATED>-0", "What is the total?"]}}
    assert valid(plan, files(INVOICE)) == []


def test_any_answer_gives_a_valid_plan_from_the_skeleton() -> None:
    skeleton = wire(found("document-question-answering", "translation", "text-to-image"), TYPES,
                    files(INVOICE, PHOTO))
    answers = [None, "not json", {"tasks": "x"}, {"tasks": [{"task": "paint", "id": 9, "dep": [4],
                                                             "args": {"image": "/etc/passwd", "text": 3}}]}]
    for raw in answers:
        plan = skeleton.apply(raw)
        assert [t["task"] for t in plan["tasks"]] == ["document-question-answering", "translation", "text-to-image"]
        assert plan["tasks"][0]["args"] == {"image": "invoice.png", "text": "do document-question-answering please"}
        assert valid(plan, files(INVOICE, PHOTO)) == []


def test_the_llm_chooses_among_the_request_files_only() -> None:
    skeleton = wire(found("image-classification"), TYPES, files(INVOICE, PHOTO))
    assert skeleton.apply({"tasks": [{"args": {"image": "photo.jpg"}}]})["tasks"][0]["args"] == {"image": "photo.jpg"}
    assert skeleton.apply({"tasks": [{"args": {"image": "x.jpg"}}]})["tasks"][0]["args"] == {"image": "invoice.png"}


async def test_the_fixed_planner_streams_the_skeleton_tasks_with_the_llm_words() -> None:
    class Found:
        def propose(self, request: str, offered: object) -> list[Proposal]:
            return [Proposal("automatic-speech-recognition", "Transcribe speech.wav", 0.6),
                    Proposal("question-answering", "what does it say about the fox", 0.6)]

    answer = json.dumps({"tasks": [
        {"task": "automatic-speech-recognition", "id": 0, "dep": [], "args": {"audio": "speech.wav"}},
        {"task": "question-answering", "id": 1, "dep": [0], "args": {"text": ["<GENERATED>-0", "Which fox?"]}}]})
    llm = ScriptedLlm([answer])
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    prompts = PromptBuilder(bank, EstimatingCounter(), Budget(), guide=True)
    planner = Planner(llm, prompts, TYPES, intents=Found(), fix_types=True)  # type: ignore[arg-type]
    turns = [Turn("user", "Transcribe speech.wav: what does it say about the fox?", (SPEECH,))]
    events = [e async for e in planner.stream_plan(turns)]
    assert [e.type for e in events if isinstance(e, Task)] == ["automatic-speech-recognition", "question-answering"]
    outcome = events[-1]
    assert isinstance(outcome, PlanOutcome) and outcome.plan.tasks[1].dependencies == (0,)
    assert outcome.plan.tasks[1].arguments[1].literal == "Which fox?"
    assert "prefixItems" in llm.calls[0]["schema"]["properties"]["tasks"]


async def test_a_skeleton_with_nothing_to_write_is_the_plan_without_any_llm_call() -> None:
    class Found:
        def propose(self, request: str, offered: object) -> list[Proposal]:
            return [Proposal("automatic-speech-recognition", "Transcribe speech.wav", 0.6),
                    Proposal("token-classification", "list the named entities in it", 0.6)]

    counted: list[str] = []

    class Counter(EstimatingCounter):
        async def count(self, text: str) -> int:
            counted.append(text)
            return await super().count(text)

    llm = ScriptedLlm([])
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    planner = Planner(llm, PromptBuilder(bank, Counter(), Budget(), guide=True), TYPES,
                      intents=Found(), fix_types=True)  # type: ignore[arg-type]
    turns = [Turn("user", "Transcribe speech.wav and list the named entities in it", (SPEECH,))]
    events = [e async for e in planner.stream_plan(turns)]
    assert [e.type for e in events if isinstance(e, Task)] == ["automatic-speech-recognition", "token-classification"]
    outcome = events[-1]
    assert isinstance(outcome, PlanOutcome) and outcome.usage.calls == 0 and not llm.calls
    assert (await planner.plan(turns)).plan == outcome.plan
    assert not counted  # nor a prompt built: no tokens counted, no demos chosen


def test_texts_written_in_named_slots_are_taken_in_order() -> None:
    skeleton = wire(found("sentence-similarity"), TYPES, files())
    plan = skeleton.apply({"tasks": [{"args": {"text": "A cat sits.", "text2": "A kitten rests."}}]})
    assert plan["tasks"][0]["args"] == {"text": ["A cat sits.", "A kitten rests."]}


async def test_tasks_that_need_nothing_from_the_llm_stream_before_it_answers() -> None:
    class Found:
        def propose(self, request: str, offered: object) -> list[Proposal]:
            return [Proposal("document-question-answering", "What is the total on invoice.png?", 0.6),
                    Proposal("automatic-speech-recognition", "transcribe speech.wav", 0.6),
                    Proposal("token-classification", "list the named entities in it", 0.6)]

    answer = json.dumps({"tasks": [
        {"task": "document-question-answering", "id": 0, "dep": [], "args": {"image": "invoice.png",
                                                                             "text": "What is the total?"}},
        {"task": "automatic-speech-recognition", "id": 1, "dep": [], "args": {"audio": "speech.wav"}},
        {"task": "token-classification", "id": 2, "dep": [1], "args": {"text": "<GENERATED>-1"}}]})
    llm = ScriptedLlm([answer])
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    planner = Planner(llm, PromptBuilder(bank, EstimatingCounter(), Budget(), guide=True), TYPES,
                      intents=Found(), fix_types=True)  # type: ignore[arg-type]
    turns = [Turn("user", "What is the total on invoice.png? Also transcribe speech.wav and list the named "
                          "entities in it.", (INVOICE, SPEECH))]
    events = [e async for e in planner.stream_plan(turns)]
    assert [(e.id, e.type) for e in events if isinstance(e, Task)] == [
        (1, "automatic-speech-recognition"), (2, "token-classification"), (0, "document-question-answering")]
    outcome = events[-1]
    assert isinstance(outcome, PlanOutcome) and [t.id for t in outcome.plan.tasks] == [0, 1, 2]
    assert outcome.plan.tasks[0].arguments[1].literal == "What is the total?"
    assert len(llm.calls) == 1


async def test_a_file_the_plan_missed_is_planned_from_its_skeleton_without_another_call() -> None:
    first = Artifact("artifact://t3/first.wav", "first.wav", "audio/wav", 10, Kind.AUDIO)
    second = Artifact("artifact://t3/second.wav", "second.wav", "audio/wav", 10, Kind.AUDIO)

    class Found:
        def propose(self, request: str, offered: object) -> list[Proposal]:
            return [Proposal("automatic-speech-recognition", "transcribe it", 0.6)]

    answer = json.dumps({"tasks": [
        {"task": "automatic-speech-recognition", "id": 0, "dep": [], "args": {"audio": "first.wav"}}]})
    llm = ScriptedLlm([answer])
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    planner = Planner(llm, PromptBuilder(bank, EstimatingCounter(), Budget(), guide=True), TYPES,
                      intents=Found(), fix_types=True)  # type: ignore[arg-type]
    turns = [Turn("user", "Transcribe first.wav. Also transcribe second.wav.", (first, second))]
    outcome = await planner.plan(turns)
    audio = [t.arguments[0].resource_uri for t in outcome.plan.tasks]
    assert audio == [first.uri, second.uri] and outcome.usage.calls == 1


def test_a_clause_whose_type_nothing_feeds_takes_its_next_type() -> None:
    described = [Proposal("automatic-speech-recognition", "make an audio file that describes it", 0.6,
                          ("text-to-speech",))]
    skeleton = wire(described, TYPES, files(PHOTO))
    assert [s.spec.name for s in skeleton.steps] == ["text-to-speech"]
    assert skeleton.steps[0].clause == "make an audio file that describes it"


def test_a_fallback_type_already_planned_is_not_planned_twice() -> None:
    proposals = [Proposal("summarization", "summarize it", 0.6),
                 Proposal("image-classification", "summarize the objects", 0.5, ("summarization", "translation"))]
    assert [s.spec.name for s in wire(proposals, TYPES, files()).steps] == ["summarization", "translation"]
    assert [s.spec.name for s in wire(proposals[1:2] * 2, TYPES, files()).steps] == ["summarization",
                                                                                      "translation"]


async def test_a_missed_file_with_no_feedable_task_found_costs_no_llm_call() -> None:
    clip = Artifact("artifact://t4/clip.wav", "clip.wav", "audio/wav", 10, Kind.AUDIO)

    class Found:
        def propose(self, request: str, offered: object) -> list[Proposal]:
            return [Proposal("translation", "translate it", 0.6)] if "translate" in request.lower() else []

    llm = ScriptedLlm([json.dumps({"tasks": [{"task": "translation", "id": 0, "dep": [],
                                              "args": {"text": "bonjour"}}]})])
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    planner = Planner(llm, PromptBuilder(bank, EstimatingCounter(), Budget(), guide=True), TYPES,
                      intents=Found(), fix_types=True)  # type: ignore[arg-type]
    outcome = await planner.plan([Turn("user", "Translate 'bonjour'. I also have clip.wav here.", (clip,))])
    assert [t.type for t in outcome.plan.tasks] == ["translation"]
    assert len(llm.calls) == 1  # the sentence naming clip.wav was not planned free-hand


def test_a_question_about_a_file_keeps_the_users_question_when_the_llm_writes_an_answer() -> None:
    asked = [Proposal("visual-question-answering", "Is there a ball in this picture?", 0.5)]
    skeleton = wire(asked, TYPES, files(PHOTO))
    guessed = skeleton.apply({"tasks": [{"args": {"image": "photo.jpg", "text": "No ball in this picture."}}]})
    assert guessed["tasks"][0]["args"] == {"image": "photo.jpg", "text": "Is there a ball in this picture?"}
    rephrased = skeleton.apply({"tasks": [{"args": {"image": "photo.jpg", "text": "Is a ball visible?"}}]})
    assert rephrased["tasks"][0]["args"]["text"] == "Is a ball visible?"  # a question the LLM wrote stays
