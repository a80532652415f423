// The gateway's own contract from the browser: GatewayService over the Connect protocol, served by the edge,
// with code generated from protos/ (src/gen, by buf + protoc-gen-es). Events reach the UI as the proto's JSON
// (proto field names, enums by name), the shape gateway.proto documents.
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { MessageSchema } from "./gen/hugginggpt/v1/common_pb.js";
import {
  ChatResponseSchema, GatewayService, UploadArtifactRequestSchema, UploadArtifactResponseSchema,
} from "./gen/hugginggpt/v1/gateway_pb.js";

const CHUNK = 64 * 1024;
const asJson = (schema, message) => toJson(schema, message, { useProtoFieldName: true });

export class ApiError extends Error {}

function gateway(token) {
  const auth = (next) => (req) => {
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: window.location.origin, interceptors: [auth] });
  return createClient(GatewayService, transport);
}

// The words a person reads for a failed call: the gateway's (or the edge's) own message.
function words(error) {
  if (error instanceof ConnectError) return new ApiError(error.rawMessage || error.message);
  return error instanceof Error ? error : new ApiError(String(error));
}

function envelope(flags, bytes) {
  const out = new Uint8Array(5 + bytes.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

// UploadArtifact is client streaming, which connect-web does not offer (fetch cannot stream a request body);
// the Connect protocol still takes the whole stream as one request body, so it is sent that way.
export async function upload(file, token) {
  const data = new Uint8Array(await file.arrayBuffer());
  const items = [{ case: "metadata", value: { name: file.name, mediaType: file.type } }];
  for (let i = 0; i < data.length; i += CHUNK) items.push({ case: "chunk", value: data.subarray(i, i + CHUNK) });
  const body = items.map((item) => envelope(0, toBinary(UploadArtifactRequestSchema,
    create(UploadArtifactRequestSchema, { item }))));
  const headers = { "content-type": "application/connect+proto", "connect-protocol-version": "1" };
  if (token) headers.authorization = `Bearer ${token}`;
  const reply = new Uint8Array(await (await fetch("hugginggpt.v1.GatewayService/UploadArtifact", {
    method: "POST", headers, body: new Blob(body) })).arrayBuffer());
  let artifact;
  for (let i = 0; i < reply.length;) {
    const size = new DataView(reply.buffer, i + 1, 4).getUint32(0);
    const payload = reply.subarray(i + 5, i + 5 + size);
    if (reply[i] & 2) {  // the end of the stream: an error, or nothing
      const end = JSON.parse(new TextDecoder().decode(payload));
      if (end.error) throw new ApiError(`${file.name}: ${end.error.message}`);
    } else {
      artifact = fromBinary(UploadArtifactResponseSchema, payload).artifact;
    }
    i += 5 + size;
  }
  if (!artifact) throw new ApiError(`${file.name}: the edge answered without an artifact`);
  return artifact;
}

// Uploads the files, streams one Chat and calls onEvent(event) for each event; resolves when the turn ends.
// onTiming(name) marks "sent" (the Chat call starts) and "first-byte" (its first event is in).
export async function chat({ text, files, sessionId, token, onEvent, onTiming = () => {} }) {
  try {
    const attachments = [];
    for (const file of files) attachments.push(await upload(file, token));
    onTiming("sent");
    let first = true;
    for await (const event of gateway(token).chat({ content: text, attachments, sessionId })) {
      if (first) onTiming("first-byte");
      first = false;
      onEvent(asJson(ChatResponseSchema, event));
    }
  } catch (error) {
    throw words(error);
  }
}

// The messages of a stored conversation, oldest first ({role: "ROLE_USER", content, attachments}).
export async function session(id, token) {
  try {
    const reply = await gateway(token).getSession({ sessionId: id });
    return reply.messages.map((m) => asJson(MessageSchema, m));
  } catch (error) {
    throw words(error);
  }
}

// A generated file as an object URL, streamed with DownloadArtifact.
export async function fileUrl(uri, token) {
  try {
    const parts = [];
    let type = "application/octet-stream";
    for await (const message of gateway(token).downloadArtifact({ uri })) {
      if (message.item.case === "artifact") type = message.item.value.mediaType;
      else if (message.item.case === "chunk") parts.push(message.item.value);
    }
    return URL.createObjectURL(new Blob(parts, { type }));
  } catch (error) {
    throw words(error);
  }
}
