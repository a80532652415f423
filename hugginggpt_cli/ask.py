"""`hugginggpt ask`: sends one request through the gateway and prints its events as they arrive."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import grpc

from hugginggpt.convert import task_state_from_pb
from hugginggpt.v1 import common_pb2, executor_pb2, gateway_pb2
from hugginggpt_cli.gateway_client import GatewayClient


def describe_result(result: common_pb2.TaskResult) -> str:
    """A one-line summary of a typed result."""
    parts = []
    if result.text:
        text = " ".join(result.text.split())
        parts.append(repr(text if len(text) <= 160 else text[:157] + "..."))
    if result.labels:
        parts.append(", ".join(f"{lab.label} {lab.score:.2f}" for lab in result.labels[:3]))
    if result.entities:
        parts.append("entities: " + ", ".join(f"{e.text} ({e.label})" for e in result.entities[:8]))
    if result.detections:
        parts.append(f"{len(result.detections)} detections")
    if result.keypoints:
        parts.append(f"{len(result.keypoints)} keypoints")
    if result.HasField("score"):
        parts.append(f"score {result.score:.3f}")
    if result.artifacts:
        parts.append("files: " + ", ".join(a.name for a in result.artifacts))
    return "; ".join(parts) or "(empty result)"


def _argument(arg: common_pb2.Argument) -> str:
    source = arg.WhichOneof("source")
    if source == "task_ref":
        return f"{arg.name}=<GENERATED>-{arg.task_ref}"
    if source == "resource_uri":
        return f"{arg.name}={arg.resource_uri.rsplit('/', 1)[-1]}"
    return f"{arg.name}={arg.literal!r}"


def render(event: gateway_pb2.ChatResponse, answering: list[bool]) -> str:
    """The text to print for one event ("" for none)."""
    kind = event.WhichOneof("event")
    if kind == "planned_task":
        t = event.planned_task
        return f"planned  task {t.id} {t.type} dep {list(t.dependencies)} {' '.join(map(_argument, t.arguments))}\n"
    if kind == "plan":
        plan = event.plan.plan
        if not plan.tasks:
            return "plan: no model needed\n"
        return f"plan: {len(plan.tasks)} tasks ({event.plan.repair_rounds} repair rounds)\n"
    if kind == "selections":
        return "".join(f"model    task {s.task_id} -> {s.chosen.model_id} ({s.reason})\n"
                       for s in event.selections.selections)
    if kind == "task":
        ev = event.task
        line = f"task {ev.task_id} {ev.task_type} {task_state_from_pb(ev.state) or '?'} on {ev.model_id or '-'}"
        if ev.state == executor_pb2.TASK_STATE_SUCCEEDED:
            line += f" in {ev.duration_seconds:.2f} s: {describe_result(ev.result)}"
        elif ev.state in (executor_pb2.TASK_STATE_FAILED, executor_pb2.TASK_STATE_SKIPPED):
            line += f": {ev.reason}"
        return line + "\n"
    if kind == "answer_delta":
        head = "" if answering[0] else "answer: "
        answering[0] = True
        return head + event.answer_delta
    if kind == "summary":
        s = event.summary
        return (("\n" if answering[0] else f"answer: {s.answer}\n")
                + f"done in {s.total_seconds:.1f} s: {s.tasks_succeeded} succeeded, {s.tasks_failed} failed, "
                f"{s.tasks_skipped} skipped; {s.usage.calls} LLM calls, "
                f"{s.usage.prompt_tokens + s.usage.completion_tokens} tokens\n")
    return ""


@dataclass(frozen=True)
class Connection:
    """How to reach the gateway: its address, bearer token ("" for none), TLS and the CA to trust."""

    address: str
    token: str = ""
    tls: bool = False
    ca: bytes | None = None

    def client(self) -> GatewayClient:
        return GatewayClient(self.address, token=self.token, tls=self.tls, root_certificates=self.ca)


async def ask(connection: Connection, request: str, files: list[Path], session: str, out: Path,
              timeout: float) -> int:
    """Runs one turn; returns the process exit status."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    answering = [False]
    try:
        async with connection.client() as client:
            summary = None
            async for event in client.chat(request, files=files, session_id=session, timeout=timeout):
                if event.WhichOneof("event") == "summary":
                    summary = event.summary
                    print(f"\nrequest {event.request_id}, session {event.session_id}")
                sys.stdout.write(render(event, answering))
                sys.stdout.flush()
            if summary is not None:
                for path in await client.download_all(summary, out):
                    print(f"saved {path}")
    except grpc.aio.AioRpcError as exc:
        hint = " (pass --token, or set HUGGINGGPT_GATEWAY_AUTH_TOKEN)" if (
            exc.code() == grpc.StatusCode.UNAUTHENTICATED) else ""
        print(f"\nerror: {exc.code().name}: {exc.details()}{hint}", file=sys.stderr)
        return 1
    return 0
