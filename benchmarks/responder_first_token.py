"""Time to the first answer token after the last task ends (the findings), to the first checked sentence of
the LLM's reply, and to the last: Respond over gRPC on the embedded LLM."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import grpc

from hugginggpt.llm import LlmClient, LlmSettings
from hugginggpt.server import ServerSpec, build_server
from hugginggpt.v1 import common_pb2, executor_pb2, responder_pb2, responder_pb2_grpc
from services.responder.responding import Responder, ResponderPolicy
from services.responder.servicer import ResponderServicer

REQUESTS = [
    ("What objects are in my photo example.jpg?", "object-detection", "facebook/detr-resnet-50"),
    ("Transcribe my voice memo example.wav", "automatic-speech-recognition", "openai/whisper-tiny.en"),
    ("Was steht auf der Rechnung example.png?", "image-to-text", "tesseract/eng"),
    ("Find the people and places in: Ada Lovelace lived in London.", "token-classification",
     "spacy/en_core_web_md"),
    ("Classify the image example.jpg", "image-classification", "google/efficientnet-lite0"),
]


def request(text: str, task: str, model: str) -> responder_pb2.RespondRequest:
    """A finished one-task run as the executor would report it (the answer is measured, not the task)."""
    result = common_pb2.TaskResult(
        text="Ada Lovelace (PERSON), London (GPE)" if task == "token-classification" else "",
        labels=[common_pb2.Label(label="tabby cat", score=0.81)],
        artifacts=[common_pb2.Artifact(uri="artifact://bench/out.png", name="out.png",
                                       kind=common_pb2.VALUE_KIND_IMAGE)])
    return responder_pb2.RespondRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)],
        plan=common_pb2.Plan(tasks=[common_pb2.Task(id=1, type=task)]),
        results=[executor_pb2.TaskEvent(task_id=1, task_type=task, model_id=model, result=result,
                                        state=executor_pb2.TASK_STATE_SUCCEEDED)])


async def run(rounds: int, max_tokens: int) -> dict[str, float]:
    llm = LlmClient(LlmSettings.from_env("responder"))
    servicer = ResponderServicer(Responder(llm, ResponderPolicy(max_answer_tokens=max_tokens)))
    spec = ServerSpec("127.0.0.1:0", ["hugginggpt.v1.ResponderService"],
                      lambda s: responder_pb2_grpc.add_ResponderServiceServicer_to_server(servicer, s))
    server, _, port = build_server(spec)
    await server.start()
    firsts, replies, totals = [], [], []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = responder_pb2_grpc.ResponderServiceStub(channel)
        for i in range(rounds):
            started = time.perf_counter()  # the moment the last task ended and Respond is called
            stamps: list[float] = []
            async for message in stub.Respond(request(*REQUESTS[i % len(REQUESTS)]), timeout=300):
                if message.delta:
                    stamps.append(time.perf_counter() - started)
            firsts.append(stamps[0] if stamps else float("nan"))
            # deltas: the findings, then each checked sentence of the reply, then the footnote
            if len(stamps) > 2:
                replies.append(stamps[1])
            totals.append(time.perf_counter() - started)
    await server.stop(None)
    await llm.close()
    return {"rounds": rounds, "first_token_median_s": round(statistics.median(firsts), 3),
            "first_token_max_s": round(max(firsts), 3),
            "first_reply_sentence_median_s": round(statistics.median(replies), 3) if replies else None,
            "answers_with_a_reply": len(replies),
            "answer_median_s": round(statistics.median(totals), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rounds, args.max_tokens))))


if __name__ == "__main__":
    main()
