"""Apertium's English-Spanish pair against the LLM expert (the embedded 0.5B controller) on sentences written
for this benchmark, each with a reference translation written by hand.

Scores per system and direction: chrF (character 6-grams, beta 2, as sacreBLEU's chrF; 0-100), how many
outputs are in the target language (hugginggpt.languages.guess), how many came back unchanged, and the
median latency. The LLM expert runs through the replica's own backend on the embedded llama.cpp server, which
this script starts on port 8080 + HUGGINGGPT_PORT_OFFSET (default offset 2000) and stops again; with
HUGGINGGPT_LLM_BASE_URL set it uses that endpoint instead. Prints every output side by side and one JSON
object on its last line.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (source, reference)
EN_ES = [
    ("The meeting starts at noon in the main hall.", "La reunión empieza a mediodía en el salón principal."),
    ("Where is the nearest train station?", "¿Dónde está la estación de tren más cercana?"),
    ("My brother bought three red apples yesterday.", "Mi hermano compró tres manzanas rojas ayer."),
    ("Please close the window before you leave the office.",
     "Por favor, cierra la ventana antes de salir de la oficina."),
    ("The invoice total is forty-two dollars.", "El total de la factura es de cuarenta y dos dólares."),
    ("I would like two coffees and a glass of water, please.", "Quisiera dos cafés y un vaso de agua, por favor."),
    ("The children are playing football in the park.", "Los niños están jugando al fútbol en el parque."),
    ("We need more time to finish the report.", "Necesitamos más tiempo para terminar el informe."),
]
ES_EN = [
    ("Me gusta mucho la comida de mi madre.", "I really like my mother's food."),
    ("¿A qué hora sale el próximo autobús?", "What time does the next bus leave?"),
    ("Mañana vamos a visitar a mis abuelos en Sevilla.", "Tomorrow we are going to visit my grandparents in Seville."),
    ("El perro duerme debajo de la mesa.", "The dog sleeps under the table."),
    ("No tengo tiempo para leer el periódico hoy.", "I don't have time to read the newspaper today."),
    ("La tienda abre a las nueve de la mañana.", "The shop opens at nine in the morning."),
    ("Mi hermana trabaja en un hospital grande.", "My sister works in a big hospital."),
    ("Hace mucho frío en invierno en las montañas.", "It is very cold in the mountains in winter."),
]


def _ngrams(text: str, n: int) -> Counter[str]:
    s = " ".join(text.split())
    s = s.replace(" ", "")  # sacreBLEU's chrF ignores whitespace
    return Counter(s[i : i + n] for i in range(len(s) - n + 1))


def chrf(hypothesis: str, reference: str, order: int = 6, beta: float = 2.0) -> float:
    """chrF of one sentence (0-100), averaged over n-gram orders 1..6 as in Popović (2015)."""
    precisions, recalls = [], []
    for n in range(1, order + 1):
        hyp, ref = _ngrams(hypothesis, n), _ngrams(reference, n)
        if not hyp or not ref:
            continue
        match = sum((hyp & ref).values())
        precisions.append(match / sum(hyp.values()))
        recalls.append(match / sum(ref.values()))
    if not precisions:
        return 0.0
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return 0.0 if p + r == 0 else 100 * (1 + beta**2) * p * r / (beta**2 * p + r)


def _wait(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the LLM server did not come up at {url}")


def start_llm() -> subprocess.Popen[bytes] | None:
    if os.environ.get("HUGGINGGPT_LLM_BASE_URL"):
        return None
    from hugginggpt import embedded

    port = 8080 + int(os.environ.get("HUGGINGGPT_PORT_OFFSET", "2000"))
    pack = embedded.PACKS["qwen2.5-coder-0.5b"]
    gguf = embedded.assemble(pack, embedded.default_cache_dir())
    command = embedded.server_command(gguf, pack.alias, "127.0.0.1", port, 8192, os.cpu_count() or 2)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    os.environ.update({"HUGGINGGPT_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "HUGGINGGPT_LLM_MODEL": pack.alias,
                       "HUGGINGGPT_LLM_SCHEMA_DIALECT": "json_object"})
    _wait(f"http://127.0.0.1:{port}/v1/models", 180)
    return proc


def run_system(name: str, pairs: list[tuple[str, str]], target: str, model_id: str) -> list[dict[str, object]]:
    from hugginggpt import languages
    from hugginggpt.artifacts import ArtifactStore
    from hugginggpt.llm import LlmClient, LlmSettings
    from services.replica.backends import backend_for
    from services.replica.backends.base import BackendContext
    from services.replica.catalog import ReplicaCatalog
    from services.replica.results import Input, Request, Result

    entry = ReplicaCatalog.default().get(model_id)
    store = ArtifactStore(Path(tempfile.mkdtemp()), 1 << 20)
    ctx = BackendContext(store, "cpu", LlmClient(LlmSettings.from_env("expert")))
    handle = backend_for(entry.backend).load(model_id, "translation", ctx)
    loop = asyncio.new_event_loop()
    rows = []
    for source, reference in pairs:
        request = Request(model_id, "translation", (Input("text", text=source),),
                          {"target_language": languages.name(target)})
        t = time.perf_counter()
        outcome = (loop.run_until_complete(handle.apredict([request])) if handle.is_async
                   else handle.predict([request]))[0]
        seconds = time.perf_counter() - t
        text = outcome.text if isinstance(outcome, Result) else f"<error: {outcome}>"
        rows.append({"system": name, "source": source, "reference": reference, "output": text,
                     "chrf": round(chrf(text, reference), 1), "seconds": round(seconds, 3),
                     "target_language": languages.guess(text, default="?") == target,
                     "unchanged": text.strip() == source.strip()})
    handle.close()
    return rows


def summarise(rows: list[dict[str, object]]) -> dict[str, object]:
    return {
        "chrf": round(statistics.mean(float(r["chrf"]) for r in rows), 1),  # type: ignore[arg-type]
        "in_target_language": f"{sum(bool(r['target_language']) for r in rows)}/{len(rows)}",
        "unchanged": sum(bool(r["unchanged"]) for r in rows),
        "median_s": round(statistics.median(float(r["seconds"]) for r in rows), 3),  # type: ignore[arg-type]
    }


def main() -> None:
    llm = start_llm()
    results: dict[str, dict[str, object]] = {}
    try:
        for direction, pairs, target, apertium in (("en-es", EN_ES, "es", "apertium/apertium-en-es"),
                                                  ("es-en", ES_EN, "en", "apertium/apertium-es-en")):
            by_system = {
                "apertium": run_system("apertium", pairs, target, apertium),
                "llm-expert-0.5b": run_system("llm-expert-0.5b", pairs, target, "hugginggpt/llm-expert"),
            }
            results[direction] = {name: summarise(rows) for name, rows in by_system.items()}
            print(f"== {direction}")
            for i, (source, reference) in enumerate(pairs):
                print(f"  src: {source}\n  ref: {reference}")
                for name, rows in by_system.items():
                    print(f"  {name:16} [{rows[i]['chrf']:5.1f}] {rows[i]['output']}")
            for name, summary in results[direction].items():
                print(f"  {name}: {summary}")
    finally:
        if llm is not None:
            llm.terminate()
            llm.wait(30)
    print(json.dumps({"sentences_per_direction": len(EN_ES), "results": results}))


if __name__ == "__main__":
    main()
