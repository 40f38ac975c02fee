import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Unpackr } from 'msgpackr';
import type { BlockRecord, Header, Payload, Result, RootSnapshot, ServiceEvent, U64 } from '../src/model/types.js';
import * as Schema from '../src/model/schema.js';
import type { Kind } from '../src/model/schema.js';
import { u64 } from '../src/model/u64.js';
import { commitId, epochStateId, headerId, kvStoreId, resultId, setupId } from '../src/model/ids.js';
import { ZERO } from '../src/model/bytes.js';
import { epochCounter, evolve, evolveFull, makeSnapshot, nothingDue, snapshotReport } from '../src/protocol/evolve.js';
import type { EvolveResult, ProtocolSnapshot } from '../src/protocol/evolve.js';
import { epochFinalView } from '../src/protocol/epoch.js';
import { RULES } from '../src/protocol/rules.js';
import { Rng } from '../src/synth/rng.js';
import {
  CUR_COMMIT,
  CUR_SETUP,
  deepFreeze,
  evBeacon,
  evCadenceVersion,
  evCommit,
  evEEVC,
  evEject,
  evExecVersion,
  evMetering,
  evRecover,
  evSetup,
  evUnknown,
  evUpgrade,
  hex,
  mkCommit,
  mkSetup,
  mkSnapshot,
  normal,
} from './helpers/epochs.js';

function ok(r: EvolveResult) {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r;
}

/** The snapshot invariants of evolve.ts: kvId, epochStateId and the cached events agree. */
function assertConsistent(s: ProtocolSnapshot) {
  assert.equal(hex(s.kvId), hex(kvStoreId(s.kv)));
  assert.equal(hex(s.kv.epochStateId), hex(epochStateId(s.epoch)));
  const pairs: [Uint8Array | undefined, Uint8Array | null][] = [
    [s.epoch.previous?.setupId, s.events.previousSetup && setupId(s.events.previousSetup)],
    [s.epoch.current.setupId, setupId(s.events.currentSetup)],
    [s.epoch.next?.setupId, s.events.nextSetup && setupId(s.events.nextSetup)],
  ];
  for (const [a, b] of pairs) assert.equal(a === undefined ? null : hex(a), b === null ? null : hex(b));
  const commits: [Uint8Array | undefined, Uint8Array | null][] = [
    [s.epoch.current.commitId, s.events.currentCommit ? commitId(s.events.currentCommit) : ZERO],
    [s.epoch.next?.commitId, s.epoch.next === null ? null : s.events.nextCommit ? commitId(s.events.nextCommit) : ZERO],
  ];
  for (const [a, b] of commits) assert.equal(a === undefined ? null : hex(a), b === null ? null : hex(b));
}

/** evolve and the no-fast-path reference agree (state, id, outcomes); returns evolve's result. */
function both(p: ProtocolSnapshot, view: U64, ev: ServiceEvent[]): EvolveResult {
  const a = evolve(p, view, ev);
  const b = evolveFull(p, view, ev);
  assert.equal(a.ok, b.ok);
  if (a.ok && b.ok) {
    assert.equal(hex(a.snapshot.kvId), hex(b.snapshot.kvId));
    assert.deepEqual(normal(a.snapshot), normal(b.snapshot));
    assert.deepEqual(a.outcomes, b.outcomes);
    assertConsistent(a.snapshot);
  } else if (!a.ok && !b.ok) {
    assert.equal(a.rule, b.rule);
    assert.equal(a.reason, b.reason);
  }
  return a;
}

// ---------------------------------------------------------------------------------- 4.3 steps

test('4.3 step 1: activation at the first view >= activationView (exact view and skipped views)', () => {
  const p = deepFreeze(mkSnapshot({ version: 2, versionUpgrade: { data: 3, activationView: 1104 } }));
  const before = ok(both(p, 1103, []));
  assert.equal(before.snapshot, p);
  assert.equal(before.changed, false);
  const exact = ok(both(p, 1104, []));
  assert.equal(exact.changed, true);
  assert.equal(exact.snapshot.kv.version, 3);
  assert.deepEqual(snapshotReport(exact.snapshot, 1104), {
    protocolStateVersion: 3,
    executionComponentVersion: '0.0',
    cadenceComponentVersion: '0.0',
    pendingUpgrade: null,
    epochCounter: 5,
    epochPhase: 'staking',
    epochFinalView: 1999,
  });
  const skipped = ok(both(p, 1106, []));
  assert.equal(skipped.snapshot.kv.version, 3);
  assert.equal(hex(skipped.snapshot.kvId), hex(exact.snapshot.kvId));
  // after activation nothing is due any more: children keep the same snapshot object
  assert.equal(ok(both(exact.snapshot, 1107, [])).snapshot, exact.snapshot);
  assert.deepEqual(snapshotReport(p, 1103).pendingUpgrade, { version: 3, activationView: 1104 });
});

test('4.3 forks: state is per block; siblings evolve independently and the parent is untouched', () => {
  const root = deepFreeze(mkSnapshot({ version: 2, t: 10 }));
  const sealing = ok(both(root, 1010, [evUpgrade(3, 1500)])).snapshot;
  const rootId = hex(root.kvId);
  // fork A reaches 1500 exactly, fork B skips 1500..1599, fork C branched before the sealing
  const a = [1300, 1400, 1500].reduce((s, v) => ok(both(s, v, [])).snapshot, sealing);
  const b = [1300, 1401, 1499, 1600].reduce((s, v) => ok(both(s, v, [])).snapshot, sealing);
  const b1499 = [1300, 1401, 1499].reduce((s, v) => ok(both(s, v, [])).snapshot, sealing);
  const c = [1006, 1600].reduce((s, v) => ok(both(s, v, [])).snapshot, root);
  assert.equal(a.kv.version, 3);
  assert.equal(b1499.kv.version, 2);
  assert.equal(b.kv.version, 3);
  assert.equal(c.kv.version, 2);
  assert.equal(hex(root.kvId), rootId);
  assert.equal(root.kv.versionUpgrade, null);
  assert.deepEqual(sealing.kv.versionUpgrade, { data: 3, activationView: 1500 });
});

test('4.3 step 3 and 4.7: v3 activation at the first view >= activationView, per fork', () => {
  const p = mkSnapshot({ version: 3, t: 100 });
  const s = ok(both(p, 1010, [evExecVersion({ major: 1, minor: 0 }, 1111)])).snapshot;
  const a = ok(both(s, 1110, [])).snapshot;
  assert.equal(snapshotReport(a, 1110).executionComponentVersion, '0.0');
  assert.equal(snapshotReport(ok(both(a, 1111, [])).snapshot, 1111).executionComponentVersion, '1.0');
  assert.equal(snapshotReport(ok(both(a, 1112, [])).snapshot, 1112).executionComponentVersion, '1.0');
});

test("4.3 steps 4-7: machines see the parent's t/E and version; epochStateId always written", () => {
  const p = mkSnapshot({ version: 2, t: 100, E: 600, fallbackTriggered: true });
  const r = ok(both(p, 1899, [evEEVC(900), evUpgrade(3, 5000), evEject(11)]));
  assertConsistent(r.snapshot);
  assert.deepEqual(r.snapshot.epoch.current.extensions, [{ firstView: 2000, finalView: 2599 }], 'extension uses the parent E');
  assert.equal(r.snapshot.kv.epochExtensionViewCount, 900);
  assert.deepEqual(r.snapshot.kv.versionUpgrade, { data: 3, activationView: 5000 });
  assert.deepEqual(
    r.outcomes.map((o) => o.outcome),
    ['applied', 'applied', 'applied'],
  );
});

test('6 unsupported-version: replication to v4 or an incompatible target never throws', () => {
  const p = mkSnapshot({ version: 3, t: 10, versionUpgrade: { data: 4, activationView: 1200 } });
  assert.equal(ok(both(p, 1199, [])).snapshot, p);
  const r = both(p, 1200, []);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.verdict, 'unsupported-version');
  for (const data of [0, 1, 4, 2n ** 63n] as U64[]) {
    const q = mkSnapshot({ version: 2, versionUpgrade: { data, activationView: 5 } });
    const x = both(q, 10, [evSetup(CUR_SETUP)]);
    assert.equal(x.ok, false, `target ${data}`);
  }
  // the block that accepts the v4 upgrade is fine (rules only)
  const v3 = mkSnapshot({ version: 3, t: 10 });
  assert.equal(ok(both(v3, 1010, [evUpgrade(4, 1200)])).outcomes[0].outcome, 'applied');
});

// ---------------------------------------------------------------------------------- outcomes

test('9.14 outcomes: version beacons (valid ignored, invalid rejected) and unknown types (ignored)', () => {
  const p = mkSnapshot();
  const good = evBeacon({
    boundaries: [
      { blockHeight: 10, version: '0.38.0' },
      { blockHeight: 20, version: '0.38.1' },
    ],
    sequence: 1,
  });
  const bad = evBeacon({
    boundaries: [
      { blockHeight: 10, version: '0.38.1' },
      { blockHeight: 20, version: '0.38.1-rc.2' },
    ],
    sequence: 2,
  });
  const r = ok(both(p, 1100, [good, bad, evUnknown('future-event')]));
  assert.equal(r.snapshot, p, 'fast path: no state event');
  assert.deepEqual(
    r.outcomes.map((o) => [o.type, o.outcome, o.rule]),
    [
      ['version-beacon', 'ignored', '5.2.beacon.indexed'],
      ['version-beacon', 'rejected', '5.2.beacon.invalid'],
      ['future-event', 'ignored', '9.14.unknown-type'],
    ],
  );
  assert.equal(ok(both(p, 1100, [])).outcomes.length, 0);
});

// ---------------------------------------------------------------------------------- fast path

test('4.3 fast path: nothing due returns the parent object; each due kind falls through to the full path', () => {
  const staking = mkSnapshot({ t: 100 });
  assert.equal(nothingDue(staking, 1898), true);
  assert.equal(ok(evolve(staking, 1898, [])).snapshot, staking);
  const due: [string, ProtocolSnapshot, number][] = [
    ['deadline', staking, 1899],
    ['extension', mkSnapshot({ t: 100, fallbackTriggered: true }), 1899],
    ['transition', mkSnapshot({ t: 100, next: 'committed' }), 2000],
    ['version activation', mkSnapshot({ versionUpgrade: { data: 3, activationView: 1500 } }), 1500],
    [
      'v3 activation',
      mkSnapshot({
        version: 3,
        v3: { cadenceComponentVersion: { current: { major: 0, minor: 0 }, update: { data: { major: 1, minor: 1 }, activationView: 1500 } } },
      }),
      1500,
    ],
  ];
  for (const [name, p, view] of due) {
    assert.equal(nothingDue(p, view), false, name);
    assert.equal(nothingDue(p, view - 1), true, `${name} at view - 1`);
    const r = ok(both(p, view, []));
    assert.equal(r.changed, true, name);
    assert.notEqual(hex(r.snapshot.kvId), hex(p.kvId), name);
  }
});

/** A seeded float source in [0, 1). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

test('4.3 fast path equals a full recomputation on random chains (views, events, all phases)', () => {
  const starts = [
    mkSnapshot({ version: 0, t: 50, E: 300 }),
    mkSnapshot({ version: 1, t: 100, versionUpgrade: { data: 2, activationView: 1300 } }),
    mkSnapshot({ version: 2, t: 100, next: 'setup' }),
    mkSnapshot({ version: 2, t: 100, next: 'committed' }),
    mkSnapshot({ version: 3, t: 30, E: 100, fallbackTriggered: true }),
    mkSnapshot({ version: 2, t: 100, versionUpgrade: { data: 3, activationView: 1200 } }),
  ];
  let blocks = 0;
  let fast = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    let s = starts[seed % starts.length];
    let view = 1001;
    for (let step = 0; step < 80; step++) {
      view += 1 + Math.floor(r() * (r() < 0.2 ? 900 : 120));
      const ev: ServiceEvent[] = [];
      if (r() < 0.35) {
        const n = 1 + Math.floor(r() * 3);
        const F = Number(epochFinalView(s.epoch, s.events));
        const next = mkSetup({ counter: Number(epochCounter(s)) + 1, firstView: F + 1, finalView: F + 1000 });
        const pendingNext = s.events.nextSetup;
        for (let i = 0; i < n; i++) {
          const k = Math.floor(r() * 12);
          const t = Number(s.kv.finalizationSafetyThreshold);
          switch (k) {
            case 0:
              ev.push(evSetup(next));
              break;
            case 1:
              ev.push(evCommit(mkCommit(pendingNext ?? next)));
              break;
            case 2:
              ev.push(evRecover(next, mkCommit(next)));
              break;
            case 3:
              ev.push(evEject(10 + Math.floor(r() * 12)));
              break;
            case 4:
              ev.push(evUpgrade(s.kv.version + (r() < 0.8 ? 1 : 2), view + t + Math.floor(r() * 3) - 1 + Math.floor(r() * 400)));
              break;
            case 5:
              ev.push(evEEVC(2 * t - 1 + Math.floor(r() * 3) * 200));
              break;
            case 6:
              ev.push(evExecVersion({ major: Math.floor(r() * 3), minor: 1 }, view + t + Math.floor(r() * 300)));
              break;
            case 7:
              ev.push(evCadenceVersion({ major: 2, minor: Math.floor(r() * 3) }, view + t + Math.floor(r() * 300)));
              break;
            case 8:
              ev.push(
                evMetering({ effortWeights: [[1, Math.floor(r() * 5)]], memoryWeights: [], memoryLimit: 2n ** 62n }, view + t + 1 + Math.floor(r() * 300)),
              );
              break;
            case 9:
              ev.push(evBeacon({ boundaries: [{ blockHeight: 5, version: '1.0.0' }], sequence: step }));
              break;
            case 10:
              ev.push(evUnknown('x-' + step));
              break;
            default:
              ev.push(evCommit(mkCommit(pendingNext ?? next, { counter: 99 })));
              break;
          }
        }
      }
      const res = both(s, view, ev);
      blocks++;
      if (!res.ok) break;
      if (res.snapshot === s) fast++;
      s = res.snapshot;
    }
  }
  assert.ok(blocks > 2000, `blocks ${blocks}`);
  assert.ok(fast > 300, `unchanged blocks ${fast}`);
});

test('makeSnapshot / epochCounter / snapshotReport on a fallback state', () => {
  const p = mkSnapshot({
    t: 100,
    fallbackTriggered: true,
    current: { setup: CUR_SETUP, commit: CUR_COMMIT, extensions: [{ firstView: 2000, finalView: 2599 }] },
  });
  assertConsistent(p);
  assert.equal(epochCounter(p), 5);
  const rep = snapshotReport(p, 2100);
  assert.equal(rep.epochPhase, 'fallback');
  assert.equal(rep.epochFinalView, 2599);
  assert.equal(rep.executionComponentVersion, null);
});

// ---------------------------------------------------------------------------------- scenario vectors
// Runs the state machines alone over every scenario archive (decoded here with msgpackr and the
// model schema, independent of the replay pipeline) and compares the state-derived fields of each
// evaluated block line: computedStateId, versions, pendingUpgrade, epoch fields and event outcomes.

const SCENARIOS = fileURLToPath(new URL('../../test/vectors/scenarios/', import.meta.url));

function fromArchive(v: unknown, kind: Kind): any {
  switch (kind.k) {
    case 'u64':
      return u64(v as number | bigint);
    case 'uint':
      return Number(v);
    case 'id':
    case 'bytes':
      return Uint8Array.from(v as Uint8Array);
    case 'str':
    case 'bool':
      return v;
    case 'opt':
      return v === null || v === undefined ? null : fromArchive(v, kind.of);
    case 'list':
      return (v as unknown[]).map((x) => fromArchive(x, kind.of));
    case 'pair': {
      const [a, b] = v as [unknown, unknown];
      return [fromArchive(a, kind.a), fromArchive(b, kind.b)];
    }
    case 'rec': {
      const o: Record<string, unknown> = {};
      kind.fields.forEach(([n, k], i) => {
        if (i < (v as unknown[]).length) o[n] = fromArchive((v as unknown[])[i], k);
      });
      return o;
    }
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const [n, k] of kind.fields) {
        const x = (v as Record<string, unknown>)[n];
        o[n] = x === undefined ? null : fromArchive(x, k);
      }
      return o;
    }
    case 'event': {
      const [type, body] = v as [string, unknown];
      const bk = Schema.EVENT_BODIES[type];
      return bk === undefined ? { type, event: body, unknown: true } : { type, event: fromArchive(body, bk) };
    }
    default:
      throw new Error(`kind ${kind.k}`);
  }
}

interface ExpectedLine {
  type: string;
  id: string;
  parentId: string | null;
  height: number | null;
  view: number | null;
  verdict: string;
  computedStateId: string | null;
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: unknown;
  epochCounter: number | null;
  epochPhase: string | null;
  epochFinalView: number | null;
  events: unknown[];
}

const scenarioIndex = JSON.parse(readFileSync(SCENARIOS + 'index.json', 'utf8')) as { scenarios: { name: string }[] };
for (const { name } of scenarioIndex.scenarios) {
  test(`scenario ${name}: state machines reproduce the expected state ids, versions, epoch fields and outcomes`, () => {
    const values = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' }).unpackMultiple(
      readFileSync(SCENARIOS + name + '.spork'),
    ) as unknown[];
    const root = fromArchive(values[0], Schema.ArchiveHeader).root as RootSnapshot;
    if (root.kvStore.version < 3) {
      delete root.kvStore.executionMeteringParameters;
      delete root.kvStore.executionComponentVersion;
      delete root.kvStore.cadenceComponentVersion;
    }
    const rootId = hex(headerId(root.rootBlock.header));
    const blocks = new Map<string, { header: Header; payload: Payload }>([[rootId, root.rootBlock]]);
    for (const v of values.slice(1)) {
      try {
        const rec = fromArchive(v, Schema.BlockRecord) as BlockRecord;
        blocks.set(hex(rec.blockId), rec);
      } catch {
        // malformed records belong to the decode-error scenarios; they are not evaluated
      }
    }
    const rootResultId = hex(resultId(root.rootResult));
    const resultsUpTo = (id: string): Map<string, Result> => {
      const out = new Map<string, Result>([[rootResultId, root.rootResult]]);
      for (let cur: string | undefined = id; cur !== undefined && blocks.has(cur); ) {
        const b: { header: Header; payload: Payload } = blocks.get(cur)!;
        for (const r of b.payload.results) out.set(hex(resultId(r)), r);
        cur = cur === rootId ? undefined : hex(b.header.parentId);
      }
      return out;
    };
    const snaps = new Map<string, ProtocolSnapshot>();
    const rootSnap = makeSnapshot(root.kvStore, root.epochState, root.epochEvents);
    assert.equal(hex(rootSnap.kvId), hex(root.rootBlock.payload.protocolStateId));
    snaps.set(rootId, rootSnap);
    const lines = readFileSync(SCENARIOS + name + '.expected.jsonl', 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ExpectedLine)
      .filter((o) => o.type === 'block' && (o.computedStateId !== null || o.verdict === 'unsupported-version'))
      .sort((a, b) => a.height! - b.height! || a.view! - b.view!);
    assert.ok(lines.length > 0);
    for (const e of lines) {
      const b = blocks.get(e.id)!;
      const parent = snaps.get(e.parentId!);
      assert.ok(b !== undefined && parent !== undefined, `block ${e.id} and its parent state`);
      const results = resultsUpTo(e.id);
      const heightOf = (s: { blockId: Uint8Array }) => Number(blocks.get(hex(s.blockId))!.header.height);
      const seals = [...b.payload.seals].sort((x, y) => heightOf(x) - heightOf(y));
      const ev = seals.flatMap((s) => results.get(hex(s.resultId))!.serviceEvents);
      const r = both(parent, b.header.view, ev);
      const at = `${name} height ${e.height} view ${e.view}`;
      if (!r.ok) {
        assert.equal(e.verdict, 'unsupported-version', at);
        assert.ok(r.rule === '4.1.unknown-version' || r.rule === '4.1.incompatible-version-change', at);
        continue;
      }
      for (const o of r.outcomes) assert.equal(RULES[o.rule].outcome, o.outcome, `${at}: ${o.type} outcome is its rule's`);
      snaps.set(e.id, r.snapshot);
      const rep = snapshotReport(r.snapshot, b.header.view);
      assert.deepEqual(
        {
          computedStateId: hex(r.snapshot.kvId),
          protocolStateVersion: rep.protocolStateVersion,
          executionComponentVersion: rep.executionComponentVersion,
          cadenceComponentVersion: rep.cadenceComponentVersion,
          pendingUpgrade: rep.pendingUpgrade,
          epochCounter: rep.epochCounter,
          epochPhase: rep.epochPhase,
          epochFinalView: rep.epochFinalView,
          events: r.outcomes.map(({ type, outcome, reason }) => ({ type, outcome, reason })),
        },
        {
          computedStateId: e.computedStateId,
          protocolStateVersion: e.protocolStateVersion,
          executionComponentVersion: e.executionComponentVersion,
          cadenceComponentVersion: e.cadenceComponentVersion,
          pendingUpgrade: e.pendingUpgrade,
          epochCounter: e.epochCounter,
          epochPhase: e.epochPhase,
          epochFinalView: e.epochFinalView,
          events: e.events,
        },
        at,
      );
    }
  });
}
