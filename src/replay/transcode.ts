// Transcoding integrity kernel: the facts of one stored record (what blockFacts(record,
// decodeStoredRecord(bytes)) computes: same ids, same reason texts) read straight off the
// canonical MessagePack (SPEC 7.1). Each preimage (SPEC 2.1, 2.2) is written as RLP from the
// MessagePack fields into one reusable buffer and hashed there; no model objects are built,
// except for the rare service events (decoded with the model codec, which also writes their
// preimages). Returns null whenever the bytes are not the plain canonical shape handled here;
// the caller then takes the model path, which owns every decode-error rule.
import { DecodeError, decodeFramed } from '../model/codec.js';
import { bytesEqual, toHex, ZERO } from '../model/bytes.js';
import { sha3 } from '../model/hash.js';
import { writeServiceEvent } from '../model/ids.js';
import { payloadHashFromRoots } from '../model/payload.js';
import { RlpWriter } from '../model/rlp.js';
import { scanValue } from '../model/msgpack.js';
import * as S from '../model/schema.js';
import { sha3Backend, sha3Wasm } from '../model/sha3.js';
import { idsRoot } from '../model/trie.js';
import type { Id, ServiceEvent } from '../model/types.js';
import { detached, type BlockFacts, type LinkHeader, type ResultFact, type SealFact } from './facts.js';
import { bail, Transcoder, UNHANDLED } from './transcode-core.js';

const t = new Transcoder();
const eventWriter = new RlpWriter(4096);
/** The schema node of Result.serviceEvents: its decoder is the one the model path uses. */
const SERVICE_EVENTS = S.Result.fields[3][1];
/**
 * Preimages shorter than this go to the WebAssembly Keccak directly: measured on the synth
 * workload it beats hash.ts's choice (node:crypto from 1 KiB) for results of 1-1.5 KiB.
 */
const WASM_BELOW = sha3Backend === 'wasm' ? 1536 : 0;

function sha3Of(data: Uint8Array): Id {
  return data.length < WASM_BELOW ? sha3Wasm(data) : sha3(data);
}

// Offsets (into the record) of the 32-byte values the facts keep, by slot: claimed id, parentId,
// protocolStateId, then blockId and resultId of each seal, then blockId of each result.
const CLAIMED = 0;
const PARENT = 1;
const PROTOCOL_STATE = 2;
const FIRST_SEAL = 3;
let keep = new Int32Array(256);
let kept = FIRST_SEAL;

function keepAt(slot: number, at: number): void {
  if (slot >= keep.length) {
    const next = new Int32Array(keep.length * 2);
    next.set(keep);
    keep = next;
  }
  keep[slot] = at;
}

// Header values the link header needs (offsets of their MessagePack values).
let chainAt = 0;
let chainLen = 0;
let heightAt = 0;
let timestampAt = 0;
let viewAt = 0;
let parentViewAt = 0;
let tcViewAt = -1;
let qcViewAt = -1;
let payloadHashAt = 0;
let computedHeaderId: Id = ZERO;

// ---------------------------------------------------------------- SPEC 2.1 header

/** The hash of the top-level list opened at the current output position; the output is rewound. */
function hashTop(from: number): Id {
  const start = t.closeTop();
  const id = sha3Of(t.out.subarray(start, t.op));
  t.op = from;
  return id;
}

/** QC = [u(view), id(blockId), s(signerIndices), s(sigData)]; returns the offset of its view. */
function qc(): number {
  t.record(4);
  t.open(2);
  const view = t.pos;
  t.uint();
  t.id();
  t.bin();
  t.bin();
  t.close();
  return view;
}

/** ID(lastViewTC), written to the output after the header's partial preimage and hashed there. */
function timeoutCertificateId(): Id {
  const from = t.op;
  t.record(5);
  t.openTop();
  tcViewAt = t.pos;
  t.uint();
  const n = t.listLen();
  t.open(1);
  for (let i = 0; i < n; i++) t.uint();
  t.close();
  qcViewAt = qc();
  t.bin();
  t.bin();
  return hashTop(from);
}

/**
 * Archive order: chainId, parentId, height, timestamp, view, parentView, parentVoterIndices,
 * parentVoterSigData, proposerId, lastViewTC, payloadHash, proposerSigData. Preimage order moves
 * payloadHash to 4th place (a hole filled once it is read) and ends with tcId.
 */
function header(): void {
  t.record(12);
  t.openTop();
  chainAt = t.str();
  chainLen = t.lastLength;
  keepAt(PARENT, t.id());
  heightAt = t.pos;
  t.uint();
  const payloadHashSlot = t.hole(33);
  timestampAt = t.pos;
  t.uint();
  viewAt = t.pos;
  t.uint();
  parentViewAt = t.pos;
  t.uint();
  t.bin();
  t.bin();
  t.id();
  if (t.nil()) {
    tcViewAt = -1;
    qcViewAt = -1;
    t.copyId(ZERO, 0);
  } else {
    t.copyId(timeoutCertificateId(), 0);
  }
  payloadHashAt = t.skipId();
  t.fillId(payloadHashSlot, payloadHashAt);
  t.skipBin(); // proposerSigData: carried, not hashed
  computedHeaderId = hashTop(0);
}

// ---------------------------------------------------------------- SPEC 2.2 payload elements

/** [id, id, s(clusterChainId), s(signerIndices), s(signature)] */
function guarantee(): void {
  t.record(5);
  t.id();
  t.id();
  t.str();
  t.bin();
  t.bin();
}

/** [[s(verifierSignature)...], [id(signerId)...]] */
function approvalSig(): void {
  t.record(2);
  t.open(2);
  let n = t.listLen();
  t.open(2);
  for (let i = 0; i < n; i++) t.bin();
  t.close();
  n = t.listLen();
  t.open(2);
  for (let i = 0; i < n; i++) t.id();
  t.close();
  t.close();
}

/** [id(blockId), id(resultId), id(finalState), [approvalSig...]]; keeps blockId and resultId. */
function seal(slot: number): void {
  t.record(4);
  keepAt(slot, t.id());
  keepAt(slot + 1, t.id());
  t.id();
  const n = t.listLen();
  t.open(3);
  for (let i = 0; i < n; i++) approvalSig();
  t.close();
}

/** Archive [executorId, resultId, spocks, executorSignature]; preimage [[id, id, [s...]], s]. */
function receiptStub(): void {
  t.record(4);
  t.open(2);
  t.id();
  t.id();
  const n = t.listLen();
  t.open(2);
  for (let i = 0; i < n; i++) t.bin();
  t.close();
  t.close();
  t.bin();
}

/** Preimage [[u, id, id, u16, id, u, u], u(index), id(endState)]: both lists are 56..255 bytes. */
function chunk(): void {
  t.record(9);
  t.open(2);
  t.open(2);
  t.uint();
  t.id();
  t.id();
  t.u16();
  t.id();
  t.uint();
  t.uint();
  t.close();
  t.uint();
  t.id();
  t.close();
}

/**
 * The result's service events: decoded by the model codec (every rule of SPEC 2.3 and 9.6 in
 * one place), their preimages written by the model's writers and copied in.
 */
function serviceEvents(): ServiceEvent[] {
  const start = t.pos;
  if (start < t.end && t.buf[start] === 0x90) {
    t.pos++;
    t.emptyList();
    return [];
  }
  const end = scanValue(t.buf, start, t.end);
  if (end < 0) bail();
  let events: ServiceEvent[];
  try {
    events = decodeFramed<ServiceEvent[]>(t.buf, start, end, SERVICE_EVENTS);
  } catch (e) {
    if (e instanceof DecodeError) bail();
    throw e;
  }
  t.pos = end;
  t.open(3);
  for (const e of events) {
    writeServiceEvent(eventWriter.reset(), e);
    t.raw(eventWriter.finish());
  }
  t.close();
  return detached(events);
}

/** [id(previousResultId), id(blockId), [chunk...], [serviceEvent...], id(executionDataId)] */
function result(slot: number): ServiceEvent[] {
  t.record(5);
  t.id();
  keepAt(slot, t.id());
  const n = t.listLen();
  t.open(3);
  for (let i = 0; i < n; i++) chunk();
  t.close();
  const events = serviceEvents();
  t.id();
  return events;
}

function guaranteeIds(): Id[] {
  const n = t.listLen();
  const ids: Id[] = new Array(n);
  for (let i = 0; i < n; i++) {
    t.openTop();
    guarantee();
    ids[i] = hashTop(0);
  }
  return ids;
}

function sealIds(): Id[] {
  const n = t.listLen();
  const ids: Id[] = new Array(n);
  for (let i = 0; i < n; i++) {
    t.openTop();
    seal(FIRST_SEAL + 2 * i);
    ids[i] = hashTop(0);
  }
  kept = FIRST_SEAL + 2 * n;
  return ids;
}

function receiptIds(): Id[] {
  const n = t.listLen();
  const ids: Id[] = new Array(n);
  for (let i = 0; i < n; i++) {
    t.openTop();
    receiptStub();
    ids[i] = hashTop(0);
  }
  return ids;
}

/** Result ids, and each result's events in `eventsOut`. */
function resultIds(eventsOut: ServiceEvent[][]): Id[] {
  const n = t.listLen();
  const ids: Id[] = new Array(n);
  for (let i = 0; i < n; i++) {
    t.openTop();
    eventsOut.push(result(kept + i));
    ids[i] = hashTop(0);
  }
  kept += n;
  return ids;
}

function isZeroAt(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (b[at + i] !== 0) return false;
  return true;
}

function equalAt(id: Id, b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (id[i] !== b[at + i]) return false;
  return true;
}

// ---------------------------------------------------------------- facts

let lastChainBytes = new Uint8Array(0);
let lastChainId = '';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The chain id string (validated UTF-8); consecutive records share one string. */
function chainIdString(): string {
  const b = t.buf;
  const n = chainLen;
  if (n === lastChainBytes.length) {
    let same = true;
    for (let i = 0; i < n; i++)
      if (b[chainAt + i] !== lastChainBytes[i]) {
        same = false;
        break;
      }
    if (same) return lastChainId;
  }
  lastChainBytes = b.slice(chainAt, chainAt + n);
  lastChainId = utf8.decode(lastChainBytes);
  return lastChainId;
}

function linkHeader(ids: Uint8Array): LinkHeader {
  return {
    chainId: chainIdString(),
    parentId: ids.subarray(PARENT * 32, PARENT * 32 + 32),
    height: t.u64At(heightAt),
    view: t.u64At(viewAt),
    parentView: t.u64At(parentViewAt),
    timestamp: t.u64At(timestampAt),
    tc: tcViewAt < 0 ? null : { view: t.u64At(tcViewAt), newestQCView: t.u64At(qcViewAt) },
  };
}

// Kept ids are copied into a shared slab (a fresh ArrayBuffer per block costs more than the
// copying): a block's ids are one range of it, and a slab is replaced when full.
const SLAB_BYTES = 16384;
let slab = new Uint8Array(SLAB_BYTES);
let slabView = new DataView(slab.buffer);
let slabUsed = 0;

/** The kept 32-byte values, copied out of the record into one range of the slab. */
function keptIds(): Uint8Array {
  const n = 32 * kept;
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, n));
    slabView = new DataView(slab.buffer);
    slabUsed = 0;
  }
  const base = slabUsed;
  slabUsed += n;
  for (let k = 0; k < kept; k++) t.copyIdTo(keep[k], slabView, base + 32 * k);
  return slab.subarray(base, base + n);
}

function idAt(ids: Uint8Array, slot: number): Id {
  return ids.subarray(32 * slot, 32 * slot + 32);
}

function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function transcode(record: number, bytes: Uint8Array): BlockFacts {
  t.load(bytes);
  kept = FIRST_SEAL;
  t.record(4);
  keepAt(CLAIMED, t.skipId());
  header();
  t.record(5);
  const guaranteesRoot = idsRoot(guaranteeIds());
  const sealsRoot = idsRoot(sealIds());
  const sealSlots = kept - FIRST_SEAL;
  const receiptsRoot = idsRoot(receiptIds());
  const events: ServiceEvent[][] = [];
  const results = resultIds(events);
  const roots = [guaranteesRoot, sealsRoot, receiptsRoot, idsRoot(results)];
  const psAt = t.skipId();
  if (isZeroAt(t.buf, psAt)) bail();
  keepAt(PROTOCOL_STATE, psAt);
  const finalized = t.bool();
  if (t.pos !== t.end) bail();

  const ids = keptIds();
  const claimed = idAt(ids, CLAIMED);
  const protocolStateId = idAt(ids, PROTOCOL_STATE);
  const payloadHash = payloadHashFromRoots(roots, protocolStateId);
  const sealFacts: SealFact[] = new Array(sealSlots / 2);
  for (let i = 0; i < sealFacts.length; i++) {
    sealFacts[i] = { blockId: idAt(ids, FIRST_SEAL + 2 * i), resultId: idAt(ids, FIRST_SEAL + 2 * i + 1) };
  }
  const resultFacts: ResultFact[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    resultFacts[i] = { id: results[i], blockId: idAt(ids, FIRST_SEAL + sealSlots + i), events: events[i] };
  }
  return {
    record,
    id: claimed,
    finalized,
    decodeError: null,
    header: linkHeader(ids),
    idMismatch: bytesEqual(computedHeaderId, claimed) ? null : `ID(header) = ${toHex(computedHeaderId)}`,
    payloadMismatch: equalAt(payloadHash, t.buf, payloadHashAt) ? null : `recomputed payload hash ${toHex(payloadHash)}`,
    protocolStateId,
    seals: sealFacts,
    results: resultFacts,
  };
}

/**
 * The facts of one stored record, computed from its canonical MessagePack bytes: exactly
 * blockFacts(record, decodeStoredRecord(bytes)), or null when the bytes are anything but the
 * plain canonical shape handled here (the caller then takes the model path).
 */
export function transcodeFacts(record: number, bytes: Uint8Array): BlockFacts | null {
  try {
    return transcode(record, plain(bytes));
  } catch (e) {
    if (e === UNHANDLED) return null;
    throw e;
  } finally {
    t.release();
  }
}
