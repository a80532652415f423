"""`hugginggpt eval answers` against a real gRPC gateway double: uploads, one session per case, report, JSON last."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from hugginggpt.v1 import common_pb2, executor_pb2, gateway_pb2, gateway_pb2_grpc
from hugginggpt_cli.answereval import main


class ScriptedGateway(gateway_pb2_grpc.GatewayServiceServicer):
    """Stores uploads by name and answers each turn from a script keyed by the request text."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.turns, self.sessions = answers, [], 0

    def UploadArtifact(self, request_iterator, context):  # type: ignore[no-untyped-def]
        first = next(request_iterator)
        size = sum(len(m.chunk) for m in request_iterator)
        return gateway_pb2.UploadArtifactResponse(artifact=common_pb2.Artifact(
            uri=f"artifact://{first.metadata.name}", name=first.metadata.name, size_bytes=size))

    def Chat(self, request, context):  # type: ignore[no-untyped-def]
        if request.content == "crash":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the plan cannot run")
        if not request.session_id:
            self.sessions += 1
        session = request.session_id or f"s{self.sessions}"
        self.turns.append((session, request.content, [a.name for a in request.attachments]))
        answer = self.answers[request.content]
        yield gateway_pb2.ChatResponse(session_id=session, at_seconds=1.0, task=executor_pb2.TaskEvent(task_id=0))
        yield gateway_pb2.ChatResponse(session_id=session, at_seconds=1.2, answer_delta=answer)
        yield gateway_pb2.ChatResponse(session_id=session, at_seconds=1.5,
                                       summary=gateway_pb2.ChatSummary(answer=answer))


@pytest.fixture
def gateway() -> Iterator[tuple[str, ScriptedGateway]]:
    servicer = ScriptedGateway({
        "Read the receipt.": "It says CORNER CAFE.",
        "And the total?": "The total is $10.10.\n\n---\nResults: PAID IN FULL",
        "Make a video.": "Here is your video: cat.mp4",
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(servicer, server)
    checker = health.HealthServicer()
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(grace=None)


def test_cases_run_in_sessions_and_the_json_comes_last(tmp_path: Path, gateway: tuple[str, ScriptedGateway],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "r.png").write_bytes(b"\x89PNG" + b"0" * 100_000)
    cases = [
        {"id": "total", "turns": [{"request": "Read the receipt.", "files": ["media/r.png"]},
                                  {"request": "And the total?"}], "expect": [r"10\.10"], "forbid": ["paid in full"]},
        {"id": "video", "turns": [{"request": "Make a video."}], "expect": ["cannot"], "forbid": [r"\.mp4"]},
        {"id": "error", "turns": [{"request": "crash"}], "expect": ["x"]},
    ]
    (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    address, servicer = gateway
    code = main(["--cases", str(tmp_path / "cases.jsonl"), "--gateway", address, "--out", str(tmp_path / "out.jsonl")])
    out, err = capsys.readouterr()
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert report["cases"] == 3 and report["passed"] == 1 and report["failed"] == ["video", "error"]
    assert report["first_token_after_tasks_s_p50"] == pytest.approx(0.2)
    # both turns of a case in one session, the upload attached to the first; a new case starts a new session
    assert servicer.turns[:3] == [("s1", "Read the receipt.", ["r.png"]), ("s1", "And the total?", []),
                                  ("s2", "Make a video.", [])]
    assert "FAIL video" in err and "expected /cannot/ not found" in err and "Here is your video" in err
    assert "INVALID_ARGUMENT: the plan cannot run" in err
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["total", "video", "error"] and lines[0]["passed"] is True
