"""A plan's skeleton from the task types found in a request, so that the LLM writes only the words.

With HUGGINGGPT_PLANNER_GUIDE=fixed, the task types are those retrieval found (services.planner.intents),
in the request's order, and the data flow is decided here, by kinds: a task that takes a kind some earlier
task produces is fed by the nearest such task whose output nothing has used yet (the request reads as a
pipeline: "transcribe it, then translate that"); otherwise it reads the request's file of that kind (the
LLM chooses among several) or, for text, what the LLM writes (the sentence to translate, the question). A
task that can be fed neither way gives way to the clause's next type that can, or is left out. The schema
lets the LLM write only those texts and file choices, and `apply` rebuilds every task from the skeleton, so
a fixed plan is valid by construction even from an endpoint that ignores schemas or writes no JSON at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hugginggpt.domain import GENERATED_PREFIX, Artifact, Kind, TaskTypeSpec
from hugginggpt.planmodel import answer_schema, task_schema
from hugginggpt.planvalidation import parse_reference
from services.planner.intents import Proposal

MEDIA = (Kind.IMAGE, Kind.AUDIO, Kind.VIDEO)
TEXT_SLOTS = ("text", "context", "question", "text2")  # where an LLM may write texts (see planvalidation)
#: Types whose text is a question about a file: the user's own question is kept when the LLM's text asks nothing.
ASKED_OF_A_FILE = frozenset({"visual-question-answering", "document-question-answering"})
_QUESTION_WORDS = re.compile(
    r"^\W*(?:what|how|is|are|was|were|does|do|did|can|could|who|whom|whose|where|which|why|when|tell me|count)\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Step:
    """One task of the skeleton: its type, the clause that asked for it, and where each input comes from."""

    spec: TaskTypeSpec
    clause: str
    feeds: Mapping[Kind, int]  # input kind -> the task whose output feeds it
    files: Mapping[Kind, tuple[str, ...]]  # media input kind -> the request's files of that kind (LLM picks)

    @property
    def dep(self) -> list[int]:
        return sorted(set(self.feeds.values()))

    def open(self) -> bool:
        """Whether the LLM writes part of this task: a text no task feeds, or a choice among files."""
        return bool(self.free_texts()) or any(len(names) > 1 for names in self.files.values())

    def free_texts(self) -> int:
        """How many text inputs the LLM writes (those no task feeds)."""
        return self.spec.inputs.count(Kind.TEXT) - (Kind.TEXT in self.feeds)


@dataclass(frozen=True)
class Skeleton:
    """The fixed tasks of a plan, in order (task i has id i)."""

    steps: tuple[Step, ...]

    def open(self) -> bool:
        """Whether the LLM has anything to write: a text no task feeds, or a choice among files."""
        return any(step.open() for step in self.steps)

    def settled(self) -> list[int]:
        """The tasks that need nothing from the LLM, nor from a task that does: they can start before it answers."""
        done: list[int] = []
        for index, step in enumerate(self.steps):
            if not step.open() and set(step.dep) <= set(done):
                done.append(index)
        return done

    def schema(self) -> dict[str, Any]:
        """The JSON schema of exactly this plan: everything fixed but the texts and file choices."""
        items = [task_schema(step.spec.name, _slots(step), (i, step.dep)) for i, step in enumerate(self.steps)]
        tasks = {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
        return answer_schema(tasks, answer=False)

    def apply(self, raw: Any) -> dict[str, Any]:
        """The plan of the skeleton with the LLM's texts and file choices from `raw`, where it wrote them."""
        items = raw.get("tasks") if isinstance(raw, dict) else None
        items = items if isinstance(items, list) else []
        return {"tasks": [self.task(i, items[i] if i < len(items) else None) for i in range(len(self.steps))]}

    def task(self, index: int, raw: Any) -> dict[str, Any]:
        """Task `index` of the skeleton, taking what the LLM may choose from `raw` (its task at that place)."""
        step = self.steps[index]
        written = raw.get("args") if isinstance(raw, dict) else None
        written = written if isinstance(written, dict) else {}
        args: dict[str, Any] = {}
        for kind in dict.fromkeys(step.spec.inputs):
            if kind == Kind.TEXT:
                texts = [_ref(step.feeds[Kind.TEXT])] if Kind.TEXT in step.feeds else []
                written_texts = [t for slot in TEXT_SLOTS for t in _strings(written.get(slot))]
                free = [t for t in written_texts if t.strip() and parse_reference(t) is None]
                if step.spec.name in ASKED_OF_A_FILE and free and _asks(step.clause) and not _asks(free[0]):
                    free[0] = step.clause  # a small LLM writes the answer it guesses ("No ball."), not the question
                texts += (free + [step.clause] * step.free_texts())[: step.free_texts()]
                args["text"] = texts[0] if len(texts) == 1 else texts
            elif kind in step.feeds:
                args[kind.value] = _ref(step.feeds[kind])
            else:
                choice = written.get(kind.value)
                options = step.files[kind]
                args[kind.value] = choice if choice in options else options[0]
        return {"task": step.spec.name, "id": index, "dep": step.dep, "args": args}


def wire(found: Sequence[Proposal], types: Mapping[str, TaskTypeSpec], files: Mapping[str, Artifact]) -> Skeleton:
    """The skeleton for the types found, in order.

    A clause whose type nothing can feed takes its next type that can be fed ("generate an audio file that
    describes it" reads close to speech recognition, which needs an audio file; text to speech needs none);
    a type already planned is not planned twice; a clause with no type left is left out."""
    by_kind = {kind: tuple(name for name, a in files.items() if a.kind == kind) for kind in MEDIA}
    steps: list[Step] = []
    used: set[int] = set()
    for proposal in found:
        for name in (proposal.type, *proposal.alternatives):
            if name not in types or any(step.spec.name == name for step in steps):
                continue
            step = _step(types[name], proposal.clause, steps, used, by_kind)
            if step is not None:
                used.update(step.feeds.values())
                steps.append(step)
                break
    return Skeleton(tuple(steps))


def _step(spec: TaskTypeSpec, clause: str, steps: Sequence[Step], used: set[int],
          by_kind: Mapping[Kind, tuple[str, ...]]) -> Step | None:
    """The step of `spec` after `steps`, or None when a media input can be fed neither by a task nor a file."""
    feeds: dict[Kind, int] = {}
    for kind in dict.fromkeys(spec.inputs):
        source = next((j for j in range(len(steps) - 1, -1, -1)
                       if kind in steps[j].spec.outputs and j not in used), None)
        if source is not None:
            feeds[kind] = source
    if any(kind in MEDIA and kind not in feeds and not by_kind[kind] for kind in spec.inputs):
        return None  # e.g. "describe the picture" with no picture given or made
    media = {kind: by_kind[kind] for kind in spec.inputs if kind in MEDIA and kind not in feeds}
    return Step(spec, clause, feeds, media)


def _slots(step: Step) -> dict[str, Any]:
    """Each argument slot's schema: a reference where a task feeds it, else a text or a choice among files."""
    slots: dict[str, Any] = {}
    for kind in dict.fromkeys(step.spec.inputs):
        if kind == Kind.TEXT:
            fixed = [{"const": _ref(step.feeds[Kind.TEXT])}] if Kind.TEXT in step.feeds else []
            texts = fixed + [{"type": "string"}] * step.free_texts()
            slots["text"] = texts[0] if len(texts) == 1 else {"type": "array", "prefixItems": texts,
                                                              "minItems": len(texts), "maxItems": len(texts)}
        elif kind in step.feeds:
            slots[kind.value] = {"const": _ref(step.feeds[kind])}
        else:
            slots[kind.value] = {"type": "string", "enum": list(step.files[kind])}
    return slots


def _asks(text: str) -> bool:
    """Whether a text is put as a question."""
    return text.rstrip().endswith("?") or bool(_QUESTION_WORDS.match(text))


def _ref(task_id: int) -> str:
    return f"{GENERATED_PREFIX}{task_id}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
