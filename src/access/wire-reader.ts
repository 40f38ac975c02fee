// The byte reader of wire.ts (one message at a time, in `W`): protobuf varints, lengths, byte
// fields and skips, each giving up with `BAIL` on anything outside the regular shape.
import type { Bytes, Id, U64 } from '../model/types.js';
import { u64 } from '../model/u64.js';

/** The message being read: `u8` a plain Uint8Array view (copies by `slice` are plain Uint8Arrays), `buf` the Buffer (strings), `pos` the offset. */
export const W: { u8: Uint8Array; buf: Buffer; pos: number } = { u8: new Uint8Array(0), buf: Buffer.alloc(0), pos: 0 };

/** Not the regular shape: the general decoder decides. */
class Bail {
  readonly bail = true;
}
export const BAIL = new Bail();

export const EMPTY = new Uint8Array(0);

export function varint32(end: number): number {
  // tags, lengths, uint32 fields: at most 5 bytes and below 2^32, else bail
  let x = 0;
  for (let shift = 0, i = 0; i < 5; i++, shift += 7) {
    if (W.pos >= end) throw BAIL;
    const c = W.u8[W.pos++]!;
    x += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) {
      if (x > 0xffffffff) throw BAIL;
      return x;
    }
  }
  throw BAIL;
}

/** A uint64 varint, exactly. */
export function varint64(end: number): U64 {
  const start = W.pos;
  let x = 0;
  let s = 1;
  for (let i = 0; i < 7; i++) {
    if (W.pos >= end) throw BAIL;
    const c = W.u8[W.pos++]!;
    x += (c & 0x7f) * s;
    if (c < 0x80) return x;
    s *= 128;
  }
  // 8 to 10 bytes: above 2^49
  W.pos = start;
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (W.pos >= end) throw BAIL;
    const c = W.u8[W.pos++]!;
    if (i === 9 && c > 1) throw BAIL; // beyond 2^64: protobufjs would cut it, the general path decides
    v |= BigInt(c & 0x7f) << BigInt(7 * i);
    if (c < 0x80) return u64(v);
  }
  throw BAIL;
}

/** The end of a length-delimited field whose length is next. */
export function lengthEnd(end: number): number {
  const len = varint32(end);
  const e = W.pos + len;
  if (e > end) throw BAIL;
  return e;
}

export function bytesField(end: number): Bytes {
  const e = lengthEnd(end);
  const b = e === W.pos ? new Uint8Array(0) : W.u8.slice(W.pos, e);
  W.pos = e;
  return b;
}

export function id32(end: number): Id {
  const e = lengthEnd(end);
  if (e - W.pos !== 32) throw BAIL;
  const b = W.u8.slice(W.pos, e);
  W.pos = e;
  return b;
}

export function skip(wire: number, end: number): void {
  switch (wire) {
    case 0:
      for (let i = 0; ; i++) {
        if (W.pos >= end || i >= 10) throw BAIL;
        if (W.u8[W.pos++]! < 0x80) return;
      }
    case 1:
      W.pos += 8;
      break;
    case 2:
      W.pos = lengthEnd(end);
      return;
    case 5:
      W.pos += 4;
      break;
    default:
      throw BAIL; // groups, wire types 6 and 7
  }
  if (W.pos > end) throw BAIL;
}

/** A field of a message that ends at `end`: its number, its wire type checked against `want` (or any when -1). */
export function expect(wire: number, want: number): void {
  if (wire !== want) throw BAIL;
}

/** Seen-once bookkeeping for the non-repeated fields of one message (bit = field number). */
export function once(seen: number, field: number): number {
  const bit = 1 << field;
  if (seen & bit) throw BAIL;
  return seen | bit;
}

/** A message field that is only read for its shape (every field skipped by wire type). */
export function skipMessage(end: number, wireOf: (field: number) => number): void {
  const e = lengthEnd(end);
  while (W.pos < e) {
    const tag = varint32(e);
    const f = Math.floor(tag / 8);
    const w = tag & 7;
    const want = wireOf(f);
    if (want >= 0) expect(w, want);
    skip(w, e);
  }
  if (W.pos !== e) throw BAIL;
}

/** An absent bytes field: a new empty array per record (as the general path gives). */
export function fresh(b: Bytes): Bytes {
  return b === EMPTY ? new Uint8Array(0) : b;
}
