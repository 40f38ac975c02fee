import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KVStore } from '../src/model/types.js';
import { U64_MAX } from '../src/model/u64.js';
import { kvStoreId } from '../src/model/ids.js';
import {
  applyDueActivations,
  componentVersions,
  copyKVStore,
  defaultMeteringParams,
  isSupportedVersion,
  pendingUpgrade,
  replicate,
  targetVersion,
  versionText,
} from '../src/protocol/kvstore.js';
import { deepFreeze, hex, mkSnapshot, normal } from './helpers/epochs.js';

function kv(version: number, extra: Partial<KVStore> = {}): KVStore {
  return { ...mkSnapshot({ version }).kv, ...extra };
}

const v3Store = (): KVStore =>
  kv(3, {
    versionUpgrade: { data: 3, activationView: 50 },
    executionMeteringParameters: {
      current: { effortWeights: [[1, 10]], memoryWeights: [[2, 20]], memoryLimit: 1000 },
      update: { data: { effortWeights: [[1, 11]], memoryWeights: [], memoryLimit: U64_MAX }, activationView: 900 },
    },
    executionComponentVersion: { current: { major: 1, minor: 2 }, update: { data: { major: 2, minor: 0 }, activationView: 800 } },
    cadenceComponentVersion: { current: { major: 0, minor: 9 }, update: null },
  });

test('4.1 replicate: same version is an independent deep copy (v3)', () => {
  const s = deepFreeze(v3Store());
  const r = replicate(s, 3);
  assert.ok(r.ok);
  assert.deepEqual(normal(r.kv), normal(s));
  assert.equal(hex(kvStoreId(r.kv)), hex(kvStoreId(s)));
  // no object (or byte array) is shared with the source
  assert.notEqual(r.kv, s);
  assert.notEqual(r.kv.epochStateId, s.epochStateId);
  assert.notEqual(r.kv.versionUpgrade, s.versionUpgrade);
  assert.notEqual(r.kv.executionMeteringParameters, s.executionMeteringParameters);
  assert.notEqual(r.kv.executionMeteringParameters!.current.effortWeights, s.executionMeteringParameters!.current.effortWeights);
  assert.notEqual(r.kv.executionMeteringParameters!.update!.data, s.executionMeteringParameters!.update!.data);
  assert.notEqual(r.kv.executionComponentVersion!.current, s.executionComponentVersion!.current);
  // mutating the copy leaves the source untouched
  r.kv.executionComponentVersion!.current.major = 99;
  r.kv.epochStateId[0] ^= 0xff;
  assert.equal(s.executionComponentVersion!.current.major, 1);
  assert.deepEqual(copyKVStore(s), copyKVStore(s));
});

test('4.1 replicate: same version deep copy for v0, v1, v2', () => {
  for (const v of [0, 1, 2]) {
    const s = deepFreeze(kv(v, { versionUpgrade: { data: v + 1, activationView: 7 } }));
    const r = replicate(s, v);
    assert.ok(r.ok);
    assert.equal(r.kv.version, v);
    assert.equal(r.kv.executionComponentVersion, undefined);
    assert.equal(hex(kvStoreId(r.kv)), hex(kvStoreId(s)));
    assert.notEqual(r.kv.versionUpgrade, s.versionUpgrade);
  }
});

test('4.1 replicate: v0->v1 and v1->v2 copy every field (versionUpgrade included), only the version changes', () => {
  for (const v of [0, 1]) {
    const s = deepFreeze(kv(v, { versionUpgrade: { data: v + 1, activationView: 1234 }, epochExtensionViewCount: 777 }));
    const r = replicate(s, v + 1);
    assert.ok(r.ok);
    assert.deepEqual(normal(r.kv), normal({ ...s, version: v + 1 }));
  }
});

test('4.1 replicate: v2->v3 keeps v2 fields and initialises the v3 fields to defaults with no update', () => {
  const s = deepFreeze(kv(2, { versionUpgrade: { data: 3, activationView: 1104 } }));
  const r = replicate(s, 3);
  assert.ok(r.ok);
  const m = r.kv;
  assert.equal(m.version, 3);
  assert.deepEqual(m.versionUpgrade, { data: 3, activationView: 1104 });
  assert.equal(hex(m.epochStateId), hex(s.epochStateId));
  assert.equal(m.epochExtensionViewCount, s.epochExtensionViewCount);
  assert.equal(m.finalizationSafetyThreshold, s.finalizationSafetyThreshold);
  assert.deepEqual(m.executionMeteringParameters, {
    current: { effortWeights: [], memoryWeights: [], memoryLimit: (1n << 64n) - 1n },
    update: null,
  });
  assert.deepEqual(m.executionComponentVersion, { current: { major: 0, minor: 0 }, update: null });
  assert.deepEqual(m.cadenceComponentVersion, { current: { major: 0, minor: 0 }, update: null });
  assert.deepEqual(componentVersions(m), { execution: '0.0', cadence: '0.0' });
  assert.deepEqual(defaultMeteringParams().memoryLimit, U64_MAX);
});

test('4.1 replicate: v0->v2 (skip), v3->v2 (down) and v1->v1+big are incompatible-version-change', () => {
  const cases: [number, number | bigint][] = [
    [0, 2],
    [3, 2],
    [1, 0],
    [2, 1n << 60n],
  ];
  for (const [from, to] of cases) {
    const r = replicate(kv(from), to);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.rule, '4.1.incompatible-version-change');
    }
  }
});

test('4.1 replicate: v3->v4 and an unknown source version give unknown-version (never a throw)', () => {
  const r = replicate(kv(3), 4);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.rule, '4.1.unknown-version');
  const r2 = replicate({ ...kv(2), version: 7 }, 7);
  assert.equal(r2.ok, false);
  if (!r2.ok) assert.equal(r2.rule, '4.1.unknown-version');
  assert.equal(isSupportedVersion(3), true);
  assert.equal(isSupportedVersion(4), false);
  assert.equal(isSupportedVersion(-1), false);
});

test('4.3 step 1: target version switches at the first view >= activationView', () => {
  const s = kv(2, { versionUpgrade: { data: 3, activationView: 1104 } });
  assert.equal(targetVersion(s, 1103), 2);
  assert.equal(targetVersion(s, 1104), 3);
  assert.equal(targetVersion(s, 1106), 3);
  assert.equal(targetVersion(kv(2), 1_000_000), 2);
});

test('4.3 step 3: due v3 activations at view >= activationView set current and keep the update', () => {
  const s = deepFreeze(v3Store());
  assert.equal(applyDueActivations(s, 799), s, 'nothing due: same object');
  const a = applyDueActivations(s, 800);
  assert.deepEqual(a.executionComponentVersion, { current: { major: 2, minor: 0 }, update: { data: { major: 2, minor: 0 }, activationView: 800 } });
  assert.deepEqual(normal(a.executionMeteringParameters), normal(s.executionMeteringParameters), 'metering not yet due');
  const b = applyDueActivations(a, 950);
  assert.deepEqual(normal(b.executionMeteringParameters!.current), normal(s.executionMeteringParameters!.update!.data));
  assert.notEqual(b.executionMeteringParameters!.update, null);
  // once current equals the update, nothing is due any more
  assert.equal(applyDueActivations(b, 5000), b);
  // below v3 nothing happens
  const v2 = kv(2);
  assert.equal(applyDueActivations(v2, 10_000), v2);
});

test('5.1 pendingUpgrade: reported while activationView > V; versionText is major.minor', () => {
  const s = kv(2, { versionUpgrade: { data: 3, activationView: 1104 } });
  assert.deepEqual(pendingUpgrade(s, 1103), { version: 3, activationView: 1104 });
  assert.equal(pendingUpgrade(s, 1104), null);
  assert.equal(pendingUpgrade(kv(2), 1), null);
  assert.equal(versionText({ major: 12, minor: 3 }), '12.3');
  assert.deepEqual(componentVersions(kv(2)), { execution: null, cadence: null });
});
