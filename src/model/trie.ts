// root(ids): the compressed binary Patricia trie of SPEC 2.2 (flow-go storage/merkle).
// Keys are read MSB-first, bit 0 left; nodes hashed with BLAKE2b-256 keyed by a one-byte tag.
import { blake2b256, blake2bKeyed } from './hash.js';
import { compareBytes } from './bytes.js';
import type { Id } from './types.js';

const LEAF = 0;
const FULL = 1;
const SHORT = 2;

export const EMPTY_ROOT: Id = blake2b256(new Uint8Array(0));

function bit(key: Uint8Array, i: number): number {
  return (key[i >>> 3] >>> (7 - (i & 7))) & 1;
}

/** Number of leading bits, from bit `from`, that `a` and `b` share (up to `end`). */
function sharedBits(a: Uint8Array, b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && (i & 7) !== 0) {
    if (bit(a, i) !== bit(b, i)) return i - from;
    i++;
  }
  while (i + 8 <= end && a[i >>> 3] === b[i >>> 3]) i += 8;
  while (i < end && bit(a, i) === bit(b, i)) i++;
  return i - from;
}

/** Bits [from, from+n) of `key`, packed MSB-first and zero-padded, written at `out[at..]`. */
function packBits(key: Uint8Array, from: number, n: number, out: Uint8Array, at: number): void {
  const bytes = (n + 7) >>> 3;
  out.fill(0, at, at + bytes);
  for (let j = 0; j < n; j++) if (bit(key, from + j)) out[at + (j >>> 3)] |= 0x80 >>> (j & 7);
}

export function leafHash(value: Uint8Array): Uint8Array {
  return blake2bKeyed(LEAF, value);
}

export function fullHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const data = new Uint8Array(64);
  data.set(left, 0);
  data.set(right, 32);
  return blake2bKeyed(FULL, data);
}

/** Short node over `count` path bits given already packed. */
export function shortHash(count: number, packedPath: Uint8Array, child: Uint8Array): Uint8Array {
  const data = new Uint8Array(2 + packedPath.length + 32);
  data[0] = count >>> 8;
  data[1] = count & 0xff;
  data.set(packedPath, 2);
  data.set(child, 2 + packedPath.length);
  return blake2bKeyed(SHORT, data);
}

/**
 * Root over raw (key, value) pairs, all keys of one length; a repeated key keeps its last value.
 */
export function trieRoot(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Id {
  if (entries.length === 0) return EMPTY_ROOT;
  const last = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) last.set(Buffer.from(entries[i][0]).toString('latin1'), i);
  const order = [...last.values()].sort((a, b) => compareBytes(entries[a][0], entries[b][0]));
  const keys = order.map((i) => entries[i][0]);
  const values = order.map((i) => entries[i][1]);
  const keyBits = keys[0].length * 8;
  for (const k of keys) if (k.length * 8 !== keyBits) throw new RangeError('trie: keys of different lengths');
  return node(keys, values, 0, keys.length, 0, keyBits);
}

function node(keys: Uint8Array[], values: Uint8Array[], lo: number, hi: number, depth: number, keyBits: number): Uint8Array {
  if (depth === keyBits) return leafHash(values[lo]);
  const shared = sharedBits(keys[lo], keys[hi - 1], depth, keyBits);
  if (shared > 0) {
    const child = node(keys, values, lo, hi, depth + shared, keyBits);
    const packed = new Uint8Array((shared + 7) >>> 3);
    packBits(keys[lo], depth, shared, packed, 0);
    return shortHash(shared, packed, child);
  }
  let mid = lo;
  while (bit(keys[mid], depth) === 0) mid++;
  return fullHash(node(keys, values, lo, mid, depth + 1, keyBits), node(keys, values, mid, hi, depth + 1, keyBits));
}

const positions: Uint8Array[] = [];
function positionValue(i: number): Uint8Array {
  let v = positions[i];
  if (v === undefined) {
    v = new Uint8Array(8);
    new DataView(v.buffer).setUint32(4, i);
    positions[i] = v;
  }
  return v;
}

/** SPEC 2.2 root(ids): key = id, value = its list position as 8-byte big-endian. */
export function idsRoot(ids: readonly Id[]): Id {
  if (ids.length === 0) return EMPTY_ROOT;
  return trieRoot(ids.map((id, i) => [id, positionValue(i)] as const));
}
