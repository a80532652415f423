"""The selection prompt (data files rendered strictly) and the JSON schema constraining the LLM's answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hugginggpt.domain import Task
from hugginggpt.prompts import PromptFiles
from services.selector.ranking import Ranked

PROMPTS = PromptFiles("services.selector")


@dataclass(frozen=True)
class Question:
    """One undecided task with its top candidates."""

    task: Task
    candidates: Sequence[Ranked]

    @property
    def key(self) -> str:
        return f"task_{self.task.id}"


class SelectionPrompt:
    """Loads the prompt files once; renders strictly, so a missing field raises."""

    def __init__(self, prompts: PromptFiles = PROMPTS, description_chars: int = 160) -> None:
        self._system = prompts.text("choose_system.txt").strip()
        self._user = prompts.template("choose_user.txt")
        self._chars = description_chars

    def messages(self, user_request: str, questions: Sequence[Question]) -> list[dict[str, str]]:
        blocks = [self._block(q) for q in questions]
        user = self._user.render(request=user_request.strip()[:1000], tasks="\n\n".join(blocks))
        return [{"role": "system", "content": self._system}, {"role": "user", "content": user.strip()}]

    def _block(self, question: Question) -> str:
        task = question.task
        inputs = ", ".join(f"{a.name}={a.render()[:120]!r}" for a in task.arguments) or "(none)"
        lines = [f"{question.key} ({task.type}); inputs: {inputs}", "candidates:"]
        for ranked in question.candidates:
            where = "local" if ranked.local else "hosted"
            lines.append(f"- {ranked.model.id} [{where}]: {ranked.model.description[: self._chars]}")
        return "\n".join(lines)


def schema(questions: Sequence[Question]) -> dict[str, Any]:
    """One required property per task: the model id (an enum of its candidates) and a short reason."""
    properties = {
        q.key: {
            "type": "object",
            "properties": {
                "model": {"type": "string", "enum": [c.model.id for c in q.candidates]},
                "reason": {"type": "string", "maxLength": 120},
            },
            "required": ["model", "reason"],
        }
        for q in questions
    }
    return {"type": "object", "properties": properties, "required": list(properties)}
