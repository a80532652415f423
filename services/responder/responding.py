"""Stage 4: a grounded, streamed answer from the plan, the chosen models and the task outcomes."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from hugginggpt import languages, untrusted
from hugginggpt.domain import Declined, Plan, Turn
from hugginggpt.errors import DeadlineExceeded, InvalidRequest, Unavailable
from hugginggpt.llm import Usage
from hugginggpt.prompts import PromptFiles
from services.responder import grounding, metrics
from services.responder.findings import Findings, Writer
from services.responder.outcomes import TaskOutcome

logger = logging.getLogger(__name__)

PROMPTS = PromptFiles("services.responder")
_TEXT_LIMITS = (2000, 800, 300, 120)
_DEADLINE_MARGIN_SECONDS = 2.0

# Headings of the deterministic footnote, in the languages the footnote knows; English otherwise.
_HEADINGS = {
    "en": ("Models used", "Generated files", "Not completed"),
    "de": ("Verwendete Modelle", "Erzeugte Dateien", "Nicht erledigt"),
    "fr": ("Modèles utilisés", "Fichiers générés", "Non terminé"),
    "es": ("Modelos usados", "Archivos generados", "No completado"),
    "zh": ("使用的模型", "生成的文件", "未完成"),
}


class Streamer(Protocol):
    """The part of LlmClient the responder uses."""

    def stream(self, messages: list[dict[str, str]], usage: Usage, *, max_tokens: int = 512,
               timeout: float | None = None) -> AsyncIterator[str]: ...


@dataclass(frozen=True)
class Done:
    answer: str
    usage: Usage
    dropped: tuple[str, ...] = ()  # sentences of the LLM's draft that the check kept from the user


@dataclass(frozen=True)
class ResponderPolicy:
    context_window: int = 8192
    max_answer_tokens: int = 200
    footnote: bool = True
    chars_per_token: float = 3.0  # conservative: multilingual text tokenises densely
    reply_timeout_seconds: float = 60.0  # the LLM's reply is cut here; the findings already carry the facts


class Responder:
    """The answer: the findings first (facts written from the results, no LLM), then the LLM's reply to the
    request, each sentence checked against the evidence before it is sent, then the footnote."""

    def __init__(self, llm: Streamer, policy: ResponderPolicy | None = None, prompts: PromptFiles = PROMPTS,
                 writer: Writer | None = None) -> None:
        self._llm = llm
        self.policy = policy or ResponderPolicy()
        self._system = prompts.text("system.txt").strip()
        self._user = prompts.template("user.txt")
        self._writer = writer or Writer()

    async def respond(self, turns: Sequence[Turn], plan: Plan, outcomes: Sequence[TaskOutcome],
                      timeout: float = 120.0, declined: Sequence[Declined] = ()) -> AsyncIterator[str | Done]:
        """The answer's pieces, then Done; `declined`: types asked for that cannot run here, said first."""
        if not turns or turns[-1].role != "user" or not turns[-1].content.strip():
            raise InvalidRequest("the conversation must end with a non-empty user message")
        usage = Usage()
        if not plan.tasks and plan.direct_answer:
            for piece in re.findall(r"\S+\s*", plan.direct_answer):  # no LLM call needed
                yield piece
            yield Done(plan.direct_answer, usage)
            return
        full = complete_outcomes(plan, outcomes)
        language = languages.guess(turns[-1].content)
        found = self._writer.write(full, language, _TEXT_LIMITS[1], declined)
        parts = [found.text()]
        yield parts[0]
        dropped: list[str] = []
        async for sentence in self._reply(turns, full, found, language, usage, timeout, dropped, declined):
            piece = ("\n\n" if len(parts) == 1 else " ") + sentence
            parts.append(piece)
            yield piece
        answer = "".join(parts)
        if self.policy.footnote and full:
            note = footnote(full, language)
            yield note
            answer += note
        metrics.ANSWERS.labels("yes" if len(parts) > 1 else "no").inc()
        metrics.DROPPED.inc(len(dropped))
        yield Done(answer, usage, tuple(dropped))

    async def _reply(self, turns: Sequence[Turn], outcomes: Sequence[TaskOutcome], found: Findings, language: str,
                     usage: Usage, timeout: float, dropped: list[str],
                     declined: Sequence[Declined] = ()) -> AsyncIterator[str]:
        """The LLM's sentences that pass the check, each as soon as it is complete; nothing if the LLM fails
        (the findings already carry the facts, so the answer stands without it)."""
        evidence = evidence_of(turns, outcomes, found)
        buffer = ""
        # The reply may use the time left but a margin: the answer must reach the user before their deadline.
        budget = max(0.5, min(self.policy.reply_timeout_seconds, timeout - _DEADLINE_MARGIN_SECONDS))
        try:
            async with asyncio.timeout(budget):
                async for piece in self._llm.stream(self.messages(turns, outcomes, language, declined), usage,
                                                    max_tokens=self.policy.max_answer_tokens, timeout=budget):
                    done, buffer = grounding.sentences(buffer + piece)
                    for sentence in done:
                        if self._passes(sentence, evidence, language, dropped):
                            yield sentence.strip()
        except (Unavailable, DeadlineExceeded, TimeoutError) as exc:
            logger.warning("the answer goes out without (the rest of) the LLM's reply: %s", exc or "timed out")
            yield self._writer.phrase("no_reply", language)  # the fallback, named
            return
        if buffer.strip() and self._passes(buffer, evidence, language, dropped):
            yield buffer.strip()

    def _passes(self, sentence: str, evidence: grounding.Evidence, language: str, dropped: list[str]) -> bool:
        issues = grounding.problems(sentence, evidence, language)
        if not issues and grounding.off_language(sentence, language):
            issues = [f"not in {languages.name(language)}"]
        if issues:
            dropped.append(sentence.strip())
            logger.info("dropped a sentence of the answer: %r (%s)", sentence.strip()[:200], "; ".join(issues))
        return not issues

    def messages(self, turns: Sequence[Turn], outcomes: Sequence[TaskOutcome], language: str,
                 declined: Sequence[Declined] = ()) -> list[dict[str, str]]:
        """The prompt, condensed step by step (shorter texts, then less history) until it fits the window."""
        budget = self.policy.context_window - self.policy.max_answer_tokens - 64
        request = turns[-1].content.strip()[:4000]
        history = [t for t in turns[:-1] if t.role in ("user", "assistant")][-6:]
        user = ""
        for limit in _TEXT_LIMITS:
            facts = untrusted.fence(self._writer.write(outcomes, language, limit, declined).text(), "the expert models")
            for keep in range(len(history), -1, -1):
                lines = [f"{t.role}: {t.content.strip()[:limit]}" for t in history[len(history) - keep:]]
                user = self._user.render(
                    history=untrusted.fence("\n".join(lines), "earlier turns") if lines else "(none)",
                    request=request, facts=facts, language=languages.name(language))
                if self._tokens(self._system + user) <= budget:
                    return [{"role": "system", "content": self._system}, {"role": "user", "content": user}]
        return [{"role": "system", "content": self._system},
                {"role": "user", "content": user[: int(budget * self.policy.chars_per_token) - len(self._system)]}]

    def _tokens(self, text: str) -> int:
        return int(len(text) / self.policy.chars_per_token) + 1


def evidence_of(turns: Sequence[Turn], outcomes: Sequence[TaskOutcome], found: Findings) -> grounding.Evidence:
    """What the answer may state: the findings, the raw results, the conversation, and counts of things."""
    parts = [found.text(), *(t.content for t in turns)]
    counts: list[int] = [len(outcomes)]
    tallies: dict[str, set[int]] = {}
    for o in outcomes:
        r = o.result
        parts += [o.model_id, o.task_type, o.reason, r.text, *(a.name for a in r.artifacts),
                  *(a.uri for a in r.artifacts), *(label for label, _ in r.labels), *(text for text, _ in r.entities)]
        counts += [len(r.detections), len(r.entities), r.keypoints, r.vector_size, len(r.labels)]
        counts += list(Counter(label for label, _ in r.detections).values())
        for label, n in Counter(label for label, _ in r.detections).items():
            tallies.setdefault(label, set()).add(n)
    # What instructions in earlier answers (transcripts, OCR text quoted back) wanted said is never repeated.
    earlier = [t.content for t in turns[:-1] if t.role != "user"]
    injected = [*found.injected, *untrusted.payloads([s for c in earlier for s in untrusted.instructions(c)])]
    answered = any(o.state == "succeeded" for o in outcomes)
    return grounding.Evidence.of(parts, injected, counts, answered, tallies)


def complete_outcomes(plan: Plan, outcomes: Sequence[TaskOutcome]) -> list[TaskOutcome]:
    """Outcomes in plan order; a task with no reported outcome is listed as skipped, never dropped."""
    by_id = {o.task_id: o for o in outcomes}
    full = [by_id.pop(t.id) if t.id in by_id else
            TaskOutcome(t.id, t.type, "skipped", reason="no result was reported for it") for t in plan.tasks]
    return full + sorted(by_id.values(), key=lambda o: o.task_id)


def footnote(outcomes: Sequence[TaskOutcome], language: str) -> str:
    """Models, files and unfinished tasks, listed from the outcomes themselves (the findings above carry what
    each task found; this is the record of how)."""
    models_h, files_h, failed_h = _HEADINGS.get(language, _HEADINGS["en"])
    lines = ["", "", "---"]
    used = [f"task {o.task_id} ({o.task_type}): {o.model_id}" for o in outcomes if o.model_id]
    if used:
        lines.append(f"{models_h}: " + "; ".join(used))
    files = [a for o in outcomes if o.state == "succeeded" for a in o.result.artifacts]
    if files:
        lines.append(f"{files_h}: " + "; ".join(f"{a.name} ({a.uri})" for a in files))
    unfinished = [f"task {o.task_id} ({o.task_type}) {o.state}: {o.reason or '-'}"
                  for o in outcomes if o.state != "succeeded"]
    if unfinished:
        lines.append(f"{failed_h}: " + "; ".join(unfinished))
    return "\n".join(lines)
