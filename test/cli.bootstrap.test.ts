// `spork-replay bootstrap-check` end to end (SPEC 5.4) on beacons-index.spork, whose finalized
// chain requires 0.38.0 (1000..1009, retroactive at 1000..1001), 0.38.1-rc.1 (1010..1019),
// 0.38.1 (1020..1032), 0.38.2 (1033..1044) and 0.39.0 (1045..1049); the 0.39.0 boundary was
// first announced at 1040 and then moved to 1045. Also data/sample.spork (README), whose chain
// requires 0.42.0 on 90002000..90002424 (no next boundary before 90002127, then 0.42.1 at
// 90002425) with execution component version 1.2 from 90001493.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot } from '../src/replay/pipeline.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';
import { EXPLAINED_KEYS } from './helpers/bootstrap.js';

const ARCHIVE = vectorPath('scenarios/beacons-index.spork');
const SAMPLE = new URL('../../data/sample.spork', import.meta.url).pathname;
let t: { dir: string; cleanup: () => void };
let db: string;
let sampleDb: string;

async function replayInto(dir: string, archive: string): Promise<void> {
  const store = BlockStore.open(dir);
  try {
    await importArchive(store, archive);
    await evaluateStore(store, loadRoot(store), { threads: 0, full: false });
  } finally {
    await store.close();
  }
}

before(async () => {
  t = tempDir();
  db = join(t.dir, 'db');
  sampleDb = join(t.dir, 'sample');
  await Promise.all([replayInto(db, ARCHIVE), replayInto(sampleDb, SAMPLE)]);
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

async function checkIn(store: string, args: string[]) {
  const r = await run(['bootstrap-check', '--db', store, '--threads', '0', ...args]);
  return { ...r, json: args.includes('--json') && r.stdout !== '' ? JSON.parse(r.stdout) : null };
}

const check = (...args: string[]) => checkIn(db, args);
const checkSample = (...args: string[]) => checkIn(sampleDb, args);

/** The table rows of the human form as `from to status`, single-spaced. */
function tableRows(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(3)
    .filter((line) => line !== '')
    .map((line) => line.replace(/^(\S+)\s+(\S+)\s+/, '$1 $2 '));
}

test('SPEC 5.4 bootstrap-check --json: the SPEC 5.4 keys first, then the added fields; an archive argument works too', async () => {
  const r = await run(['bootstrap-check', ARCHIVE, '--binary', '0.38.1', '--json', '--threads', '0']);
  assert.equal(r.code, 1, r.stderr);
  const { ranges, ...a } = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(a), EXPLAINED_KEYS);
  assert.deepEqual(
    ranges.map((x: any) => [x.fromHeight, x.toHeight, ...x.reasons, x.requiredVersion ?? x.nextBoundary?.version ?? null]),
    [
      [1000, 1009, 'silent-fork-risk', '0.38.1-rc.1'],
      [1010, 1019, 'silent-fork-risk', '0.38.1'],
      [1020, 1032, null],
      [1033, 1044, 'below-required', '0.38.2'],
      [1045, 1049, 'below-required', '0.39.0'],
    ],
  );
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
    belowRequired: [span(1033, 1049)],
    finalizedRange: span(1000, 1049),
    outsideFinalizedRange: [],
  });
});

test('SPEC 5.4 bootstrap-check: a binary that fits a range exactly may execute it (exit 0), not beyond (exit 1)', async () => {
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
  assert.equal(beyond.stdout.split('\n')[0]!, '0.38.1 must NOT execute the whole range 1020..1033: below the required version at 1033');
  assert.deepEqual(tableRows(beyond.stdout), ['1020 1032 may execute', '1033 1033 below required version 0.38.2']);
});

test('SPEC 5.4 bootstrap-check: a pre-release binary is exact only where its pre-release is required', async () => {
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

test('SPEC 5.4 bootstrap-check: the moved 0.39.0 boundary (1040 -> 1045) decides 1040..1044', async () => {
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

test('SPEC 5.4 bootstrap-check: no v3 block, no component mismatch', async () => {
  const r = await check('--binary', '0.39.0', '--from', '1045', '--supports', '9.9', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json.mayExecute, [span(1045, 1049)]);
  assert.deepEqual(r.json.componentMismatch, []);
});

// Issue item 1: where X meets R(h) and only the component check fails, the reason is the components.
test('SPEC 5.4 component check (sample.spork): v0.42.1 with 0.0,1.0 fails only the component check on 90002000..90002126 and 90002425..90002500', async () => {
  const [human, json] = await Promise.all([
    checkSample('--binary', 'v0.42.1', '--supports', '0.0,1.0'),
    checkSample('--binary', 'v0.42.1', '--supports', '0.0,1.0', '--json'),
  ]);
  assert.equal(human.code, 1, human.stderr);
  assert.equal(
    human.stdout.split('\n')[0],
    'v0.42.1 (0.42.1) must NOT execute the whole range 90000000..90002500: silent-fork risk (at or above the next boundary) at 90000077..90001999, 90002127..90002424; component versions not supported at 90001493..90002500',
  );
  assert.doesNotMatch(human.stdout, /older|below/);
  const rows = tableRows(human.stdout);
  assert.ok(rows.includes('90002000 90002126 execution component version 1.2 not supported'), rows.join('\n'));
  assert.ok(rows.includes('90002425 90002500 execution component version 1.2 not supported'), rows.join('\n'));
  assert.ok(
    rows.includes('90002127 90002424 at/above the next boundary 0.42.1 (height 90002425): silent-fork risk + execution component version 1.2 not supported'),
    rows.join('\n'),
  );
  assert.equal(json.code, 1);
  assert.deepEqual(json.json.belowRequired, []);
  assert.deepEqual(json.json.componentMismatch, [span(90001493, 90002500)]);
  assert.deepEqual(json.json.mayExecute, [span(90000000, 90000076)]);
});

test('SPEC 5.4 below R(h) (sample.spork): v0.41.0 is below 0.42.0 and 0.42.1; JSON belowRequired, human lines with R', async () => {
  const [human, json] = await Promise.all([
    checkSample('--binary', 'v0.41.0', '--from', '90001990'),
    checkSample('--binary', 'v0.41.0', '--from', '90001990', '--json'),
  ]);
  assert.equal(human.code, 1, human.stderr);
  assert.equal(
    human.stdout.split('\n')[0],
    'v0.41.0 (0.41.0) must NOT execute the whole range 90001990..90002500: below the required version at 90002000..90002500',
  );
  assert.deepEqual(tableRows(human.stdout), [
    '90001990 90001999 may execute',
    '90002000 90002424 below required version 0.42.0',
    '90002425 90002500 below required version 0.42.1',
  ]);
  assert.deepEqual(json.json.belowRequired, [span(90002000, 90002500)]);
  assert.deepEqual(json.json.silentForkRisk, []);
  assert.deepEqual(json.json.unknown, []);
});

// Issue item 2: beacons-index's first beacon [900: 0.38.0, 1010: 0.38.1-rc.1] is retroactive on 1000..1001.
test('SPEC 5.4 overrides with SPEC 5.2 step 3: an overridden first boundary of the retroactive beacon gives unknown, not silent-fork risk', async () => {
  const [json, human] = await Promise.all([
    check('--binary', '0.38.1-rc.1', '--overrides', '0.38.0', '--to', '1009', '--json'),
    check('--binary', '0.38.1-rc.1', '--overrides', '0.38.0', '--to', '1009'),
  ]);
  assert.equal(json.code, 1, json.stderr);
  assert.deepEqual(json.json.silentForkRisk, []);
  assert.deepEqual(json.json.unknown, [span(1000, 1009)]);
  assert.deepEqual(
    json.json.ranges.map((x: any) => x.reasons),
    [['unknown-overridden']],
  );
  assert.equal(
    human.stdout.split('\n')[0],
    '0.38.1-rc.1 must NOT execute the whole range 1000..1009: required version unknown (its boundaries are overridden, no fall-back) at 1000..1009',
  );
  assert.deepEqual(tableRows(human.stdout), ['1000 1009 R(h) unknown: the boundaries giving it are overridden (no fall-back)']);
});

// Issue item 4.
test('SPEC 5.4 range: --from/--to beyond the finalized range say "outside the finalized range A..B" (exit 1)', async () => {
  const [json, human, beyond] = await Promise.all([
    check('--binary', '0.39.0', '--from', '1045', '--to', '1060', '--json'),
    check('--binary', '0.39.0', '--from', '1045', '--to', '1060'),
    check('--binary', '0.39.0', '--from', '2000', '--to', '3000'),
  ]);
  assert.equal(json.code, 1);
  assert.deepEqual(json.json.unknown, [span(1050, 1060)]);
  assert.deepEqual(json.json.outsideFinalizedRange, [span(1050, 1060)]);
  assert.deepEqual(json.json.finalizedRange, span(1000, 1049));
  assert.deepEqual(json.json.mayExecute, [span(1045, 1049)]);
  assert.equal(human.code, 1);
  assert.equal(
    human.stdout.split('\n')[0],
    '0.39.0 must NOT execute the whole range 1045..1060: required version unknown at 1050..1060 (outside the finalized range 1000..1049)',
  );
  assert.deepEqual(tableRows(human.stdout), ['1045 1049 may execute', '1050 1060 R(h) unknown: outside the finalized range 1000..1049']);
  assert.equal(beyond.code, 1);
  assert.equal(
    beyond.stdout.split('\n')[0],
    '0.39.0 must NOT execute the whole range 2000..3000: required version unknown at 2000..3000 (outside the finalized range 1000..1049)',
  );
});

test('SPEC 5.4 range: an inverted range is bad usage (exit 2), also when a default end inverts it', async () => {
  const [explicit, fromAbove, toBelow] = await Promise.all([
    check('--binary', '0.39.0', '--from', '1049', '--to', '1048', '--json'),
    check('--binary', '0.39.0', '--from', '2000'),
    check('--binary', '0.39.0', '--to', '999'),
  ]);
  for (const r of [explicit, fromAbove, toBelow]) assert.equal(r.code, 2, r.stdout + r.stderr);
  // under --json the error is also the JSON object on stdout; without it stdout stays empty
  assert.deepEqual(JSON.parse(explicit.stdout), { error: { exitCode: 2, kind: 'input', message: '--from 1049 is above --to 1048: the range is empty' } });
  assert.equal(fromAbove.stdout, '');
  assert.equal(toBelow.stdout, '');
  assert.equal(explicit.stderr, 'spork-replay: --from 1049 is above --to 1048: the range is empty\n');
  assert.equal(fromAbove.stderr, 'spork-replay: --from 2000 is above the finalized height 1049 (finalized range 1000..1049): the range is empty\n');
  assert.equal(toBelow.stderr, 'spork-replay: --to 999 is below the root height 1000 (finalized range 1000..1049): the range is empty\n');
});

test('SPEC 5.4 bootstrap-check: bad binary or options exit 2', async () => {
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
