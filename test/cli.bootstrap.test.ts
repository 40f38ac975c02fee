// `spork-replay bootstrap-check` end to end (SPEC 5.4) on beacons-index.spork, whose finalized
// chain requires 0.38.0 (1000..1009, retroactive at 1000..1001), 0.38.1-rc.1 (1010..1019),
// 0.38.1 (1020..1032), 0.38.2 (1033..1044) and 0.39.0 (1045..1049); the 0.39.0 boundary was
// first announced at 1040 and then moved to 1045.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot } from '../src/replay/pipeline.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const ARCHIVE = vectorPath('scenarios/beacons-index.spork');
let t: { dir: string; cleanup: () => void };
let db: string;

before(async () => {
  t = tempDir();
  db = join(t.dir, 'db');
  const store = BlockStore.open(db);
  try {
    await importArchive(store, ARCHIVE);
    await evaluateStore(store, loadRoot(store), { threads: 0, full: false });
  } finally {
    await store.close();
  }
});

after(() => t.cleanup());

const span = (fromHeight: number, toHeight: number) => ({ fromHeight, toHeight });

const BIN = new URL('../../bin/spork-replay.js', import.meta.url).pathname;

/** Runs the built CLI without blocking, so a test's invocations run side by side. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as any).code === 'number' ? (err as any).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function check(...args: string[]) {
  const r = await run(['bootstrap-check', '--db', db, '--threads', '0', ...args]);
  return { ...r, json: args.includes('--json') && r.stdout !== '' ? JSON.parse(r.stdout) : null };
}

test('bootstrap-check --json: exactly the SPEC 5.4 shape; an archive argument works too', async () => {
  const r = await run(['bootstrap-check', ARCHIVE, '--binary', '0.38.1', '--json', '--threads', '0']);
  assert.equal(r.code, 1, r.stderr);
  const a = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(a), ['binary', 'normalized', 'fromHeight', 'toHeight', 'mayExecute', 'silentForkRisk', 'unknown', 'componentMismatch', 'verdict']);
  assert.deepEqual(a, {
    binary: '0.38.1',
    normalized: '0.38.1',
    fromHeight: 1000,
    toHeight: 1049,
    mayExecute: [span(1020, 1032)],
    silentForkRisk: [span(1000, 1019)],
    unknown: [],
    componentMismatch: [],
    verdict: false,
  });
});

test('bootstrap-check: a binary that fits a range exactly may execute it (exit 0), not beyond (exit 1)', async () => {
  const [fits, beyond, human] = await Promise.all([
    check('--binary', '0.38.1', '--from', '1020', '--to', '1032', '--json'),
    check('--binary', '0.38.1', '--from', '1020', '--to', '1033'),
    check('--binary', 'v0.38.1', '--from', '1020', '--to', '1032'),
  ]);
  assert.equal(fits.code, 0, fits.stderr);
  assert.equal(fits.json.verdict, true);
  assert.deepEqual(fits.json.mayExecute, [span(1020, 1032)]);
  // human form: the verdict first, then the table
  assert.equal(human.code, 0);
  assert.match(human.stdout.split('\n')[0]!, /^v0\.38\.1 \(0\.38\.1\) may execute heights 1020\.\.1032$/);
  assert.match(human.stdout, /1020\s+1032\s+may execute/);
  assert.equal(beyond.code, 1);
  assert.match(beyond.stdout.split('\n')[0]!, /^0\.38\.1 must NOT execute the whole range 1020\.\.1033: older than the required version at 1033$/);
  assert.match(beyond.stdout, /1020\s+1032\s+may execute\n1033\s+1033\s+below required version/);
});

test('bootstrap-check: a pre-release binary is exact only where its pre-release is required', async () => {
  const [r, rc2, rel] = await Promise.all([
    check('--binary', '0.38.1-rc.1', '--json'),
    check('--binary', '0.38.1-rc.2', '--from', '1010', '--to', '1019', '--json'),
    check('--binary', '0.38.1', '--from', '1010', '--to', '1019', '--json'),
  ]);
  assert.equal(r.code, 1);
  assert.deepEqual(r.json.mayExecute, [span(1010, 1019)]);
  assert.deepEqual(r.json.silentForkRisk, [span(1000, 1009)]); // 0.38.1-rc.1 >= 0.38.0 but == Rnext
  // 0.38.1-rc.2 sorts above rc.1 and below 0.38.1: exact on all of 1010..1019
  assert.equal(rc2.code, 0);
  assert.equal(rc2.json.verdict, true);
  assert.deepEqual(rc2.json.mayExecute, [span(1010, 1019)]);
  // the release is not exact where the pre-release is required (it is the next boundary)
  assert.deepEqual(rel.json.silentForkRisk, [span(1010, 1019)]);
});

test('bootstrap-check: the moved 0.39.0 boundary (1040 -> 1045) decides 1040..1044', async () => {
  const [old, early, over] = await Promise.all([
    // sealed beacons in force at 1040..1044 require 0.38.2 with 0.39.0 next at 1045
    check('--binary', '0.38.2', '--from', '1033', '--to', '1044', '--json'),
    check('--binary', '0.39.0', '--from', '1040', '--to', '1049', '--json'),
    // declaring 0.39.0 compatible skips that boundary: 0.39.0 < 0.40.0 (next) everywhere
    check('--binary', '0.39.0', '--from', '1040', '--to', '1049', '--overrides', '0.39.0', '--json'),
  ]);
  assert.equal(old.code, 0, old.stderr);
  assert.deepEqual(old.json.mayExecute, [span(1033, 1044)]);
  assert.equal(early.code, 1);
  assert.deepEqual(early.json.silentForkRisk, [span(1040, 1044)]);
  assert.deepEqual(early.json.mayExecute, [span(1045, 1049)]);
  assert.equal(over.code, 0);
  assert.deepEqual(over.json.mayExecute, [span(1040, 1049)]);
});

test('bootstrap-check: empty range; heights beyond the chain are unknown; no v3 block, no component mismatch', async () => {
  const [empty, beyond] = await Promise.all([
    check('--binary', '0.39.0', '--from', '1049', '--to', '1048', '--json'),
    check('--binary', '0.39.0', '--from', '1045', '--to', '1060', '--supports', '9.9', '--json'),
  ]);
  assert.equal(empty.code, 1);
  assert.equal(empty.json.verdict, false);
  assert.equal(beyond.code, 1);
  assert.deepEqual(beyond.json.unknown, [span(1050, 1060)]);
  assert.deepEqual(beyond.json.mayExecute, [span(1045, 1049)]);
  assert.deepEqual(beyond.json.componentMismatch, []);
});

test('bootstrap-check: bad binary or options exit 2', async () => {
  const cases = [
    ['--binary', 'v1.0+meta'], // normalises to 1.0+meta.0, which does not parse (SPEC 5.3)
    ['--binary', '1.0.0', '--supports', '1'],
    ['--binary', '1.0.0', '--from', '-1'],
    [],
  ];
  const results = await Promise.all(cases.map((args) => check(...args)));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i]!.join(' ')}: ${r.stdout} ${r.stderr}`);
    assert.equal(r.stdout, '');
  });
});
