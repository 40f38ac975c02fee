// Seeded PRNG (synth, fuzzing, property tests): xoshiro128** (32-bit state words, fast in JS), seeded through
// SHA3-256 of the seed text so any seed (number, bigint or string) gives a well-mixed state.
// Never Math.random: the same seed must give the same sequence (byte-identical archives).
import { sha3 } from '../model/hash.js';

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | bigint | string, stream = '') {
    const h = sha3(new TextEncoder().encode(`spork-replay/synth:${stream}:${String(seed)}`));
    const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
    this.a = dv.getUint32(0) | 0;
    this.b = dv.getUint32(4) | 0;
    this.c = dv.getUint32(8) | 0;
    this.d = dv.getUint32(12) | 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [0, n) (n <= 2^32). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Fills `out` with random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array {
    const n = out.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const x = this.u32();
      out[i] = x >>> 24;
      out[i + 1] = (x >>> 16) & 0xff;
      out[i + 2] = (x >>> 8) & 0xff;
      out[i + 3] = x & 0xff;
    }
    if (i < n) {
      let x = this.u32();
      for (; i < n; i++) {
        out[i] = x & 0xff;
        x >>>= 8;
      }
    }
    return out;
  }

  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** A random element of a non-empty list. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** An independent generator derived from this one's seed material and a label. */
  fork(label: string): Rng {
    return new Rng(`${this.u32()}:${this.u32()}:${this.u32()}:${this.u32()}`, label);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A pool of random bytes that hands out views at random offsets: signatures, collection ids and
 * state commitments look random and differ from block to block without drawing fresh random
 * bytes for each (the bytes are copied when a record is encoded; the pool is never written
 * after construction).
 */
export class BytePool {
  private readonly pool: Uint8Array;

  constructor(
    private readonly rng: Rng,
    size = 1 << 16,
  ) {
    this.pool = rng.bytes(size);
  }

  /** A view of `n` pool bytes at a random offset. */
  take(n: number): Uint8Array {
    const off = this.rng.u32() % (this.pool.length - n);
    return this.pool.subarray(off, off + n);
  }
}
