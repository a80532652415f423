"""What each task found, written deterministically in the user's language: the facts of the answer."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hugginggpt import untrusted
from hugginggpt.domain import Declined
from hugginggpt.prompts import PromptFiles
from hugginggpt.tasktypes import declined_sentence
from services.responder.outcomes import Result, TaskOutcome

_EMPTY = {"token-classification": "no_entities", "object-detection": "no_objects"}
LOW_SCORE = 0.5  # a classifier's best label below this is reported with a word of doubt

PROMPTS = PromptFiles("services.responder")  # findings.json: the phrase book


@dataclass(frozen=True)
class Findings:
    """The lines the user reads, and what the results said that must never be repeated as an answer."""

    lines: tuple[str, ...]
    injected: tuple[str, ...] = ()  # phrases that instructions inside results wanted said

    def text(self) -> str:
        return "\n".join(self.lines)


class Writer:
    """Renders outcomes as findings in one of the languages of the phrase book (English otherwise)."""

    def __init__(self, prompts: PromptFiles = PROMPTS) -> None:
        self._book: dict[str, dict[str, Any]] = prompts.json("findings.json")

    def phrase(self, key: str, language: str) -> str:
        return str(self._book.get(language, self._book["en"])[key])

    def write(self, outcomes: Sequence[TaskOutcome], language: str, text_limit: int = 600,
              declined: Sequence[Declined] = ()) -> Findings:
        """The findings; first, what was asked for that this deployment cannot run (`declined`), and why."""
        book = self._book.get(language, self._book["en"])
        lines: list[str] = [*(declined_sentence(d.task_type, d.reason) for d in declined), book["intro"]]
        injected: list[str] = []
        for o in outcomes:
            if o.state != "succeeded":
                key = "failed" if o.state == "failed" else "skipped"
                reason = o.reason or "-"
                lines.append("- " + book[key].format(id=o.task_id, type=o.task_type, reason=reason))
                continue
            facts, found = _facts(o.result, book, text_limit)
            injected.extend(found)
            label = book["by_type"].get(o.task_type, o.task_type)
            model = f" ({o.model_id})" if o.model_id else ""
            if o.task_type in _EMPTY and not (o.result.detections or o.result.entities):
                facts.insert(0, book[_EMPTY[o.task_type]])  # a task that found nothing says so
            lines.append(f"- {label}{model}: {'; '.join(facts) or book['nothing']}")
        return Findings(tuple(lines), tuple(injected))


def _facts(result: Result, book: dict[str, Any], text_limit: int) -> tuple[list[str], list[str]]:
    facts: list[str] = []
    injected: list[str] = []
    if result.text.strip() and not _restates(result):
        defused = untrusted.defuse(result.text)
        facts.append(f"“{_clip(defused.text, text_limit, book)}”" + (book["injected"] if defused.instructions else ""))
        injected.extend(defused.payloads)
    if result.labels:
        facts.append(_labels(result, book))
    if result.detections:
        facts.append(_detections(result.detections, book))
    if result.entities:
        facts.append(_entities(result.entities))
    if result.keypoints:
        facts.append(book["keypoints"].format(n=result.keypoints))
    if result.vector_size:
        facts.append(book["vector"].format(n=result.vector_size))
    if result.score is not None:
        facts.append(book["score"].format(score=f"{result.score:.2f}"))
    facts.extend(book["file"].format(name=a.name, uri=a.uri) for a in result.artifacts)
    return facts, injected


def _restates(result: Result) -> bool:
    """Whether the text only spells out the structured result shown anyway (entities, boxes, the top label)."""
    if result.entities or result.detections:
        return True
    top = max(result.labels, key=lambda x: x[1])[0] if result.labels else None
    return top is not None and result.text.strip().lower() == top.strip().lower()


def _clip(text: str, limit: int, book: dict[str, Any]) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rstrip() + book["truncated"].format(n=len(flat))


def _labels(result: Result, book: dict[str, Any]) -> str:
    ranked = sorted(result.labels, key=lambda x: -x[1])
    label, score = ranked[0]
    if result.extra.get("uncalibrated"):  # an LLM's pick carries no probability: no score to show
        return f"“{label}”"
    others = ", ".join(f"“{name}” {s:.2f}" for name, s in ranked[1:3])
    text = book["best"].format(label=label, score=f"{score:.2f}",
                               others=book["others"].format(list=others) if others else "")
    return text + (book["doubt"] if score < LOW_SCORE else "")


def _detections(detections: Sequence[tuple[str, float]], book: dict[str, Any]) -> str:
    counts = Counter(label for label, _ in detections)
    best: dict[str, float] = defaultdict(float)
    for label, score in detections:
        best[label] = max(best[label], score)
    shown = ", ".join(f"{label} ×{n} ({best[label]:.2f})" for label, n in counts.most_common(10))
    return book["objects"].format(n=len(detections), list=shown)


def _entities(entities: Sequence[tuple[str, str]]) -> str:
    groups: dict[str, list[str]] = defaultdict(list)
    for text, label in entities:
        if text not in groups[label]:
            groups[label].append(text)
    return "; ".join(f"{label}: {', '.join(v[:10])}" for label, v in groups.items())
