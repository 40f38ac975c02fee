// The cursor of the transcoding kernel (transcode.ts): reads canonical MessagePack (SPEC 7.1)
// at `pos` and writes the RLP of each value (SPEC 1.3) at `op` of one reusable output buffer.
// It accepts only the canonical forms the archive writer produces (shortest unsigned integers,
// shortest str/bin/array headers, ids as `bin 8` of 32 bytes, strict UTF-8); anything else
// throws UNHANDLED and the caller falls back to the model decoder, which owns every
// decode-error rule.
import { readU16, readU32 } from '../model/bytes.js';
import type { U64 } from '../model/types.js';

/** Thrown (never as an Error: no stack is captured) when the bytes are not the plain shape handled here. */
export const UNHANDLED: object = Object.freeze({ unhandled: true });

export function bail(): never {
  throw UNHANDLED;
}

const TWO32 = 0x100000000;
const NOTHING = new Uint8Array(0);
const NOTHING_VIEW: DataView = new DataView(NOTHING.buffer);
/** Top-level lists reserve room for a header of up to 4 bytes (payloads below 16 MiB). */
const TOP_RESERVE = 4;
const MAX_DEPTH = 32;

function lengthBytes(n: number): number {
  return n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
}

/** Strict UTF-8 (what a fatal WHATWG decoder accepts): no overlongs, surrogates or code points above U+10FFFF. */
export function utf8Valid(s: Uint8Array, p: number, n: number): boolean {
  const e = p + n;
  let i = p;
  while (i < e && s[i] < 0x80) i++;
  while (i < e) {
    const c = s[i];
    if (c < 0x80) {
      i++;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (i + 1 >= e || (s[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      if (i + 2 >= e) return false;
      const c1 = s[i + 1];
      if (c === 0xe0 ? c1 < 0xa0 || c1 > 0xbf : c === 0xed ? c1 < 0x80 || c1 > 0x9f : (c1 & 0xc0) !== 0x80) return false;
      if ((s[i + 2] & 0xc0) !== 0x80) return false;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      if (i + 3 >= e) return false;
      const c1 = s[i + 1];
      if (c === 0xf0 ? c1 < 0x90 || c1 > 0xbf : c === 0xf4 ? c1 < 0x80 || c1 > 0x8f : (c1 & 0xc0) !== 0x80) return false;
      if ((s[i + 2] & 0xc0) !== 0x80 || (s[i + 3] & 0xc0) !== 0x80) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

export class Transcoder {
  buf: Uint8Array = NOTHING;
  pos = 0;
  end = 0;
  out = new Uint8Array(1 << 16);
  op = 0;
  // Byte copies go through DataViews, four bytes at a time (~3x faster than a byte loop for ids).
  private inView: DataView = NOTHING_VIEW;
  private outView = new DataView(this.out.buffer);
  private readonly starts = new Int32Array(MAX_DEPTH);
  private readonly reserves = new Uint8Array(MAX_DEPTH);
  private depth = 0;
  /** Length of the str/bin payload the last `strAt`/`binAt` header announced. */
  private len = 0;

  load(buf: Uint8Array): void {
    this.buf = buf;
    this.inView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.end = buf.length;
    this.op = 0;
    this.depth = 0;
  }

  /** Drops the reference to the record (it may be a view into a large read buffer). */
  release(): void {
    this.buf = NOTHING;
    this.inView = NOTHING_VIEW;
    this.end = 0;
  }

  // ---------------------------------------------------------------- reading

  /** A record of exactly `n` fields (n < 16: a fixarray). */
  record(n: number): void {
    if (this.pos >= this.end || this.buf[this.pos] !== (0x90 | n)) bail();
    this.pos++;
  }

  /** A canonical array header; returns the element count. */
  listLen(): number {
    const b = this.buf;
    const p = this.pos;
    const t = b[p];
    if (p < this.end && (t & 0xf0) === 0x90) {
      this.pos = p + 1;
      return t & 15;
    }
    if (t === 0xdc && p + 3 <= this.end) {
      const n = readU16(b, p + 1);
      if (n < 16) bail();
      this.pos = p + 3;
      return n;
    }
    if (t === 0xdd && p + 5 <= this.end) {
      const n = readU32(b, p + 1);
      if (n < 0x10000) bail();
      this.pos = p + 5;
      return n;
    }
    return bail();
  }

  /** nil at pos: consumes it and returns true. */
  nil(): boolean {
    if (this.pos < this.end && this.buf[this.pos] === 0xc0) {
      this.pos++;
      return true;
    }
    return false;
  }

  bool(): boolean {
    const t = this.pos < this.end ? this.buf[this.pos] : 0;
    if (t !== 0xc2 && t !== 0xc3) bail();
    this.pos++;
    return t === 0xc3;
  }

  /** A 32-byte id (`c4 20`), not written; returns the offset of its bytes. */
  skipId(): number {
    const p = this.pos;
    if (p + 34 > this.end || this.buf[p] !== 0xc4 || this.buf[p + 1] !== 32) bail();
    this.pos = p + 34;
    return p + 2;
  }

  /** Offset of the payload of the canonical bin at pos; its length in `len`. */
  private binAt(): number {
    const b = this.buf;
    const p = this.pos;
    const t = b[p];
    let n: number;
    let s: number;
    if (t === 0xc4 && p + 2 <= this.end) {
      n = b[p + 1];
      s = p + 2;
    } else if (t === 0xc5 && p + 3 <= this.end) {
      n = readU16(b, p + 1);
      if (n < 0x100) bail();
      s = p + 3;
    } else if (t === 0xc6 && p + 5 <= this.end) {
      n = readU32(b, p + 1);
      if (n < 0x10000) bail();
      s = p + 5;
    } else return bail();
    if (s + n > this.end) bail();
    this.len = n;
    this.pos = s + n;
    return s;
  }

  /** Offset of the payload of the canonical, valid UTF-8 str at pos; its length in `len`. */
  private strAt(): number {
    const b = this.buf;
    const p = this.pos;
    const t = b[p];
    let n: number;
    let s: number;
    if (p < this.end && (t & 0xe0) === 0xa0) {
      n = t & 31;
      s = p + 1;
    } else if (t === 0xd9 && p + 2 <= this.end) {
      n = b[p + 1];
      if (n < 32) bail();
      s = p + 2;
    } else if (t === 0xda && p + 3 <= this.end) {
      n = readU16(b, p + 1);
      if (n < 0x100) bail();
      s = p + 3;
    } else if (t === 0xdb && p + 5 <= this.end) {
      n = readU32(b, p + 1);
      if (n < 0x10000) bail();
      s = p + 5;
    } else return bail();
    if (s + n > this.end || !utf8Valid(b, s, n)) bail();
    this.len = n;
    this.pos = s + n;
    return s;
  }

  skipBin(): void {
    this.binAt();
  }

  /** Byte length of the last str or bin read. */
  get lastLength(): number {
    return this.len;
  }

  /** The value of the canonical uint at p (already validated by `uint`), normalised like the decoder's. */
  u64At(p: number): U64 {
    const b = this.buf;
    const t = b[p];
    if (t < 0x80) return t;
    if (t === 0xcc) return b[p + 1];
    if (t === 0xcd) return readU16(b, p + 1);
    if (t === 0xce) return readU32(b, p + 1);
    const hi = readU32(b, p + 1);
    const lo = readU32(b, p + 5);
    return hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  // ---------------------------------------------------------------- writing

  private room(n: number): void {
    if (this.op + n > this.out.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.out.length * 2;
    while (size < this.op + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.out.subarray(0, this.op));
    this.out = next;
    this.outView = new DataView(next.buffer);
  }

  /** buf[s, s + n) to out[q, q + n). */
  private copyIn(s: number, q: number, n: number): void {
    if (n > 64) {
      this.out.set(this.buf.subarray(s, s + n), q);
      return;
    }
    const src = this.inView;
    const dst = this.outView;
    let i = 0;
    for (; i + 4 <= n; i += 4) dst.setUint32(q + i, src.getUint32(s + i));
    for (; i < n; i++) dst.setUint8(q + i, src.getUint8(s + i));
  }

  /** The 32 bytes at buf[at] to `dst` at q. */
  copyIdTo(at: number, dst: DataView, q: number): void {
    const src = this.inView;
    for (let i = 0; i < 32; i += 4) dst.setUint32(q + i, src.getUint32(at + i));
  }

  /** RLP string of buf[s, s + n). */
  private string(s: number, n: number): void {
    const b = this.buf;
    if (n === 1 && b[s] < 0x80) {
      this.room(1);
      this.out[this.op++] = b[s];
      return;
    }
    this.room(n + 5);
    const o = this.out;
    let q = this.op;
    if (n < 56) {
      o[q++] = 0x80 + n;
    } else {
      const k = lengthBytes(n);
      o[q] = 0xb7 + k;
      for (let i = k, v = n; i >= 1; i--, v >>>= 8) o[q + i] = v & 0xff;
      q += k + 1;
    }
    this.copyIn(s, q, n);
    this.op = q + n;
  }

  /** A canonical uint at pos, as an RLP integer (big-endian, no leading zeros; 0 is 0x80). */
  uint(): void {
    const b = this.buf;
    const p = this.pos;
    const t = b[p];
    this.room(9);
    const o = this.out;
    const q = this.op;
    if (p < this.end && t < 0x80) {
      o[q] = t === 0 ? 0x80 : t;
      this.op = q + 1;
      this.pos = p + 1;
      return;
    }
    let first: number;
    let last: number;
    if (t === 0xcc) {
      if (p + 2 > this.end || b[p + 1] < 0x80) bail();
      first = p + 1;
      last = p + 2;
    } else if (t === 0xcd) {
      if (p + 3 > this.end || b[p + 1] === 0) bail();
      first = p + 1;
      last = p + 3;
    } else if (t === 0xce) {
      if (p + 5 > this.end) bail();
      first = b[p + 1] !== 0 ? p + 1 : p + 2;
      if (b[first] === 0) bail();
      last = p + 5;
    } else if (t === 0xcf) {
      if (p + 9 > this.end) bail();
      first = p + 1;
      while (first < p + 5 && b[first] === 0) first++;
      if (first === p + 5) bail();
      last = p + 9;
    } else return bail();
    const n = last - first;
    o[q] = 0x80 + n;
    for (let i = 0; i < n; i++) o[q + 1 + i] = b[first + i];
    this.op = q + 1 + n;
    this.pos = last;
  }

  /** A uint of at most 16 bits (fixint, uint 8, uint 16). */
  u16(): void {
    const t = this.buf[this.pos];
    if (!(t < 0x80 || t === 0xcc || t === 0xcd)) bail();
    this.uint();
  }

  /** A uint of at most 8 bits. */
  u8(): void {
    const t = this.buf[this.pos];
    if (!(t < 0x80 || t === 0xcc)) bail();
    this.uint();
  }

  /** A 32-byte id as the RLP string `a0 ‖ id`; returns the offset of its bytes in buf. */
  id(): number {
    const p = this.skipId();
    this.room(33);
    const q = this.op;
    this.out[q] = 0xa0;
    this.copyIdTo(p, this.outView, q + 1);
    this.op = q + 33;
    return p;
  }

  /** `a0 ‖ src[at, at + 32)`: an id from anywhere (a computed hash, a field read earlier). */
  copyId(src: Uint8Array, at: number): void {
    this.room(33);
    const o = this.out;
    const q = this.op;
    o[q] = 0xa0;
    for (let i = 0; i < 32; i++) o[q + 1 + i] = src[at + i];
    this.op = q + 33;
  }

  /** Overwrites the 33 bytes at `slot` (reserved with `hole(33)`) with `a0 ‖ buf[at, at + 32)`. */
  fillId(slot: number, at: number): void {
    this.out[slot] = 0xa0;
    this.copyIdTo(at, this.outView, slot + 1);
  }

  /** Reserves n output bytes to be filled later; returns their offset. */
  hole(n: number): number {
    this.room(n);
    const q = this.op;
    this.op = q + n;
    return q;
  }

  bin(): void {
    const s = this.binAt();
    this.string(s, this.len);
  }

  /** A str as an RLP string of its UTF-8 bytes; returns the offset of those bytes in buf. */
  str(): number {
    const s = this.strAt();
    this.string(s, this.len);
    return s;
  }

  /** Already encoded RLP. */
  raw(r: Uint8Array): void {
    this.room(r.length);
    this.out.set(r, this.op);
    this.op += r.length;
  }

  emptyList(): void {
    this.room(1);
    this.out[this.op++] = 0xc0;
  }

  /** Opens a list, leaving `reserve` bytes for its header (a guess: a wrong one costs a move). */
  open(reserve: number): void {
    const d = this.depth++;
    if (d >= MAX_DEPTH) bail();
    this.room(reserve);
    this.starts[d] = this.op;
    this.reserves[d] = reserve;
    this.op += reserve;
  }

  /** Opens a list that will be hashed on its own. */
  openTop(): void {
    this.open(TOP_RESERVE);
  }

  close(): void {
    const d = --this.depth;
    const start = this.starts[d];
    const r = this.reserves[d];
    const len = this.op - start - r;
    const h = len < 56 ? 1 : 1 + lengthBytes(len);
    if (h !== r) this.shift(start + r, h - r);
    this.listHeader(start, len, h);
  }

  /** Closes a list opened with openTop: its header goes right before the payload; returns where the list starts. */
  closeTop(): number {
    const d = --this.depth;
    const start = this.starts[d];
    const r = this.reserves[d];
    const len = this.op - start - r;
    const h = len < 56 ? 1 : 1 + lengthBytes(len);
    if (h > r) {
      this.shift(start + r, h - r);
      this.listHeader(start, len, h);
      return start;
    }
    this.listHeader(start + r - h, len, h);
    return start + r - h;
  }

  /** Moves out[from, op) by `by` bytes (either way). */
  private shift(from: number, by: number): void {
    if (by > 0) this.room(by);
    this.out.copyWithin(from + by, from, this.op);
    this.op += by;
  }

  private listHeader(at: number, len: number, h: number): void {
    const o = this.out;
    if (h === 1) {
      o[at] = 0xc0 + len;
      return;
    }
    o[at] = 0xf7 + h - 1;
    for (let i = h - 1, v = len; i >= 1; i--, v >>>= 8) o[at + i] = v & 0xff;
  }
}
