"""The web UI in a real browser (Debian's chromium driven by Playwright) against the edge and a gateway with fakes.

Screenshots of each step go to a temporary folder, or to HUGGINGGPT_UI_SCREENSHOTS (benchmarks/ui for the
committed ones) when it is set.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from edge_fakes import EdgeServer
from gateway_fakes import Stack, task

from edge.config import UI_DIR
from hugginggpt.artifacts import ArtifactStore
from hugginggpt.v1 import common_pb2 as pb

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (make setup)")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="Debian's chromium is not installed (make setup)"),
    pytest.mark.skipif(not (UI_DIR / "index.html").is_file(), reason="the UI is not built (make setup)"),
]
DROP = """([name, type, b64]) => {
  const dt = new DataTransfer();
  dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
  return dt;
}"""


@pytest.fixture
async def stack(tmp_path: Path, media: Path) -> AsyncIterator[Stack]:
    s = await Stack(tmp_path).start()
    store = ArtifactStore(s.config.artifact_dir, 10**8)
    speech = store.put_bytes("speech.wav", (media / "speech_fox.wav").read_bytes())
    made = pb.Artifact(uri=speech.uri, name="speech.wav", media_type="audio/wav", size_bytes=speech.size_bytes,
                       kind=pb.VALUE_KIND_AUDIO)
    s.script.tasks = [task(1, "image-to-text"), task(2, "text-to-speech", deps=(1,))]
    s.script.make_artifact = lambda t: made if t.type == "text-to-speech" else None
    s.script.answer_parts = ("I see ", "fruit; ", "here it is read aloud.")
    yield s
    await s.stop()


@pytest.fixture
async def page(stack: Stack, tmp_path: Path) -> AsyncIterator[Any]:
    edge = await EdgeServer(stack).start()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = await browser.new_page(viewport={"width": 1200, "height": 820})
        await tab.goto(f"{edge.base_url}/")
        yield tab
        await browser.close()
    await edge.stop()


class Shots:
    """Numbered screenshots of each step."""

    def __init__(self, page: Any, tmp: Path, prefix: str) -> None:
        self.page, self.n, self.prefix = page, 0, prefix
        self.folder = Path(os.environ.get("HUGGINGGPT_UI_SCREENSHOTS") or tmp / "shots")
        self.folder.mkdir(parents=True, exist_ok=True)

    async def take(self, name: str) -> None:
        self.n += 1
        await self.page.screenshot(path=str(self.folder / f"{self.prefix}-{self.n}-{name}.png"), full_page=True)


async def drop(page: Any, path: Path, media_type: str) -> None:
    data = await page.evaluate_handle(DROP, [path.name, media_type, base64.b64encode(path.read_bytes()).decode()])
    await page.locator("form.composer").dispatch_event("drop", {"dataTransfer": data})


async def test_upload_ask_watch_the_plan_and_hear_the_answer(page: Any, stack: Stack, media: Path,
                                                             tmp_path: Path) -> None:
    shots = Shots(page, tmp_path, "chat")
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url.split("/", 3)[3]))
    gate = stack.script.hold_executor = asyncio.Event()
    await drop(page, media / "fruits.jpg", "image/jpeg")
    await page.locator("input[type=file]").set_input_files(str(media / "speech_fox.wav"))
    await page.fill("textarea", "What fruit is this? Read the caption aloud.")
    assert await page.locator(".pending li").all_inner_texts() == ["fruits.jpg×", "speech_fox.wav×"]
    await shots.take("files-attached")

    await page.click("button[type=submit]")
    await page.wait_for_selector('svg.plan g.node[data-task="2"]')  # the plan is drawn while task 1 runs
    await page.wait_for_selector('svg.plan g.node[data-task="1"][data-state="running"]')
    assert await page.locator('g.node[data-task="2"]').get_attribute("data-state") == "planned"
    assert await page.locator("svg.plan line.edge").count() == 1
    await shots.take("plan-streaming-task-running")

    gate.set()
    await page.wait_for_selector("audio[data-name='speech.wav']")
    await page.wait_for_function("document.querySelector('.answer').textContent.endsWith('read aloud.')")
    states = [await page.locator(f'g.node[data-task="{i}"]').get_attribute("data-state") for i in (1, 2)]
    assert states == ["done", "done"]
    assert "model-for-text-to-speech" in await page.locator('.tasks li[data-task="2"]').inner_text()
    assert await page.locator("audio").evaluate("a => a.src.startsWith('blob:')")
    assert "2 succeeded, 0 failed" in await page.locator(".summary").inner_text()
    first_byte = int(await page.locator(".turn").get_attribute("data-first-byte-ms") or -1)
    first_plan = int(await page.locator(".turn").get_attribute("data-first-plan-ms") or -1)
    assert 0 <= first_byte <= first_plan
    await shots.take("answer-and-audio")

    assert calls.count("hugginggpt.v1.GatewayService/UploadArtifact") == 2  # the UI speaks the contract
    assert "hugginggpt.v1.GatewayService/Chat" in calls and "hugginggpt.v1.GatewayService/DownloadArtifact" in calls
    assert not [c for c in calls if c.startswith("v1/")]
    attached = stack.record.plan_requests[0].messages[-1].attachments
    assert [a.media_type for a in attached] == ["image/jpeg", "audio/wav"]
    assert await page.locator(".sessions li").count() == 1


async def test_errors_are_shown_in_words_and_sessions_resume(page: Any, stack: Stack, tmp_path: Path) -> None:
    shots = Shots(page, tmp_path, "errors")
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"%PDF-1.4 not an image")
    await drop(page, document, "application/pdf")
    await page.fill("textarea", "Summarise this contract")
    await page.click("button[type=submit]")
    alert = page.locator(".turn .error")
    await alert.wait_for()
    assert "contract.pdf: 'contract.pdf' has type application/pdf; only image, audio, video and text files are " \
        "accepted" in await alert.inner_text()
    await shots.take("error-in-words")

    await page.fill("textarea", "Say something")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".summary")
    await page.click("button.new")
    assert await page.locator(".turn").count() == 0
    await page.click(".sessions li button")
    await page.wait_for_selector(".turn .answer")
    assert await page.locator(".turn .user").inner_text() == "Say something"
    assert "read aloud." in await page.locator(".turn .answer").inner_text()
    await shots.take("session-resumed")


CONNECT_CHAT = """async (content) => {
  const json = new TextEncoder().encode(JSON.stringify({ content }));
  const body = new Uint8Array(5 + json.length);
  new DataView(body.buffer).setUint32(1, json.length);
  body.set(json, 5);
  const reply = await fetch("/hugginggpt.v1.GatewayService/Chat", {
    method: "POST", headers: { "content-type": "application/connect+json" }, body });
  const bytes = new Uint8Array(await reply.arrayBuffer());
  const frames = [];
  for (let i = 0; i < bytes.length; ) {
    const size = new DataView(bytes.buffer, i + 1, 4).getUint32(0);
    const text = new TextDecoder().decode(bytes.subarray(i + 5, i + 5 + size));
    frames.push({ end: bytes[i] === 2, message: JSON.parse(text) });
    i += 5 + size;
  }
  return frames;
}"""
CONNECT_UNARY = """async ([method, request]) => {
  const reply = await fetch(`/hugginggpt.v1.GatewayService/${method}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
  return { status: reply.status, body: await reply.json() };
}"""


async def test_the_browser_speaks_the_gateways_contract_over_connect(page: Any, stack: Stack) -> None:
    plan = await page.evaluate(CONNECT_UNARY, ["PlanTasks", {"content": "caption it and read it aloud"}])
    assert plan["status"] == 200
    assert [t["type"] for t in plan["body"]["plan"]["plan"]["tasks"]] == ["image-to-text", "text-to-speech"]
    frames = await page.evaluate(CONNECT_CHAT, "caption it and read it aloud")
    events = [f["message"] for f in frames if not f["end"]]
    assert next(iter(events[0])) in {"requestId", "sessionId"} and "plannedTask" in events[0]
    assert events[-1]["summary"]["answer"] == "I see fruit; here it is read aloud."
    assert frames[-1] == {"end": True, "message": {}}  # the stream ended without an error
    missing = await page.evaluate(CONNECT_UNARY, ["GetSession", {"sessionId": "no-such-session"}])
    assert missing["status"] == 404 and missing["body"]["code"] == "not_found"
    assert "no-such-session" in missing["body"]["message"]
    stack.script.plan_error = (grpc.StatusCode.INVALID_ARGUMENT, "the request names no task the planner knows")
    refused = await page.evaluate(CONNECT_CHAT, "gibberish")
    assert refused[-1]["end"] and refused[-1]["message"]["error"]["code"] == "invalid_argument"
    assert "no task the planner knows" in refused[-1]["message"]["error"]["message"]
