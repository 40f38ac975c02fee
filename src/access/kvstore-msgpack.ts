// The root snapshot's `KVStore.Data` (ACCESS.md 5.5): vmihailenco/msgpack v4 of flow-go's KV model
// structs (Go field names as map keys, embedded structs inlined), and the model `KVStore` (SPEC 4.1).
import { MappingError } from './errors.js';
import { U64_MAX, u64 as normU64 } from '../model/u64.js';
import type { Activator, Id, KVStore, MagnitudeVersion, MeteringParams, U64, Updatable } from '../model/types.js';

type Value = null | boolean | U64 | string | Uint8Array | MsgMap;
/** A decoded map whose keys are strings (structs) or integers (Go maps), in wire order. */
interface MsgMap {
  entries: [string | U64, Value][];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  constructor(
    readonly b: Uint8Array,
    readonly fail: (reason: string) => never,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.b.length) this.fail(`msgpack truncated at byte ${this.pos}`);
  }

  uintN(n: number): bigint {
    this.need(n);
    let x = 0n;
    for (let i = 0; i < n; i++) x = (x << 8n) | BigInt(this.b[this.pos++]);
    return x;
  }

  len(n: number): number {
    return Number(this.uintN(n));
  }

  value(depth: number): Value {
    if (depth > 16) this.fail('msgpack nested too deep');
    this.need(1);
    const at = this.pos;
    const t = this.b[this.pos++];
    if (t <= 0x7f) return t;
    if (t >= 0x80 && t <= 0x8f) return this.map(t & 0x0f, depth);
    if (t >= 0xa0 && t <= 0xbf) return this.str(t & 0x1f);
    if (t >= 0xe0) return this.fail(`msgpack negative integer at byte ${at}`);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.len(1));
      case 0xc5:
        return this.bin(this.len(2));
      case 0xc6:
        return this.bin(this.len(4));
      case 0xcc:
        return Number(this.uintN(1));
      case 0xcd:
        return Number(this.uintN(2));
      case 0xce:
        return Number(this.uintN(4));
      case 0xcf:
        return normU64(this.uintN(8));
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        return this.signed(t, at);
      case 0xd9:
        return this.str(this.len(1));
      case 0xda:
        return this.str(this.len(2));
      case 0xdb:
        return this.str(this.len(4));
      case 0xde:
        return this.map(this.len(2), depth);
      case 0xdf:
        return this.map(this.len(4), depth);
    }
    return this.fail(`msgpack type byte 0x${t.toString(16)} at byte ${at} has no place in a KV model`);
  }

  /** vmihailenco writes Go's signed ints this way; a non-negative value is still a valid uint. */
  signed(t: number, at: number): U64 {
    const n = 1 << (t - 0xd0);
    const raw = this.uintN(n);
    const bits = BigInt(n * 8);
    const x = raw >= 1n << (bits - 1n) ? raw - (1n << bits) : raw;
    if (x < 0n) this.fail(`msgpack negative integer at byte ${at}`);
    return normU64(x);
  }

  bin(n: number): Uint8Array {
    this.need(n);
    const out = new Uint8Array(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  str(n: number): string {
    const at = this.pos;
    const raw = this.bin(n);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail(`msgpack string at byte ${at} is not UTF-8`);
    }
  }

  map(n: number, depth: number): MsgMap {
    const entries: [string | U64, Value][] = [];
    for (let i = 0; i < n; i++) {
      const at = this.pos;
      const k = this.value(depth + 1);
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') this.fail(`msgpack map key at byte ${at} is not a string or integer`);
      if (entries.some((e) => e[0] === k)) this.fail(`msgpack duplicate map key ${JSON.stringify(String(k))} at byte ${at}`);
      entries.push([k, this.value(depth + 1)]);
    }
    return { entries };
  }
}

function isMap(v: Value): v is MsgMap {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array);
}

function describe(v: Value): string {
  if (v === null) return 'nil';
  if (v instanceof Uint8Array) return `bin ${v.length}`;
  if (isMap(v)) return 'a map';
  if (typeof v === 'string') return `str ${JSON.stringify(v)}`;
  return `${typeof v === 'boolean' ? 'bool' : 'int'} ${v}`;
}

/** Field-by-field reading of one struct map with an exact key set. */
class Struct {
  private readonly byKey = new Map<string, Value>();

  constructor(
    v: Value,
    readonly at: string,
    keys: readonly string[],
    readonly fail: (reason: string) => never,
  ) {
    const where = at ? `${at}: ` : '';
    if (!isMap(v)) fail(`${where}expected a map, got ${describe(v)}`);
    for (const [k, x] of v.entries) {
      if (typeof k !== 'string' || !keys.includes(k)) fail(`${where}unexpected key ${JSON.stringify(String(k))}`);
      this.byKey.set(k, x);
    }
    for (const k of keys) if (!this.byKey.has(k)) fail(`${where}missing key ${JSON.stringify(k)}`);
  }

  where(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }

  u64(key: string): U64 {
    const v = this.byKey.get(key)!;
    if (typeof v !== 'number' && typeof v !== 'bigint') this.fail(`${this.where(key)}: expected an unsigned integer, got ${describe(v)}`);
    return v;
  }

  id(key: string): Id {
    const v = this.byKey.get(key)!;
    if (!(v instanceof Uint8Array) || v.length !== 32) this.fail(`${this.where(key)}: expected a 32-byte bin, got ${describe(v)}`);
    return v;
  }

  value(key: string): Value {
    return this.byKey.get(key)!;
  }
}

const BASE_KEYS = ['VersionUpgrade', 'EpochStateID', 'EpochExtensionViewCount', 'FinalizationSafetyThreshold'] as const;
const V3_KEYS = [...BASE_KEYS, 'ExecutionMeteringParameters', 'ExecutionComponentVersion', 'CadenceComponentVersion'] as const;
const ACTIVATOR_KEYS = ['Data', 'ActivationView'] as const;
const UPDATABLE_KEYS = ['CurrentValue', 'Update'] as const;
const METERING_KEYS = ['ExecutionEffortWeights', 'ExecutionMemoryWeights', 'ExecutionMemoryLimit'] as const;
const MAGNITUDE_KEYS = ['Major', 'Minor'] as const;

type Fail = (reason: string) => never;

function activator<T>(v: Value, at: string, fail: Fail, data: (v: Value, at: string) => T): Activator<T> | null {
  if (v === null) return null;
  const s = new Struct(v, at, ACTIVATOR_KEYS, fail);
  return { data: data(s.value('Data'), s.where('Data')), activationView: s.u64('ActivationView') };
}

function updatable<T>(v: Value, at: string, fail: Fail, data: (v: Value, at: string) => T): Updatable<T> {
  const s = new Struct(v, at, UPDATABLE_KEYS, fail);
  return { current: data(s.value('CurrentValue'), s.where('CurrentValue')), update: activator(s.value('Update'), s.where('Update'), fail, data) };
}

function uintOf(v: Value, at: string, fail: Fail): U64 {
  if (typeof v !== 'number' && typeof v !== 'bigint') fail(`${at}: expected an unsigned integer, got ${describe(v)}`);
  return v;
}

/** A Go map uint32 → uint64 (nil or empty → []), sorted by key. */
function weights(v: Value, at: string, fail: Fail): [number, U64][] {
  if (v === null) return [];
  if (!isMap(v)) fail(`${at}: expected a map, got ${describe(v)}`);
  const out: [number, U64][] = v.entries.map(([k, w]) => {
    if (typeof k !== 'number' || k > 0xffffffff) fail(`${at}: key ${String(k)} is not a uint32`);
    return [k, uintOf(w, `${at}[${k}]`, fail)];
  });
  return out.sort((a, b) => a[0] - b[0]);
}

function metering(fail: Fail) {
  return (v: Value, at: string): MeteringParams => {
    const s = new Struct(v, at, METERING_KEYS, fail);
    return {
      effortWeights: weights(s.value('ExecutionEffortWeights'), s.where('ExecutionEffortWeights'), fail),
      memoryWeights: weights(s.value('ExecutionMemoryWeights'), s.where('ExecutionMemoryWeights'), fail),
      memoryLimit: s.u64('ExecutionMemoryLimit'),
    };
  };
}

function magnitude(fail: Fail) {
  return (v: Value, at: string): MagnitudeVersion => {
    const s = new Struct(v, at, MAGNITUDE_KEYS, fail);
    return { major: s.u64('Major'), minor: s.u64('Minor') };
  };
}

/**
 * Decodes `KVStore.Data` of model `version` into the SPEC KV store. Throws MappingError(path, ...)
 * for a version above 3, a key set that does not fit the version, a duplicate key, a mistyped
 * value, trailing bytes or a framing error.
 */
export function decodeKVStoreData(v: U64, data: Uint8Array, path: string): KVStore {
  if (typeof v !== 'number' || v > 3) throw new MappingError(path, `KV store Version ${v} is not supported (0..3, SPEC 9.7)`);
  const version = v;
  const fail: Fail = (reason) => {
    throw new MappingError(path, `KV store v${version} Data: ${reason}`);
  };
  const r = new Reader(data, fail);
  const top = r.value(0);
  if (r.pos !== data.length) fail(`${data.length - r.pos} trailing byte(s) after the msgpack map`);
  const s = new Struct(top, '', version === 3 ? V3_KEYS : BASE_KEYS, fail);
  const kv: KVStore = {
    version,
    versionUpgrade: activator(s.value('VersionUpgrade'), 'VersionUpgrade', fail, (v, at) => uintOf(v, at, fail)),
    epochStateId: s.id('EpochStateID'),
    epochExtensionViewCount: s.u64('EpochExtensionViewCount'),
    finalizationSafetyThreshold: s.u64('FinalizationSafetyThreshold'),
  };
  if (version === 3) {
    kv.executionMeteringParameters = updatable(s.value('ExecutionMeteringParameters'), 'ExecutionMeteringParameters', fail, metering(fail));
    kv.executionComponentVersion = updatable(s.value('ExecutionComponentVersion'), 'ExecutionComponentVersion', fail, magnitude(fail));
    kv.cadenceComponentVersion = updatable(s.value('CadenceComponentVersion'), 'CadenceComponentVersion', fail, magnitude(fail));
  }
  return kv;
}

// ---------------------------------------------------------------- encoder (test servers)

class Writer {
  private bytes: number[] = [];

  u8(...xs: number[]): this {
    for (const x of xs) this.bytes.push(x);
    return this;
  }

  uintBE(x: bigint, n: number): this {
    for (let i = n - 1; i >= 0; i--) this.bytes.push(Number((x >> BigInt(8 * i)) & 0xffn));
    return this;
  }

  mapHeader(n: number): this {
    if (n <= 15) return this.u8(0x80 | n);
    if (n <= 0xffff) return this.u8(0xde).uintBE(BigInt(n), 2);
    return this.u8(0xdf).uintBE(BigInt(n), 4);
  }

  key(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 32) this.u8(0xa0 | b.length);
    else this.u8(0xd9, b.length);
    return this.u8(...b);
  }

  /** uint64 and Go `uint`: always `cf` + 8 bytes. */
  u64(x: U64): this {
    const v = BigInt(x);
    if (v < 0n || v > U64_MAX) throw new RangeError(`not a u64: ${x}`);
    return this.u8(0xcf).uintBE(v, 8);
  }

  /** A [32]byte identifier: bin8. */
  id(b: Id): this {
    if (b.length !== 32) throw new RangeError(`not a 32-byte id: ${b.length} bytes`);
    return this.u8(0xc4, 32, ...b);
  }

  nil(): this {
    return this.u8(0xc0);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function writeActivator<T>(w: Writer, a: Activator<T> | null, data: (w: Writer, d: T) => void): void {
  if (a === null) return void w.nil();
  w.mapHeader(2).key('Data');
  data(w, a.data);
  w.key('ActivationView').u64(a.activationView);
}

function writeUpdatable<T>(w: Writer, u: Updatable<T>, data: (w: Writer, d: T) => void): void {
  w.mapHeader(2).key('CurrentValue');
  data(w, u.current);
  w.key('Update');
  writeActivator(w, u.update, data);
}

function writeWeights(w: Writer, list: [number, U64][]): void {
  w.mapHeader(list.length);
  for (const [k, v] of list) w.u8(0xce).uintBE(BigInt(k), 4).u64(v);
}

function writeMetering(w: Writer, p: MeteringParams): void {
  w.mapHeader(3).key('ExecutionEffortWeights');
  writeWeights(w, p.effortWeights);
  w.key('ExecutionMemoryWeights');
  writeWeights(w, p.memoryWeights);
  w.key('ExecutionMemoryLimit').u64(p.memoryLimit);
}

function writeMagnitude(w: Writer, v: MagnitudeVersion): void {
  w.mapHeader(2).key('Major').u64(v.major).key('Minor').u64(v.minor);
}

/** `KVStore.Data` as flow-go's vmihailenco v4 encoder writes it (struct field order). */
export function encodeKVStoreData(kv: KVStore): Uint8Array {
  const w = new Writer();
  const v3 = kv.version === 3;
  w.mapHeader(v3 ? 7 : 4).key('VersionUpgrade');
  writeActivator(w, kv.versionUpgrade, (w, d) => w.u64(d));
  w.key('EpochStateID').id(kv.epochStateId);
  w.key('EpochExtensionViewCount').u64(kv.epochExtensionViewCount);
  w.key('FinalizationSafetyThreshold').u64(kv.finalizationSafetyThreshold);
  if (v3) {
    w.key('ExecutionMeteringParameters');
    writeUpdatable(w, kv.executionMeteringParameters!, writeMetering);
    w.key('ExecutionComponentVersion');
    writeUpdatable(w, kv.executionComponentVersion!, writeMagnitude);
    w.key('CadenceComponentVersion');
    writeUpdatable(w, kv.cadenceComponentVersion!, writeMagnitude);
  }
  return w.finish();
}
