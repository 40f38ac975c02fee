// End to end on generated sporks (issue 3 and 4 acceptance, small sizes): synth with every
// fault kind -> import -> replay finds exactly the injected faults; reports are identical for
// any thread count; kill -9 during import or replay, rerun: identical store and report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { storeDigest } from './helpers/store.js';
import { BlockStore } from '../src/store/store.js';

const BIN = new URL('../../bin/spork-replay.js', import.meta.url).pathname;
const t = tempDir('spork-e2e-');
process.on('exit', () => t.cleanup());
const small = ['--guarantees', '1', '--chunks', '2', '--executors', '1', '--approvals', '1'];

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').trim().split('\n');
}

/** Starts the CLI, kills it with SIGKILL after `ms`; resolves with how it ended. */
function killAfter(args: string[], ms: number): Promise<{ signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

test('issue 3/4: every injected fault is found, nothing else; reports equal for 0, 1 and 2 threads', () => {
  const archive = join(t.dir, 'faults.spork');
  let r = cli(['synth', '--out', archive, '--blocks', '1500', '--seed', 'e2e', '--faults', 'all:2', ...small]);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(`${archive}.faults.json`, 'utf8'));
  const reports: string[][] = [];
  for (const threads of ['0', '1', '2']) {
    const report = join(t.dir, `r${threads}.jsonl`);
    r = cli(['replay', archive, '--threads', threads, '--report', report, '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    reports.push(lines(report));
  }
  assert.deepEqual(reports[1].slice(0, -1), reports[0].slice(0, -1));
  assert.deepEqual(reports[2].slice(0, -1), reports[0].slice(0, -1));
  const blocks = reports[0].slice(0, -1).map((l) => JSON.parse(l));
  const summary = JSON.parse(reports[0][reports[0].length - 1]);
  assert.deepEqual(summary.verdicts, manifest.expectedVerdicts);
  const byId = new Map(blocks.map((b) => [b.id, b]));
  let checked = 0;
  for (const f of manifest.faults) {
    assert.equal(byId.get(f.id)?.verdict, f.expectedVerdict, `${f.kind} (${f.variant}) at height ${f.height}`);
    for (const c of f.children) assert.equal(byId.get(c.id)?.verdict, c.expectedVerdict, `child of ${f.kind}`);
    checked++;
  }
  assert.equal(checked, 16);
  for (const b of blocks) {
    if (b.verdict === 'ok' || b.verdict === 'descends-from-invalid') continue;
    assert.ok(
      manifest.faults.some((f: any) => f.id === b.id),
      `unexpected ${b.verdict} at ${b.height}`,
    );
  }
});

test('issue 3: kill -9 during an import, rerun: the same store as an uninterrupted import', async () => {
  const archive = join(t.dir, 'big.spork');
  const r = cli(['synth', '--out', archive, '--blocks', '12000', '--seed', 'kill', ...small]);
  assert.equal(r.code, 0, r.stderr);
  const ref = join(t.dir, 'ref-db');
  assert.equal(cli(['import', archive, '--db', ref, '--quiet']).code, 0);
  const db = join(t.dir, 'killed-db');
  let interrupted = 0;
  for (const ms of [250, 600, 1200]) {
    const end = await killAfter(['import', archive, '--db', db, '--quiet'], ms);
    if (end.signal === 'SIGKILL') interrupted++;
  }
  assert.ok(interrupted > 0, 'no import was interrupted (machine too fast for the kill timings?)');
  assert.equal(cli(['import', archive, '--db', db, '--quiet']).code, 0);
  const a = BlockStore.open(ref, { readOnly: true });
  const b = BlockStore.open(db, { readOnly: true });
  try {
    assert.equal(storeDigest(b), storeDigest(a));
  } finally {
    await a.close();
    await b.close();
  }
});

test('issue 4: kill -9 during a replay, rerun: the identical report', async () => {
  const archive = join(t.dir, 'big.spork');
  const db = join(t.dir, 'ref-db');
  const full = join(t.dir, 'full.jsonl');
  assert.equal(cli(['replay', '--db', db, '--full', '--threads', '2', '--report', full, '--quiet']).code, 0);
  let interrupted = 0;
  for (const [i, ms] of [700, 1500, 2500].entries()) {
    const end = await killAfter(['replay', '--db', db, ...(i === 0 ? ['--full'] : []), '--threads', '2', '--quiet'], ms);
    if (end.signal === 'SIGKILL') interrupted++;
  }
  assert.ok(interrupted > 0, 'no replay was interrupted');
  const resumed = join(t.dir, 'resumed.jsonl');
  assert.equal(cli(['replay', '--db', db, '--threads', '1', '--report', resumed, '--quiet']).code, 0);
  assert.deepEqual(lines(resumed).slice(0, -1), lines(full).slice(0, -1));
  void archive;
});
