// Hash backends measured side by side (issue 2/5): ops/s for the input sizes the replay hashes.
// Run: node dist/bench/hashes.js
import { createHash, hash as oneShot } from 'node:crypto';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake2bBackend, blake2bTag, blake2bTagJs } from '../src/model/blake2b.js';
import { sha3Backend, sha3Wasm } from '../src/model/sha3.js';

function rate(fn: () => void, ms = 400): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return Math.round(n / (ms / 1000));
}

const rows: [string, string, number][] = [];
for (const size of [100, 600, 1500]) {
  const d = new Uint8Array(size).map((_, i) => i);
  rows.push(['SHA3-256', `node:crypto hash() one-shot, ${size} B`, rate(() => oneShot('sha3-256', d, 'buffer'))]);
  rows.push(['SHA3-256', `node:crypto createHash, ${size} B`, rate(() => createHash('sha3-256').update(d).digest())]);
  rows.push(['SHA3-256', `@noble/hashes sha3_256, ${size} B`, rate(() => sha3_256(d))]);
  if (sha3Backend === 'wasm') rows.push(['SHA3-256', `generated WebAssembly Keccak, ${size} B`, rate(() => sha3Wasm(d))]);
}
const key = Uint8Array.of(2);
for (const size of [8, 66, 64]) {
  const d = new Uint8Array(size).map((_, i) => i * 7);
  const tag = size === 8 ? 0 : size === 64 ? 1 : 2;
  rows.push(['BLAKE2b-256 keyed', `@noble/hashes blake2b, ${size} B`, rate(() => blake2b(d, { key, dkLen: 32 }))]);
  rows.push(['BLAKE2b-256 keyed', `precomputed key state, JS, ${size} B`, rate(() => blake2bTagJs(tag as 0 | 1 | 2, d, size))]);
  rows.push(['BLAKE2b-256 keyed', `precomputed key state, ${blake2bBackend}, ${size} B`, rate(() => blake2bTag(tag as 0 | 1 | 2, d, size))]);
}
for (const [alg, what, ops] of rows) console.log(`${alg.padEnd(18)} ${what.padEnd(44)} ${ops.toLocaleString('en-US').padStart(12)} ops/s`);
