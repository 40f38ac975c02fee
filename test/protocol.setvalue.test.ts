import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MeteringParams } from '../src/model/types.js';
import { evolve, snapshotReport } from '../src/protocol/evolve.js';
import type { EvolveResult } from '../src/protocol/evolve.js';
import { setValueMachine } from '../src/protocol/setvalue.js';
import { deepFreeze, evCadenceVersion, evEEVC, evExecVersion, evMetering, evUpgrade, mkSnapshot, normal } from './helpers/epochs.js';

function ok(r: EvolveResult) {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r;
}
const ruled = (r: { outcomes: { outcome: string; rule: string }[] }) => r.outcomes.map((o) => [o.outcome, o.rule]);

test('4.7 set-epoch-extension-view-count: 2t-1 rejected, 2t accepted, last accepted wins, immediate', () => {
  const p = deepFreeze(mkSnapshot({ t: 100, E: 600 }));
  const r = ok(evolve(p, 1100, [evEEVC(199), evEEVC(200), evEEVC(900), evEEVC(150)]));
  assert.deepEqual(ruled(r), [
    ['rejected', '4.7.eevc.too-small'],
    ['applied', '4.7.eevc.applied'],
    ['applied', '4.7.eevc.applied'],
    ['rejected', '4.7.eevc.too-small'],
  ]);
  assert.equal(r.snapshot.kv.epochExtensionViewCount, 900);
  assert.equal(p.kv.epochExtensionViewCount, 600);
});

test("4.7 set-epoch-extension-view-count: the sealing block extends with the parent's E, descendants with the new E", () => {
  // fallback phase, F = 1999, t = 100
  const p = mkSnapshot({ t: 100, E: 600, fallbackTriggered: true });
  const a = ok(evolve(p, 1899, [evEEVC(900)]));
  assert.deepEqual(a.snapshot.epoch.current.extensions, [{ firstView: 2000, finalView: 2599 }]);
  assert.equal(a.snapshot.kv.epochExtensionViewCount, 900);
  const b = ok(evolve(a.snapshot, 2499, []));
  assert.deepEqual(b.snapshot.epoch.current.extensions.at(-1), { firstView: 2600, finalView: 3499 });
});

test('4.7 v3 events: rejected below v3', () => {
  const p = mkSnapshot({ version: 2, t: 10 });
  const r = ok(
    evolve(p, 100, [
      evExecVersion({ major: 1, minor: 0 }, 1000),
      evCadenceVersion({ major: 1, minor: 0 }, 1000),
      evMetering({ effortWeights: [], memoryWeights: [], memoryLimit: 5 }, 1000),
    ]),
  );
  assert.deepEqual(ruled(r), [
    ['rejected', '4.7.update.below-v3'],
    ['rejected', '4.7.update.below-v3'],
    ['rejected', '4.7.update.below-v3'],
  ]);
  assert.equal(r.snapshot, p);
});

test("4.7 v3 events: accepted in the block that activates v3 (M.version, not the parent's)", () => {
  const p = mkSnapshot({ version: 2, t: 10, versionUpgrade: { data: 3, activationView: 100 } });
  const r = ok(evolve(p, 100, [evExecVersion({ major: 1, minor: 0 }, 200)]));
  assert.equal(r.snapshot.kv.version, 3);
  assert.deepEqual(ruled(r), [['applied', '4.7.update.scheduled']]);
  assert.deepEqual(r.snapshot.kv.executionComponentVersion, { current: { major: 0, minor: 0 }, update: { data: { major: 1, minor: 0 }, activationView: 200 } });
});

test('4.7 v3 events: activationView > V+t (V+t rejected, V+t+1 accepted)', () => {
  const p = mkSnapshot({ version: 3, t: 100 });
  const r = ok(evolve(p, 1010, [evExecVersion({ major: 1, minor: 0 }, 1110), evExecVersion({ major: 1, minor: 0 }, 1111)]));
  assert.deepEqual(ruled(r), [
    ['rejected', '4.7.update.activation-view'],
    ['applied', '4.7.update.scheduled'],
  ]);
  for (const [mk, key] of [
    [evCadenceVersion, 'cadenceComponentVersion'],
    [evExecVersion, 'executionComponentVersion'],
  ] as const) {
    const a = ok(evolve(p, 1010, [mk({ major: 2, minor: 1 }, 1110)]));
    assert.deepEqual(ruled(a), [['rejected', '4.7.update.activation-view']]);
    const b = ok(evolve(p, 1010, [mk({ major: 2, minor: 1 }, 1111)]));
    assert.deepEqual(b.snapshot.kv[key]!.update, { data: { major: 2, minor: 1 }, activationView: 1111 });
  }
  const params: MeteringParams = { effortWeights: [[3, 7]], memoryWeights: [[1, 2]], memoryLimit: 1n << 60n };
  assert.deepEqual(ruled(ok(evolve(p, 1010, [evMetering(params, 1110)]))), [['rejected', '4.7.update.activation-view']]);
  const m = ok(evolve(p, 1010, [evMetering(params, 1111)]));
  assert.deepEqual(normal(m.snapshot.kv.executionMeteringParameters!.update), normal({ data: params, activationView: 1111 }));
  assert.notEqual(m.snapshot.kv.executionMeteringParameters!.update!.data, params, 'state does not alias the event');
});

test('4.7 v3 events: a pending update is overwritten; the value becomes current at the first view >= activationView (4.3 step 3)', () => {
  const p = mkSnapshot({ version: 3, t: 100 });
  const a = ok(evolve(p, 1010, [evCadenceVersion({ major: 2, minor: 0 }, 1200)]));
  const b = ok(evolve(a.snapshot, 1020, [evCadenceVersion({ major: 3, minor: 0 }, 1300)]));
  assert.deepEqual(b.snapshot.kv.cadenceComponentVersion!.update, { data: { major: 3, minor: 0 }, activationView: 1300 });
  assert.equal(snapshotReport(ok(evolve(b.snapshot, 1250, [])).snapshot, 1250).cadenceComponentVersion, '0.0');
  assert.equal(snapshotReport(ok(evolve(b.snapshot, 1299, [])).snapshot, 1299).cadenceComponentVersion, '0.0');
  const atExact = ok(evolve(b.snapshot, 1300, []));
  assert.equal(snapshotReport(atExact.snapshot, 1300).cadenceComponentVersion, '3.0');
  assert.deepEqual(atExact.snapshot.kv.cadenceComponentVersion!.update, { data: { major: 3, minor: 0 }, activationView: 1300 }, 'update kept');
  const skipped = ok(evolve(b.snapshot, 1305, []));
  assert.equal(snapshotReport(skipped.snapshot, 1305).cadenceComponentVersion, '3.0');
  assert.equal(snapshotReport(skipped.snapshot, 1305).executionComponentVersion, '0.0');
});

test("4.7 machine: pure, ignores other types, uses M's threshold", () => {
  const m = deepFreeze(mkSnapshot({ version: 3, t: 7 }).kv);
  const r = setValueMachine(m, [evUpgrade(4, 1000), evEEVC(14)], { view: 1, t: 7 });
  assert.equal(r.outcomes[0], undefined);
  assert.equal(r.outcomes[1]!.rule, '4.7.eevc.applied');
  assert.equal(r.kv.epochExtensionViewCount, 14);
  assert.equal(m.epochExtensionViewCount, 600);
});
