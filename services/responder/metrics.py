"""Prometheus metrics of the responder: answers written and drafted sentences the grounding check dropped."""

from __future__ import annotations

from prometheus_client import Counter

ANSWERS = Counter("hugginggpt_responder_answers_total", "Answers written from task results", ["llm_reply"])
DROPPED = Counter("hugginggpt_responder_dropped_sentences_total",
                  "Sentences of the LLM's draft kept from the user because a claim in them is not in the evidence")
