"""Unit tests of the executor's input validation: bad plans are refused before anything runs or is opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.domain import Argument, Candidate, Choice, Task
from hugginggpt.errors import InvalidRequest, ResourceExhausted
from hugginggpt.tasktypes import load_task_types
from services.executor.engine import Executor
from services.executor.runtypes import InferenceCall, InferenceReply, RunOptions, ScheduledItem
from services.executor.validation import StreamValidator, normalise, pair, store_lookup


class NeverCalled:
    async def infer(self, call: InferenceCall, timeout: float) -> InferenceReply:
        raise AssertionError("nothing may run for an invalid plan")


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path, 1024)


def sched(task: Task, model: str = "m") -> ScheduledItem:
    return ScheduledItem(normalise(task), Choice(task.id, Candidate(model, True), "test"))


async def refused(store: ArtifactStore, *tasks: Task) -> str:
    executor = Executor(NeverCalled(), load_task_types(), store_lookup(store))
    with pytest.raises(InvalidRequest) as info:
        [e async for e in executor.execute([sched(t) for t in tasks], RunOptions())]
    return info.value.message


def classify(task_id: int, image: Argument, deps: tuple[int, ...] = ()) -> Task:
    return Task(task_id, "image-classification", deps, (image,))


async def test_unknown_task_type(store: ArtifactStore) -> None:
    message = await refused(store, Task(1, "mind-reading", (), (Argument("text", literal="x"),)))
    assert "unknown task type 'mind-reading'" in message


async def test_reference_to_a_task_that_does_not_exist(store: ArtifactStore) -> None:
    message = await refused(store, Task(1, "summarization", (), (Argument("text", literal="<GENERATED>-7"),)))
    assert "task 1: depends on task 7, which is not in the plan" in message


async def test_cycle(store: ArtifactStore) -> None:
    message = await refused(
        store,
        Task(1, "summarization", (2,), (Argument("text", task_ref=2),)),
        Task(2, "summarization", (1,), (Argument("text", task_ref=1),)),
    )
    assert "cycle" in message


@pytest.mark.parametrize("value", ["/etc/passwd", "../secrets", "http://example.com/x.png", "~/.ssh/id_rsa"])
async def test_outside_paths_and_urls_as_resources_are_refused(store: ArtifactStore, value: str) -> None:
    message = await refused(store, classify(1, Argument("image", resource_uri=value)))
    assert f"file {value} is not among this request's files" in message


@pytest.mark.parametrize("value", ["/etc/passwd", "../secrets", "http://example.com/x.png"])
async def test_outside_paths_and_urls_as_literals_are_refused(store: ArtifactStore, value: str) -> None:
    message = await refused(store, classify(1, Argument("image", literal=value)))
    assert f"image argument {value!r} is not a file of this request" in message


async def test_url_in_a_text_slot_is_refused(store: ArtifactStore) -> None:
    message = await refused(store, Task(1, "summarization", (), (Argument("text", literal="https://x.org/a"),)))
    assert "is a URL; URLs are not fetched" in message


async def test_artifact_uri_that_does_not_exist_is_refused(store: ArtifactStore) -> None:
    uri = "artifact://" + "z" * 24 + "/ghost.png"
    assert uri in await refused(store, classify(1, Argument("image", resource_uri=uri)))


async def test_wrong_kind_from_a_producer_is_refused(store: ArtifactStore) -> None:
    message = await refused(
        store,
        Task(1, "summarization", (), (Argument("text", literal="x"),)),
        classify(2, Argument("image", task_ref=1), (1,)),
    )
    assert "refers to task 1 (summarization), which produces ['text']" in message


async def test_every_problem_is_reported_at_once(store: ArtifactStore) -> None:
    message = await refused(
        store, Task(1, "mind-reading", (), ()), classify(2, Argument("image", literal="/etc/passwd")))
    assert "mind-reading" in message and "/etc/passwd" in message


async def test_empty_plan_is_refused(store: ArtifactStore) -> None:
    assert "no tasks" in await refused(store)


def test_a_real_artifact_is_accepted(store: ArtifactStore) -> None:
    uri = store.put_bytes("cat.png", b"\x89PNG").uri
    validator = StreamValidator(load_task_types(), store_lookup(store))
    validator.admit(sched(classify(1, Argument("image", literal=uri))))


def test_missing_selection_is_refused() -> None:
    tasks = [Task(1, "summarization", (), (Argument("text", literal="x"),)), Task(2, "summarization")]
    with pytest.raises(InvalidRequest, match=r"no model selection for task\(s\) \[2\]"):
        pair(tasks, [Choice(1, Candidate("m", True), "")], {})


def test_selection_without_a_model_is_admitted_so_it_can_fail_on_its_own(store: ArtifactStore) -> None:
    validator = StreamValidator(load_task_types(), store_lookup(store))
    validator.admit(sched(Task(1, "summarization", (), (Argument("text", literal="x"),)), model=" "))


def test_streamed_duplicate_id_and_unknown_type_are_refused(store: ArtifactStore) -> None:
    validator = StreamValidator(load_task_types(), store_lookup(store))
    validator.admit(sched(Task(1, "summarization", (), (Argument("text", literal="x"),))))
    with pytest.raises(InvalidRequest, match="sent twice"):
        validator.admit(sched(Task(1, "summarization", (), (Argument("text", literal="y"),))))
    with pytest.raises(InvalidRequest, match="unknown task type"):
        validator.admit(sched(Task(2, "nope", (), (Argument("text", literal="y"),))))


def test_streamed_task_may_depend_on_one_not_yet_arrived(store: ArtifactStore) -> None:
    validator = StreamValidator(load_task_types(), store_lookup(store))
    validator.admit(sched(Task(2, "summarization", (), (Argument("text", literal="<GENERATED>-5"),))))
    with pytest.raises(InvalidRequest, match="cycle"):
        validator.admit(sched(Task(5, "summarization", (2,), (Argument("text", task_ref=2),))))


async def test_a_plan_of_2000_tasks_is_refused_before_anything_runs(store: ArtifactStore) -> None:
    tasks = [Task(i, "summarization", (), (Argument("text", literal="x"),)) for i in range(2000)]
    executor = Executor(NeverCalled(), load_task_types(), store_lookup(store), max_tasks=64)
    with pytest.raises(ResourceExhausted, match="2000 tasks; the limit is 64"):
        [e async for e in executor.execute([sched(t) for t in tasks], RunOptions())]


def test_a_streamed_plan_is_refused_at_the_task_over_the_limit(store: ArtifactStore) -> None:
    validator = StreamValidator(load_task_types(), store_lookup(store), max_tasks=2)
    for i in range(2):
        validator.admit(sched(Task(i, "summarization", (), (Argument("text", literal="x"),))))
    with pytest.raises(ResourceExhausted, match="HUGGINGGPT_MAX_PLAN_TASKS"):
        validator.admit(sched(Task(2, "summarization", (), (Argument("text", literal="x"),))))
