// BLAKE2b-256 keyed with a one-byte tag (RFC 7693; the trie node hash of SPEC 2.2), for inputs
// of 1..128 bytes: the key block is compressed once per tag, so every trie node costs exactly
// one compression, where a general-purpose BLAKE2b call re-derives the keyed state each time.
// The compression runs in a tiny generated WebAssembly module (native 64-bit arithmetic), or in
// portable JS where WebAssembly is unavailable; the module checks itself against the JS at load.
import { instantiate, name, section, sleb64, uleb, wasmModule } from './wasm.js';

// BLAKE2b IV as (low, high) 32-bit pairs.
const IV = new Uint32Array([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a, 0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b,
  0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

const SIGMA = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3, 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9,
  4, 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8, 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13, 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14,
  1, 9, 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11, 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10, 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1,
  4, 10, 5, 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2,
  11, 7, 5, 3,
];
const SIGMA2 = new Uint8Array(SIGMA.map((x) => x * 2));

const v = new Uint32Array(32);
const m = new Uint32Array(32);

function add64(a: number, b: number): void {
  const o0 = v[a] + v[b];
  let o1 = v[a + 1] + v[b + 1];
  if (o0 >= 0x100000000) o1++;
  v[a] = o0;
  v[a + 1] = o1;
}

function add64m(a: number, b0: number, b1: number): void {
  const o0 = v[a] + b0;
  let o1 = v[a + 1] + b1;
  if (o0 >= 0x100000000) o1++;
  v[a] = o0;
  v[a + 1] = o1;
}

function G(a: number, b: number, c: number, d: number, ix: number, iy: number): void {
  add64(a, b);
  add64m(a, m[ix], m[ix + 1]);
  let x0 = v[d] ^ v[a];
  let x1 = v[d + 1] ^ v[a + 1];
  v[d] = x1;
  v[d + 1] = x0;
  add64(c, d);
  x0 = v[b] ^ v[c];
  x1 = v[b + 1] ^ v[c + 1];
  v[b] = (x0 >>> 24) ^ (x1 << 8);
  v[b + 1] = (x1 >>> 24) ^ (x0 << 8);
  add64(a, b);
  add64m(a, m[iy], m[iy + 1]);
  x0 = v[d] ^ v[a];
  x1 = v[d + 1] ^ v[a + 1];
  v[d] = (x0 >>> 16) ^ (x1 << 16);
  v[d + 1] = (x1 >>> 16) ^ (x0 << 16);
  add64(c, d);
  x0 = v[b] ^ v[c];
  x1 = v[b + 1] ^ v[c + 1];
  v[b] = (x1 >>> 31) ^ (x0 << 1);
  v[b + 1] = (x0 >>> 31) ^ (x1 << 1);
}

/** One compression of the 128-byte `block` (read from `m`) into `h` with byte counter `t`. */
function compress(h: Uint32Array, t: number, last: boolean): void {
  for (let i = 0; i < 16; i++) {
    v[i] = h[i];
    v[i + 16] = IV[i];
  }
  v[24] ^= t;
  if (last) {
    v[28] = ~v[28];
    v[29] = ~v[29];
  }
  for (let r = 0; r < 12; r++) {
    const s = r * 16;
    G(0, 8, 16, 24, SIGMA2[s], SIGMA2[s + 1]);
    G(2, 10, 18, 26, SIGMA2[s + 2], SIGMA2[s + 3]);
    G(4, 12, 20, 28, SIGMA2[s + 4], SIGMA2[s + 5]);
    G(6, 14, 22, 30, SIGMA2[s + 6], SIGMA2[s + 7]);
    G(0, 10, 20, 30, SIGMA2[s + 8], SIGMA2[s + 9]);
    G(2, 12, 22, 24, SIGMA2[s + 10], SIGMA2[s + 11]);
    G(4, 14, 16, 26, SIGMA2[s + 12], SIGMA2[s + 13]);
    G(6, 8, 18, 28, SIGMA2[s + 14], SIGMA2[s + 15]);
  }
  for (let i = 0; i < 16; i++) h[i] = h[i] ^ v[i] ^ v[i + 16];
}

function loadBlock(data: Uint8Array, len: number): void {
  m.fill(0);
  for (let i = 0; i < len; i++) m[i >>> 2] |= data[i] << (8 * (i & 3));
}

/** State after the key block of BLAKE2b-256 keyed with the one byte `tag`. */
function keyedState(tag: number): Uint32Array {
  const h = new Uint32Array(16);
  h.set(IV);
  h[0] ^= 0x01010000 ^ (1 << 8) ^ 32;
  m.fill(0);
  m[0] = tag;
  compress(h, 128, false);
  return h;
}

const KEYED = [keyedState(0), keyedState(1), keyedState(2)];
const hs = new Uint32Array(16);

/** Portable version of blake2bTag (also used when WebAssembly is unavailable). */
export function blake2bTagJs(tag: 0 | 1 | 2, data: Uint8Array, len: number): Uint8Array {
  if (len > 128 || len === 0) throw new RangeError('blake2bTag: 1..128 bytes');
  hs.set(KEYED[tag]);
  loadBlock(data, len);
  compress(hs, 128 + len, true);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = hs[i >>> 2] >>> (8 * (i & 3));
  return out;
}

// ---- the same final compression as a tiny WebAssembly module (native 64-bit arithmetic) ----
// Memory layout: [0, 64) output state; [64, 192) message block; [256 + 64*tag, ...) the keyed
// states. Export `h(tag, len)`: one final compression of the block from the keyed state.

function wasmModuleBytes(): Uint8Array {
  const TAG = 0;
  const LEN = 1;
  const V = (i: number) => 2 + i;
  const Mx = (j: number) => 18 + j;
  const code: number[] = [];
  const get = (l: number) => code.push(0x20, ...uleb(l));
  const set = (l: number) => code.push(0x21, ...uleb(l));
  const add = () => code.push(0x7c);
  const xor = () => code.push(0x85);
  const rotr = (k: number) => code.push(0x42, ...sleb64(BigInt(k)), 0x8a);
  const load = (offset: number) => code.push(0x29, 3, ...uleb(offset));
  const stateAddr = () => {
    get(TAG);
    code.push(0x41, 6, 0x74); // i32.const 6; i32.shl
  };
  for (let j = 0; j < 16; j++) {
    code.push(0x41, 0); // i32.const 0
    load(64 + 8 * j);
    set(Mx(j));
  }
  for (let i = 0; i < 8; i++) {
    stateAddr();
    load(256 + 8 * i);
    set(V(i));
  }
  for (let i = 0; i < 8; i++) {
    const iv = (BigInt(IV[2 * i + 1]) << 32n) | BigInt(IV[2 * i]);
    code.push(0x42, ...sleb64(BigInt.asIntN(64, iv)));
    set(V(8 + i));
  }
  // v12 ^= 128 + len; v14 = ~v14
  get(V(12));
  get(LEN);
  code.push(0xad); // i64.extend_i32_u
  code.push(0x42, ...sleb64(128n));
  add();
  xor();
  set(V(12));
  get(V(14));
  code.push(0x42, ...sleb64(-1n));
  xor();
  set(V(14));
  // RFC 7693 3.1: G is two half-steps, one per message word, with rotations 32/24 then 16/63
  const half = (a: number, b: number, c: number, d: number, m: number, r1: number, r2: number) => {
    get(V(a));
    get(V(b));
    add();
    get(Mx(m));
    add();
    set(V(a));
    get(V(d));
    get(V(a));
    xor();
    rotr(r1);
    set(V(d));
    get(V(c));
    get(V(d));
    add();
    set(V(c));
    get(V(b));
    get(V(c));
    xor();
    rotr(r2);
    set(V(b));
  };
  const G = (a: number, b: number, c: number, d: number, x: number, y: number) => {
    half(a, b, c, d, x, 32, 24);
    half(a, b, c, d, y, 16, 63);
  };
  for (let r = 0; r < 12; r++) {
    const s = SIGMA.slice(r * 16, r * 16 + 16);
    G(0, 4, 8, 12, s[0], s[1]);
    G(1, 5, 9, 13, s[2], s[3]);
    G(2, 6, 10, 14, s[4], s[5]);
    G(3, 7, 11, 15, s[6], s[7]);
    G(0, 5, 10, 15, s[8], s[9]);
    G(1, 6, 11, 12, s[10], s[11]);
    G(2, 7, 8, 13, s[12], s[13]);
    G(3, 4, 9, 14, s[14], s[15]);
  }
  for (let i = 0; i < 8; i++) {
    code.push(0x41, 0); // address 0
    stateAddr();
    load(256 + 8 * i);
    get(V(i));
    xor();
    get(V(8 + i));
    xor();
    code.push(0x37, 3, ...uleb(8 * i)); // i64.store
  }
  code.push(0x0b);
  const body = [0x01, 32, 0x7e, ...code]; // 32 locals of i64
  return wasmModule(
    section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]),
    section(3, [1, 0]),
    section(5, [1, 0x00, 1]),
    section(7, [2, ...name('h'), 0x00, 0, ...name('mem'), 0x02, 0]),
    section(10, [1, ...uleb(body.length), ...body]),
  );
}

interface WasmBlake {
  h: (tag: number, len: number) => void;
  mem: Uint8Array;
}

function loadWasm(): WasmBlake | null {
  try {
    const exp = instantiate(wasmModuleBytes()) as { h: (tag: number, len: number) => void; mem: { buffer: ArrayBuffer } } | null;
    if (exp === null) return null;
    const mem = new Uint8Array(exp.mem.buffer);
    for (let tag = 0; tag < 3; tag++) {
      const st = KEYED[tag];
      for (let i = 0; i < 64; i++) mem[256 + 64 * tag + i] = st[i >>> 2] >>> (8 * (i & 3));
    }
    const w = { h: exp.h, mem };
    // self-check against the portable version
    const probe = new Uint8Array(77).map((_, i) => (i * 37 + 11) & 0xff);
    mem.fill(0, 64, 192);
    mem.set(probe, 64);
    w.h(2, probe.length);
    const want = blake2bTagJs(2, probe, probe.length);
    for (let i = 0; i < 32; i++) if (mem[i] !== want[i]) return null;
    return w;
  } catch {
    return null;
  }
}

const WASM = loadWasm();

/** BLAKE2b-256 keyed with the one-byte `tag`, over `data[0..len)` (len <= 128, len > 0). */
export function blake2bTag(tag: 0 | 1 | 2, data: Uint8Array, len: number): Uint8Array {
  if (WASM === null) return blake2bTagJs(tag, data, len);
  if (len > 128 || len === 0) throw new RangeError('blake2bTag: 1..128 bytes');
  const mem = WASM.mem;
  for (let i = 0; i < len; i++) mem[64 + i] = data[i];
  mem.fill(0, 64 + len, 192);
  WASM.h(tag, len);
  return mem.slice(0, 32);
}

/** True when the WebAssembly compression is in use. */
export const blake2bBackend: 'wasm' | 'js' = WASM === null ? 'js' : 'wasm';

/**
 * A 128-byte input block to write a node's preimage into in place (the WebAssembly input block
 * when available: no copy), hashed by `hashTagScratch`.
 */
export const tagScratch: Uint8Array = WASM !== null ? WASM.mem.subarray(64, 192) : new Uint8Array(128);

/** BLAKE2b-256 keyed with `tag` over tagScratch[0..len), 1 <= len <= 128. */
export function hashTagScratch(tag: 0 | 1 | 2, len: number): Uint8Array {
  if (WASM === null) return blake2bTagJs(tag, tagScratch, len);
  const mem = WASM.mem;
  mem.fill(0, 64 + len, 192);
  WASM.h(tag, len);
  return mem.slice(0, 32);
}
