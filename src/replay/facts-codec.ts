// BlockFacts cross the thread boundary as one transferred ArrayBuffer per batch instead of a
// structured clone of thousands of small objects and byte arrays (which cost more than the
// hashing saved by the worker). Ids decode as views into that buffer. The rare parts that do
// not fit the fixed layout (service events, decode errors, integers above 2^53) travel in a
// v8-serialized side list at the end of the same buffer.
import { deserialize, serialize } from 'node:v8';
import { fromHex } from '../model/bytes.js';
import type { Id, U64 } from '../model/types.js';
import { FieldReader, FieldWriter } from './binary.js';
import type { BlockFacts, LinkHeader, ResultFact } from './facts.js';

const HAS_ID = 1;
const FINALIZED = 2;
const HAS_HEADER = 4;
const DECODE_ERROR = 8;
const ID_MISMATCH = 16;
const PAYLOAD_MISMATCH = 32;
const HAS_PAYLOAD = 64;
/** The header has an integer above 2^53-1: it travels in the side list. */
const HEADER_EXTRA = 128;
const NO_EXTRA = 0xffffffff;

const small = (...xs: U64[]) => xs.every((x) => typeof x === 'number');

/** Encodes a batch (worker side). Reason texts that carry ids are rebuilt from the raw ids. */
export function encodeFacts(batch: BlockFacts[]): ArrayBuffer {
  const w = new FieldWriter(1 << 16);
  const extras: unknown[] = [];
  const extra = (v: unknown) => {
    extras.push(v);
    return extras.length - 1;
  };
  w.u32(0); // offset of the side list, patched below
  w.u32(batch.length);
  for (const f of batch) {
    const h = f.header;
    const headerExtra = h !== null && !(small(h.height, h.view, h.parentView, h.timestamp) && (h.tc === null || small(h.tc.view, h.tc.newestQCView)));
    const flags =
      (f.id ? HAS_ID : 0) |
      (f.finalized ? FINALIZED : 0) |
      (h ? HAS_HEADER : 0) |
      (f.decodeError !== null ? DECODE_ERROR : 0) |
      (f.idMismatch !== null ? ID_MISMATCH : 0) |
      (f.payloadMismatch !== null ? PAYLOAD_MISMATCH : 0) |
      (f.protocolStateId !== null ? HAS_PAYLOAD : 0) |
      (headerExtra ? HEADER_EXTRA : 0);
    w.f64(f.record);
    w.u8(flags);
    if (f.id) w.id(f.id);
    if (h !== null) {
      if (headerExtra) w.u32(extra(h));
      else {
        w.id(h.parentId);
        w.f64(h.height as number);
        w.f64(h.view as number);
        w.f64(h.parentView as number);
        w.f64(h.timestamp as number);
        w.text(h.chainId);
        w.u8(h.tc === null ? 0 : 1);
        if (h.tc !== null) {
          w.f64(h.tc.view as number);
          w.f64(h.tc.newestQCView as number);
        }
      }
    }
    if (f.decodeError !== null) w.u32(extra(f.decodeError));
    if (f.idMismatch !== null) w.id(fromHex(f.idMismatch.slice(-64)));
    if (f.payloadMismatch !== null) w.id(fromHex(f.payloadMismatch.slice(-64)));
    if (f.protocolStateId !== null) w.id(f.protocolStateId);
    w.u16(f.seals.length);
    for (const s of f.seals) {
      w.id(s.blockId);
      w.id(s.resultId);
    }
    w.u16(f.results.length);
    for (const r of f.results) {
      w.id(r.id);
      w.id(r.blockId);
      w.u32(r.events.length === 0 ? NO_EXTRA : extra(r.events));
    }
  }
  const side = extras.length === 0 ? null : serialize(extras);
  w.patchU32(0, side === null ? 0 : w.pos);
  const out = new ArrayBuffer(w.pos + (side?.length ?? 0));
  const o = new Uint8Array(out);
  o.set(w.buf.subarray(0, w.pos));
  if (side !== null) o.set(side, w.pos);
  return out;
}

/** Decodes a batch (main thread); ids are views into `buf`. */
export function decodeFacts(buf: ArrayBuffer): BlockFacts[] {
  const rd = new FieldReader(Buffer.from(buf));
  const sideAt = rd.u32();
  const extras: unknown[] = sideAt === 0 ? [] : deserialize(rd.buf.subarray(sideAt));
  const id = (): Id => rd.idView();
  const f64 = () => rd.f64();
  const u32 = () => rd.u32();
  const u16 = () => rd.u16();
  const n = u32();
  const out: BlockFacts[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const record = f64();
    const flags = rd.u8();
    const blockId = flags & HAS_ID ? id() : null;
    let header: LinkHeader | null = null;
    if (flags & HAS_HEADER) {
      if (flags & HEADER_EXTRA) header = extras[u32()] as LinkHeader;
      else {
        const parentId = id();
        const height = f64();
        const view = f64();
        const parentView = f64();
        const timestamp = f64();
        const chainId = rd.text()!;
        const tc = rd.u8() === 1 ? { view: f64(), newestQCView: f64() } : null;
        header = { chainId, parentId, height, view, parentView, timestamp, tc };
      }
    }
    const decodeError = flags & DECODE_ERROR ? (extras[u32()] as string) : null;
    const idMismatch = flags & ID_MISMATCH ? `ID(header) = ${Buffer.from(id()).toString('hex')}` : null;
    const payloadMismatch = flags & PAYLOAD_MISMATCH ? `recomputed payload hash ${Buffer.from(id()).toString('hex')}` : null;
    const protocolStateId = flags & HAS_PAYLOAD ? id() : null;
    const seals = new Array(u16());
    for (let k = 0; k < seals.length; k++) seals[k] = { blockId: id(), resultId: id() };
    const results: ResultFact[] = new Array(u16());
    for (let k = 0; k < results.length; k++) {
      const rid = id();
      const bid = id();
      const ev = u32();
      results[k] = { id: rid, blockId: bid, events: ev === NO_EXTRA ? [] : (extras[ev] as ResultFact['events']) };
    }
    out[i] = {
      record,
      id: blockId,
      finalized: (flags & FINALIZED) !== 0,
      decodeError,
      header,
      idMismatch,
      payloadMismatch,
      protocolStateId,
      seals,
      results,
    };
  }
  return out;
}
