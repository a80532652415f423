"""Stage 4: a grounded, streamed answer from the plan, the chosen models and the task outcomes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Protocol

from hugginggpt import languages
from hugginggpt.domain import Plan
from hugginggpt.errors import InvalidRequest
from hugginggpt.llm import Usage
from services.responder.outcomes import Outcome, condense, render

PROMPTS = Path(__file__).resolve().parent / "prompts"
_URI = re.compile(r"artifact://[^\s)\]\"'<>,]+")
_TEXT_LIMITS = (2000, 800, 300, 120)
_FOOTNOTE_TEXT_LIMIT = 300

# Headings of the deterministic footnote, in the languages the footnote knows; English otherwise.
_HEADINGS = {
    "en": ("Models used", "Generated files", "Not completed", "not a generated file; ignore it", "Results"),
    "de": ("Verwendete Modelle", "Erzeugte Dateien", "Nicht erledigt", "keine erzeugte Datei; bitte ignorieren",
           "Ergebnisse"),
    "fr": ("Modèles utilisés", "Fichiers générés", "Non terminé", "pas un fichier généré ; à ignorer", "Résultats"),
    "es": ("Modelos usados", "Archivos generados", "No completado", "no es un archivo generado; ignórelo",
           "Resultados"),
    "zh": ("使用的模型", "生成的文件", "未完成", "不是生成的文件，请忽略", "结果"),
}


class Streamer(Protocol):
    """The part of LlmClient the responder uses."""

    def stream(self, messages: list[dict[str, str]], usage: Usage, *, max_tokens: int = 512,
               timeout: float | None = None) -> AsyncIterator[str]: ...


@dataclass(frozen=True)
class Turn:
    role: str  # user | assistant | system
    content: str


@dataclass(frozen=True)
class Done:
    answer: str
    usage: Usage


@dataclass(frozen=True)
class ResponderPolicy:
    context_window: int = 8192
    max_answer_tokens: int = 400
    footnote: bool = True
    chars_per_token: float = 3.0  # conservative: multilingual text tokenises densely


class Responder:
    """Builds a prompt that fits the window, streams the LLM's answer, then appends a factual footnote."""

    def __init__(self, llm: Streamer, policy: ResponderPolicy | None = None, prompts: Path = PROMPTS) -> None:
        self._llm = llm
        self.policy = policy or ResponderPolicy()
        self._system = (prompts / "system.txt").read_text(encoding="utf-8").strip()
        self._user = Template((prompts / "user.txt").read_text(encoding="utf-8"))

    async def respond(self, turns: Sequence[Turn], plan: Plan, outcomes: Sequence[Outcome],
                      timeout: float = 120.0) -> AsyncIterator[str | Done]:
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
        parts: list[str] = []
        async for piece in self._llm.stream(self.messages(turns, full, language), usage,
                                            max_tokens=self.policy.max_answer_tokens, timeout=timeout):
            parts.append(piece)
            yield piece
        answer = "".join(parts)
        if self.policy.footnote and full:
            note = footnote(full, language, answer)
            yield note
            answer += note
        yield Done(answer, usage)

    def messages(self, turns: Sequence[Turn], outcomes: Sequence[Outcome], language: str) -> list[dict[str, str]]:
        """The prompt, condensed step by step (shorter texts, then less history) until it fits the window."""
        budget = self.policy.context_window - self.policy.max_answer_tokens - 64
        request = turns[-1].content.strip()[:4000]
        history = [t for t in turns[:-1] if t.role in ("user", "assistant")][-6:]
        user = ""
        for limit in _TEXT_LIMITS:
            for keep in range(len(history), -1, -1):
                lines = [f"{t.role}: {t.content.strip()[:limit]}" for t in history[len(history) - keep:]]
                user = self._user.substitute(
                    history="\n".join(lines) or "(none)", request=request,
                    results=render(list(outcomes), limit) or "(no tasks were run)",
                    language=languages.name(language))
                if self._tokens(self._system + user) <= budget:
                    return [{"role": "system", "content": self._system}, {"role": "user", "content": user}]
        return [{"role": "system", "content": self._system},
                {"role": "user", "content": user[: int(budget * self.policy.chars_per_token) - len(self._system)]}]

    def _tokens(self, text: str) -> int:
        return int(len(text) / self.policy.chars_per_token) + 1


def complete_outcomes(plan: Plan, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Outcomes in plan order; a task with no reported outcome is listed as skipped, never dropped."""
    by_id = {o.task_id: o for o in outcomes}
    full = [by_id.pop(t.id) if t.id in by_id else
            Outcome(t.id, t.type, "skipped", reason="no result was reported for it") for t in plan.tasks]
    return full + sorted(by_id.values(), key=lambda o: o.task_id)


def footnote(outcomes: Sequence[Outcome], language: str, answer: str) -> str:
    """Results, models, files and unfinished tasks, listed from the outcomes themselves (so none is missed
    and none is misquoted, whatever the LLM wrote above)."""
    models_h, files_h, failed_h, phantom_h, results_h = _HEADINGS.get(language, _HEADINGS["en"])
    lines = ["", "", "---"]
    results = []
    for o in outcomes:
        # the result's own facts; bookkeeping ("other data": token counts, segments) stays out of the answer
        facts = [f for f in condense(o.result, _FOOTNOTE_TEXT_LIMIT) if not f.startswith("other data")]
        if o.state == "succeeded" and facts:
            results.append(f"- task {o.task_id} ({o.task_type}): " + "; ".join(facts))
    if results:
        lines.append(f"{results_h}:")
        lines.extend(results)
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
    known = {a.uri for a in files}
    phantoms = sorted({u.rstrip(".") for u in _URI.findall(answer)} - known)
    if phantoms:
        lines.append(f"{', '.join(phantoms)}: {phantom_h}")
    return "\n".join(lines)
