"""The gateway's request logic: validates a turn, loads its session, runs the pipeline, stores the turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import grpc

from gateway import metrics
from gateway.pipeline import Pipeline, PipelineRequest, PipelineResult
from gateway.sessions import ANSWERED, CANCELLED, FAILED, SessionStore, StoredMessage, check_session_id
from hugginggpt.artifacts import ArtifactStore
from hugginggpt.convert import artifact_from_pb, artifact_to_pb, role_to_pb
from hugginggpt.domain import Artifact
from hugginggpt.errors import HuggingGPTError, InvalidRequest, ResourceExhausted
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import gateway_pb2

logger = logging.getLogger(__name__)
MAX_CONTENT_CHARS = 20_000
# A turn cancelled this close to its deadline ran out of time: gRPC cancels the call when it passes, and on a
# loaded machine the client's cancel can reach the gateway a little before the gateway's own clock says so.
DEADLINE_SLACK_SECONDS = 2.0


def stored_to_pb(message: StoredMessage) -> pb.Message:
    return pb.Message(role=role_to_pb(message.role), content=message.content,
                      attachments=[artifact_to_pb(a) for a in message.attachments])


@dataclass(frozen=True)
class TurnLimits:
    """Limits applied to every request."""

    request_timeout_seconds: float
    history_messages: int
    max_attachments: int = 16
    max_session_messages: int = 1000


class Conversations:
    """Sessions, attachments and the pipeline, behind the gateway's RPCs (no gRPC in here)."""

    def __init__(self, pipeline: Pipeline, sessions: SessionStore, artifacts: ArtifactStore,
                 limits: TurnLimits) -> None:
        self.pipeline = pipeline
        self.sessions = sessions
        self.artifacts = artifacts
        self.limits = limits
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, seconds: float = 5.0) -> None:
        """Waits (a bounded time) for turns being stopped to store how they ended, before stores close."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)

    def _check(self, content: str, attachments: list[pb.Artifact]) -> list[pb.Artifact]:
        if not content.strip():
            raise InvalidRequest("content is empty; write what you want done")
        if len(content) > MAX_CONTENT_CHARS:
            raise InvalidRequest(f"content has {len(content)} characters; the limit is {MAX_CONTENT_CHARS}")
        if len(attachments) > self.limits.max_attachments:
            raise ResourceExhausted(
                f"the request has {len(attachments)} attachments; the limit is {self.limits.max_attachments} "
                "(HUGGINGGPT_GATEWAY_MAX_ATTACHMENTS); send fewer files per request"
            )
        # The store's own description wins over the client's: the URI must name an uploaded artifact.
        return [artifact_to_pb(self.artifacts.describe(uri)) for uri in dict.fromkeys(a.uri for a in attachments)]

    async def _history(self, session_id: str, adding: int = 0) -> list[pb.Message]:
        """The session's last messages; ResourceExhausted when adding more would pass the session limit."""
        if not session_id:
            return []
        stored = await self.sessions.messages(check_session_id(session_id))
        if adding and len(stored) + adding > self.limits.max_session_messages:
            raise ResourceExhausted(
                f"session {session_id} holds {len(stored)} messages; the limit is "
                f"{self.limits.max_session_messages} (HUGGINGGPT_GATEWAY_MAX_SESSION_MESSAGES); "
                "start a new session (leave session_id empty)"
            )
        keep = stored[-self.limits.history_messages:] if self.limits.history_messages else []
        return [stored_to_pb(m) for m in keep]

    def _turn(self, history: list[pb.Message], content: str, attachments: list[pb.Artifact], mode: int,
              client_seconds_left: float | None, received: float) -> PipelineRequest:
        """The turn, due `client_seconds_left` after `received` (the loop's time when the call came in, so the
        time spent checking and loading the session counts against the deadline, as the caller sees it)."""
        budget = self.limits.request_timeout_seconds
        if client_seconds_left is not None:
            budget = min(budget, client_seconds_left)
        current = pb.Message(role=pb.ROLE_USER, content=content, attachments=attachments)
        return PipelineRequest([*history, current], mode, received + budget)

    async def chat(self, request: gateway_pb2.ChatRequest, request_id: str,
                   client_seconds_left: float | None) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """The events of one turn, each stamped with the request and session ids.

        The user's message is stored before any work starts and the turn's end (answered, failed with its
        reason, cancelled) when it ends, so a crash in between leaves a turn marked unfinished, never a gap.
        """
        started, received = time.perf_counter(), asyncio.get_running_loop().time()
        attachments = self._check(request.content, list(request.attachments))
        history = await self._history(request.session_id, adding=2)
        session_id = request.session_id or await self.sessions.create()
        turn = self._turn(history, request.content, attachments, request.mode, client_seconds_left, received)
        await self.sessions.append(session_id, [StoredMessage("user", request.content, _domain(attachments))])
        outcome = PipelineResult()
        outcome_label = "error"
        ended = False
        self._active += 1
        self._idle.clear()
        try:
            async for event in self.pipeline.chat(turn, outcome):
                event.request_id, event.session_id = request_id, session_id
                yield event
            summary = outcome.summary(turn.started)
            await self.sessions.append(
                session_id, [StoredMessage("assistant", outcome.answer, _domain(summary.artifacts), ANSWERED)]
            )
            ended = True
            _observe_usage("Chat", summary.usage)
            yield gateway_pb2.ChatResponse(request_id=request_id, session_id=session_id,
                                           at_seconds=time.perf_counter() - started, summary=summary)
            outcome_label = "ok"
        except BaseException as exc:
            if not ended:  # the end is stored even when the request is being cancelled
                out_of_time = asyncio.get_running_loop().time() >= turn.deadline - DEADLINE_SLACK_SECONDS
                await self._store_end(session_id, ended_early(exc, out_of_time))
            raise
        finally:
            metrics.REQUEST_LATENCY.labels("Chat", outcome_label).observe(time.perf_counter() - started)
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def _store_end(self, session_id: str, message: StoredMessage) -> None:
        """Stores how a turn ended early; a store that fails now is logged, the turn's own error wins."""
        try:
            await asyncio.shield(self.sessions.append(session_id, [message]))
        except Exception:  # noqa: BLE001 - the turn stays marked unfinished, which is still no gap
            logger.exception("could not store how the turn of session %s ended", session_id)

    async def run_tasks(self, request: gateway_pb2.RunTasksRequest,
                        client_seconds_left: float | None) -> gateway_pb2.RunTasksResponse:
        """Plans, selects and runs; reads the session's history but does not add to it."""
        started, received = time.perf_counter(), asyncio.get_running_loop().time()
        attachments = self._check(request.content, list(request.attachments))
        history = await self._history(request.session_id)
        turn = self._turn(history, request.content, attachments, request.mode, client_seconds_left, received)
        outcome = PipelineResult()
        await self.pipeline.run_tasks(turn, outcome)
        _observe_usage("RunTasks", outcome.usage())
        metrics.REQUEST_LATENCY.labels("RunTasks", "ok").observe(time.perf_counter() - started)
        return gateway_pb2.RunTasksResponse(
            plan=outcome.plan,
            selections={"selections": outcome.ordered_selections(), "usage": outcome.select_usage},
            results=outcome.ordered_results(),
        )

    async def plan_messages(self, request: gateway_pb2.PlanTasksRequest) -> list[pb.Message]:
        """The conversation to plan: the session's history and this request."""
        attachments = self._check(request.content, list(request.attachments))
        history = await self._history(request.session_id)
        return [*history, pb.Message(role=pb.ROLE_USER, content=request.content, attachments=attachments)]

    async def messages(self, session_id: str) -> list[pb.Message]:
        """Every message of a session, oldest first."""
        if not session_id:
            raise InvalidRequest("session_id is empty; pass the id a Chat response carried")
        return [stored_to_pb(m) for m in await self.sessions.messages(check_session_id(session_id))]


def ended_early(exc: BaseException, out_of_time: bool = False) -> StoredMessage:
    """The assistant message that records why a turn ended without an answer.

    gRPC cancels a call whose deadline passed just as it cancels one the client gave up: out_of_time says
    which it was.
    """
    if isinstance(exc, asyncio.CancelledError | GeneratorExit) and out_of_time:
        return StoredMessage("assistant", "(the request failed: DEADLINE_EXCEEDED: the request ran out of time)",
                             (), FAILED)
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return StoredMessage("assistant", "(the request was cancelled before it was answered)", (), CANCELLED)
    if isinstance(exc, HuggingGPTError):
        code, reason = exc.code.name, exc.message
    elif isinstance(exc, grpc.aio.AioRpcError):
        code, reason = exc.code().name, exc.details() or ""
    elif isinstance(exc, TimeoutError):
        code, reason = "DEADLINE_EXCEEDED", "the request ran out of time"
    else:
        code, reason = "INTERNAL", "internal error"
    return StoredMessage("assistant", f"(the request failed: {code}: {reason})", (), FAILED)


def _domain(artifacts: Iterable[pb.Artifact]) -> tuple[Artifact, ...]:
    return tuple(artifact_from_pb(a) for a in artifacts)


def _observe_usage(rpc: str, usage: pb.LlmUsage) -> None:
    metrics.LLM_CALLS_PER_REQUEST.labels(rpc).observe(usage.calls)
    metrics.LLM_TOKENS_PER_REQUEST.labels(rpc).observe(usage.prompt_tokens + usage.completion_tokens)
