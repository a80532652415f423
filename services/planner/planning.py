"""The planner's core: prompt, constrained LLM call, parse, validate, repair; plain or streamed. No grpc."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from hugginggpt.domain import Declined, Plan, Task, TaskTypeSpec, Turn, TypeAvailability
from hugginggpt.errors import DeadlineExceeded, InvalidRequest, PlanRejected, Unavailable
from hugginggpt.llm import Usage
from hugginggpt.planvalidation import Resources, summary, validate_plan
from services.planner.availability import Offer, decline_answer, restrict, sort_out
from services.planner.coverage import append_plan, missed_part, used_uris
from services.planner.followup import dangling_reference, nothing_to_refer_to
from services.planner.intents import IntentBank, Proposal
from services.planner.judging import Attempt, judge, ready_tasks, repair_list
from services.planner.prompting import PromptBuilder, plan_schema, resources_of
from services.planner.salvage import fill_self_references, salvage
from services.planner.streaming import TaskExtractor
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
    declined: tuple[Declined, ...] = ()  # types asked for that this deployment cannot run: not planned


@dataclass
class _Run:
    """One request on its way through the strategy: what it asks, what the LLM was asked and wrote, the result."""

    turns: Sequence[Turn]
    types: Mapping[str, TaskTypeSpec]
    resources: Resources
    deadline: float
    max_calls: int  # 0: no limit beyond the repair rounds
    stream: bool
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    skeleton: Skeleton | None  # the fixed tasks, when retrieval decided them
    usage: Usage = field(default_factory=Usage)
    round: int = -1  # the latest LLM round: 0 the first answer, then the repairs
    attempt: Attempt | None = None
    plan: Plan | None = None  # the valid plan, once there is one
    outcome: PlanOutcome | None = None  # once set, the steps left are skipped

    def may_call(self) -> bool:
        return not self.max_calls or self.usage.calls < self.max_calls

    def closed(self) -> bool:
        """Whether the plan is the skeleton as it is: nothing for the LLM to write, no call to make."""
        return self.skeleton is not None and not self.skeleton.open()


# A step of the planner's strategy: it reads and updates the run; one that streams yields the tasks it settles.
Step = Callable[[_Run], AsyncGenerator[Task, None] | Awaitable[None]]


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
        self.intents = intents  # finds the task types a request asks for (None: the LLM alone decides)
        self.fix_types = fix_types  # the plan's task types are exactly those found, when any are
        # The strategy, in order; once a step decides the outcome, the rest are skipped.
        self.strategy: tuple[Step, ...] = (
            self._answer,  # the LLM's plan, streamed when asked (a closed skeleton's at no call)
            self._repair,  # invalid: the issues go back to the LLM, up to repair_rounds times
            *((self._cover_missed,) if cover_files else ()),  # valid but a file unused: plan that part too
            self._reply,  # valid: the outcome (no tasks and no answer: the LLM writes a reply)
            *((self._salvage,) if salvage else ()),  # still invalid: its largest valid part
        )

    def steer(self, other: Planner) -> None:
        """Plans from now on as `other` does: its prompts, type finder and fixed types (the guide calibration
        chose, services.planner.calibration)."""
        self.prompts, self.intents, self.fix_types = other.prompts, other.intents, other.fix_types

    async def plan(
        self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec] = (), timeout: float = 120.0,
        max_llm_calls: int = 0, availability: Sequence[TypeAvailability] = (),
    ) -> PlanOutcome:
        """The validated plan; InvalidRequest, PlanRejected, Unavailable or DeadlineExceeded otherwise.

        `max_llm_calls` (0 = no limit beyond the repair rounds) caps every call this plan may cost. Types that
        `availability` marks not runnable are not offered; a request for one is declined (PlanOutcome.declined)."""
        outcome: PlanOutcome | None = None
        async for event in self._run(turns, offered, timeout, max_llm_calls, availability, stream=False):
            if isinstance(event, PlanOutcome):
                outcome = event
        assert outcome is not None
        return outcome

    def stream_plan(
        self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec] = (), timeout: float = 120.0,
        max_llm_calls: int = 0, availability: Sequence[TypeAvailability] = (),
    ) -> AsyncGenerator[Task | PlanOutcome, None]:
        """Each task as soon as the LLM has written it (and it is valid on its own), then the outcome."""
        return self._run(turns, offered, timeout, max_llm_calls, availability, stream=True)

    async def _run(
        self, turns: Sequence[Turn], offered: Sequence[TaskTypeSpec], timeout: float, max_calls: int,
        availability: Sequence[TypeAvailability], *, stream: bool,
    ) -> AsyncGenerator[Task | PlanOutcome, None]:
        offer = restrict(self._check(turns, offered), availability)
        types = offer.types
        if len(turns) == 1 and not turns[-1].attachments and (ref := dangling_reference(turns[-1].content)):
            # "translate that" opening a conversation: nothing to plan on; say so rather than guess
            yield PlanOutcome(Plan((), nothing_to_refer_to(turns[-1].content, ref)))
            return
        if max_calls < 0:
            raise InvalidRequest(f"max_llm_calls must be 0 (no limit) or positive, got {max_calls}")
        deadline = time.monotonic() + timeout
        resources = Resources(resources_of(turns))
        found, declined = self._find(turns[-1].content, offer)
        if self._only(declined, turns[-1].content):  # only what cannot run here was asked for: say so, no LLM call
            yield PlanOutcome(Plan((), decline_answer(declined)), declined=tuple(declined))
            return
        messages, schema, skeleton = await self._prompt(turns, types, resources, allow_direct=self.allow_direct_answer,
                                                         guide=self._guide(turns, types, resources, found))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("plan prompt: %s", json.dumps(messages, ensure_ascii=False))
        run = _Run(turns, types, resources, deadline, max_calls, stream, messages, schema, skeleton)
        for step in self.strategy:
            if run.outcome is not None:
                break
            result = step(run)
            if isinstance(result, AsyncGenerator):
                # aclosing: a caller that stops reading early closes the step (and the LLM's stream) here
                async with aclosing(result) as tasks:
                    async for task in tasks:
                        yield task
            else:
                await result
        if run.outcome is None:
            assert run.attempt is not None
            raise PlanRejected(
                f"the LLM could not write a valid plan in {run.usage.calls} "
                f"{'try' if run.usage.calls == 1 else 'tries'}; last problems: {summary(run.attempt.errors[:5])}"
            )
        yield _telling(run.outcome, declined)

    async def _answer(self, run: _Run) -> AsyncGenerator[Task, None]:
        """Step: the LLM's first answer. Streamed, each task goes out once written and valid so far, and the
        skeleton's tasks that need nothing from the LLM before it writes anything."""
        left = _left(run.deadline)
        emitted: list[Task] = []
        skeleton = run.skeleton
        early = skeleton.settled() if skeleton is not None and run.stream else []
        for task in ready_tasks([skeleton.task(i, None) for i in early] if skeleton else [], run.types, run.resources,
                                emitted):
            yield task
        if run.closed():
            text = ""
        elif run.stream:
            pieces: list[str] = []
            extractor = TaskExtractor()
            seen = 0
            async with aclosing(self.llm.stream(run.messages, run.usage, schema=run.schema,
                                                max_tokens=self.prompts.budget.max_answer_tokens,
                                                timeout=left)) as answer:
                async for piece in answer:
                    pieces.append(piece)
                    finished = extractor.feed(piece)
                    if skeleton is not None:  # the skeleton's task at each place, with the LLM's words
                        placed = list(enumerate(finished, seen))
                        seen += len(finished)
                        finished = [skeleton.task(i, raw) for i, raw in placed
                                    if i < len(skeleton.steps) and i not in early]
                    for task in ready_tasks(finished, run.types, run.resources, emitted):
                        yield task
            text = "".join(pieces)
        else:
            text = await self._complete(run, left)
        self._judge_round(run, text)

    async def _repair(self, run: _Run) -> None:
        """Step: while the plan is invalid, its issues go back to the LLM for another answer."""
        for _ in range(self.repair_rounds):
            if run.plan is not None:
                return
            if not run.may_call():
                logger.info("no repair round: the request's LLM-call budget (%d) is spent", run.max_calls)
                return
            assert run.attempt is not None
            repair = self.prompts.repair.render(errors=repair_list(run.attempt.errors, run.types))
            run.messages = [*run.messages, {"role": "assistant", "content": run.attempt.text},
                            {"role": "user", "content": repair}]
            left = _left(run.deadline)
            self._judge_round(run, "" if run.closed() else await self._complete(run, left))

    async def _complete(self, run: _Run, left: float) -> str:
        return await self.llm.complete(run.messages, run.usage, schema=run.schema,
                                       max_tokens=self.prompts.budget.max_answer_tokens, timeout=left)

    def _judge_round(self, run: _Run, text: str) -> None:
        run.round += 1
        run.attempt = judge(text, run.types, run.resources, run.skeleton, need_tasks=not self.allow_direct_answer)
        if run.attempt.errors:
            logger.info("plan round %d invalid: %s", run.round, summary(run.attempt.errors))
        else:
            run.plan = run.attempt.plan

    async def _cover_missed(self, run: _Run) -> AsyncGenerator[Task, None]:
        """Step: a valid plan that leaves a file the request names unused gets tasks for that part."""
        if run.plan is None or not run.may_call():
            return
        merged = await self._cover(run.plan, run)
        if merged is not None:
            if run.stream:
                for task in merged.tasks[len(run.plan.tasks):]:
                    yield task
            run.plan = merged

    async def _reply(self, run: _Run) -> None:
        """Step: a valid plan is the outcome; with no tasks and no answer, the LLM writes a reply."""
        plan = run.plan
        if plan is None:
            return
        if not plan.tasks and not plan.direct_answer.strip():
            if not run.may_call():
                plan = Plan((), NO_MODEL_NEEDED)
            else:  # the model decided no model is needed but wrote no reply: ask it for a conversational one
                messages = [{"role": "system", "content": self.prompts.direct.render()},
                            {"role": "user", "content": run.turns[-1].content}]
                answer = await self.llm.complete(messages, run.usage, max_tokens=256, timeout=_left(run.deadline))
                plan = Plan((), answer.strip())
        run.outcome = PlanOutcome(plan, run.round, run.usage)

    async def _salvage(self, run: _Run) -> None:
        """Step: still invalid after the repairs: the plan without its wrong tasks, if anything is left."""
        if run.plan is not None or run.attempt is None:
            return
        attempt, files = run.attempt, list(run.resources.by_name.values())
        uris = frozenset(a.uri for a in files)
        filled = fill_self_references(attempt.plan, run.turns[-1].content.strip(), files)
        errors = list(attempt.format_errors) + validate_plan(filled, run.types, uris)
        partial = filled if filled.tasks and not errors else salvage(filled, errors, run.types, uris)
        if partial is not None:
            logger.warning("plan salvaged after %d calls: dropped %d task(s), filled self-references: %s",
                           run.usage.calls, len(attempt.plan.tasks) - len(partial.tasks), summary(attempt.errors))
            run.outcome = PlanOutcome(partial, max(0, run.usage.calls - 1), run.usage, salvaged=True)

    def _find(self, request: str, offer: Offer) -> tuple[list[Proposal], list[Declined]]:
        """The types the request asks for among all on offer: those that can run, and those declined."""
        if self.intents is None:
            return [], []
        found = self.intents.propose(request, [*offer.types, *offer.unavailable])
        return sort_out(found, offer, self.intents.threshold) if offer.unavailable else (found, [])

    def _only(self, declined: Sequence[Declined], request: str) -> bool:
        """Whether every clause of the request asks for a type declined (then there is nothing left to plan)."""
        asked = {d.request_text for d in declined}
        return bool(asked) and self.intents is not None and set(self.intents.clauses(request)) <= asked

    def _guide(
        self, turns: Sequence[Turn], types: Mapping[str, TaskTypeSpec], resources: Resources,
        found: list[Proposal] | None = None,
    ) -> tuple[list[tuple[str, str]], Skeleton | None]:
        """What retrieval found in the request (`found`, when already asked) to show the LLM, and the skeleton
        when the tasks are fixed."""
        if found is None:
            found = self.intents.propose(turns[-1].content, types) if self.intents else []
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

    async def _cover(self, plan: Plan, run: _Run) -> Plan | None:
        """The plan with tasks for the part of the request it missed (files it names but no task uses)."""
        turns, types = run.turns, run.types
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
                messages, run.usage, schema=schema, max_tokens=self.prompts.budget.max_answer_tokens,
                timeout=_left(run.deadline))
        except (Unavailable, PlanRejected) as exc:
            logger.warning("could not plan the missed part %r: %s", part.text, exc)
            return None
        attempt = judge(text, types, resources, skeleton, need_tasks=not self.allow_direct_answer)
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


def _telling(outcome: PlanOutcome, declined: Sequence[Declined]) -> PlanOutcome:
    """The outcome with the types declined; a plan without tasks also says them in its answer, which the user
    reads as it is (no responder sees that plan's declined types)."""
    if not declined:
        return outcome
    plan = outcome.plan
    if not plan.tasks:
        said = decline_answer(declined)
        plan = Plan((), f"{said}\n\n{plan.direct_answer}" if plan.direct_answer.strip() else said)
    return replace(outcome, plan=plan, declined=tuple(declined))


NO_MODEL_NEEDED = ("This request needs no expert model, and this request's LLM-call budget is spent, so no "
                   "conversational reply was written. Ask again, or rephrase it as a task.")


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the planning deadline passed before the LLM answered")
    return left
