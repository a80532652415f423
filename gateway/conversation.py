"""The gateway's request logic: validates a turn, loads its session, runs the pipeline, stores the turn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from gateway import metrics
from gateway.pipeline import Outcome, Pipeline, Turn
from gateway.sessions import SessionStore, StoredMessage, check_session_id
from hugginggpt.artifacts import ArtifactStore
from hugginggpt.convert import artifact_from_pb, artifact_to_pb
from hugginggpt.domain import Artifact
from hugginggpt.errors import InvalidRequest
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import gateway_pb2

MAX_CONTENT_CHARS = 20_000
_ROLES = {"user": pb.ROLE_USER, "assistant": pb.ROLE_ASSISTANT}


def stored_to_pb(message: StoredMessage) -> pb.Message:
    return pb.Message(role=_ROLES.get(message.role, pb.ROLE_USER), content=message.content,
                      attachments=[artifact_to_pb(a) for a in message.attachments])


@dataclass(frozen=True)
class TurnLimits:
    """Limits applied to every request."""

    request_timeout_seconds: float
    history_messages: int


class Conversations:
    """Sessions, attachments and the pipeline, behind the gateway's RPCs (no gRPC in here)."""

    def __init__(self, pipeline: Pipeline, sessions: SessionStore, artifacts: ArtifactStore,
                 limits: TurnLimits) -> None:
        self.pipeline = pipeline
        self.sessions = sessions
        self.artifacts = artifacts
        self.limits = limits

    def _check(self, content: str, attachments: list[pb.Artifact]) -> list[pb.Artifact]:
        if not content.strip():
            raise InvalidRequest("content is empty; write what you want done")
        if len(content) > MAX_CONTENT_CHARS:
            raise InvalidRequest(f"content has {len(content)} characters; the limit is {MAX_CONTENT_CHARS}")
        # The store's own description wins over the client's: the URI must name an uploaded artifact.
        return [artifact_to_pb(self.artifacts.describe(a.uri)) for a in attachments]

    async def _history(self, session_id: str) -> list[pb.Message]:
        if not session_id:
            return []
        stored = await self.sessions.messages(check_session_id(session_id))
        keep = stored[-self.limits.history_messages:] if self.limits.history_messages else []
        return [stored_to_pb(m) for m in keep]

    def _turn(self, history: list[pb.Message], content: str, attachments: list[pb.Artifact], mode: int,
              client_seconds_left: float | None) -> Turn:
        budget = self.limits.request_timeout_seconds
        if client_seconds_left is not None:
            budget = min(budget, client_seconds_left)
        current = pb.Message(role=pb.ROLE_USER, content=content, attachments=attachments)
        return Turn([*history, current], mode, asyncio.get_running_loop().time() + budget)

    async def chat(self, request: gateway_pb2.ChatRequest, request_id: str,
                   client_seconds_left: float | None) -> AsyncIterator[gateway_pb2.ChatResponse]:
        """The events of one turn, each stamped with the request and session ids; stores the turn."""
        started = time.perf_counter()
        attachments = self._check(request.content, list(request.attachments))
        history = await self._history(request.session_id)
        session_id = request.session_id or await self.sessions.create()
        turn = self._turn(history, request.content, attachments, request.mode, client_seconds_left)
        outcome = Outcome()
        outcome_label = "error"
        try:
            async for event in self.pipeline.chat(turn, outcome):
                event.request_id, event.session_id = request_id, session_id
                yield event
            summary = outcome.summary(turn.started)
            await self.sessions.append(session_id, [
                StoredMessage("user", request.content, _domain(attachments)),
                StoredMessage("assistant", outcome.answer, _domain(summary.artifacts)),
            ])
            _observe_usage("Chat", summary.usage)
            yield gateway_pb2.ChatResponse(request_id=request_id, session_id=session_id,
                                           at_seconds=time.perf_counter() - started, summary=summary)
            outcome_label = "ok"
        finally:
            metrics.REQUEST_LATENCY.labels("Chat", outcome_label).observe(time.perf_counter() - started)

    async def run_tasks(self, request: gateway_pb2.RunTasksRequest,
                        client_seconds_left: float | None) -> gateway_pb2.RunTasksResponse:
        """Plans, selects and runs; reads the session's history but does not add to it."""
        started = time.perf_counter()
        attachments = self._check(request.content, list(request.attachments))
        history = await self._history(request.session_id)
        turn = self._turn(history, request.content, attachments, request.mode, client_seconds_left)
        outcome = Outcome()
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


def _domain(artifacts: Iterable[pb.Artifact]) -> tuple[Artifact, ...]:
    return tuple(artifact_from_pb(a) for a in artifacts)


def _observe_usage(rpc: str, usage: pb.LlmUsage) -> None:
    metrics.LLM_CALLS_PER_REQUEST.labels(rpc).observe(usage.calls)
    metrics.LLM_TOKENS_PER_REQUEST.labels(rpc).observe(usage.prompt_tokens + usage.completion_tokens)
