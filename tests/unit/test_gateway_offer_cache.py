"""The gateway's cache of what the deployment can run: one question per mode per TTL, a fallback when it fails."""

from __future__ import annotations

import asyncio

import pytest

from gateway.availability import Availability
from gateway.config import GatewayConfig
from hugginggpt.errors import Unavailable
from hugginggpt.settings import SettingsError
from hugginggpt.v1 import common_pb2 as pb
from hugginggpt.v1 import selector_pb2

IMAGES = pb.TaskTypeAvailability(task_type="text-to-image", runnable=False, reason="hosted only")


class Selector:
    """Answers ListTaskTypes from `answers` in turn (an exception is raised); records the modes asked."""

    def __init__(self, *answers: list[pb.TaskTypeAvailability] | Exception) -> None:
        self.answers = list(answers)
        self.modes: list[int] = []

    async def ask(self, request: selector_pb2.ListTaskTypesRequest, timeout: float
                  ) -> selector_pb2.ListTaskTypesResponse:
        self.modes.append(request.mode)
        await asyncio.sleep(0)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return selector_pb2.ListTaskTypesResponse(task_types=answer)


async def test_asked_once_per_ttl_then_again_so_a_late_replica_is_seen() -> None:
    now = [0.0]
    selector = Selector([IMAGES], [])
    cache = Availability(selector.ask, ttl=30.0, clock=lambda: now[0])
    assert await asyncio.gather(cache.get(0), cache.get(0)) == [[IMAGES], [IMAGES]]  # concurrent: one question
    now[0] = 29.0
    assert await cache.get(0) == [IMAGES] and selector.modes == [0]
    now[0] = 31.0
    assert await cache.get(0) == [] and selector.modes == [0, 0]  # the replica registered: nothing withheld


async def test_a_failed_question_means_every_type_on_offer_until_the_ttl_passes(caplog) -> None:
    now = [0.0]
    selector = Selector(Unavailable("the selector at x is unavailable"), [IMAGES])
    cache = Availability(selector.ask, ttl=30.0, clock=lambda: now[0])
    assert await cache.get(pb.INFERENCE_MODE_LOCAL) == []
    assert "the selector (ListTaskTypes) could not be asked (the selector at x is unavailable)" in caplog.text
    now[0] = 31.0
    assert await cache.get(pb.INFERENCE_MODE_LOCAL) == [IMAGES]


def test_the_ttl_must_be_positive() -> None:
    with pytest.raises(SettingsError, match="HUGGINGGPT_GATEWAY_TASK_TYPES_TTL_SECONDS must be positive"):
        GatewayConfig.from_env({"HUGGINGGPT_GATEWAY_TASK_TYPES_TTL_SECONDS": "0", "HUGGINGGPT_GATEWAY_OPEN": "1"})
    config = GatewayConfig.from_env({"HUGGINGGPT_GATEWAY_OFFER_RUNNABLE_ONLY": "false", "HUGGINGGPT_GATEWAY_OPEN": "1"})
    assert not config.offer_runnable_only
