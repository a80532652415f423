"""The model catalogue: offline models, the Hub facts snapshot and configured extras, merged by model id."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from hugginggpt import languages
from hugginggpt.errors import InvalidRequest

logger = logging.getLogger(__name__)

BUNDLED_SNAPSHOT = Path(__file__).resolve().parent / "data" / "hf-models-facts.jsonl"
_BORING_TAGS = {"pytorch", "transformers", "generated_from_trainer", "autotrain", "tf", "jax", "safetensors"}
_CODE_FIXES = {"jp": "ja", "ch": "zh", "cn": "zh"}  # non-standard codes seen on the Hub
_PAIR = re.compile(r"(?:^|[-_/])([a-z]{2,3})[-_]([a-z]{2,3})$")


class Site(StrEnum):
    """Where a catalogue model can run."""

    LOCAL = "local"
    HOSTED = "hosted"
    BOTH = "both"


@dataclass(frozen=True)
class CatalogModel:
    """One model of the catalogue, for one task type."""

    id: str
    task: str
    downloads: int = 0
    likes: int = 0
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    license: str = ""
    description: str = ""
    site: Site = Site.HOSTED
    # For translation models whose id names a direction (opus-mt-de-en): (source, target).
    pair: tuple[str, str] | None = None

    @property
    def local_capable(self) -> bool:
        return self.site in (Site.LOCAL, Site.BOTH)

    @property
    def hosted_capable(self) -> bool:
        return self.site in (Site.HOSTED, Site.BOTH)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v)


def translation_pair(model_id: str, task: str) -> tuple[str, str] | None:
    """The (source, target) languages a translation model's id names, like "opus-mt-de-en"."""
    if task != "translation":
        return None
    match = _PAIR.search(model_id.lower())
    if not match or match.group(1) not in languages.NAMES or match.group(2) not in languages.NAMES:
        return None
    return match.group(1), match.group(2)


# Abbreviations in model names, spelled out so that embedding similarity can see them.
_ABBREVIATIONS = {
    "ner": "named entity recognition", "pos": "part-of-speech tagging", "qa": "question answering",
    "tos": "terms of service", "tosdr": "terms of service", "t&c": "terms and conditions",
    "asr": "speech recognition", "tts": "text to speech", "mt": "machine translation",
    "sum": "summarization", "vqa": "visual question answering", "ocr": "optical character recognition",
}


def describe(model: CatalogModel, datasets: Iterable[str] = ()) -> str:
    """A short deterministic description from the task, the languages, the tags and the datasets."""
    task = model.task.replace("-", " ")
    words = re.sub(r"[-_./]+", " ", model.id.split("/")[-1]).strip()
    if model.pair:
        head = f"Translation model from {languages.name(model.pair[0])} to {languages.name(model.pair[1])}"
    elif model.languages and len(model.languages) <= 6:
        head = f"{task.capitalize()} model for {', '.join(languages.name(c) for c in model.languages)}"
    elif len(model.languages) > 6:
        head = f"Multilingual {task} model ({len(model.languages)} languages)"
    else:
        head = f"{task.capitalize()} model"
    spelled = [_ABBREVIATIONS[w] for w in words.lower().split() if w in _ABBREVIATIONS]
    spelled += [_ABBREVIATIONS[t.lower()] for t in model.tags if t.lower() in _ABBREVIATIONS]
    parts = [f"{head} ({words}" + (f"; {', '.join(dict.fromkeys(spelled))}" if spelled else "") + ")."]
    tags = [t for t in model.tags if t.lower() not in _BORING_TAGS and t != model.task][:6]
    if tags:
        parts.append("Tags: " + ", ".join(tags) + ".")
    data = list(datasets)[:3]
    if data:
        parts.append("Trained on " + ", ".join(data) + ".")
    return " ".join(parts)


def from_facts(row: dict[str, Any]) -> CatalogModel:
    """A catalogue model from one line of the Hub facts snapshot (or of `catalog refresh` output)."""
    task = str(row.get("task") or row.get("pipeline_tag") or "")
    model = CatalogModel(
        id=str(row["id"]),
        task=task,
        downloads=int(row.get("downloads") or 0),
        likes=int(row.get("likes") or 0),
        tags=_as_tuple(row.get("tags")),
        languages=tuple(dict.fromkeys(_CODE_FIXES.get(c, c) for c in _as_tuple(row.get("language"))
                                      if c != "multilingual")),
        license=", ".join(_as_tuple(row.get("license"))),
        site=Site.HOSTED,
        pair=translation_pair(str(row["id"]), task),
    )
    if model.pair and not model.languages:
        model = replace(model, languages=model.pair)
    description = row.get("description") or describe(model, _as_tuple(row.get("datasets")))
    return replace(model, description=description)


def from_offline(entry: dict[str, Any]) -> list[CatalogModel]:
    """Catalogue models (one per task type) from an entry of hugginggpt/data/offline_models.json."""
    return [
        CatalogModel(
            id=entry["id"], task=task, languages=_as_tuple(entry.get("languages")),
            license=str(entry.get("license") or ""), description=str(entry.get("description") or ""),
            tags=(str(entry.get("backend") or ""),), site=Site.LOCAL, pair=translation_pair(entry["id"], task),
        )
        for task in entry.get("tasks", [])
    ]


def from_extra(entry: dict[str, Any]) -> list[CatalogModel]:
    """Catalogue models from a configured extra entry; `site` is local, hosted or both (default hosted)."""
    if not isinstance(entry, dict) or "id" not in entry or not (entry.get("task") or entry.get("tasks")):
        raise InvalidRequest(f"catalogue extra entry needs an id and a task (or tasks): {entry!r}")
    try:
        site = Site(str(entry.get("site", "hosted")))
    except ValueError:
        raise InvalidRequest(f"catalogue extra {entry['id']}: site must be local, hosted or both") from None
    models = []
    for task in _as_tuple(entry.get("tasks") or entry.get("task")):
        base = from_facts({**entry, "task": task, "language": entry.get("languages", entry.get("language"))})
        models.append(replace(base, site=site))
    return models


def _merge(old: CatalogModel, new: CatalogModel) -> CatalogModel:
    """The same model known twice: keep the richer facts and widen where it can run."""
    local = old.local_capable or new.local_capable
    hosted = old.hosted_capable or new.hosted_capable
    site = Site.BOTH if local and hosted else (Site.LOCAL if local else Site.HOSTED)
    return replace(
        old,
        downloads=max(old.downloads, new.downloads),
        likes=max(old.likes, new.likes),
        tags=old.tags + tuple(t for t in new.tags if t not in old.tags),
        languages=old.languages or new.languages,
        license=old.license or new.license,
        description=new.description if new.site == Site.LOCAL or not old.description else old.description,
        site=site,
    )


class Catalog:
    """Catalogue models by task type; later sources refine earlier ones with the same (id, task)."""

    def __init__(self, models: Iterable[CatalogModel]) -> None:
        merged: dict[tuple[str, str], CatalogModel] = {}
        for model in models:
            key = (model.id, model.task)
            merged[key] = _merge(merged[key], model) if key in merged else model
        self._by_task: dict[str, list[CatalogModel]] = {}
        for model in merged.values():
            self._by_task.setdefault(model.task, []).append(model)

    def for_task(self, task: str) -> list[CatalogModel]:
        return list(self._by_task.get(task, ()))

    def tasks(self) -> list[str]:
        return sorted(self._by_task)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_task.values())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_extra(path: Path) -> list[dict[str, Any]]:
    """A YAML or JSON list of extra models (a `models:` key around it is accepted too)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRequest(f"cannot read catalogue extras {path}: {exc}") from None
    if isinstance(data, dict):
        data = data.get("models")
    if not isinstance(data, list):
        raise InvalidRequest(f"catalogue extras {path} must be a list of models")
    return data


def load_catalog(snapshot: Path, offline: Path, extra: Path | None = None) -> Catalog:
    """Offline models, then the Hub facts, then configured extras (extras may override)."""
    models: list[CatalogModel] = []
    for entry in json.loads(offline.read_text(encoding="utf-8"))["models"]:
        models.extend(from_offline(entry))
    models.extend(from_facts(row) for row in read_jsonl(snapshot))
    if extra is not None:
        for entry in load_extra(extra):
            models.extend(from_extra(entry))
    catalog = Catalog(models)
    logger.info("catalogue: %d models, %d task types, from %s", len(catalog), len(catalog.tasks()), snapshot)
    return catalog
