#!/usr/bin/env node
'use strict';
// Runs a classic-ML model in ONNX Runtime and prints its tensor outputs as
// JSON, for test/ml/run_ml_test.py.
//
//   node ort_ml.js MODEL INPUT.f32 N,F [OUTPUT ...]
//   node ort_ml.js MODEL --feeds FEEDS.json [OUTPUT ...]
//
// INPUT.f32 holds N*F little-endian float32 values for the model's first
// input; FEEDS.json maps input names to {type, dims, data} (float32, int64
// or string). Without OUTPUT names every output is fetched (ZipMap's
// sequence of maps is not a tensor: name the tensor outputs instead).
const fs = require('fs');
const path = require('path');
const ortlib = require(path.join(__dirname, '..', '..', 'tools', 'ort', 'ortlib.js'));

async function main() {
  const [model, input, shape, ...fetch] = process.argv.slice(2);
  const ort = ortlib.loadOrt();
  const s = await ortlib.createSession(ort, model);
  const feeds = {};
  if (input === '--feeds') {
    for (const [name, f] of Object.entries(JSON.parse(fs.readFileSync(shape, 'utf8')))) {
      // NaN travels as null (JSON has no NaN).
      const data = f.type === 'float32' ? Float32Array.from(f.data, (v) => (v === null ? NaN : v))
        : f.type === 'int64' ? BigInt64Array.from(f.data.map(BigInt)) : f.data;
      feeds[name] = new ort.Tensor(f.type, data, f.dims);
    }
  } else {
    const dims = shape.split(',').map(Number);
    const buf = fs.readFileSync(input);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    feeds[s.inputNames[0]] = new ort.Tensor('float32', data, dims);
  }
  const out = fetch.length ? await s.run(feeds, fetch) : await s.run(feeds);
  const res = {};
  for (const [name, t] of Object.entries(out))
    res[name] = { type: t.type, dims: t.dims,
                  data: t.type === 'string' ? Array.from(t.data)
                                            : Array.from(t.data, (v) => Number(v)) };
  process.stdout.write(JSON.stringify(res));
}
main().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
