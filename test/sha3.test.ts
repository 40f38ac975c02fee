import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { sha3Backend, sha3Wasm } from '../src/model/sha3.js';

function reference(data: Uint8Array): string {
  return createHash('sha3-256').update(data).digest('hex');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

test('sha3Wasm: backend loaded and passed its self-check', () => {
  assert.equal(sha3Backend, 'wasm');
});

test('sha3Wasm: FIPS 202 known answers (empty, "abc")', () => {
  assert.equal(hex(sha3Wasm(new Uint8Array(0))), 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  assert.equal(hex(sha3Wasm(Uint8Array.of(0x61, 0x62, 0x63))), '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532');
});

test('sha3Wasm: boundary lengths match node:crypto', () => {
  const lengths = [0, 1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, 134, 135, 136, 137, 271, 272, 273, 300, 407, 408, 409, 5000];
  for (const n of lengths) {
    const d = randomBytes(n);
    assert.equal(hex(sha3Wasm(d)), reference(d), `length ${n}`);
  }
});

test('sha3Wasm: random lengths 0..2000 match node:crypto', () => {
  for (let k = 0; k < 2000; k++) {
    const d = randomBytes(randomInt(0, 2001));
    assert.equal(hex(sha3Wasm(d)), reference(d), `length ${d.length}`);
  }
});

test('sha3Wasm: fresh output, input untouched, subarray inputs, interleaved long inputs', () => {
  const big = randomBytes(300_000); // forces memory growth
  const copy = Buffer.from(big);
  const a = sha3Wasm(Uint8Array.of(1, 2, 3));
  assert.equal(hex(sha3Wasm(big)), reference(big));
  assert.deepEqual(big, copy);
  const b = sha3Wasm(Uint8Array.of(1, 2, 3));
  assert.equal(a.length, 32);
  assert.notEqual(a.buffer, b.buffer);
  assert.equal(hex(a), hex(b));
  const sub = big.subarray(1234, 1234 + 777);
  assert.equal(hex(sha3Wasm(sub)), reference(sub));
  assert.equal(hex(sha3Wasm(new Uint8Array(0))), reference(new Uint8Array(0)));
});
