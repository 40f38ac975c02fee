// Binary keys of the LMDB store (layout in README "Store layout"). Integers are big-endian so
// that LMDB's bytewise key order is numeric order; a C reader can build the same keys.
import type { U64 } from '../model/types.js';

/** Heights and views above 2^64-1 cannot occur; u64 as 8 big-endian bytes. */
export function writeU64(out: Uint8Array, at: number, x: U64): void {
  if (typeof x === 'number') {
    // a U64 held as a number is a safe integer (below 2^53): two 32-bit halves, no BigInt
    const hi = Math.floor(x / 0x100000000);
    const lo = x >>> 0;
    out[at] = hi >>> 24;
    out[at + 1] = (hi >>> 16) & 0xff;
    out[at + 2] = (hi >>> 8) & 0xff;
    out[at + 3] = hi & 0xff;
    out[at + 4] = lo >>> 24;
    out[at + 5] = (lo >>> 16) & 0xff;
    out[at + 6] = (lo >>> 8) & 0xff;
    out[at + 7] = lo & 0xff;
    return;
  }
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(at, x);
}

export function readU64(b: Uint8Array, at: number): U64 {
  const hi = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  const lo = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function u64Key(x: U64): Buffer {
  const k = Buffer.allocUnsafe(8);
  writeU64(k, 0, x);
  return k;
}

/**
 * Report order key: height | view | id (SPEC 7.2 order). Records whose header does not decode
 * sort after all others by their global record number: 0xff * 16 | record (8) | 0 * 32.
 */
export function orderKey(height: U64 | null, view: U64 | null, id: Uint8Array | null, record: number): Buffer {
  const k = Buffer.alloc(48);
  if (height === null || view === null) {
    k.fill(0xff, 0, 16);
    writeU64(k, 16, record);
    return k;
  }
  writeU64(k, 0, height);
  writeU64(k, 8, view);
  if (id) k.set(id, 16);
  return k;
}

export function concatKey(a: Uint8Array, b: Uint8Array): Buffer {
  const k = Buffer.allocUnsafe(a.length + b.length);
  k.set(a, 0);
  k.set(b, a.length);
  return k;
}
