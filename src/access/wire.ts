// The fetch's decoder of a `flow.entities.Block` on the wire (ACCESS.md 2.4) straight into a SPEC
// block record (ACCESS 3): one pass over the bytes, byte fields copied once, uint64 values read
// exactly (a number up to 2^53-1, a bigint above), no intermediate message objects.
//
// It takes only the regular shape a flow-go >= v0.43 node sends, and gives up (`BAIL`) on
// anything else: a field the mapping would refuse (a 32-byte field of another length, a missing
// header, timestamp or highest_qc, a timestamp that is not whole milliseconds, a count beyond its
// range, an event payload that does not map), a field sent twice, a wire type other than the
// field's, a value a 32-bit field would truncate, a group, a length running past its message.
// Then the general path decides: proto-loader's decoder and `blockRecordFromMessage`, with their
// own answers and error texts. So a record from here is the record the general path gives for
// the same bytes, and every stop or retry is the general path's (test/access.wire.test.ts).
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
import { u64 } from '../model/u64.js';
import { serviceEventFromPayload } from './events.js';

/** Not the regular shape: the general decoder decides. */
class Bail {
  readonly bail = true;
}
const BAIL = new Bail();

const utf8 = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);
const UINT16_MAX = 0xffff;
const MAX_SAFE_SECONDS = Math.floor((Number.MAX_SAFE_INTEGER - 999) / 1000);

/** The bytes being read: `u8` a plain Uint8Array view (copies by `slice` are plain Uint8Arrays), `buf` the Buffer (strings). */
let u8: Uint8Array = EMPTY;
let buf: Buffer = Buffer.alloc(0);
let pos = 0;

function varint32(end: number): number {
  // tags, lengths, uint32 fields: at most 5 bytes and below 2^32, else bail
  let x = 0;
  for (let shift = 0, i = 0; i < 5; i++, shift += 7) {
    if (pos >= end) throw BAIL;
    const c = u8[pos++]!;
    x += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) {
      if (x > 0xffffffff) throw BAIL;
      return x;
    }
  }
  throw BAIL;
}

/** A uint64 varint, exactly. */
function varint64(end: number): U64 {
  const start = pos;
  let x = 0;
  let s = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) throw BAIL;
    const c = u8[pos++]!;
    x += (c & 0x7f) * s;
    if (c < 0x80) return x;
    s *= 128;
  }
  // 8 to 10 bytes: above 2^49
  pos = start;
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw BAIL;
    const c = u8[pos++]!;
    if (i === 9 && c > 1) throw BAIL; // beyond 2^64: protobufjs would cut it, the general path decides
    v |= BigInt(c & 0x7f) << BigInt(7 * i);
    if (c < 0x80) return u64(v);
  }
  throw BAIL;
}

/** The end of a length-delimited field whose length is next. */
function lengthEnd(end: number): number {
  const len = varint32(end);
  const e = pos + len;
  if (e > end) throw BAIL;
  return e;
}

function bytesField(end: number): Bytes {
  const e = lengthEnd(end);
  const b = e === pos ? new Uint8Array(0) : u8.slice(pos, e);
  pos = e;
  return b;
}

function id32(end: number): Id {
  const e = lengthEnd(end);
  if (e - pos !== 32) throw BAIL;
  const b = u8.slice(pos, e);
  pos = e;
  return b;
}

function skip(wire: number, end: number): void {
  switch (wire) {
    case 0:
      for (let i = 0; ; i++) {
        if (pos >= end || i >= 10) throw BAIL;
        if (u8[pos++]! < 0x80) return;
      }
    case 1:
      pos += 8;
      break;
    case 2:
      pos = lengthEnd(end);
      return;
    case 5:
      pos += 4;
      break;
    default:
      throw BAIL; // groups, wire types 6 and 7
  }
  if (pos > end) throw BAIL;
}

/** A field of a message that ends at `end`: its number, its wire type checked against `want` (or any when -1). */
function expect(wire: number, want: number): void {
  if (wire !== want) throw BAIL;
}

/** Seen-once bookkeeping for the non-repeated fields of one message (bit = field number). */
function once(seen: number, field: number): number {
  const bit = 1 << field;
  if (seen & bit) throw BAIL;
  return seen | bit;
}

/** A message field that is only read for its shape (every field skipped by wire type). */
function skipMessage(end: number, wireOf: (field: number) => number): void {
  const e = lengthEnd(end);
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    const want = wireOf(f);
    if (want >= 0) expect(w, want);
    skip(w, e);
  }
  if (pos !== e) throw BAIL;
}

const TIMESTAMP_WIRES = (f: number) => (f === 1 || f === 2 ? 0 : -1);
const EXECUTOR_METADATA_WIRES = (f: number) => (f === 1 || f === 2 ? 2 : -1);

/** google.protobuf.Timestamp → unix ms (whole milliseconds only). */
function timestamp(end: number): U64 {
  const e = lengthEnd(end);
  let seconds: U64 = 0;
  let nanos = 0;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1) {
      expect(w, 0);
      seen = once(seen, 1);
      seconds = varint64(e);
    } else if (f === 2) {
      expect(w, 0);
      seen = once(seen, 2);
      nanos = varint32(e);
    } else skip(w, e);
  }
  if (pos !== e) throw BAIL;
  if (typeof seconds !== 'number' || seconds > MAX_SAFE_SECONDS || nanos > 999_999_999 || nanos % 1_000_000 !== 0) throw BAIL;
  return seconds * 1000 + nanos / 1_000_000;
}

function qc(end: number): QC {
  const e = lengthEnd(end);
  let view: U64 = 0;
  let blockId: Id | null = null;
  let signerIndices: Bytes = EMPTY;
  let sigData: Bytes = EMPTY;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f >= 1 && f <= 4) seen = once(seen, f);
    if (f === 1) {
      expect(w, 0);
      view = varint64(e);
    } else if (f === 2) {
      expect(w, 2);
      blockId = id32(e);
    } else if (f === 3) {
      expect(w, 2);
      signerIndices = bytesField(e);
    } else if (f === 4) {
      expect(w, 2);
      sigData = bytesField(e);
    } else skip(w, e);
  }
  if (pos !== e || blockId === null) throw BAIL;
  return { view, blockId, signerIndices: fresh(signerIndices), sigData: fresh(sigData) };
}

/** An absent bytes field: a new empty array per record (as the general path gives). */
function fresh(b: Bytes): Bytes {
  return b === EMPTY ? new Uint8Array(0) : b;
}

function tc(end: number): TimeoutCertificate {
  const e = lengthEnd(end);
  let view: U64 = 0;
  const newestQCViews: U64[] = [];
  let newestQC: QC | null = null;
  let signerIndices: Bytes = EMPTY;
  let sigData: Bytes = EMPTY;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1 || f === 3 || f === 4 || f === 5) seen = once(seen, f);
    if (f === 1) {
      expect(w, 0);
      view = varint64(e);
    } else if (f === 2) {
      if (w === 2) {
        const pe = lengthEnd(e);
        while (pos < pe) newestQCViews.push(varint64(pe));
      } else {
        expect(w, 0);
        newestQCViews.push(varint64(e));
      }
    } else if (f === 3) {
      expect(w, 2);
      newestQC = qc(e);
    } else if (f === 4) {
      expect(w, 2);
      signerIndices = bytesField(e);
    } else if (f === 5) {
      expect(w, 2);
      sigData = bytesField(e);
    } else skip(w, e);
  }
  if (pos !== e || newestQC === null) throw BAIL;
  return { view, newestQCViews, newestQC, signerIndices: fresh(signerIndices), sigData: fresh(sigData) };
}

function header(end: number): Header {
  const e = lengthEnd(end);
  let parentId: Id | null = null;
  let height: U64 = 0;
  let ts: U64 | null = null;
  let payloadHash: Id | null = null;
  let view: U64 = 0;
  let parentVoterSigData: Bytes = EMPTY;
  let proposerId: Id | null = null;
  let chainId = '';
  let parentVoterIndices: Bytes = EMPTY;
  let lastViewTC: TimeoutCertificate | null = null;
  let parentView: U64 = 0;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    switch (f) {
      case 2:
        expect(w, 2);
        seen = once(seen, f);
        parentId = id32(e);
        break;
      case 3:
        expect(w, 0);
        seen = once(seen, f);
        height = varint64(e);
        break;
      case 4:
        expect(w, 2);
        seen = once(seen, f);
        ts = timestamp(e);
        break;
      case 5:
        expect(w, 2);
        seen = once(seen, f);
        payloadHash = id32(e);
        break;
      case 6:
        expect(w, 0);
        seen = once(seen, f);
        view = varint64(e);
        break;
      case 8:
        expect(w, 2);
        seen = once(seen, f);
        parentVoterSigData = bytesField(e);
        break;
      case 9:
        expect(w, 2);
        seen = once(seen, f);
        proposerId = id32(e);
        break;
      case 11: {
        expect(w, 2);
        seen = once(seen, f);
        const se = lengthEnd(e);
        chainId = buf.toString('utf8', pos, se);
        pos = se;
        break;
      }
      case 12:
        expect(w, 2);
        seen = once(seen, f);
        parentVoterIndices = bytesField(e);
        break;
      case 13:
        expect(w, 2);
        seen = once(seen, f);
        lastViewTC = tc(e);
        break;
      case 14:
        expect(w, 0);
        seen = once(seen, f);
        parentView = varint64(e);
        break;
      case 1:
      case 7:
      case 10:
        expect(w, 2); // id, parent_voter_ids, proposer_sig_data: not mapped (3.1)
        skip(w, e);
        break;
      default:
        skip(w, e);
    }
  }
  if (pos !== e || parentId === null || ts === null || payloadHash === null || proposerId === null) throw BAIL;
  return {
    chainId,
    parentId,
    height,
    timestamp: ts,
    view,
    parentView,
    parentVoterIndices: fresh(parentVoterIndices),
    parentVoterSigData: fresh(parentVoterSigData),
    proposerId,
    lastViewTC,
    payloadHash,
    proposerSigData: new Uint8Array(0),
  };
}

function guarantee(end: number): Guarantee {
  const e = lengthEnd(end);
  let collectionId: Id | null = null;
  let referenceBlockId: Id | null = null;
  let signature: Bytes = EMPTY;
  let signerIndices: Bytes = EMPTY;
  let clusterChainId = '';
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f >= 1 && f <= 7 && f !== 2 && f !== 5) seen = once(seen, f);
    if (f === 1) {
      expect(w, 2);
      collectionId = id32(e);
    } else if (f === 3) {
      expect(w, 2);
      referenceBlockId = id32(e);
    } else if (f === 4) {
      expect(w, 2);
      signature = bytesField(e);
    } else if (f === 6) {
      expect(w, 2);
      signerIndices = bytesField(e);
    } else if (f === 7) {
      expect(w, 2);
      const se = lengthEnd(e);
      try {
        clusterChainId = utf8.decode(u8.subarray(pos, se));
      } catch {
        throw BAIL;
      }
      pos = se;
    } else if (f === 2 || f === 5) {
      expect(w, 2); // signatures (legacy copy), signer_ids (deprecated): not mapped
      skip(w, e);
    } else skip(w, e);
  }
  if (pos !== e || collectionId === null || referenceBlockId === null) throw BAIL;
  return { collectionId, referenceBlockId, clusterChainId, signerIndices: fresh(signerIndices), signature: fresh(signature) };
}

function approvalSig(end: number): ApprovalSig {
  const e = lengthEnd(end);
  const verifierSignatures: Bytes[] = [];
  const signerIds: Id[] = [];
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1) {
      expect(w, 2);
      verifierSignatures.push(bytesField(e));
    } else if (f === 2) {
      expect(w, 2);
      signerIds.push(id32(e));
    } else skip(w, e);
  }
  if (pos !== e) throw BAIL;
  return { verifierSignatures, signerIds };
}

function seal(end: number): Seal {
  const e = lengthEnd(end);
  let blockId: Id | null = null;
  let finalState: Id | null = null;
  let resultId: Id | null = null;
  const approvalSigs: ApprovalSig[] = [];
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1 || f === 5 || f === 6) seen = once(seen, f);
    if (f === 1) {
      expect(w, 2);
      blockId = id32(e);
    } else if (f === 5) {
      expect(w, 2);
      finalState = id32(e);
    } else if (f === 6) {
      expect(w, 2);
      resultId = id32(e);
    } else if (f === 7) {
      expect(w, 2);
      approvalSigs.push(approvalSig(e));
    } else if (f >= 2 && f <= 4) {
      expect(w, 2); // legacy fields: not mapped
      skip(w, e);
    } else skip(w, e);
  }
  if (pos !== e || blockId === null || finalState === null || resultId === null) throw BAIL;
  return { blockId, resultId, finalState, approvalSigs };
}

function receipt(end: number): ReceiptStub {
  const e = lengthEnd(end);
  let executorId: Id | null = null;
  let resultId: Id | null = null;
  const spocks: Bytes[] = [];
  let executorSignature: Bytes = EMPTY;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1 || f === 2 || f === 4) seen = once(seen, f);
    if (f === 1) {
      expect(w, 2);
      executorId = id32(e);
    } else if (f === 2) {
      expect(w, 2);
      resultId = id32(e);
    } else if (f === 3) {
      expect(w, 2);
      spocks.push(bytesField(e));
    } else if (f === 4) {
      expect(w, 2);
      executorSignature = bytesField(e);
    } else skip(w, e);
  }
  if (pos !== e || executorId === null || resultId === null) throw BAIL;
  return { executorId, resultId, spocks, executorSignature: fresh(executorSignature) };
}

function chunk(end: number): Chunk {
  const e = lengthEnd(end);
  let collectionIndex = 0;
  let startState: Id | null = null;
  let eventCollection: Id | null = null;
  let blockId: Id | null = null;
  let totalComputationUsed: U64 = 0;
  let numberOfTransactions = 0;
  let index: U64 = 0;
  let endState: Id | null = null;
  let serviceEventCount = 0;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    switch (f) {
      case 1:
        expect(w, 0);
        seen = once(seen, f);
        collectionIndex = varint32(e);
        break;
      case 2:
        expect(w, 2);
        seen = once(seen, f);
        startState = id32(e);
        break;
      case 3:
        expect(w, 2);
        seen = once(seen, f);
        eventCollection = id32(e);
        break;
      case 4:
        expect(w, 2);
        seen = once(seen, f);
        blockId = id32(e);
        break;
      case 5:
        expect(w, 0);
        seen = once(seen, f);
        totalComputationUsed = varint64(e);
        break;
      case 6:
        expect(w, 0);
        seen = once(seen, f);
        numberOfTransactions = varint32(e);
        break;
      case 7:
        expect(w, 0);
        seen = once(seen, f);
        index = varint64(e);
        break;
      case 8:
        expect(w, 2);
        seen = once(seen, f);
        endState = id32(e);
        break;
      case 11:
        expect(w, 0);
        seen = once(seen, f);
        serviceEventCount = varint32(e);
        if (serviceEventCount > UINT16_MAX) throw BAIL;
        break;
      case 9:
      case 10:
        expect(w, 2); // execution_data_id, state_delta_commitment: unused (3.3)
        skip(w, e);
        break;
      default:
        skip(w, e);
    }
  }
  if (pos !== e || startState === null || eventCollection === null || blockId === null || endState === null) throw BAIL;
  return { collectionIndex, startState, eventCollection, serviceEventCount, blockId, totalComputationUsed, numberOfTransactions, index, endState };
}

function serviceEvent(end: number): ServiceEvent {
  const e = lengthEnd(end);
  let type = '';
  let payload: Buffer = buf.subarray(0, 0);
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1) {
      expect(w, 2);
      seen = once(seen, f);
      const se = lengthEnd(e);
      type = buf.toString('utf8', pos, se);
      pos = se;
    } else if (f === 2) {
      expect(w, 2);
      seen = once(seen, f);
      const se = lengthEnd(e);
      payload = buf.subarray(pos, se);
      pos = se;
    } else skip(w, e);
  }
  if (pos !== e) throw BAIL;
  try {
    return serviceEventFromPayload(type, payload, 'service_events');
  } catch {
    throw BAIL;
  }
}

function result(end: number): Result {
  const e = lengthEnd(end);
  let previousResultId: Id | null = null;
  let blockId: Id | null = null;
  const chunks: Chunk[] = [];
  const serviceEvents: ServiceEvent[] = [];
  let executionDataId: Id | null = null;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1 || f === 2 || f === 5) seen = once(seen, f);
    if (f === 1) {
      expect(w, 2);
      previousResultId = id32(e);
    } else if (f === 2) {
      expect(w, 2);
      blockId = id32(e);
    } else if (f === 3) {
      expect(w, 2);
      chunks.push(chunk(e));
    } else if (f === 4) {
      expect(w, 2);
      serviceEvents.push(serviceEvent(e));
    } else if (f === 5) {
      expect(w, 2);
      executionDataId = id32(e);
    } else skip(w, e);
  }
  if (pos !== e || previousResultId === null || blockId === null || executionDataId === null) throw BAIL;
  return { previousResultId, blockId, chunks, serviceEvents, executionDataId };
}

/** One `Block` message (length-delimited, at `pos`) → the record. */
function block(end: number): BlockRecord {
  const e = lengthEnd(end);
  let blockId: Id | null = null;
  let hdr: Header | null = null;
  let protocolStateId: Id | null = null;
  const guarantees: Guarantee[] = [];
  const seals: Seal[] = [];
  const receipts: ReceiptStub[] = [];
  const results: Result[] = [];
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    switch (f) {
      case 1:
        expect(w, 2);
        seen = once(seen, f);
        blockId = id32(e);
        break;
      case 5:
        expect(w, 2);
        guarantees.push(guarantee(e));
        break;
      case 6:
        expect(w, 2);
        seals.push(seal(e));
        break;
      case 8:
        expect(w, 2);
        receipts.push(receipt(e));
        break;
      case 9:
        expect(w, 2);
        results.push(result(e));
        break;
      case 10:
        expect(w, 2);
        seen = once(seen, f);
        hdr = header(e);
        break;
      case 11:
        expect(w, 2);
        seen = once(seen, f);
        protocolStateId = id32(e);
        break;
      case 2:
      case 7:
        expect(w, 2); // parent_id (a copy of the header's), signatures: not mapped
        skip(w, e);
        break;
      case 3:
        expect(w, 0); // height: a copy of the header's
        skip(w, e);
        break;
      case 4:
        expect(w, 2); // timestamp: a copy of the header's
        skipMessage(e, TIMESTAMP_WIRES);
        break;
      default:
        skip(w, e);
    }
  }
  if (pos !== e || blockId === null || hdr === null || protocolStateId === null) throw BAIL;
  const payload: Payload = { guarantees, seals, receipts, results, protocolStateId };
  return { blockId, header: hdr, payload, finalized: true };
}

function begin(b: Buffer): void {
  buf = b;
  u8 = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  pos = 0;
}

function end(): void {
  buf = Buffer.alloc(0);
  u8 = EMPTY;
}

/** `BlockResponse` bytes → the record and `metadata.latest_finalized_height`, or null: not the regular shape. */
export function fastBlockResponse(b: Buffer): { record: BlockRecord; latestFinalizedHeight: U64 | null } | null {
  begin(b);
  try {
    const len = b.length;
    let record: BlockRecord | null = null;
    let latest: U64 | null = null;
    let seen = 0;
    while (pos < len) {
      const tag = varint32(len);
      const f = Math.floor(tag / 8);
      const w = tag & 7;
      if (f === 1) {
        expect(w, 2);
        seen = once(seen, f);
        record = block(len);
      } else if (f === 2) {
        expect(w, 0);
        skip(w, len);
      } else if (f === 3) {
        expect(w, 2);
        seen = once(seen, f);
        latest = metadataHead(len);
      } else skip(w, len);
    }
    if (record === null) return null;
    return { record, latestFinalizedHeight: latest };
  } catch (e) {
    if (e === BAIL) return null;
    throw e;
  } finally {
    end();
  }
}

/** `SubscribeBlocksResponse` bytes → the record, or null: not the regular shape. */
export function fastSubscribeBlocksResponse(b: Buffer): BlockRecord | null {
  begin(b);
  try {
    const len = b.length;
    let record: BlockRecord | null = null;
    let seen = 0;
    while (pos < len) {
      const tag = varint32(len);
      const f = Math.floor(tag / 8);
      const w = tag & 7;
      if (f === 1) {
        expect(w, 2);
        seen = once(seen, f);
        record = block(len);
      } else skip(w, len);
    }
    return record;
  } catch (e) {
    if (e === BAIL) return null;
    throw e;
  } finally {
    end();
  }
}

/** Metadata.latest_finalized_height (0 when absent, as proto3 gives it); the other fields read for their shape. */
function metadataHead(end: number): U64 {
  const e = lengthEnd(end);
  let latest: U64 = 0;
  let seen = 0;
  while (pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 2) {
      expect(w, 0);
      seen = once(seen, f);
      latest = varint64(e);
    } else if (f === 1 || f === 3) {
      expect(w, 2);
      skip(w, e);
    } else if (f === 4) {
      expect(w, 0);
      varint64(e);
    } else if (f === 5) {
      expect(w, 2);
      skipMessage(e, EXECUTOR_METADATA_WIRES);
    } else skip(w, e);
  }
  if (pos !== e) throw BAIL;
  return latest;
}
