// Byte helpers shared by every layer: ids are 32-byte Uint8Arrays, lowercase hex in text.
import type { Id } from './types.js';

export const ZERO: Id = new Uint8Array(32);

/** Buffer's own hex encoder, which takes any Uint8Array (no Buffer view to make per call). */
const hexSlice = (Buffer.prototype as unknown as { hexSlice?: (this: Uint8Array, start: number, end: number) => string }).hexSlice;

export function toHex(b: Uint8Array): string {
  if (hexSlice !== undefined) return hexSlice.call(b, 0, b.length);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  const b = parseHex(s);
  if (b === null) throw new TypeError(`not hex: ${s.slice(0, 80)}`);
  return b;
}

/** The bytes (a plain Uint8Array of their own) of a hex string in either case; null if it is not one. */
export function parseHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const decoded = Buffer.from(s, 'hex');
  const out = new Uint8Array(decoded.length);
  out.set(decoded);
  return out;
}

/** Big-endian unsigned 16-bit integer at p. */
export function readU16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Big-endian unsigned 32-bit integer at p. */
export function readU32(b: Uint8Array, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Bytewise order (-1, 0, 1), the canonical order of node ids. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Short form used in human-readable reasons: first 8 bytes as hex. */
export function shortId(id: Uint8Array): string {
  return toHex(id.subarray(0, 8));
}

/** The bytes as a latin1 string: a cheap exact Map or Set key. */
export function bytesKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** A growable byte buffer: write at `pos`, `ensure` room first. Reuse one with `reset()`. */
export class GrowableBytes {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 4096) {
    this.buf = this.alloc(Math.max(16, initialSize));
  }

  /** A new backing buffer of n bytes (subclasses may want a Buffer). */
  protected alloc(n: number): Uint8Array {
    return new Uint8Array(n);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = this.alloc(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }

  /** A view of the bytes written so far (valid until the next write or reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
