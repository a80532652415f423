"""The planner's outbound dependencies, created once: the LLM client, token counter, embedder, demo bank."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hugginggpt.domain import TaskTypeSpec
from hugginggpt.embedding import Embedder, MiniLm, RecentEmbeddings
from hugginggpt.llm import LlmClient
from services.planner.config import PlannerConfig
from services.planner.coordination import VerbLists
from services.planner.demos import Demo, DemoBank
from services.planner.intents import IntentBank
from services.planner.planning import Planner
from services.planner.prompting import Budget, PromptBuilder
from services.planner.templates import load_demo_lines
from services.planner.tokens import EndpointCounter, EstimatingCounter, TokenCounter


@dataclass
class PlannerDeps:
    """What a planner process holds open; close() on shutdown. `make`: a planner under another guide, sharing
    the LLM client, demos and type finder (calibration tries each: services.planner.calibration)."""

    llm: LlmClient
    planner: Planner
    make: Callable[[str], Planner]

    async def close(self) -> None:
        await self.llm.close()


def token_counter(config: PlannerConfig, llm: LlmClient) -> TokenCounter:
    if config.use_tokenizer_endpoint:
        return EndpointCounter(llm._client, config.llm.base_url)  # the openai client's own request method
    return EstimatingCounter()


def build_planner(
    config: PlannerConfig,
    known_types: Mapping[str, TaskTypeSpec],
    *,
    embedder: Embedder | None = None,
    allow_direct_answer: bool = True,
    intents: IntentBank | None = None,
    demos: Sequence[Demo] = (),
) -> PlannerDeps:
    """Wires LLM client, demo bank (embedded once) and prompt builder into a Planner.

    `intents`: a type finder fitted elsewhere (`hugginggpt eval plan --folds`), instead of the written bank;
    `demos`: worked plans to add to the written ones (generated requests: `eval plan --generated-demos`)."""
    llm = LlmClient(config.llm)
    embedder = RecentEmbeddings(embedder or MiniLm())
    written = [Demo.from_json(line) for line in load_demo_lines()]
    bank = DemoBank([*written, *demos], embedder, max_demos=config.max_demos)
    budget = Budget(context_window=config.llm.context_window, max_answer_tokens=config.max_answer_tokens,
                    demo_tokens=config.demo_tokens)
    if config.guide != "off" and intents is None:
        intents = IntentBank.load(embedder, VerbLists.load().cuts)
    counter = token_counter(config, llm)

    def make(guide: str) -> Planner:
        guided = guide != "off"
        if guided and intents is None:
            raise ValueError(f"guide {guide!r} needs a type finder; this planner was built with guide off")
        prompts = PromptBuilder(bank, counter, budget, steps=config.steps, guide=guided)
        return Planner(llm, prompts, known_types, repair_rounds=config.repair_rounds,
                       allow_direct_answer=allow_direct_answer, salvage=config.salvage,
                       cover_files=config.cover_files, intents=intents if guided else None,
                       fix_types=guide == "fixed")

    return PlannerDeps(llm, make("fixed" if config.guide == "auto" else config.guide), make)  # auto: fixed until chosen
