// SPEC 5.4 bootstrap check at each of its boundaries, with the reasons explainBootstrap gives
// for every height that may not be executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SealedVersionBeacon, U64, VersionBeacon } from '../src/model/types.js';
import { VersionIndex, type SealedBeaconInput, type Span } from '../src/protocol/versions/beacons.js';
import { checkBootstrap, explainBootstrap, type BootstrapQuery, type BootstrapRange, type ComponentRun } from '../src/protocol/versions/bootstrap.js';
import { EXPLAINED_KEYS, SPEC_5_4_KEYS } from './helpers/bootstrap.js';

function beacon(sequence: number, ...boundaries: [number, string][]): VersionBeacon {
  return { sequence, boundaries: boundaries.map(([blockHeight, version]) => ({ blockHeight, version })) };
}

function rootBeacon(...boundaries: [number, string][]): SealedVersionBeacon {
  return { beacon: beacon(1, ...boundaries), sealHeight: 0 };
}

/** An index over finalized heights [root, to], with one beacon sealed at each given height: [beacon, emitted at]. */
function indexOf(root: number, rootB: SealedVersionBeacon | null, to: number, sealedAt: Record<number, [VersionBeacon, number]> = {}): VersionIndex {
  const index = new VersionIndex(root, rootB);
  for (let h = root + 1; h <= to; h++) {
    const s = sealedAt[h];
    const sealed: SealedBeaconInput[] = s === undefined ? [] : [{ beacon: s[0], emittedAtHeight: s[1], blockId: 'ab' }];
    index.addFinalized(h, sealed);
  }
  return index;
}

const r = (fromHeight: U64, toHeight: U64): Span => ({ fromHeight, toHeight });

function explain(index: VersionIndex, query: BootstrapQuery, components: ComponentRun[] = []) {
  return explainBootstrap(index, components, query);
}

/** The ranges as `from..to reason,reason` lines: compact and exact. */
function reasons(ranges: readonly BootstrapRange[]): string[] {
  return ranges.map((x) => `${x.fromHeight}..${x.toHeight} ${x.reasons.join(',')}`);
}

/** Root 100, finalized 130: R = 1.0.0 until 109, 1.1.0 on 110..119, 1.2.0 from 120 (no next). */
const simple = () => indexOf(100, rootBeacon([90, '1.0.0'], [110, '1.1.0'], [120, '1.2.0']), 130);

test('SPEC 5.4 exact(h): R(h) <= X < Rnext(h); X == R(h) and X just below Rnext(h) may execute', () => {
  const atR = explain(simple(), { binary: '1.1.0', fromHeight: 110, toHeight: 119 });
  assert.deepEqual(atR.mayExecute, [r(110, 119)]);
  assert.equal(atR.verdict, true);
  const belowNext = explain(simple(), { binary: '1.2.0-rc.1', fromHeight: 110, toHeight: 119 });
  assert.deepEqual(belowNext.mayExecute, [r(110, 119)]);
  assert.deepEqual(reasons(belowNext.ranges), ['110..119 ']);
});

test('SPEC 5.4 exact(h): no next boundary is no upper bound', () => {
  const a = explain(simple(), { binary: '9.0.0', fromHeight: 120 });
  assert.deepEqual(a.mayExecute, [r(120, 130)]);
  assert.equal(a.verdict, true);
});

test('SPEC 5.4 lenient(h) and not exact(h): X >= Rnext(h) is a silent-fork risk, with the boundary it reaches', () => {
  const a = explain(simple(), { binary: '1.1.0' });
  assert.deepEqual(a.silentForkRisk, [r(100, 109)]);
  assert.deepEqual(a.belowRequired, [r(120, 130)]);
  assert.deepEqual(a.ranges[0], {
    fromHeight: 100,
    toHeight: 109,
    reasons: ['silent-fork-risk'],
    requiredVersion: null,
    nextBoundary: { height: 110, version: '1.1.0' },
    unsupportedComponents: [],
  });
  assert.deepEqual(reasons(a.ranges), ['100..109 silent-fork-risk', '110..119 ', '120..130 below-required']);
});

test('SPEC 5.4 not lenient(h): X < R(h) is listed in belowRequired with R(h)', () => {
  const a = explain(simple(), { binary: '1.0.5' });
  assert.deepEqual(a.mayExecute, [r(100, 109)]);
  assert.deepEqual(a.belowRequired, [r(110, 130)]);
  assert.deepEqual(a.silentForkRisk, []);
  assert.deepEqual(a.unknown, []);
  assert.deepEqual(
    a.ranges.map((x) => [x.fromHeight, x.toHeight, x.reasons, x.requiredVersion]),
    [
      [100, 109, [], null],
      [110, 119, ['below-required'], '1.1.0'],
      [120, 130, ['below-required'], '1.2.0'],
    ],
  );
  // the belowRequired list is maximal although R changes inside it
  assert.equal(a.belowRequired.length, 1);
});

test('SPEC 5.4 component check: exact(h) with an unsupported component is a component mismatch only, not below R(h)', () => {
  const runs: ComponentRun[] = [
    { fromHeight: 100, toHeight: 104, executionComponentVersion: null, cadenceComponentVersion: null },
    { fromHeight: 105, toHeight: 109, executionComponentVersion: '1.2', cadenceComponentVersion: '1.0' },
    { fromHeight: 110, toHeight: 130, executionComponentVersion: '1.2', cadenceComponentVersion: '3.0' },
  ];
  const a = explain(simple(), { binary: '1.0.0', supportedComponents: ['0.0', '1.0'] }, runs);
  assert.deepEqual(a.mayExecute, [r(100, 104)]); // a block without component versions passes
  assert.deepEqual(a.componentMismatch, [r(105, 130)]);
  assert.deepEqual(a.belowRequired, [r(110, 130)]);
  assert.deepEqual(reasons(a.ranges), [
    '100..104 ',
    '105..109 component-mismatch',
    '110..119 below-required,component-mismatch',
    '120..130 below-required,component-mismatch',
  ]);
  assert.deepEqual(a.ranges[1]!.unsupportedComponents, [{ component: 'execution', version: '1.2' }]);
  assert.equal(a.ranges[1]!.requiredVersion, null);
  assert.deepEqual(a.ranges[2]!.unsupportedComponents, [
    { component: 'execution', version: '1.2' },
    { component: 'cadence', version: '3.0' },
  ]);
  const unchecked = explain(simple(), { binary: '1.0.0' }, runs);
  assert.deepEqual(unchecked.componentMismatch, []);
  assert.deepEqual(unchecked.mayExecute, [r(100, 109)]);
});

test('SPEC 5.4 component check with silent-fork risk: both reasons on one range', () => {
  const runs: ComponentRun[] = [{ fromHeight: 100, toHeight: 130, executionComponentVersion: '2.0', cadenceComponentVersion: '1.0' }];
  const a = explain(simple(), { binary: '1.2.0', supportedComponents: ['1.0'] }, runs);
  assert.deepEqual(reasons(a.ranges), [
    '100..109 silent-fork-risk,component-mismatch',
    '110..119 silent-fork-risk,component-mismatch',
    '120..130 component-mismatch',
  ]);
  assert.deepEqual(a.silentForkRisk, [r(100, 119)]);
  assert.deepEqual(a.mayExecute, []);
});

test('SPEC 5.2 step 3: no boundary at or below h and no retroactive beacon: unknown, reason no beacon', () => {
  const a = explain(indexOf(100, rootBeacon([105, '1.0.0']), 110), { binary: '1.0.0' });
  assert.deepEqual(a.unknown, [r(100, 104)]);
  assert.deepEqual(reasons(a.ranges), ['100..104 unknown-no-beacon', '105..110 ']);
  const none = explain(indexOf(100, null, 103), { binary: '1.0.0' });
  assert.deepEqual(reasons(none.ranges), ['100..103 unknown-no-beacon']);
});

test('SPEC 5.4 overrides: an overridden boundary is skipped inside the beacon in force', () => {
  const a = explain(simple(), { binary: '1.0.0', overrides: ['1.1.0'] });
  assert.deepEqual(a.mayExecute, [r(100, 119)]);
  assert.deepEqual(a.belowRequired, [r(120, 130)]);
});

test('SPEC 5.4 overrides: only overridden boundaries at or below h in the beacon in force: unknown, reason overridden (no fall-back)', () => {
  const index = indexOf(100, rootBeacon([90, '1.0.0']), 120, { 105: [beacon(2, [104, '1.1.0'], [115, '1.2.0']), 104] });
  const a = explain(index, { binary: '1.0.0', overrides: ['1.1.0'] });
  assert.deepEqual(a.unknown, [r(105, 114)]);
  assert.deepEqual(reasons(a.ranges), ['100..104 ', '105..114 unknown-overridden', '115..120 below-required']);
});

// The spork: the first indexed beacon [H1: 0.38.0, H2: 0.39.0], emitted at 104 and
// sealed at 105, applies retroactively to 100..104.
const retroactive = (h1: number) => indexOf(100, null, 130, { 105: [beacon(1, [h1, '0.38.0'], [120, '0.39.0']), 104] });

test('SPEC 5.4 overrides with SPEC 5.2 step 3: an overridden first boundary of a retroactive beacon leaves R(h) unknown', () => {
  const a = explain(retroactive(90), { binary: '0.39.0', overrides: ['0.38.0'] });
  assert.deepEqual(a.silentForkRisk, []);
  assert.deepEqual(a.unknown, [r(100, 119)]);
  assert.deepEqual(a.mayExecute, [r(120, 130)]);
  assert.deepEqual(reasons(a.ranges), ['100..119 unknown-overridden', '120..130 ']);
  const plain = explain(retroactive(90), { binary: '0.39.0' });
  assert.deepEqual(plain.silentForkRisk, [r(100, 119)]);
  assert.deepEqual(plain.unknown, []);
});

test('SPEC 5.4 overrides with SPEC 5.2 step 3: below a retroactive first boundary that is overridden, R(h) is unknown too', () => {
  // H1 = 102: heights 100..101 take B1's first boundary retroactively, which is overridden.
  const a = explain(retroactive(102), { binary: '0.39.0', overrides: ['0.38.0'] });
  assert.deepEqual(reasons(a.ranges), ['100..119 unknown-overridden', '120..130 ']);
  const plain = explain(retroactive(102), { binary: '0.38.0', toHeight: 119 });
  assert.deepEqual(plain.mayExecute, [r(102, 119)]);
  assert.deepEqual(plain.silentForkRisk, [r(100, 101)]); // R = Rnext = the first boundary
});

test('SPEC 5.4 overrides with SPEC 5.2 step 3: an overridden later boundary of a retroactive beacon is skipped', () => {
  const a = explain(retroactive(90), { binary: '0.38.0', overrides: ['0.39.0'] });
  assert.deepEqual(a.mayExecute, [r(100, 130)]);
  assert.equal(a.verdict, true);
});

test('SPEC 5.4 range: heights of [from, to] outside [root, finalizedHeight] are unknown, outside the finalized range', () => {
  const a = explain(simple(), { binary: '1.0.0', fromHeight: 95, toHeight: 135 });
  assert.deepEqual(a.finalizedRange, r(100, 130));
  assert.deepEqual(a.outsideFinalizedRange, [r(95, 99), r(131, 135)]);
  assert.deepEqual(a.unknown, [r(95, 99), r(131, 135)]);
  assert.deepEqual(reasons(a.ranges), [
    '95..99 unknown-outside-finalized-range',
    '100..109 ',
    '110..119 below-required',
    '120..130 below-required',
    '131..135 unknown-outside-finalized-range',
  ]);
  const beyond = explain(simple(), { binary: '1.2.0', fromHeight: 200, toHeight: 300 });
  assert.deepEqual(beyond.outsideFinalizedRange, [r(200, 300)]);
  assert.equal(beyond.verdict, false);
});

test('SPEC 5.4 range: default [root, finalizedHeight]; the ranges partition exactly [from, to]', () => {
  const a = explain(simple(), { binary: '1.1.0', supportedComponents: ['1.0'] }, [
    { fromHeight: 112, toHeight: 113, executionComponentVersion: '1.1', cadenceComponentVersion: null },
  ]);
  assert.equal(a.fromHeight, 100);
  assert.equal(a.toHeight, 130);
  assert.deepEqual(a.outsideFinalizedRange, []);
  let next: U64 = a.fromHeight;
  for (const x of a.ranges) {
    assert.equal(x.fromHeight, next);
    assert.ok(x.toHeight >= x.fromHeight);
    next = Number(x.toHeight) + 1;
  }
  assert.equal(next, 131);
  assert.deepEqual(reasons(a.ranges), ['100..109 silent-fork-risk', '110..111 ', '112..113 component-mismatch', '114..119 ', '120..130 below-required']);
});

test('SPEC 5.4 range: an empty range (from > to) has no ranges and verdict false', () => {
  const a = explain(simple(), { binary: '1.0.0', fromHeight: 110, toHeight: 109 });
  assert.deepEqual(a.ranges, []);
  assert.deepEqual(a.belowRequired, []);
  assert.equal(a.verdict, false);
});

test('SPEC 5.4 JSON form: checkBootstrap gives exactly the SPEC keys; explainBootstrap adds its fields after them', () => {
  assert.deepEqual(Object.keys(checkBootstrap(simple(), [], { binary: '1.0.0' })), SPEC_5_4_KEYS);
  assert.deepEqual(Object.keys(explain(simple(), { binary: '1.0.0' })), [...EXPLAINED_KEYS, 'ranges']);
  const a = checkBootstrap(simple(), [], { binary: '1.0.5' });
  const b = explain(simple(), { binary: '1.0.5' });
  assert.deepEqual(a.mayExecute, b.mayExecute);
});
