// Small constructors for epoch setups/commits, protocol snapshots and service events used by the
// protocol state machine tests (test/protocol.*.test.ts).
import type {
  EpochCommit,
  EpochContainer,
  EpochEvents,
  EpochSetup,
  EpochState,
  Id,
  KVStore,
  MagnitudeVersion,
  MeteringParams,
  Participant,
  ServiceEvent,
  U64,
  VersionBeacon,
} from '../../src/model/types.js';
import { Role } from '../../src/model/types.js';
import { commitId, epochStateId, setupId } from '../../src/model/ids.js';
import { toHex } from '../../src/model/bytes.js';
import { makeSnapshot } from '../../src/protocol/evolve.js';
import type { ProtocolSnapshot } from '../../src/protocol/evolve.js';
import { defaultComponentVersion, defaultMeteringParams } from '../../src/protocol/kvstore.js';

/** A node id whose first byte is `n` (so ids built from ascending `n` are in canonical order). */
export function nodeId(n: number): Id {
  const b = new Uint8Array(32);
  b[0] = n;
  for (let i = 1; i < 32; i++) b[i] = (n * 31 + i * 7) & 0xff;
  return b;
}

export function participant(n: number, role: number, initialWeight: U64 = 100): Participant {
  return {
    nodeId: nodeId(n),
    address: `node-${n}.example:3569`,
    role,
    initialWeight,
    stakingKey: Uint8Array.of(1, n),
    networkKey: Uint8Array.of(2, n),
  };
}

/**
 * Default identity table: collection 1-4 (two clusters), consensus 10-19 (10 nodes), execution 30,
 * verification 40, access 50. Canonical order (first byte ascending).
 */
export const COLLECTION = [1, 2, 3, 4];
export const CONSENSUS = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
export function defaultParticipants(): Participant[] {
  return [
    ...COLLECTION.map((n) => participant(n, Role.collection)),
    ...CONSENSUS.map((n) => participant(n, Role.consensus)),
    participant(30, Role.execution),
    participant(40, Role.verification),
    participant(50, Role.access),
  ];
}

export function defaultAssignments(): Id[][] {
  return [
    [nodeId(1), nodeId(2)],
    [nodeId(3), nodeId(4)],
  ];
}

export interface SetupOptions {
  counter: U64;
  firstView: U64;
  finalView: U64;
  participants?: Participant[];
  assignments?: Id[][];
}

/** A well-formed setup: DKG phase views spread between first and final view. */
export function mkSetup(o: SetupOptions, patch: Partial<EpochSetup> = {}): EpochSetup {
  const first = Number(o.firstView);
  const len = Number(o.finalView) - first;
  return {
    counter: o.counter,
    firstView: o.firstView,
    dkgPhase1FinalView: first + Math.floor(len / 4),
    dkgPhase2FinalView: first + Math.floor(len / 2),
    dkgPhase3FinalView: first + Math.floor((3 * len) / 4),
    finalView: o.finalView,
    participants: o.participants ?? defaultParticipants(),
    assignments: o.assignments ?? defaultAssignments(),
    randomSource: new Uint8Array(16).fill(7),
    targetDuration: 604800,
    targetEndTime: 1_700_000_000 + first,
    ...patch,
  };
}

/** A commit valid for `setup`: one QC per cluster, every consensus participant in the DKG map. */
export function mkCommit(setup: EpochSetup, patch: Partial<EpochCommit> = {}): EpochCommit {
  const dkg = setup.participants.filter((p) => p.role === Role.consensus);
  return {
    counter: setup.counter,
    clusterQCs: setup.assignments.map((c) => ({ sigData: Uint8Array.of(9, 9), voterIds: c })),
    dkgGroupKey: Uint8Array.of(0xaa, 0xbb),
    dkgParticipantKeys: dkg.map((_, i) => Uint8Array.of(0xcc, i)),
    dkgIndexMap: dkg.map((p, i) => [p.nodeId, i] as [Id, U64]),
    ...patch,
  };
}

/** A DKG index map over the given node numbers (indices 0..n-1). */
export function dkgMap(ns: number[]): [Id, U64][] {
  return ns.map((n, i) => [nodeId(n), i]);
}

export function container(setup: EpochSetup, commit: EpochCommit | null, extensions: { firstView: U64; finalView: U64 }[] = []): EpochContainer {
  return {
    setupId: setupId(setup),
    commitId: commit === null ? new Uint8Array(32) : commitId(commit),
    identities: setup.participants.map((p) => ({ nodeId: p.nodeId, ejected: false })),
    extensions,
  };
}

export interface SnapshotOptions {
  version?: number;
  /** finalizationSafetyThreshold */
  t?: U64;
  /** epochExtensionViewCount */
  E?: U64;
  versionUpgrade?: { data: U64; activationView: U64 } | null;
  /** current epoch: counter 5, views [1000, 1999] unless given */
  current?: { setup: EpochSetup; commit: EpochCommit | null; extensions?: { firstView: U64; finalView: U64 }[] };
  previous?: { setup: EpochSetup; commit: EpochCommit | null } | null;
  /** 'setup': next set up (uncommitted); 'committed': next committed */
  next?: 'setup' | 'committed' | null;
  fallbackTriggered?: boolean;
  /** v3 Updatable overrides */
  v3?: Partial<Pick<KVStore, 'executionMeteringParameters' | 'executionComponentVersion' | 'cadenceComponentVersion'>>;
}

export const CUR_SETUP = mkSetup({ counter: 5, firstView: 1000, finalView: 1999 });
export const CUR_COMMIT = mkCommit(CUR_SETUP);
export const PREV_SETUP = mkSetup({ counter: 4, firstView: 0, finalView: 999 });
export const PREV_COMMIT = mkCommit(PREV_SETUP);
/** The setup of epoch 6 that follows CUR_SETUP without extensions. */
export const NEXT_SETUP = mkSetup({ counter: 6, firstView: 2000, finalView: 2999 });
export const NEXT_COMMIT = mkCommit(NEXT_SETUP);

/** A consistent snapshot (epochStateId and kvId computed). Default: v2, t=100, E=600, epoch 5 staking. */
export function mkSnapshot(o: SnapshotOptions = {}): ProtocolSnapshot {
  const cur = o.current ?? { setup: CUR_SETUP, commit: CUR_COMMIT };
  const prev = o.previous === undefined ? { setup: PREV_SETUP, commit: PREV_COMMIT } : o.previous;
  const nextSetup = o.next ? NEXT_SETUP : null;
  const nextCommit = o.next === 'committed' ? NEXT_COMMIT : null;
  const epoch: EpochState = {
    previous: prev === null ? null : container(prev.setup, prev.commit),
    current: container(cur.setup, cur.commit, cur.extensions ?? []),
    next: nextSetup === null ? null : container(nextSetup, nextCommit),
    fallbackTriggered: o.fallbackTriggered ?? false,
  };
  const events: EpochEvents = {
    previousSetup: prev?.setup ?? null,
    previousCommit: prev?.commit ?? null,
    currentSetup: cur.setup,
    currentCommit: cur.commit,
    nextSetup,
    nextCommit,
  };
  const version = o.version ?? 2;
  const kv: KVStore = {
    version,
    versionUpgrade: o.versionUpgrade ?? null,
    epochStateId: epochStateId(epoch),
    epochExtensionViewCount: o.E ?? 600,
    finalizationSafetyThreshold: o.t ?? 100,
  };
  if (version >= 3) {
    kv.executionMeteringParameters = o.v3?.executionMeteringParameters ?? { current: defaultMeteringParams(), update: null };
    kv.executionComponentVersion = o.v3?.executionComponentVersion ?? { current: defaultComponentVersion(), update: null };
    kv.cadenceComponentVersion = o.v3?.cadenceComponentVersion ?? { current: defaultComponentVersion(), update: null };
  }
  return makeSnapshot(kv, epoch, events);
}

// ---- service events ----

export const evSetup = (event: EpochSetup): ServiceEvent => ({ type: 'setup', event });
export const evCommit = (event: EpochCommit): ServiceEvent => ({ type: 'commit', event });
export const evRecover = (setup: EpochSetup, commit: EpochCommit): ServiceEvent => ({ type: 'recover', event: { setup, commit } });
export const evEject = (n: number | Id): ServiceEvent => ({ type: 'eject-node', event: { nodeId: typeof n === 'number' ? nodeId(n) : n } });
export const evUpgrade = (newProtocolStateVersion: U64, activeView: U64): ServiceEvent => ({
  type: 'protocol-state-version-upgrade',
  event: { newProtocolStateVersion, activeView },
});
export const evEEVC = (value: U64): ServiceEvent => ({ type: 'set-epoch-extension-view-count', event: { value } });
export const evExecVersion = (version: MagnitudeVersion, activationView: U64): ServiceEvent => ({
  type: 'set-execution-component-version',
  event: { version, activationView },
});
export const evCadenceVersion = (version: MagnitudeVersion, activationView: U64): ServiceEvent => ({
  type: 'set-cadence-component-version',
  event: { version, activationView },
});
export const evMetering = (params: MeteringParams, activationView: U64): ServiceEvent => ({
  type: 'set-execution-metering-parameters',
  event: { params, activationView },
});
export const evBeacon = (event: VersionBeacon): ServiceEvent => ({ type: 'version-beacon', event });
export const evUnknown = (type: string): ServiceEvent => ({ type, event: [1, 'x'], unknown: true });

// ---- assertions helpers ----

export const hex = (b: Uint8Array): string => toHex(b);

/** Recursively freezes plain objects and arrays (typed arrays cannot be frozen and are skipped). */
export function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x) && !Object.isFrozen(x)) {
    for (const v of Object.values(x as object)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/** A JSON-able normal form of any model value (bytes as hex, bigints as strings) for deep comparisons. */
export function normal(x: unknown): unknown {
  if (x instanceof Uint8Array) return `0x${toHex(x)}`;
  if (typeof x === 'bigint') return `${x}n`;
  if (Array.isArray(x)) return x.map(normal);
  if (x !== null && typeof x === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) {
      const v = (x as Record<string, unknown>)[k];
      if (v !== undefined) o[k] = normal(v);
    }
    return o;
  }
  return x;
}
