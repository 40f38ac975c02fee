// ID(x) = SHA3-256(RLP(preimage(x))), SPEC 1.3 and 2. One `write*` function per preimage of
// SPEC 2.1-2.3 and 4.1/4.4, in the order the spec lists its items; `*Id` hashes it.
import { sha3 } from './hash.js';
import { RlpWriter } from './rlp.js';
import { ZERO } from './bytes.js';
import type {
  ApprovalSig,
  Chunk,
  EpochCommit,
  EpochContainer,
  EpochRecover,
  EpochSetup,
  EpochState,
  GenericValue,
  Guarantee,
  Header,
  Id,
  KVStore,
  MagnitudeVersion,
  MeteringParams,
  Participant,
  QC,
  ReceiptStub,
  Result,
  Seal,
  ServiceEvent,
  TimeoutCertificate,
  Updatable,
  U64,
  VersionBeacon,
} from './types.js';

/** The writer all id functions share; every `*Id` resets it before use. */
const w = new RlpWriter();

function hashOf(write: (w: RlpWriter) => void): Id {
  write(w.reset());
  return sha3(w.finish());
}

// ---- 2.1 header ----

export function writeQC(w: RlpWriter, qc: QC): void {
  w.begin().u(qc.view).s(qc.blockId).s(qc.signerIndices).s(qc.sigData).end();
}

export function writeTC(w: RlpWriter, tc: TimeoutCertificate): void {
  w.begin().u(tc.view).begin();
  for (const v of tc.newestQCViews) w.u(v);
  w.end();
  writeQC(w, tc.newestQC);
  w.s(tc.signerIndices).s(tc.sigData).end();
}

/** payloadHash is the 4th item; tcId = ID(lastViewTC) or ZERO; proposerSigData is not hashed. */
export function writeHeader(w: RlpWriter, h: Header, tcId: Id): void {
  w.begin()
    .str(h.chainId)
    .s(h.parentId)
    .u(h.height)
    .s(h.payloadHash)
    .u(h.timestamp)
    .u(h.view)
    .u(h.parentView)
    .s(h.parentVoterIndices)
    .s(h.parentVoterSigData)
    .s(h.proposerId)
    .s(tcId)
    .end();
}

export const qcId = (qc: QC): Id => hashOf((w) => writeQC(w, qc));
export const tcId = (tc: TimeoutCertificate): Id => hashOf((w) => writeTC(w, tc));

/** Block ID = header ID. */
export function headerId(h: Header): Id {
  const tc = h.lastViewTC === null ? ZERO : tcId(h.lastViewTC);
  return hashOf((w) => writeHeader(w, h, tc));
}

// ---- 2.2 payload elements ----

export function writeGuarantee(w: RlpWriter, g: Guarantee): void {
  w.begin().s(g.collectionId).s(g.referenceBlockId).str(g.clusterChainId).s(g.signerIndices).s(g.signature).end();
}

function writeApprovalSig(w: RlpWriter, a: ApprovalSig): void {
  w.begin().begin();
  for (const sig of a.verifierSignatures) w.s(sig);
  w.end().begin();
  for (const signer of a.signerIds) w.s(signer);
  w.end().end();
}

export function writeSeal(w: RlpWriter, s: Seal): void {
  w.begin().s(s.blockId).s(s.resultId).s(s.finalState).begin();
  for (const a of s.approvalSigs) writeApprovalSig(w, a);
  w.end().end();
}

export function writeReceiptStub(w: RlpWriter, r: ReceiptStub): void {
  w.begin().begin().s(r.executorId).s(r.resultId).begin();
  for (const spock of r.spocks) w.s(spock);
  w.end().end().s(r.executorSignature).end();
}

export function writeChunk(w: RlpWriter, c: Chunk): void {
  w.begin()
    .begin()
    .u(c.collectionIndex)
    .s(c.startState)
    .s(c.eventCollection)
    .u(c.serviceEventCount)
    .s(c.blockId)
    .u(c.totalComputationUsed)
    .u(c.numberOfTransactions)
    .end()
    .u(c.index)
    .s(c.endState)
    .end();
}

export function writeResult(w: RlpWriter, r: Result): void {
  w.begin().s(r.previousResultId).s(r.blockId).begin();
  for (const c of r.chunks) writeChunk(w, c);
  w.end().begin();
  for (const e of r.serviceEvents) writeServiceEvent(w, e);
  w.end().s(r.executionDataId).end();
}

export const guaranteeId = (g: Guarantee): Id => hashOf((w) => writeGuarantee(w, g));
export const sealId = (s: Seal): Id => hashOf((w) => writeSeal(w, s));
export const receiptStubId = (r: ReceiptStub): Id => hashOf((w) => writeReceiptStub(w, r));
export const chunkId = (c: Chunk): Id => hashOf((w) => writeChunk(w, c));
export const resultId = (r: Result): Id => hashOf((w) => writeResult(w, r));

// ---- 2.3 service events ----

function writeParticipant(w: RlpWriter, p: Participant): void {
  w.begin().s(p.nodeId).str(p.address).u(p.role).u(p.initialWeight).s(p.stakingKey).s(p.networkKey).end();
}

export function writeSetup(w: RlpWriter, s: EpochSetup): void {
  w.begin().u(s.counter).u(s.firstView).u(s.dkgPhase1FinalView).u(s.dkgPhase2FinalView).u(s.dkgPhase3FinalView).u(s.finalView).begin();
  for (const p of s.participants) writeParticipant(w, p);
  w.end().begin();
  for (const cluster of s.assignments) {
    w.begin();
    for (const node of cluster) w.s(node);
    w.end();
  }
  w.end().s(s.randomSource).u(s.targetDuration).u(s.targetEndTime).end();
}

/** The DKG index map contributes its node ids ordered by index 0..n-1 (a permutation, checked on decode). */
export function writeCommit(w: RlpWriter, c: EpochCommit): void {
  w.begin().u(c.counter).begin();
  for (const qc of c.clusterQCs) {
    w.begin().s(qc.sigData).begin();
    for (const voter of qc.voterIds) w.s(voter);
    w.end().end();
  }
  w.end().s(c.dkgGroupKey).begin();
  for (const key of c.dkgParticipantKeys) w.s(key);
  w.end().begin();
  for (const nodeId of nodesByDkgIndex(c)) w.s(nodeId);
  w.end().end();
}

function nodesByDkgIndex(c: EpochCommit): Id[] {
  const byIndex: Id[] = new Array(c.dkgIndexMap.length);
  for (const [nodeId, index] of c.dkgIndexMap) byIndex[Number(index)] = nodeId;
  for (let i = 0; i < byIndex.length; i++) {
    if (byIndex[i] === undefined) throw new RangeError('dkgIndexMap is not a permutation of 0..n-1 (such a commit is a decode-error, never hashed)');
  }
  return byIndex;
}

export function writeRecover(w: RlpWriter, r: EpochRecover): void {
  w.begin();
  writeSetup(w, r.setup);
  writeCommit(w, r.commit);
  w.end();
}

function writeMagnitude(w: RlpWriter, v: MagnitudeVersion): void {
  w.begin().u(v.major).u(v.minor).end();
}

function writeWeights(w: RlpWriter, weights: [number, U64][]): void {
  const sorted = weights.length < 2 ? weights : [...weights].sort((a, b) => a[0] - b[0]);
  w.begin();
  for (const [k, weight] of sorted) w.begin().u(k).u(weight).end();
  w.end();
}

export function writeMetering(w: RlpWriter, p: MeteringParams): void {
  w.begin();
  writeWeights(w, p.effortWeights);
  writeWeights(w, p.memoryWeights);
  w.u(p.memoryLimit).end();
}

function writeVersionBeacon(w: RlpWriter, b: VersionBeacon): void {
  w.begin().begin();
  for (const boundary of b.boundaries) w.begin().u(boundary.blockHeight).str(boundary.version).end();
  w.end().u(b.sequence).end();
}

/** SPEC 9.6: the generic mapping for bodies of unknown event types. */
export function writeGeneric(w: RlpWriter, v: GenericValue): void {
  if (v === null) w.emptyList();
  else if (typeof v === 'string') w.str(v);
  else if (typeof v === 'boolean') w.bool(v);
  else if (typeof v === 'number' || typeof v === 'bigint') w.u(v);
  else if (v instanceof Uint8Array) w.s(v);
  else {
    w.begin();
    for (const item of v) writeGeneric(w, item);
    w.end();
  }
}

export function writeEventBody(w: RlpWriter, e: ServiceEvent): void {
  if (e.unknown) return writeGeneric(w, e.event);
  switch (e.type) {
    case 'setup':
      return writeSetup(w, e.event);
    case 'commit':
      return writeCommit(w, e.event);
    case 'recover':
      return writeRecover(w, e.event);
    case 'eject-node':
      w.begin().s(e.event.nodeId).end();
      return;
    case 'version-beacon':
      return writeVersionBeacon(w, e.event);
    case 'protocol-state-version-upgrade':
      w.begin().u(e.event.newProtocolStateVersion).u(e.event.activeView).end();
      return;
    case 'set-epoch-extension-view-count':
      w.begin().u(e.event.value).end();
      return;
    case 'set-execution-component-version':
    case 'set-cadence-component-version':
      w.begin();
      writeMagnitude(w, e.event.version);
      w.u(e.event.activationView).end();
      return;
    case 'set-execution-metering-parameters':
      w.begin();
      writeMetering(w, e.event.params);
      w.u(e.event.activationView).end();
      return;
  }
}

export function writeServiceEvent(w: RlpWriter, e: ServiceEvent): void {
  w.begin().str(e.type);
  writeEventBody(w, e);
  w.end();
}

export const serviceEventId = (e: ServiceEvent): Id => hashOf((w) => writeServiceEvent(w, e));
/** setupId/commitId as kept in the epoch state: no type prefix. */
export const setupId = (s: EpochSetup): Id => hashOf((w) => writeSetup(w, s));
export const commitId = (c: EpochCommit): Id => hashOf((w) => writeCommit(w, c));
export const recoverId = (r: EpochRecover): Id => hashOf((w) => writeRecover(w, r));

// ---- 4.1 KV store ----

function writeUpdatable<T>(w: RlpWriter, u: Updatable<T>, writeData: (w: RlpWriter, d: T) => void): void {
  w.begin();
  writeData(w, u.current);
  if (u.update === null) w.emptyList();
  else {
    w.begin();
    writeData(w, u.update.data);
    w.u(u.update.activationView).end();
  }
  w.end();
}

/** F0 = [[versionUpgrade or c0], epochStateId, epochExtensionViewCount, finalizationSafetyThreshold]. */
function writeF0(w: RlpWriter, kv: KVStore): void {
  w.begin().begin();
  if (kv.versionUpgrade === null) w.emptyList();
  else w.begin().u(kv.versionUpgrade.data).u(kv.versionUpgrade.activationView).end();
  w.end().s(kv.epochStateId).u(kv.epochExtensionViewCount).u(kv.finalizationSafetyThreshold).end();
}

/** v0: [0, F0]; v1: [1, [F0]]; v2: [2, [[F0]]]; v3: [3, [[[F0]], metering, ecv, ccv]]. */
export function writeKVStore(w: RlpWriter, kv: KVStore): void {
  const v = kv.version;
  if (v < 0 || v > 3) throw new RangeError(`KV store version ${v} has no preimage`);
  w.begin().u(v);
  if (v === 3) w.begin();
  for (let depth = Math.min(v, 2); depth > 0; depth--) w.begin();
  writeF0(w, kv);
  for (let depth = Math.min(v, 2); depth > 0; depth--) w.end();
  if (v === 3) {
    writeUpdatable(w, kv.executionMeteringParameters!, writeMetering);
    writeUpdatable(w, kv.executionComponentVersion!, writeMagnitude);
    writeUpdatable(w, kv.cadenceComponentVersion!, writeMagnitude);
    w.end();
  }
  w.end();
}

export const kvStoreId = (kv: KVStore): Id => hashOf((w) => writeKVStore(w, kv));

// ---- 4.4 epoch state ----

function writeContainer(w: RlpWriter, c: EpochContainer | null): void {
  if (c === null) {
    w.emptyList();
    return;
  }
  w.begin().s(c.setupId).s(c.commitId).begin();
  for (const i of c.identities) w.begin().s(i.nodeId).bool(i.ejected).end();
  w.end().begin();
  for (const x of c.extensions) w.begin().u(x.firstView).u(x.finalView).end();
  w.end().end();
}

export function writeEpochState(w: RlpWriter, es: EpochState): void {
  w.begin();
  writeContainer(w, es.previous);
  writeContainer(w, es.current);
  writeContainer(w, es.next);
  w.bool(es.fallbackTriggered).end();
}

export const epochStateId = (es: EpochState): Id => hashOf((w) => writeEpochState(w, es));

/** RLP preimage bytes (a copy), for vectors and diagnostics. */
export function preimage<T>(write: (w: RlpWriter, x: T) => void, x: T): Uint8Array {
  const own = new RlpWriter(1024);
  write(own, x);
  return own.finish().slice();
}
