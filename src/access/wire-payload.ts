// wire.ts, the payload part: guarantees, seals, receipts, execution results (chunks, service
// events), straight from the wire into the model; `BAIL` on anything outside the regular shape.
import type { ApprovalSig, Bytes, Chunk, Guarantee, Id, ReceiptStub, Result, Seal, ServiceEvent, U64 } from '../model/types.js';
import { serviceEventFromPayload } from './events.js';
import { BAIL, EMPTY, bytesField, expect, fresh, id32, lengthEnd, once, skip, varint32, varint64, W } from './wire-reader.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const UINT16_MAX = 0xffff;

export function guarantee(end: number): Guarantee {
  const e = lengthEnd(end);
  let collectionId: Id | null = null;
  let referenceBlockId: Id | null = null;
  let signature: Bytes = EMPTY;
  let signerIndices: Bytes = EMPTY;
  let clusterChainId = '';
  let seen = 0;
  while (W.pos < e) {
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
        clusterChainId = utf8.decode(W.u8.subarray(W.pos, se));
      } catch {
        throw BAIL;
      }
      W.pos = se;
    } else if (f === 2 || f === 5) {
      expect(w, 2); // signatures (legacy copy), signer_ids (deprecated): not mapped
      skip(w, e);
    } else skip(w, e);
  }
  if (W.pos !== e || collectionId === null || referenceBlockId === null) throw BAIL;
  return { collectionId, referenceBlockId, clusterChainId, signerIndices: fresh(signerIndices), signature: fresh(signature) };
}

function approvalSig(end: number): ApprovalSig {
  const e = lengthEnd(end);
  const verifierSignatures: Bytes[] = [];
  const signerIds: Id[] = [];
  while (W.pos < e) {
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
  if (W.pos !== e) throw BAIL;
  return { verifierSignatures, signerIds };
}

export function seal(end: number): Seal {
  const e = lengthEnd(end);
  let blockId: Id | null = null;
  let finalState: Id | null = null;
  let resultId: Id | null = null;
  const approvalSigs: ApprovalSig[] = [];
  let seen = 0;
  while (W.pos < e) {
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
  if (W.pos !== e || blockId === null || finalState === null || resultId === null) throw BAIL;
  return { blockId, resultId, finalState, approvalSigs };
}

export function receipt(end: number): ReceiptStub {
  const e = lengthEnd(end);
  let executorId: Id | null = null;
  let resultId: Id | null = null;
  const spocks: Bytes[] = [];
  let executorSignature: Bytes = EMPTY;
  let seen = 0;
  while (W.pos < e) {
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
  if (W.pos !== e || executorId === null || resultId === null) throw BAIL;
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
  while (W.pos < e) {
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
  if (W.pos !== e || startState === null || eventCollection === null || blockId === null || endState === null) throw BAIL;
  return { collectionIndex, startState, eventCollection, serviceEventCount, blockId, totalComputationUsed, numberOfTransactions, index, endState };
}

function serviceEvent(end: number): ServiceEvent {
  const e = lengthEnd(end);
  let type = '';
  let payload: Buffer = W.buf.subarray(0, 0);
  let seen = 0;
  while (W.pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    if (f === 1) {
      expect(w, 2);
      seen = once(seen, f);
      const se = lengthEnd(e);
      type = W.buf.toString('utf8', W.pos, se);
      W.pos = se;
    } else if (f === 2) {
      expect(w, 2);
      seen = once(seen, f);
      const se = lengthEnd(e);
      payload = W.buf.subarray(W.pos, se);
      W.pos = se;
    } else skip(w, e);
  }
  if (W.pos !== e) throw BAIL;
  try {
    return serviceEventFromPayload(type, payload, 'service_events');
  } catch {
    throw BAIL;
  }
}

export function result(end: number): Result {
  const e = lengthEnd(end);
  let previousResultId: Id | null = null;
  let blockId: Id | null = null;
  const chunks: Chunk[] = [];
  const serviceEvents: ServiceEvent[] = [];
  let executionDataId: Id | null = null;
  let seen = 0;
  while (W.pos < e) {
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
  if (W.pos !== e || previousResultId === null || blockId === null || executionDataId === null) throw BAIL;
  return { previousResultId, blockId, chunks, serviceEvents, executionDataId };
}
