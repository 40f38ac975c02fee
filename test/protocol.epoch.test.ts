import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EpochSetup, ServiceEvent, U64 } from '../src/model/types.js';
import { Role } from '../src/model/types.js';
import { setupId, commitId } from '../src/model/ids.js';
import { chooseMode, commitProblem, epochFinalView, epochMachine, epochNothingDue, phase, randomBeaconThreshold, setupProblem } from '../src/protocol/epoch.js';
import type { EpochResult } from '../src/protocol/epoch.js';
import type { ProtocolSnapshot } from '../src/protocol/evolve.js';
import {
  CUR_COMMIT,
  CUR_SETUP,
  NEXT_COMMIT,
  NEXT_SETUP,
  deepFreeze,
  defaultParticipants,
  dkgMap,
  evCommit,
  evEject,
  evRecover,
  evSetup,
  evUnknown,
  hex,
  mkCommit,
  mkSetup,
  mkSnapshot,
  nodeId,
  participant,
} from './helpers/epochs.js';
import type { SnapshotOptions } from './helpers/epochs.js';

const T = 100;
const E = 600;

function snap(o: SnapshotOptions = {}): ProtocolSnapshot {
  return deepFreeze(mkSnapshot({ t: T, E, ...o }));
}

function run(p: ProtocolSnapshot, view: U64, ev: ServiceEvent[] = []): EpochResult {
  return epochMachine({ state: p.epoch, events: p.events }, ev, { view, t: p.kv.finalizationSafetyThreshold, E: p.kv.epochExtensionViewCount });
}

const brief = (r: EpochResult) => Array.from(r.outcomes, (o) => (o === undefined ? undefined : [o.type, o.outcome, o.rule]));
/** SPEC 9.14: a setup/commit that made the happy path fail says it triggers epoch fallback. */
const TRIGGERS = /; triggers epoch fallback mode$/;

/** Setup of epoch 6 starting right after F (given F). */
const setupAfter = (F: number, patch: Partial<EpochSetup> = {}) => mkSetup({ counter: 6, firstView: F + 1, finalView: F + 1000 }, patch);

// ---------------------------------------------------------------------------------- 4.4

test('4.4 phase: staking, setup, committed, fallback, fallback with a committed next', () => {
  assert.equal(phase(snap().epoch), 'staking');
  assert.equal(phase(snap({ next: 'setup' }).epoch), 'setup');
  assert.equal(phase(snap({ next: 'committed' }).epoch), 'committed');
  assert.equal(phase(snap({ fallbackTriggered: true }).epoch), 'fallback');
  assert.equal(phase(snap({ fallbackTriggered: true, next: 'setup' }).epoch), 'fallback');
  assert.equal(phase(snap({ fallbackTriggered: true, next: 'committed' }).epoch), 'committed');
});

test("4.4 finalView: the last extension's finalView, else the setup's", () => {
  const p = snap();
  assert.equal(epochFinalView(p.epoch, p.events), 1999);
  const q = snap({
    current: {
      setup: CUR_SETUP,
      commit: CUR_COMMIT,
      extensions: [
        { firstView: 2000, finalView: 2599 },
        { firstView: 2600, finalView: 3199 },
      ],
    },
  });
  assert.equal(epochFinalView(q.epoch, q.events), 3199);
});

// ---------------------------------------------------------------------------------- 4.6 step 0

test('4.6 step 0: deadline at V+t = finalView enters fallback, V+t = finalView-1 does not', () => {
  for (const next of [null, 'setup'] as const) {
    const p = snap({ next });
    const before = run(p, 1898);
    assert.equal(before.mode, 'happy');
    assert.equal(before.state, p.epoch, 'unchanged state is the parent object');
    assert.equal(epochNothingDue({ state: p.epoch, events: p.events }, { view: 1898, t: T, E }), true);
    const at = run(p, 1899);
    assert.equal(at.mode, 'fallback');
    assert.equal(epochNothingDue({ state: p.epoch, events: p.events }, { view: 1899, t: T, E }), false);
    assert.equal(at.state.fallbackTriggered, true);
    assert.equal(at.state.next, null, 'uncommitted next dropped');
    assert.equal(at.events.nextSetup, null);
    assert.deepEqual(at.state.current.extensions, [{ firstView: 2000, finalView: 2599 }]);
    assert.equal(phase(at.state), 'fallback');
  }
});

test('4.6 step 0: no deadline in the committed phase; the deadline ignores extensions', () => {
  const c = snap({ next: 'committed' });
  assert.equal(chooseMode({ state: c.epoch, events: c.events }, { view: 1950, t: T, E }), 'happy');
  assert.equal(run(c, 1950).state, c.epoch);
  // flag clear, not committed, current already extended (synthetic): the setup's finalView (1999) counts
  const x = snap({ current: { setup: CUR_SETUP, commit: CUR_COMMIT, extensions: [{ firstView: 2000, finalView: 2599 }] } });
  assert.equal(run(x, 1898).mode, 'happy');
  const r = run(x, 1899);
  assert.equal(r.mode, 'fallback');
  assert.equal(r.state.current.extensions.length, 1, 'no extension: V+t = 1999 < F = 2599');
});

// ---------------------------------------------------------------------------------- fallback set-up, extension

test('4.6 extension: one extension {F+1, F+E} at V+t >= F, none at V+t = F-1, at most one per block', () => {
  const p = snap({ fallbackTriggered: true });
  assert.equal(run(p, 1898).state, p.epoch);
  const a = run(p, 1899);
  assert.deepEqual(a.state.current.extensions, [{ firstView: 2000, finalView: 2599 }]);
  // a block jumping far past F + E still gets exactly one extension
  const far = run(p, 5000);
  assert.deepEqual(far.state.current.extensions, [{ firstView: 2000, finalView: 2599 }]);
  // chain: F includes the earlier extension
  const q = snap({ fallbackTriggered: true, current: { setup: CUR_SETUP, commit: CUR_COMMIT, extensions: [{ firstView: 2000, finalView: 2599 }] } });
  assert.equal(run(q, 2498).state, q.epoch);
  assert.deepEqual(run(q, 2499).state.current.extensions, [
    { firstView: 2000, finalView: 2599 },
    { firstView: 2600, finalView: 3199 },
  ]);
  assert.equal(p.epoch.current.extensions.length, 0, 'parent untouched');
});

test('4.6 fallback set-up: a committed next is kept and no extension is added', () => {
  // fallback flag set with a committed next (e.g. after an invalid event in the committed phase)
  const p = snap({ fallbackTriggered: true, next: 'committed' });
  const r = run(p, 1950);
  assert.equal(r.mode, 'fallback');
  assert.equal(r.state, p.epoch);
  assert.equal(phase(r.state), 'committed');
});

// ---------------------------------------------------------------------------------- 4.6 step 1

test('4.6 step 1: transition strictly after finalView (V = F no, V = F+1 yes), events shift', () => {
  const p = snap({ next: 'committed' });
  assert.equal(run(p, 1999).state, p.epoch);
  const r = run(p, 2000);
  assert.equal(hex(r.state.previous!.setupId), hex(setupId(CUR_SETUP)));
  assert.equal(hex(r.state.current.setupId), hex(setupId(NEXT_SETUP)));
  assert.equal(hex(r.state.current.commitId), hex(commitId(NEXT_COMMIT)));
  assert.equal(r.state.next, null);
  assert.equal(r.events.previousSetup, CUR_SETUP);
  assert.equal(r.events.previousCommit, CUR_COMMIT);
  assert.equal(r.events.currentSetup, NEXT_SETUP);
  assert.equal(r.events.currentCommit, NEXT_COMMIT);
  assert.equal(r.events.nextSetup, null);
  assert.equal(phase(r.state), 'staking');
  // views skipped: first block with view > F
  assert.equal(hex(run(p, 2003).state.current.setupId), hex(setupId(NEXT_SETUP)));
});

test('4.6 step 1: the fallback flag is carried through the transition; extended F counts', () => {
  const p = snap({ fallbackTriggered: true, next: 'committed' });
  const r = run(p, 2000);
  assert.equal(r.state.fallbackTriggered, true);
  assert.equal(phase(r.state), 'fallback');
  const ext = snap({ next: 'committed', current: { setup: CUR_SETUP, commit: CUR_COMMIT, extensions: [{ firstView: 2000, finalView: 2599 }] } });
  assert.equal(run(ext, 2599).state, ext.epoch);
  assert.equal(hex(run(ext, 2600).state.current.setupId), hex(setupId(NEXT_SETUP)));
});

test('4.6 step 1 then step 2: events run after the transition (setup of the following epoch)', () => {
  const p = snap({ next: 'committed' });
  const s7 = mkSetup({ counter: 7, firstView: 3000, finalView: 3999 });
  const r = run(p, 2003, [evSetup(s7)]);
  assert.deepEqual(brief(r), [['setup', 'applied', '4.6.setup.applied']]);
  assert.equal(phase(r.state), 'setup');
});

// ---------------------------------------------------------------------------------- 4.6 setup / commit

test('4.6 setup and commit in one block: next set up then committed', () => {
  const p = snap();
  const r = run(p, 1100, [evSetup(NEXT_SETUP), evCommit(NEXT_COMMIT)]);
  assert.deepEqual(brief(r), [
    ['setup', 'applied', '4.6.setup.applied'],
    ['commit', 'applied', '4.6.commit.applied'],
  ]);
  assert.equal(phase(r.state), 'committed');
  assert.deepEqual(
    r.state.next!.identities.map((d) => [hex(d.nodeId), d.ejected]),
    NEXT_SETUP.participants.map((x) => [hex(x.nodeId), false]),
  );
  assert.deepEqual(r.state.next!.extensions, []);
  assert.equal(r.events.nextSetup, NEXT_SETUP);
  assert.equal(r.events.nextCommit, NEXT_COMMIT);
  assert.equal(r.state.previous, p.epoch.previous, 'unchanged containers are shared');
});

test('4.6 setup: rejected (triggering fallback) when next exists, counter or firstView is wrong', () => {
  const cases: [ProtocolSnapshot, EpochSetup, string][] = [
    [snap({ next: 'setup' }), NEXT_SETUP, '4.6.setup.next-present'],
    [snap(), mkSetup({ counter: 7, firstView: 2000, finalView: 2999 }), '4.6.setup.counter'],
    [snap(), mkSetup({ counter: 6, firstView: 2001, finalView: 2999 }), '4.6.setup.first-view'],
    [snap({ current: { setup: CUR_SETUP, commit: CUR_COMMIT, extensions: [{ firstView: 2000, finalView: 2599 }] } }), NEXT_SETUP, '4.6.setup.first-view'],
    [snap(), setupAfter(1999, { targetDuration: 0 }), '4.6.well-formed.target-duration'],
  ];
  for (const [p, s, rule] of cases) {
    const r = run(p, 1100, [evSetup(s)]);
    assert.deepEqual(brief(r), [['setup', 'rejected', rule]]);
    assert.match(r.outcomes[0]!.reason, TRIGGERS);
    assert.equal(r.mode, 'fallback');
    assert.equal(r.state.fallbackTriggered, true);
    assert.equal(phase(r.state), 'fallback');
    assert.equal(r.state.next, null);
  }
});

test('4.6 well-formed setup: each rule', () => {
  const base = setupAfter(1999);
  assert.equal(setupProblem(base), null);
  const ps = defaultParticipants();
  const swap = [...ps];
  [swap[0], swap[1]] = [swap[1], swap[0]];
  const dupId = [...ps];
  dupId[5] = { ...dupId[5], nodeId: dupId[4].nodeId };
  const dupAddr = [...ps];
  dupAddr[5] = { ...dupAddr[5], address: dupAddr[4].address };
  const badRole = [...ps];
  badRole[14] = { ...badRole[14], role: 6 };
  const zeroRole = [...ps];
  zeroRole[14] = { ...zeroRole[14], role: 0 };
  const noVerification = ps.map((x) => (x.role === Role.verification ? { ...x, initialWeight: 0 } : x));
  const noExecution = ps.filter((x) => x.role !== Role.execution);
  const zeroWeightCollection = ps.map((x) => (hex(x.nodeId) === hex(nodeId(4)) ? { ...x, initialWeight: 0 } : x));
  const cases: [Partial<EpochSetup>, string][] = [
    [{ randomSource: new Uint8Array(15) }, '4.6.well-formed.random-source'],
    [{ randomSource: new Uint8Array(17) }, '4.6.well-formed.random-source'],
    [{ dkgPhase1FinalView: 2000 }, '4.6.well-formed.views'],
    [{ dkgPhase2FinalView: base.dkgPhase1FinalView }, '4.6.well-formed.views'],
    [{ dkgPhase3FinalView: base.dkgPhase2FinalView }, '4.6.well-formed.views'],
    [{ finalView: base.dkgPhase3FinalView }, '4.6.well-formed.views'],
    [{ participants: badRole }, '4.6.well-formed.role'],
    [{ participants: zeroRole }, '4.6.well-formed.role'],
    [{ participants: dupId }, '4.6.well-formed.node-ids'],
    [{ participants: dupAddr }, '4.6.well-formed.addresses'],
    [{ participants: swap }, '4.6.well-formed.order'],
    [{ participants: noVerification }, '4.6.well-formed.roles'],
    [{ participants: noExecution }, '4.6.well-formed.roles'],
    [{ assignments: [] }, '4.6.well-formed.clusters'],
    [{ assignments: [[nodeId(1), nodeId(2)], [], [nodeId(3), nodeId(4)]] }, '4.6.well-formed.empty-cluster'],
    [{ assignments: [[nodeId(1), nodeId(2)], [nodeId(3)]] }, '4.6.well-formed.unassigned'],
    [
      {
        assignments: [
          [nodeId(1), nodeId(2), nodeId(3)],
          [nodeId(3), nodeId(4)],
        ],
      },
      '4.6.well-formed.cluster-twice',
    ],
    [
      {
        assignments: [
          [nodeId(2), nodeId(1)],
          [nodeId(3), nodeId(4)],
        ],
      },
      '4.6.well-formed.cluster-order',
    ],
    [
      {
        assignments: [
          [nodeId(1), nodeId(2)],
          [nodeId(3), nodeId(4), nodeId(99)],
        ],
      },
      '4.6.well-formed.cluster-unknown',
    ],
    [
      {
        assignments: [
          [nodeId(1), nodeId(2)],
          [nodeId(3), nodeId(4), nodeId(10)],
        ],
      },
      '4.6.well-formed.cluster-member',
    ],
    [{ participants: zeroWeightCollection }, '4.6.well-formed.cluster-member'],
    [{ targetDuration: 0 }, '4.6.well-formed.target-duration'],
  ];
  for (const [patch, rule] of cases) assert.equal(setupProblem({ ...base, ...patch })?.rule ?? null, rule, JSON.stringify(Object.keys(patch)));
  // zero-weight nodes of other roles and role 5 are fine; zero-weight collection node outside clusters is fine
  const extra = [...ps, participant(60, Role.collection, 0), participant(70, Role.access, 0)];
  assert.equal(setupProblem({ ...base, participants: extra }), null);
});

test('4.6 setup: a participant ejected in the current epoch is rejected; an eject earlier in the block too (even of an unknown node)', () => {
  // ejected in an earlier block
  const p = snap();
  const e1 = run(p, 1011, [evEject(12)]);
  assert.deepEqual(brief(e1), [['eject-node', 'applied', '4.6.eject.applied']]);
  const child: ProtocolSnapshot = { ...p, epoch: e1.state, events: e1.events };
  const r = run(child, 1020, [evSetup(NEXT_SETUP)]);
  assert.deepEqual(brief(r), [['setup', 'rejected', '4.6.setup.ejected']]);
  assert.match(r.outcomes[0]!.reason, TRIGGERS);
  // eject then setup in one block
  const s = run(p, 1012, [evEject(12), evSetup(NEXT_SETUP)]);
  assert.deepEqual(brief(s), [
    ['eject-node', 'applied', '4.6.eject.applied'],
    ['setup', 'rejected', '4.6.setup.ejected'],
  ]);
  assert.equal(s.state.fallbackTriggered, true);
  assert.equal(s.state.current.identities.find((d) => hex(d.nodeId) === hex(nodeId(12)))!.ejected, true, 'the eject survives the fallback re-run');
  // eject of a node unknown to every list, then a setup listing it
  const newcomer = participant(20, Role.consensus);
  const ps = [...defaultParticipants().slice(0, 14), newcomer, ...defaultParticipants().slice(14)];
  const withNew = mkSetup({ counter: 6, firstView: 2000, finalView: 2999, participants: ps });
  assert.equal(setupProblem(withNew), null);
  const u = run(p, 1014, [evEject(20), evSetup(withNew)]);
  assert.deepEqual(brief(u), [
    ['eject-node', 'rejected', '4.6.eject.unknown-node'],
    ['setup', 'rejected', '4.6.setup.ejected-in-block'],
  ]);
  // without the eject the same setup is fine
  assert.equal(run(p, 1014, [evSetup(withNew)]).outcomes[0]!.rule, '4.6.setup.applied');
});

test('4.6 eject-node: setup then eject flags the node in current and in the next created earlier in the block', () => {
  const p = snap();
  const r = run(p, 1013, [evSetup(NEXT_SETUP), evEject(12)]);
  assert.deepEqual(brief(r), [
    ['setup', 'applied', '4.6.setup.applied'],
    ['eject-node', 'applied', '4.6.eject.applied'],
  ]);
  const flagged = (c: { identities: { nodeId: Uint8Array; ejected: boolean }[] } | null) => c!.identities.filter((d) => d.ejected).map((d) => hex(d.nodeId));
  assert.deepEqual(flagged(r.state.current), [hex(nodeId(12))]);
  assert.deepEqual(flagged(r.state.next), [hex(nodeId(12))]);
  assert.deepEqual(flagged(r.state.previous), [hex(nodeId(12))]);
  assert.equal(r.state.fallbackTriggered, false, 'eject never triggers fallback');
  assert.deepEqual(flagged(p.epoch.current), [], 'parent untouched');
});

test('4.6 eject-node (9.12): after a transition the old previous is gone, so its nodes are unknown', () => {
  // node 99 only in the previous epoch
  const prev = mkSetup({ counter: 4, firstView: 0, finalView: 999, participants: [...defaultParticipants(), participant(99, Role.access)] });
  const p = snap({ previous: { setup: prev, commit: mkCommit(prev) }, next: 'committed' });
  const before = run(p, 1500, [evEject(99)]);
  assert.equal(before.outcomes[0]!.rule, '4.6.eject.applied');
  assert.equal(before.state.previous!.identities.find((d) => hex(d.nodeId) === hex(nodeId(99)))!.ejected, true);
  const after = run(p, 2000, [evEject(99)]);
  assert.deepEqual(brief(after), [['eject-node', 'rejected', '4.6.eject.unknown-node']]);
});

test('4.6 commit: rejected without a next epoch or when it is already committed', () => {
  const none = run(snap(), 1100, [evCommit(NEXT_COMMIT)]);
  assert.deepEqual(brief(none), [['commit', 'rejected', '4.6.commit.no-next']]);
  assert.match(none.outcomes[0]!.reason, TRIGGERS);
  const twice = run(snap({ next: 'committed' }), 1100, [evCommit(NEXT_COMMIT)]);
  assert.deepEqual(brief(twice), [['commit', 'rejected', '4.6.commit.committed']]);
  assert.match(twice.outcomes[0]!.reason, TRIGGERS);
  assert.equal(phase(twice.state), 'committed', 'committed next kept in fallback');
  assert.equal(twice.state.fallbackTriggered, true);
});

test('4.6 commit valid for setup: cluster QCs, counter, group key', () => {
  const s = NEXT_SETUP;
  assert.equal(commitProblem(mkCommit(s), s), null);
  assert.equal(commitProblem(mkCommit(s, { clusterQCs: mkCommit(s).clusterQCs.slice(1) }), s)?.rule, '4.6.commit-valid.cluster-qcs');
  assert.equal(commitProblem(mkCommit(s, { counter: 7 }), s)?.rule, '4.6.commit-valid.counter');
  assert.equal(commitProblem(mkCommit(s, { dkgGroupKey: new Uint8Array(0) }), s)?.rule, '4.6.commit-valid.group-key');
  const r = run(snap({ next: 'setup' }), 1020, [evCommit(mkCommit(s, { counter: 7 }))]);
  assert.deepEqual(brief(r), [['commit', 'rejected', '4.6.commit-valid.counter']]);
  assert.match(r.outcomes[0]!.reason, TRIGGERS);
  assert.equal(phase(r.state), 'fallback');
  assert.equal(r.state.next, null);
});

test('4.6 commit valid for setup (9.13): threshold floor(62*n/100) with n = 10 -> 6 weighted consensus nodes needed', () => {
  // consensus 10..19; node 15 gets weight 0
  const ps = defaultParticipants().map((x) => (hex(x.nodeId) === hex(nodeId(15)) ? { ...x, initialWeight: 0 } : x));
  const s = mkSetup({ counter: 6, firstView: 2000, finalView: 2999, participants: ps });
  assert.equal(setupProblem(s), null);
  const keys = (n: number) => Array.from({ length: n }, (_, i) => Uint8Array.of(i));
  // n = 10: 6 weighted consensus nodes (10..14, 16) + 4 non-consensus ids -> accepted
  const six = mkCommit(s, { dkgIndexMap: dkgMap([10, 11, 12, 13, 14, 16, 1, 2, 30, 40]), dkgParticipantKeys: keys(10) });
  assert.equal(commitProblem(six, s), null);
  // n = 10: 5 weighted + the zero-weight node 15 -> rejected
  const five = mkCommit(s, { dkgIndexMap: dkgMap([10, 11, 12, 13, 14, 15, 1, 2, 30, 40]), dkgParticipantKeys: keys(10) });
  assert.equal(commitProblem(five, s)?.rule, '4.6.commit-valid.threshold');
  // ids not in the setup do not count either (5 weighted + 5 strangers), while a sixth weighted node passes
  const strangers = mkCommit(s, { dkgIndexMap: dkgMap([10, 11, 12, 13, 14, 200, 201, 202, 203, 204]), dkgParticipantKeys: keys(10) });
  assert.equal(commitProblem(strangers, s)?.rule, '4.6.commit-valid.threshold');
  const sixWithStrangers = mkCommit(s, { dkgIndexMap: dkgMap([10, 11, 12, 13, 14, 16, 200, 201, 202, 203]), dkgParticipantKeys: keys(10) });
  assert.equal(commitProblem(sixWithStrangers, s), null);
  const p = snap({ next: null });
  const r = run(p, 1100, [evSetup(s), evCommit(five)]);
  assert.deepEqual(brief(r)[1], ['commit', 'rejected', '4.6.commit-valid.threshold']);
  assert.match(r.outcomes[1]!.reason, TRIGGERS);
  assert.equal(phase(run(p, 1100, [evSetup(s), evCommit(six)]).state), 'committed');
});

test('9.13 randomBeaconThreshold is floor(62*n/100) in integers', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 0],
    [2, 1],
    [3, 1],
    [10, 6],
    [50, 31],
    [100, 62],
    [101, 62],
    [150, 93],
    [1000, 620],
    [1613, 1000],
  ];
  for (const [n, want] of cases) assert.equal(randomBeaconThreshold(n), want, `n=${n}`);
  for (let n = 0; n < 5000; n++) assert.equal(randomBeaconThreshold(n), Number((62n * BigInt(n)) / 100n));
});

// ---------------------------------------------------------------------------------- 4.6 step 3

test('4.6 step 3: an invalid commit discards the whole happy path (the setup before it) and re-runs the block in fallback', () => {
  const p = snap();
  const bad = mkCommit(NEXT_SETUP, { dkgGroupKey: new Uint8Array(0) });
  const r = run(p, 1100, [evSetup(NEXT_SETUP), evEject(12), evUnknown('mystery'), evCommit(bad), evSetup(NEXT_SETUP)]);
  assert.deepEqual(brief(r), [
    ['setup', 'ignored', '4.6.fallback.ignored'],
    ['eject-node', 'applied', '4.6.eject.applied'],
    undefined,
    ['commit', 'rejected', '4.6.commit-valid.group-key'],
    ['setup', 'ignored', '4.6.fallback.ignored'],
  ]);
  assert.match(r.outcomes[3]!.reason, TRIGGERS);
  assert.equal(r.mode, 'fallback');
  assert.equal(r.state.next, null, 'the setup applied on the happy path is gone');
  assert.equal(r.events.nextSetup, null);
  assert.equal(r.state.fallbackTriggered, true);
  assert.deepEqual(r.state.current.extensions, [], 'V+t < F: no extension');
  assert.equal(r.state.current.identities.find((d) => hex(d.nodeId) === hex(nodeId(12)))!.ejected, true);
});

test('4.6 step 3: events after the failing one are evaluated in fallback mode (a recover there can succeed)', () => {
  const p = snap();
  const r = run(p, 1100, [evSetup(mkSetup({ counter: 9, firstView: 2000, finalView: 2999 })), evRecover(NEXT_SETUP, NEXT_COMMIT)]);
  assert.deepEqual(brief(r), [
    ['setup', 'rejected', '4.6.setup.counter'],
    ['recover', 'applied', '4.6.recover.applied'],
  ]);
  assert.match(r.outcomes[0]!.reason, TRIGGERS);
  assert.equal(r.state.fallbackTriggered, false);
  assert.equal(phase(r.state), 'committed');
});

// ---------------------------------------------------------------------------------- 4.6 recover

test('4.6 recover on the happy path: invalid there, accepted in the fallback re-run (staking)', () => {
  const p = snap();
  const r = run(p, 1010, [evRecover(NEXT_SETUP, NEXT_COMMIT)]);
  // 9.14: it carries the outcome (and rule) of its fallback re-run; the text says what happened
  assert.deepEqual(brief(r), [['recover', 'applied', '4.6.recover.applied']]);
  assert.match(r.outcomes[0]!.reason, /^recover on the happy path triggers epoch fallback mode; in fallback mode: /);
  assert.equal(r.state.fallbackTriggered, false);
  assert.equal(phase(r.state), 'committed');
  assert.equal(hex(r.state.next!.commitId), hex(commitId(NEXT_COMMIT)));
});

test('4.6 recover on the happy path in the committed phase: fallback keeps the committed next, then the transition leads into fallback', () => {
  const p = snap({ next: 'committed' });
  const r = run(p, 1500, [evRecover(NEXT_SETUP, NEXT_COMMIT)]);
  assert.deepEqual(brief(r), [['recover', 'rejected', '4.6.setup.next-present']]);
  assert.match(r.outcomes[0]!.reason, /^recover on the happy path triggers epoch fallback mode; in fallback mode: /);
  assert.equal(r.state.fallbackTriggered, true);
  assert.equal(phase(r.state), 'committed');
  assert.equal(r.state.next, p.epoch.next);
  const child: ProtocolSnapshot = { ...p, epoch: r.state, events: r.events };
  const t = run(child, 2000);
  assert.equal(phase(t.state), 'fallback');
  assert.equal(epochFinalView(t.state, t.events), 2999);
});

test("4.6 recover: V+t = F rejected, F-1 accepted (F after this block's extension)", () => {
  const p = snap({ fallbackTriggered: true }); // F = 1999
  const ok = run(p, 1898, [evRecover(NEXT_SETUP, NEXT_COMMIT)]); // V+t = 1998
  assert.deepEqual(brief(ok), [['recover', 'applied', '4.6.recover.applied']]);
  assert.equal(ok.state.fallbackTriggered, false);
  // V+t = 1999 >= F: the block first extends to 2599, so a recover built for F = 1999 fails firstView...
  const stale = run(p, 1899, [evRecover(NEXT_SETUP, NEXT_COMMIT)]);
  assert.deepEqual(brief(stale), [['recover', 'rejected', '4.6.setup.first-view']]);
  assert.equal(stale.state.fallbackTriggered, true);
  // ...while one built for the new F is accepted
  const s6 = setupAfter(2599);
  const fresh = run(p, 1899, [evRecover(s6, mkCommit(s6))]);
  assert.equal(fresh.outcomes[0]!.rule, '4.6.recover.applied');
  assert.deepEqual(fresh.state.current.extensions, [{ firstView: 2000, finalView: 2599 }], 'extensions of current kept');
  // strict bound after the extension: V+t = 2599 = F
  const tooLate = run(p, 2499, [evRecover(s6, mkCommit(s6))]);
  assert.deepEqual(brief(tooLate), [['recover', 'rejected', '4.6.recover.too-late']]);
  const justInTime = run(p, 2498, [evRecover(s6, mkCommit(s6))]);
  assert.equal(justInTime.outcomes[0]!.rule, '4.6.recover.applied');
});

test('4.6 recover: counter, well-formedness, commit validity and ejections are checked', () => {
  const p = snap({ fallbackTriggered: true });
  const s = NEXT_SETUP;
  const cases: [ServiceEvent[], string][] = [
    [[evRecover(mkSetup({ counter: 7, firstView: 2000, finalView: 2999 }), mkCommit(s))], '4.6.setup.counter'],
    [[evRecover({ ...s, randomSource: new Uint8Array(3) }, mkCommit(s))], '4.6.well-formed.random-source'],
    [[evRecover(s, mkCommit(s, { counter: 5 }))], '4.6.commit-valid.counter'],
    [[evRecover(s, mkCommit(s, { dkgGroupKey: new Uint8Array(0) }))], '4.6.commit-valid.group-key'],
  ];
  for (const [ev, rule] of cases) assert.deepEqual(brief(run(p, 1100, ev)), [['recover', 'rejected', rule]]);
  const ej = run(p, 1100, [evEject(13), evRecover(s, NEXT_COMMIT)]);
  assert.deepEqual(brief(ej)[1], ['recover', 'rejected', '4.6.setup.ejected']);
  const withNew = mkSetup({ counter: 6, firstView: 2000, finalView: 2999, participants: [...defaultParticipants(), participant(77, Role.access)] });
  const ej2 = run(p, 1100, [evEject(77), evRecover(withNew, mkCommit(withNew))]);
  assert.deepEqual(brief(ej2)[1], ['recover', 'rejected', '4.6.setup.ejected-in-block']);
  // a second recover in the same block finds the next epoch present
  const two = run(p, 1100, [evRecover(s, NEXT_COMMIT), evRecover(s, NEXT_COMMIT)]);
  assert.deepEqual(brief(two), [
    ['recover', 'applied', '4.6.recover.applied'],
    ['recover', 'rejected', '4.6.setup.next-present'],
  ]);
});

test('4.6 fallback mode: setup and commit are ignored (no change)', () => {
  const p = snap({ fallbackTriggered: true });
  const r = run(p, 1100, [evSetup(NEXT_SETUP), evCommit(NEXT_COMMIT)]);
  assert.deepEqual(brief(r), [
    ['setup', 'ignored', '4.6.fallback.ignored'],
    ['commit', 'ignored', '4.6.fallback.ignored'],
  ]);
  assert.equal(r.state, p.epoch);
  assert.equal(r.events, p.events);
});

test('4.6 machine is pure: frozen parents are never modified, and outcomes align with the events', () => {
  const p = snap({ next: 'setup' });
  const r = run(p, 1100, [evUnknown('x'), evCommit(NEXT_COMMIT), evEject(10)]);
  assert.equal(r.outcomes.length, 3);
  assert.equal(r.outcomes[0], undefined);
  assert.deepEqual(brief(r).slice(1), [
    ['commit', 'applied', '4.6.commit.applied'],
    ['eject-node', 'applied', '4.6.eject.applied'],
  ]);
  assert.equal(phase(r.state), 'committed');
  assert.equal(phase(p.epoch), 'setup');
});
