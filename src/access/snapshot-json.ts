// The inverse of the root snapshot mapping: a RootSnapshot written as flow-go's shape C JSON
// (`inmem.EncodableSnapshot`), which the loopback test node serves and the tests round-trip.
import { wArr, wB64, wBool, wHex, wNum, wObj, wStr, W_NULL, type JsonText } from './json.js';
import { commitJson, identityJson, setupJson, versionBeaconEntries, wrappedEventJson } from './events.js';
import { encodeKVStoreData } from './kvstore-msgpack.js';
import { compareBytes, toHex } from '../model/bytes.js';
import { headerId, receiptStubId, resultId, sealId } from '../model/ids.js';
import type {
  Chunk,
  EpochContainer,
  EpochEvents,
  EpochSetup,
  EpochState,
  Header,
  Id,
  Participant,
  Payload,
  QC,
  Result,
  RootSnapshot,
  Seal,
  TimeoutCertificate,
} from '../model/types.js';

// ---------------------------------------------------------------- model → shape C JSON

function qcJson(q: QC): JsonText {
  return wObj([
    ['View', wNum(q.view)],
    ['BlockID', wHex(q.blockId)],
    ['SignerIndices', wB64(q.signerIndices)],
    ['SigData', wB64(q.sigData)],
  ]);
}

function tcJson(t: TimeoutCertificate): JsonText {
  return wObj([
    ['View', wNum(t.view)],
    ['NewestQCViews', wArr(t.newestQCViews.map(wNum))],
    ['NewestQC', qcJson(t.newestQC)],
    ['SignerIndices', wB64(t.signerIndices)],
    ['SigData', wB64(t.sigData)],
  ]);
}

function sealJson(s: Seal): JsonText {
  const sigs = s.approvalSigs.map((a) =>
    wObj([
      ['VerifierSignatures', wArr(a.verifierSignatures.map(wB64))],
      ['SignerIDs', wArr(a.signerIds.map((x) => wHex(x)))],
    ]),
  );
  return wObj([
    ['BlockID', wHex(s.blockId)],
    ['ResultID', wHex(s.resultId)],
    ['FinalState', wHex(s.finalState)],
    ['AggregatedApprovalSigs', wArr(sigs)],
  ]);
}

function chunkJson(c: Chunk): JsonText {
  return wObj([
    ['CollectionIndex', wNum(c.collectionIndex)],
    ['StartState', wHex(c.startState)],
    ['EventCollection', wHex(c.eventCollection)],
    ['ServiceEventCount', wNum(c.serviceEventCount)],
    ['BlockID', wHex(c.blockId)],
    ['TotalComputationUsed', wNum(c.totalComputationUsed)],
    ['NumberOfTransactions', wNum(c.numberOfTransactions)],
    ['Index', wNum(c.index)],
    ['EndState', wHex(c.endState)],
  ]);
}

function resultJson(r: Result, id: Id = resultId(r)): JsonText {
  return wObj([
    ['PreviousResultID', wHex(r.previousResultId)],
    ['BlockID', wHex(r.blockId)],
    ['Chunks', wArr(r.chunks.map(chunkJson), true)],
    ['ServiceEvents', wArr(r.serviceEvents.map(wrappedEventJson), true)],
    ['ExecutionDataID', wHex(r.executionDataId)],
    ['ID', wHex(id)],
  ]);
}

function payloadJson(p: Payload): JsonText {
  const guarantees = p.guarantees.map((g) =>
    wObj([
      ['CollectionID', wHex(g.collectionId)],
      ['ReferenceBlockID', wHex(g.referenceBlockId)],
      ['ClusterChainID', wStr(g.clusterChainId)],
      ['SignerIndices', wB64(g.signerIndices)],
      ['Signature', wB64(g.signature)],
    ]),
  );
  const receipts = p.receipts.map((r) =>
    wObj([
      ['ExecutorID', wHex(r.executorId)],
      ['ResultID', wHex(r.resultId)],
      ['Spocks', wArr(r.spocks.map(wB64))],
      ['ExecutorSignature', wB64(r.executorSignature)],
      ['ID', wHex(receiptStubId(r))],
    ]),
  );
  return wObj([
    ['Guarantees', wArr(guarantees, true)],
    ['Seals', wArr(p.seals.map(sealJson), true)],
    ['Receipts', wArr(receipts, true)],
    [
      'Results',
      wArr(
        p.results.map((r) => resultJson(r)),
        true,
      ),
    ],
    ['ProtocolStateID', wHex(p.protocolStateId)],
  ]);
}

/** Shape C: the header flattened into the block, no PayloadHash, then Payload and ID. */
function blockJson(h: Header, p: Payload): JsonText {
  return wObj([
    ['ChainID', wStr(h.chainId)],
    ['ParentID', wHex(h.parentId)],
    ['Height', wNum(h.height)],
    ['Timestamp', wNum(h.timestamp)],
    ['View', wNum(h.view)],
    ['ParentView', wNum(h.parentView)],
    ['ParentVoterIndices', wB64(h.parentVoterIndices)],
    ['ParentVoterSigData', wB64(h.parentVoterSigData)],
    ['ProposerID', wHex(h.proposerId)],
    ['LastViewTC', h.lastViewTC === null ? W_NULL : tcJson(h.lastViewTC)],
    ['Payload', payloadJson(p)],
    ['ID', wHex(headerId(h))],
  ]);
}

function containerJson(c: EpochContainer | null): JsonText {
  if (c === null) return W_NULL;
  return wObj([
    ['SetupID', wHex(c.setupId)],
    ['CommitID', wHex(c.commitId)],
    [
      'ActiveIdentities',
      wArr(
        c.identities.map((i) =>
          wObj([
            ['NodeID', wHex(i.nodeId)],
            ['Ejected', wBool(i.ejected)],
          ]),
        ),
      ),
    ],
    [
      'EpochExtensions',
      wArr(
        c.extensions.map((x) =>
          wObj([
            ['FirstView', wNum(x.firstView)],
            ['FinalView', wNum(x.finalView)],
          ]),
        ),
        true,
      ),
    ],
  ]);
}

const STATUS = {
  active: 'EpochParticipationStatusActive',
  joining: 'EpochParticipationStatusJoining',
  leaving: 'EpochParticipationStatusLeaving',
  ejected: 'EpochParticipationStatusEjected',
};

/**
 * An informational identity table (ignored on input): the epoch's own participants, active or
 * ejected, plus the adjacent epoch's other participants as joining or leaving; by node id.
 */
function identityTableJson(own: EpochSetup | null, c: EpochContainer | null, other: EpochSetup | null, otherStatus: string): JsonText {
  if (own === null) return wArr([]);
  const ejected = new Set((c?.identities ?? []).filter((i) => i.ejected).map((i) => toHex(i.nodeId)));
  const rows: [Participant, string][] = own.participants.map((p) => [p, ejected.has(toHex(p.nodeId)) ? STATUS.ejected : STATUS.active]);
  const mine = new Set(own.participants.map((p) => toHex(p.nodeId)));
  for (const p of other?.participants ?? []) if (!mine.has(toHex(p.nodeId))) rows.push([p, otherStatus]);
  rows.sort((a, b) => compareBytes(a[0].nodeId, b[0].nodeId));
  return wArr(
    rows.map(([p, status]) =>
      wObj([
        ['EncodableIdentitySkeleton', identityJson(p)],
        ['ParticipationStatus', wStr(status)],
      ]),
    ),
  );
}

function epochEntryJson(es: EpochState, ev: EpochEvents): JsonText {
  const event = <T>(x: T | null, json: (x: T) => JsonText) => (x === null ? W_NULL : json(x));
  const adjacent = ev.nextSetup ?? ev.previousSetup;
  return wObj([
    ['PreviousEpoch', containerJson(es.previous)],
    ['CurrentEpoch', containerJson(es.current)],
    ['NextEpoch', containerJson(es.next)],
    ['EpochFallbackTriggered', wBool(es.fallbackTriggered)],
    ['PreviousEpochSetup', event(ev.previousSetup, setupJson)],
    ['PreviousEpochCommit', event(ev.previousCommit, commitJson)],
    ['CurrentEpochSetup', setupJson(ev.currentSetup)],
    ['CurrentEpochCommit', event(ev.currentCommit, commitJson)],
    ['NextEpochSetup', event(ev.nextSetup, setupJson)],
    ['NextEpochCommit', event(ev.nextCommit, commitJson)],
    ['CurrentEpochIdentityTable', identityTableJson(ev.currentSetup, es.current, adjacent, ev.nextSetup !== null ? STATUS.joining : STATUS.leaving)],
    ['NextEpochIdentityTable', identityTableJson(ev.nextSetup, es.next, ev.currentSetup, STATUS.leaving)],
  ]);
}

/**
 * The root as a flow-go >= v0.43 node writes its spork-root snapshot (shape C, ACCESS 5): one
 * proposal, the root result with the ID the root seal names (a node computes both alike; they
 * differ only for a root the replay refuses on check 4), FirstSeal = the root seal without approval signatures
 * and LatestSeals = that seal's id, one protocol state entry with the msgpack KV store.
 * `Params.SporkID` is the root block id, as flow-go's bootstrap always sets it (SPEC calls
 * params informational; a root whose params.sporkId differs maps back with the root id).
 */
export function rootSnapshotToFlowJson(root: RootSnapshot): string {
  const h = root.rootBlock.header;
  const rootId = headerId(h);
  const firstSeal: Seal = { ...root.rootSeal, approvalSigs: [] };
  const block = blockJson(h, root.rootBlock.payload);
  const kv = wObj([
    ['Version', wNum(root.kvStore.version)],
    ['Data', wB64(encodeKVStoreData(root.kvStore))],
  ]);
  const entry = wObj([
    ['KVStore', kv],
    ['EpochEntry', epochEntryJson(root.epochState, root.epochEvents)],
  ]);
  const vb = root.versionBeacon;
  const segment = wObj([
    [
      'Blocks',
      wArr([
        wObj([
          ['Block', block],
          ['ProposerSigData', wB64(h.proposerSigData)],
        ]),
      ]),
    ],
    ['ExtraBlocks', wArr([])],
    ['ExecutionResults', wArr([resultJson(root.rootResult, root.rootSeal.resultId)])],
    ['LatestSeals', wObj([[toHex(rootId), wHex(sealId(firstSeal))]])],
    ['FirstSeal', sealJson(firstSeal)],
    ['ProtocolStateEntries', wObj([[toHex(root.rootBlock.payload.protocolStateId), entry]])],
    ['SporkRootBlock', block],
  ]);
  return wObj([
    ['SealingSegment', segment],
    [
      'QuorumCertificate',
      wObj([
        ['View', wNum(h.view)],
        ['BlockID', wHex(rootId)],
        ['SignerIndices', W_NULL],
        ['SigData', W_NULL],
      ]),
    ],
    [
      'Params',
      wObj([
        ['ChainID', wStr(root.params.chainId)],
        ['SporkID', wHex(rootId)],
        ['SporkRootBlockHeight', wNum(root.params.sporkRootHeight)],
        ['SporkRootBlockView', wNum(root.params.sporkRootView)],
      ]),
    ],
    ['SealedVersionBeacon', vb === null ? W_NULL : wObj([...versionBeaconEntries(vb.beacon), ['SealHeight', wNum(vb.sealHeight)]])],
  ]);
}
