"""Event-driven DAG scheduler: each task starts the moment its dependencies succeed; one final state each."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from hugginggpt.domain import InferenceMode, TaskState
from hugginggpt.v1.common_pb2 import TaskResult
from services.executor import metrics
from services.executor.references import UnresolvedReference, resolve_inputs
from services.executor.runtypes import (
    InferenceBackend,
    InferenceCall,
    InferenceReply,
    RunOptions,
    ScheduledItem,
    TaskEvent,
)

logger = logging.getLogger(__name__)


@dataclass
class _Node:
    item: ScheduledItem
    state: TaskState | None = None  # None: waiting; STARTED: running; else final
    attempts: int = 0
    model_id: str = ""
    hosted: bool = False
    started_at: float = 0.0
    errors: list[str] = field(default_factory=list)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Run:
    """One request's tasks: add them (in any order), close the plan, read events until every task is final."""

    def __init__(self, backend: InferenceBackend, options: RunOptions,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._backend = backend
        self._opts = options
        self._clock = clock
        self._start = clock()
        self._deadline = self._start + options.budget_seconds
        self._nodes: dict[int, _Node] = {}
        self._outputs: dict[int, TaskResult] = {}
        self._queue: asyncio.Queue[TaskEvent | _Failure | None] = asyncio.Queue()
        self._slots = asyncio.Semaphore(max(1, options.max_parallel))
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False
        self._ended = False
        self._watchdog = asyncio.get_running_loop().call_later(options.budget_seconds, self._out_of_time)

    # -- intake -------------------------------------------------------------------------------------------
    def add(self, item: ScheduledItem) -> None:
        """Schedules a validated task; it starts as soon as its dependencies have succeeded."""
        if self._closed:
            return
        self._nodes[item.task.id] = _Node(item)
        self._advance()

    def close(self) -> None:
        """No more tasks: those waiting on ids that never arrived fail, and their dependents are skipped."""
        if self._closed:
            return
        self._closed = True
        for node in self._waiting():
            missing = [d for d in node.item.task.dependencies if d not in self._nodes]
            if missing:
                self._final(node, TaskState.FAILED, reason=(
                    f"depends on task(s) {missing}, which the plan never included"))
        self._advance()

    def fail(self, exc: BaseException) -> None:
        """Ends the event stream with an error (bad input arriving mid-stream)."""
        self._queue.put_nowait(_Failure(exc))

    # -- output -------------------------------------------------------------------------------------------
    async def events(self) -> AsyncIterator[TaskEvent]:
        """Events as they happen; ends once the plan is closed and every task is final."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            if isinstance(event, _Failure):
                raise event.exc
            yield event

    async def aclose(self) -> None:
        """Cancels running tasks (and their outbound calls) and waits for them to unwind."""
        self._watchdog.cancel()
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    # -- scheduling ---------------------------------------------------------------------------------------
    def _waiting(self) -> list[_Node]:
        return [n for n in self._nodes.values() if n.state is None]

    def _advance(self) -> None:
        """Starts every waiting task whose dependencies all succeeded; skips those with a failed one."""
        progressed = True
        while progressed:
            progressed = False
            for node in self._waiting():
                deps = [self._nodes.get(d) for d in node.item.task.dependencies]
                broken = next((d for d in deps if d is not None and d.state in (
                    TaskState.FAILED, TaskState.SKIPPED)), None)
                if broken is not None:
                    word = "failed" if broken.state == TaskState.FAILED else "was skipped"
                    task = broken.item.task
                    self._final(node, TaskState.SKIPPED, reason=f"task {task.id} ({task.type}) {word}")
                    progressed = True
                elif all(d is not None and d.state == TaskState.SUCCEEDED for d in deps):
                    node.state = TaskState.STARTED
                    job = asyncio.create_task(self._execute(node))
                    self._running.add(job)
                    job.add_done_callback(self._running.discard)
        self._maybe_end()

    def _maybe_end(self) -> None:
        if self._closed and not self._ended and all(
                n.state not in (None, TaskState.STARTED) for n in self._nodes.values()):
            self._ended = True
            self._watchdog.cancel()
            self._queue.put_nowait(None)

    def _out_of_time(self) -> None:
        budget = self._opts.budget_seconds
        for node in self._waiting():
            self._final(node, TaskState.FAILED, reason=(
                f"the request's time budget of {budget:.1f} s ran out while it waited for its inputs"))
        self._closed = True
        self._maybe_end()

    def _final(self, node: _Node, state: TaskState, result: TaskResult | None = None, reason: str = "",
               inference_seconds: float = 0.0) -> None:
        node.state = state
        now = self._clock()
        duration = now - node.started_at if node.started_at else 0.0
        if state == TaskState.SUCCEEDED and result is not None:
            self._outputs[node.item.task.id] = result
        metrics.TASKS.labels(state.value).inc()
        metrics.TASK_SECONDS.labels(state.value).observe(duration)
        self._emit(node, state, result=result, reason=reason, duration_seconds=duration,
                   inference_seconds=inference_seconds)

    def _emit(self, node: _Node, state: TaskState, **fields: object) -> None:
        task = node.item.task
        event = TaskEvent(task.id, task.type, state, model_id=node.model_id, hosted=node.hosted,
                          attempts=node.attempts, at_seconds=self._clock() - self._start, **fields)  # type: ignore[arg-type]
        self._queue.put_nowait(event)

    # -- running one task ---------------------------------------------------------------------------------
    async def _execute(self, node: _Node) -> None:
        async with self._slots:
            node.started_at = self._clock()
            try:
                await self._run_task(node)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug here must not leave the task without a final state
                logger.exception("task %d crashed in the scheduler", node.item.task.id)
                self._final(node, TaskState.FAILED, reason="internal error in the executor")
        self._advance()

    async def _run_task(self, node: _Node) -> None:
        task = node.item.task
        try:
            types = {i: n.item.task.type for i, n in self._nodes.items()}
            inputs = resolve_inputs(task, self._outputs, types)
        except UnresolvedReference as exc:
            self._final(node, TaskState.FAILED, reason=str(exc))
            return
        timeout = min(self._opts.task_timeout_seconds, self._deadline - self._clock())
        if timeout <= 0:
            self._final(node, TaskState.FAILED,
                        reason="the request's time budget ran out before the task could start")
            return
        plan = attempt_plan(node.item, self._opts.mode)
        if not plan:
            # A task the selector found no model for fails on its own, with the selector's reason; the rest of
            # the plan still runs and the answer says what could not be done.
            choice = node.item.choice
            said = choice.reason if not choice.chosen.model_id.strip() and choice.reason else ""
            self._final(node, TaskState.FAILED, reason=said or (
                f"no candidate model may run in {self._opts.mode.value} mode"))
            return
        try:
            async with asyncio.timeout(timeout):
                reply = await self._attempts(node, plan, inputs)
        except TimeoutError:
            metrics.ATTEMPTS.labels("timeout").inc()
            tried = "; ".join(node.errors)
            self._final(node, TaskState.FAILED, reason=(
                f"timed out after {timeout:.1f} s on {node.model_id} (attempt {node.attempts})"
                + (f"; earlier attempts: {tried}" if tried else "")))
            return
        if reply is None:
            self._final(node, TaskState.FAILED, reason="every model failed: " + "; ".join(node.errors))
            return
        node.hosted = reply.hosted
        self._final(node, TaskState.SUCCEEDED, result=reply.result, inference_seconds=reply.inference_seconds)

    async def _attempts(self, node: _Node, plan: list[tuple[str, InferenceMode]],
                        inputs: tuple) -> InferenceReply | None:
        item = node.item
        for model_id, mode in plan:
            node.attempts += 1
            node.model_id, node.hosted = model_id, mode == InferenceMode.HUGGINGFACE
            self._emit(node, TaskState.STARTED)
            call = InferenceCall(model_id, item.task.type, inputs, mode, item.parameters)
            left = min(self._opts.task_timeout_seconds, self._deadline - self._clock())
            try:
                reply = await self._backend.infer(call, timeout=max(0.01, left))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any model failure moves on to the next candidate
                metrics.ATTEMPTS.labels("failed").inc()
                where = " (hosted)" if mode == InferenceMode.HUGGINGFACE else ""
                node.errors.append(f"{model_id}{where}: {exc}")
                logger.info("task %d attempt %d on %s failed: %s", item.task.id, node.attempts, model_id, exc)
                continue
            metrics.ATTEMPTS.labels("succeeded").inc()
            return reply
        return None


def attempt_plan(item: ScheduledItem, mode: InferenceMode) -> list[tuple[str, InferenceMode]]:
    """The models to try in order: the chosen one, the ranked fallbacks, then hosted inference (hybrid)."""
    seen: set[str] = set()
    plan: list[tuple[str, InferenceMode]] = []
    for candidate in (item.choice.chosen, *item.choice.fallbacks):
        unusable = not candidate.model_id.strip() or (mode == InferenceMode.LOCAL and not candidate.local)
        if unusable or candidate.model_id in seen:
            continue
        seen.add(candidate.model_id)
        plan.append((candidate.model_id, mode))
    chosen = item.choice.chosen
    if mode == InferenceMode.HYBRID and chosen.local and chosen.model_id.strip():
        plan.append((chosen.model_id, InferenceMode.HUGGINGFACE))
    return plan
