#!/usr/bin/env node
/*
 * `npm run bench`: builds once, then runs every benchmark (dist/bench/*.bench.js) one after
 * another — never two at once, they would measure each other — and prints a summary.
 * Exits 1 if the build or any benchmark fails.
 *   npm run bench                     every benchmark
 *   npm run bench -- upload ingest    only those whose name contains a given word
 *   BENCH_SKIP_BUILD=true npm run bench   reuse dist/ as it is
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const distBench = path.join(root, 'dist', 'bench');
const filters = process.argv.slice(2);

function elapsed(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

if (process.env.BENCH_SKIP_BUILD !== 'true') {
  const started = Date.now();
  console.log('bench: building…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error(
      `bench: the build failed (exit ${build.status ?? build.signal}); nothing was run`,
    );
    process.exit(1);
  }
  console.log(`bench: built in ${elapsed(started)}`);
}

const scripts = fs.existsSync(distBench)
  ? fs
      .readdirSync(distBench)
      .filter((f) => f.endsWith('.bench.js'))
      .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
      .sort()
  : [];
if (scripts.length === 0) {
  console.error(
    `bench: no benchmark in ${distBench}${filters.length ? ` matching ${filters}` : ''}`,
  );
  process.exit(1);
}

const results = [];
for (const script of scripts) {
  const name = script.replace(/\.bench\.js$/, '');
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(distBench, script)], {
    cwd: root,
    stdio: 'inherit',
  });
  const ok = run.status === 0;
  results.push({
    name,
    ok,
    exit: run.status ?? run.signal ?? String(run.error),
    time: elapsed(started),
  });
}

console.log('\n=== summary ===');
for (const r of results) {
  const resultFile = path.join(root, 'bench', 'results', `${r.name}.json`);
  let verdict = '';
  if (r.ok && fs.existsSync(resultFile)) {
    try {
      const json = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      if (typeof json.pass === 'boolean') verdict = json.pass ? 'goals met' : 'goals missed';
    } catch {
      verdict = 'unreadable result';
    }
  }
  console.log(
    `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(12)} ${r.time.padStart(9)}` +
      `${r.ok ? '' : `  exit ${r.exit}`}${verdict ? `  ${verdict}` : ''}`,
  );
}
const failed = results.filter((r) => !r.ok);
if (failed.length > 0) {
  console.error(`bench: ${failed.length} of ${results.length} failed`);
  process.exit(1);
}
