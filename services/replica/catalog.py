"""The models a replica offers: the offline registry, any models added by its caller, and any Hub id on demand."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.errors import NotFound
from services.replica.backends import hosted_here

REGISTRY = Path(__file__).resolve().parents[2] / "hugginggpt" / "data" / "offline_models.json"


@dataclass(frozen=True)
class Entry:
    """A model this replica can serve and how."""

    model_id: str
    task_types: tuple[str, ...]
    backend: str
    memory_mb: int = 0
    description: str = ""


class ReplicaCatalog:
    """Known entries, plus transformers entries made on first request for other ids."""

    def __init__(self, entries: list[Entry], allow_any: bool = False) -> None:
        self._entries = {e.model_id: e for e in entries}
        self.allow_any = allow_any

    @classmethod
    def default(
        cls,
        allow_any: bool = False,
        registry: Path = REGISTRY,
        only: frozenset[str] | None = None,
        extra: Sequence[Entry] = (),
    ) -> ReplicaCatalog:
        """The registry's entries for the backends hosted here, then `extra`."""
        raw = json.loads(registry.read_text())["models"]
        entries = [
            Entry(m["id"], tuple(m["tasks"]), m["backend"], int(m.get("memory_mb", 0)), m["description"])
            for m in raw
            if hosted_here(m["backend"], only)
        ]
        return cls([*entries, *extra], allow_any)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def get(self, model_id: str, task_type: str = "") -> Entry:
        """The entry for an id; a transformers entry for an unlisted id; NotFound when none can exist."""
        entry = self._entries.get(model_id)
        if entry is not None:
            return entry
        if not model_id or model_id.startswith("hugginggpt/"):
            raise NotFound(f"model {model_id!r} is not served by this replica")
        if not self.allow_any:
            raise NotFound(
                f"model {model_id!r} is not served by this replica; loading Hub models on demand is off "
                "(HUGGINGGPT_REPLICA_ALLOW_ANY_MODEL)"
            )
        entry = Entry(model_id, (task_type,) if task_type else (), "transformers")
        self._entries[model_id] = entry
        return entry

    def forget(self, model_id: str) -> None:
        """Drops an on-demand entry that turned out not to exist, so ListModels stays honest."""
        entry = self._entries.get(model_id)
        if entry is not None and entry.backend == "transformers":
            del self._entries[model_id]
