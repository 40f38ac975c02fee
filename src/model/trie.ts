// root(ids): the compressed binary Patricia trie of SPEC 2.2 (flow-go storage/merkle).
// Keys are read MSB-first, bit 0 left; nodes hashed with BLAKE2b-256 keyed by a one-byte tag.
import { blake2b256, blake2bKeyed } from './hash.js';
import { hashTagScratch, tagScratch } from './blake2b.js';
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
  const nb = (n + 7) >>> 3;
  const start = from >>> 3;
  const off = from & 7;
  for (let j = 0; j < nb; j++) {
    const k = start + j;
    out[at + j] = off === 0 ? key[k] : ((key[k] << off) | (k + 1 < key.length ? key[k + 1] >>> (8 - off) : 0)) & 0xff;
  }
  const rem = n & 7;
  if (rem !== 0) out[at + nb - 1] &= (0xff00 >>> rem) & 0xff;
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

// ---- root(ids): 32-byte keys, node preimages written in place (the common, hot case) ----

const leafCache: Uint8Array[] = [];

/** Leaf of the value "position i as 8-byte big-endian"; cached (a payload has few positions). */
function leafOf(pos: number): Uint8Array {
  let l = leafCache[pos];
  if (l === undefined) {
    tagScratch.fill(0, 0, 8);
    tagScratch[4] = (pos >>> 24) & 0xff;
    tagScratch[5] = (pos >>> 16) & 0xff;
    tagScratch[6] = (pos >>> 8) & 0xff;
    tagScratch[7] = pos & 0xff;
    l = hashTagScratch(LEAF, 8);
    if (pos < 65536) leafCache[pos] = l;
  }
  return l;
}

/** Leading bits, from bit `from`, shared by the 32-byte keys `a` and `b`. */
function sharedBits32(a: Uint8Array, b: Uint8Array, from: number): number {
  let i = from >>> 3;
  const off = from & 7;
  if (off !== 0) {
    const x = ((a[i] ^ b[i]) << off) & 0xff;
    if (x !== 0) return Math.clz32(x) - 24;
    i++;
  }
  let n = i * 8 - from;
  for (; i < 32; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return n + Math.clz32(x) - 24;
    n += 8;
  }
  return 256 - from;
}

function idNode(keys: Uint8Array[], pos: number[], lo: number, hi: number, depth: number): Uint8Array {
  if (depth === 256) return leafOf(pos[lo]);
  const shared = sharedBits32(keys[lo], keys[hi - 1], depth);
  if (shared > 0) {
    const child = idNode(keys, pos, lo, hi, depth + shared);
    const nb = (shared + 7) >>> 3;
    tagScratch[0] = shared >>> 8;
    tagScratch[1] = shared & 0xff;
    packBits(keys[lo], depth, shared, tagScratch, 2);
    tagScratch.set(child, 2 + nb);
    return hashTagScratch(SHORT, 2 + nb + 32);
  }
  let mid = lo;
  while (bit(keys[mid], depth) === 0) mid++;
  const left = idNode(keys, pos, lo, mid, depth + 1);
  const right = idNode(keys, pos, mid, hi, depth + 1);
  tagScratch.set(left, 0);
  tagScratch.set(right, 32);
  return hashTagScratch(FULL, 64);
}

function compare32(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** SPEC 2.2 root(ids): key = id, value = its list position as 8-byte big-endian. */
export function idsRoot(ids: readonly Id[]): Id {
  const n = ids.length;
  if (n === 0) return EMPTY_ROOT;
  // insertion sort by key (payload lists are short); a repeated id keeps its last position
  const keys: Uint8Array[] = [];
  const pos: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    let j = keys.length;
    let dup = -1;
    while (j > 0) {
      const c = compare32(keys[j - 1], id);
      if (c === 0) {
        dup = j - 1;
        break;
      }
      if (c < 0) break;
      j--;
    }
    if (dup >= 0) {
      pos[dup] = i;
      continue;
    }
    keys.splice(j, 0, id);
    pos.splice(j, 0, i);
  }
  return idNode(keys, pos, 0, keys.length, 0);
}
