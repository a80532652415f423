"""The planner's core: prompt, constrained LLM call, parse, validate, repair; plain or streamed. No grpc."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from hugginggpt.domain import Kind, Plan, Task, TaskTypeSpec
from hugginggpt.errors import DeadlineExceeded, InvalidRequest, PlanRejected, Unavailable
from hugginggpt.llm import Usage
from hugginggpt.planvalidation import (
    Code,
    Resources,
    ValidationIssue,
    complete_dependencies,
    parse_plan,
    summary,
    validate_plan,
)
from services.planner.coverage import append_plan, missed_part, used_uris
from services.planner.followup import dangling_reference, nothing_to_refer_to
from services.planner.intents import IntentBank, Proposal
from services.planner.prompting import PromptBuilder, Turn, plan_schema, resources_of
from services.planner.salvage import drop_stray_dependencies, fill_self_references, salvage
from services.planner.streaming import TaskExtractor, parse_lenient
from services.planner.wiring import Skeleton, wire

logger = logging.getLogger(__name__)


class Llm(Protocol):
    """What the planner needs of hugginggpt.llm.LlmClient (a scripted double in tests)."""

    async def complete(
        self, messages: list[dict[str, str]], usage: Usage, *, schema: dict[str, Any] | None = ...,
        max_tokens: int = ..., timeout: float | None = ...,
    ) -> str: ...

    def stream(
        self, messages: list[dict[str, str]], usage: Usage, *, schema: dict[str, Any] | None = ...,
        max_tokens: int = ..., timeout: float | None = ...,
    ) -> AsyncGenerator[str, None]: ...


@dataclass
class PlanOutcome:
    """A validated plan, how many repair rounds it took, and what the LLM calls cost."""

    plan: Plan
    repair_rounds: int = 0
    usage: Usage = field(default_factory=Usage)
    salvaged: bool = False  # invalid tasks (and their dependents) were dropped after the last repair round


@dataclass(frozen=True)
class _Attempt:
    plan: Plan
    errors: list[ValidationIssue]
    text: str
    format_errors: tuple[ValidationIssue, ...] = ()  # the part of errors found while parsing (validation cannot)


class Planner:
    """Turns a conversation into a validated task DAG, repairing invalid plans with the LLM's help."""

    def __init__(
        self,
        llm: Llm,
        prompts: PromptBuilder,
        known_types: Mapping[str, TaskTypeSpec],
        *,
        repair_rounds: int = 2,
        allow_direct_answer: bool = True,
        salvage: bool = True,
        cover_files: bool = True,
        intents: IntentBank | None = None,
        fix_types: bool = False,
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.known_types = dict(known_types)
        self.repair_rounds = repair_rounds
        self.allow_direct_answer = allow_direct_answer
        self.salvage_enabled = salvage
        self.cover_files = cover_files
        self.intents = intents  # finds the task types a request asks for (None: the LLM alone decides)
        self.fix_types = fix_types  # the plan's task types are exactly those found, when any are

    async def plan(
        self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec] = (), timeout: float = 120.0,
        max_llm_calls: int = 0,
    ) -> PlanOutcome:
        """The validated plan; InvalidRequest, PlanRejected, Unavailable or DeadlineExceeded otherwise.

        `max_llm_calls` (0 = no limit beyond the repair rounds) caps every call this plan may cost."""
        outcome: PlanOutcome | None = None
        async for event in self._run(turns, offered, timeout, max_llm_calls, stream=False):
            if isinstance(event, PlanOutcome):
                outcome = event
        assert outcome is not None
        return outcome

    def stream_plan(
        self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec] = (), timeout: float = 120.0,
        max_llm_calls: int = 0,
    ) -> AsyncGenerator[Task | PlanOutcome, None]:
        """Each task as soon as the LLM has written it (and it is valid on its own), then the outcome."""
        return self._run(turns, offered, timeout, max_llm_calls, stream=True)

    async def _run(
        self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec], timeout: float, max_calls: int, *,
        stream: bool,
    ) -> AsyncGenerator[Task | PlanOutcome, None]:
        types = self._check(turns, offered)
        if len(turns) == 1 and not turns[-1].attachments and (ref := dangling_reference(turns[-1].content)):
            # "translate that" opening a conversation: nothing to plan on; say so rather than guess
            yield PlanOutcome(Plan((), nothing_to_refer_to(turns[-1].content, ref)))
            return
        if max_calls < 0:
            raise InvalidRequest(f"max_llm_calls must be 0 (no limit) or positive, got {max_calls}")
        deadline = time.monotonic() + timeout
        resources = Resources(resources_of(turns))
        usage = Usage()

        def may_call() -> bool:
            return not max_calls or usage.calls < max_calls

        messages, schema, skeleton = await self._prompt(turns, types, resources,
                                                         allow_direct=self.allow_direct_answer)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("plan prompt: %s", json.dumps(messages, ensure_ascii=False))
        attempt: _Attempt | None = None
        for round_ in range(self.repair_rounds + 1):
            if round_ and not may_call():
                logger.info("no repair round: the request's LLM-call budget (%d) is spent", max_calls)
                break
            limit, left = self.prompts.budget.max_answer_tokens, _left(deadline)
            emitted: list[Task] = []
            # Tasks of a skeleton that need nothing the LLM writes start before it writes anything (all of
            # them when nothing is left for it to write).
            early = skeleton.settled() if skeleton is not None and stream and round_ == 0 else []
            for task in self._ready_tasks([skeleton.task(i, None) for i in early] if skeleton else [],
                                          types, resources, emitted):
                yield task
            if skeleton is not None and not skeleton.open():
                text = ""  # the plan is the skeleton, at no LLM call
            elif stream and round_ == 0:
                pieces: list[str] = []
                extractor = TaskExtractor()
                seen = 0
                # aclosing: a caller that stops reading early closes the LLM's stream here, not at garbage collection
                async with aclosing(self.llm.stream(messages, usage, schema=schema, max_tokens=limit,
                                                    timeout=left)) as answer:
                    async for piece in answer:
                        pieces.append(piece)
                        finished = extractor.feed(piece)
                        if skeleton is not None:  # the skeleton's task at each place, with the LLM's words
                            placed = list(enumerate(finished, seen))
                            seen += len(finished)
                            finished = [skeleton.task(i, raw) for i, raw in placed
                                        if i < len(skeleton.steps) and i not in early]
                        for task in self._ready_tasks(finished, types, resources, emitted):
                            yield task
                text = "".join(pieces)
            else:
                text = await self.llm.complete(messages, usage, schema=schema, max_tokens=limit, timeout=left)
            attempt = self._judge(text, types, resources, skeleton)
            if not attempt.errors:
                plan = attempt.plan
                merged = await self._cover(plan, turns, types, usage, deadline) if may_call() else None
                if merged is not None:
                    if stream:
                        for task in merged.tasks[len(plan.tasks):]:
                            yield task
                    plan = merged
                yield await self._finish(plan, turns, round_, usage, deadline, may_call())
                return
            logger.info("plan round %d invalid: %s", round_, summary(attempt.errors))
            messages = [*messages, {"role": "assistant", "content": text},
                        {"role": "user", "content": self.prompts.repair.render(errors=_bullets(attempt.errors, types))}]
        assert attempt is not None
        if self.salvage_enabled:
            uris = frozenset(a.uri for a in resources.by_name.values())
            filled = fill_self_references(attempt.plan, turns[-1].content.strip(), list(resources.by_name.values()))
            errors = list(attempt.format_errors) + validate_plan(filled, types, uris)
            partial = filled if filled.tasks and not errors else salvage(filled, errors, types, uris)
            if partial is not None:
                logger.warning("plan salvaged after %d calls: dropped %d task(s), filled self-references: %s",
                               usage.calls, len(attempt.plan.tasks) - len(partial.tasks),
                               summary(attempt.errors))
                outcome = PlanOutcome(partial, max(0, usage.calls - 1), usage, salvaged=True)
                yield outcome
                return
        raise PlanRejected(
            f"the LLM could not write a valid plan in {usage.calls} {'try' if usage.calls == 1 else 'tries'}; "
            "last problems: "
            + summary(attempt.errors[:5])
        )

    def _guide(
        self, turns: Sequence[Turn], types: Mapping[str, TaskTypeSpec], resources: Resources
    ) -> tuple[list[tuple[str, str]], Skeleton | None]:
        """What retrieval found in the request to show the LLM, and the skeleton when the tasks are fixed."""
        found: list[Proposal] = self.intents.propose(turns[-1].content, types) if self.intents else []
        skeleton = wire(found, types, resources.by_name) if found and self.fix_types else None
        if found:
            logger.info("task types found in the request: %s", ", ".join(f"{p.type} ({p.score})" for p in found))
        if skeleton is None:
            return [(p.type, p.clause) for p in found], None
        shown = [(step.spec.name, step.clause) for step in skeleton.steps]  # what no input can feed is not shown
        return shown, skeleton if skeleton.steps else None

    async def _prompt(
        self, turns: Sequence[Turn], types: Mapping[str, TaskTypeSpec], resources: Resources, *, allow_direct: bool,
        guide: tuple[list[tuple[str, str]], Skeleton | None] | None = None,
    ) -> tuple[list[dict[str, str]], dict[str, Any], Skeleton | None]:
        """The messages, the answer's JSON schema and, when the plan's tasks are fixed, their skeleton
        (`guide`: what `_guide` gave for these turns, when the caller already asked)."""
        shown, skeleton = guide if guide is not None else self._guide(turns, types, resources)
        if skeleton is not None and not skeleton.open():
            return [], {}, skeleton  # no LLM call: no prompt to build (nor tokens to count on the LLM's server)
        offered = list(types.values())
        messages = await self.prompts.build(turns, offered, allow_direct=allow_direct, found=shown)
        schema = (skeleton.schema() if skeleton is not None
                  else plan_schema(offered, resources.by_name, steps=self.prompts.steps))
        return messages, schema, skeleton

    def _check(self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec]) -> dict[str, TaskTypeSpec]:
        if not turns or turns[-1].role != "user" or not turns[-1].content.strip():
            raise InvalidRequest("the request is empty: the last message must be a user message with text")
        types = {t.name: t for t in offered} if offered else dict(self.known_types)
        if not types:
            raise InvalidRequest("no task types on offer")
        return types

    def _judge(self, text: str, types: Mapping[str, TaskTypeSpec], resources: Resources,
               skeleton: Skeleton | None = None) -> _Attempt:
        raw = parse_lenient(text)
        if skeleton is not None:  # the fixed tasks with the LLM's words where it wrote them, else the request's
            raw = skeleton.apply(raw)
        if raw is None:
            return _Attempt(Plan(), [NOT_JSON], text)
        plan, format_errors = parse_plan(raw, resources)
        plan = complete_dependencies(drop_stray_dependencies(plan))
        uris = frozenset(a.uri for a in resources.by_name.values())
        errors = format_errors + validate_plan(plan, types, uris)
        if not plan.tasks and not errors and not self.allow_direct_answer:
            errors.append(NO_TASKS)
        return _Attempt(plan, errors, text, tuple(format_errors))

    async def _cover(
        self, plan: Plan, turns: Sequence[Turn], types: Mapping[str, TaskTypeSpec], usage: Usage, deadline: float
    ) -> Plan | None:
        """The plan with tasks for the part of the request it missed (files it names but no task uses)."""
        if not self.cover_files:
            return None
        part = missed_part(plan, turns[-1].content, turns[-1].attachments)
        if part is None:
            return None
        sub = [Turn("user", part.text, part.files)]
        resources = Resources(resources_of(sub))
        guide = self._guide(sub, types, resources)
        if self.fix_types and guide[1] is None:
            # Retrieval found no task for those sentences that their files can feed; a free-hand plan of the
            # same words is a guess (on TaskBench's dev subset it added a right task once in seven).
            logger.info("the missed part %r asks for no task its files can feed; left as it is", part.text)
            return None
        messages, schema, skeleton = await self._prompt(sub, types, resources, allow_direct=False, guide=guide)
        try:
            text = "" if skeleton is not None and not skeleton.open() else await self.llm.complete(
                messages, usage, schema=schema, max_tokens=self.prompts.budget.max_answer_tokens,
                timeout=_left(deadline))
        except (Unavailable, PlanRejected) as exc:
            logger.warning("could not plan the missed part %r: %s", part.text, exc)
            return None
        attempt = self._judge(text, types, resources, skeleton)
        uris = frozenset(a.uri for a in resources.by_name.values())
        extra = attempt.plan if not attempt.errors else salvage(attempt.plan, attempt.errors, types, uris)
        if extra is None or not used_uris(extra) & {a.uri for a in part.files}:
            logger.info("the missed part %r gave no usable tasks: %s", part.text, summary(attempt.errors) or text)
            return None
        merged = append_plan(plan, extra)
        all_uris = frozenset(a.uri for a in resources_of(turns).values())
        if problems := validate_plan(merged, types, all_uris):
            logger.info("the tasks for the missed part %r do not fit the plan: %s", part.text,
                        summary(problems))
            return None
        logger.info("planned the missed part %r separately: %d more task(s)", part.text, len(extra.tasks))
        return merged

    def _ready_tasks(
        self, finished: list[dict[str, Any]], types: Mapping[str, TaskTypeSpec], resources: Resources,
        emitted: list[Task],
    ) -> list[Task]:
        ready = []
        for raw in finished:
            plan, errors = parse_plan({"tasks": [raw]}, resources)
            plan = complete_dependencies(plan)
            if errors or not plan.tasks:
                continue
            candidate = Plan((*emitted, plan.tasks[0]))
            uris = frozenset(a.uri for a in resources.by_name.values())
            if not validate_plan(candidate, types, uris):
                emitted.append(plan.tasks[0])
                ready.append(plan.tasks[0])
        return ready

    async def _finish(
        self, plan: Plan, turns: Sequence[Turn], rounds: int, usage: Usage, deadline: float, may_call: bool
    ) -> PlanOutcome:
        if plan.tasks or plan.direct_answer.strip():
            return PlanOutcome(plan, rounds, usage)
        if not may_call:
            return PlanOutcome(Plan((), NO_MODEL_NEEDED), rounds, usage)
        # The model decided no model is needed but wrote no reply: ask it for a conversational one.
        messages = [{"role": "system", "content": self.prompts.direct.render()},
                    {"role": "user", "content": turns[-1].content}]
        answer = await self.llm.complete(messages, usage, max_tokens=256, timeout=_left(deadline))
        return PlanOutcome(Plan((), answer.strip()), rounds, usage)


NOT_JSON = ValidationIssue(None, Code.NOT_JSON, 'the answer is not JSON; write {"tasks": [...]}')
NO_TASKS = ValidationIssue(None, Code.NO_TASKS, "the plan has no tasks; this request needs at least one task")
NO_MODEL_NEEDED = ("This request needs no expert model, and this request's LLM-call budget is spent, so no "
                   "conversational reply was written. Ask again, or rephrase it as a task.")


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the planning deadline passed before the LLM answered")
    return left


def _bullets(issues: Sequence[ValidationIssue], types: Mapping[str, TaskTypeSpec]) -> str:
    """The issues as a list, plus which task types produce a kind of input the plan got wrong."""
    lines = [f"- {issue.message}" for issue in issues]
    wrong = {issue.kind for issue in issues if issue.code in (Code.MISSING_INPUT, Code.WRONG_KIND)}
    for kind in Kind:
        if kind in wrong:
            producers = [t.name for t in types.values() if kind in t.outputs]
            if producers:
                lines.append(f"- hint: an {kind.value} comes from the user's Files or from: {', '.join(producers)}")
    return "\n".join(lines)
