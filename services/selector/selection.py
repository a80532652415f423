"""Stage 2: candidates per task, ranking, and at most one batched LLM question for the undecided tasks."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hugginggpt.domain import Candidate, InferenceMode, Kind, Task, TaskTypeSpec, TypeAvailability
from hugginggpt.errors import DeadlineExceeded, InvalidRequest, Unavailable
from hugginggpt.llm import Usage
from services.selector.availability import HostedState, why_not
from services.selector.catalog import Catalog, CatalogModel, Site
from services.selector.deployments import DeploymentCache, Deployments
from services.selector.prompting import Question, SelectionPrompt, schema
from services.selector.ranking import Ranked, Ranker, build_query

logger = logging.getLogger(__name__)


class Completer(Protocol):
    """The part of LlmClient the selector uses."""

    async def complete(self, messages: list[dict[str, str]], usage: Usage, *, schema: dict | None = None,
                       max_tokens: int = 512, timeout: float | None = None) -> str: ...


@dataclass(frozen=True)
class Policy:
    """Tunable selection knobs (see config.py for their environment variables)."""

    top_k: int = 5
    margin: float = 0.08
    fallbacks: int = 4
    hosted: str = "auto"  # on | off | auto (= when the router reports hosted inference)
    default_mode: InferenceMode = InferenceMode.HYBRID


@dataclass(frozen=True)
class TaskSelection:
    """The outcome for one task; `chosen` is None when no model of its type can run now."""

    task_id: int
    chosen: Candidate | None
    reason: str
    fallbacks: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class SelectOutcome:
    selections: list[TaskSelection]
    usage: Usage


def _candidate(r: Ranked) -> Candidate:
    return Candidate(r.model.id, r.local, r.score, r.model.description)


def _terms(r: Ranked) -> str:
    return (f"score {r.score:.3f}: relevance {r.relevance:.2f}, popularity {r.popularity:.2f}, "
            f"language {r.language:.2f}, {'local' if r.local else 'hosted'}")


class Selector:
    """Chooses a model per task; the LLM is asked once per plan, only about tasks ranking leaves open."""

    def __init__(self, catalog: Catalog, ranker: Ranker, deployments: DeploymentCache, llm: Completer,
                 known_tasks: Mapping[str, TaskTypeSpec], policy: Policy | None = None,
                 prompt: SelectionPrompt | None = None) -> None:
        self._catalog = catalog
        self._ranker = ranker
        self._deployments = deployments
        self._llm = llm
        self._known = set(known_tasks) | set(catalog.tasks())
        self._specs = known_tasks
        self.policy = policy or Policy()
        self._prompt = prompt or SelectionPrompt()

    def _check_type(self, task_type: str) -> None:
        if task_type not in self._known:
            known = ", ".join(sorted(self._known))
            raise InvalidRequest(f"unknown task type {task_type!r}; known types: {known}")

    def _language_matters(self, task_type: str) -> bool:
        spec = self._specs.get(task_type)
        return spec is None or any(k in (Kind.TEXT, Kind.AUDIO) for k in spec.inputs)

    def _hosted_ok(self, mode: InferenceMode, deployed: Deployments) -> bool:
        if mode == InferenceMode.LOCAL or self.policy.hosted == "off":
            return False
        return self.policy.hosted == "on" or deployed.hosted_available

    def _runnable(self, task_type: str, mode: InferenceMode, deployed: Deployments) -> list[tuple[CatalogModel, bool]]:
        local_ok = mode != InferenceMode.HUGGINGFACE
        hosted_ok = self._hosted_ok(mode, deployed)
        found: list[tuple[CatalogModel, bool]] = []
        for model in self._catalog.for_task(task_type):
            local = local_ok and deployed.serves(model.id, task_type)
            if local or (hosted_ok and model.hosted_capable):
                found.append((model, local))
        known = {m.id for m, _ in found}
        for model_id in deployed.local:  # deployed but not catalogued: still a candidate
            if local_ok and model_id not in known and task_type in deployed.local[model_id]:
                found.append((CatalogModel(model_id, task_type, description="Deployed on a local replica.",
                                           site=Site.LOCAL), True))
        return found

    def _missing(self, task: Task, mode: InferenceMode, deployed: Deployments) -> TaskSelection:
        """Why nothing can serve this type here, and what would (said to the user in the answer)."""
        return TaskSelection(task.id, None, f"no model for {task.type} can run in this deployment: "
                                            f"{self._why_not(task.type, mode, deployed)}")

    def _why_not(self, task_type: str, mode: InferenceMode, deployed: Deployments) -> str:
        hosted = HostedState(self._hosted_ok(mode, deployed), mode, self.policy.hosted, deployed.reachable)
        return why_not(task_type, self._catalog.for_task(task_type), hosted)

    async def availability(self, mode: InferenceMode | None) -> list[TypeAvailability]:
        """Every known type, runnable or not by the rule select() applies, with its top model or the reason."""
        mode = mode or self.policy.default_mode
        deployed = await self._deployments.get()
        found = []
        for task_type in sorted(self._known):
            runnable = self._runnable(task_type, mode, deployed)
            if not runnable:
                found.append(TypeAvailability(task_type, False, reason=self._why_not(task_type, mode, deployed)))
                continue
            # local first, then the most downloaded: the model the ranking most often picks when the request is silent
            model, local = max(runnable, key=lambda pair: (pair[1], pair[0].downloads))
            found.append(TypeAvailability(task_type, True, model.id, local))
        return found

    async def candidates(self, task_type: str, user_request: str, mode: InferenceMode | None) -> list[Ranked]:
        """Every runnable model of one task type, ranked for the request."""
        self._check_type(task_type)
        deployed = await self._deployments.get()
        query = build_query(user_request, task_type, [], self._language_matters(task_type))
        runnable = self._runnable(task_type, mode or self.policy.default_mode, deployed)
        return await asyncio.to_thread(self._ranker.rank, query, runnable)

    async def select(self, user_request: str, tasks: Sequence[Task], mode: InferenceMode | None = None,
                     defer_undecided: bool = False, timeout: float = 60.0,
                     ranking_only: bool = False) -> SelectOutcome:
        """A selection per task; the LLM is asked once about the open ones unless deferred or ranking_only."""
        if not tasks:
            raise InvalidRequest("the plan has no tasks to select models for")
        if len({t.id for t in tasks}) != len(tasks):
            raise InvalidRequest("task ids must be unique within a plan")
        for task in tasks:
            self._check_type(task.type)
        mode = mode or self.policy.default_mode
        deployed = await self._deployments.get()
        decided: dict[int, TaskSelection] = {}
        rankings: dict[int, list[Ranked]] = {}
        open_questions: list[Question] = []
        for task in tasks:
            literals = [a.literal for a in task.arguments if a.literal]
            query = build_query(user_request, task.type, literals, self._language_matters(task.type))
            runnable = self._runnable(task.type, mode, deployed)
            # Inline, not in a worker thread: one short embedding (~2 ms on ONNX Runtime) costs less than
            # the thread hand-off, and it is the only work this service does.
            ranked = self._ranker.rank(query, runnable, with_relevance=len(runnable) > 1)
            rankings[task.id] = ranked
            if not ranked:
                decided[task.id] = self._missing(task, mode, deployed)
            elif len(ranked) == 1:
                why = "the only runnable candidate (nothing to rank it against)"
                decided[task.id] = self._pick(task.id, ranked, 0, why)
            elif ranked[0].score - ranked[1].score >= self.policy.margin:
                nxt = ranked[1]
                why = f"ranking decisive: {_terms(ranked[0])}; next {nxt.model.id} {nxt.score:.3f}"
                decided[task.id] = self._pick(task.id, ranked, 0, why)
            else:
                open_questions.append(Question(task, ranked[: self.policy.top_k]))
        usage = Usage()
        if open_questions and ranking_only and not defer_undecided:
            for question in open_questions:
                ranked = rankings[question.task.id]
                why = (f"top of the ranking ({_terms(ranked[0])}; next {ranked[1].model.id} {ranked[1].score:.3f}); "
                       "the LLM was not asked: this request's LLM-call budget is spent")
                decided[question.task.id] = self._pick(question.task.id, ranked, 0, why)
        elif open_questions and not defer_undecided:
            decided.update(await self._ask(user_request, open_questions, rankings, usage, timeout))
        return SelectOutcome([decided[t.id] for t in tasks if t.id in decided], usage)

    def _pick(self, task_id: int, ranked: Sequence[Ranked], index: int, reason: str) -> TaskSelection:
        chosen = ranked[index]
        rest = [r for i, r in enumerate(ranked) if i != index][: self.policy.fallbacks]
        return TaskSelection(task_id, _candidate(chosen), reason, tuple(_candidate(r) for r in rest))

    async def _ask(self, user_request: str, questions: list[Question], rankings: dict[int, list[Ranked]],
                   usage: Usage, timeout: float) -> dict[int, TaskSelection]:
        """One LLM call for all undecided tasks; every answer is checked against that task's candidates."""
        answers: dict = {}
        failure = ""
        try:
            text = await self._llm.complete(self._prompt.messages(user_request, questions), usage,
                                            schema=schema(questions), max_tokens=60 * len(questions) + 20,
                                            timeout=timeout)
            answers = json.loads(text)
            if not isinstance(answers, dict):
                raise ValueError("not a JSON object")
        except (Unavailable, DeadlineExceeded) as exc:
            failure = f"the LLM could not be asked ({exc.message})"
            logger.warning("selection falls back to ranking: %s", failure)
        except ValueError as exc:
            failure = f"the LLM's answer was not valid JSON ({exc})"
            logger.warning("selection falls back to ranking: %s", failure)
        result = {}
        for question in questions:
            ranked = rankings[question.task.id]
            ids = [r.model.id for r in ranked]
            raw = answers.get(question.key)
            answer: dict[str, Any] = raw if isinstance(raw, dict) else {}
            model_id = str(answer.get("model", ""))
            if model_id in ids[: self.policy.top_k]:
                said = str(answer.get("reason", ""))[:200]
                why = f"chosen by the LLM among {len(question.candidates)}: {said}"
                pick = self._pick(question.task.id, ranked, ids.index(model_id), why)
            else:
                note = failure or f"the LLM chose {model_id or 'nothing'!r}, which is not a candidate"
                pick = self._pick(question.task.id, ranked, 0, f"top-ranked ({_terms(ranked[0])}); {note}")
            result[question.task.id] = pick
        return result

