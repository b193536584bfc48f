'use strict';
// Opset conversion over ONNX's node conformance suite, with ONNX Runtime and
// the reference interpreter as oracles:
//   node opset_suite.js ONNX_OPT SUITE_DIR WORK_DIR [--only REGEX] [--jobs N]
// Every case at opset o is converted to each opset from o down to 11 and up
// to 17 (`onnx-opt model.onnx --target-opset=T -o out.onnx`, no other pass),
// then to 23 (the versions of 18..23 this build defines) and from there back
// to its own opset:
//   - exit 1 naming the node and what opset T cannot express is a refusal
//     (counted by reason); any other failure to convert fails the case;
//   - a converted model must import opset T; when ONNX Runtime runs the
//     original on the suite's inputs it must run the output with
//     bit-identical outputs, and so must the reference interpreter
//     (`--evaluate`) when it evaluates the original. Conversions that expand
//     an op into a chain (LayerNormalization, HardSwish) are compared within
//     atol 1e-5 + rtol 1e-4 instead.
// Prints failures, refusals by reason, and `N passed, N failed, N refused,
// N skipped` (conversions); exits 1 on a failure.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { loadOrt, fields, decodeTensor, createSession, diffExact, compare } = require('../../tools/ort/ortlib');

const MIN_DOWN = 11;
const MAX_UP = 17;
const NEWEST = 23;
const INEXACT_OPS = ['LayerNormalization', 'HardSwish'];
// Ops whose ONNX Runtime kernel for a newer version rounds otherwise than the
// older one's (AveragePool-19's dilated kernel: 1 ulp): the conversion is
// exact, ORT's outputs at that version are compared within tolerance.
const ORT_KERNEL_DIFFERS = { AveragePool: 19 };
// Conversions whose output ONNX Runtime has no kernel for (checked by the
// reference interpreter only).
const ortMissing = [];

function sh(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

// The default-domain opset a serialized ModelProto imports.
function onnxOpset(buf) {
  let version = 0;
  fields(buf, 0, buf.length, (f, w, a, b) => {
    if (f !== 8 || w !== 2) return;
    let domain = ''; let v = 0;
    fields(buf, a, b, (g, _w, c, d, x) => {
      if (g === 1) domain = buf.toString('utf8', c, d);
      else if (g === 2) v = Number(x);
    });
    if (domain === '' || domain === 'ai.onnx') version = v;
  });
  return version;
}

function feedsOf(ort, dataDir, inputNames) {
  if (!fs.existsSync(dataDir)) return null;
  const files = fs.readdirSync(dataDir).filter((x) => x.startsWith('input_'))
    .sort((x, y) => parseInt(x.slice(6)) - parseInt(y.slice(6)));
  if (files.length !== inputNames.length) return null;
  const feeds = {};
  for (let i = 0; i < files.length; i++) {
    const t = decodeTensor(fs.readFileSync(path.join(dataDir, files[i])));
    if (!t) return null;
    feeds[inputNames[i]] = new ort.Tensor(t.type, t.data, t.dims);
  }
  return feeds;
}

// Output tensors the reference interpreter wrote, in order, or null.
function readOutputs(dir) {
  const out = [];
  for (let k = 0; fs.existsSync(path.join(dir, `output_${k}.pb`)); k++) {
    const t = decodeTensor(fs.readFileSync(path.join(dir, `output_${k}.pb`)));
    if (!t) return null;
    out.push(t);
  }
  return out;
}

function sameOutputs(a, b, exact) {
  const names = Object.keys(a);
  if (exact) return diffExact(a, b, names);
  for (const n of names) {
    if (!b[n]) return `output '${n}' missing`;
    const r = compare(a[n], b[n], { atol: 1e-5, rtol: 1e-4 });
    if (r.status !== 'ok') return `output '${n}': ${r.status} max_abs ${r.max_abs}`;
  }
  return null;
}

async function runCase(ctx, c) {
  const { ort, onnxOpt, suiteDir, work } = ctx;
  const model = path.join(suiteDir, c, 'model.onnx');
  const bytes = fs.readFileSync(model);
  const own = onnxOpset(bytes);
  const exactConv = !INEXACT_OPS.some((op) => bytes.includes(op));
  const targets = [];
  if (own === 0) return []; // no ONNX domain (ai.onnx.preview.training only)
  for (let t = Math.min(own - 1, MAX_UP); t >= MIN_DOWN; t--) targets.push(t);
  for (let t = Math.max(own + 1, MIN_DOWN); t <= MAX_UP; t++) targets.push(t);
  // -t: from NEWEST back to t (its own opset, or MIN_DOWN for an older one)
  if (own < NEWEST) targets.push(NEWEST, -Math.max(own, MIN_DOWN));
  const dataDir = path.join(suiteDir, c, 'test_data_set_0');
  const dir = path.join(work, c);
  fs.mkdirSync(dir, { recursive: true });
  // The oracles on the original.
  let session = null; let feeds = null; let want = null;
  try {
    session = await createSession(ort, model);
    feeds = feedsOf(ort, dataDir, session.inputNames);
    if (feeds) want = await session.run(feeds);
  } catch (e) { want = null; }
  const refDir = path.join(dir, 'ref');
  fs.mkdirSync(refDir, { recursive: true });
  const ref = fs.existsSync(dataDir)
    ? await sh(onnxOpt, [model, '--evaluate', `--inputs=${dataDir}`, `--outputs=${refDir}`]) : { status: 1 };
  const refWant = ref.status === 0 ? readOutputs(refDir) : null;
  const results = [];
  for (const target of targets) {
    const back = target < 0;
    const t = Math.abs(target);
    const src = back ? path.join(dir, `opset${NEWEST}.onnx`) : model;
    if (back && !fs.existsSync(src)) continue; // the way up was refused
    const out = path.join(dir, back ? `back${t}.onnx` : `opset${t}.onnx`);
    const r = await sh(onnxOpt, [src, `--target-opset=${t}`, '-o', out]);
    const label = back ? `${c} ${own}->${NEWEST}->${t}` : `${c} ${own}->${t}`;
    if (r.status === 1 && /cannot be converted from opset \d+ to \d+: /.test(r.stderr) && !fs.existsSync(out)) {
      const why = r.stderr.replace(/^[^]*cannot be converted from opset \d+ to \d+: /, '').split('\n')[0]
        .replace(/'[^']*'/g, "'…'").replace(/opset \d+/g, 'opset N');
      results.push({ status: 'refused', label, why });
      continue;
    }
    if (r.status !== 0) { results.push({ status: 'failed', label, why: `exit ${r.status}: ${r.stderr.trim().split('\n').pop()}` }); continue; }
    const converted = fs.readFileSync(out);
    if (onnxOpset(converted) !== t) { results.push({ status: 'failed', label, why: `imports opset ${onnxOpset(converted)}` }); continue; }
    let checked = false;
    if (want) {
      let got;
      try {
        const s = await createSession(ort, out);
        got = await s.run(feeds);
      } catch (e) {
        const msg = String(e.message).split('\n')[0];
        // ONNX Runtime without a kernel for a version of 18..23 (its CPU
        // provider lacks RandomUniformLike-22, say): the reference
        // interpreter is the oracle then.
        if (!(t > MAX_UP && /Could not find an implementation for/.test(msg))) {
          results.push({ status: 'failed', label, why: `ORT: ${msg.slice(0, 200)}` });
          continue;
        }
        got = null;
        ortMissing.push(label);
      }
      if (got) {
        const ortExact = exactConv && !Object.entries(ORT_KERNEL_DIFFERS)
          .some(([op, v]) => t >= v && bytes.includes(op));
        const d = sameOutputs(want, got, ortExact);
        if (d) { results.push({ status: 'failed', label, why: `ORT ${d}` }); continue; }
        checked = true;
      }
    }
    if (refWant) {
      const gotDir = path.join(dir, `ref${t}`);
      fs.mkdirSync(gotDir, { recursive: true });
      const e = await sh(onnxOpt, [out, '--evaluate', `--inputs=${dataDir}`, `--outputs=${gotDir}`]);
      const got = e.status === 0 ? readOutputs(gotDir) : null;
      if (!got || got.length !== refWant.length) {
        results.push({ status: 'failed', label, why: `reference: exit ${e.status}: ${(e.stderr || '').trim().split('\n').pop()}` });
        continue;
      }
      const a = {}; const b = {};
      refWant.forEach((x, i) => { a[`output_${i}`] = x; b[`output_${i}`] = got[i]; });
      const d = sameOutputs(a, b, exactConv);
      if (d) { results.push({ status: 'failed', label, why: `reference ${d}` }); continue; }
      checked = true;
    }
    results.push({ status: checked ? 'passed' : 'skipped', label });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return results;
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : dflt; };
  const only = opt('--only', null);
  const jobs = parseInt(opt('--jobs', String(os.cpus().length || 2)), 10);
  const [onnxOpt, suiteDir, work] = args;
  const ctx = { ort: loadOrt(), onnxOpt, suiteDir, work };
  fs.mkdirSync(work, { recursive: true });
  let cases = fs.readdirSync(suiteDir).filter((d) => fs.existsSync(path.join(suiteDir, d, 'model.onnx'))).sort();
  if (only) cases = cases.filter((c) => new RegExp(only).test(c));
  const all = [];
  let next = 0;
  async function worker() {
    while (next < cases.length) {
      const c = cases[next++];
      try { all.push(...await runCase(ctx, c)); } catch (e) { all.push({ status: 'failed', label: c, why: `runner: ${e}` }); }
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker));
  const count = (s) => all.filter((r) => r.status === s).length;
  for (const r of all.filter((x) => x.status === 'failed').sort((x, y) => (x.label < y.label ? -1 : 1))) console.log(`FAIL ${r.label}: ${r.why}`);
  const reasons = {};
  for (const r of all.filter((x) => x.status === 'refused')) reasons[r.why] = (reasons[r.why] || 0) + 1;
  for (const [k, v] of Object.entries(reasons).sort((x, y) => y[1] - x[1])) console.log(`refused ${v}: ${k}`);
  if (ortMissing.length)
    console.log(`${ortMissing.length} conversions to opsets above ${MAX_UP} checked by the reference interpreter only ` +
      `(ONNX Runtime has no kernel): ${ortMissing.sort().slice(0, 8).join(', ')}${ortMissing.length > 8 ? ', ...' : ''}`);
  console.log(`${count('passed')} passed, ${count('failed')} failed, ${count('refused')} refused, ${count('skipped')} skipped ` +
    `(conversions of ${cases.length} cases; skipped: neither oracle runs the original)`);
  process.exit(count('failed') ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(2); });
