"""Outbound: the responder's LLM client, created once and closed on shutdown."""

from __future__ import annotations

from hugginggpt.llm import LlmClient, LlmSettings


def llm_client(settings: LlmSettings) -> LlmClient:
    return LlmClient(settings)
