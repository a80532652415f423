// A long-lived TensorFlow.js (wasm backend) server for one graph model, spoken to over stdin/stdout JSON lines.
//
// Usage: node tfjs_graph_server.js MODULES_DIR MODEL_JSON [THREADS]
//   MODULES_DIR: a folder whose node_modules holds @tensorflow/tfjs-{core,converter,backend-cpu,backend-wasm}
//   MODEL_JSON:  a tfjs graph model (model.json beside its .bin weight files)
// On start it loads the model, runs one warm-up and prints {"ready": true, "input": [...], "outputs": [...],
// "load_ms": N}. Then each stdin line {"id", "shape": [..], "data": BASE64 float32 little-endian,
// "outputs": [names]} is answered by one line {"id", "outputs": {name: {"shape", "data": BASE64}}, "ms"} or
// {"id", "error": "..."}: a bad request fails only itself; the process and the loaded model live on.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');
const readline = require('readline');

const [modulesDir, modelJson, threadArg] = process.argv.slice(2);
if (!modulesDir || !modelJson) {
  process.stderr.write('usage: node tfjs_graph_server.js MODULES_DIR MODEL_JSON [THREADS]\n');
  process.exit(2);
}
const req = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const tf = req('@tensorflow/tfjs-core');
req('@tensorflow/tfjs-backend-cpu');
const wasm = req('@tensorflow/tfjs-backend-wasm');
const { loadGraphModel } = req('@tensorflow/tfjs-converter');

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function toFloat32(b64) {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % 4 !== 0) throw new Error(`data is ${buf.length} bytes, not a whole number of float32s`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

async function loadModel(file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dir = path.dirname(file);
  const specs = [];
  const parts = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
  }
  const bin = Buffer.concat(parts);
  const artifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
  };
  return loadGraphModel({ load: async () => artifacts });
}

async function main() {
  const t0 = Date.now();
  const wasmDir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(wasmDir + path.sep);
  if (threadArg && wasm.setThreadsCount) wasm.setThreadsCount(Number(threadArg));
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
  await tf.ready();
  const model = await loadModel(modelJson);
  const sig = model.modelSignature || {};
  const inputs = Object.values(sig.inputs || {}).map((i) => ({
    name: i.name, shape: (i.tensorShape.dim || []).map((d) => Number(d.size)),
  }));
  const outputs = Object.keys(sig.outputs || {});
  if (inputs.length === 1 && inputs[0].shape.every((d) => d > 0)) {
    const warm = tf.zeros(inputs[0].shape);
    const out = model.execute(warm, outputs.length ? outputs : undefined);
    tf.dispose([warm, out]);
  }
  send({ ready: true, backend: tf.getBackend(), inputs, outputs, load_ms: Date.now() - t0 });

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let id = null;
    try {
      const msg = JSON.parse(line);
      id = msg.id === undefined ? null : msg.id;
      const t1 = Date.now();
      const shape = msg.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new Error('shape must be a list of positive integers');
      }
      const values = toFloat32(msg.data || '');
      const expected = shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new Error(`data holds ${values.length} values; shape needs ${expected}`);
      const names = Array.isArray(msg.outputs) && msg.outputs.length ? msg.outputs : outputs;
      const result = tf.tidy(() => {
        const x = tf.tensor(values, shape, 'float32');
        const out = model.execute(x, names);
        return Array.isArray(out) ? out : [out];
      });
      const answer = {};
      for (let i = 0; i < result.length; i++) {
        const data = await result[i].data();
        answer[names[i]] = {
          shape: result[i].shape,
          data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
        };
      }
      tf.dispose(result);
      send({ id, outputs: answer, ms: Date.now() - t1 });
    } catch (err) {
      send({ id, error: String((err && err.message) || err) });
    }
  }
}

main().catch((err) => {
  send({ ready: false, error: String((err && err.stack) || err) });
  process.exit(1);
});
