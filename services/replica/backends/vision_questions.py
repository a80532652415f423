"""Questions about a photo read without a model: which COCO classes they name, and whether they count, ask
whether something is there, ask for the text, or ask what no offline model sees (colours, actions, feelings).

Counting and presence are answered from the detector's counts here, never by an LLM; the rest goes to the
evidence route (services/replica/backends/vision_evidence.py) or is refused plainly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.replica.backends.tfjs_detector import COCO_LABELS

# Words for a COCO class other than its name and the name's plural.
_SYNONYMS = {
    "person": ("people", "persons", "man", "men", "woman", "women", "child", "children", "kid", "kids", "boy",
               "boys", "girl", "girls", "player", "players", "human", "humans", "someone", "somebody", "anyone",
               "anybody", "lady", "ladies", "guy", "guys", "adult", "adults", "baby", "babies"),
    "cup": ("mug", "mugs", "coffee cup"),
    "couch": ("sofa", "sofas"),
    "dining table": ("table", "tables"),
    "tv": ("television", "televisions", "tvs", "tv set"),
    "cell phone": ("phone", "phones", "mobile phone", "smartphone", "smartphones", "cellphone"),
    "motorcycle": ("motorbike", "motorbikes"),
    "airplane": ("plane", "planes", "aeroplane", "aeroplanes", "aircraft", "jet"),
    "bicycle": ("bike", "bikes"),
    "sports ball": ("ball", "balls", "football", "footballs", "soccer ball", "basketball", "tennis ball"),
    "potted plant": ("plant", "plants", "houseplant", "houseplants"),
    "hair drier": ("hair dryer", "hairdryer"),
    "car": ("automobile", "automobiles"),
    "dog": ("puppy", "puppies"),
    "cat": ("kitten", "kittens"),
    "knife": ("knives",),
    "mouse": ("computer mouse",),
    "sheep": (),
    "laptop": ("notebook computer",),
    "tie": ("necktie",),
}
_IRREGULAR_PLURAL = {"person": "people", "mouse": "mice", "knife": "knives", "sheep": "sheep", "skis": "skis",
                     "tv": "tvs"}


def _plural(name: str) -> str:
    if name in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[name]
    if name.endswith(("s", "sh", "ch", "x")):
        return name + "es"
    return name + "s"


def _aliases() -> dict[str, str]:
    words: dict[str, str] = {}
    for label in COCO_LABELS:
        for word in (label, _plural(label), *_SYNONYMS.get(label, ())):
            words[word] = label
    return words


ALIASES = _aliases()
# Longest first, so "soccer ball" is read before "ball" and "dining table" before "table".
_MENTION = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(ALIASES, key=len, reverse=True)) + r")\b")

_COUNT = re.compile(r"\bhow many\b|\bcount\b|\bnumber of\b", re.IGNORECASE)
_PRESENCE = re.compile(
    r"^\s*(?:is|are)\s+there\b|\b(?:is|are)\s+there\s+(?:a|an|any|some)\b|\b(?:do|can)\s+you\s+see\b"
    r"|\b(?:does|do)\s+(?:the|this|that|my)\s+(?:image|photo|picture|pic|scene)\s+(?:show|contain|have|include)\b"
    r"|^\s*(?:is|are)\s+(?:a|an|any|the)\s+\w+(?:\s+\w+)?\s+(?:in|visible|present)\b",
    re.IGNORECASE,
)
_TEXT = re.compile(
    r"\bwhat\b.*\b(?:say|says|said)\b|\b(?:written|writing|text|read|words?|letters|printed)\b", re.IGNORECASE)
# What none of the offline models sees: the evidence cannot answer these, so they are refused, not guessed.
_UNSEEN = re.compile(
    r"\bcolou?rs?\b|\b(?:red|blue|green|yellow|orange-coloured|purple|pink|black|white|brown|grey|gray)\b"
    r"|\bwearing\b|\bdoing\b|\bholding\b|\bfeel(?:s|ing)?\b|\bemotions?\b|\bmood\b|\bhappy\b|\bsad\b"
    r"|\bangry\b|\bsmil(?:e|es|ing)\b|\bhow old\b|\bage\b|\bweather\b|\braining\b|\bsunny\b|\bday or night\b"
    r"|\bwhere\b|\bleft of\b|\bright of\b|\bbehind\b|\bin front of\b|\bnext to\b|\blooking at\b"
    r"|\bexpression\b|\bwho is\b|\bwho's\b|\bname of (?:the|this) (?:person|man|woman)\b",
    re.IGNORECASE,
)
_RELATION = re.compile(r"\b(?:on|under|next to|beside|near|behind|in front of|above|below|with)\b", re.IGNORECASE)
# Words that say nothing beyond "is there a X in this photo": what is left after them is not checked.
_FILLER = re.compile(
    r"\b(?:how|many|count|the|number|of|is|are|there|a|an|any|some|in|on|this|that|these|those|my|image|photo|"
    r"picture|pic|scene|do|does|can|you|see|show|shows|contain|contains|have|has|include|includes|visible|"
    r"present|please|tell|me|i|it|here|at|all|total|altogether|and|or)\b|[?.!,;:'\"]",
    re.IGNORECASE,
)


class Kind(StrEnum):
    """What a question asks, as far as the offline models can serve it."""

    COUNT = "count"  # how many of a COCO class: the detector's count
    PRESENCE = "presence"  # is there a COCO class: yes or no from the detector
    TEXT = "text"  # what is written: the OCR text
    UNSEEN = "unseen"  # colours, actions, feelings, places: nothing offline sees them
    OPEN = "open"  # anything else: the LLM, from the evidence only


@dataclass(frozen=True)
class Question:
    kind: Kind
    classes: tuple[str, ...] = ()  # COCO classes named, in order
    unchecked: str = ""  # the words of a count or presence question that the detector cannot check
    noun: str = ""  # for a count of something that is no COCO class: the word after "how many"
    text: str = ""  # the question as asked


def mentions(question: str) -> tuple[str, ...]:
    """The COCO classes a question names, in order, each once."""
    found = [ALIASES[m.group(1)] for m in _MENTION.finditer(question.lower())]
    return tuple(dict.fromkeys(found))


# A file the question names ("... in messi5.jpg?"): which image it is about, not something to check in it.
_FILE_NAME = re.compile(r"\b(?:in|of|on|from)?\s*[\w.-]+\.(?:jpe?g|png|gif|bmp|webp|tiff?)\b", re.IGNORECASE)


def _leftover(question: str) -> str:
    rest = _MENTION.sub(" ", _FILE_NAME.sub(" ", question.lower()))
    return " ".join(_FILLER.sub(" ", rest).split())


def read(question: str) -> Question:
    """What the question asks: counting and presence of named COCO classes first, then text, then what is
    unseen offline, else open."""
    classes = mentions(question)
    if _COUNT.search(question):
        if classes:
            return Question(Kind.COUNT, classes, _leftover(question), text=question)
        after = re.search(r"\bhow many\s+([a-z][a-z-]*)", question.lower())
        return Question(Kind.UNSEEN, noun=after.group(1) if after else "", text=question)
    if _PRESENCE.search(question) and classes:
        return Question(Kind.PRESENCE, classes, _leftover(question), text=question)
    if _TEXT.search(question):
        return Question(Kind.TEXT, text=question)
    if _UNSEEN.search(question):
        return Question(Kind.UNSEEN, text=question)
    return Question(Kind.OPEN, classes, text=question)


def count_answer(question: Question, counts: Mapping[str, int], scores: Mapping[str, float],
                 threshold: float) -> str:
    """The detector's count of each class asked about, stated as the answer."""
    parts = []
    for label in question.classes:
        n = counts.get(label, 0)
        best = f" (best score {scores[label]:.2f})" if n else ""
        parts.append(f"{n} {counted(label, n)}{best}")
    text = f"{'; '.join(parts)}: the object detector's count at score {threshold:.2f} or above."
    return text + _unchecked(question)


def presence_answer(question: Question, counts: Mapping[str, int], scores: Mapping[str, float],
                    threshold: float) -> str:
    """Yes or no for the first class asked about, and what was found of the others."""
    first, *others = question.classes
    n = counts.get(first, 0)
    if n:
        text = f"Yes: the object detector found {n} {counted(first, n)} (best score {scores[first]:.2f})."
    else:
        text = f"No: the object detector found no {first} at score {threshold:.2f} or above."
    for label in others:
        m = counts.get(label, 0)
        text += f" It found {m} {counted(label, m)}." if m else f" It found no {label}."
    if others and _RELATION.search(question.text):
        text += " Where they are relative to each other is not checked."
    return text + _unchecked(question)


def counted(label: str, n: int) -> str:
    """The class name for n of it: "person", "people"."""
    return label if n == 1 else _plural(label)


def named(label: str, text: str) -> bool:
    """Whether a text names a COCO class (by its name, plural or a synonym)."""
    return label in mentions(text)


def _unchecked(question: Question) -> str:
    if not question.unchecked:
        return ""
    return (f" Only the objects were detected: the rest of the question (“{question.unchecked}”) cannot be "
            "checked offline (no model here sees colours, positions, actions or looks).")
