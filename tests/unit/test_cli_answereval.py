"""The answer evaluation: case parsing, the footnote split, regex checks, bad input, turns in one session."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hugginggpt.v1 import executor_pb2, gateway_pb2
from hugginggpt_cli.answercases import CaseError, answer_body, check, load_cases, parse_cases, select
from hugginggpt_cli.answereval import (
    CaseResult,
    Progress,
    describe_failure,
    local_stack,
    main,
    report_line,
    run_turns,
    summarise,
)
from hugginggpt_cli.launcher import Stack, StackSettings

ANSWER = "The total is $42.50.\n\n---\nResults:\n- task 0 (image-to-text): 'PAID IN FULL'\nModels used: x"


def _line(**overrides: Any) -> str:
    case = {"id": "c1", "turns": [{"request": "What is the total?", "files": ["r.png"]}],
            "expect": [r"42\.50"], "forbid": ["paid in full"]}
    case.update(overrides)
    return json.dumps(case)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "r.png").write_bytes(b"png")
    return tmp_path


def test_parses_cases_with_files_relative_to_media(media: Path) -> None:
    text = "# a comment\n\n" + _line() + "\n" + _line(id="c2", turns=[{"request": "hi"}], forbid=[])
    cases = parse_cases(text, "cases.jsonl", media)
    assert [c.id for c in cases] == ["c1", "c2"]
    assert cases[0].turns[0].files == (media / "r.png",)
    assert cases[0].line == 3 and cases[1].turns[0].files == ()


def test_load_cases_defaults_media_to_the_cases_folder(media: Path) -> None:
    (media / "cases.jsonl").write_text(_line() + "\n")
    assert load_cases(media / "cases.jsonl")[0].turns[0].files == (media / "r.png",)


def test_footnote_is_split_off_at_the_first_separator() -> None:
    assert answer_body(ANSWER) == "The total is $42.50."
    assert answer_body("no footnote here") == "no footnote here"
    assert answer_body("a\n\n---\nb\n\n---\nc") == "a"


def test_regexes_apply_to_the_answer_only_and_ignore_case(media: Path) -> None:
    case = parse_cases(_line(expect=[r"TOTAL IS \$42\.50"]), "f", media)[0]
    assert check(case, ANSWER) == []  # "PAID IN FULL" is only in the footnote
    failures = check(case, "Paid in full.\n\n---\n$42.50")
    assert failures == [r"expected /TOTAL IS \$42\.50/ not found", "forbidden /paid in full/ matched 'Paid in full'"]


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "line 1: not valid JSON"),
    ("[1, 2]", "line 1: a case must be a JSON object"),
    (_line(id=""), '"id" must be a non-empty string'),
    (_line(turns=[]), '"turns" must be a non-empty list'),
    (_line(turns=[{"request": ""}]), 'turn 1: "request" must be a non-empty string'),
    (_line(turns=[{"request": "x", "files": ["gone.wav"]}]), "turn 1: no such file"),
    (_line(expect=["(unclosed"]), "regex /(unclosed/ is invalid"),
    (_line(forbid="x"), '"forbid" must be a list'),
    (_line(extra=1), "unknown key(s) ['extra']"),
])
def test_bad_lines_name_the_line_and_the_problem(media: Path, line: str, message: str) -> None:
    with pytest.raises(CaseError) as raised:
        parse_cases(line, "cases.jsonl", media)
    assert message in str(raised.value) and "cases.jsonl line 1" in str(raised.value)


def test_every_bad_line_is_reported_and_duplicate_ids_too(media: Path) -> None:
    with pytest.raises(CaseError) as raised:
        parse_cases("\n".join([_line(), "{", _line()]), "f", media)
    assert "f line 2: not valid JSON" in str(raised.value)
    assert "f line 3: id 'c1' already used on line 1" in str(raised.value)


def test_empty_file_and_unknown_only_ids_are_errors(media: Path) -> None:
    with pytest.raises(CaseError, match="holds no cases"):
        parse_cases("\n# nothing\n", "f", media)
    cases = parse_cases(_line() + "\n" + _line(id="c2"), "f", media)
    assert [c.id for c in select(cases, " c2 ")] == ["c2"]
    assert [c.id for c in select(cases, "c2,c1,c2")] == ["c2", "c1"]  # the order given, each once
    with pytest.raises(CaseError, match="no case with id c9"):
        select(cases, "c1,c9")


def test_main_reports_bad_input_without_a_traceback(media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (media / "cases.jsonl").write_text(_line(expect=["[bad"]) + "\n")
    assert main(["--cases", str(media / "cases.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "cases.jsonl line 1" in err and "is invalid" in err and "Traceback" not in err
    assert main(["--cases", str(media / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    (media / "cases.jsonl").write_text(_line() + "\n")
    assert main(["--cases", str(media / "cases.jsonl"), "--out", str(media / "r.png" / "report.jsonl")]) == 2
    assert "cannot write the report" in capsys.readouterr().err


class FakeClient:
    """Answers each turn with a summary; remembers the session ids it was sent."""

    def __init__(self, answers: list[str]) -> None:
        self.answers, self.sessions = answers, []

    async def chat(self, content: str, *, files: Any = (), session_id: str = "",
                   timeout: float | None = None) -> AsyncIterator[gateway_pb2.ChatResponse]:
        self.sessions.append(session_id)
        if files:
            yield gateway_pb2.ChatResponse(session_id="s-1", at_seconds=2.0, task=executor_pb2.TaskEvent(task_id=0))
        yield gateway_pb2.ChatResponse(session_id="s-1", at_seconds=2.5, answer_delta="x")
        yield gateway_pb2.ChatResponse(session_id="s-1", at_seconds=4.0, summary=gateway_pb2.ChatSummary(
            answer=self.answers[len(self.sessions) - 1]))


def test_turns_share_one_session_and_only_the_last_answer_counts(media: Path) -> None:
    turns = [{"request": "Read it", "files": ["r.png"]}, {"request": "And the total?"}]
    case = parse_cases(_line(turns=turns), "f", media)[0]
    client = FakeClient(["PAID IN FULL", ANSWER])
    result = asyncio.run(run_turns(client, case, 10.0))  # type: ignore[arg-type]
    assert client.sessions == ["", "s-1"]
    assert result.passed and len(result.turn_seconds) == 2 and result.turn_answers == ["PAID IN FULL", ANSWER]
    # only the turn that ran a task has answer timings, on the gateway's clock
    assert result.first_token_after_tasks == [0.5] and result.last_token_after_tasks == [2.0]


def test_report_line_holds_the_verdict_and_every_turn() -> None:
    line = json.loads(report_line(CaseResult("a", "fin", [1.0], ["expected /x/ not found"], turn_answers=["é", "fin"])))
    assert line["passed"] is False and line["turn_answers"] == ["é", "fin"] and line["failures"]


def test_summary_and_failure_description() -> None:
    results = [CaseResult("a", "ok", [1.0, 3.0], first_token_after_tasks=[0.4], last_token_after_tasks=[1.5]),
               CaseResult("b", "x" * 400, [2.0], ["expected /y/ not found"]),
               CaseResult("c", error="turn 1: INVALID_ARGUMENT: no plan")]
    report = summarise(results, 12.34)
    assert report["cases"] == 3 and report["passed"] == 1 and report["pass_rate"] == 0.3333
    assert report["failed"] == ["b", "c"] and report["errors"] == ["c"] and report["turn_seconds_p50"] == 2.0
    assert report["turn_seconds_p90"] == 3.0 and report["first_token_after_tasks_s_p50"] == 0.4
    assert summarise([], 0.0)["pass_rate"] == 0.0
    text = describe_failure(results[1])
    assert "FAIL b" in text and "expected /y/ not found" in text and "x" * 300 + "'" in text
    assert "INVALID_ARGUMENT" in describe_failure(results[2])


def test_a_silent_remote_gateway_is_an_error_not_a_start(tmp_path: Path) -> None:
    settings = StackSettings.from_env({"HUGGINGGPT_RUN_DIR": str(tmp_path), "HUGGINGGPT_PORT_OFFSET": "7300"})
    with pytest.raises(CaseError, match="no gateway answers at 127.0.0.1:1"), local_stack("127.0.0.1:1", settings):
        pass


def test_down_only_stops_the_named_processes(tmp_path: Path) -> None:
    stack = Stack(StackSettings.from_env({"HUGGINGGPT_RUN_DIR": str(tmp_path)}))
    procs = {n: subprocess.Popen(["sleep", "30"], start_new_session=True) for n in ("llm", "gateway")}
    tmp_path.mkdir(exist_ok=True)
    stack.state_file.write_text(json.dumps({n: {"pid": p.pid, "port": 1} for n, p in procs.items()}))
    try:
        assert stack.down(grace=5, only=["gateway"]) == ["gateway"]
        assert procs["gateway"].wait(timeout=5) is not None
        assert list(stack.running()) == ["llm"]
    finally:
        stack.down(grace=1)
    assert procs["llm"].wait(timeout=5) is not None and not stack.state_file.exists()


def test_progress_without_tqdm_prints_a_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import fails as if tqdm were not installed
    stream = io.StringIO()
    progress = Progress(2, stream)
    progress.update(CaseResult("a", "ok"))
    progress.update(CaseResult("b", error="turn 1: UNAVAILABLE: down"))
    assert stream.getvalue().splitlines() == ["[1/2] passed 1 (last: a)", "[2/2] passed 1 (last: b)"]
