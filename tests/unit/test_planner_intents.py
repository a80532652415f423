"""Finding the task types a request asks for (retrieval over written phrases) and how they steer the plan."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from hugginggpt.domain import Turn
from hugginggpt.embedding import MiniLm
from hugginggpt.settings import SettingsError
from hugginggpt.tasktypes import load_task_types
from services.planner.config import PlannerConfig
from services.planner.coordination import VerbLists
from services.planner.demos import Demo, DemoBank
from services.planner.intents import IntentBank, split_clauses
from services.planner.planning import Planner
from services.planner.prompting import Budget, PromptBuilder
from services.planner.templates import load_demo_lines
from services.planner.tokens import EstimatingCounter
from tests.doubles.embedder import HashEmbedder
from tests.doubles.llm import ScriptedLlm

PHRASES = {
    "translation": ["translate this sentence into french", "translate the text into german"],
    "summarization": ["summarize this article", "give me a short summary of the text"],
    "text-to-speech": ["read this text aloud", "convert the text to speech"],
}
CONTEXT = ["i am working on a project", "i have a file named notes"]


def small_bank(threshold: float = 0.35) -> IntentBank:
    return IntentBank(PHRASES, CONTEXT, HashEmbedder(), threshold=threshold)


def test_clauses_split_at_sentences_and_step_words_and_drop_fragments() -> None:
    text = ("I have notes. Summarize this article, then translate the text into German and read it aloud. Ok! "
            "Then, speak it slowly.")
    assert split_clauses(text) == ["I have notes.", "Summarize this article", "translate the text into German",
                                   "read it aloud.", "speak it slowly."]


def test_types_are_found_in_the_order_asked_once_each() -> None:
    found = small_bank().propose(
        "Translate the text into German. Then summarize this article. Also translate this sentence into French.",
        set(PHRASES))
    assert [p.type for p in found] == ["translation", "summarization"]
    assert found[0].clause == "Translate the text into German."
    assert all(0.35 <= p.score <= 1.0 for p in found)


def test_context_clauses_and_types_not_on_offer_ask_for_nothing() -> None:
    bank = small_bank()
    assert bank.propose("I am working on a project.", set(PHRASES)) == []
    assert [p.type for p in bank.propose("Summarize this article and read this text aloud", {"summarization"})] == [
        "summarization"]
    assert bank.propose("Summarize this article", set()) == []


def test_a_weak_match_is_not_a_proposal() -> None:
    bank = IntentBank(PHRASES, CONTEXT, HashEmbedder(), threshold=0.99, floor=0.99)
    assert bank.propose("please summarize the long text I sent", set(PHRASES)) == []


def test_when_no_clause_is_clear_the_one_leaning_most_to_a_task_asks_for_it() -> None:
    bank = IntentBank(PHRASES, CONTEXT, HashEmbedder(), threshold=0.99, floor=0.2)
    found = bank.propose("I am working on a project. Summarize this article please. Maybe translate it.",
                         set(PHRASES))
    assert [p.type for p in found] == ["summarization"] and found[0].score < 0.99
    assert bank.propose("I am working on a project.", set(PHRASES)) == []  # context leans to no task


def test_a_type_with_too_few_phrases_is_refused() -> None:
    with pytest.raises(ValueError, match="'translation' needs at least 2 phrases"):
        IntentBank({"translation": ["translate"]}, CONTEXT, HashEmbedder())


def test_the_packaged_bank_covers_every_known_task_type() -> None:
    raw = json.loads(resources.files("services.planner").joinpath("prompts/intents.json").read_text())
    assert set(load_task_types()) <= set(raw["types"])
    IntentBank.load(HashEmbedder())  # every type has enough phrases


def test_the_demo_request_finds_its_four_parts_with_the_real_embeddings() -> None:
    request = ("What is the total on the invoice in invoice_text.png? Also transcribe speech_fox.wav and list the "
               "named entities in it.")
    found = IntentBank.load(MiniLm(), VerbLists.load().cuts).propose(request, set(load_task_types()))
    assert [p.type for p in found][-2:] == ["automatic-speech-recognition", "token-classification"]
    assert len(found) == 3  # the question about the invoice is one more (document or text question answering)


@pytest.mark.parametrize("request_", ["Hello, how are you today?", "Tell me a joke about cats.", "Thanks!"])
def test_small_talk_asks_for_no_task_with_the_real_embeddings(request_: str) -> None:
    assert IntentBank.load(MiniLm()).propose(request_, set(load_task_types())) == []


def builder(guide: bool) -> PromptBuilder:
    bank = DemoBank([Demo.from_json(line) for line in load_demo_lines()], HashEmbedder())
    return PromptBuilder(bank, EstimatingCounter(), Budget(), guide=guide)


async def test_the_types_found_follow_the_request_and_the_demos_show_theirs() -> None:
    turns = [Turn("user", "Summarize this article about bikes and read it aloud")]
    found = [("summarization", "Summarize this article about bikes"), ("text-to-speech", "read it aloud")]
    messages = await builder(guide=True).build(turns, list(load_task_types().values()), found=found)
    assert messages[-1]["content"].endswith(
        'Task types found in the request, in order: summarization for "Summarize this article about bikes"; '
        'text-to-speech for "read it aloud"\n')
    demo_users = [m["content"] for m in messages[1:-1:2]]
    assert any("Task types found in the request, in order: " in text for text in demo_users)


async def test_without_the_guide_the_prompt_is_unchanged() -> None:
    turns = [Turn("user", "Summarize this article about bikes and read it aloud")]
    types = list(load_task_types().values())
    plain = await builder(guide=False).build(turns, types)
    assert await builder(guide=False).build(turns, types, found=[("summarization", "x y z")]) == plain
    assert all("Task types found" not in m["content"] for m in plain)


ANSWER = json.dumps({"tasks": [
    {"task": "summarization", "id": 0, "dep": [], "args": {"text": "bikes are good"}},
    {"task": "text-to-speech", "id": 1, "dep": [0], "args": {"text": "<GENERATED>-0"}}]})


@pytest.mark.parametrize("fix", [False, True])
async def test_the_planner_shows_or_fixes_the_types_found(fix: bool) -> None:
    llm = ScriptedLlm([ANSWER])
    planner = Planner(llm, builder(guide=True), load_task_types(), intents=small_bank(), fix_types=fix)
    outcome = await planner.plan([Turn("user", "Summarize this article about bikes. Then read this text aloud")])
    assert [t.type for t in outcome.plan.tasks] == ["summarization", "text-to-speech"]
    call = llm.calls[0]
    assert "Task types found in the request, in order: summarization" in call["messages"][-1]["content"]
    tasks = call["schema"]["properties"]["tasks"]
    assert ("prefixItems" in tasks) is fix


async def test_nothing_found_leaves_the_plan_to_the_llm() -> None:
    llm = ScriptedLlm([json.dumps({"tasks": [], "answer": "Hello!"})])
    planner = Planner(llm, builder(guide=True), load_task_types(), intents=small_bank(), fix_types=True)
    outcome = await planner.plan([Turn("user", "I am working on a project")])
    assert outcome.plan.direct_answer == "Hello!"
    assert "items" in llm.calls[0]["schema"]["properties"]["tasks"]
    assert "Task types found" not in llm.calls[0]["messages"][-1]["content"]


def test_an_unknown_guide_mode_is_refused() -> None:
    with pytest.raises(SettingsError, match="HUGGINGGPT_PLANNER_GUIDE must be one of off, hint, fixed"):
        PlannerConfig.from_env({"HUGGINGGPT_PLANNER_GUIDE": "always"})


def test_steps_first_is_refused_with_fixed_plans() -> None:
    with pytest.raises(SettingsError, match="HUGGINGGPT_PLANNER_STEPS needs HUGGINGGPT_PLANNER_GUIDE=off or hint"):
        PlannerConfig.from_env({"HUGGINGGPT_PLANNER_STEPS": "1"})
    assert PlannerConfig.from_env({"HUGGINGGPT_PLANNER_STEPS": "1", "HUGGINGGPT_PLANNER_GUIDE": "off"}).steps


def test_quotes_are_never_cut_and_long_ones_are_matched_as_the_passage() -> None:
    text = "I read this: 'Paris is big. It has parks.' Could you tell me 'Is Paris big?' Thanks, it's great."
    assert split_clauses(text) == ["I read this: 'Paris is big. It has parks.'", "Could you tell me 'Is Paris big?'",
                                   "Thanks, it's great."]  # a quote that ends a sentence ends the clause
    seen: list[str] = []

    class Recording(HashEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            seen.extend(texts)
            return super().embed(texts)

    IntentBank(PHRASES, CONTEXT, Recording()).propose(
        "Summarize 'the war began in 1914 and ended in 1918.' and translate 'it ended?'", set(PHRASES))
    assert "Summarize the passage" in seen and "translate 'it ended?'" in seen  # a short quote stays


def test_a_clause_naming_a_type_asks_for_it() -> None:
    found = small_bank(threshold=0.9).propose("Please run a Text-to-Speech model on my notes.", set(PHRASES))
    assert [(p.type, p.score) for p in found] == [("text-to-speech", 1.0)]


def test_a_clause_naming_a_type_by_an_alias_asks_for_it() -> None:
    bank = IntentBank(PHRASES, CONTEXT, HashEmbedder(), threshold=0.9, aliases={"text-to-speech": ["speech synthesis"]})
    found = bank.propose("Run speech synthesis on my notes.", set(PHRASES))
    assert [(p.type, p.score) for p in found] == [("text-to-speech", 1.0)]


def test_the_packaged_aliases_name_known_types_and_parts_of_speech_are_not_speech() -> None:
    raw = json.loads(resources.files("services.planner").joinpath("prompts/intents.json").read_text())
    assert set(raw["aliases"]) <= set(raw["types"])
    bank = IntentBank(raw["types"], raw["none"], HashEmbedder(), threshold=0.9, aliases=raw["aliases"])
    found = bank.propose("Tag the parts of speech please.", {"token-classification", "text-to-speech"})
    assert [(p.type, p.score) for p in found] == [("token-classification", 1.0)]


def test_a_one_word_type_name_that_refers_to_a_result_does_not_ask_for_it() -> None:
    bank = small_bank(threshold=0.9)
    assert [p.type for p in bank.propose("Give me a translation of my notes.", set(PHRASES))] == ["translation"]
    for request in ("Read that translation aloud.", "Turn the summarization into audio.", "Send its translation."):
        assert all(p.score < 1.0 for p in bank.propose(request, set(PHRASES))), request


def test_a_type_asked_twice_belongs_to_the_clause_that_asks_most_clearly() -> None:
    found = small_bank().propose(
        "I have a summary. Translate the text into German. Then summarize this article.", set(PHRASES))
    assert [p.type for p in found] == ["translation", "summarization"]
    assert found[1].clause == "summarize this article."


def test_each_proposal_keeps_the_clause_other_types_above_the_threshold() -> None:
    found = small_bank(threshold=0.2).propose("translate the text into speech", set(PHRASES))
    assert found[0].type == "translation" and "text-to-speech" in found[0].alternatives
    assert found[0].type not in found[0].alternatives


def test_a_listed_verb_phrase_is_a_clause_of_its_own_with_the_real_parser() -> None:
    cuts = VerbLists.load().cuts
    text = ("Can you help enhance the quality of this image, identify the table in it? Could you help me in "
            "extracting the details, summarizing them, and then translating the summary?")
    assert split_clauses(text, cuts) == [
        "Can you help enhance the quality of this image", "identify the table in it?",
        "Could you help me in extracting the details", "summarizing them", "translating the summary?"]
    assert cuts("Describe the image in detail.") == []  # no comma, no parse


def test_a_piece_holding_a_quote_is_not_cut_by_the_parser() -> None:
    def everywhere(text: str) -> list[int]:
        return list(range(1, len(text)))

    text = "Translate 'Hola, amigo, como estas' into English, please"
    assert split_clauses(text, everywhere) == [text]


def test_control_characters_in_a_request_are_only_spaces() -> None:
    text = "Summarize \x000\x00 this article\x01. Then 'translate \x001\x01 the text' into German."
    assert [c.split() for c in split_clauses(text)] == [["Summarize", "0", "this", "article", "."],
                                                        ["'translate", "1", "the", "text'", "into", "German."]]
    assert [p.type for p in small_bank().propose(text, set(PHRASES))][0] == "summarization"  # and no IndexError
