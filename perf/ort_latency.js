#!/usr/bin/env node
'use strict';
// Interleaved ONNX Runtime latency of several versions of one model, in one
// process: the first model is the baseline, every other is timed against it.
//
//   node ort_latency.js BASE OTHER... [options]
//
// Each session is created (and its creation timed) once per model; then, for
// each of --rounds rounds, every model runs --runs times in a rotated order,
// so that a slow spell of a shared machine falls on all of them alike. Feeds
// are made once from BASE's inputs (perf/ort_run.js's options: --dim, --shape,
// --seed, --int-range) and given to all. Prints, per model, the median of all
// its runs, its p10/p90, its ratio to BASE (below 1: faster) and the session
// creation time; --json adds one 'RESULT {...}' line.
//
// Options: --level L (graphOptimizationLevel, default all), --level-first L
// (the first model's level: the original at `all` against models lowered
// ahead of time at `disabled`, in one process), --threads T
// (intraOpNumThreads, default 1), --rounds R (default 10), --runs N (per
// round, default 10), --warmup W (per model before the first round, default
// 5), --create-repeat K (time session creation K times, default 1: the
// median), --no-prepack (session.disable_prepacking), --no-spin (worker
// threads sleep instead of spinning between runs: with more than one
// thread, each session's idle workers would otherwise spin on the cores the
// next session in the rotation runs on, which on a 2-core machine makes
// 2-thread ratios noise).
const { loadOrt, makeFeeds } = require('../tools/ort/ortlib');

function parseArgs(argv) {
  const o = {
    models: [], dims: {}, shapes: {}, seed: 1, intRange: [0, 10], intRanges: {}, level: 'all',
    threads: 1, rounds: 10, runs: 10, warmup: 5, createRepeat: 1, json: false, prepack: true,
    spin: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const nx = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = () => {
      const v = Number(nx());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a count`);
      return v;
    };
    if (a === '--dim') { const [k, v] = nx().split('='); o.dims[k] = parseInt(v, 10); }
    else if (a === '--shape') { const [k, v] = nx().split('='); o.shapes[k] = v.split('x').map(Number); }
    else if (a === '--seed') o.seed = int();
    else if (a === '--int-range') {
      const v = nx();
      if (v.includes('=')) { const [k, r] = v.split('='); o.intRanges[k] = r.split(':').map(Number); }
      else o.intRange = v.split(':').map(Number);
    }
    else if (a === '--level') o.level = nx();
    else if (a === '--level-first') o.levelFirst = nx();
    else if (a === '--threads') o.threads = int();
    else if (a === '--rounds') o.rounds = int();
    else if (a === '--runs') o.runs = int();
    else if (a === '--warmup') o.warmup = int();
    else if (a === '--create-repeat') o.createRepeat = Math.max(1, int());
    else if (a === '--no-prepack') o.prepack = false;
    else if (a === '--no-spin') o.spin = false;
    else if (a === '--json') o.json = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.models.push(a);
  }
  if (o.models.length < 2) throw new Error('usage: node ort_latency.js BASE OTHER... [options] (see header)');
  return o;
}

function quantile(sorted, f) {
  return sorted[Math.min(sorted.length - 1, Math.floor(f * (sorted.length - 1) + 0.5))];
}

async function create(ort, file, o, first) {
  const opts = {
    graphOptimizationLevel: first && o.levelFirst ? o.levelFirst : o.level, executionProviders: ['cpu'], intraOpNumThreads: o.threads,
    interOpNumThreads: 1, logSeverityLevel: 3,
  };
  const session = {};
  if (!o.prepack) session.disable_prepacking = '1';
  if (!o.spin) session.intra_op = { allow_spinning: '0' };
  if (Object.keys(session).length) opts.extra = { session };
  const t0 = process.hrtime.bigint();
  const s = await ort.InferenceSession.create(file, opts);
  return { session: s, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const entries = [];
  for (const file of o.models) {
    const creates = [];
    let s = null;
    for (let k = 0; k < o.createRepeat; k++) {
      if (s) await s.release();
      const c = await create(ort, file, o, entries.length === 0);
      s = c.session;
      creates.push(c.ms);
    }
    creates.sort((p, q) => p - q);
    entries.push({ file, session: s, createMs: quantile(creates, 0.5), times: [] });
  }
  const { feeds, desc } = makeFeeds(ort, entries[0].session, o);
  const feedsOf = (s) => {
    const f = {};
    for (const name of s.inputNames) {
      if (!feeds[name]) throw new Error(`input '${name}' is not an input of ${o.models[0]}`);
      f[name] = feeds[name];
    }
    return f;
  };
  for (const e of entries) {
    e.feeds = feedsOf(e.session);
    for (let i = 0; i < o.warmup; i++) await e.session.run(e.feeds);
  }
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(r + k) % entries.length];
      for (let i = 0; i < o.runs; i++) {
        const t = process.hrtime.bigint();
        await e.session.run(e.feeds);
        e.times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
  }
  const result = { level: o.level, threads: o.threads, inputs: desc, models: [] };
  let base = 0;
  console.log(`level=${o.level} threads=${o.threads} rounds=${o.rounds}x${o.runs} inputs ` +
    desc.map((d) => `${d.name}[${d.shape}]`).join(' '));
  for (const e of entries) {
    const s = [...e.times].sort((p, q) => p - q);
    const med = quantile(s, 0.5);
    if (!base) base = med;
    const row = {
      file: e.file, median_ms: +med.toFixed(4), p10_ms: +quantile(s, 0.1).toFixed(4),
      p90_ms: +quantile(s, 0.9).toFixed(4), ratio: +(med / base).toFixed(4), create_ms: +e.createMs.toFixed(1),
    };
    result.models.push(row);
    console.log(`  ${row.median_ms.toFixed(3).padStart(9)} ms (p10 ${row.p10_ms.toFixed(3)}, p90 ` +
      `${row.p90_ms.toFixed(3)})  x${row.ratio.toFixed(3)}  create ${row.create_ms} ms  ${e.file}`);
    await e.session.release();
  }
  if (o.json) console.log('RESULT ' + JSON.stringify(result));
}

main().catch((e) => {
  console.error('ERROR', e && e.message ? e.message : e);
  process.exit(2);
});
