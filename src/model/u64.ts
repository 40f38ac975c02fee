// Unsigned 64-bit integers as `number` (<= 2^53-1) or `bigint` (above), always normalised so
// that `===` compares values. Comparison operators (<, <=, >, >=) already work across the two.
import type { U64 } from './types.js';

export const U64_MAX = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Normalise a bigint or integral number to the canonical U64 form. */
export function u64(x: number | bigint): U64 {
  if (typeof x === 'number') {
    if (Number.isSafeInteger(x) && x >= 0) return x;
    if (!Number.isInteger(x) || x < 0) throw new RangeError(`not a u64: ${x}`);
    x = BigInt(x);
  }
  if (x < 0n || x > U64_MAX) throw new RangeError(`not a u64: ${x}`);
  return x <= SAFE ? Number(x) : x;
}

export function isU64(x: unknown): x is U64 {
  if (typeof x === 'number') return Number.isSafeInteger(x) && x >= 0;
  return typeof x === 'bigint' && x > SAFE && x <= U64_MAX;
}

/** Exact sum (SPEC 1.1: no wrap-around); may exceed 2^64-1 only on non-conformant input (SPEC 9.21). */
export function add(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= Number.MAX_SAFE_INTEGER) return s;
  }
  const s = BigInt(a) + BigInt(b);
  return s <= SAFE ? Number(s) : s;
}

export function sub(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const s = BigInt(a) - BigInt(b);
  return s <= SAFE && s >= -SAFE ? Number(s) : s;
}

export function mul(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const p = a * b;
    if (p <= Number.MAX_SAFE_INTEGER) return p;
  }
  const p = BigInt(a) * BigInt(b);
  return p <= SAFE ? Number(p) : p;
}

export function cmp(a: U64, b: U64): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toText(x: U64): string {
  return x.toString();
}

/** Parses a decimal string or number (JSON form: numbers below 2^53, strings above). */
export function fromJson(x: unknown): U64 {
  if (typeof x === 'number') return u64(x);
  if (typeof x === 'string' && /^[0-9]+$/.test(x)) return u64(BigInt(x));
  throw new TypeError(`not a u64: ${JSON.stringify(x)}`);
}

/** JSON form: a number when safe, a decimal string above 2^53-1. */
export function toJson(x: U64): number | string {
  return typeof x === 'number' ? x : x.toString();
}
