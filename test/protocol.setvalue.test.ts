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
const brief = (r: { outcomes: { outcome: string; reason: string }[] }) => r.outcomes.map((o) => [o.outcome, o.reason]);

test('4.7 set-epoch-extension-view-count: 2t-1 rejected, 2t accepted, last accepted wins, immediate', () => {
  const p = deepFreeze(mkSnapshot({ t: 100, E: 600 }));
  const r = ok(evolve(p, 1100, [evEEVC(199), evEEVC(200), evEEVC(900), evEEVC(150)]));
  assert.deepEqual(brief(r), [
    ['rejected', 'value 199 < 2*FST = 200'],
    ['applied', 'epochExtensionViewCount = 200'],
    ['applied', 'epochExtensionViewCount = 900'],
    ['rejected', 'value 150 < 2*FST = 200'],
  ]);
  assert.equal(r.snapshot.kv.epochExtensionViewCount, 900);
  assert.equal(p.kv.epochExtensionViewCount, 600);
});

test('4.7 set-epoch-extension-view-count: the sealing block extends with the parent\'s E, descendants with the new E', () => {
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
  const r = ok(evolve(p, 100, [
    evExecVersion({ major: 1, minor: 0 }, 1000),
    evCadenceVersion({ major: 1, minor: 0 }, 1000),
    evMetering({ effortWeights: [], memoryWeights: [], memoryLimit: 5 }, 1000),
  ]));
  assert.deepEqual(r.outcomes.map((o) => o.outcome), ['rejected', 'rejected', 'rejected']);
  assert.match(r.outcomes[0].reason, /requires protocol state version >= 3, state is v2/);
  assert.equal(r.snapshot, p);
});

test('4.7 v3 events: accepted in the block that activates v3 (M.version, not the parent\'s)', () => {
  const p = mkSnapshot({ version: 2, t: 10, versionUpgrade: { data: 3, activationView: 100 } });
  const r = ok(evolve(p, 100, [evExecVersion({ major: 1, minor: 0 }, 200)]));
  assert.equal(r.snapshot.kv.version, 3);
  assert.equal(r.outcomes[0].outcome, 'applied');
  assert.deepEqual(r.snapshot.kv.executionComponentVersion, { current: { major: 0, minor: 0 }, update: { data: { major: 1, minor: 0 }, activationView: 200 } });
});

test('4.7 v3 events: activationView > V+t (V+t rejected, V+t+1 accepted)', () => {
  const p = mkSnapshot({ version: 3, t: 100 });
  const r = ok(evolve(p, 1010, [evExecVersion({ major: 1, minor: 0 }, 1110), evExecVersion({ major: 1, minor: 0 }, 1111)]));
  assert.deepEqual(brief(r), [
    ['rejected', 'activationView 1110 <= V+t = 1110'],
    ['applied', 'scheduled for view 1111'],
  ]);
  for (const [mk, key] of [
    [evCadenceVersion, 'cadenceComponentVersion'],
    [evExecVersion, 'executionComponentVersion'],
  ] as const) {
    const a = ok(evolve(p, 1010, [mk({ major: 2, minor: 1 }, 1110)]));
    assert.equal(a.outcomes[0].outcome, 'rejected');
    const b = ok(evolve(p, 1010, [mk({ major: 2, minor: 1 }, 1111)]));
    assert.deepEqual(b.snapshot.kv[key]!.update, { data: { major: 2, minor: 1 }, activationView: 1111 });
  }
  const params: MeteringParams = { effortWeights: [[3, 7]], memoryWeights: [[1, 2]], memoryLimit: 1n << 60n };
  assert.equal(ok(evolve(p, 1010, [evMetering(params, 1110)])).outcomes[0].outcome, 'rejected');
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

test('4.7 machine: pure, ignores other types, uses M\'s threshold', () => {
  const m = deepFreeze(mkSnapshot({ version: 3, t: 7 }).kv);
  const r = setValueMachine(m, [evUpgrade(4, 1000), evEEVC(14)], { view: 1, t: 7 });
  assert.equal(r.outcomes[0], undefined);
  assert.equal(r.outcomes[1]!.outcome, 'applied');
  assert.equal(r.kv.epochExtensionViewCount, 14);
  assert.equal(m.epochExtensionViewCount, 600);
});
