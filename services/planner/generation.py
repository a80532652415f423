"""Training requests generated from the tool graph, the way TaskBench was built: data that is not the evaluation's.

A subgraph of tools is sampled from graph_desc.json's links (one tool, a chain of 2-4, or a small DAG that
fans out), an LLM writes a request that needs exactly those tools in order, one sentence per tool plus a
sentence of context, and a second call checks it back: the LLM names, for each sentence, the tool it asks
for, from the whole list. A request is kept only when every sentence checks back to the tool it was written
for. That check does not use the planner's own type finder, so what is kept does not only echo what the
finder already gets right. Kept sentences are labelled clauses: the type finder's training data
(services.planner.typefinder). The run is resumable: rows are appended to the output, ids already there
are skipped, and each id's subgraph depends on the seed and the id alone.

Run: python -m services.planner.generation --base-url http://127.0.0.1:18480/v1 --limit 400
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hugginggpt.artifacts import guess_media_type, kind_of
from hugginggpt.domain import GENERATED_PREFIX, Kind, TaskTypeSpec
from hugginggpt.errors import HuggingGPTError
from hugginggpt.llm import LlmClient, LlmSettings, Usage
from hugginggpt.tasktypes import hf_task_id
from services.planner.demos import Demo
from services.planner.intents import MIN_WORDS, NONE, split_clauses, words
from services.planner.planning import Llm
from services.planner.samples import FILE_NAME
from services.planner.streaming import parse_lenient
from services.planner.templates import PROMPTS

SHAPES = (("single", 0.35), ("chain", 0.45), ("dag", 0.20))  # TaskBench HF's mix leans to single and chain
FILES = {"image": ("example.jpg", "photo.png", "picture.jpg"), "audio": ("example.wav", "recording.mp3"),
         "video": ("example.mp4", "clip.mp4")}
OUT = Path(__file__).parent / "prompts" / "generated.jsonl"
# What a request is about, drawn per id: a small model writing greedily returns to the same few scenes
# ("a city skyline", "a magical forest") whatever the tools; the topic, not the wording, is given.
TOPICS = ("my job", "a school assignment", "a holiday trip", "cooking at home", "a football match", "my health",
          "online shopping", "a music band", "my pets", "a birthday party", "a news story", "a museum visit",
          "a house move", "gardening", "a job interview", "a science class", "a small business", "a wedding",
          "a podcast", "a car repair", "hiking", "a family photo album", "a customer complaint", "a recipe blog",
          "learning a language", "a charity event", "a film review", "a lecture", "a real-estate listing",
          "a lost-and-found notice")


@dataclass(frozen=True)
class Graph:
    """The tool graph: each tool's inputs, outputs and description, and which tool may feed which."""

    nodes: Mapping[str, Mapping[str, Any]]
    links: Mapping[str, tuple[str, ...]]  # source -> targets

    @classmethod
    def load(cls, path: Path) -> Graph:
        raw = json.loads(path.read_text())
        links: dict[str, list[str]] = {}
        for link in raw["links"]:
            links.setdefault(link["source"], []).append(link["target"])
        return cls({n["id"]: n for n in raw["nodes"]}, {k: tuple(v) for k, v in links.items()})


@dataclass(frozen=True)
class Subgraph:
    """Sampled tools in the order a request uses them, and the links between them (by index)."""

    shape: str
    tools: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]


def sample_subgraph(graph: Graph, rng: random.Random) -> Subgraph:
    """One tool, a chain of 2-4 along links, or a DAG of 3-4 where some tool feeds two others."""
    shape = rng.choices([s for s, _ in SHAPES], [w for _, w in SHAPES])[0]
    names = sorted(graph.nodes)
    if shape == "single":
        return Subgraph(shape, (rng.choice(names),), ())
    for _ in range(100):
        size = rng.randint(2, 4) if shape == "chain" else rng.randint(3, 4)
        tools, edges = [rng.choice(names)], []
        while len(tools) < size:
            sources = [len(tools) - 1] if shape == "chain" else list(range(len(tools)))
            options = [(i, t) for i in sources for t in graph.links.get(tools[i], ()) if t not in tools]
            if not options:
                break
            source, target = rng.choice(options)
            tools.append(target)
            edges.append((source, len(tools) - 1))
        fans_out = len({s for s, _ in edges}) < len(edges)
        if len(tools) == size and (shape == "chain" or fans_out):
            return Subgraph(shape, tuple(tools), tuple(edges))
    return Subgraph("single", (rng.choice(names),), ())


def user_files(graph: Graph, sub: Subgraph, rng: random.Random) -> list[str]:
    """A file name for each media input that no earlier sampled tool feeds."""
    fed = {(t, graph.nodes[sub.tools[s]]["output-type"][0]) for s, t in sub.edges}
    files = []
    for index, tool in enumerate(sub.tools):
        for kind in dict.fromkeys(graph.nodes[tool]["input-type"]):
            if kind in FILES and (index, kind) not in fed:
                files.append(rng.choice([f for f in FILES[kind] if f not in files] or FILES[kind]))
    return files


def describe(graph: Graph, sub: Subgraph) -> str:
    """The tools as the generation prompt lists them, with what feeds what."""
    lines = []
    for index, tool in enumerate(sub.tools):
        node = graph.nodes[tool]
        feeds = [f"the result of step {s + 1}" for s, t in sub.edges if t == index]
        source = f"; it works on {' and '.join(feeds)}" if feeds else ""
        lines.append(f"{index + 1}. {tool}: {node['desc'].split('. ')[0].rstrip('.')}. "
                     f"(input: {', '.join(node['input-type'])}; output: {', '.join(node['output-type'])}{source})")
    return "\n".join(lines)


def write_schema(count: int) -> dict[str, Any]:
    clauses = {"type": "array", "items": {"type": "string"}, "minItems": count, "maxItems": count}
    return {"type": "object", "properties": {"context": {"type": "string"}, "clauses": clauses},
            "required": ["context", "clauses"]}


def check_schema(names: Sequence[str], count: int) -> dict[str, Any]:
    tools = {"type": "array", "items": {"type": "string", "enum": list(names)}, "minItems": count, "maxItems": count}
    return {"type": "object", "properties": {"tools": tools}, "required": ["tools"]}


async def generate_one(llm: Llm, graph: Graph, sub: Subgraph, files: list[str], *, checker: Llm | None = None,
                       topic: str = TOPICS[0]) -> dict[str, Any]:
    """The request `llm` writes for `sub` (about `topic`) and whether it checks back with `checker` (default: the
    same LLM): `kept`, with the `reason` when not."""
    usage = Usage()
    prompt = PROMPTS.template("generate.txt").render(tools=describe(graph, sub), count=len(sub.tools), topic=topic,
                                                  files=", ".join(files) or "(none: I type any text myself)")
    raw = parse_lenient(await llm.complete([{"role": "user", "content": prompt}], usage,
                                           schema=write_schema(len(sub.tools)), max_tokens=400))
    written = raw if isinstance(raw, dict) else {}
    texts = [str(written.get("context") or ""), *(c for c in written.get("clauses") or [] if isinstance(c, str))]
    context, *clauses = (_sentence(text) for text in with_files(texts, files))
    clauses = [c for c in clauses if c]
    row: dict[str, Any] = {"context": context, "clauses": [{"text": c, "type": hf_task_id(t)}
                                                          for c, t in zip(clauses, sub.tools, strict=False)]}
    if context:
        row["clauses"].insert(0, {"text": context, "type": NONE})
    row["request"] = " ".join([context, *clauses]).strip()
    if len(clauses) != len(sub.tools) or any(len(c.split()) < MIN_WORDS for c in clauses):
        return {**row, "kept": False, "checked": False,
                "reason": f"{len(clauses)} usable sentences for {len(sub.tools)} tools"}
    if any(f not in row["request"] for f in files):
        return {**row, "kept": False, "checked": False, "reason": "a file the tools need is not named"}
    if named := [c for c in clauses if names_a_tool(c, graph.nodes)]:
        return {**row, "kept": False, "checked": False, "reason": f"names a tool: {named[0]!r}"}
    names = sorted(graph.nodes)
    catalog = "\n".join(f"- {n}: {graph.nodes[n]['desc'].split('. ')[0].rstrip('.')}." for n in names)
    numbered = "\n".join(f"{i + 1}. {c}" for i, c in enumerate(clauses))
    answer = parse_lenient(await (checker or llm).complete(
        [{"role": "user", "content": PROMPTS.template("generate_check.txt").render(catalog=catalog, clauses=numbered)}],
        usage, schema=check_schema(names, len(clauses)), max_tokens=200))
    checked = answer.get("tools") if isinstance(answer, dict) else None
    if checked != list(sub.tools):
        return {**row, "kept": False, "checked": False, "reason": f"checked back as {checked}"}
    # A request that checks back is a test request with a known plan (`checked`); it is training data for the
    # type finder (`kept`) only when each sentence is one clause as the finder cuts, so that its label sits on it.
    if any(len(split_clauses(c)) != 1 for c in clauses):
        return {**row, "kept": False, "checked": True, "reason": "a sentence reads as several clauses, or none"}
    return {**row, "kept": True, "checked": True, "reason": ""}


_TOOL_WORDS = re.compile(r"\b(tool|model)s?\b", re.IGNORECASE)


def names_a_tool(sentence: str, nodes: Mapping[str, Any]) -> bool:
    """Whether a sentence names a tool ("use the Image Editing tool", "an image-to-text model"): people ask for
    what they want done, so such a sentence would teach the finder tool names, not requests. One-word names
    ("Summarization", "Translation") are everyday words and pass."""
    said = words(sentence)
    return bool(_TOOL_WORDS.search(sentence)) or any(
        len((name := words(tool)).split()) > 1 and name in said for tool in nodes)


def as_demo(row: Mapping[str, Any], types: Mapping[str, TaskTypeSpec]) -> Demo | None:
    """A kept generated request as a worked plan for the demo bank: its sampled tools, fed along its links, the
    user's files where no tool feeds a media input, each tool's sentence where none feeds a text (None: unusable)."""
    tools = [hf_task_id(t) for t in row.get("tools", ())]
    steps = [c["text"] for c in row.get("clauses", ()) if c.get("type") != NONE]
    if not row.get("kept") or not tools or len(steps) != len(tools) or any(t not in types for t in tools):
        return None
    position = {name: i for i, name in enumerate(row["tools"])}
    files = tuple(row.get("files", ()))
    tasks = []
    for i, name in enumerate(tools):
        sources = sorted(position[s] for s, t in row.get("links", ()) if position[t] == i)
        args: dict[str, Any] = {}
        for kind in dict.fromkeys(types[name].inputs):
            fed = [f"{GENERATED_PREFIX}{j}" for j in sources if kind in types[tools[j]].outputs][:1]
            if kind == Kind.TEXT:
                texts = fed + [steps[i]] * (types[name].inputs.count(Kind.TEXT) - len(fed))
                args["text"] = texts[0] if len(texts) == 1 else texts
            elif fed or (fed := [f for f in files if kind_of(guess_media_type(f)) == kind][:1]):
                args[kind.value] = fed[0]
            else:
                return None
        tasks.append({"task": name, "id": i, "dep": sources, "args": args})
    return Demo(row["request"], files, {"steps": steps, "tasks": tasks}, (), frozenset(tools))


def generated_demos(rows: Iterable[Mapping[str, Any]], types: Mapping[str, TaskTypeSpec]) -> list[Demo]:
    """The kept generated requests that make worked plans with the types on offer."""
    return [demo for row in rows if (demo := as_demo(row, types)) is not None]


def with_files(texts: Sequence[str], files: Sequence[str]) -> list[str]:
    """The texts with each file name the LLM made up replaced by a given file of the same kind that no text
    names yet (a small model often writes "city.jpg" for "photo.png"), the same one everywhere; the rest stays."""
    unused = [f for f in files if not any(f in text for text in texts)]
    swapped: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        name = match.group(0)
        if name in files:
            return name
        if name not in swapped:
            kind = kind_of(guess_media_type(name))
            choice = next((f for f in unused if kind_of(guess_media_type(f)) == kind), None)
            if choice is None:
                return name
            unused.remove(choice)
            swapped[name] = choice
        return swapped[name]
    return [FILE_NAME.sub(swap, text) for text in texts]


def as_sample(row: Mapping[str, Any], graph: Graph) -> dict[str, Any] | None:
    """A generated request that checked back as a TaskBench sample (its sampled tools and links are the gold
    plan), for scoring the planner on requests nobody tuned it on; None for one that did not check back."""
    if not row.get("checked") or any(names_a_tool(c["text"], graph.nodes) for c in row.get("clauses", ())):
        return None
    tools = list(row["tools"])
    nodes = []
    for tool in tools:
        fed = [f"<node-{tools.index(s)}>" for s, t in row.get("links", ()) if t == tool]
        kinds = [k for k in dict.fromkeys(graph.nodes[tool]["input-type"]) if k in FILES]
        files = [f for f in row.get("files", ()) if kind_of(guess_media_type(f)).value in kinds]
        files = files[: max(0, len(kinds) - len(fed))]
        nodes.append({"task": tool, "arguments": [*fed, *files]})
    return {"id": f"gen-{row['id']}", "type": row["shape"], "n_tools": len(tools), "instruction": row["request"],
            "task_nodes": nodes, "task_links": [{"source": s, "target": t} for s, t in row.get("links", ())]}


def _sentence(text: str) -> str:
    """The text stripped, ending as a sentence does (so that joined sentences still read as separate clauses)."""
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def done_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()}


async def run(args: argparse.Namespace) -> int:
    graph = Graph.load(args.graph)
    done = done_ids(args.out)
    settings = LlmSettings(args.base_url, args.model, "not-needed", "auto", args.timeout, 4096)
    llm, checker = LlmClient(replace(settings, temperature=args.temperature)), LlmClient(settings)
    kept = 0
    lock = asyncio.Lock()
    slots = asyncio.Semaphore(max(1, args.concurrency))

    async def one(index: int) -> None:
        nonlocal kept
        sample_id = f"{args.seed}-{index}"
        rng = random.Random(sample_id)
        sub = sample_subgraph(graph, rng)
        files = user_files(graph, sub, rng)
        topic = rng.choice(TOPICS)
        async with slots:
            try:
                row = await generate_one(llm, graph, sub, files, checker=checker, topic=topic)
            except HuggingGPTError as exc:  # one request the LLM failed on is skipped, not the run
                print(f"{sample_id} {sub.shape} skipped: {exc.message}", file=sys.stderr)
                return
        record = {"id": sample_id, "seed": args.seed, "model": args.model, "temperature": args.temperature,
                  "topic": topic, "shape": sub.shape,
                  "tools": list(sub.tools), "links": [[sub.tools[s], sub.tools[t]] for s, t in sub.edges],
                  "files": files, **row}
        async with lock:  # rows are appended whole, one at a time, in the order they finish
            with args.out.open("a") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            kept += int(row["kept"])
        print(f"{sample_id} {sub.shape} {'kept' if row['kept'] else 'dropped: ' + row['reason']}", file=sys.stderr)

    try:
        await asyncio.gather(*(one(i) for i in range(args.limit) if f"{args.seed}-{i}" not in done))
    finally:
        await llm.close()
        await checker.close()
    print(f"kept {kept} new requests; {args.out} holds {len(done_ids(args.out))} rows")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.planner.generation", description=__doc__.split("\n")[0])
    parser.add_argument("--graph", type=Path, default=Path("../shared/data/taskbench-hf/graph_desc.json"))
    parser.add_argument("--out", type=Path, default=OUT, help="JSONL to append to (ids already there are skipped)")
    parser.add_argument("--base-url", default="http://127.0.0.1:18480/v1", help="an OpenAI-compatible endpoint")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct", help="the model name sent (recorded)")
    parser.add_argument("--seed", type=int, default=0, help="ids are SEED-INDEX; each id's tools depend on it alone")
    parser.add_argument("--limit", type=int, default=20, help="ids SEED-0 .. SEED-(LIMIT-1)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per LLM call")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="sampling temperature of the writing call (the check-back is greedy)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests written at once (llama-server's slots)")
    parser.add_argument("--export-samples", type=Path, default=None, metavar="PATH",
                        help="write the rows of --out that checked back to PATH as TaskBench samples (for "
                             "`hugginggpt eval plan --data PATH`) and exit; nothing is generated")
    return parser.parse_args(argv)


def export_samples(rows_path: Path, graph: Graph, out: Path) -> int:
    """Writes the rows that checked back as TaskBench samples; returns how many."""
    rows = [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]
    samples = [sample for row in rows if (sample := as_sample(row, graph)) is not None]
    out.write_text("".join(json.dumps(sample, ensure_ascii=False) + "\n" for sample in samples))
    return len(samples)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.graph.is_file():
        print(f"error: {args.graph} is not a file", file=sys.stderr)
        return 2
    if args.export_samples:
        if not args.out.is_file():
            print(f"error: {args.out} is not a file: generate requests into it first", file=sys.stderr)
            return 2
        count = export_samples(args.out, Graph.load(args.graph), args.export_samples)
        print(f"{count} requests that checked back written to {args.export_samples} as TaskBench samples")
        return 0
    try:
        return asyncio.run(run(args))
    except HuggingGPTError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
