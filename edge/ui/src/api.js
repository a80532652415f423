// The edge's HTTP API as the UI uses it: a streamed chat completion (SSE) whose chunks carry the gateway's
// stage events in the `hugginggpt` extension field, sessions, and generated files fetched with the token.

const AUDIO_FORMATS = { "audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/flac": "flac",
  "audio/ogg": "ogg" };

export class ApiError extends Error {}

function headers(token, json) {
  const h = {};
  if (token) h.authorization = `Bearer ${token}`;
  if (json) h["content-type"] = "application/json";
  return h;
}

// The message a person reads, from an OpenAI-shaped error body or whatever came back.
async function failure(response) {
  try {
    const body = await response.json();
    if (body.error && body.error.message) return new ApiError(body.error.message);
  } catch (_) { /* not JSON */ }
  return new ApiError(`the server answered ${response.status} ${response.statusText}`);
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new ApiError(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

// A content part for one file: audio in a format the API names goes as input_audio, the rest as a data URL.
export async function filePart(file) {
  const url = await readAsDataUrl(file);
  const format = AUDIO_FORMATS[file.type];
  if (format) return { type: "input_audio", input_audio: { data: url.split(",", 2)[1], format } };
  return { type: "image_url", image_url: { url } };
}

// Sends one turn and calls onEvent(event) for every stage event as it arrives; resolves when the turn ends.
// onTiming(name) marks "sent" (the request leaves) and "first-byte" (the reply's headers are in).
export async function chat({ text, files, sessionId, token, onEvent, onTiming = () => {}, signal }) {
  const parts = [{ type: "text", text }, ...(await Promise.all(files.map(filePart)))];
  const body = { model: "hugginggpt", stream: true, messages: [{ role: "user", content: parts }] };
  if (sessionId) body.session_id = sessionId;
  onTiming("sent");
  const response = await fetch("v1/chat/completions", {
    method: "POST", headers: headers(token, true), body: JSON.stringify(body), signal,
  });
  onTiming("first-byte");
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const message = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      handle(message, onEvent);
    }
  }
}

function handle(message, onEvent) {
  const data = message.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
  if (!data || data === "[DONE]") return;
  const chunk = JSON.parse(data);
  if (chunk.error) throw new ApiError(chunk.error.message);
  if (chunk.hugginggpt) onEvent(chunk.hugginggpt);
}

// The messages of a stored conversation, oldest first.
export async function session(id, token) {
  const response = await fetch(`v1/sessions/${encodeURIComponent(id)}`, { headers: headers(token, false) });
  if (!response.ok) throw await failure(response);
  return (await response.json()).messages;
}

// A generated file as an object URL (fetched with the token, so it works when the edge asks for one).
export async function fileUrl(url, token) {
  const response = await fetch(url, { headers: headers(token, false) });
  if (!response.ok) throw await failure(response);
  return URL.createObjectURL(await response.blob());
}
