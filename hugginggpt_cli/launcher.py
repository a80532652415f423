"""Starts and stops the whole stack on loopback as separate processes (`hugginggpt up` / `hugginggpt down`)."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
import openai
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hugginggpt import embedded
from hugginggpt.auth import SERVICE_OPEN_ENV, SERVICE_TOKEN_ENV
from hugginggpt.settings import env_int, env_str

DEMO_PRELOAD = "openai/whisper-tiny.en,spacy/en_core_web_md,tesseract/eng,sentence-transformers/all-MiniLM-L6-v2"
ROOT = Path(__file__).resolve().parents[1]
MEDIAPIPE_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"


@dataclass(frozen=True)
class Proc:
    """One process of the stack."""

    name: str
    command: tuple[str, ...]
    port: int
    grpc_health: bool = True
    # An HTTP path that answers 200 when the process is ready (the edge); checked instead of gRPC health.
    http_health: str = ""


@dataclass(frozen=True)
class StackSettings:
    """Where the stack runs; every value comes from the environment with a sensible local default."""

    run_dir: Path
    port_offset: int
    embedded_model: str
    external_llm_url: str
    llm_threads: int
    llm_context: int
    llm_server: str
    preload: str
    startup_timeout: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackSettings:
        return cls(
            run_dir=Path(env_str("HUGGINGGPT_RUN_DIR", ".hugginggpt/run", env)).resolve(),
            port_offset=env_int("HUGGINGGPT_PORT_OFFSET", 0, env),
            embedded_model=env_str("HUGGINGGPT_EMBEDDED_MODEL", "qwen2.5-coder-0.5b", env),
            external_llm_url=env_str("HUGGINGGPT_LLM_BASE_URL", "-", env),
            llm_threads=env_int("HUGGINGGPT_LLM_THREADS", os.cpu_count() or 2, env),
            llm_context=env_int("HUGGINGGPT_LLM_CONTEXT_WINDOW", 8192, env),
            llm_server=embedded.server_kind(env if env is not None else os.environ),
            preload=env_str("HUGGINGGPT_REPLICA_PRELOAD", DEMO_PRELOAD, env),
            startup_timeout=float(env_str("HUGGINGGPT_STARTUP_TIMEOUT_SECONDS", "600", env)),
        )

    def port(self, base: int) -> int:
        return base + self.port_offset

    @property
    def embedded_llm(self) -> bool:
        return self.external_llm_url == "-"


SERVICES = {  # name -> (module, base port)
    "router": ("services.router", 50054),
    "replica": ("services.replica", 50055),
    "planner": ("services.planner", 50051),
    "selector": ("services.selector", 50052),
    "executor": ("services.executor", 50053),
    "responder": ("services.responder", 50056),
    "gateway": ("gateway", 50050),
}
EDGE_PORT = 8000  # the HTTP edge (OpenAI-compatible API, web UI), started after the gateway


def service_token_file(run_dir: Path) -> str:
    """The stack's service token, made once per run folder (readable by its owner only) and reused."""
    path = run_dir / "service-token"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def stack_env(s: StackSettings, llm_alias: str) -> dict[str, str]:
    """The environment every process of the stack gets."""
    env = dict(os.environ)
    # Services accept only each other; the gateway, on loopback, stays open unless the user set a token.
    env[SERVICE_TOKEN_ENV] = service_token_file(s.run_dir)
    env.pop(SERVICE_OPEN_ENV, None)
    if not env.get("HUGGINGGPT_GATEWAY_AUTH_TOKEN"):
        env["HUGGINGGPT_GATEWAY_OPEN"] = "true"
    llm_url = f"http://127.0.0.1:{s.port(8080)}/v1" if s.embedded_llm else s.external_llm_url
    env.update(
        {
            "HUGGINGGPT_LLM_BASE_URL": llm_url,
            "HUGGINGGPT_ARTIFACT_DIR": str(s.run_dir / "artifacts"),
            "HUGGINGGPT_SESSION_STORE": env.get("HUGGINGGPT_SESSION_STORE") or f"sqlite:///{s.run_dir}/sessions.db",
            "HUGGINGGPT_REPLICA_ID": env.get("HUGGINGGPT_REPLICA_ID", "replica-0"),
            "HUGGINGGPT_REPLICA_PRELOAD": s.preload,
            "HUGGINGGPT_INFERENCE_MODE": env.get("HUGGINGGPT_INFERENCE_MODE", "local"),
            "HUGGINGGPT_LLM_CONTEXT_WINDOW": str(s.llm_context),
            "HF_HUB_OFFLINE": env.get("HF_HUB_OFFLINE", "1"),
            "TRANSFORMERS_OFFLINE": env.get("TRANSFORMERS_OFFLINE", "1"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if s.embedded_llm:
        env["HUGGINGGPT_LLM_MODEL"] = llm_alias
        env["HUGGINGGPT_LLM_SCHEMA_DIALECT"] = embedded.SCHEMA_DIALECTS[s.llm_server]
    for name, (_, base) in SERVICES.items():
        env[f"HUGGINGGPT_{name.upper()}_LISTEN"] = f"127.0.0.1:{s.port(base)}"
        env[f"HUGGINGGPT_{name.upper()}_ADDRESS"] = f"127.0.0.1:{s.port(base)}"
    env["HUGGINGGPT_EDGE_LISTEN"] = f"127.0.0.1:{s.port(EDGE_PORT)}"
    env["HUGGINGGPT_MEDIAPIPE_REPLICA_LISTEN"] = f"127.0.0.1:{s.port(50057)}"
    env["HUGGINGGPT_MEDIAPIPE_REPLICA_ID"] = "mediapipe-0"
    return env


def processes(s: StackSettings) -> tuple[list[Proc], str]:
    """The stack's processes in start order, and the LLM's model alias."""
    procs = []
    alias = env_str("HUGGINGGPT_LLM_MODEL", "-")
    if s.embedded_llm:
        pack = embedded.PACKS[s.embedded_model]
        alias = pack.alias
        gguf = embedded.assemble(pack, embedded.default_cache_dir())
        command = embedded.server_command(gguf, alias, "127.0.0.1", s.port(8080), s.llm_context, s.llm_threads,
                                          s.llm_server)
        procs.append(Proc("llm", tuple(command), s.port(8080), grpc_health=False))
    for name, (module, base) in SERVICES.items():
        procs.append(Proc(name, (sys.executable, "-m", module), s.port(base)))
        if name == "replica" and MEDIAPIPE_PYTHON.is_file():
            # Pose, face detection and segmentation live in their own environment (mediapipe pins protobuf 4).
            mediapipe = (str(MEDIAPIPE_PYTHON), "-m", "services.replica.mediapipe")
            procs.append(Proc("mediapipe", mediapipe, s.port(50057)))
    procs.append(Proc("edge", (sys.executable, "-m", "edge"), s.port(EDGE_PORT), False, "/healthz"))
    return procs, alias


class Stack:
    """The running stack, recorded in <run_dir>/state.json so `down` finds it from another shell."""

    def __init__(self, settings: StackSettings) -> None:
        self.s = settings
        self.state_file = settings.run_dir / "state.json"
        self._log_start: dict[str, int] = {}  # where each process's log stood when it was last started

    def running(self) -> dict[str, dict[str, int | str]]:
        if not self.state_file.is_file():
            return {}
        state = json.loads(self.state_file.read_text())
        return {name: info for name, info in state.items() if _alive(int(info["pid"]))}

    def up(self, out: object = sys.stdout) -> dict[str, str]:
        """Starts every process not yet running and waits until all are healthy."""
        self.s.run_dir.mkdir(parents=True, exist_ok=True)
        procs, alias = processes(self.s)
        env = stack_env(self.s, alias)
        state = self.running()
        for proc in procs:
            if proc.name in state:
                continue
            self._start(proc, env, state)
        deadline = time.monotonic() + self.s.startup_timeout
        for proc in procs:
            while not self._wait_healthy(proc, int(state[proc.name]["pid"]), deadline, alias):
                # Its port was still held (a killed server's connections linger in TIME_WAIT and llama-server
                # binds without SO_REUSEADDR): start it again a moment later, until the start-up deadline.
                time.sleep(1.0)
                self._start(proc, env, state)
        return {p.name: f"127.0.0.1:{p.port}" for p in procs}

    def down(self, grace: float = 15.0, only: Collection[str] | None = None) -> list[str]:
        """SIGTERM every process (gateway first), or those named in `only`, then SIGKILL what is left."""
        state = self.running()
        order = ["edge", "gateway", "planner", "selector", "executor", "responder", "mediapipe", "replica", "router",
                 "llm"]
        chosen = [n for n in state if only is None or n in only]
        names = sorted(chosen, key=lambda n: order.index(n) if n in order else len(order))
        for name in names:
            _signal(int(state[name]["pid"]), signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(int(state[n]["pid"])) for n in names):
            time.sleep(0.2)
        for name in names:
            _signal(int(state[name]["pid"]), signal.SIGKILL)
        left = {n: info for n, info in state.items() if n not in names}
        if left:
            self.state_file.write_text(json.dumps(left, indent=1))
        else:
            self.state_file.unlink(missing_ok=True)
        return names

    def _start(self, proc: Proc, env: dict[str, str], state: dict[str, dict[str, int | str]]) -> None:
        log_path = self.s.run_dir / f"{proc.name}.log"
        with open(log_path, "ab") as log:
            child = subprocess.Popen(proc.command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=ROOT)
        self._log_start[proc.name] = log_path.stat().st_size
        state[proc.name] = {"pid": child.pid, "port": proc.port, "health": int(proc.grpc_health)}
        self.state_file.write_text(json.dumps(state, indent=1))

    def _wait_healthy(self, proc: Proc, pid: int, deadline: float, alias: str) -> bool:
        """True once healthy; False when it exited because its port was still in use (start it again)."""
        while time.monotonic() < deadline:
            if not _alive(pid):
                log = (self.s.run_dir / f"{proc.name}.log").read_text(errors="replace")
                since = log[self._log_start.get(proc.name, 0):]
                if _PORT_BUSY.search(since) and time.monotonic() < deadline - 2:
                    return False
                raise RuntimeError(f"{proc.name} exited during start-up; the end of its log:\n{log[-3000:]}")
            if _healthy(proc, alias):
                return True
            time.sleep(0.5)
        raise TimeoutError(f"{proc.name} was not healthy within the start-up timeout; see "
                           f"{self.s.run_dir / (proc.name + '.log')}")


_PORT_BUSY = re.compile(r"couldn't bind|address already in use|errno 98", re.IGNORECASE)


def _healthy(proc: Proc, alias: str) -> bool:
    if proc.http_health:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}{proc.http_health}", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:  # refused, reset, timed out, or an HTTP error status
            return False
    if not proc.grpc_health:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{proc.port}/v1", api_key="-", max_retries=0, timeout=2)
        try:
            return any(m.id == alias for m in client.models.list())
        except openai.OpenAIError:
            return False
        finally:
            client.close()
    with grpc.insecure_channel(f"127.0.0.1:{proc.port}") as ch:
        try:
            reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
