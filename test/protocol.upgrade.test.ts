import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evolve } from '../src/protocol/evolve.js';
import type { EvolveResult } from '../src/protocol/evolve.js';
import { applyUpgrade, upgradeMachine } from '../src/protocol/upgrade.js';
import { deepFreeze, evEEVC, evUpgrade, mkSnapshot } from './helpers/epochs.js';

function ok(r: EvolveResult) {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r;
}
const ruled = (r: { outcomes: { outcome: string; rule: string }[] }) => r.outcomes.map((o) => [o.outcome, o.rule]);

test('4.5 rule 1: activeView = V+t rejected, V+t+1 accepted', () => {
  const p = deepFreeze(mkSnapshot({ version: 2, t: 100 }));
  const a = ok(evolve(p, 1002, [evUpgrade(3, 1102)]));
  assert.deepEqual(
    a.outcomes.map((o) => [o.type, o.outcome, o.rule]),
    [['protocol-state-version-upgrade', 'rejected', '4.5.rule1']],
  );
  assert.equal(a.snapshot.kv.versionUpgrade, null);
  assert.equal(a.snapshot, p, 'a rejected event changes nothing: the parent snapshot is kept');
  const b = ok(evolve(p, 1002, [evUpgrade(3, 1103)]));
  assert.deepEqual(
    b.outcomes.map((o) => [o.type, o.outcome, o.rule]),
    [['protocol-state-version-upgrade', 'applied', '4.5.rule4']],
  );
  assert.deepEqual(b.snapshot.kv.versionUpgrade, { data: 3, activationView: 1103 });
  assert.equal(b.snapshot.kv.version, 2);
});

test("4.5 rule 2: newProtocolStateVersion must be the parent version + 1 (not M's version)", () => {
  const p = mkSnapshot({ version: 1, t: 1000 });
  const r = ok(evolve(p, 20000, [evUpgrade(3, 30000), evUpgrade(1, 30000), evUpgrade(2, 30000)]));
  assert.deepEqual(ruled(r), [
    ['rejected', '4.5.rule2'],
    ['rejected', '4.5.rule2'],
    ['applied', '4.5.rule4'],
  ]);
  assert.deepEqual(r.snapshot.kv.versionUpgrade, { data: 2, activationView: 30000 });
  // In the block that activates v2 (M.version = 2), the rule still compares with the parent's v1.
  const q = mkSnapshot({ version: 1, t: 10, versionUpgrade: { data: 2, activationView: 500 } });
  const s = ok(evolve(q, 500, [evUpgrade(3, 900), evUpgrade(2, 900)]));
  assert.equal(s.snapshot.kv.version, 2);
  assert.deepEqual(ruled(s), [
    ['rejected', '4.5.rule2'],
    ['applied', '4.5.rule4'],
  ]);
  assert.deepEqual(s.snapshot.kv.versionUpgrade, { data: 2, activationView: 900 });
});

test('4.5 rule 3: a pending upgrade (activationView >= V, boundary = V) blocks another version; activationView = V-1 does not', () => {
  // A root-like state whose activator targets a version other than S.version + 1 (the only way rule 3
  // can reject after rule 2 passed).
  const pendingAtV = mkSnapshot({ version: 2, t: 10, versionUpgrade: { data: 2, activationView: 1000 } });
  const r = ok(evolve(pendingAtV, 1000, [evUpgrade(3, 2000)]));
  assert.deepEqual(ruled(r), [['rejected', '4.5.rule3']]);
  assert.equal(r.snapshot, pendingAtV, 'rejected: nothing changed');
  const done = mkSnapshot({ version: 2, t: 10, versionUpgrade: { data: 2, activationView: 999 } });
  const s = ok(evolve(done, 1000, [evUpgrade(3, 2000)]));
  assert.deepEqual(ruled(s), [['applied', '4.5.rule4']]);
  assert.deepEqual(s.snapshot.kv.versionUpgrade, { data: 3, activationView: 2000 });
});

test('4.5 rule 3: a pending upgrade is replaced by one to the same version (earlier or later view)', () => {
  const p = mkSnapshot({ version: 1, t: 1000 });
  const r = ok(evolve(p, 20000, [evUpgrade(2, 21500), evUpgrade(2, 21200), evUpgrade(2, 20900)]));
  assert.deepEqual(ruled(r), [
    ['applied', '4.5.rule4'],
    ['applied', '4.5.rule4'],
    ['rejected', '4.5.rule1'],
  ]);
  assert.deepEqual(r.snapshot.kv.versionUpgrade, { data: 2, activationView: 21200 });
  // a later block replaces it again with a later view
  const s = ok(evolve(r.snapshot, 20100, [evUpgrade(2, 22000)]));
  assert.deepEqual(s.snapshot.kv.versionUpgrade, { data: 2, activationView: 22000 });
});

test('4.5 rule 4: the activator is never cleared; a later accepted event overwrites it', () => {
  const p = mkSnapshot({ version: 1, t: 10, versionUpgrade: { data: 2, activationView: 500 } });
  const a = ok(evolve(p, 500, []));
  assert.equal(a.snapshot.kv.version, 2);
  assert.deepEqual(a.snapshot.kv.versionUpgrade, { data: 2, activationView: 500 });
  const b = ok(evolve(a.snapshot, 600, [evEEVC(600)]));
  assert.deepEqual(b.snapshot.kv.versionUpgrade, { data: 2, activationView: 500 }, 'kept after activation');
  const c = ok(evolve(b.snapshot, 700, [evUpgrade(3, 800)]));
  assert.deepEqual(c.snapshot.kv.versionUpgrade, { data: 3, activationView: 800 });
});

test('4.5 machine: pure, in order, ignores other types', () => {
  const m = deepFreeze(mkSnapshot({ version: 2, t: 5 }).kv);
  const r = upgradeMachine(m, [evEEVC(10), evUpgrade(3, 100), evUpgrade(3, 90)], { parentVersion: 2, view: 50, t: 5 });
  assert.equal(r.outcomes[0], undefined);
  assert.equal(r.outcomes[1]!.rule, '4.5.rule4');
  assert.equal(r.outcomes[2]!.rule, '4.5.rule4');
  assert.deepEqual(r.kv.versionUpgrade, { data: 3, activationView: 90 });
  assert.equal(m.versionUpgrade, null);
  const x = applyUpgrade(m, { newProtocolStateVersion: 3, activeView: 55 }, { parentVersion: 2, view: 50, t: 5 });
  assert.equal(x.kv, m);
  assert.deepEqual([x.outcome.outcome, x.outcome.rule], ['rejected', '4.5.rule1']);
  assert.equal(applyUpgrade(m, { newProtocolStateVersion: 3, activeView: 56 }, { parentVersion: 2, view: 50, t: 5 }).outcome.rule, '4.5.rule4');
});
