// ACCESS.md 3: a gRPC `flow.entities.Block` (full form, flow-go >= v0.43) ↔ a SPEC block record
// `[blockId, header, payload, finalized]`; the 6.6 stops for values the model cannot hold or that
// cannot come from a v0.43+ node; the 3.4 recomputation check.
import { bytesEqual } from '../model/bytes.js';
import { headerId } from '../model/ids.js';
import { payloadHash } from '../model/payload.js';
import type {
  ApprovalSig,
  BlockRecord,
  Bytes,
  Chunk,
  Guarantee,
  Header,
  Id,
  Payload,
  QC,
  ReceiptStub,
  Result,
  Seal,
  ServiceEvent,
  TimeoutCertificate,
  U64,
} from '../model/types.js';
import { u64, U64_MAX } from '../model/u64.js';
import { MappingError } from './errors.js';
import { serviceEventFromPayload, serviceEventToFlowJson } from './events.js';
import type {
  AggregatedSignatureMsg,
  BlockHeaderMsg,
  BlockMsg,
  BlockSealMsg,
  ChunkMsg,
  CollectionGuaranteeMsg,
  ExecutionReceiptMetaMsg,
  ExecutionResultMsg,
  QuorumCertificateMsg,
  ServiceEventMsg,
  TimeoutCertificateMsg,
  TimestampMsg,
  WireBlockResponse,
  WireSubscribeBlocksResponse,
} from './grpc.js';

/** The response is for another height than asked (3.4): a transport or server fault, retried by the caller. */
export class HeightMismatch extends Error {
  constructor(
    readonly requested: bigint,
    readonly received: bigint,
  ) {
    super(`block.block_header.height: the node answered height ${received} for height ${requested}`);
    this.name = 'HeightMismatch';
  }
}

const UINT32_MAX = 0xffffffff;
const UINT16_MAX = 0xffff;
/** What a pre-v0.43 node sent for a nil `*uint16` ServiceEventCount (ACCESS 1.3 item 4). */
const PRE_V043_NIL_COUNT = 0xffff0000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------- field conversions (message → model)

function id32(b: Buffer, path: string): Id {
  if (b.length !== 32) throw new MappingError(path, `${b.length} bytes, expected 32`);
  return new Uint8Array(b);
}

function bytes(b: Buffer): Bytes {
  return new Uint8Array(b);
}

function uint64(s: string, path: string): U64 {
  if (!/^[0-9]+$/.test(s)) throw new MappingError(path, `${JSON.stringify(s)} is not a uint64`);
  const v = BigInt(s);
  if (v > U64_MAX) throw new MappingError(path, `${s} is beyond uint64`);
  return u64(v);
}

function uint32(n: number, path: string): number {
  if (!Number.isInteger(n) || n < 0 || n > UINT32_MAX) throw new MappingError(path, `${n} is not a uint32`);
  return n;
}

function present<T>(m: T | null | undefined, path: string, what: string): T {
  if (m === null || m === undefined) throw new MappingError(path, `missing (${what})`);
  return m;
}

/** Unix ms (3.1): the sender builds the Timestamp from whole milliseconds. */
function timestampMs(t: TimestampMsg | null, path: string): U64 {
  const ts = present(t, path, 'a block header needs its timestamp');
  if (!/^-?[0-9]+$/.test(ts.seconds)) throw new MappingError(`${path}.seconds`, `${JSON.stringify(ts.seconds)} is not an int64`);
  const seconds = BigInt(ts.seconds);
  if (seconds < 0n) throw new MappingError(`${path}.seconds`, `${seconds} is before 1970`);
  if (!Number.isInteger(ts.nanos) || ts.nanos < 0 || ts.nanos > 999_999_999) {
    throw new MappingError(`${path}.nanos`, `${ts.nanos} is outside 0..999999999`);
  }
  if (ts.nanos % 1_000_000 !== 0) {
    throw new MappingError(`${path}.nanos`, `${ts.nanos} is not whole milliseconds (pre-v0.43 data: not supported)`);
  }
  const ms = seconds * 1000n + BigInt(ts.nanos / 1_000_000);
  if (ms > U64_MAX) throw new MappingError(path, `${ms} ms is beyond uint64`);
  return u64(ms);
}

function serviceEventCount(n: number, path: string): number {
  if (n === PRE_V043_NIL_COUNT) throw new MappingError(path, '0xffff0000 is the pre-v0.43 "nil" sentinel (pre-v0.43 data: not supported)');
  uint32(n, path);
  if (n > UINT16_MAX) throw new MappingError(path, `${n} is beyond uint16 (65535)`);
  return n;
}

function clusterChainId(b: Buffer, path: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new MappingError(path, 'not valid UTF-8');
  }
}

// ---------------------------------------------------------------- message → model

function qcFrom(q: QuorumCertificateMsg | null, path: string): QC {
  const m = present(q, path, 'a timeout certificate needs its highest_qc');
  return {
    view: uint64(m.view, `${path}.view`),
    blockId: id32(m.block_id, `${path}.block_id`),
    signerIndices: bytes(m.signer_indices),
    sigData: bytes(m.sig_data),
  };
}

function tcFrom(t: TimeoutCertificateMsg | null, path: string): TimeoutCertificate | null {
  if (t === null || t === undefined) return null;
  return {
    view: uint64(t.view, `${path}.view`),
    newestQCViews: t.high_qc_views.map((v, i) => uint64(v, `${path}.high_qc_views[${i}]`)),
    newestQC: qcFrom(t.highest_qc, `${path}.highest_qc`),
    signerIndices: bytes(t.signer_indices),
    sigData: bytes(t.sig_data),
  };
}

function headerFrom(h: BlockHeaderMsg, path: string): Header {
  return {
    chainId: h.chain_id,
    parentId: id32(h.parent_id, `${path}.parent_id`),
    height: uint64(h.height, `${path}.height`),
    timestamp: timestampMs(h.timestamp, `${path}.timestamp`),
    view: uint64(h.view, `${path}.view`),
    parentView: uint64(h.parent_view, `${path}.parent_view`),
    parentVoterIndices: bytes(h.parent_voter_indices),
    parentVoterSigData: bytes(h.parent_voter_sig_data),
    proposerId: id32(h.proposer_id, `${path}.proposer_id`),
    lastViewTC: tcFrom(h.last_view_tc, `${path}.last_view_tc`),
    payloadHash: id32(h.payload_hash, `${path}.payload_hash`),
    // not filled from v0.43 (3.1); not hashed
    proposerSigData: new Uint8Array(0),
  };
}

function guaranteeFrom(g: CollectionGuaranteeMsg, path: string): Guarantee {
  return {
    collectionId: id32(g.collection_id, `${path}.collection_id`),
    referenceBlockId: id32(g.reference_block_id, `${path}.reference_block_id`),
    clusterChainId: clusterChainId(g.cluster_chain_id, `${path}.cluster_chain_id`),
    signerIndices: bytes(g.signer_indices),
    signature: bytes(g.signature),
  };
}

function approvalSigFrom(a: AggregatedSignatureMsg, path: string): ApprovalSig {
  return {
    verifierSignatures: a.verifier_signatures.map(bytes),
    signerIds: a.signer_ids.map((s, i) => id32(s, `${path}.signer_ids[${i}]`)),
  };
}

function sealFrom(s: BlockSealMsg, path: string): Seal {
  return {
    blockId: id32(s.block_id, `${path}.block_id`),
    resultId: id32(s.result_id, `${path}.result_id`),
    finalState: id32(s.final_state, `${path}.final_state`),
    approvalSigs: s.aggregated_approval_sigs.map((a, i) => approvalSigFrom(a, `${path}.aggregated_approval_sigs[${i}]`)),
  };
}

function receiptFrom(r: ExecutionReceiptMetaMsg, path: string): ReceiptStub {
  return {
    executorId: id32(r.executor_id, `${path}.executor_id`),
    resultId: id32(r.result_id, `${path}.result_id`),
    spocks: r.spocks.map(bytes),
    executorSignature: bytes(r.executor_signature),
  };
}

function chunkFrom(c: ChunkMsg, path: string): Chunk {
  return {
    collectionIndex: uint32(c.CollectionIndex, `${path}.CollectionIndex`),
    startState: id32(c.start_state, `${path}.start_state`),
    eventCollection: id32(c.event_collection, `${path}.event_collection`),
    serviceEventCount: serviceEventCount(c.service_event_count, `${path}.service_event_count`),
    blockId: id32(c.block_id, `${path}.block_id`),
    totalComputationUsed: uint64(c.total_computation_used, `${path}.total_computation_used`),
    numberOfTransactions: uint32(c.number_of_transactions, `${path}.number_of_transactions`),
    index: uint64(c.index, `${path}.index`),
    endState: id32(c.end_state, `${path}.end_state`),
  };
}

function resultFrom(r: ExecutionResultMsg, path: string): Result {
  return {
    previousResultId: id32(r.previous_result_id, `${path}.previous_result_id`),
    blockId: id32(r.block_id, `${path}.block_id`),
    chunks: r.chunks.map((c, i) => chunkFrom(c, `${path}.chunks[${i}]`)),
    serviceEvents: r.service_events.map((e, i) => serviceEventFromPayload(e.type, e.payload, `${path}.service_events[${i}].payload`)),
    executionDataId: id32(r.execution_data_id, `${path}.execution_data_id`),
  };
}

function payloadFrom(b: BlockMsg): Payload {
  return {
    guarantees: b.collection_guarantees.map((g, i) => guaranteeFrom(g, `block.collection_guarantees[${i}]`)),
    seals: b.block_seals.map((s, i) => sealFrom(s, `block.block_seals[${i}]`)),
    receipts: b.execution_receipt_metaList.map((r, i) => receiptFrom(r, `block.execution_receipt_metaList[${i}]`)),
    results: b.execution_result_list.map((r, i) => resultFrom(r, `block.execution_result_list[${i}]`)),
    protocolStateId: id32(b.protocol_state_id, 'block.protocol_state_id'),
  };
}

/**
 * The block record of one `BlockResponse.block` (ACCESS 3.1, 3.2), lists in received order,
 * `finalized = true` (every by-height or FINALIZED/SEALED-stream block is finalized, 6.1).
 * Throws HeightMismatch when the header is for another height than `requestedHeight`, and
 * MappingError naming the field for anything 6.6 stops on.
 */
export function blockRecordFromMessage(b: BlockMsg | null, requestedHeight: bigint): BlockRecord {
  const block = present(b, 'block', 'the response holds no block');
  const h = present(block.block_header, 'block.block_header', 'the light block form has no header: ask with full_block_response = true');
  const height = uint64(h.height, 'block.block_header.height');
  if (BigInt(height) !== requestedHeight) throw new HeightMismatch(requestedHeight, BigInt(height));
  return {
    blockId: id32(block.id, 'block.id'),
    header: headerFrom(h, 'block.block_header'),
    payload: payloadFrom(block),
    finalized: true,
  };
}

/**
 * The record of a GetBlockByHeight response as the fetch reads it (grpc.ts `wireBlockResponse`):
 * decoded straight from the wire (wire.ts), with the height check of `blockRecordFromMessage`,
 * or mapped from the message when the bytes were not of the regular shape.
 */
export function recordOfWireResponse(w: WireBlockResponse, requestedHeight: bigint): BlockRecord {
  if ('message' in w) return blockRecordFromMessage(w.message.block, requestedHeight);
  const got = BigInt(w.fast.record.header.height);
  if (got !== requestedHeight) throw new HeightMismatch(requestedHeight, got);
  return w.fast.record;
}

/** The record of one subscription message (grpc.ts `subscribeBlockRecords`), and its height. */
export function recordOfWireStreamMessage(w: WireSubscribeBlocksResponse): { height: bigint; map: () => BlockRecord } {
  if ('record' in w) {
    const rec = w.record;
    return { height: BigInt(rec.header.height), map: () => rec };
  }
  const b = w.message.block;
  const height = BigInt(b?.block_header?.height ?? b?.height ?? '0');
  return { height, map: () => blockRecordFromMessage(b, height) };
}

// ---------------------------------------------------------------- model → message (what a v0.43+ node sends)

function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

const EMPTY = Buffer.alloc(0);

function timestampOf(ms: U64): TimestampMsg {
  const t = BigInt(ms);
  return { seconds: (t / 1000n).toString(), nanos: Number(t % 1000n) * 1_000_000 };
}

function qcMessage(q: QC): QuorumCertificateMsg {
  return { view: String(q.view), block_id: buf(q.blockId), signer_indices: buf(q.signerIndices), sig_data: buf(q.sigData) };
}

function tcMessage(t: TimeoutCertificate | null): TimeoutCertificateMsg | null {
  if (t === null) return null;
  return {
    view: String(t.view),
    high_qc_views: t.newestQCViews.map(String),
    highest_qc: qcMessage(t.newestQC),
    signer_indices: buf(t.signerIndices),
    sig_data: buf(t.sigData),
  };
}

function headerMessage(id: Id, h: Header): BlockHeaderMsg {
  return {
    id: buf(id),
    parent_id: buf(h.parentId),
    height: String(h.height),
    timestamp: timestampOf(h.timestamp),
    payload_hash: buf(h.payloadHash),
    view: String(h.view),
    parent_voter_ids: [],
    parent_voter_sig_data: buf(h.parentVoterSigData),
    proposer_id: buf(h.proposerId),
    proposer_sig_data: EMPTY,
    chain_id: h.chainId,
    parent_voter_indices: buf(h.parentVoterIndices),
    last_view_tc: tcMessage(h.lastViewTC),
    parent_view: String(h.parentView),
  };
}

function guaranteeMessage(g: Guarantee): CollectionGuaranteeMsg {
  return {
    collection_id: buf(g.collectionId),
    signatures: [buf(g.signature)],
    reference_block_id: buf(g.referenceBlockId),
    signature: buf(g.signature),
    signer_ids: [],
    signer_indices: buf(g.signerIndices),
    cluster_chain_id: Buffer.from(g.clusterChainId, 'utf8'),
  };
}

function sealMessage(s: Seal): BlockSealMsg {
  return {
    block_id: buf(s.blockId),
    // legacy fields: execution_receipt_id carries the result id, the two signature lists are empty
    execution_receipt_id: buf(s.resultId),
    execution_receipt_signatures: [],
    result_approval_signatures: [],
    final_state: buf(s.finalState),
    result_id: buf(s.resultId),
    aggregated_approval_sigs: s.approvalSigs.map((a) => ({ verifier_signatures: a.verifierSignatures.map(buf), signer_ids: a.signerIds.map(buf) })),
  };
}

function receiptMessage(r: ReceiptStub): ExecutionReceiptMetaMsg {
  return { executor_id: buf(r.executorId), result_id: buf(r.resultId), spocks: r.spocks.map(buf), executor_signature: buf(r.executorSignature) };
}

function uint32Of(x: U64, what: string): number {
  if (x > UINT32_MAX) throw new RangeError(`${what} ${x} does not fit the uint32 field of the message`);
  return Number(x);
}

function chunkMessage(c: Chunk): ChunkMsg {
  return {
    CollectionIndex: uint32Of(c.collectionIndex, 'chunk collectionIndex'),
    start_state: buf(c.startState),
    event_collection: buf(c.eventCollection),
    block_id: buf(c.blockId),
    total_computation_used: String(c.totalComputationUsed),
    number_of_transactions: uint32Of(c.numberOfTransactions, 'chunk numberOfTransactions'),
    index: String(c.index),
    end_state: buf(c.endState),
    execution_data_id: EMPTY,
    state_delta_commitment: EMPTY,
    service_event_count: c.serviceEventCount,
  };
}

function serviceEventMessage(e: ServiceEvent): ServiceEventMsg {
  return { type: e.type, payload: Buffer.from(serviceEventToFlowJson(e), 'utf8') };
}

function resultMessage(r: Result): ExecutionResultMsg {
  return {
    previous_result_id: buf(r.previousResultId),
    block_id: buf(r.blockId),
    chunks: r.chunks.map(chunkMessage),
    service_events: r.serviceEvents.map(serviceEventMessage),
    execution_data_id: buf(r.executionDataId),
  };
}

/**
 * The full `Block` message a v0.43+ node sends for a record: fields 1-4 duplicated from the
 * header, `signatures = [parent_voter_sig_data]`, the header with its id and no
 * proposer_sig_data, the legacy seal fields, event payloads as Go encoding/json text. Throws
 * (RangeError from events.ts) for an event type a flow-go node cannot serve.
 */
export function blockMessageFromRecord(rec: BlockRecord): BlockMsg {
  const h = rec.header;
  const p = rec.payload;
  return {
    id: buf(rec.blockId),
    parent_id: buf(h.parentId),
    height: String(h.height),
    timestamp: timestampOf(h.timestamp),
    collection_guarantees: p.guarantees.map(guaranteeMessage),
    block_seals: p.seals.map(sealMessage),
    signatures: [buf(h.parentVoterSigData)],
    execution_receipt_metaList: p.receipts.map(receiptMessage),
    execution_result_list: p.results.map(resultMessage),
    block_header: headerMessage(rec.blockId, h),
    protocol_state_id: buf(p.protocolStateId),
  };
}

/** ACCESS 3.4: does the record recompute the id and payload hash it claims? */
export function checkRecord(rec: BlockRecord): { idMatches: boolean; payloadHashMatches: boolean } {
  return {
    idMatches: bytesEqual(headerId(rec.header), rec.blockId),
    payloadHashMatches: bytesEqual(payloadHash(rec.payload), rec.header.payloadHash),
  };
}
