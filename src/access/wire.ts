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
import type { BlockRecord, Bytes, Guarantee, Header, Id, Payload, QC, ReceiptStub, Result, Seal, TimeoutCertificate, U64 } from '../model/types.js';
import { guarantee, receipt, result, seal } from './wire-payload.js';
import { BAIL, EMPTY, bytesField, expect, fresh, id32, lengthEnd, once, skip, skipMessage, varint32, varint64, W } from './wire-reader.js';

const MAX_SAFE_SECONDS = Math.floor((Number.MAX_SAFE_INTEGER - 999) / 1000);

const TIMESTAMP_WIRES = (f: number) => (f === 1 || f === 2 ? 0 : -1);
const EXECUTOR_METADATA_WIRES = (f: number) => (f === 1 || f === 2 ? 2 : -1);

/** google.protobuf.Timestamp → unix ms (whole milliseconds only). */
function timestamp(end: number): U64 {
  const e = lengthEnd(end);
  let seconds: U64 = 0;
  let nanos = 0;
  let seen = 0;
  while (W.pos < e) {
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
  if (W.pos !== e) throw BAIL;
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
  while (W.pos < e) {
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
  if (W.pos !== e || blockId === null) throw BAIL;
  return { view, blockId, signerIndices: fresh(signerIndices), sigData: fresh(sigData) };
}

function tc(end: number): TimeoutCertificate {
  const e = lengthEnd(end);
  let view: U64 = 0;
  const newestQCViews: U64[] = [];
  let newestQC: QC | null = null;
  let signerIndices: Bytes = EMPTY;
  let sigData: Bytes = EMPTY;
  let seen = 0;
  while (W.pos < e) {
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
        while (W.pos < pe) newestQCViews.push(varint64(pe));
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
  if (W.pos !== e || newestQC === null) throw BAIL;
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
  while (W.pos < e) {
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
        chainId = W.buf.toString('utf8', W.pos, se);
        W.pos = se;
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
  if (W.pos !== e || parentId === null || ts === null || payloadHash === null || proposerId === null) throw BAIL;
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

/** One `Block` message (length-delimited, at `W.pos`) → the record. */
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
  while (W.pos < e) {
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
  if (W.pos !== e || blockId === null || hdr === null || protocolStateId === null) throw BAIL;
  const payload: Payload = { guarantees, seals, receipts, results, protocolStateId };
  return { blockId, header: hdr, payload, finalized: true };
}

function begin(b: Buffer): void {
  W.buf = b;
  W.u8 = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  W.pos = 0;
}

const NO_BUFFER = Buffer.alloc(0);

function end(): void {
  W.buf = NO_BUFFER;
  W.u8 = EMPTY;
}

/** `BlockResponse` bytes → the record and `metadata.latest_finalized_height`, or null: not the regular shape. */
export function fastBlockResponse(b: Buffer): { record: BlockRecord; latestFinalizedHeight: U64 | null } | null {
  begin(b);
  try {
    const len = b.length;
    let record: BlockRecord | null = null;
    let latest: U64 | null = null;
    let seen = 0;
    while (W.pos < len) {
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
    while (W.pos < len) {
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
  while (W.pos < e) {
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
  if (W.pos !== e) throw BAIL;
  return latest;
}
