"""The S3 artifact store against a real S3-compatible server (moto's server mode on 127.0.0.1)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from gateway_fakes import Stack as GatewayStack

from hugginggpt.artifacts import ArtifactStore
from hugginggpt.artifacts_s3 import S3ArtifactStore, open_artifact_store
from hugginggpt.errors import InvalidRequest, NotFound, ResourceExhausted, Unavailable
from hugginggpt.settings import SettingsError
from hugginggpt_cli.gateway_client import GatewayClient
from services.replica.__main__ import create
from services.replica.config import ReplicaConfig
from services.router.__main__ import hosted_backend
from services.router.config import RouterConfig

REPO = Path(__file__).resolve().parents[2]
# moto needs botocore, whose python-dateutil<3 pin conflicts with kubernetes; it lives in its own venv.
MOTO = REPO / ".venv-s3test" / "bin" / "moto_server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    if not MOTO.exists():
        pytest.skip("moto server missing: run scripts/setup_s3test.sh")
    port = _free_port()
    proc = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def env(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    values = {"HUGGINGGPT_ARTIFACT_STORE": "s3://artifacts/run1", "HUGGINGGPT_S3_ENDPOINT_URL": endpoint,
              "HUGGINGGPT_ARTIFACT_DIR": str(tmp_path / "cache-a"), "HUGGINGGPT_ARTIFACT_MAX_BYTES": "1000"}
    store = open_artifact_store(values)
    assert isinstance(store, S3ArtifactStore)
    if not store.client.bucket_exists("artifacts"):
        store.client.make_bucket("artifacts")
    return values


def _other_pod(env: dict[str, str], tmp_path: Path) -> S3ArtifactStore:
    store = open_artifact_store({**env, "HUGGINGGPT_ARTIFACT_DIR": str(tmp_path / "cache-b")})
    assert isinstance(store, S3ArtifactStore)
    return store


def test_an_artifact_written_by_one_pod_is_read_by_another(env: dict[str, str], tmp_path: Path) -> None:
    artifact = open_artifact_store(env).put_bytes("../cat photo.png", b"\x89PNG fake")
    assert artifact.uri.startswith("artifact://") and artifact.name == "cat photo.png"
    reader = _other_pod(env, tmp_path)
    described = reader.describe(artifact.uri)
    assert (described.size_bytes, described.media_type, described.kind.value) == (9, "image/png", "image")
    assert reader.path(artifact.uri).read_bytes() == b"\x89PNG fake"
    assert reader.path(artifact.uri).is_relative_to(tmp_path / "cache-b")


def test_new_path_then_commit(env: dict[str, str], tmp_path: Path) -> None:
    writer = open_artifact_store(env)
    assert isinstance(writer, S3ArtifactStore)
    path, uri = writer.new_path("speech.wav")
    path.write_bytes(b"RIFF....WAVE")
    with pytest.raises(NotFound):
        _other_pod(env, tmp_path).describe(uri)
    assert writer.commit(uri).media_type == "audio/wav"
    assert _other_pod(env, tmp_path).read_bytes(uri) == b"RIFF....WAVE"


async def test_put_stream_enforces_the_size_limit(env: dict[str, str]) -> None:
    store = open_artifact_store(env)

    async def chunks(n: int) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * 400

    small = await store.put_stream("notes.txt", chunks(2))
    assert small.size_bytes == 800
    with pytest.raises(ResourceExhausted, match="HUGGINGGPT_ARTIFACT_MAX_BYTES"):
        await store.put_stream("big.txt", chunks(3))
    assert sorted(p.name for p in Path(env["HUGGINGGPT_ARTIFACT_DIR"]).rglob("*.txt")) == ["notes.txt"]


def test_bad_inputs(env: dict[str, str], tmp_path: Path) -> None:
    store = open_artifact_store(env)
    with pytest.raises(InvalidRequest):
        store.path("http://example.com/x.png")
    with pytest.raises(InvalidRequest, match="only image, audio"):
        store.put_bytes("tool.exe", b"MZ")
    with pytest.raises(NotFound):
        _other_pod(env, tmp_path).path("artifact://" + "A" * 24 + "/missing.png")
    with pytest.raises(NotFound):
        store.commit("artifact://" + "B" * 24 + "/never-written.png")


def test_store_selection_and_configuration_errors(env: dict[str, str], tmp_path: Path) -> None:
    local = open_artifact_store({"HUGGINGGPT_ARTIFACT_DIR": str(tmp_path / "local")})
    assert isinstance(local, ArtifactStore)
    with pytest.raises(SettingsError, match="s3://bucket"):
        open_artifact_store({**env, "HUGGINGGPT_ARTIFACT_STORE": "gs://bucket"})
    with pytest.raises(SettingsError, match="HUGGINGGPT_S3_ENDPOINT_URL"):
        open_artifact_store({**env, "HUGGINGGPT_S3_ENDPOINT_URL": "127.0.0.1:9000"})


def test_unreachable_endpoint_is_unavailable(env: dict[str, str]) -> None:
    store = open_artifact_store({**env, "HUGGINGGPT_S3_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"})
    with pytest.raises(Unavailable):
        store.describe("artifact://" + "C" * 24 + "/x.png")


async def test_the_gateway_commits_uploads_to_the_configured_object_store(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():  # the gateway builds its store from the environment, as in a pod
        monkeypatch.setenv(key, value)
    stack = await GatewayStack(tmp_path, artifact_dir=tmp_path / "gateway-cache", artifact_max_bytes=1000).start()
    try:
        upload = tmp_path / "note.txt"
        upload.write_bytes(b"committed for every pod")
        async with GatewayClient(stack.address) as client:
            artifact = await client.upload(upload)
    finally:
        await stack.stop()
    assert _other_pod(env, tmp_path).read_bytes(artifact.uri) == b"committed for every pod"


def test_replicas_and_a_hosted_router_build_the_configured_store(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    replica, pool = create(ReplicaConfig.from_env(env))
    try:
        assert isinstance(replica.manager.ctx.store, S3ArtifactStore)
    finally:
        pool.shutdown()
    hosted = hosted_backend(RouterConfig.from_env({**env, "HUGGINGGPT_HF_TOKEN": "hf_x"}))
    assert hosted is not None and isinstance(hosted._store, S3ArtifactStore)
