"""How one request's LLM calls are shared between the stages (at most `total`, whatever the number of tasks).

The answer always gets one call. Planning gets the rest: its first answer, then a repair round or a pass for a
part of the request it missed, while calls are left. Selection asks the LLM (one call for all open tasks) only
when a call is still left after planning; otherwise the ranking decides, which is always a valid choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from hugginggpt.settings import SettingsError

ANSWER_CALLS = 1


@dataclass(frozen=True)
class LlmCallBudget:
    """`total` LLM calls per request; 0 means no limit beyond each stage's own."""

    total: int = 3

    def __post_init__(self) -> None:
        if self.total != 0 and self.total < 1 + ANSWER_CALLS:
            raise SettingsError(
                f"the LLM-call budget must be 0 (no limit) or at least {1 + ANSWER_CALLS} "
                f"(one plan and one answer), got {self.total}"
            )

    def for_planning(self) -> int:
        """The planner's share (0 = no limit): everything but the answer."""
        return self.total - ANSWER_CALLS if self.total else 0

    def selection_may_ask(self, planning_calls: int) -> bool:
        """Whether one selection call still fits after planning took `planning_calls`."""
        return not self.total or planning_calls + 1 + ANSWER_CALLS <= self.total
