"""Checks each sentence the LLM drafts against the evidence: what it claims must be found there."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hugginggpt import languages, untrusted

_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,]\d+)*")  # ASCII lookbehind: "是1000元" has a number
_URL = re.compile(r"\b(?:https?://|www\.)\S+|artifact://\S+", re.IGNORECASE)
_FILE = re.compile(r"\b[\w-]+\.(?:png|jpe?g|gif|webp|bmp|tiff?|wav|mp3|flac|ogg|m4a|mp4|avi|mov|txt|pdf|json|csv)\b",
                   re.IGNORECASE)
_QUOTED = re.compile(r"[\"“«„「]([^\"”»“」]{3,})[\"”»“」]")
_CAPITAL = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_OPENS_A_CLAUSE = frozenset(":;.!?(\"“«-–—")  # a capital after these starts a clause; it names nothing
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Languages whose capitals mark names (German capitalises every noun; scripts without case have none).
_CASE_MARKS_NAMES = frozenset({"en", "fr", "es", "it", "pt", "nl"})
_COMMON_CAPITALS = frozenset({"i", "ok", "ai", "id", "ids", "url", "uri", "note", "however", "also", "sorry"})
# A stock refusal ("I'm sorry, but I can't assist with that") where the models did the work misleads the user.
_REFUSAL = re.compile(r"\b(?:I'?m sorry|I am sorry|I can(?:no|')t (?:assist|help)|I am unable to|I'm unable to|"
                      r"as an AI\b|es tut mir leid|je suis désolé|lo siento|抱歉|对不起)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


@dataclass(frozen=True)
class Evidence:
    """Everything the answer may state: results, the user's words, earlier turns, models and files."""

    text: str  # lower-cased, whitespace-normalised
    numbers: frozenset[str]
    injected: tuple[str, ...] = ()
    answered: bool = False  # some task succeeded: there is something to answer from
    tallies: Mapping[str, frozenset[int]] = field(default_factory=dict)  # label -> how many were counted

    @classmethod
    def of(cls, parts: Iterable[str], injected: Sequence[str] = (), counts: Iterable[int] = (),
           answered: bool = False, tallies: Mapping[str, Iterable[int]] | None = None) -> Evidence:
        joined = " ".join(" ".join(p.split()) for p in parts if p)
        numbers = {_norm_number(n) for n in _NUMBER.findall(joined)} | {str(c) for c in counts}
        counted = {_thing(label): frozenset(n) for label, n in (tallies or {}).items()}
        return cls(joined.lower(), frozenset(numbers), tuple(injected), answered, counted)

    def has(self, phrase: str) -> bool:
        return " ".join(phrase.lower().split()) in self.text


# "4 people" counts persons: the words a count of a detector's label goes by, reduced to the label.
_SAME_THING = {"people": "person", "persons": "person", "men": "person", "women": "person", "humans": "person",
               "children": "person", "kids": "person", "players": "person", "faces": "face"}
_COUNTED = re.compile(r"(?<![\w.,])(\d+)\s+([a-z]+)", re.IGNORECASE)


def _thing(word: str) -> str:
    """A counted noun reduced to the detector's label: lower case, known synonyms, a plural's s dropped."""
    word = word.lower()
    if word in _SAME_THING:
        return _SAME_THING[word]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _norm_number(token: str) -> str:
    """One spelling per number: thousands separators dropped, a decimal comma made a point, zeros trimmed."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        token = token.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", token):  # German and others: 1.200,50
        token = token.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d{1,2}", token):
        token = token.replace(",", ".")
    if "." in token and re.fullmatch(r"\d+\.\d+", token):
        token = token.rstrip("0").rstrip(".")
    return token.lstrip("0") or "0"


def problems(sentence: str, evidence: Evidence, language: str) -> list[str]:
    """Why the sentence cannot reach the user (empty: it may)."""
    found: list[str] = []
    if evidence.answered and _REFUSAL.search(sentence):
        found.append("a stock refusal, though the models answered")
    if phrase := untrusted.repeats_payload(sentence, evidence.injected):
        found.append(f"repeats an instruction found in a file ({phrase!r})")
    for url in _URL.findall(sentence):
        if not evidence.has(url.rstrip(".,;)")):
            found.append(f"link {url!r} is not in the results")
    for name in _FILE.findall(sentence):
        if not evidence.has(name):
            found.append(f"file {name!r} is not in the results")
    for number in _NUMBER.findall(_URL.sub(" ", sentence)):
        if _norm_number(number) not in evidence.numbers:
            found.append(f"number {number} is not in the results")
    for number, noun in _COUNTED.findall(sentence):  # "4 people" where the detector counted 3 persons
        counted = evidence.tallies.get(_thing(noun))
        if counted and int(number) not in counted:
            found.append(f"says {number} {noun}; the models counted {', '.join(map(str, sorted(counted)))}")
    for quoted in _QUOTED.findall(sentence):
        if not evidence.has(quoted.strip(" .,")):
            found.append(f"quote {quoted[:40]!r} is not in the results")
    if language in _CASE_MARKS_NAMES:
        found += [f"name {n!r} is not in the results" for n in _names(sentence) if not _known_name(n, evidence)]
    return found


def _names(sentence: str) -> list[str]:
    body = _QUOTED.sub(" ", _URL.sub(" ", sentence))
    names = []
    for match in _CAPITAL.finditer(body):
        before = body[: match.start()].rstrip()
        if before and before[-1] not in _OPENS_A_CLAUSE:  # mid-clause: a capital that marks a name
            names.append(match.group(0))
    return names


def _known_name(name: str, evidence: Evidence) -> bool:
    words = _WORD.findall(name)
    return all(w.lower() in _COMMON_CAPITALS or w.lower() in languages.NAMES_LOWER
               or re.search(rf"\b{re.escape(w.lower())}", evidence.text) for w in words)


def off_language(sentence: str, language: str) -> bool:
    """Whether a sentence of some length is plainly in another language than the user's."""
    body = _QUOTED.sub(" ", _URL.sub(" ", sentence))
    if len(_WORD.findall(body)) < 5:
        return False
    return languages.guess(body, default=language) != language


def sentences(buffer: str) -> tuple[list[str], str]:
    """The complete sentences at the start of a buffer, and the unfinished rest."""
    parts = _SENTENCE_END.split(buffer)
    if len(parts) == 1:
        return [], buffer
    done = [p for p in parts[:-1] if p.strip()]
    return done, parts[-1]
