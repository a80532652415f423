"""`hugginggpt eval answers`: runs multi-turn answer cases through the gateway and checks the final answers."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hugginggpt_cli.answercases import Case, CaseError, answer_body, check, load_cases, select
from hugginggpt_cli.gateway_client import GatewayClient
from hugginggpt_cli.launcher import Stack, StackSettings

GATEWAY_BASE_PORT = 50050


@dataclass
class CaseResult:
    """What one case produced: every turn's answer, timings, and what the final answer got wrong."""

    id: str
    answer: str = ""
    turn_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    error: str = ""
    turn_answers: list[str] = field(default_factory=list)
    # Gateway clock, from the last task event to the first / last piece of the answer (turns with tasks only).
    first_token_after_tasks: list[float] = field(default_factory=list)
    last_token_after_tasks: list[float] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.error


@dataclass
class _Turn:
    """What one turn's events said."""

    session: str = ""
    answer: str = ""
    last_task_at: float | None = None
    first_delta_at: float | None = None
    end_at: float = 0.0


async def _one_turn(client: GatewayClient, request: str, files: Sequence[Path], session: str,
                    timeout: float) -> _Turn:
    turn = _Turn(session=session)
    async for event in client.chat(request, files=files, session_id=session, timeout=timeout):
        turn.session = turn.session or event.session_id
        kind = event.WhichOneof("event")
        if kind == "task":
            turn.last_task_at = event.at_seconds
        elif kind == "answer_delta" and turn.first_delta_at is None:
            turn.first_delta_at = event.at_seconds
        elif kind == "summary":
            turn.answer, turn.end_at = event.summary.answer, event.at_seconds
    return turn


async def run_turns(client: GatewayClient, case: Case, timeout: float) -> CaseResult:
    """Sends the case's turns in one session; an RPC error ends the case (a user would see no answer)."""
    result = CaseResult(case.id)
    session = ""
    for index, request in enumerate(case.turns, start=1):
        started = time.monotonic()
        try:
            turn = await _one_turn(client, request.request, request.files, session, timeout)
        except grpc.aio.AioRpcError as exc:
            result.error = f"turn {index}: {exc.code().name}: {exc.details()}"
            return result
        session = turn.session
        result.turn_seconds.append(time.monotonic() - started)
        result.turn_answers.append(turn.answer)
        result.answer = turn.answer
        if turn.last_task_at is not None and turn.first_delta_at is not None:
            result.first_token_after_tasks.append(turn.first_delta_at - turn.last_task_at)
            result.last_token_after_tasks.append(turn.end_at - turn.last_task_at)
    result.failures = check(case, result.answer)
    return result


def describe_failure(result: CaseResult) -> str:
    """Lines for stderr: the case, what failed, and the start of its answer."""
    head = answer_body(result.answer).strip()
    reasons = [result.error] if result.error else result.failures
    lines = [f"FAIL {result.id}"] + [f"  - {r}" for r in reasons]
    lines.append(f"  answer: {head[:300]!r}")
    return "\n".join(lines)


def summarise(results: Sequence[CaseResult], seconds: float) -> dict[str, Any]:
    """The final JSON object: pass rate, failed ids and latency figures."""
    passed = sum(r.passed for r in results)
    turns = [s for r in results for s in r.turn_seconds]
    report: dict[str, Any] = {
        "cases": len(results),
        "passed": passed,
        "pass_rate": round(passed / len(results), 4) if results else 0.0,
        "failed": [r.id for r in results if not r.passed],
        "errors": [r.id for r in results if r.error],
        "seconds": round(seconds, 1),
        "turns": len(turns),
    }
    figures = {"turn_seconds": turns,
               "first_token_after_tasks_s": [s for r in results for s in r.first_token_after_tasks],
               "last_token_after_tasks_s": [s for r in results for s in r.last_token_after_tasks]}
    for name, values in figures.items():
        if values:
            report[f"{name}_p50"] = round(statistics.median(values), 2)
            report[f"{name}_p90"] = round(_p90(values), 2)
    return report


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


class Progress:
    """A progress bar on stderr: tqdm when installed, else a plain counter line."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self._total, self._done, self._passed, self._stream = total, 0, 0, stream or sys.stderr
        self._bar: Any = None
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, file=self._stream, unit="case", dynamic_ncols=True)

    def update(self, result: CaseResult) -> None:
        self._done += 1
        self._passed += result.passed
        if self._bar is not None:
            self._bar.set_postfix(passed=self._passed)
            self._bar.update(1)
        else:
            print(f"[{self._done}/{self._total}] passed {self._passed} (last: {result.id})",
                  file=self._stream, flush=True)

    def write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self._stream)
        else:
            print(text, file=self._stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


async def evaluate(address: str, cases: Sequence[Case], timeout: float,
                   on_result: Callable[[CaseResult], None]) -> list[CaseResult]:
    """Runs the cases one after the other (the local stack is CPU-bound) and reports each as it ends.

    Each case gets its own channel, as each `hugginggpt ask` does: one channel held for an hour-long run
    would outlive the gateway's maximum connection age and lose the request in flight when it is closed.
    """
    results = []
    for case in cases:
        async with GatewayClient(address) as client:
            result = await run_turns(client, case, timeout)
        on_result(result)
        results.append(result)
    return results


def gateway_answers(address: str, timeout: float = 3.0) -> bool:
    """Whether a gateway at the address reports SERVING."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


@contextmanager
def local_stack(address: str, settings: StackSettings) -> Iterator[None]:
    """Starts the local stack when no gateway answers at its address; stops only the processes it started."""
    if gateway_answers(address):
        yield
        return
    if address != f"127.0.0.1:{settings.port(GATEWAY_BASE_PORT)}":
        raise CaseError(f"no gateway answers at {address}, and it is not the local stack's address")
    stack = Stack(settings)
    before = set(stack.running())
    print(f"no gateway at {address}: starting the local stack (logs in {settings.run_dir})", file=sys.stderr)
    try:
        stack.up()
        yield
    finally:
        started = [n for n in stack.running() if n not in before]
        stack.down(only=started)
        print(f"stopped what this run started: {', '.join(started) or 'nothing'}", file=sys.stderr)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hugginggpt eval answers", description=__doc__)
    parser.add_argument("--cases", required=True, type=Path, help="JSON lines: id, turns, expect, forbid")
    parser.add_argument("--media", type=Path, default=None, help="folder the files are named relative to "
                        "(default: the cases file's folder)")
    parser.add_argument("--out", type=Path, default=None, help="write one JSON line per case here")
    parser.add_argument("--gateway", default="", help="gateway address (default: the local stack's)")
    parser.add_argument("--only", default="", help="comma-separated case ids to run")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a turn may take")
    return parser.parse_args(list(argv))


def report_line(result: CaseResult) -> str:
    """One case as a JSON line of the --out report."""
    return json.dumps({**asdict(result), "passed": result.passed}, ensure_ascii=False) + "\n"


def run_cases(address: str, settings: StackSettings, cases: Sequence[Case], timeout: float,
              out: TextIO | None = None) -> list[CaseResult]:
    """Runs the cases against the gateway (starting a local stack when needed) with a progress bar; each
    case's line goes to `out` as soon as it ends, so an interrupted run keeps what it measured."""
    with local_stack(address, settings):
        progress = Progress(len(cases))

        def on_result(result: CaseResult) -> None:
            if not result.passed:
                progress.write(describe_failure(result))
            progress.update(result)
            if out is not None:
                out.write(report_line(result))
                out.flush()

        try:
            return asyncio.run(evaluate(address, cases, timeout, on_result))
        finally:
            progress.close()


def main(argv: Sequence[str]) -> int:
    """Entry point; prints per-case failures on stderr and one JSON object last on stdout."""
    args = parse_args(argv)
    settings = StackSettings.from_env()
    address = args.gateway or f"127.0.0.1:{settings.port(GATEWAY_BASE_PORT)}"
    started = time.monotonic()
    with ExitStack() as closing:
        try:
            cases = select(load_cases(args.cases, args.media), args.only)
            out = closing.enter_context(_open_report(args.out)) if args.out is not None else None
            results = run_cases(address, settings, cases, args.timeout, out)
        except CaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except (RuntimeError, TimeoutError) as exc:
            print(f"error: the local stack did not start: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted" + (f"; the cases that ended are in {args.out}" if args.out else ""), file=sys.stderr)
            return 130
    print(json.dumps({**summarise(results, time.monotonic() - started), "gateway": address}))
    return 0


def _open_report(path: Path) -> TextIO:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CaseError(f"cannot write the report {path}: {exc}") from exc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
