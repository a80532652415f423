"""Answer-evaluation cases: parsing a cases file, splitting off the footnote, checking an answer's regexes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The responder's deterministic footnote starts with a line "---" after a blank line (responding.footnote).
FOOTNOTE_SEPARATOR = "\n\n---\n"
_CASE_KEYS = {"id", "turns", "expect", "forbid", "note"}
_TURN_KEYS = {"request", "files"}
_MAX_ERRORS = 12  # a wrong --media would otherwise list every file


class CaseError(ValueError):
    """A cases file that cannot be used, with the line that is wrong."""


@dataclass(frozen=True)
class CaseTurn:
    """One user turn: the request and the files uploaded with it."""

    request: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Case:
    """A multi-turn case; the regexes apply to the final turn's answer only."""

    id: str
    turns: tuple[CaseTurn, ...]
    expect: tuple[re.Pattern[str], ...]
    forbid: tuple[re.Pattern[str], ...]
    line: int


def answer_body(answer: str) -> str:
    """The answer without the deterministic footnote (everything from the first blank line + "---" on)."""
    return answer.split(FOOTNOTE_SEPARATOR, 1)[0]


def check(case: Case, answer: str) -> list[str]:
    """What the final answer gets wrong: each expected regex that is missing, each forbidden one that matches."""
    body = answer_body(answer)
    failures = [f"expected /{p.pattern}/ not found" for p in case.expect if not p.search(body)]
    for pattern in case.forbid:
        found = pattern.search(body)
        if found:
            failures.append(f"forbidden /{pattern.pattern}/ matched {found.group(0)!r}")
    return failures


def load_cases(path: Path, media: Path | None = None) -> list[Case]:
    """Every case of a JSON-lines file; files are resolved against `media` (default: the file's folder).

    Raises:
        CaseError: naming the file and line of each problem (all of them, not just the first).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"cannot read {path}: {exc}") from exc
    return parse_cases(text, str(path), media if media is not None else path.parent)


def parse_cases(text: str, source: str, media: Path) -> list[Case]:
    """Parses JSON lines (blank lines and lines starting with # are skipped); ids must be unique."""
    cases: list[Case] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            case = _parse_line(line, number, media)
        except CaseError as exc:
            errors.append(f"{source} line {number}: {exc}")
            continue
        if case.id in seen:
            errors.append(f"{source} line {number}: id {case.id!r} already used on line {seen[case.id]}")
            continue
        seen[case.id] = number
        cases.append(case)
    if errors:
        more = [f"... and {len(errors) - _MAX_ERRORS} more"] if len(errors) > _MAX_ERRORS else []
        raise CaseError("\n".join(errors[:_MAX_ERRORS] + more))
    if not cases:
        raise CaseError(f"{source} holds no cases")
    return cases


def select(cases: list[Case], only: str) -> list[Case]:
    """The cases named in a comma-separated list of ids, in that order (all when empty); an unknown id is an
    error. The order lets a long run go round the kinds of case, so that a run cut short still covers each."""
    wanted = [i.strip() for i in only.split(",") if i.strip()]
    if not wanted:
        return cases
    known = {c.id for c in cases}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise CaseError(f"no case with id {', '.join(unknown)}")
    by_id = {c.id: c for c in cases}
    return [by_id[i] for i in dict.fromkeys(wanted)]


def _parse_line(line: str, number: int, media: Path) -> Case:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CaseError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(raw, dict):
        raise CaseError("a case must be a JSON object")
    extra = set(raw) - _CASE_KEYS
    if extra:
        raise CaseError(f"unknown key(s) {sorted(extra)}; a case has {sorted(_CASE_KEYS)}")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise CaseError('"id" must be a non-empty string')
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise CaseError(f'case {case_id}: "turns" must be a non-empty list')
    return Case(
        id=case_id,
        turns=tuple(_turn(t, i, case_id, media) for i, t in enumerate(turns, start=1)),
        expect=_patterns(raw.get("expect", []), "expect", case_id),
        forbid=_patterns(raw.get("forbid", []), "forbid", case_id),
        line=number,
    )


def _turn(raw: Any, index: int, case_id: str, media: Path) -> CaseTurn:
    where = f"case {case_id} turn {index}"
    if not isinstance(raw, dict) or set(raw) - _TURN_KEYS:
        raise CaseError(f'{where}: a turn is an object with "request" and optional "files"')
    request = raw.get("request")
    if not isinstance(request, str) or not request.strip():
        raise CaseError(f'{where}: "request" must be a non-empty string')
    names = raw.get("files", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise CaseError(f'{where}: "files" must be a list of file names')
    files = tuple(media / n for n in names)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise CaseError(f"{where}: no such file {', '.join(missing)} (files are relative to --media {media})")
    return CaseTurn(request=request, files=files)


def _patterns(raw: Any, key: str, case_id: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise CaseError(f'case {case_id}: "{key}" must be a list of non-empty regex strings')
    compiled = []
    for pattern in raw:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise CaseError(f'case {case_id}: "{key}" regex /{pattern}/ is invalid: {exc}') from exc
    return tuple(compiled)
