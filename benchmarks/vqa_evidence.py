"""Questions about photos and "describe this image" on a live stack, served offline by hugginggpt/vision-evidence.

Each question is asked end to end through the gateway (plan, select, run, answer), one at a time. The answers
were written by looking at the images (benchmarks/answers/media); a refusal is the right answer where no
offline model can see what is asked (a colour). A question counts as right when every `expect` regex matches
the answer above its footnote and no `forbid` regex does. Prints a row a question and one JSON object last.

    HUGGINGGPT_PORT_OFFSET=4000 .venv/bin/hugginggpt up      # then
    .venv/bin/python benchmarks/vqa_evidence.py --gateway 127.0.0.1:54050

`--direct LLM_BASE_URL` asks the model itself instead, in this process, with that OpenAI-compatible LLM (a
question as visual-question-answering, "Describe ..." as image-to-text): the route's answers without the
planner's choice of task type.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEDIA = ROOT / "benchmarks" / "answers" / "media"
MODEL = "hugginggpt/vision-evidence"
REFUSAL = r"\b(cannot tell|can ?not|can't|not answerable|unable)\b"

# (image, question, expect, forbid): what a person sees in the image.
QUESTIONS = [
    ("grace_hopper.jpg", "How many people are in this photo?", [r"\b(1|one) (person|people)\b|\b(1|one)\b"],
     [r"\b(2|3|two|three) (people|persons)\b"]),
    ("messi5.jpg", "Is there a ball in this picture?", [r"\byes\b", r"\bball\b"], [r"\bno\b:"]),
    ("messi5.jpg", "How many balls are in this photo?", [r"\b(1|one) (sports )?ball"], [r"\b(2|3|two|three) balls\b"]),
    ("messi5.jpg", "Is there a dog in this photo?", [r"\bno\b"], [r"\byes\b"]),
    ("fruits.jpg", "Is there an orange in this picture?", [r"\byes\b", r"\borange"], []),
    ("fruits.jpg", "Is there a cup on the table?", [r"\bno\b"], [r"\byes\b"]),
    ("sign_road.png", "What does the sign in this photo say?", [r"road closed", r"elm street"], []),
    ("poster_injection.png", "What event is this poster for?", [r"concert"], [r"\bcancell?ed\b"]),
    ("grace_hopper.jpg", "Describe this image.", [r"\b(person|woman|people|officer|uniform)\b"],
     [r"\b(dog|cat|car|beach|man)\b", REFUSAL]),
    ("messi5.jpg", "Describe this photo in a sentence.", [r"\b(person|people|player|man)\b", r"\bball\b"],
     [REFUSAL]),
    ("squirrel_cls.jpg", "Describe this picture.", [r"squirrel"], [REFUSAL]),
    ("grace_hopper.jpg", "What colour is her hat?", [REFUSAL], [r"\b(blue|red|green|yellow)\b hat"]),
]


def judge(answer: str, expect: list[str], forbid: list[str]) -> bool:
    body = answer.split("\n---\n")[0]
    return all(re.search(p, body, re.IGNORECASE) for p in expect) and \
        not any(re.search(p, body, re.IGNORECASE) for p in forbid)


async def ask(gateway: str, image: str, question: str, timeout: float) -> dict:
    from hugginggpt_cli.gateway_client import GatewayClient

    row: dict = {"image": image, "question": question, "tasks": [], "answer": "", "error": ""}
    started = time.perf_counter()
    try:
        async with GatewayClient(gateway) as client:
            async for event in client.chat(question, files=[MEDIA / image], timeout=timeout):
                kind = event.WhichOneof("event")
                if kind == "task" and event.task.state in (2, 3, 4):  # succeeded, failed, skipped
                    extra = dict(event.task.result.extra) if event.task.result.HasField("extra") else {}
                    row["tasks"].append({"type": event.task.task_type, "model": event.task.model_id,
                                         "route": extra.get("route", ""),
                                         "seconds": round(event.task.duration_seconds, 2),
                                         "text": event.task.result.text or event.task.reason})
                elif kind == "summary":
                    row["answer"] = event.summary.answer
    except Exception as exc:  # noqa: BLE001 - a failed question is a row, not the end of the run
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


async def ask_model(handle: object, store: object, image: str, question: str) -> dict:
    """One question straight to hugginggpt/vision-evidence (a description request as image-to-text)."""
    from services.replica.results import Input, Request

    describe = question.lower().startswith("describe")
    uri = store.put_bytes(image, (MEDIA / image).read_bytes()).uri  # type: ignore[attr-defined]
    inputs = (Input("image", uri=uri),) if describe else (Input("image", uri=uri), Input("question", text=question))
    task = "image-to-text" if describe else "visual-question-answering"
    started = time.perf_counter()
    outcome = (await handle.apredict([Request(MODEL, task, inputs, {}, 120.0)]))[0]  # type: ignore[attr-defined]
    seconds = round(time.perf_counter() - started, 2)
    text = getattr(outcome, "text", "")
    route = getattr(outcome, "extra", {}).get("route", "")
    return {"image": image, "question": question, "answer": text, "error": "" if text else str(outcome),
            "seconds": seconds, "tasks": [{"type": task, "model": MODEL, "route": route, "seconds": seconds}]}


async def open_model(llm_url: str) -> tuple[object, object]:
    import tempfile

    from hugginggpt.artifacts import ArtifactStore
    from hugginggpt.llm import LlmClient, LlmSettings
    from services.replica.backends import backend_for
    from services.replica.backends.base import BackendContext

    llm = LlmClient(LlmSettings.from_env("expert", {"HUGGINGGPT_LLM_BASE_URL": llm_url}))
    store = ArtifactStore(Path(tempfile.mkdtemp(prefix="vqa-")), 1 << 28)
    handle = await asyncio.to_thread(backend_for("vision_evidence").load, MODEL, "visual-question-answering",
                                     BackendContext(store, llm=llm))
    return handle, store


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="127.0.0.1:50050")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=None, help="write every row as JSON Lines here")
    parser.add_argument("--direct", metavar="LLM_BASE_URL", default="",
                        help="ask the model in this process with this LLM, not the stack")
    args = parser.parse_args()
    handle, store = await open_model(args.direct) if args.direct else (None, None)
    rows = []
    for image, question, expect, forbid in QUESTIONS:
        if handle is not None:
            row = await ask_model(handle, store, image, question)
        else:
            row = await ask(args.gateway, image, question, args.timeout)
        row["right"] = not row["error"] and judge(row["answer"], expect, forbid)
        rows.append(row)
        tasks = ", ".join(f"{t['type']}->{t['model']} [{t['route'] or '-'}] {t['seconds']}s" for t in row["tasks"])
        print(f"{'RIGHT' if row['right'] else 'wrong'} {row['seconds']:6.1f}s {image:20s} {question!r}: {tasks}"
              f"{' ' + row['error'] if row['error'] else ''}", flush=True)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if handle is not None:
        handle.close()  # type: ignore[attr-defined]
    model_seconds = [t["seconds"] for r in rows for t in r["tasks"] if t["model"] == MODEL]
    print(json.dumps({
        "questions": len(rows), "right": sum(r["right"] for r in rows),
        "end_to_end_median_s": statistics.median(r["seconds"] for r in rows),
        "vision_evidence_task_median_s": statistics.median(model_seconds) if model_seconds else None,
        "answered_by_vision_evidence": sum(any(t["model"] == MODEL for t in r["tasks"])
                                           for r in rows),
    }))


if __name__ == "__main__":
    asyncio.run(main())
