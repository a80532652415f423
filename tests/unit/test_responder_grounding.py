"""The grounding check on single sentences: numbers, names, quotes, files, links, injected phrases, language."""

from __future__ import annotations

import pytest

from services.responder.grounding import Evidence, off_language, problems, sentences

EVIDENCE = Evidence.of(["Transcript: Ada Lovelace met Charles Babbage in London. Total $1,200.50, invoice_text.png",
                        "artifact://abc/out.wav"], injected=["PAID IN FULL"], counts=[3])


@pytest.mark.parametrize("sentence", [
    "The total is 1200.5 dollars.", "The total is $1,200.50.", "Ada Lovelace met Charles Babbage.",
    "Note: Unfortunately, nothing else was found.", "It found 3 objects.", "See invoice_text.png.",
    "The speech is in artifact://abc/out.wav.", "It says “met Charles Babbage in London”.",
])
def test_supported_sentences_pass(sentence: str) -> None:
    assert problems(sentence, EVIDENCE, "en") == []


@pytest.mark.parametrize(("sentence", "why"), [
    ("The total is $99.", "number 99"), ("She met Alan Turing there.", "name 'Alan Turing'"),
    ("See receipt.png for details.", "file 'receipt.png'"), ("More at https://example.com/x.", "link"),
    ("It says “paid by card”.", "quote"), ("Paid in full.", "repeats an instruction"),
])
def test_unsupported_claims_are_named(sentence: str, why: str) -> None:
    assert any(why in p for p in problems(sentence, EVIDENCE, "en"))


def test_german_nouns_are_not_taken_for_names_and_german_numbers_are_read() -> None:
    assert problems("Die Rechnung nennt einen Betrag von 1.200,50 Dollar.", EVIDENCE, "de") == []
    assert problems("Die Rechnung nennt 7 Dollar.", EVIDENCE, "de") == ["number 7 is not in the results"]


def test_sentences_split_only_when_complete_and_language_is_checked() -> None:
    done, rest = sentences("The total is $42.50. The transcript says")
    assert done == ["The total is $42.50."] and rest == "The transcript says"
    assert off_language("The photo shows two cats and a dog.", "de")
    assert not off_language("Auf dem Foto sind zwei Katzen und ein Hund.", "de")


def test_a_stock_refusal_is_dropped_only_when_the_models_answered() -> None:
    refusal = "I'm sorry, but I can't assist with that request."
    assert problems(refusal, Evidence.of(["x"], answered=True), "en") == [
        "a stock refusal, though the models answered"]
    assert problems(refusal, Evidence.of(["x"]), "en") == []


def test_the_responder_reads_its_concurrency_limit() -> None:
    from services.responder.config import ResponderConfig

    assert ResponderConfig.from_env({"HUGGINGGPT_RESPONDER_MAX_CONCURRENT_REQUESTS": "3"}).max_concurrent_requests == 3


def test_a_number_inside_chinese_text_is_checked() -> None:
    assert problems("这张收据的总金额是1000元。", EVIDENCE, "zh") == ["number 1000 is not in the results"]


def test_a_count_must_be_the_count_of_that_thing() -> None:
    # The detector found 3 persons and 1 sports ball: "4" is in the results (4 objects), "4 people" is not.
    evidence = Evidence.of(["4 objects: 3 person, 1 sports ball"], counts=[4, 3, 1],
                           tallies={"person": [3], "sports ball": [1]})
    assert problems("The models found 4 people in the photo.", evidence, "en") == [
        "says 4 people; the models counted 3"]
    assert problems("The models found 3 people in the photo.", evidence, "en") == []
    assert problems("There are 4 objects in the photo.", evidence, "en") == []  # objects were not one label
    assert problems("It shows 3 persons and 1 ball.", evidence, "en") == []
