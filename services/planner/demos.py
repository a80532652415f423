"""The demo bank: worked plans chosen per request by embedding similarity, within a token budget."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hugginggpt.artifacts import guess_media_type, kind_of
from hugginggpt.embedding import Embedder
from services.planner.tokens import TokenCounter

# Added to a demo's similarity when its files are of the same kinds as the request's (two images and an
# audio, say): a demo with fewer kinds of files shows a smaller plan than the request needs, and small
# models copy the size of the nearest demo.
SHAPE_BONUS = 0.2


def file_kinds(names: Iterable[str]) -> tuple[str, ...]:
    """The sorted kinds (image, audio, video, text) of the named files."""
    return tuple(sorted(kind_of(guess_media_type(name)).value for name in names))


@dataclass(frozen=True)
class Demo:
    """One worked example: a request (with files and earlier turns) and its plan."""

    request: str
    files: tuple[str, ...]
    plan: dict[str, Any]
    history: tuple[str, ...] = ()
    types: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, line: str) -> Demo:
        raw = json.loads(line)
        plan = raw["plan"]
        types = frozenset(t["task"] for t in plan["tasks"])
        return cls(raw["request"], tuple(raw.get("files", ())), plan, tuple(raw.get("history", ())), types)

    def found(self) -> list[tuple[str, str]]:
        """Each task's type with the step that asks for it, as the planner shows what it found in a request."""
        steps = self.plan.get("steps") or []
        return [(task["task"], step) for task, step in zip(self.plan["tasks"], steps, strict=False)]

    def answer(self, steps: bool = False) -> str:
        """The plan exactly as the model should write it: with its "steps" first, or without them."""
        plan = self.plan if steps else {k: v for k, v in self.plan.items() if k != "steps"}
        return json.dumps(plan, ensure_ascii=False)


class DemoBank:
    """Embeds every demo once; picks the closest ones whose task types are all on offer."""

    def __init__(self, demos: Iterable[Demo], embedder: Embedder, max_demos: int = 4) -> None:
        self.demos = list(demos)
        self._embedder = embedder
        self._max = max_demos
        self._matrix = embedder.embed([d.request for d in self.demos]) if self.demos else np.zeros((0, 1))

    async def choose(
        self,
        request: str,
        offered: set[str],
        budget_tokens: int,
        counter: TokenCounter,
        render: Any,
        *,
        include_empty: bool = True,
        files: Sequence[str] = (),
    ) -> list[Demo]:
        """The most similar usable demos, best last (nearest the request), within budget_tokens.

        render(demo) is the text a demo costs in the prompt (request and answer); files are the request's
        file names (demos with files of the same kinds rank higher)."""
        if not self.demos or budget_tokens <= 0:
            return []
        query = self._embedder.embed([request])[0]
        shape = file_kinds(files)
        scores = self._matrix @ query + np.array([SHAPE_BONUS * (file_kinds(d.files) == shape) for d in self.demos])
        chosen: list[Demo] = []
        spent = 0
        for index in np.argsort(-scores):
            demo = self.demos[int(index)]
            if not demo.types <= offered or (not demo.types and not include_empty):
                continue
            cost = await counter.count(render(demo))
            if spent + cost > budget_tokens:
                continue
            chosen.append(demo)
            spent += cost
            if len(chosen) >= self._max:
                break
        return list(reversed(chosen))
