'use strict';
// Runs two models in ONNX Runtime on the same seeded inputs and requires
// bit-identical outputs (matched by name):
//   node compare_exact.js A.onnx B.onnx [--dim NAME=N]... [--seed S] [--int-max N]
// Exit 0 identical, 1 different, 2 error.
const { loadOrt, createSession, diffExact, seededFeeds } = require('./ortlib');

async function main() {
  const args = process.argv.slice(2);
  const files = [];
  const dims = {};
  let seed = 1;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dim') { const [k, v] = args[++i].split('='); dims[k] = parseInt(v, 10); }
    else if (args[i] === '--seed') seed = parseInt(args[++i], 10);
    else if (args[i] === '--int-max') dims.__intMax = parseInt(args[++i], 10);
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
  const d = diffExact(a, b, sa.outputNames);
  if (d) { console.log(`DIFFERENT: ${d}`); process.exit(1); }
  console.log(`identical: ${sa.outputNames.map((n) => `${n}[${a[n].dims}]`).join(', ')}`);
}
main().catch((e) => { console.error(String(e.message || e)); process.exit(2); });
