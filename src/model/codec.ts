// Schema-directed codec (SPEC 7.1, 9.2): MessagePack <-> model and JSON <-> model.
// JSON part first; the MessagePack decoders/encoders follow below.
import type { Kind, RecKind, MapKind } from './schema.js';
import { EVENT_BODIES } from './schema.js';
import * as U from './u64.js';
import { ByteWriter, scanValue, scanInfo, framingCause } from './msgpack.js';

// ---------------------------------------------------------------- hex helpers

const HEXC: string[] = [];
for (let i = 0; i < 256; i++) HEXC.push(i.toString(16).padStart(2, '0'));

function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEXC[b[i]];
  return s;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function bytesOfHex(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || (s.length & 1) !== 0) throw new TypeError(`${what}: expected a hex string, got ${short(s)}`);
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const h = hexNibble(s.charCodeAt(2 * i));
    const l = hexNibble(s.charCodeAt(2 * i + 1));
    if (h < 0 || l < 0) throw new TypeError(`${what}: expected a hex string, got ${short(s)}`);
    out[i] = (h << 4) | l;
  }
  return out;
}

function short(x: unknown): string {
  let s: string;
  try {
    s = typeof x === 'bigint' ? `${x}n` : JSON.stringify(x) ?? String(x);
  } catch {
    s = String(x);
  }
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

// ---------------------------------------------------------------- JSON -> model

/** Error of the JSON conversion: `field` is the dotted path of the offending value. */
export class JsonShapeError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'JsonShapeError';
  }
}

function joinPath(seg: string | number, rest: string): string {
  const head = typeof seg === 'number' ? `[${seg}]` : seg;
  if (!rest) return head;
  return rest.startsWith('[') ? head + rest : `${head}.${rest}`;
}

function jsonFail(e: unknown, seg: string | number): never {
  if (e instanceof JsonShapeError) throw new JsonShapeError(joinPath(seg, e.field), e.reason);
  throw new JsonShapeError(joinPath(seg, ''), e instanceof Error ? e.message : String(e));
}

/** Body kind of a known service event type (own properties only: `__proto__` is not a type). */
function bodyOf(type: string): RecKind | undefined {
  return Object.prototype.hasOwnProperty.call(EVENT_BODIES, type) ? EVENT_BODIES[type] : undefined;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Converts the JSON form of a value (conformance vectors, SPEC 8) into the model:
 * ids/bytes as hex strings, u64 as numbers or decimal strings, records and maps as objects
 * keyed by field name, `opt` as null, service events as `{type, event}`, maps as [key, value]
 * pairs. Throws a JsonShapeError naming the field on any mismatch.
 */
export function fromJson(json: unknown, kind: Kind): any {
  switch (kind.k) {
    case 'u64':
      try {
        return U.fromJson(json);
      } catch {
        throw new JsonShapeError('', `expected an unsigned 64-bit integer, got ${short(json)}`);
      }
    case 'uint': {
      const max = kind.bits === 32 ? 0xffffffff : (1 << kind.bits) - 1;
      let v: unknown = json;
      if (typeof v === 'string' && /^[0-9]+$/.test(v)) v = Number(v);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
        throw new JsonShapeError('', `expected uint${kind.bits}, got ${short(json)}`);
      return v;
    }
    case 'id': {
      if (typeof json !== 'string' || json.length !== 64) throw new JsonShapeError('', `expected a 64-character hex id, got ${short(json)}`);
      return bytesOfHex(json, 'id');
    }
    case 'bytes':
      try {
        return bytesOfHex(json, 'bytes');
      } catch (e) {
        throw new JsonShapeError('', (e as Error).message);
      }
    case 'str':
      if (typeof json !== 'string') throw new JsonShapeError('', `expected a string, got ${short(json)}`);
      return json;
    case 'bool':
      if (typeof json !== 'boolean') throw new JsonShapeError('', `expected a boolean, got ${short(json)}`);
      return json;
    case 'opt':
      return json === null || json === undefined ? null : fromJson(json, kind.of);
    case 'list': {
      if (!Array.isArray(json)) throw new JsonShapeError('', `expected an array, got ${short(json)}`);
      const out = new Array(json.length);
      for (let i = 0; i < json.length; i++) {
        try {
          out[i] = fromJson(json[i], kind.of);
        } catch (e) {
          jsonFail(e, i);
        }
      }
      return out;
    }
    case 'pair': {
      if (!Array.isArray(json) || json.length !== 2) throw new JsonShapeError('', `expected a [key, value] pair, got ${short(json)}`);
      let a: any;
      try {
        a = fromJson(json[0], kind.a);
      } catch (e) {
        jsonFail(e, 0);
      }
      let b: any;
      try {
        b = fromJson(json[1], kind.b);
      } catch (e) {
        jsonFail(e, 1);
      }
      return [a, b];
    }
    case 'rec':
      return recFromJson(json, kind);
    case 'map':
      return mapFromJson(json, kind);
    case 'event': {
      if (!isPlainObject(json) || typeof json.type !== 'string' || !('event' in json))
        throw new JsonShapeError('', `expected a service event {type, event}, got ${short(json)}`);
      const body = bodyOf(json.type);
      if (body) {
        try {
          return { type: json.type, event: recFromJson(json.event, body) };
        } catch (e) {
          jsonFail(e, 'event');
        }
      }
      try {
        return { type: json.type, event: genericFromJson(json.event), unknown: true };
      } catch (e) {
        jsonFail(e, 'event');
      }
    }
    case 'generic':
      return genericFromJson(json);
  }
}

function recFromJson(json: unknown, kind: RecKind): any {
  if (!isPlainObject(json)) throw new JsonShapeError('', `expected a ${kind.name} object, got ${short(json)}`);
  const out: Record<string, unknown> = {};
  const fields = kind.fields;
  const tail = kind.optionalTail ?? 0;
  const base = fields.length - tail;
  let tailPresent = false;
  if (tail > 0) {
    let present = 0;
    for (let i = base; i < fields.length; i++) if (json[fields[i][0]] !== undefined) present++;
    if (present !== 0 && present !== tail)
      throw new JsonShapeError('', `${kind.name}: the last ${tail} fields must be present together or absent`);
    tailPresent = present === tail;
  }
  const n = tailPresent ? fields.length : base;
  for (let i = 0; i < n; i++) {
    const [name, fk] = fields[i];
    if (!(name in json) && fk.k !== 'opt') throw new JsonShapeError(name, 'missing');
    try {
      out[name] = fromJson(json[name], fk);
    } catch (e) {
      jsonFail(e, name);
    }
  }
  for (const key of Object.keys(json)) {
    if (!fields.some((f) => f[0] === key)) throw new JsonShapeError(key, `not a field of ${kind.name}`);
  }
  checkRecord(kind, out, jsonCheckFail);
  return out;
}

function jsonCheckFail(field: string, cause: string): never {
  throw new JsonShapeError(field, cause);
}

function mapFromJson(json: unknown, kind: MapKind): any {
  if (!isPlainObject(json)) throw new JsonShapeError('', `expected a ${kind.name} object, got ${short(json)}`);
  const out: Record<string, unknown> = {};
  const optional = kind.optionalKeys ?? [];
  for (const [name, fk] of kind.fields) {
    const v = json[name];
    if (v === undefined || v === null) {
      if (optional.includes(name) || fk.k === 'opt') {
        out[name] = null;
        continue;
      }
      throw new JsonShapeError(name, 'missing');
    }
    try {
      out[name] = fromJson(v, fk);
    } catch (e) {
      jsonFail(e, name);
    }
  }
  for (const key of Object.keys(json)) {
    if (!kind.fields.some((f) => f[0] === key)) throw new JsonShapeError(key, `not a key of ${kind.name}`);
  }
  return out;
}

function genericFromJson(json: unknown): any {
  if (json === null || typeof json === 'boolean' || typeof json === 'string') return json;
  if (typeof json === 'number' || typeof json === 'bigint') {
    try {
      return U.u64(json);
    } catch {
      throw new JsonShapeError('', `generic body: expected a non-negative integer, got ${short(json)}`);
    }
  }
  if (json instanceof Uint8Array) return json;
  if (Array.isArray(json)) {
    const out = new Array(json.length);
    for (let i = 0; i < json.length; i++) {
      try {
        out[i] = genericFromJson(json[i]);
      } catch (e) {
        jsonFail(e, i);
      }
    }
    return out;
  }
  throw new JsonShapeError('', `generic body: a map or other value is not allowed (SPEC 9.6), got ${short(json)}`);
}

// ---------------------------------------------------------------- model -> JSON

/** The JSON form of a model value (inverse of fromJson; generic `bin` becomes hex, like `str` it is a string). */
export function toJson(value: any, kind: Kind): any {
  switch (kind.k) {
    case 'u64':
      return U.toJson(value);
    case 'uint':
    case 'str':
    case 'bool':
      return value;
    case 'id':
    case 'bytes':
      return hexOf(value);
    case 'opt':
      return value === null || value === undefined ? null : toJson(value, kind.of);
    case 'list': {
      const out = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = toJson(value[i], kind.of);
      return out;
    }
    case 'pair':
      return [toJson(value[0], kind.a), toJson(value[1], kind.b)];
    case 'rec': {
      const out: Record<string, unknown> = {};
      for (const [name, fk] of kind.fields) {
        const v = value[name];
        if (v === undefined) continue; // absent optional tail
        out[name] = toJson(v, fk);
      }
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [name, fk] of kind.fields) {
        const v = value[name];
        out[name] = v === undefined || v === null ? null : toJson(v, fk);
      }
      return out;
    }
    case 'event': {
      const body = value.unknown ? undefined : bodyOf(value.type);
      return { type: value.type, event: body ? toJson(value.event, body) : genericToJson(value.event) };
    }
    case 'generic':
      return genericToJson(value);
  }
}

function genericToJson(v: any): any {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return U.toJson(v);
  if (v instanceof Uint8Array) return hexOf(v);
  if (Array.isArray(v)) return v.map(genericToJson);
  throw new TypeError(`not a generic value: ${short(v)}`);
}

// ---------------------------------------------------------------- record-level checks (SPEC 9.2)

type CheckFail = (field: string, cause: string) => never;

function isZeroId(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function idKey(b: Uint8Array): string {
  // latin1 string of the 32 bytes: a cheap exact map key
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Content rules that are not expressible in the shape alone (SPEC 2.2, 2.3, 9.2). Called on
 * every decoded (or JSON-converted) record of the named kinds.
 */
function checkRecord(kind: RecKind, o: any, fail: CheckFail): void {
  switch (kind.name) {
    case 'Payload':
      if (isZeroId(o.protocolStateId)) fail('protocolStateId', 'protocolStateId is ZERO (SPEC 2.2)');
      return;
    case 'EpochCommit': {
      const map: [Uint8Array, any][] = o.dkgIndexMap;
      const n = o.dkgParticipantKeys.length;
      if (map.length !== n)
        fail('dkgIndexMap', `not a permutation of 0..${n - 1}: ${map.length} entries for ${n} DKG participant keys`);
      const seen = new Uint8Array(n);
      const ids = new Set<string>();
      for (let i = 0; i < map.length; i++) {
        const idx = map[i][1];
        if (typeof idx !== 'number' || idx >= n)
          fail(`dkgIndexMap[${i}]`, `index ${idx} out of range 0..${n - 1} (not a permutation)`);
        if (seen[idx]) fail(`dkgIndexMap[${i}]`, `index ${idx} repeated (not a permutation)`);
        seen[idx] = 1;
        const k = idKey(map[i][0]);
        if (ids.has(k)) fail(`dkgIndexMap[${i}]`, `node id ${hexOf(map[i][0])} repeated`);
        ids.add(k);
      }
      return;
    }
    case 'MeteringParams':
      checkWeights(o.effortWeights, 'effortWeights', fail);
      checkWeights(o.memoryWeights, 'memoryWeights', fail);
      return;
    case 'KVStore': {
      const tailPresent = o.executionMeteringParameters !== undefined;
      const v = o.version;
      if (typeof v === 'number' && v <= 3 && (v === 3) !== tailPresent)
        fail(
          tailPresent ? 'executionMeteringParameters' : 'version',
          tailPresent ? `version ${v} KV store must not carry the version 3 fields` : 'version 3 KV store lacks the version 3 fields',
        );
      return;
    }
  }
}

function checkWeights(list: [number, unknown][], name: string, fail: CheckFail): void {
  if (list.length < 2) return;
  const seen = new Set<number>();
  for (let i = 0; i < list.length; i++) {
    const k = list[i][0];
    if (seen.has(k)) fail(`${name}[${i}]`, `repeated weight key ${k}`);
    seen.add(k);
  }
}

// ================================================================ MessagePack -> model

/**
 * A well-framed value that does not fit the model (SPEC 9.2): `field` is the dotted path
 * from the decoded record's root (e.g. `payload.results[0].serviceEvents[1].event.counter`),
 * `cause` says what was wrong.
 */
export class DecodeError extends Error {
  field = '';
  override cause: string;
  /** Path segments, innermost first, while the error travels up the decoders. */
  path: (string | number)[] = [];

  constructor(cause: string) {
    super(cause);
    this.name = 'DecodeError';
    this.cause = cause;
  }

  /** Fixes `field` and `message` from the collected path (called once at the top). */
  finish(prefix?: string): this {
    let f = prefix ?? '';
    for (let i = this.path.length - 1; i >= 0; i--) {
      const seg = this.path[i];
      if (typeof seg === 'number') f += `[${seg}]`;
      else f += f ? `.${seg}` : seg;
    }
    this.field = f;
    this.message = f ? `${f}: ${this.cause}` : this.cause;
    return this;
  }

  toJSON(): { field: string; cause: string } {
    return { field: this.field, cause: this.cause };
  }
}

/** Decoder state: the buffer and the read position. Decoders need a framed value (no bounds checks). */
interface DState {
  buf: Uint8Array;
  pos: number;
}
type Dec = (s: DState) => any;

function fail(cause: string): never {
  throw new DecodeError(cause);
}

function failAt(s: DState, expected: string): never {
  throw new DecodeError(`expected ${expected}, got ${describe(s.buf, s.pos)}`);
}

function wrap(e: unknown, seg: string | number): DecodeError {
  const d = asDecodeError(e);
  d.path.push(seg);
  return d;
}

function asDecodeError(e: unknown): DecodeError {
  return e instanceof DecodeError ? e : new DecodeError(`internal decoder error: ${e instanceof Error ? e.message : String(e)}`);
}

function rd16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}
function rd32(b: Uint8Array, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

/** Human-readable type of the MessagePack value at p, for error causes. */
export function describe(b: Uint8Array, p: number): string {
  if (p >= b.length) return 'end of data';
  const t = b[p];
  if (t < 0x80) return `integer ${t}`;
  if (t < 0x90) return `map of ${t & 15}`;
  if (t < 0xa0) return `array of ${t & 15}`;
  if (t < 0xc0) return `str of ${t & 31} bytes`;
  if (t >= 0xe0) return `negative integer ${t - 256}`;
  switch (t) {
    case 0xc0: return 'nil';
    case 0xc1: return 'reserved byte 0xc1';
    case 0xc2: return 'false';
    case 0xc3: return 'true';
    case 0xc4: return `bin of ${b[p + 1]} bytes`;
    case 0xc5: return `bin of ${rd16(b, p + 1)} bytes`;
    case 0xc6: return `bin of ${rd32(b, p + 1)} bytes`;
    case 0xc7: return `ext type ${(b[p + 2] << 24) >> 24}`;
    case 0xc8: return `ext type ${(b[p + 3] << 24) >> 24}`;
    case 0xc9: return `ext type ${(b[p + 5] << 24) >> 24}`;
    case 0xca: return 'float32';
    case 0xcb: return 'float64';
    case 0xcc: return `integer ${b[p + 1]}`;
    case 0xcd: return `integer ${rd16(b, p + 1)}`;
    case 0xce: return `integer ${rd32(b, p + 1)}`;
    case 0xcf: return `integer ${(BigInt(rd32(b, p + 1)) << 32n) | BigInt(rd32(b, p + 5))}`;
    case 0xd0: return `integer ${(b[p + 1] << 24) >> 24}`;
    case 0xd1: return `integer ${(rd16(b, p + 1) << 16) >> 16}`;
    case 0xd2: return `integer ${rd32(b, p + 1) | 0}`;
    case 0xd3: return `integer ${(BigInt(rd32(b, p + 1) | 0) << 32n) | BigInt(rd32(b, p + 5))}`;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return `ext type ${(b[p + 1] << 24) >> 24}`;
    case 0xd9: return `str of ${b[p + 1]} bytes`;
    case 0xda: return `str of ${rd16(b, p + 1)} bytes`;
    case 0xdb: return `str of ${rd32(b, p + 1)} bytes`;
    case 0xdc: return `array of ${rd16(b, p + 1)}`;
    case 0xdd: return `array of ${rd32(b, p + 1)}`;
    case 0xde: return `map of ${rd16(b, p + 1)}`;
    default: return `map of ${rd32(b, p + 1)}`; // 0xdf
  }
}

/** Reads an array header; -1 (position unchanged) when the value is not an array. */
function arrayLen(s: DState): number {
  const b = s.buf;
  const p = s.pos;
  const t = b[p];
  if ((t & 0xf0) === 0x90) {
    s.pos = p + 1;
    return t & 15;
  }
  if (t === 0xdc) {
    s.pos = p + 3;
    return rd16(b, p + 1);
  }
  if (t === 0xdd) {
    s.pos = p + 5;
    return rd32(b, p + 1);
  }
  return -1;
}

/** Reads a bin header; returns the payload length (position at the payload) or -1. */
function binLen(s: DState): number {
  const b = s.buf;
  const p = s.pos;
  switch (b[p]) {
    case 0xc4:
      s.pos = p + 2;
      return b[p + 1];
    case 0xc5:
      s.pos = p + 3;
      return rd16(b, p + 1);
    case 0xc6:
      s.pos = p + 5;
      return rd32(b, p + 1);
  }
  return -1;
}

/** Reads a str header; returns the payload length (position at the payload) or -1. */
function strLen(s: DState): number {
  const b = s.buf;
  const p = s.pos;
  const t = b[p];
  if ((t & 0xe0) === 0xa0) {
    s.pos = p + 1;
    return t & 31;
  }
  switch (t) {
    case 0xd9:
      s.pos = p + 2;
      return b[p + 1];
    case 0xda:
      s.pos = p + 3;
      return rd16(b, p + 1);
    case 0xdb:
      s.pos = p + 5;
      return rd32(b, p + 1);
  }
  return -1;
}

const TWO32 = 0x100000000;

/** Any non-negative MessagePack integer (SPEC 9.2: non-minimal and signed forms accepted). */
function decU64(s: DState): number | bigint {
  const b = s.buf;
  const p = s.pos;
  const t = b[p];
  if (t < 0x80) {
    s.pos = p + 1;
    return t;
  }
  switch (t) {
    case 0xcc:
      s.pos = p + 2;
      return b[p + 1];
    case 0xcd:
      s.pos = p + 3;
      return rd16(b, p + 1);
    case 0xce:
      s.pos = p + 5;
      return rd32(b, p + 1);
    case 0xcf:
    case 0xd3: {
      const hi = rd32(b, p + 1);
      if (t === 0xd3 && hi >= 0x80000000) fail(`expected an unsigned integer, got ${describe(b, p)}`);
      const lo = rd32(b, p + 5);
      s.pos = p + 9;
      if (hi < 0x200000) return hi * TWO32 + lo;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    case 0xd0:
      if (b[p + 1] >= 0x80) break;
      s.pos = p + 2;
      return b[p + 1];
    case 0xd1:
      if (b[p + 1] >= 0x80) break;
      s.pos = p + 3;
      return rd16(b, p + 1);
    case 0xd2:
      if (b[p + 1] >= 0x80) break;
      s.pos = p + 5;
      return rd32(b, p + 1);
  }
  return failAt(s, 'an unsigned integer');
}

function uintDecoder(bits: 8 | 16 | 32): Dec {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  return (s) => {
    const v = decU64(s);
    if (typeof v !== 'number' || v > max) fail(`value ${v} out of range for uint${bits} (0..${max})`);
    return v;
  };
}

/** A view of n bytes at p. `b` is always a plain Uint8Array here (see plain()), so is the view. */
function view(b: Uint8Array, p: number, n: number): Uint8Array {
  return b.subarray(p, p + n);
}

/** The same memory as a plain Uint8Array (a Buffer's subarray would be a Buffer). */
function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function decId(s: DState): Uint8Array {
  const b = s.buf;
  const p = s.pos;
  if (b[p] === 0xc4 && b[p + 1] === 32) {
    s.pos = p + 34;
    return view(b, p + 2, 32);
  }
  const n = binLen(s);
  if (n !== 32) {
    s.pos = p;
    fail(`expected a 32-byte id (bin), got ${describe(b, p)}`);
  }
  const v = view(b, s.pos, 32);
  s.pos += 32;
  return v;
}

function decBytes(s: DState): Uint8Array {
  const n = binLen(s);
  if (n < 0) failAt(s, 'bin');
  const v = view(s.buf, s.pos, n);
  s.pos += n;
  return v;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(b: Uint8Array, p: number, n: number): string {
  if (n < 48) {
    let out = '';
    for (let i = 0; i < n; i++) {
      const c = b[p + i];
      if (c >= 0x80) return utf8Slow(b, p, n);
      out += String.fromCharCode(c);
    }
    return out;
  }
  return utf8Slow(b, p, n);
}

function utf8Slow(b: Uint8Array, p: number, n: number): string {
  try {
    return utf8Fatal.decode(b.subarray(p, p + n));
  } catch {
    return fail(`invalid UTF-8 in str of ${n} bytes`);
  }
}

function decStr(s: DState): string {
  const n = strLen(s);
  if (n < 0) failAt(s, 'str');
  const p = s.pos;
  s.pos = p + n;
  return utf8(s.buf, p, n);
}

function decBool(s: DState): boolean {
  const t = s.buf[s.pos];
  if (t === 0xc3) {
    s.pos++;
    return true;
  }
  if (t === 0xc2) {
    s.pos++;
    return false;
  }
  return failAt(s, 'bool');
}

// opt/list/pair decoders are generated per schema node (new Function) rather than shared
// closures: each gets its own call-site feedback, so the inner decoder call stays monomorphic.
function optDecoder(of: Dec): Dec {
  const src = `return function decode_opt(s) {
    if (s.buf[s.pos] === 0xc0) { s.pos++; return null; }
    return of(s);
  };`;
  return new Function('of', src)(of) as Dec;
}

function listDecoder(of: Dec): Dec {
  const src = `return function decode_list(s) {
    const n = arrayLen(s);
    if (n < 0) failAt(s, 'array');
    const out = [];
    let i = 0;
    try {
      for (; i < n; i++) out.push(of(s));
    } catch (e) {
      throw wrap(e, i);
    }
    return out;
  };`;
  return new Function('of', 'arrayLen', 'failAt', 'wrap', src)(of, arrayLen, failAt, wrap) as Dec;
}

function pairDecoder(a: Dec, b: Dec): Dec {
  const src = `return function decode_pair(s) {
    const p = s.pos;
    if (arrayLen(s) !== 2) {
      s.pos = p;
      failAt(s, 'a [key, value] pair (array of 2)');
    }
    let x;
    try {
      x = a(s);
    } catch (e) {
      throw wrap(e, 0);
    }
    try {
      return [x, b(s)];
    } catch (e) {
      throw wrap(e, 1);
    }
  };`;
  return new Function('a', 'b', 'arrayLen', 'failAt', 'wrap', src)(a, b, arrayLen, failAt, wrap) as Dec;
}

/** Generic body of an unknown service event (SPEC 9.6). */
function decGeneric(s: DState): any {
  const b = s.buf;
  const t = b[s.pos];
  if (t === 0xc0) {
    s.pos++;
    return null;
  }
  if (t === 0xc2 || t === 0xc3) return decBool(s);
  if (t < 0x80 || (t >= 0xcc && t <= 0xcf) || (t >= 0xd0 && t <= 0xd3)) return decU64(s);
  if ((t & 0xe0) === 0xa0 || (t >= 0xd9 && t <= 0xdb)) return decStr(s);
  if (t >= 0xc4 && t <= 0xc6) return decBytes(s);
  const n = arrayLen(s);
  if (n < 0) return fail(`unknown service event body: ${describe(b, s.pos)} is not allowed (SPEC 9.6)`);
  const out = [];
  let i = 0;
  try {
    for (; i < n; i++) out.push(decGeneric(s));
  } catch (e) {
    throw wrap(e, i);
  }
  return out;
}

/** [type, body]; known types get their body record, others a generic body (SPEC 9.6). */
function decEvent(s: DState): any {
  const p = s.pos;
  const n = arrayLen(s);
  if (n !== 2) {
    s.pos = p;
    failAt(s, 'a service event [type, body]');
  }
  let type: string;
  try {
    type = decStr(s);
  } catch (e) {
    throw wrap(e, 'type');
  }
  const body = EVENT_DECODERS.get(type);
  try {
    if (body) return { type, event: body(s) };
    return { type, event: decGeneric(s), unknown: true };
  } catch (e) {
    throw wrap(e, 'event');
  }
}

function arity(s: DState, n: number, kind: RecKind): never {
  const full = kind.fields.length;
  const tail = kind.optionalTail ?? 0;
  const want = tail ? `${full - tail} or ${full}` : `${full}`;
  if (n < 0) failAt(s, `${kind.name} (array of ${want})`);
  return fail(`wrong arity: ${kind.name} has ${want} fields, got array of ${n}`);
}

const checkNames = new Set(['Payload', 'EpochCommit', 'MeteringParams', 'KVStore']);

function checkFail(field: string, cause: string): never {
  const e = new DecodeError(cause);
  e.path.push(field);
  throw e;
}

function recDecoder(kind: RecKind): Dec {
  const names = kind.fields.map((f) => f[0]);
  const decs = kind.fields.map((f) => compileDecoder(f[1]));
  const n = names.length;
  const tail = kind.optionalTail ?? 0;
  const base = n - tail;
  const check = checkNames.has(kind.name);
  const lit = (i: number) => JSON.stringify(names[i]);
  let src = `return function decode_${kind.name.replace(/\W/g, '_')}(s) {\n`;
  src += `  const n = arrayLen(s);\n`;
  src += tail ? `  if (n !== ${n} && n !== ${base}) arity(s, n, kind);\n` : `  if (n !== ${n}) arity(s, n, kind);\n`;
  src += `  let o, f = 0;\n  try {\n`;
  for (let i = 0; i < base; i++) src += `    const v${i} = d${i}(s); f = ${i + 1};\n`;
  src += `    o = {${names.slice(0, base).map((_, i) => `${lit(i)}: v${i}`).join(', ')}};\n`;
  if (tail) {
    src += `    if (n === ${n}) {\n`;
    for (let i = base; i < n; i++) src += `      o[${lit(i)}] = d${i}(s); f = ${i + 1};\n`;
    src += `    }\n`;
  }
  src += `  } catch (e) { throw wrap(e, names[f]); }\n`;
  if (check) src += `  checkRecord(kind, o, checkFail);\n`;
  src += `  return o;\n};`;
  const params = decs.map((_, i) => `d${i}`);
  const factory = new Function(...params, 'arrayLen', 'arity', 'wrap', 'checkRecord', 'checkFail', 'kind', 'names', src);
  return factory(...decs, arrayLen, arity, wrap, checkRecord, checkFail, kind, names) as Dec;
}

function mapDecoder(kind: MapKind): Dec {
  const index = new Map<string, number>();
  kind.fields.forEach((f, i) => index.set(f[0], i));
  const decs = kind.fields.map((f) => compileDecoder(f[1]));
  const optional = new Set(kind.optionalKeys ?? []);
  return (s) => {
    const b = s.buf;
    const p = s.pos;
    const t = b[p];
    let n: number;
    if ((t & 0xf0) === 0x80) {
      n = t & 15;
      s.pos = p + 1;
    } else if (t === 0xde) {
      n = rd16(b, p + 1);
      s.pos = p + 3;
    } else if (t === 0xdf) {
      n = rd32(b, p + 1);
      s.pos = p + 5;
    } else return failAt(s, `${kind.name} (map)`);
    const vals: unknown[] = new Array(decs.length).fill(undefined);
    const seen: boolean[] = new Array(decs.length).fill(false);
    for (let i = 0; i < n; i++) {
      let key: string;
      try {
        key = decStr(s);
      } catch (e) {
        if (e instanceof DecodeError) e.cause = e.message = `${kind.name}: map key: ${e.cause}`;
        throw e;
      }
      const k = index.get(key);
      if (k === undefined) fail(`${kind.name}: unknown key ${JSON.stringify(key)}`);
      if (seen[k]) fail(`${kind.name}: duplicate map key ${JSON.stringify(key)}`);
      seen[k] = true;
      try {
        vals[k] = decs[k](s);
      } catch (e) {
        throw wrap(e, key);
      }
    }
    const o: Record<string, unknown> = {};
    for (let k = 0; k < decs.length; k++) {
      const name = kind.fields[k][0];
      if (!seen[k]) {
        if (!optional.has(name)) fail(`${kind.name}: missing key ${JSON.stringify(name)}`);
        o[name] = null;
      } else o[name] = vals[k];
    }
    return o;
  };
}

const decoderCache = new Map<Kind, Dec>();

/** The (cached) decoder function of a schema node. */
function compileDecoder(kind: Kind): Dec {
  let d = decoderCache.get(kind);
  if (d) return d;
  switch (kind.k) {
    case 'u64': d = decU64; break;
    case 'uint': d = uintDecoder(kind.bits); break;
    case 'id': d = decId; break;
    case 'bytes': d = decBytes; break;
    case 'str': d = decStr; break;
    case 'bool': d = decBool; break;
    case 'opt': d = optDecoder(compileDecoder(kind.of)); break;
    case 'list': d = listDecoder(compileDecoder(kind.of)); break;
    case 'pair': d = pairDecoder(compileDecoder(kind.a), compileDecoder(kind.b)); break;
    case 'rec': d = recDecoder(kind); break;
    case 'map': d = mapDecoder(kind); break;
    case 'event': d = decEvent; break;
    case 'generic': d = decGeneric; break;
  }
  decoderCache.set(kind, d);
  return d;
}

const EVENT_DECODERS = new Map<string, Dec>();
for (const [type, body] of Object.entries(EVENT_BODIES)) EVENT_DECODERS.set(type, compileDecoder(body));

/**
 * Decodes the value in buf[start, end) as `kind` (framed first: it must be exactly one
 * complete MessagePack value). Bytes and ids in the result are views into `buf` (no copies):
 * keep `buf` unchanged while the result is in use. Throws a DecodeError naming the field.
 */
export function decodeRecord<T = any>(buf: Uint8Array, start: number, end: number, kind: Kind): T {
  const e = scanValue(buf, start, end);
  if (e < 0) throw new DecodeError(`not one complete MessagePack value: ${framingCause(e)} at byte ${scanInfo.at - start}`).finish();
  if (e !== end) throw new DecodeError(`${end - e} trailing bytes after the value`).finish();
  return decodeFramed(buf, start, end, kind);
}

/** As decodeRecord, for a range already known to hold exactly one well-framed value. */
export function decodeFramed<T = any>(buf: Uint8Array, start: number, end: number, kind: Kind): T {
  const s: DState = { buf: plain(buf), pos: start };
  try {
    const v = compileDecoder(kind)(s);
    if (s.pos !== end) throw new DecodeError(`${end - s.pos} trailing bytes after the value`);
    return v;
  } catch (e) {
    throw asDecodeError(e).finish();
  }
}

/**
 * The claimed id of a block record (SPEC 9.4): the first element when the value is an array
 * whose first element is a 32-byte bin, else null. Bounds-checked against `end`.
 */
export function peekClaimedId(buf: Uint8Array, start: number, end: number): Uint8Array | null {
  if (end - start < 4) return null;
  buf = plain(buf);
  const s: DState = { buf, pos: start };
  const t = buf[start];
  const hdr = (t & 0xf0) === 0x90 ? 1 : t === 0xdc ? 3 : t === 0xdd ? 5 : 0;
  if (hdr === 0 || start + hdr + 2 > end) return null;
  if (arrayLen(s) < 1) return null;
  const b = buf[s.pos];
  const bh = b === 0xc4 ? 2 : b === 0xc5 ? 3 : b === 0xc6 ? 5 : 0;
  if (bh === 0 || s.pos + bh > end) return null;
  if (binLen(s) !== 32 || s.pos + 32 > end) return null;
  return view(buf, s.pos, 32);
}

// ================================================================ model -> canonical MessagePack

/** A value that cannot be written in the archive form of its kind. */
export class EncodeError extends Error {
  path: (string | number)[] = [];
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'EncodeError';
  }
}

type Enc = (w: ByteWriter, v: any) => void;

function encFail(reason: string): never {
  throw new EncodeError(reason);
}

function encWrap(e: unknown, seg: string | number): unknown {
  if (e instanceof EncodeError) {
    e.path.push(seg);
    let f = '';
    for (let i = e.path.length - 1; i >= 0; i--) {
      const x = e.path[i];
      f += typeof x === 'number' ? `[${x}]` : f ? `.${x}` : x;
    }
    e.message = `${f}: ${e.reason}`;
  }
  return e;
}

function encU64(w: ByteWriter, v: any): void {
  if (typeof v === 'number') {
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v) return w.uintNumber(v);
  } else if (typeof v === 'bigint') {
    if (v >= 0n && v <= U.U64_MAX) return w.uint(v);
  }
  encFail(`not a u64: ${short(v)}`);
}

function uintEncoder(bits: 8 | 16 | 32): Enc {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  return (w, v) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= max) || Math.floor(v) !== v) encFail(`not a uint${bits}: ${short(v)}`);
    w.uintNumber(v);
  };
}

function encId(w: ByteWriter, v: any): void {
  if (!(v instanceof Uint8Array) || v.length !== 32) encFail(`not a 32-byte id: ${v instanceof Uint8Array ? `${v.length} bytes` : short(v)}`);
  w.bin(v);
}

function encBytes(w: ByteWriter, v: any): void {
  if (!(v instanceof Uint8Array)) encFail(`not bytes: ${short(v)}`);
  w.bin(v);
}

function encStr(w: ByteWriter, v: any): void {
  if (typeof v !== 'string') encFail(`not a string: ${short(v)}`);
  w.str(v);
}

function encBool(w: ByteWriter, v: any): void {
  if (typeof v !== 'boolean') encFail(`not a bool: ${short(v)}`);
  w.bool(v);
}

function optEncoder(of: Enc): Enc {
  return (w, v) => (v === null || v === undefined ? w.nil() : of(w, v));
}

function listEncoder(of: Enc): Enc {
  return (w, v) => {
    if (!Array.isArray(v)) encFail(`not an array: ${short(v)}`);
    const n = v.length;
    w.arrayHeader(n);
    let i = 0;
    try {
      for (; i < n; i++) of(w, v[i]);
    } catch (e) {
      throw encWrap(e, i);
    }
  };
}

function pairEncoder(a: Enc, b: Enc): Enc {
  return (w, v) => {
    if (!Array.isArray(v) || v.length !== 2) encFail(`not a [key, value] pair: ${short(v)}`);
    w.arrayHeader(2);
    let i = 0;
    try {
      a(w, v[0]);
      i = 1;
      b(w, v[1]);
    } catch (e) {
      throw encWrap(e, i);
    }
  };
}

function encGeneric(w: ByteWriter, v: any): void {
  if (v === null || v === undefined) return w.nil();
  switch (typeof v) {
    case 'boolean':
      return w.bool(v);
    case 'string':
      return w.str(v);
    case 'number':
    case 'bigint':
      return encU64(w, v);
  }
  if (v instanceof Uint8Array) return w.bin(v);
  if (Array.isArray(v)) {
    w.arrayHeader(v.length);
    for (let i = 0; i < v.length; i++) {
      try {
        encGeneric(w, v[i]);
      } catch (e) {
        throw encWrap(e, i);
      }
    }
    return;
  }
  encFail(`not a generic value (SPEC 9.6): ${short(v)}`);
}

function encEvent(w: ByteWriter, v: any): void {
  if (v === null || typeof v !== 'object' || typeof v.type !== 'string') encFail(`not a service event: ${short(v)}`);
  w.arrayHeader(2);
  w.str(v.type);
  const body = v.unknown ? undefined : EVENT_ENCODERS.get(v.type);
  try {
    if (body) body(w, v.event);
    else encGeneric(w, v.event);
  } catch (e) {
    throw encWrap(e, 'event');
  }
}

function recEncoder(kind: RecKind): Enc {
  const names = kind.fields.map((f) => f[0]);
  const encs = kind.fields.map((f) => compileEncoder(f[1]));
  const n = names.length;
  const tail = kind.optionalTail ?? 0;
  const base = n - tail;
  const lit = (i: number) => JSON.stringify(names[i]);
  let src = `return function encode_${kind.name.replace(/\W/g, '_')}(w, v) {\n`;
  src += `  if (v === null || typeof v !== 'object') encFail(${JSON.stringify(`not a ${kind.name} record: `)} + short(v));\n`;
  if (tail) src += `  const full = v[${lit(base)}] !== undefined;\n  w.arrayHeader(full ? ${n} : ${base});\n`;
  else src += `  w.arrayHeader(${n});\n`;
  src += `  let f = 0;\n  try {\n`;
  for (let i = 0; i < base; i++) src += `    e${i}(w, v[${lit(i)}]); f = ${i + 1};\n`;
  if (tail) {
    src += `    if (full) {\n`;
    for (let i = base; i < n; i++) src += `      e${i}(w, v[${lit(i)}]); f = ${i + 1};\n`;
    src += `    }\n`;
  }
  src += `  } catch (e) { throw encWrap(e, names[f]); }\n};`;
  const params = encs.map((_, i) => `e${i}`);
  const factory = new Function(...params, 'encFail', 'encWrap', 'short', 'names', src);
  return factory(...encs, encFail, encWrap, short, names) as Enc;
}

function mapEncoder(kind: MapKind): Enc {
  const names = kind.fields.map((f) => f[0]);
  const encs = kind.fields.map((f) => compileEncoder(f[1]));
  return (w, v) => {
    if (v === null || typeof v !== 'object') encFail(`not a ${kind.name} map: ${short(v)}`);
    w.mapHeader(names.length);
    for (let i = 0; i < names.length; i++) {
      w.str(names[i]);
      const x = v[names[i]];
      try {
        if (x === null || x === undefined) w.nil(); // absent optional key: written as nil (canonical)
        else encs[i](w, x);
      } catch (e) {
        throw encWrap(e, names[i]);
      }
    }
  };
}

const encoderCache = new Map<Kind, Enc>();

function compileEncoder(kind: Kind): Enc {
  let e = encoderCache.get(kind);
  if (e) return e;
  switch (kind.k) {
    case 'u64': e = encU64; break;
    case 'uint': e = uintEncoder(kind.bits); break;
    case 'id': e = encId; break;
    case 'bytes': e = encBytes; break;
    case 'str': e = encStr; break;
    case 'bool': e = encBool; break;
    case 'opt': e = optEncoder(compileEncoder(kind.of)); break;
    case 'list': e = listEncoder(compileEncoder(kind.of)); break;
    case 'pair': e = pairEncoder(compileEncoder(kind.a), compileEncoder(kind.b)); break;
    case 'rec': e = recEncoder(kind); break;
    case 'map': e = mapEncoder(kind); break;
    case 'event': e = encEvent; break;
    case 'generic': e = encGeneric; break;
  }
  encoderCache.set(kind, e);
  return e;
}

const EVENT_ENCODERS = new Map<string, Enc>();
for (const [type, body] of Object.entries(EVENT_BODIES)) EVENT_ENCODERS.set(type, compileEncoder(body));

/**
 * Appends the canonical MessagePack form (SPEC 7.1) of `value` as `kind` to the writer.
 * Checks types and ranges (throws EncodeError naming the field); it does not apply the
 * content rules of SPEC 9.2 (a ZERO protocolStateId or a non-permutation DKG map encode).
 */
export function encodeRecord(w: ByteWriter, value: unknown, kind: Kind): void {
  compileEncoder(kind)(w, value);
}

const scratch = new ByteWriter(64 * 1024);

/** Canonical bytes of one value (a fresh copy). */
export function encodeToBytes(value: unknown, kind: Kind): Uint8Array {
  const w = scratch.reset();
  try {
    compileEncoder(kind)(w, value);
  } catch (e) {
    w.reset();
    throw e;
  }
  return w.toBytes();
}
