'use strict';
// Runs MODEL in ONNX Runtime on INPUT_DIR/input_N.pb and compares every output
// with REF_DIR/output_N.pb (the reference interpreter's) within tolerances.
//   node ort_vs_reference.js MODEL INPUT_DIR REF_DIR [--atol 1e-4] [--rtol 1e-3]
// Prints the worst error per output; exits 1 on a mismatch.
const fs = require('fs');
const path = require('path');
const lib = require('../../tools/ort/ortlib');

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const [model, inDir, refDir] = args;
  const atol = opt('--atol', 1e-4), rtol = opt('--rtol', 1e-3);
  const ort = lib.loadOrt();
  const session = await lib.createSession(ort, model);
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const t = lib.decodeTensor(fs.readFileSync(path.join(inDir, `input_${i}.pb`)));
    if (!t) throw new Error(`input_${i}.pb cannot be fed to ONNX Runtime`);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  });
  const out = await session.run(feeds);
  let bad = 0;
  session.outputNames.forEach((name, i) => {
    const ref = lib.decodeTensor(fs.readFileSync(path.join(refDir, `output_${i}.pb`)));
    const got = out[name];
    if (!ref || JSON.stringify(ref.dims) !== JSON.stringify(got.dims)) {
      console.log(`output '${name}': shape ${JSON.stringify(got.dims)} in ORT, ` +
                  `${ref && JSON.stringify(ref.dims)} in the reference interpreter`);
      bad++;
      return;
    }
    let worst = 0, worstAt = -1, over = 0;
    for (let k = 0; k < ref.data.length; k++) {
      const a = Number(got.data[k]), b = Number(ref.data[k]);
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      const err = Math.abs(a - b);
      if (!(err <= atol + rtol * Math.abs(a))) over++;
      if (!(err <= worst)) { worst = err; worstAt = k; }
    }
    console.log(`output '${name}': ${ref.data.length} elements, max abs error ${worst.toExponential(3)}` +
                (over ? `, ${over} outside atol=${atol} rtol=${rtol} (element ${worstAt}: ` +
                        `ORT ${got.data[worstAt]}, reference ${ref.data[worstAt]})` : ''));
    if (over) bad++;
  });
  process.exit(bad ? 1 : 0);
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(2); });
