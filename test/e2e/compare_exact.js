'use strict';
// Runs two models in ONNX Runtime on the same seeded inputs and requires
// bit-identical outputs (matched by name), or with --atol/--rtol outputs
// within |b - a| <= atol + rtol * |a| (for numeric pipelines):
//   node compare_exact.js A.onnx B.onnx [--dim NAME=N]... [--seed S] [--int-max N]
//        [--atol A --rtol R]
// Exit 0 identical (or close), 1 different, 2 error.
const { loadOrt, createSession, diffExact, seededFeeds } = require('../../tools/ort/ortlib');

async function main() {
  const args = process.argv.slice(2);
  const files = [];
  const dims = {};
  let seed = 1;
  let atol = null, rtol = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dim') { const [k, v] = args[++i].split('='); dims[k] = parseInt(v, 10); }
    else if (args[i] === '--seed') seed = parseInt(args[++i], 10);
    else if (args[i] === '--int-max') dims.__intMax = parseInt(args[++i], 10);
    else if (args[i] === '--atol') atol = Number(args[++i]);
    else if (args[i] === '--rtol') rtol = Number(args[++i]);
    else files.push(args[i]);
  }
  const ort = loadOrt();
  const sa = await createSession(ort, files[0]);
  const sb = await createSession(ort, files[1]);
  if (JSON.stringify(sa.inputNames) !== JSON.stringify(sb.inputNames) ||
      JSON.stringify(sa.outputNames) !== JSON.stringify(sb.outputNames)) {
    console.log(`inputs/outputs differ: ${sa.inputNames}->${sa.outputNames} vs ${sb.inputNames}->${sb.outputNames}`);
    process.exit(1);
  }
  const feeds = seededFeeds(ort, sa, seed, dims);
  const a = await sa.run(feeds);
  const b = await sb.run(feeds);
  if (atol !== null) {
    let worst = 0;
    for (const n of sa.outputNames) {
      const x = a[n], y = b[n];
      if (!y || JSON.stringify(x.dims) !== JSON.stringify(y.dims)) {
        console.log(`DIFFERENT: output '${n}' missing or of another shape`);
        process.exit(1);
      }
      for (let k = 0; k < x.data.length; k++) {
        const p = Number(x.data[k]), q = Number(y.data[k]);
        if (Number.isNaN(p) && Number.isNaN(q)) continue;
        const err = Math.abs(p - q);
        if (!(err <= atol + rtol * Math.abs(p))) {
          console.log(`DIFFERENT: output '${n}' element ${k}: ${q}, expected ${p} ` +
                      `(atol ${atol}, rtol ${rtol})`);
          process.exit(1);
        }
        worst = Math.max(worst, err);
      }
    }
    console.log(`close: max abs error ${worst.toExponential(3)}`);
    return;
  }
  const d = diffExact(a, b, sa.outputNames);
  if (d) { console.log(`DIFFERENT: ${d}`); process.exit(1); }
  console.log(`identical: ${sa.outputNames.map((n) => `${n}[${a[n].dims}]`).join(', ')}`);
}
main().catch((e) => { console.error(String(e.message || e)); process.exit(2); });
