// The integrity stage (SPEC 6, first table): everything about a block that needs no other
// block. Runs in worker threads; what it returns is all the ordered stage needs, as small
// detached values (no views into the record's buffer, which would drag it along when cloned).
import { bytesEqual, toHex } from '../model/bytes.js';
import { headerId } from '../model/ids.js';
import { payloadElementIds, payloadHashFromRoots, payloadRoots } from '../model/payload.js';
import type { DecodedRecord } from '../model/record.js';
import type { Header, Id, ServiceEvent, U64 } from '../model/types.js';

/** The header fields the linkage check and the report need. */
export interface LinkHeader {
  chainId: string;
  parentId: Id;
  height: U64;
  view: U64;
  parentView: U64;
  timestamp: U64;
  /** lastViewTC's view and newestQC.view; null when there is no TC. */
  tc: { view: U64; newestQCView: U64 } | null;
}

export interface SealFact {
  blockId: Id;
  resultId: Id;
}

export interface ResultFact {
  id: Id;
  blockId: Id;
  /** The result's service events (usually none). */
  events: ServiceEvent[];
}

/** What the ordered stage needs from one stored record. */
export interface BlockFacts {
  /** Global record number (import order). */
  record: number;
  /** The id the record claims (its store key); null when unusable (SPEC 9.4). */
  id: Id | null;
  finalized: boolean;
  /** `field: cause` when the record does not decode into the model. */
  decodeError: string | null;
  /** Present whenever the header decoded, even if the payload did not. */
  header: LinkHeader | null;
  /** Reason texts, null when the check passed (or could not run). */
  idMismatch: string | null;
  payloadMismatch: string | null;
  protocolStateId: Id | null;
  seals: SealFact[];
  results: ResultFact[];
  /** The block's key in the store's order db (where its result is stored); set by the integrity stage. */
  orderKey?: Buffer;
}

export function linkHeader(h: Header): LinkHeader {
  const tc = h.lastViewTC;
  return {
    chainId: h.chainId,
    parentId: h.parentId.slice(),
    height: h.height,
    view: h.view,
    parentView: h.parentView,
    timestamp: h.timestamp,
    tc: tc === null ? null : { view: tc.view, newestQCView: tc.newestQC.view },
  };
}

/** Deep copy whose byte arrays own their memory. */
export function detached<T>(v: T): T {
  if (v instanceof Uint8Array) return v.slice() as T;
  if (Array.isArray(v)) return v.map(detached) as T;
  if (v !== null && typeof v === 'object') {
    const out: any = {};
    for (const k of Object.keys(v)) out[k] = detached((v as any)[k]);
    return out;
  }
  return v;
}

/** Integrity checks of one decoded record: header id, payload element ids, roots, payload hash. */
export function blockFacts(record: number, d: DecodedRecord): BlockFacts {
  const facts: BlockFacts = {
    record,
    id: d.claimedId === null ? null : d.claimedId.slice(),
    finalized: d.finalized,
    decodeError: d.decodeError,
    header: d.header === null ? null : linkHeader(d.header),
    idMismatch: null,
    payloadMismatch: null,
    protocolStateId: null,
    seals: [],
    results: [],
  };
  if (d.decodeError !== null || d.header === null || d.payload === null || d.claimedId === null) return facts;
  const h = d.header;
  const p = d.payload;
  const computedId = headerId(h);
  if (!bytesEqual(computedId, d.claimedId)) facts.idMismatch = `ID(header) = ${toHex(computedId)}`;
  const elementIds = payloadElementIds(p);
  const ph = payloadHashFromRoots(payloadRoots(elementIds), p.protocolStateId);
  if (!bytesEqual(ph, h.payloadHash)) facts.payloadMismatch = `recomputed payload hash ${toHex(ph)}`;
  facts.protocolStateId = p.protocolStateId.slice();
  facts.seals = p.seals.map((s) => ({ blockId: s.blockId.slice(), resultId: s.resultId.slice() }));
  facts.results = p.results.map((r, i) => ({
    id: elementIds.resultIds[i],
    blockId: r.blockId.slice(),
    events: r.serviceEvents.length === 0 ? [] : detached(r.serviceEvents),
  }));
  return facts;
}
