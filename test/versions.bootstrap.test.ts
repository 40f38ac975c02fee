import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { SealedVersionBeacon, U64, VersionBeacon } from '../src/model/types.js';
import { VersionIndex, type IndexedBeacon, type SealedBeaconInput, type Span } from '../src/protocol/versions/beacons.js';
import { BootstrapInputError, checkBootstrap, type BootstrapQuery, type ComponentRun } from '../src/protocol/versions/bootstrap.js';

function beacon(sequence: number, ...boundaries: [number, string][]): VersionBeacon {
  return { sequence, boundaries: boundaries.map(([blockHeight, version]) => ({ blockHeight, version })) };
}

function rootBeacon(...boundaries: [number, string][]): SealedVersionBeacon {
  return { beacon: beacon(1, ...boundaries), sealHeight: 0 };
}

/** An index over finalized heights (root, to], with beacons sealed at the given heights. */
function indexOf(root: number, rootB: SealedVersionBeacon | null, to: number, sealedAt: Record<number, [VersionBeacon, number]> = {}): VersionIndex {
  const index = new VersionIndex(root, rootB);
  for (let h = root + 1; h <= to; h++) {
    const s = sealedAt[h];
    const beacons: SealedBeaconInput[] = s === undefined ? [] : [{ beacon: s[0], emittedAtHeight: s[1], blockId: 'ab' }];
    index.addFinalized(h, beacons);
  }
  return index;
}

const r = (fromHeight: U64, toHeight: U64): Span => ({ fromHeight, toHeight });

function check(index: VersionIndex, query: BootstrapQuery, components: ComponentRun[] = []) {
  return checkBootstrap(index, components, query);
}

/** Root 100, finalized 130: R = 1.0.0 until 109, 1.1.0 on 110..119, 1.2.0 from 120 (next none). */
const simple = () => indexOf(100, rootBeacon([90, '1.0.0'], [110, '1.1.0'], [120, '1.2.0']), 130);

test('5.4 exact: R(h) <= X < Rnext(h); X == R(h) may execute', () => {
  const a = check(simple(), { binary: '1.1.0' });
  assert.deepEqual(a.mayExecute, [r(110, 119)]);
  assert.deepEqual(a.silentForkRisk, [r(100, 109)]);
  assert.deepEqual(a.unknown, []);
  assert.equal(a.verdict, false);
});

test('5.4 lenient: X == Rnext(h) is not exact but a stock node would run it (silent fork risk)', () => {
  const a = check(simple(), { binary: '1.2.0' });
  assert.deepEqual(a.silentForkRisk, [r(100, 119)]);
  assert.deepEqual(a.mayExecute, [r(120, 130)]); // no next boundary: no upper bound
});

test('5.4 X below R(h): neither executable nor a fork risk', () => {
  const a = check(simple(), { binary: '1.0.5' });
  assert.deepEqual(a.mayExecute, [r(100, 109)]);
  assert.deepEqual(a.silentForkRisk, []);
  assert.deepEqual(a.unknown, []);
  assert.equal(a.verdict, false);
});

test('5.4 verdict: true iff every height of the range may execute; default range root..finalized', () => {
  const index = simple();
  const whole = check(index, { binary: '1.0.9', toHeight: 109 });
  assert.equal(whole.fromHeight, 100);
  assert.deepEqual(whole.mayExecute, [r(100, 109)]);
  assert.equal(whole.verdict, true);
  const tail = check(index, { binary: 'v1.2', fromHeight: 125 });
  assert.equal(tail.toHeight, 130);
  assert.equal(tail.normalized, '1.2.0');
  assert.equal(tail.binary, 'v1.2');
  assert.deepEqual(tail.mayExecute, [r(125, 130)]);
  assert.equal(tail.verdict, true);
});

test('5.4 empty range: verdict false', () => {
  const a = check(simple(), { binary: '1.0.0', fromHeight: 110, toHeight: 109 });
  assert.deepEqual(
    { ...a },
    {
      binary: '1.0.0',
      normalized: '1.0.0',
      fromHeight: 110,
      toHeight: 109,
      mayExecute: [],
      silentForkRisk: [],
      unknown: [],
      componentMismatch: [],
      verdict: false,
    },
  );
});

test('5.4 pre-release binaries: 0.38.1-rc.1 is below the boundary 0.38.1', () => {
  const index = indexOf(100, rootBeacon([90, '0.38.0'], [110, '0.38.1']), 120);
  const rc = check(index, { binary: '0.38.1-rc.1' });
  assert.deepEqual(rc.mayExecute, [r(100, 109)]); // 0.38.0 <= rc.1 < 0.38.1
  assert.deepEqual(rc.silentForkRisk, []);
  const release = check(indexOf(100, rootBeacon([90, '0.38.0'], [110, '0.38.1-rc.1']), 120), { binary: '0.38.1' });
  assert.deepEqual(release.silentForkRisk, [r(100, 109)]); // 0.38.1 >= next 0.38.1-rc.1
  assert.deepEqual(release.mayExecute, [r(110, 120)]);
  const metadata = check(index, { binary: 'v0.38.1+build.7' });
  assert.deepEqual(metadata.mayExecute, [r(110, 120)]); // metadata ignored
});

test('5.4 unknown ranges: R unknown, and heights outside [root, finalizedHeight]', () => {
  const index = indexOf(100, rootBeacon([105, '1.0.0']), 110);
  const a = check(index, { binary: '1.0.0', fromHeight: 98, toHeight: 112 });
  assert.deepEqual(a.unknown, [r(98, 104), r(111, 112)]);
  assert.deepEqual(a.mayExecute, [r(105, 110)]);
  assert.equal(a.verdict, false);
  const none = check(indexOf(100, null, 103), { binary: '1.0.0' });
  assert.deepEqual(none.unknown, [r(100, 103)]);
  assert.equal(none.verdict, false);
});

test('5.4 overrides: overridden boundaries are skipped inside the beacon in force', () => {
  const index = simple();
  const a = check(index, { binary: '1.0.0', overrides: ['1.1.0'] });
  assert.deepEqual(a.mayExecute, [r(100, 119)]); // 1.1.0 declared compatible: R stays 1.0.0, Rnext 1.2.0
  assert.deepEqual(a.silentForkRisk, []);
  const both = check(index, { binary: '1.0.0', overrides: ['1.1.0', '1.2.0'] });
  assert.equal(both.verdict, true);
});

test('5.4 overrides: match major.minor.patch with pre-release and metadata dropped', () => {
  const index = indexOf(100, rootBeacon([90, '1.0.0'], [110, '1.1.0-rc.1+x']), 115);
  assert.equal(check(index, { binary: '1.0.0', overrides: ['1.1.0'] }).verdict, true);
  assert.equal(check(index, { binary: '1.0.0', overrides: ['01.1.0'] }).verdict, true);
  assert.equal(check(index, { binary: '1.0.0', overrides: ['1.1.1'] }).verdict, false);
});

test('5.4 overrides: a beacon in force with only overridden boundaries at or below h makes R unknown (no fall-back)', () => {
  const index = indexOf(100, rootBeacon([90, '1.0.0']), 120, { 105: [beacon(2, [104, '1.1.0'], [115, '1.2.0']), 104] });
  const a = check(index, { binary: '1.0.0', overrides: ['1.1.0'] });
  assert.deepEqual(a.mayExecute, [r(100, 104)]);
  assert.deepEqual(a.unknown, [r(105, 114)]);
  assert.deepEqual(a.silentForkRisk, []);
  const plain = check(index, { binary: '1.0.0' });
  assert.deepEqual(plain.mayExecute, [r(100, 104)]);
  assert.deepEqual(plain.unknown, []);
});

test('5.4 component check: both component versions must be in the supported set; none given: no check', () => {
  const index = simple();
  const runs: ComponentRun[] = [
    { fromHeight: 100, toHeight: 104, executionComponentVersion: null, cadenceComponentVersion: null },
    { fromHeight: 105, toHeight: 106, executionComponentVersion: '1.0', cadenceComponentVersion: '1.0' },
    { fromHeight: 107, toHeight: 107, executionComponentVersion: '2.0', cadenceComponentVersion: '2.1' },
    { fromHeight: 108, toHeight: 108, executionComponentVersion: '0.1', cadenceComponentVersion: '1.0' },
    // 109..112 not covered: no component versions
    { fromHeight: 113, toHeight: 130, executionComponentVersion: '3.1', cadenceComponentVersion: '1.0' },
  ];
  const a = check(index, { binary: '1.0.0', supportedComponents: ['1.0', '02.00'] }, runs);
  assert.deepEqual(a.componentMismatch, [r(107, 108), r(113, 130)]);
  assert.deepEqual(a.mayExecute, [r(100, 106), r(109, 109)]);
  const later = check(index, { binary: '1.1.0', supportedComponents: ['1.0', '2.0'] }, runs);
  assert.deepEqual(later.mayExecute, [r(110, 112)]);
  assert.deepEqual(later.silentForkRisk, [r(100, 109)]); // independent of the component check
  const unchecked = check(index, { binary: '1.0.0' }, runs);
  assert.deepEqual(unchecked.componentMismatch, []);
  assert.deepEqual(unchecked.mayExecute, [r(100, 109)]);
});

test('5.4 component check: accepts version map rows as runs, also outside the range', () => {
  const index = simple();
  const rows = [
    { fromHeight: 100, toHeight: 104, protocolStateVersion: 2, executionComponentVersion: null, cadenceComponentVersion: null, requiredVersion: '1.0.0' },
    { fromHeight: 105, toHeight: 130, protocolStateVersion: 3, executionComponentVersion: '0.0', cadenceComponentVersion: '0.0', requiredVersion: null },
  ];
  const a = check(index, { binary: '1.0.0', supportedComponents: ['1.0'], fromHeight: 103, toHeight: 106 }, rows);
  assert.deepEqual(a.componentMismatch, [r(105, 106)]);
  assert.deepEqual(a.mayExecute, [r(103, 104)]);
  assert.throws(() => check(index, { binary: '1.0.0' }, [rows[1]!, rows[0]!]), RangeError);
});

test('5.4 retroactive heights below the first boundary: R(h) and Rnext(h) are that boundary, never exact', () => {
  const index = indexOf(100, null, 110, { 106: [beacon(1, [102, '1.0.0'], [108, '1.1.0']), 105] });
  const a = check(index, { binary: '1.0.0' });
  assert.deepEqual(a.silentForkRisk, [r(100, 101)]);
  assert.deepEqual(a.mayExecute, [r(102, 107)]);
});

test('5.4 input errors: binary, overrides and supported set that do not parse', () => {
  const index = simple();
  for (const binary of ['v1.0+meta', 'vv1.2.3', '1', '']) {
    assert.throws(() => check(index, { binary }), BootstrapInputError, binary);
  }
  for (const overrides of [['1.1'], ['1.1.0-rc.1'], ['1.1.0+m'], ['x']]) {
    assert.throws(() => check(index, { binary: '1.0.0', overrides }), BootstrapInputError, overrides[0]);
  }
  for (const supported of ['1', '1.0.0', 'a.b', '']) {
    assert.throws(() => check(index, { binary: '1.0.0', supportedComponents: [supported] }), BootstrapInputError, supported);
  }
});

test('5.4 over the beacons-index scenario (index rebuilt from the expected summary)', () => {
  const lines = readFileSync(new URL('../../test/vectors/scenarios/beacons-index.expected.jsonl', import.meta.url), 'utf8')
    .trim()
    .split('\n');
  const summary = JSON.parse(lines[lines.length - 1]!) as { finalizedHeight: number; beacons: IndexedBeacon[] };
  const index = VersionIndex.fromIndexed(1000, null, summary.beacons, summary.finalizedHeight);
  const a = check(index, { binary: 'v0.38.1' });
  assert.deepEqual(a.silentForkRisk, [r(1000, 1019)]);
  assert.deepEqual(a.mayExecute, [r(1020, 1032)]);
  assert.deepEqual(a.unknown, []);
  assert.equal(a.verdict, false);
  const rc = check(index, { binary: '0.38.1-rc.1', toHeight: 1019 });
  assert.deepEqual(rc.mayExecute, [r(1010, 1019)]);
  assert.deepEqual(rc.silentForkRisk, [r(1000, 1009)]);
  const skip = check(index, { binary: '0.38.1', overrides: ['0.38.2'], fromHeight: 1020, toHeight: 1044 });
  assert.equal(skip.verdict, true);
});

test('5.4 works on spans: a multi-million-height range is answered from segments', () => {
  const index = new VersionIndex(0, rootBeacon([0, '1.0.0'], [2_000_000, '1.1.0']));
  for (let h = 1; h <= 5_000_000; h++) index.addFinalized(h, []);
  const started = performance.now();
  const a = check(index, { binary: '1.0.0', supportedComponents: ['0.0'] }, [
    { fromHeight: 0, toHeight: 5_000_000, executionComponentVersion: '0.0', cadenceComponentVersion: '0.0' },
  ]);
  assert.ok(performance.now() - started < 50);
  assert.deepEqual(a.mayExecute, [r(0, 1_999_999)]);
});
