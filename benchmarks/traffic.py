"""Simulated users for the load and fault benchmarks: real requests through the gateway, every ending counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from hugginggpt.v1 import common_pb2
from hugginggpt_cli.gateway_client import GatewayClient

MEDIA = Path(__file__).resolve().parents[1] / "examples" / "media"
# A mix of what users ask: conversation, speech, a document, entities in text, an image.
MIX: list[tuple[str, tuple[Path, ...]]] = [
    ("Say hello in one short sentence.", ()),
    ("Transcribe speech_fox.wav.", (MEDIA / "speech_fox.wav",)),
    ("What is the total on the invoice in invoice_text.png?", (MEDIA / "invoice_text.png",)),
    ("List the named entities in: 'Grace Hopper worked at Harvard in Cambridge, Massachusetts.'", ()),
    ("What is in the picture squirrel_cls.jpg?", (MEDIA / "squirrel_cls.jpg",)),
]
# How long past its deadline a request may take to end before it counts as hung.
HUNG_AFTER_SECONDS = 20.0


@dataclass
class Tally:
    """How every request ended, and the turns each session must hold."""

    sent: int = 0
    answered: list[float] = field(default_factory=list)  # seconds of each answered request
    errors_by_code: dict[str, int] = field(default_factory=dict)
    hung: int = 0
    turns: dict[str, int] = field(default_factory=dict)  # session -> turns the gateway started

    def error(self, code: str) -> None:
        self.errors_by_code[code] = self.errors_by_code.get(code, 0) + 1


@dataclass
class _Turn:
    session: str
    started: bool = False  # the client saw an event: the gateway had stored the user's message
    answered: bool = False


async def _chat(address: str, turn: _Turn, index: int, deadline: float) -> None:
    content, files = MIX[index % len(MIX)]
    async with GatewayClient(address) as client:
        async for event in client.chat(content, files=list(files), session_id=turn.session, timeout=deadline):
            turn.session, turn.started = event.session_id or turn.session, True
            turn.answered = turn.answered or event.WhichOneof("event") == "summary"


async def request(address: str, session: str, index: int, deadline: float, tally: Tally) -> str:
    """Sends one request of the mix and records how it ended; returns the session to continue."""
    tally.sent += 1
    turn = _Turn(session)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(_chat(address, turn, index, deadline), deadline + HUNG_AFTER_SECONDS)
    except TimeoutError:
        tally.hung += 1
    except grpc.aio.AioRpcError as exc:
        tally.error(exc.code().name)
    else:
        if turn.answered:
            tally.answered.append(time.perf_counter() - started)
        else:
            tally.error("ENDED_WITHOUT_ANSWER")
    if turn.started:
        tally.turns[turn.session] = tally.turns.get(turn.session, 0) + 1
    return turn.session


async def user(address: str, index: int, running: Callable[[], bool], deadline: float, tally: Tally) -> None:
    """One user: one session, one request after another while running() says so; a second's pause after a
    request that failed, as a person (or a client's retry) would, rather than a storm of instant retries."""
    session, turn = "", index
    while running():
        answered = len(tally.answered)
        session = await request(address, session, turn, deadline, tally)
        if len(tally.answered) == answered:
            await asyncio.sleep(1.0)
        turn += 1


async def turns_lost(address: str, tally: Tally) -> int:
    """Turns the gateway started (the client saw an event) whose user message the session does not hold."""
    lost = 0
    async with GatewayClient(address) as client:
        for session, started in tally.turns.items():
            messages = await client.session(session, timeout=60)
            stored = sum(1 for m in messages if m.role == common_pb2.ROLE_USER)
            lost += max(0, started - stored)
    return lost
