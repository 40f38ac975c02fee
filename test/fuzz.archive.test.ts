// Issue 13: a seeded fuzz of the archive reader and the CLI replay on mutated archives
// (test/fuzz/harness.ts, run in a process of its own so that a signal or a hang is caught).
// `npm run fuzz -- --cases N [--seed S]` runs a longer one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { KINDS } from './fuzz/harness.js';

const HARNESS = new URL('./fuzz/harness.js', import.meta.url).pathname;

test('SPEC 9.2 / issue 13.5: 2000 mutated archives: exit 0/1/2, one line, no stack, no signal, framing errors name the record and offset, time bounded per byte', () => {
  const cases = 2000;
  const r = spawnSync(process.execPath, [HARNESS, '--cases', String(cases), '--seed', '13'], { encoding: 'utf8', timeout: 150_000, maxBuffer: 64 << 20 });
  const lines = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const last = lines.filter((l) => l.type === 'case').at(-1);
  assert.equal(r.signal, null, `the harness died by ${r.signal} after case ${last?.i} (${last?.kind}); stderr: ${r.stderr.slice(0, 2000)}`);
  const summary = lines.find((l) => l.type === 'summary');
  assert.ok(summary, `no summary (exit ${r.status}) after case ${last?.i}; stderr: ${r.stderr.slice(0, 2000)}`);
  const bad = lines.filter((l) => l.type === 'case' && l.problems.length > 0);
  assert.deepEqual(
    bad.slice(0, 5).map((c) => ({ i: c.i, kind: c.kind, problems: c.problems, stderr: c.stderr })),
    [],
  );
  assert.equal(summary.cases, cases);
  assert.equal(summary.failed, 0);
  assert.equal(r.status, 0);
  // the mutations reach every outcome and every kind ran
  for (const code of ['0', '1', '2']) assert.ok(summary.byCode[code] > 50, `exit ${code}: ${summary.byCode[code]} cases`);
  for (const k of KINDS) assert.ok(summary.byKind[k] >= Math.floor(cases / KINDS.length), k);
  // memory stays bounded over the whole run (every case's temporary store is closed and removed)
  assert.ok(summary.maxRssMB < 1024, `max RSS ${summary.maxRssMB} MB`);
});
