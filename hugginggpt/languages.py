"""Language names, script/stopword language guessing, and languages a request mentions by name."""

from __future__ import annotations

import re
from collections import Counter

NAMES: dict[str, str] = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "ar": "Arabic", "tr": "Turkish", "fa": "Persian", "vi": "Vietnamese",
    "hi": "Hindi", "pl": "Polish", "sv": "Swedish", "ro": "Romanian", "cs": "Czech",
    "uk": "Ukrainian", "el": "Greek", "he": "Hebrew", "id": "Indonesian", "th": "Thai",
    "fi": "Finnish", "da": "Danish", "no": "Norwegian", "hu": "Hungarian", "bn": "Bengali",
}

# Names people write for a language, in English and in the language itself.
_ALIASES: dict[str, str] = {name.lower(): code for code, name in NAMES.items()}
_ALIASES.update({
    "deutsch": "de", "englisch": "en", "français": "fr", "francais": "fr", "español": "es",
    "espanol": "es", "castellano": "es", "italiano": "it", "português": "pt", "nederlands": "nl",
    "farsi": "fa", "mandarin": "zh", "chinesisch": "zh", "französisch": "fr", "spanisch": "es",
    "anglais": "en", "allemand": "de", "inglés": "en", "ingles": "en", "alemán": "de",
})

#: Every language name this module knows, lower-cased (in English and in the language itself).
NAMES_LOWER: frozenset[str] = frozenset(_ALIASES)

_STOPWORDS: dict[str, set[str]] = {
    "en": {"the", "and", "is", "of", "to", "a", "in", "that", "it", "with", "for", "this", "what",
           "can", "you"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "ich", "mit", "zu", "auf", "für",
           "sie", "wir", "bitte", "was", "wie", "dem", "den", "auch", "es"},
    "fr": {"le", "la", "les", "et", "est", "un", "une", "des", "je", "pas", "que", "qui", "pour", "dans",
           "vous", "avec", "sur", "du", "ce"},
    "es": {"el", "la", "los", "las", "y", "es", "un", "una", "que", "por", "para", "con", "no", "del",
           "se", "mi", "qué", "esta", "este"},
    "it": {"il", "lo", "gli", "e", "è", "di", "che", "non", "per", "una", "sono", "della", "questo"},
    "pt": {"o", "os", "e", "é", "não", "um", "uma", "que", "para", "com", "do", "da", "você", "isso"},
    "nl": {"de", "het", "een", "en", "is", "niet", "van", "ik", "je", "dat", "wat", "voor", "met"},
}

_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ja", r"[\u3040-\u30ff]"),
    ("ko", r"[\uac00-\ud7af]"),
    ("zh", r"[\u4e00-\u9fff]"),
    ("ru", r"[\u0400-\u04ff]"),
    ("ar", r"[\u0600-\u06ff]"),
    ("el", r"[\u0370-\u03ff]"),
    ("he", r"[\u0590-\u05ff]"),
    ("th", r"[\u0e00-\u0e7f]"),
    ("hi", r"[\u0900-\u097f]"),
)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TARGET = re.compile(r"\b(?:into|to|in|nach|auf|en|al)\s+([^\W\d_]+)", re.IGNORECASE)


def name(code: str) -> str:
    """The English name of a language code, or the code itself when unknown."""
    return NAMES.get(code, code)


def guess(text: str, default: str = "en") -> str:
    """The most likely language of a text: by script for non-Latin text, else by common words."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return default
    for code, pattern in _SCRIPTS:
        if len(re.findall(pattern, text)) >= max(2, len(letters) // 5):
            return code
    words = Counter(w.lower() for w in _WORD.findall(text))
    hits = {code: sum(words[w] for w in stop) for code, stop in _STOPWORDS.items()}
    best = max(hits, key=lambda c: (hits[c], c == default))
    return best if hits[best] > 0 else default


def mentioned(text: str) -> list[str]:
    """Language codes the text names ("into German", "Spanish audio"), in order of first mention."""
    found: list[str] = []
    for word in _WORD.findall(text.lower()):
        code = _ALIASES.get(word)
        if code and code not in found:
            found.append(code)
    return found


def target(text: str) -> str | None:
    """The language a request asks to translate into ("into French", "to English"), if it names one."""
    for match in _TARGET.finditer(text):
        code = _ALIASES.get(match.group(1).lower())
        if code:
            return code
    return None
