"""Builds the planner's chat prompt: static spec first (cacheable), then demos, history and the request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hugginggpt import untrusted
from hugginggpt.domain import Artifact, Kind, TaskTypeSpec, Turn
from hugginggpt.errors import InvalidRequest
from hugginggpt.planmodel import REF_PATTERN, answer_schema, task_schema
from services.planner.demos import Demo, DemoBank
from services.planner.templates import PROMPTS
from services.planner.tokens import TokenCounter


@dataclass(frozen=True)
class Budget:
    """Token limits: the model's window, the answer's share, and the demonstrations' share."""

    context_window: int = 8192
    max_answer_tokens: int = 384
    demo_tokens: int = 600
    history_line_chars: int = 600


def plan_schema(types: Sequence[TaskTypeSpec], files: Mapping[str, Artifact] | None = None,
                steps: bool = False) -> dict[str, Any]:
    """JSON schema of a plan (planmodel.WirePlan): each task is one of the types on offer with exactly the
    argument slots it takes.

    An image, audio or video slot may hold only a file of that kind from the request or a task reference,
    so a grammar-constrained endpoint can neither invent a file name nor leave out an input."""
    media: dict[str, Any] = {}
    for kind in (Kind.IMAGE, Kind.AUDIO, Kind.VIDEO):
        names = [name for name, a in (files or {}).items() if a.kind == kind]
        options: list[dict[str, Any]] = [{"type": "string", "pattern": REF_PATTERN}]
        if names:
            options.insert(0, {"type": "string", "enum": names})
        media[kind.value] = {"anyOf": options}
    tasks = {"type": "array", "items": {"anyOf": [task_schema(t.name, _slots(t, media)) for t in types]}}
    return answer_schema(tasks, steps=steps)


def _slots(spec: TaskTypeSpec, media: Mapping[str, Any]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for kind in dict.fromkeys(spec.inputs):
        count = spec.inputs.count(kind)
        if kind == Kind.TEXT:
            slots["text"] = ({"type": "string"} if count == 1 else
                             {"type": "array", "items": {"type": "string"}, "minItems": count, "maxItems": count})
        else:
            slots[kind.value] = media[kind.value]
    return slots


def describe_types(types: Sequence[TaskTypeSpec]) -> str:
    """One line a type: name, the first sentence of its description, inputs -> outputs."""
    lines = []
    for spec in types:
        first = spec.description.strip().split(". ")[0].rstrip(".")
        inputs = ", ".join(k.value for k in spec.inputs) or "nothing"
        outputs = ", ".join(k.value for k in spec.outputs) or "a score"
        lines.append(f"- {spec.name}: {first}; {inputs} -> {outputs}")
    return "\n".join(lines)


class PromptBuilder:
    """Renders prompts from the data files; the system prefix depends only on the types on offer."""

    def __init__(self, bank: DemoBank, counter: TokenCounter, budget: Budget, steps: bool = False,
                 guide: bool = False) -> None:
        self.bank = bank
        self.counter = counter
        self.budget = budget
        self.steps = steps  # the plan starts with the request broken into short steps
        self.guide = guide  # the request is followed by the task types found in it (services.planner.intents)
        self._system = PROMPTS.template("system.txt")
        self._formats = {False: PROMPTS.template("format.txt").render(),
                         True: PROMPTS.template("format_steps.txt").render()}
        self._request = PROMPTS.template("request.txt")
        self._history = PROMPTS.template("history.txt")
        self._guide = PROMPTS.template("guide.txt")
        self.repair = PROMPTS.template("repair.txt")
        self.direct = PROMPTS.template("direct.txt")

    def system(self, types: Sequence[TaskTypeSpec]) -> str:
        return self._system.render(task_types=describe_types(types), answer_format=self._formats[self.steps])

    def user(self, request: str, files: Sequence[str], history: Sequence[str],
             found: Sequence[tuple[str, str]] = ()) -> str:
        """The user message; `found` is (task type, the words asking for it) for each type found in the request."""
        # Earlier turns carry transcripts and text read from files: quoted data, never instructions.
        block = self._history.render(lines=untrusted.fence("\n".join(history), "earlier turns")) if history else ""
        guide = self._guide.render(found="; ".join(f'{name} for "{_clip(words)}"' for name, words in found))
        return self._request.render(history=block, files=", ".join(files) or "none", request=request,
                                    guide=guide if self.guide and found else "")

    def _demo_user(self, demo: Demo) -> str:
        return self.user(demo.request, demo.files, demo.history, demo.found())

    def _demo_text(self, demo: Demo) -> str:
        return self._demo_user(demo) + demo.answer(self.steps)

    async def build(
        self, turns: Sequence[Turn], types: Sequence[TaskTypeSpec], *, allow_direct: bool = True,
        found: Sequence[tuple[str, str]] = (),
    ) -> list[dict[str, str]]:
        """The chat messages for the conversation's last user turn (`found`: as for user())."""
        request = turns[-1].content.strip()
        files = list(resources_of(turns))
        system = self.system(types)
        fixed = await self.counter.count(system) + await self.counter.count(self.user(request, files, (), found))
        room = self.budget.context_window - self.budget.max_answer_tokens - fixed
        if room < 0:
            raise InvalidRequest(
                f"the request is too long for the LLM's context window ({self.budget.context_window} tokens); "
                "shorten it"
            )
        offered = {t.name for t in types}
        demos = await self.bank.choose(
            request, offered, min(self.budget.demo_tokens, room // 2), self.counter, self._demo_text,
            include_empty=allow_direct, files=[a.name for a in turns[-1].attachments],
        )
        for demo in demos:
            room -= await self.counter.count(self._demo_text(demo))
        if len(turns) > 1:  # the history's heading and data fence cost tokens of their own
            room -= await self.counter.count(self._history.render(lines=untrusted.fence("", "earlier turns")))
        history = await self._trim_history(turns[:-1], room)
        messages = [{"role": "system", "content": system}]
        for demo in demos:
            messages.append({"role": "user", "content": self._demo_user(demo)})
            messages.append({"role": "assistant", "content": demo.answer(self.steps)})
        messages.append({"role": "user", "content": self.user(request, files, history, found)})
        return messages

    async def _trim_history(self, turns: Sequence[Turn], room: int) -> list[str]:
        """The newest earlier turns that fit in room tokens, oldest first; their files stay in Files."""
        kept: list[str] = []
        for turn in reversed(turns):
            text = " ".join(turn.content.split())[: self.budget.history_line_chars]
            names = ", ".join(a.name for a in turn.attachments)
            line = f"{turn.role}: {text}" + (f" [files: {names}]" if names else "")
            cost = await self.counter.count(line + "\n")
            if cost > room:
                break
            kept.append(line)
            room -= cost
        return list(reversed(kept))


def _clip(words: str, limit: int = 80) -> str:
    """At most `limit` characters of a clause, cut at a word."""
    words = " ".join(words.split())
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0] + "..."


def resources_of(turns: Sequence[Turn]) -> Mapping[str, Artifact]:
    """Every file of the conversation by name; a later file of the same name wins."""
    found: dict[str, Artifact] = {}
    for turn in turns:
        for artifact in turn.attachments:
            found.pop(artifact.name, None)
            found[artifact.name] = artifact
    return found
