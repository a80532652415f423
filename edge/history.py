"""Which gateway session an OpenAI-style conversation continues: clients resend the whole history each turn,
the gateway keeps it once, so the edge remembers which session the history so far belongs to."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence

Said = tuple[str, str]  # (role, text) of one message


def _key(messages: Sequence[Said]) -> str:
    canonical = json.dumps([(role, " ".join(text.split())) for role, text in messages], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class SessionMemory:
    """The last `capacity` conversations this process answered, by a hash of everything said in them.

    Per process and best effort: behind several edge replicas a turn may land on one that never saw the
    conversation, and then it starts a new session (the client can send `session_id` to be sure).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._sessions: OrderedDict[str, str] = OrderedDict()

    def session_for(self, earlier: Sequence[Said]) -> str:
        """The session whose history is exactly `earlier` (the messages before the new one), or ""."""
        if not earlier:
            return ""
        key = _key(earlier)
        if key in self._sessions:
            self._sessions.move_to_end(key)
        return self._sessions.get(key, "")

    def remember(self, said: Sequence[Said], answer: str, session_id: str) -> None:
        """Records that `said` plus the assistant's `answer` (as the client received it) is `session_id`."""
        if not session_id or not answer:
            return
        key = _key([*said, ("assistant", answer)])
        self._sessions[key] = session_id
        self._sessions.move_to_end(key)
        while len(self._sessions) > self.capacity:
            self._sessions.popitem(last=False)
