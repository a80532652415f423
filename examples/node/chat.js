#!/usr/bin/env node
// A HuggingGPT client in Node: uploads files, streams a Chat and prints each event as it arrives.
// Usage: node chat.js "REQUEST" [--file PATH ...] [--session ID]
// The gateway's address comes from HUGGINGGPT_GATEWAY_ADDRESS (default 127.0.0.1:50050), its bearer
// token (when it checks one) from HUGGINGGPT_GATEWAY_AUTH_TOKEN. The contract is read from protos/ at run time.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const PROTOS = path.resolve(__dirname, "..", "..", "protos");
const CHUNK_BYTES = 64 * 1024;
const MEDIA_TYPES = {
  ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
  ".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".mp4": "video/mp4", ".txt": "text/plain",
};

function parseArgs(argv) {
  const args = { request: "", files: [], session: "" };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--file") args.files.push(argv[++i]);
    else if (argv[i] === "--session") args.session = argv[++i];
    else if (!args.request) args.request = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!args.request || args.files.includes(undefined)) {
    throw new Error('usage: node chat.js "REQUEST" [--file PATH ...] [--session ID]');
  }
  return args;
}

function gatewayClient(address) {
  const definition = protoLoader.loadSync("hugginggpt/v1/gateway.proto", {
    includeDirs: [PROTOS], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const { GatewayService } = grpc.loadPackageDefinition(definition).hugginggpt.v1;
  return new GatewayService(address, grpc.credentials.createInsecure());
}

function metadata() {
  const md = new grpc.Metadata();
  const token = process.env.HUGGINGGPT_GATEWAY_AUTH_TOKEN;
  if (token) md.set("authorization", `Bearer ${token}`);
  return md;
}

function upload(client, file) {
  return new Promise((resolve, reject) => {
    const call = client.UploadArtifact(metadata(), (err, reply) => (err ? reject(err) : resolve(reply.artifact)));
    const mediaType = MEDIA_TYPES[path.extname(file).toLowerCase()] || "";
    call.write({ metadata: { name: path.basename(file), media_type: mediaType } });
    const data = fs.readFileSync(file);
    for (let start = 0; start < data.length; start += CHUNK_BYTES) {
      call.write({ chunk: data.subarray(start, start + CHUNK_BYTES) });
    }
    call.end();
  });
}

function describe(event) {
  switch (event.event) {
    case "planned_task": {
      const t = event.planned_task;
      return `planned  task ${t.id} ${t.type} dep [${t.dependencies.join(", ")}]\n`;
    }
    case "plan": return `plan: ${event.plan.plan.tasks.length} tasks\n`;
    case "selections":
      return event.selections.selections.map((s) => `model    task ${s.task_id} -> ${s.chosen.model_id}\n`).join("");
    case "task": {
      const t = event.task;
      const state = t.state.replace("TASK_STATE_", "").toLowerCase();
      return `task ${t.task_id} ${t.task_type} ${state}${t.reason ? `: ${t.reason}` : ""}\n`;
    }
    case "answer_delta": return event.answer_delta;
    case "summary": {
      const s = event.summary;
      const files = s.artifacts.map((a) => `file: ${a.uri}\n`).join("");
      return `\ndone: ${s.tasks_succeeded} succeeded, ${s.tasks_failed} failed\n${files}session: ${event.session_id}\n`;
    }
    default: return "";
  }
}

function chat(client, request, attachments, session) {
  return new Promise((resolve, reject) => {
    const call = client.Chat({ content: request, attachments, session_id: session }, metadata());
    call.on("data", (event) => process.stdout.write(describe(event)));
    call.on("error", reject);
    call.on("end", resolve);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const client = gatewayClient(process.env.HUGGINGGPT_GATEWAY_ADDRESS || "127.0.0.1:50050");
  try {
    const attachments = [];
    for (const file of args.files) {
      const artifact = await upload(client, file);
      process.stdout.write(`uploaded ${file} as ${artifact.uri}\n`);
      attachments.push(artifact);
    }
    await chat(client, args.request, attachments, args.session);
  } finally {
    client.close();
  }
}

main().catch((err) => {
  const code = err.code !== undefined ? `${grpc.status[err.code]}: ` : "";
  process.stderr.write(`error: ${code}${err.details || err.message}\n`);
  process.exit(1);
});
