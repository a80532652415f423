"""Follow-ups that point at nothing: "translate that" as the first message of a conversation, with no file."""

from __future__ import annotations

import re

from hugginggpt import languages

# Words that point back at an earlier result ("that transcript", "the other file", "translate it").
_POINTER = re.compile(
    r"\b(?:that|those|the (?:same|other|previous|last|earlier))\s+"
    r"(?:transcript(?:ion)?|translation|text|total|answer|result|results|file|files|image|picture|photo|recording|"
    r"audio|summary|caption|one|list|number|names?|entities)\b"
    r"|^\s*(?:please\s+)?(?:now\s+)?(?:translate|read|summari[sz]e|say|repeat|transcribe|describe)\s+"
    r"(?:that|it|them)\b(?!\s*[:\"“'])"
    r"|\b(?:previous|earlier|last) (?:answer|result|turn|message|file|one)\b"
    r"|\b(?:das|dies(?:en|es)?) (?:Transkript|Ergebnis|Übersetzung|Bild|Datei)\b|\bübersetze (?:das|es)\b"
    r"|\b(?:cette|ce|cet) (?:transcription|traduction|résultat|image|fichier)\b|\btradui[st] (?:ça|cela)\b"
    r"|\b(?:esa|ese|eso|esta|este) (?:transcripción|traducción|resultado|imagen|archivo)\b|\btraduce (?:eso|esto)\b"
    r"|(?:那个|这个|上面的)(?:转录|翻译|结果|图片|文件)",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"[:\"“'«]|\b[\w-]+\.(?:png|jpe?g|gif|webp|wav|mp3|flac|ogg|mp4|txt|pdf)\b", re.IGNORECASE)
_MAX_WORDS = 14

_REPLIES = {
    "en": "There is nothing earlier in this conversation for “{ref}” to point to: this is its first message and no "
          "file is attached. Attach the file, paste the text, or ask in the conversation where it was produced.",
    "de": "In diesem Gespräch gibt es nichts Früheres, worauf sich „{ref}“ beziehen könnte: Dies ist die erste "
          "Nachricht und keine Datei ist angehängt. Hängen Sie die Datei an oder fügen Sie den Text ein.",
    "fr": "Il n'y a rien de plus tôt dans cette conversation auquel « {ref} » puisse renvoyer : c'est le premier "
          "message et aucun fichier n'est joint. Joignez le fichier ou collez le texte.",
    "es": "No hay nada anterior en esta conversación a lo que «{ref}» pueda referirse: es el primer mensaje y no hay "
          "ningún archivo adjunto. Adjunte el archivo o pegue el texto.",
    "zh": "这段对话中没有更早的内容可供“{ref}”指代：这是第一条消息，也没有附加文件。请附上文件或粘贴文本。",
}


def dangling_reference(request: str) -> str | None:
    """The words of a short request that point at an earlier result, when it carries no content of its own."""
    if len(request.split()) > _MAX_WORDS or _CONTENT.search(request):
        return None
    match = _POINTER.search(request)
    return " ".join(match.group(0).split()) if match else None


def nothing_to_refer_to(request: str, ref: str) -> str:
    """The honest reply to such a request, in its language."""
    return _REPLIES.get(languages.guess(request), _REPLIES["en"]).format(ref=ref)
