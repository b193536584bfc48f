'use strict';
// The one module perf/ and test/e2e/ use for ONNX Runtime: loading the pinned
// onnxruntime-node (tools/ort), a dependency-free protobuf walker, TensorProto
// decoding, seeded inputs (one PRNG), sessions without graph optimization or
// weight prepacking, and output comparison (bit for bit, or within
// atol + rtol * |a|).
const fs = require('fs');
const path = require('path');

// onnxruntime-node from $ORT_NODE_MODULES, else the pinned package beside this
// file (tools/ort/node_modules, `npm install --ignore-scripts`), else Node's
// resolution. Logging is kept to fatal errors.
function loadOrt() {
  const cands = [process.env.ORT_NODE_MODULES, path.join(__dirname, 'node_modules')]
    .filter(Boolean);
  let ort = null;
  for (const c of cands) {
    const p = path.join(c, 'onnxruntime-node');
    if (fs.existsSync(p)) { ort = require(p); break; }
  }
  if (!ort) ort = require('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  return ort;
}

// ---- protobuf walker ----
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

// ---- TensorProto decoding, sessions, exact comparison ----
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

// ---- deterministic PRNG (mulberry32 seeded with FNV-1a of seed/name) ----
function fnv1a(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gauss(rng) {
  const u = Math.max(rng(), 1e-12);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// float32 -> IEEE half bits (round to nearest even), for float16 inputs
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v) {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  let e = ((x >>> 23) & 0xff) - 127 + 15;
  let m = x & 0x7fffff;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m = (m | 0x800000) >> (1 - e);
    return sign | ((m + 0xfff + ((m >> 13) & 1)) >> 13);
  }
  const r = (m + 0xfff + ((m >> 13) & 1)) >> 13;
  return sign | ((e << 10) + r);
}
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// ---- seeded inputs ----
// Deterministic inputs for a session (mulberry32 over FNV-1a of seed and name).
function seededFeeds(ort, session, seed, dims) {
  const feeds = {};
  const meta = session.inputMetadata || [];
  session.inputNames.forEach((name, idx) => {
    const m = Array.isArray(meta) ? meta[idx] : meta[name];
    const rng = mulberry32(fnv1a(`${seed}:${name}`));
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

// Gaussian floats and uniform ints from --dim/--shape/--seed/--int-range
// options (perf/ort_run.js); returns {feeds, desc}.
function resolveDim(d, o) {
  if (typeof d === 'number' && d > 0) return d;
  const name = typeof d === 'string' ? d : '';
  if (name && o.dims[name] !== undefined) return o.dims[name];
  if (o.dims['*'] !== undefined) return o.dims['*'];
  const n = name.toLowerCase();
  if (/seq|len|time|token|frames|^t$/.test(n)) return 16;
  if (/height|width|^h$|^w$/.test(n)) return 224;
  return 1;
}

const TYPED = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, bool: Uint8Array,
  uint32: Uint32Array, uint64: BigUint64Array, float16: Uint16Array,
};

function makeFeeds(ort, session, o) {
  const feeds = {};
  const desc = [];
  for (const md of session.inputMetadata) {
    if (!md.isTensor) throw new Error(`non-tensor input ${md.name} not supported`);
    const shape = o.shapes[md.name] || md.shape.map((d) => resolveDim(d, o));
    const n = shape.reduce((x, y) => x * y, 1);
    const rng = mulberry32(fnv1a(`${o.seed}|${md.name}|${shape.join('x')}`));
    const T = TYPED[md.type];
    if (!T) throw new Error(`unsupported input type ${md.type} for ${md.name}`);
    const data = new T(n);
    const [lo, hi] = o.intRanges[md.name] || o.intRange;
    for (let i = 0; i < n; i++) {
      if (md.type === 'float32' || md.type === 'float64') data[i] = gauss(rng);
      else if (md.type === 'float16') data[i] = toHalf(gauss(rng));
      else if (md.type === 'bool') data[i] = i % 8 === 7 ? 1 : 0; // sparse, never the first
      else if (md.type === 'int64' || md.type === 'uint64') data[i] = BigInt(lo + Math.floor(rng() * (hi - lo)));
      else data[i] = lo + Math.floor(rng() * (hi - lo));
    }
    feeds[md.name] = new ort.Tensor(md.type, data, shape);
    desc.push({ name: md.name, type: md.type, shape, meta_shape: md.shape });
  }
  return { feeds, desc };
}

function toNumberArray(t) {
  const d = t.data;
  if (t.type === 'float16') {
    if (typeof Float16Array !== 'undefined' && d instanceof Float16Array) return Float64Array.from(d);
    return Float64Array.from(d, (h) => fromHalf(h));
  }
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d, (x) => Number(x));
  if (Array.isArray(d)) return null; // strings
  return d;
}

function checksum(t) {
  const d = toNumberArray(t);
  const out = { type: t.type, dims: Array.from(t.dims) };
  if (!d) { out.note = 'non-numeric'; return out; }
  let sum = 0; let asum = 0; let l2 = 0; let nan = 0; let inf = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (Number.isNaN(v)) { nan++; continue; }
    if (!Number.isFinite(v)) { inf++; continue; }
    sum += v; asum += Math.abs(v); l2 += v * v;
  }
  const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
  Object.assign(out, {
    n: d.length, sum: +sum.toPrecision(10), abs_sum: +asum.toPrecision(10), l2: +Math.sqrt(l2).toPrecision(10),
    nan, inf, fnv1a: (h >>> 0).toString(16).padStart(8, '0'),
    head: Array.from(d.slice(0, 4), (x) => +Number(x).toPrecision(6)),
  });
  return out;
}

function compare(a, b, o) {
  const r = { dims_a: Array.from(a.dims), dims_b: Array.from(b.dims), type_a: a.type, type_b: b.type };
  if (a.type !== b.type || r.dims_a.join('x') !== r.dims_b.join('x')) { r.status = 'MISMATCH_SHAPE_OR_TYPE'; return r; }
  const x = toNumberArray(a); const y = toNumberArray(b);
  if (!x) { r.status = JSON.stringify(a.data) === JSON.stringify(b.data) ? 'ok' : 'DIFF'; return r; }
  let maxAbs = 0; let maxRel = 0; let bad = 0; let nanMismatch = 0; let argmax = -1;
  for (let i = 0; i < x.length; i++) {
    const p = x[i]; const q = y[i];
    if (Number.isNaN(p) || Number.isNaN(q)) { if (Number.isNaN(p) !== Number.isNaN(q)) nanMismatch++; continue; }
    if (p === q) continue; // also covers equal infinities
    const d = Math.abs(p - q);
    if (!Number.isFinite(d)) { bad++; continue; }
    if (d > maxAbs) { maxAbs = d; argmax = i; }
    const rel = d / Math.max(Math.abs(p), 1e-12);
    if (rel > maxRel) maxRel = rel;
    if (d > o.atol + o.rtol * Math.abs(p)) bad++;
  }
  Object.assign(r, {
    max_abs: +maxAbs.toPrecision(4), max_rel: +maxRel.toPrecision(4), n: x.length, n_bad: bad,
    nan_mismatch: nanMismatch, at: argmax,
    status: bad === 0 && nanMismatch === 0 ? 'ok' : 'TOL',
  });
  return r;
}

function stats(ts) {
  const s = [...ts].sort((p, q) => p - q);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1) + 0.5))];
  return { median_ms: +q(0.5).toFixed(3), p10_ms: +q(0.1).toFixed(3), p90_ms: +q(0.9).toFixed(3), runs: s.length };
}

module.exports = {
  loadOrt, readVarint, fields, decodeTensor, tensorBytes, createSession, run, diffExact,
  fnv1a, mulberry32, gauss, toHalf, fromHalf, seededFeeds, resolveDim, makeFeeds,
  toNumberArray, checksum, compare,
};
