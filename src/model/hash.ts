// The two hash primitives of SPEC 1.3 and 2.2 behind one small module, so the backend of each
// can be chosen by measurement (see README "Hash backends"). Callers never import a backend.
import { hash as nodeHash } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake2bTag } from './blake2b.js';
import { sha3Backend, sha3Wasm } from './sha3.js';

/** Below this many bytes the WebAssembly Keccak wins (node:crypto's ~1 µs per-call overhead). */
const SHA3_WASM_BELOW = 1024;
const useWasm = sha3Backend === 'wasm';

/**
 * FIPS 202 SHA3-256 (not Keccak-256). Small inputs (most ids: 100-600 bytes of RLP) go to the
 * WebAssembly Keccak of sha3.ts (1.2-2.6x faster there), larger ones to node:crypto's one-shot.
 */
export function sha3(data: Uint8Array): Uint8Array {
  if (useWasm && data.length < SHA3_WASM_BELOW) return sha3Wasm(data);
  return nodeHash('sha3-256', data, 'buffer');
}

const KEYS = [Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2)] as const;

/**
 * BLAKE2b-256 keyed with the one-byte node tag (0 leaf, 1 full, 2 short): SPEC 2.2. Inputs up
 * to one block use the precomputed keyed states of blake2b.ts (~30x faster than a general
 * call); longer ones (short nodes of keys over 90 bytes) use @noble/hashes.
 */
export function blake2bKeyed(tag: 0 | 1 | 2, data: Uint8Array): Uint8Array {
  if (data.length > 0 && data.length <= 128) return blake2bTag(tag, data, data.length);
  return blake2b(data, { key: KEYS[tag], dkLen: 32 });
}

/** The reference: @noble/hashes for every input (tests compare the fast path against it). */
export function blake2bKeyedReference(tag: 0 | 1 | 2, data: Uint8Array): Uint8Array {
  return blake2b(data, { key: KEYS[tag], dkLen: 32 });
}

/** Plain (unkeyed) BLAKE2b-256. */
export function blake2b256(data: Uint8Array): Uint8Array {
  return blake2b(data, { dkLen: 32 });
}
