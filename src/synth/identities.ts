// Participants of every role, clusters and DKG data for the generator (SPEC 2.3, 4.6).
//
// A Roster is the identity table of one epoch: participants in canonical order (node ids
// strictly ascending), the collection clusters (each in canonical order) and the consensus
// committee. Rosters are built once per epoch (never per block); a Committee caches what the
// block builder needs every block (signer-index bit vectors, cluster chain ids).
import { sha3 } from '../model/hash.js';
import { compareBytes, toHex } from '../model/bytes.js';
import type { EpochCommit, EpochSetup, Id, Participant } from '../model/types.js';
import { Role } from '../model/types.js';
import type { Rng } from './rng.js';

export interface RoleCounts {
  collection: number;
  consensus: number;
  execution: number;
  verification: number;
  access: number;
}

export const DEFAULT_ROLES: RoleCounts = { collection: 8, consensus: 9, execution: 3, verification: 5, access: 3 };

/** Realistic key and signature sizes (BLS12-381 keys 96 B, ECDSA P-256 network keys 64 B). */
export const STAKING_KEY_BYTES = 96;
export const NETWORK_KEY_BYTES = 64;
export const BLS_SIG_BYTES = 48;
export const AGG_SIG_BYTES = 96;

const ROLE_NAMES: Record<number, string> = {
  [Role.collection]: 'collection',
  [Role.consensus]: 'consensus',
  [Role.execution]: 'execution',
  [Role.verification]: 'verification',
  [Role.access]: 'access',
};

export function roleName(role: number): string {
  return ROLE_NAMES[role] ?? `role${role}`;
}

export interface Roster {
  participants: Participant[];
  /** Collection nodes with positive weight, partitioned; each cluster in canonical order. */
  clusters: Id[][];
  /** Next serial number for addresses of joining nodes. */
  nextSerial: number;
  domain: string;
}

function byNodeId(a: Participant, b: Participant): number {
  return compareBytes(a.nodeId, b.nodeId);
}

function newParticipant(rng: Rng, role: number, serial: number, domain: string): Participant {
  return {
    nodeId: rng.bytes(32),
    address: `${roleName(role)}-${serial}.${domain}:3569`,
    role,
    initialWeight: 1000 * rng.range(1, 5),
    stakingKey: rng.bytes(STAKING_KEY_BYTES),
    networkKey: rng.bytes(NETWORK_KEY_BYTES),
  };
}

/** Partitions the positive-weight collection nodes into `n` clusters (round robin over a shuffle). */
function makeClusters(rng: Rng, participants: Participant[], n: number): Id[][] {
  const coll = participants.filter((p) => p.role === Role.collection && Number(p.initialWeight) > 0).map((p) => p.nodeId);
  rng.shuffle(coll);
  const k = Math.max(1, Math.min(n, coll.length));
  const clusters: Id[][] = Array.from({ length: k }, () => []);
  coll.forEach((id, i) => {
    clusters[i % k].push(id);
  });
  for (const c of clusters) c.sort(compareBytes);
  return clusters;
}

export function initialRoster(rng: Rng, counts: RoleCounts, clusters: number, domain: string): Roster {
  const participants: Participant[] = [];
  let serial = 1;
  const order: [number, number][] = [
    [Role.collection, counts.collection],
    [Role.consensus, counts.consensus],
    [Role.execution, counts.execution],
    [Role.verification, counts.verification],
    [Role.access, counts.access],
  ];
  for (const [role, n] of order) for (let i = 0; i < n; i++) participants.push(newParticipant(rng, role, serial++, domain));
  participants.sort(byNodeId);
  return { participants, clusters: makeClusters(rng, participants, clusters), nextSerial: serial, domain };
}

/**
 * The roster of the following epoch: nodes in `removed` (hex node ids, e.g. ejected ones) leave,
 * now and then a node joins (a verification, collection or access node), clusters are re-drawn.
 */
export function nextRoster(prev: Roster, removed: ReadonlySet<string>, rng: Rng, clusters: number): Roster {
  const participants = prev.participants.filter((p) => !removed.has(toHex(p.nodeId)));
  let serial = prev.nextSerial;
  if (rng.chance(0.5)) {
    const role = rng.pick([Role.verification, Role.collection, Role.access, Role.execution]);
    participants.push(newParticipant(rng, role, serial++, prev.domain));
    participants.sort(byNodeId);
  }
  return { participants, clusters: makeClusters(rng, participants, clusters), nextSerial: serial, domain: prev.domain };
}

export interface SetupTiming {
  counter: number;
  firstView: number;
  finalView: number;
  /** Unix seconds at which the epoch is expected to end. */
  targetEndTime: number;
  /** Seconds per view used for targetDuration. */
  secondsPerView: number;
}

/** A well-formed EpochSetup for the roster (SPEC 4.6): DKG phases inside the epoch's views. */
export function makeSetup(roster: Roster, timing: SetupTiming, rng: Rng): EpochSetup {
  const { counter, firstView, finalView } = timing;
  const len = finalView - firstView + 1;
  if (len < 8) throw new RangeError(`epoch too short: ${len} views`);
  const p1 = firstView + Math.floor(len / 4);
  const p2 = p1 + Math.floor(len / 8);
  const p3 = p2 + Math.floor(len / 8);
  return {
    counter,
    firstView,
    dkgPhase1FinalView: p1,
    dkgPhase2FinalView: p2,
    dkgPhase3FinalView: p3,
    finalView,
    participants: roster.participants,
    assignments: roster.clusters,
    randomSource: rng.bytes(16),
    targetDuration: Math.max(1, Math.round(len * timing.secondsPerView)),
    targetEndTime: timing.targetEndTime,
  };
}

/**
 * A commit valid for `setup`: one QC per cluster, a DKG over every weighted consensus node.
 * `byIndex`: the index map's pairs in index order, the canonical form an importer writes from
 * flow-go's JSON object (ACCESS 4.2); else in node id order.
 */
export function makeCommit(setup: EpochSetup, rng: Rng, byIndex = false): EpochCommit {
  const consensus = setup.participants.filter((p) => p.role === Role.consensus && Number(p.initialWeight) > 0).map((p) => p.nodeId);
  const order = rng.shuffle(consensus.map((_, i) => i));
  const dkgIndexMap = consensus.map((id, i) => [id, order[i]] as [Id, number]);
  if (byIndex) dkgIndexMap.sort((a, b) => a[1] - b[1]);
  return {
    counter: setup.counter,
    clusterQCs: setup.assignments.map((cluster) => ({ sigData: rng.bytes(AGG_SIG_BYTES), voterIds: cluster })),
    dkgGroupKey: rng.bytes(STAKING_KEY_BYTES),
    dkgParticipantKeys: consensus.map(() => rng.bytes(STAKING_KEY_BYTES)),
    dkgIndexMap,
  };
}

/** Roster of an existing setup (participants and clusters as published). */
export function rosterOfSetup(setup: EpochSetup, nextSerial: number, domain: string): Roster {
  return { participants: setup.participants, clusters: setup.assignments, nextSerial, domain };
}

// ---- per-epoch committee used every block ----

/** Signer-index bit vector (Flow style: 4-byte checksum of the committee, then one bit per member). */
function signerIndices(checksum: Uint8Array, n: number, missing: number): Uint8Array {
  const out = new Uint8Array(4 + ((n + 7) >>> 3));
  out.set(checksum.subarray(0, 4), 0);
  for (let i = 0; i < n; i++) if (i !== missing) out[4 + (i >>> 3)] |= 0x80 >>> (i & 7);
  return out;
}

function indexVariants(ids: Id[]): Uint8Array[] {
  const cat = new Uint8Array(ids.length * 32);
  ids.forEach((id, i) => {
    cat.set(id, i * 32);
  });
  const checksum = sha3(cat);
  const out = [signerIndices(checksum, ids.length, -1)];
  for (let m = 0; m < ids.length && out.length < 4; m++) out.push(signerIndices(checksum, ids.length, m));
  return out;
}

export interface ClusterInfo {
  members: Id[];
  chainId: string;
  /** A few signer-index vectors (all members, all but one). */
  indices: Uint8Array[];
}

export interface Committee {
  counter: number;
  consensus: Id[];
  consensusIndices: Uint8Array[];
  clusters: ClusterInfo[];
  execution: Id[];
  verification: Id[];
}

/** What blocks of an epoch need from its setup; `ejected` node ids (hex) are left out. */
export function makeCommittee(setup: EpochSetup, ejected: ReadonlySet<string>): Committee {
  const live = (p: Participant) => Number(p.initialWeight) > 0 && !ejected.has(toHex(p.nodeId));
  const ofRole = (role: number) => setup.participants.filter((p) => p.role === role && live(p)).map((p) => p.nodeId);
  const consensus = ofRole(Role.consensus);
  const clusters = setup.assignments.map((members) => {
    const cat = new Uint8Array(members.length * 32);
    members.forEach((id, i) => {
      cat.set(id, i * 32);
    });
    return {
      members,
      chainId: `cluster-${Number(setup.counter)}-${toHex(sha3(cat).subarray(0, 8))}`,
      indices: indexVariants(members),
    };
  });
  return {
    counter: Number(setup.counter),
    consensus,
    consensusIndices: indexVariants(consensus),
    clusters,
    execution: ofRole(Role.execution),
    verification: ofRole(Role.verification),
  };
}
