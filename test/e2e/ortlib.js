'use strict';
// Shared helpers for the ONNX Runtime oracle: TensorProto decoding, ORT loading,
// seeded inputs and exact output comparison.
const fs = require('fs');
const path = require('path');

function loadOrt() {
  const dir = process.env.ORT_NODE_MODULES ||
    path.join(__dirname, '..', '..', 'tools', 'ort', 'node_modules');
  const ort = require(path.join(dir, 'onnxruntime-node'));
  ort.env.logLevel = 'fatal';
  return ort;
}

function readVarint(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    shift += 7n;
  }
  return [result, pos];
}

// Calls cb(field, wire, start, end, varint) for each field of buf[start, end).
function fields(buf, start, end, cb) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      cb(field, wire, 0, 0, v);
    } else if (wire === 1) {
      cb(field, wire, pos, pos + 8);
      pos += 8;
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      cb(field, wire, pos, pos + Number(len));
      pos += Number(len);
    } else if (wire === 5) {
      cb(field, wire, pos, pos + 4);
      pos += 4;
    } else throw new Error(`wire type ${wire}`);
  }
}

const TYPES = {
  1: ['float32', Float32Array], 2: ['uint8', Uint8Array], 3: ['int8', Int8Array],
  4: ['uint16', Uint16Array], 5: ['int16', Int16Array], 6: ['int32', Int32Array],
  7: ['int64', BigInt64Array], 8: ['string', null], 9: ['bool', Uint8Array],
  10: ['float16', Uint16Array], 11: ['float64', Float64Array], 12: ['uint32', Uint32Array],
  13: ['uint64', BigUint64Array],
};

// Decodes a serialized TensorProto into {name, type, dims, data} or null when the
// type cannot be fed to ONNX Runtime from Node.
function decodeTensor(buf) {
  try { return decodeTensorUnchecked(buf); } catch (e) { return null; }
}

function decodeTensorUnchecked(buf) {
  const t = { name: '', dims: [], dtype: 0, raw: null, vals: [], strings: [] };
  fields(buf, 0, buf.length, (f, w, a, b, v) => {
    if (f === 1) {
      if (w === 0) t.dims.push(Number(BigInt.asIntN(64, v)));
      else { let p = a; while (p < b) { let x; [x, p] = readVarint(buf, p); t.dims.push(Number(BigInt.asIntN(64, x))); } }
    } else if (f === 2) t.dtype = Number(v);
    else if (f === 8) t.name = buf.toString('utf8', a, b);
    else if (f === 9) t.raw = buf.subarray(a, b);
    else if (f === 6) t.strings.push(buf.toString('utf8', a, b));
    else if (f === 4 || f === 10) {
      const size = f === 4 ? 4 : 8;
      if (w === 2) for (let p = a; p < b; p += size) t.vals.push(size === 4 ? buf.readFloatLE(p) : buf.readDoubleLE(p));
      else t.vals.push(size === 4 ? buf.readFloatLE(a) : buf.readDoubleLE(a));
    } else if (f === 5 || f === 7 || f === 11) {
      if (w === 0) t.vals.push(v);
      else { let p = a; while (p < b) { let x; [x, p] = readVarint(buf, p); t.vals.push(x); } }
    }
  });
  const info = TYPES[t.dtype];
  if (!info) return null;
  const [type, Arr] = info;
  const n = t.dims.reduce((x, y) => x * y, 1);
  // Sequence/Optional/Map protos decode as garbage tensors: reject what is inconsistent.
  if (!Number.isSafeInteger(n) || n < 0 || n > 1e8) return null;
  if (type !== 'string' && t.raw && t.raw.length !== n * (Arr.BYTES_PER_ELEMENT)) return null;
  if (type !== 'string' && !t.raw && t.vals.length !== n) return null;
  if (type === 'string' && t.strings.length !== n) return null;
  let data;
  if (type === 'string') data = t.strings;
  else if (t.raw) {
    // A fresh array, not a view into Node's Buffer pool: ORT's vectorized
    // kernels round differently for misaligned inputs (a reduction over a
    // graph input at byte offset 72 differs by an ulp from the same values at
    // an aligned address), which would blame a graph change for ORT's
    // alignment sensitivity.
    data = new Arr(n);
    new Uint8Array(data.buffer).set(t.raw);
  } else {
    data = new Arr(n);
    for (let i = 0; i < n; i++) {
      const x = t.vals[i];
      if (Arr === BigInt64Array) data[i] = BigInt.asIntN(64, BigInt(x));
      else if (Arr === BigUint64Array) data[i] = BigInt.asUintN(64, BigInt(x));
      else data[i] = typeof x === 'bigint' ? Number(BigInt.asIntN(64, x)) : x;
    }
  }
  return { name: t.name, type, dims: t.dims, data };
}

// Bytes of a tensor's data, for exact comparison.
function tensorBytes(t) {
  if (t.type === 'string') return Buffer.from(JSON.stringify(t.data));
  const d = t.data;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

// No graph optimization and no weight prepacking: ORT prepacks MatMul/Gemm/
// LSTM weights that are initializers (not computed tensors) and the packed
// kernels sum in another order, so folding a computed weight into an
// initializer would move results by an ulp for reasons outside the graph.
async function createSession(ort, file) {
  return ort.InferenceSession.create(file, {
    graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1,
    extra: { session: { disable_prepacking: '1' } },
  });
}

// Runs `file` on feeds; returns {name: tensor}.
async function run(ort, file, feeds) {
  const s = await createSession(ort, file);
  const out = await s.run(feeds);
  if (s.release) await s.release();
  return out;
}

// Compares two output maps bit for bit; returns null or a description.
function diffExact(a, b, names) {
  for (const n of names) {
    const x = a[n], y = b[n];
    if (!x || !y) return `output '${n}' missing`;
    if (x.type !== y.type) return `output '${n}' type ${x.type} vs ${y.type}`;
    if (JSON.stringify(x.dims) !== JSON.stringify(y.dims)) return `output '${n}' dims differ`;
    if (!tensorBytes(x).equals(tensorBytes(y))) return `output '${n}' bytes differ`;
  }
  return null;
}

// Deterministic inputs for a session (mulberry32 over FNV-1a of seed and name).
function seededFeeds(ort, session, seed, dims) {
  const feeds = {};
  const meta = session.inputMetadata || [];
  session.inputNames.forEach((name, idx) => {
    const m = Array.isArray(meta) ? meta[idx] : meta[name];
    let h = 0x811c9dc5;
    for (const c of `${seed}:${name}`) { h ^= c.charCodeAt(0); h = Math.imul(h, 0x01000193) >>> 0; }
    let a = h;
    const rng = () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const shape = (m.shape || []).map((d) => (typeof d === 'number' && d >= 0 ? d : (dims[d] || 1)));
    const n = shape.reduce((x, y) => x * y, 1);
    const type = m.type || 'float32';
    let data;
    if (type === 'float32') { data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = rng() * 2 - 1; }
    else if (type === 'int64') { data = new BigInt64Array(n); for (let i = 0; i < n; i++) data[i] = BigInt(Math.floor(rng() * (dims.__intMax || 10))); }
    else if (type === 'int32') { data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = Math.floor(rng() * 10); }
    else if (type === 'bool') { data = new Uint8Array(n); for (let i = 0; i < n; i++) data[i] = rng() < 0.5 ? 1 : 0; }
    else throw new Error(`input type ${type} not supported`);
    feeds[name] = new ort.Tensor(type, data, shape);
  });
  return feeds;
}

module.exports = { loadOrt, decodeTensor, run, createSession, diffExact, seededFeeds, fields };
