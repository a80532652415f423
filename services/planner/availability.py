"""What this deployment can run, as the planner uses it: the task types offered to the LLM, the types a request
asks for that cannot run (declined, with why), and the answer that tells the user so."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from hugginggpt.domain import Declined, TaskTypeSpec, TypeAvailability
from hugginggpt.errors import Unavailable
from hugginggpt.tasktypes import declined_sentence
from services.planner.intents import Proposal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Offer:
    """The task types the LLM may use, and those on offer that this deployment cannot run, with why."""

    types: dict[str, TaskTypeSpec]
    unavailable: dict[str, str]  # type -> the reason (TaskTypeAvailability.reason)


def restrict(types: Mapping[str, TaskTypeSpec], availability: Sequence[TypeAvailability]) -> Offer:
    """The types on offer less those `availability` marks not runnable (no availability: all of them).

    Raises:
        Unavailable: none of the types on offer can run here.
    """
    blocked = {a.task_type: a.reason for a in availability if not a.runnable and a.task_type in types}
    offered = {name: spec for name, spec in types.items() if name not in blocked}
    if not offered:
        first = next(iter(blocked.items()))
        raise Unavailable(f"this deployment can run none of the {len(blocked)} task types on offer "
                          f"(for example {first[0]}: {first[1]})")
    return Offer(offered, blocked)


def sort_out(found: Sequence[Proposal], offer: Offer, threshold: float) -> tuple[list[Proposal], list[Declined]]:
    """The proposals of runnable types (alternatives too), and a Declined for each type that cannot run and that
    a clause asks for clearly (at or above `threshold`); a mere lean towards one is dropped, not declined."""
    kept: list[Proposal] = []
    declined: list[Declined] = []
    for proposal in found:
        if proposal.type not in offer.unavailable:
            alternatives = tuple(a for a in proposal.alternatives if a not in offer.unavailable)
            kept.append(replace(proposal, alternatives=alternatives))
        elif proposal.score >= threshold:
            declined.append(Declined(proposal.type, proposal.clause, offer.unavailable[proposal.type]))
        else:
            logger.info("%r leans to %s (%s), which cannot run here; not declined on a guess",
                        proposal.clause, proposal.type, proposal.score)
    if declined:
        logger.info("declined task types: %s", ", ".join(f"{d.task_type} for {d.request_text!r}" for d in declined))
    return kept, declined


def decline_answer(declined: Sequence[Declined]) -> str:
    """The answer's words for the types declined, one sentence each."""
    return " ".join(declined_sentence(d.task_type, d.reason) for d in declined)
