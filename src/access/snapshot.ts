// The spork root snapshot JSON (`inmem.EncodableSnapshot`, ACCESS.md 5) → the SPEC root record
// (SPEC 3, 9.1), with the spork-root requirement and the node-free cross-checks of 5.7; and the
// inverse, a shape-C snapshot as a flow-go >= v0.43 node writes it (for test servers).
import { MappingError } from './errors.js';
import { arr, arrOf, b64, bool, hexId, nullable, obj, parseJson, rec, str, u64, uint, type JsonValue, type Rec } from './json.js';
import { mapCommit, mapSetup, mapVersionBeacon, mapWrappedEvents } from './events.js';
import { decodeKVStoreData } from './kvstore-msgpack.js';
import { bytesEqual, toHex } from '../model/bytes.js';
import { sha3 } from '../model/hash.js';
import { headerId, resultId, sealId, writeServiceEvent } from '../model/ids.js';
import { payloadHash } from '../model/payload.js';
import { RlpWriter } from '../model/rlp.js';
import type {
  ApprovalSig,
  Chunk,
  DynamicIdentity,
  EpochCommit,
  EpochContainer,
  EpochEvents,
  EpochExtension,
  EpochState,
  Guarantee,
  Header,
  Id,
  Payload,
  QC,
  ReceiptStub,
  Result,
  RootSnapshot,
  Seal,
  SealedVersionBeacon,
  SporkParams,
  TimeoutCertificate,
  U64,
} from '../model/types.js';

/** A snapshot that cannot be a SPEC root: not a spork root, shape A, a missing item, or a failed cross-check. */
export class RootRefused extends MappingError {
  constructor(path: string, reason: string) {
    super(path, reason);
    this.name = 'RootRefused';
  }
}

/** Optional expected values (ACCESS 6.6), e.g. from sporks.json. */
export interface ExpectedRoot {
  rootParentId?: Id;
  rootStateCommitment?: Id;
}

export interface MappedRoot {
  root: RootSnapshot;
  /** Findings that do not refuse the root (the result-id caveat of 7.4, pre-v0.43 chunk fields). */
  warnings: string[];
  shape: 'B' | 'C';
  /** The recomputed (and cross-checked) root block id. */
  rootId: Id;
  /** FirstSeal with its approval signatures (the SPEC rootSeal drops them). */
  firstSeal: Seal;
}

const HEADER_KEYS = [
  'ChainID',
  'ParentID',
  'Height',
  'Timestamp',
  'View',
  'ParentView',
  'ParentVoterIndices',
  'ParentVoterSigData',
  'ProposerID',
  'LastViewTC',
];
const EPOCH_ENTRY_KEYS = [
  'PreviousEpoch',
  'CurrentEpoch',
  'NextEpoch',
  'EpochFallbackTriggered',
  'PreviousEpochSetup',
  'PreviousEpochCommit',
  'CurrentEpochSetup',
  'CurrentEpochCommit',
  'NextEpochSetup',
  'NextEpochCommit',
];
const SS = '$.SealingSegment';

// ---------------------------------------------------------------- records (5.4)

function qc(v: JsonValue, path: string): QC {
  const r = rec(v, path, ['View', 'BlockID', 'SignerIndices', 'SigData']);
  return { view: r.get('View', u64), blockId: r.get('BlockID', hexId), signerIndices: r.get('SignerIndices', b64), sigData: r.get('SigData', b64) };
}

function tc(v: JsonValue, path: string): TimeoutCertificate {
  const r = rec(v, path, ['View', 'NewestQCViews', 'NewestQC', 'SignerIndices', 'SigData']);
  return {
    view: r.get('View', u64),
    newestQCViews: r.get('NewestQCViews', arrOf(u64)),
    newestQC: r.get('NewestQC', qc),
    signerIndices: r.get('SignerIndices', b64),
    sigData: r.get('SigData', b64),
  };
}

function guarantee(v: JsonValue, path: string): Guarantee {
  const r = rec(v, path, ['CollectionID', 'ReferenceBlockID', 'ClusterChainID', 'SignerIndices', 'Signature']);
  return {
    collectionId: r.get('CollectionID', hexId),
    referenceBlockId: r.get('ReferenceBlockID', hexId),
    clusterChainId: r.get('ClusterChainID', str),
    signerIndices: r.get('SignerIndices', b64),
    signature: r.get('Signature', b64),
  };
}

function approvalSig(v: JsonValue, path: string): ApprovalSig {
  const r = rec(v, path, ['VerifierSignatures', 'SignerIDs']);
  return { verifierSignatures: r.get('VerifierSignatures', arrOf(b64)), signerIds: r.get('SignerIDs', arrOf(hexId)) };
}

function seal(v: JsonValue, path: string): Seal {
  const r = rec(v, path, ['BlockID', 'ResultID', 'FinalState', 'AggregatedApprovalSigs']);
  return {
    blockId: r.get('BlockID', hexId),
    resultId: r.get('ResultID', hexId),
    finalState: r.get('FinalState', hexId),
    approvalSigs: r.get('AggregatedApprovalSigs', arrOf(approvalSig)),
  };
}

function receipt(v: JsonValue, path: string): ReceiptStub {
  const r = rec(v, path, ['ExecutorID', 'ResultID', 'Spocks', 'ExecutorSignature'], ['ID']);
  return {
    executorId: r.get('ExecutorID', hexId),
    resultId: r.get('ResultID', hexId),
    spocks: r.get('Spocks', arrOf(b64)),
    executorSignature: r.get('ExecutorSignature', b64),
  };
}

/** Maps the record JSON; collects the warnings a mapping can give. */
class SnapshotMapper {
  readonly warnings: string[] = [];

  chunk = (v: JsonValue, path: string): Chunk => {
    const r = rec(v, path, [
      'CollectionIndex',
      'StartState',
      'EventCollection',
      'ServiceEventCount',
      'BlockID',
      'TotalComputationUsed',
      'NumberOfTransactions',
      'Index',
      'EndState',
    ]);
    const count = r.get(
      'ServiceEventCount',
      nullable((x, p) => uint(x, 16, p)),
    );
    if (count === null) this.warnings.push(`${path}.ServiceEventCount is null (the pre-v0.43 chunk encoding); mapped to 0`);
    return {
      collectionIndex: r.get('CollectionIndex', u64),
      startState: r.get('StartState', hexId),
      eventCollection: r.get('EventCollection', hexId),
      serviceEventCount: count ?? 0,
      blockId: r.get('BlockID', hexId),
      totalComputationUsed: r.get('TotalComputationUsed', u64),
      numberOfTransactions: r.get('NumberOfTransactions', u64),
      index: r.get('Index', u64),
      endState: r.get('EndState', hexId),
    };
  };

  /** A result and the informational JSON `ID` it carries (null when absent). */
  resultWithId = (v: JsonValue, path: string): { result: Result; jsonId: Id | null } => {
    const r = rec(v, path, ['PreviousResultID', 'BlockID', 'Chunks', 'ServiceEvents', 'ExecutionDataID'], ['ID']);
    const result: Result = {
      previousResultId: r.get('PreviousResultID', hexId),
      blockId: r.get('BlockID', hexId),
      chunks: r.get('Chunks', arrOf(this.chunk)),
      serviceEvents: r.get('ServiceEvents', mapWrappedEvents),
      executionDataId: r.get('ExecutionDataID', hexId),
    };
    return { result, jsonId: r.opt('ID', hexId, null) };
  };

  payload = (v: JsonValue, path: string): Payload => {
    const r = rec(v, path, ['Guarantees', 'Seals', 'Receipts', 'Results', 'ProtocolStateID']);
    return {
      guarantees: r.get('Guarantees', arrOf(guarantee)),
      seals: r.get('Seals', arrOf(seal)),
      receipts: r.get('Receipts', arrOf(receipt)),
      results: r.get(
        'Results',
        arrOf((x, p) => this.resultWithId(x, p).result),
      ),
      protocolStateId: r.get('ProtocolStateID', hexId),
    };
  };

  /** The root proposal `{Block, ProposerSigData}` in shape B or C (5.3). */
  proposal(v: JsonValue, path: string, shape: 'B' | 'C'): { header: Header; payload: Payload; jsonId: Id; headerPath: string } {
    const p = rec(v, path, ['Block', 'ProposerSigData']);
    const proposerSigData = p.get('ProposerSigData', b64);
    const bp = `${path}.Block`;
    let h: Rec;
    let payload: Payload;
    let claimedHash: Id | null = null;
    if (shape === 'B') {
      const b = rec(p.raw('Block')!, bp, ['Header', 'Payload']);
      h = rec(b.raw('Header')!, `${bp}.Header`, [...HEADER_KEYS, 'PayloadHash', 'ID']);
      payload = b.get('Payload', this.payload);
      claimedHash = h.get('PayloadHash', hexId);
    } else {
      h = rec(p.raw('Block')!, bp, [...HEADER_KEYS, 'Payload', 'ID']);
      payload = h.get('Payload', this.payload);
    }
    const computed = idOf(() => payloadHash(payload), `${h.path}.Payload`, 'the payload hash');
    if (claimedHash !== null && !bytesEqual(claimedHash, computed)) {
      this.warnings.push(`${h.path}.PayloadHash ${toHex(claimedHash)} differs from the payload's hash ${toHex(computed)}`);
    }
    const header: Header = {
      chainId: h.get('ChainID', str),
      parentId: h.get('ParentID', hexId),
      height: h.get('Height', u64),
      timestamp: h.get('Timestamp', u64),
      view: h.get('View', u64),
      parentView: h.get('ParentView', u64),
      parentVoterIndices: h.get('ParentVoterIndices', b64),
      parentVoterSigData: h.get('ParentVoterSigData', b64),
      proposerId: h.get('ProposerID', hexId),
      lastViewTC: h.get('LastViewTC', nullable(tc)),
      payloadHash: claimedHash ?? computed,
      proposerSigData,
    };
    return { header, payload, jsonId: h.get('ID', hexId), headerPath: h.path };
  }
}

// ---------------------------------------------------------------- epoch entry (5.6)

function identity(v: JsonValue, path: string): DynamicIdentity {
  const r = rec(v, path, ['NodeID', 'Ejected']);
  return { nodeId: r.get('NodeID', hexId), ejected: r.get('Ejected', bool) };
}

function extension(v: JsonValue, path: string): EpochExtension {
  const r = rec(v, path, ['FirstView', 'FinalView']);
  return { firstView: r.get('FirstView', u64), finalView: r.get('FinalView', u64) };
}

function container(v: JsonValue, path: string): EpochContainer {
  const r = rec(v, path, ['SetupID', 'CommitID', 'ActiveIdentities', 'EpochExtensions']);
  return {
    setupId: r.get('SetupID', hexId),
    commitId: r.get('CommitID', hexId),
    identities: r.get('ActiveIdentities', arrOf(identity)),
    extensions: r.get('EpochExtensions', arrOf(extension)),
  };
}

function required<T>(x: T | null, path: string): T {
  if (x === null) throw new RootRefused(path, 'missing item: null, but a spork root needs it');
  return x;
}

function epochEntry(v: JsonValue, path: string): { epochState: EpochState; epochEvents: EpochEvents } {
  const r = rec(v, path, EPOCH_ENTRY_KEYS, ['CurrentEpochIdentityTable', 'NextEpochIdentityTable']);
  const epochState: EpochState = {
    previous: r.get('PreviousEpoch', nullable(container)),
    current: required(r.get('CurrentEpoch', nullable(container)), `${path}.CurrentEpoch`),
    next: r.get('NextEpoch', nullable(container)),
    fallbackTriggered: r.get('EpochFallbackTriggered', bool),
  };
  const epochEvents: EpochEvents = {
    previousSetup: r.get('PreviousEpochSetup', nullable(mapSetup)),
    previousCommit: r.get('PreviousEpochCommit', nullable(mapCommit)),
    currentSetup: required(r.get('CurrentEpochSetup', nullable(mapSetup)), `${path}.CurrentEpochSetup`),
    currentCommit: r.get('CurrentEpochCommit', nullable(mapCommit)),
    nextSetup: r.get('NextEpochSetup', nullable(mapSetup)),
    nextCommit: r.get('NextEpochCommit', nullable(mapCommit)),
  };
  for (const key of ['previousCommit', 'currentCommit', 'nextCommit'] as const) {
    const c = epochEvents[key];
    if (c !== null) requirePermutation(c, `${path}.${key[0].toUpperCase()}${key.slice(1, -6)}EpochCommit.DKGIndexMap`);
  }
  return { epochState, epochEvents };
}

/** SPEC 2.3: only a commit whose index map is a permutation of 0..n-1 has an id (root check 3 needs it). */
function requirePermutation(c: EpochCommit, path: string): void {
  const n = c.dkgParticipantKeys.length;
  const seen = new Set(c.dkgIndexMap.map(([, i]) => i));
  const ok = c.dkgIndexMap.length === n && seen.size === n && [...seen].every((i) => typeof i === 'number' && i < n);
  if (!ok) throw new RootRefused(path, `the index map is not a permutation of 0..${n - 1} (${n} DKG participant keys): the commit has no id`);
}

/** The `{idHex: value}` entry for `id` (keys compared as ids), or undefined. */
function entryFor(v: JsonValue, path: string, id: Id): { value: JsonValue; path: string } | undefined {
  for (const [key, value] of obj(v, path)) {
    const at = `${path}[${JSON.stringify(key)}]`;
    if (bytesEqual(hexId(key, at), id)) return { value, path: at };
  }
  return undefined;
}

// ---------------------------------------------------------------- the root (5.3, 5.7)

function refuseShapeA(path: string, why: string): never {
  throw new RootRefused(path, `pre-v0.43 snapshot: not supported (${why}; its ids do not hash as the SPEC says, ACCESS 1.3)`);
}

function detectShape(x: JsonValue, path: string): 'B' | 'C' {
  const block = obj(x, path).get('Block');
  if (!(block instanceof Map)) refuseShapeA(path, 'the block has no "Block" key');
  const header = block.get('Header');
  const h = header instanceof Map ? header : block;
  if (typeof h.get('Timestamp') === 'string') refuseShapeA(path, 'the header Timestamp is an RFC 3339 string');
  return header === undefined ? 'C' : 'B';
}

function requireSporkRoot(blocks: JsonValue[], firstSeal: JsonValue | undefined, shape: 'B' | 'C', params: SporkParams): void {
  if (blocks.length !== 1) {
    throw new RootRefused(
      `${SS}.Blocks`,
      `not a spork-root snapshot: ${blocks.length} blocks in the sealing segment (a spork root has exactly 1). ` +
        'A mid-spork snapshot cannot be a SPEC root: the blocks after its lowest block seal heights at or below it with results included before it, which SPEC 6 refuses (bad-seal)',
    );
  }
  if (firstSeal === null || firstSeal === undefined)
    throw new RootRefused(`${SS}.FirstSeal`, 'not a spork-root snapshot: FirstSeal is null (a spork root carries its root seal there)');
  const height = peekHeight(blocks[0], shape);
  if (height !== params.sporkRootHeight) {
    throw new RootRefused(
      `${SS}.Blocks[0]`,
      `not a spork-root snapshot: its block is at height ${height}, but Params.SporkRootBlockHeight is ${params.sporkRootHeight} ` +
        '(a snapshot of a later block: mid-spork, it cannot be a SPEC root)',
    );
  }
}

/**
 * An id computed from mapped values. The id code requires well-formed commits (SPEC 2.3); a DKG
 * index map that is not a permutation makes the root unusable rather than crashing the mapping.
 */
function idOf(compute: () => Id, path: string, what: string): Id {
  try {
    return compute();
  } catch (e) {
    if (e instanceof MappingError) throw e;
    throw new RootRefused(
      path,
      `${what} cannot be computed (a commit's DKG index map that is not a permutation?): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

function crossCheck(name: string, path: string, got: Id, want: Id, wantWhat: string): void {
  if (!bytesEqual(got, want)) throw new RootRefused(path, `cross-check failed: ${name}: ${toHex(got)} != ${wantWhat} ${toHex(want)}`);
}

function mapParams(v: JsonValue): { params: SporkParams; view: U64 | null } {
  const r = rec(v, '$.Params', ['ChainID', 'SporkID', 'SporkRootBlockHeight'], ['SporkRootBlockView']);
  const view = r.opt<U64 | null>('SporkRootBlockView', u64, null);
  const params = {
    chainId: r.get('ChainID', str),
    sporkId: r.get('SporkID', hexId),
    sporkRootHeight: r.get('SporkRootBlockHeight', u64),
    sporkRootView: view ?? 0,
  };
  return { params, view };
}

function sealedBeacon(v: JsonValue, path: string): SealedVersionBeacon | null {
  if (v === null) return null;
  const beacon = mapVersionBeacon(v, path, ['SealHeight']);
  return { beacon, sealHeight: u64(obj(v, path).get('SealHeight')!, `${path}.SealHeight`) };
}

/**
 * Maps a spork-root snapshot JSON (shape B or C) to the SPEC root (ACCESS 5.7) and runs the
 * node-free cross-checks. Throws MappingError for a value that cannot be mapped and RootRefused
 * for a snapshot that is not a usable spork root. SPEC 3's root checks are the caller's
 * (store/root.ts validateRoot).
 */
export function mapRootSnapshot(text: string | Uint8Array, expected: ExpectedRoot = {}): MappedRoot {
  const topObj = obj(parseJson(text, '$'), '$');
  const segObj = obj(topObj.get('SealingSegment') ?? null, SS);
  const blocks = arr(segObj.get('Blocks') ?? null, `${SS}.Blocks`);
  if (blocks.length === 0) throw new RootRefused(`${SS}.Blocks`, 'not a spork-root snapshot: the sealing segment has no blocks');
  const shape = detectShape(blocks[0], `${SS}.Blocks[0]`);
  const top = rec(topObj, '$', ['SealingSegment', 'Params', 'SealedVersionBeacon'], ['QuorumCertificate']);
  const seg = rec(segObj, SS, ['Blocks', 'ExecutionResults', 'LatestSeals', 'FirstSeal', 'ProtocolStateEntries'], ['ExtraBlocks', 'SporkRootBlock']);
  const { params, view: paramsView } = mapParams(top.raw('Params')!);
  const m = new SnapshotMapper();
  const firstSealJson = seg.raw('FirstSeal');
  requireSporkRoot(blocks, firstSealJson, shape, params);

  const { header, payload, jsonId, headerPath } = m.proposal(blocks[0], `${SS}.Blocks[0]`, shape);
  const firstSeal = seal(firstSealJson!, `${SS}.FirstSeal`);
  const results = seg.get('ExecutionResults', arrOf(m.resultWithId));
  const root =
    results.find((x) => x.jsonId !== null && bytesEqual(x.jsonId, firstSeal.resultId)) ??
    results.find((x, i) =>
      bytesEqual(
        idOf(() => resultId(x.result), `${SS}.ExecutionResults[${i}]`, 'the result id'),
        firstSeal.resultId,
      ),
    );
  if (root === undefined)
    throw new RootRefused(`${SS}.ExecutionResults`, `missing item: no result with the ID of FirstSeal.ResultID ${toHex(firstSeal.resultId)}`);

  const psPath = `${SS}.ProtocolStateEntries`;
  const entry = entryFor(seg.raw('ProtocolStateEntries')!, psPath, payload.protocolStateId);
  if (entry === undefined) throw new RootRefused(psPath, `missing item: no entry for the root block's ProtocolStateID ${toHex(payload.protocolStateId)}`);
  const e = rec(entry.value, entry.path, ['KVStore', 'EpochEntry']);
  const kvr = rec(e.raw('KVStore')!, `${entry.path}.KVStore`, ['Version', 'Data']);
  const version = kvr.get('Version', u64);
  if (typeof version !== 'number' || version > 3) throw new RootRefused(`${kvr.path}.Version`, `KV store Version ${version} is not supported (0..3, SPEC 9.7)`);
  const kvStore = decodeKVStoreData(version, kvr.get('Data', b64), `${kvr.path}.Data`);
  const { epochState, epochEvents } = e.get('EpochEntry', epochEntry);
  if (paramsView === null) params.sporkRootView = header.view;

  const rootId = headerId(header);
  crossCheck('the JSON ID of the root block equals its recomputed header ID', `${headerPath}.ID`, jsonId, rootId, 'recomputed');
  crossCheck('Params.SporkID equals the root block ID', '$.Params.SporkID', params.sporkId, rootId, 'root block ID');
  if (params.chainId !== header.chainId) {
    throw new RootRefused(
      '$.Params.ChainID',
      `cross-check failed: Params.ChainID equals the root block's ChainID: ${JSON.stringify(params.chainId)} != ${JSON.stringify(header.chainId)}`,
    );
  }
  const latest = entryFor(seg.raw('LatestSeals')!, `${SS}.LatestSeals`, rootId);
  if (latest === undefined) throw new RootRefused(`${SS}.LatestSeals`, `cross-check failed: LatestSeals has no entry for the root block ID ${toHex(rootId)}`);
  crossCheck(
    'LatestSeals[rootId] equals ID(FirstSeal) (with its approval signatures)',
    latest.path,
    hexId(latest.value, latest.path),
    sealId(firstSeal),
    'ID(FirstSeal)',
  );
  if (expected.rootParentId !== undefined)
    crossCheck('the root ParentID equals the expected rootParentId', `${headerPath}.ParentID`, header.parentId, expected.rootParentId, 'expected');
  if (expected.rootStateCommitment !== undefined) {
    crossCheck(
      'FirstSeal.FinalState equals the expected rootStateCommitment',
      `${SS}.FirstSeal.FinalState`,
      firstSeal.finalState,
      expected.rootStateCommitment,
      'expected',
    );
  }
  const computedResultId = idOf(() => resultId(root.result), `${SS}.ExecutionResults`, 'ID(rootResult)');
  if (root.jsonId !== null && !bytesEqual(root.jsonId, computedResultId)) {
    m.warnings.push(
      `the root result's JSON ID ${toHex(root.jsonId)} differs from ID(rootResult) ${toHex(computedResultId)} ` +
        '(a pre-v0.43 chunk encoding, ACCESS 7.4): the replay will refuse the root on check 4',
    );
  }

  const snapshot: RootSnapshot = {
    rootBlock: { header, payload },
    rootSeal: { blockId: firstSeal.blockId, resultId: firstSeal.resultId, finalState: firstSeal.finalState },
    rootResult: root.result,
    kvStore,
    epochState,
    epochEvents,
    versionBeacon: top.get('SealedVersionBeacon', sealedBeacon),
    params,
  };
  return { root: snapshot, warnings: m.warnings, shape, rootId, firstSeal };
}

/** The block height, read before the strict mapping so that the spork-root refusal comes first. */
function peekHeight(x: JsonValue, shape: 'B' | 'C'): U64 | null {
  const block = obj(x, `${SS}.Blocks[0]`).get('Block');
  const h = block instanceof Map ? (shape === 'B' ? block.get('Header') : block) : undefined;
  const height = h instanceof Map ? h.get('Height') : undefined;
  return height === undefined ? null : u64(height, `${SS}.Blocks[0].Block${shape === 'B' ? '.Header' : ''}.Height`);
}

/**
 * The result id as flow-go before v0.43 computed it when a chunk's ServiceEventCount was nil:
 * the chunk's inner list has 6 items, without the count (ACCESS 1.3 item 4, 7.3). For the
 * conformance test of 7.3 only; the SPEC id is model/ids.ts resultId.
 */
export function legacyResultIdWithoutServiceEventCount(r: Result): Id {
  const w = new RlpWriter(4096);
  w.begin().s(r.previousResultId).s(r.blockId).begin();
  for (const c of r.chunks) {
    w.begin()
      .begin()
      .u(c.collectionIndex)
      .s(c.startState)
      .s(c.eventCollection)
      .s(c.blockId)
      .u(c.totalComputationUsed)
      .u(c.numberOfTransactions)
      .end()
      .u(c.index)
      .s(c.endState)
      .end();
  }
  w.end().begin();
  for (const e of r.serviceEvents) writeServiceEvent(w, e);
  w.end().s(r.executionDataId).end();
  return sha3(w.finish());
}

export { rootSnapshotToFlowJson } from './snapshot-json.js';
