// Seeded random values for any schema node (property tests). Walks src/model/schema.ts and
// respects the content rules the decoder enforces (SPEC 9.2): non-ZERO protocolStateId,
// DKG index maps that are permutations, distinct metering keys, KV store v3 tail iff version 3.
import type { Kind, RecKind, MapKind } from '../../src/model/schema.js';
import { EVENT_BODIES } from '../../src/model/schema.js';
import { u64 as normU64 } from '../../src/model/u64.js';

/** Small fast seeded PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform uint32. */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 0x100000000 ? Math.floor((this.next() / 0x100000000) * n) : Math.floor(Math.random() * n);
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

const TWO32 = 2 ** 32;
/** Boundary values of every MessagePack integer width, around 2^32, 2^53 and 2^64-1. */
export const U64_EDGES: readonly (number | bigint)[] = [
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  TWO32 - 2,
  TWO32 - 1,
  TWO32,
  TWO32 + 1,
  Number.MAX_SAFE_INTEGER - 1,
  Number.MAX_SAFE_INTEGER,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 2n,
  2n ** 64n - 1n,
].map((x) => normU64(x));

export function randomU64(r: Rng): number | bigint {
  switch (r.int(4)) {
    case 0:
      return r.pick(U64_EDGES);
    case 1:
      return r.int(128);
    case 2:
      return r.int(TWO32 * 4);
    default: {
      // random magnitude up to 64 bits
      const bits = 1 + r.int(64);
      let v = (BigInt(r.next()) << 32n) | BigInt(r.next());
      v &= (1n << BigInt(bits)) - 1n;
      return normU64(v);
    }
  }
}

const STR_PIECES = ['a', 'Z', '0', '-', ' ', '.', ':', 'é', 'ß', '中', '文', '😀', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', '\ufeff'];

export function randomStr(r: Rng): string {
  const mode = r.int(10);
  if (mode === 0) return '';
  if (mode === 1) {
    // ASCII around the fixstr/str8/str16 boundaries
    const n = r.pick([31, 32, 47, 48, 255, 256, 300]);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(32 + r.int(95));
    return s;
  }
  if (mode === 2) return '\ufeff' + randomStr(r); // a leading BOM must survive
  const n = r.int(mode < 6 ? 12 : 40);
  let s = '';
  for (let i = 0; i < n; i++) s += mode < 6 ? String.fromCharCode(32 + r.int(95)) : r.pick(STR_PIECES);
  return s;
}

export function randomBytes(r: Rng): Uint8Array {
  const mode = r.int(20);
  if (mode === 0) return r.bytes(r.pick([255, 256, 1000]));
  if (mode === 1) return new Uint8Array(0);
  return r.bytes(r.int(mode < 10 ? 8 : 97));
}

export function randomId(r: Rng): Uint8Array {
  const b = r.bytes(32);
  if (r.chance(0.02)) b.fill(0);
  return b;
}

function nonZeroId(r: Rng): Uint8Array {
  const b = r.bytes(32);
  b[r.int(32)] |= 1;
  return b;
}

function listLength(r: Rng, depth: number): number {
  if (depth > 5) return r.int(2);
  const m = r.int(20);
  if (m < 14) return r.int(4);
  if (m < 19) return 4 + r.int(14); // crosses the fixarray/array16 boundary at 16
  return 15 + r.int(4);
}

/** A random unknown-type event body (SPEC 9.6): ints, str, bin, bool, nil, nested lists. */
export function randomGeneric(r: Rng, depth = 0): any {
  switch (r.int(depth > 3 ? 6 : 8)) {
    case 0:
      return randomU64(r);
    case 1:
      return randomStr(r);
    case 2:
      return randomBytes(r);
    case 3:
      return r.chance(0.5);
    case 4:
      return null;
    case 5:
      return r.int(100);
    default: {
      const n = listLength(r, depth + 2);
      const out = [];
      for (let i = 0; i < n; i++) out.push(randomGeneric(r, depth + 1));
      return out;
    }
  }
}

const EVENT_TYPES = Object.keys(EVENT_BODIES);

export function randomEvent(r: Rng, depth: number): any {
  if (r.chance(0.15)) {
    const type = r.pick(['future-event', 'x', '', 'setup2', 'évènement']);
    return { type, event: randomGeneric(r, depth + 1), unknown: true };
  }
  const type = r.pick(EVENT_TYPES);
  return { type, event: randomValue(EVENT_BODIES[type], r, depth + 1) };
}

/** A random model value of `kind`, valid for the archive decoder. */
export function randomValue(kind: Kind, r: Rng, depth = 0): any {
  switch (kind.k) {
    case 'u64':
      return randomU64(r);
    case 'uint': {
      const max = kind.bits === 32 ? 0xffffffff : (1 << kind.bits) - 1;
      return r.chance(0.3) ? r.pick([0, max, max >>> 1, 127, 128].filter((x) => x <= max)) : r.int(max + 1);
    }
    case 'id':
      return randomId(r);
    case 'bytes':
      return randomBytes(r);
    case 'str':
      return randomStr(r);
    case 'bool':
      return r.chance(0.5);
    case 'opt':
      return r.chance(0.35) ? null : randomValue(kind.of, r, depth + 1);
    case 'list': {
      const n = listLength(r, depth);
      const out = [];
      for (let i = 0; i < n; i++) out.push(randomValue(kind.of, r, depth + 1));
      return out;
    }
    case 'pair':
      return [randomValue(kind.a, r, depth + 1), randomValue(kind.b, r, depth + 1)];
    case 'rec':
      return randomRec(kind, r, depth);
    case 'map':
      return randomMap(kind, r, depth);
    case 'event':
      return randomEvent(r, depth);
    case 'generic':
      return randomGeneric(r, depth);
  }
}

function randomRec(kind: RecKind, r: Rng, depth: number): any {
  const o: Record<string, unknown> = {};
  const tail = kind.optionalTail ?? 0;
  let n = kind.fields.length;
  if (kind.name === 'KVStore') {
    const version = r.chance(0.1) ? 4 + r.int(3) : r.int(4);
    if (version < 3 || (version > 3 && r.chance(0.5))) n -= tail;
    for (let i = 0; i < n; i++) o[kind.fields[i][0]] = randomValue(kind.fields[i][1], r, depth + 1);
    o.version = version;
    return o;
  }
  for (let i = 0; i < n; i++) o[kind.fields[i][0]] = randomValue(kind.fields[i][1], r, depth + 1);
  switch (kind.name) {
    case 'Payload':
      o.protocolStateId = nonZeroId(r);
      break;
    case 'EpochCommit': {
      const keys = o.dkgParticipantKeys as Uint8Array[];
      const perm = keys.map((_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      o.dkgIndexMap = perm.map((idx) => [nonZeroId(r), idx]);
      break;
    }
    case 'MeteringParams':
      for (const f of ['effortWeights', 'memoryWeights']) {
        const seen = new Set<number>();
        o[f] = (o[f] as [number, unknown][]).filter(([k]) => !seen.has(k) && (seen.add(k), true));
      }
      break;
  }
  return o;
}

function randomMap(kind: MapKind, r: Rng, depth: number): any {
  const o: Record<string, unknown> = {};
  const optional = new Set(kind.optionalKeys ?? []);
  for (const [name, fk] of kind.fields) {
    o[name] = optional.has(name) && r.chance(0.4) ? null : randomValue(fk, r, depth + 1);
  }
  return o;
}
