// SPEC 2.2 payload hash: SHA3-256 over the four element-id roots and the protocol state id.
import { sha3 } from './hash.js';
import { guaranteeId, receiptStubId, resultId, sealId } from './ids.js';
import { idsRoot } from './trie.js';
import type { Id, Payload } from './types.js';

export interface PayloadIds {
  guaranteeIds: Id[];
  sealIds: Id[];
  receiptIds: Id[];
  resultIds: Id[];
}

export function payloadElementIds(p: Payload): PayloadIds {
  return {
    guaranteeIds: p.guarantees.map(guaranteeId),
    sealIds: p.seals.map(sealId),
    receiptIds: p.receipts.map(receiptStubId),
    resultIds: p.results.map(resultId),
  };
}

export function payloadRoots(ids: PayloadIds): [Id, Id, Id, Id] {
  return [idsRoot(ids.guaranteeIds), idsRoot(ids.sealIds), idsRoot(ids.receiptIds), idsRoot(ids.resultIds)];
}

/** root(guarantees) ‖ root(seals) ‖ root(receipts) ‖ root(results) ‖ protocolStateId: 160 raw bytes. */
export function payloadHashFromRoots(roots: readonly Id[], protocolStateId: Id): Id {
  const data = new Uint8Array(160);
  for (let i = 0; i < 4; i++) data.set(roots[i], i * 32);
  data.set(protocolStateId, 128);
  return sha3(data);
}

export function payloadHash(p: Payload): Id {
  return payloadHashFromRoots(payloadRoots(payloadElementIds(p)), p.protocolStateId);
}
