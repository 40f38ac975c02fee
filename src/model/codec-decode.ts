// MessagePack -> model (SPEC 7.1, 9.2): schema-directed decoders over a framed value, with
// errors naming the field. Composite nodes are generated code (codec-gen.ts).
import { readU16, readU32 } from './bytes.js';
import type { Kind, RecKind, MapKind } from './schema.js';
import { EVENT_BODIES } from './schema.js';
import { scanValue, scanInfo, framingCause } from './msgpack.js';
import { DecodeError } from './codec-errors.js';
import { checkRecord, hasRecordChecks } from './codec-checks.js';
import { generate, LIST_DECODER, numbered, OPT_DECODER, PAIR_DECODER, recordDecoderTemplate, schemaCompiler } from './codec-gen.js';

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
    case 0xc0:
      return 'nil';
    case 0xc1:
      return 'reserved byte 0xc1';
    case 0xc2:
      return 'false';
    case 0xc3:
      return 'true';
    case 0xc4:
      return `bin of ${b[p + 1]} bytes`;
    case 0xc5:
      return `bin of ${readU16(b, p + 1)} bytes`;
    case 0xc6:
      return `bin of ${readU32(b, p + 1)} bytes`;
    case 0xc7:
      return `ext type ${(b[p + 2] << 24) >> 24}`;
    case 0xc8:
      return `ext type ${(b[p + 3] << 24) >> 24}`;
    case 0xc9:
      return `ext type ${(b[p + 5] << 24) >> 24}`;
    case 0xca:
      return 'float32';
    case 0xcb:
      return 'float64';
    case 0xcc:
      return `integer ${b[p + 1]}`;
    case 0xcd:
      return `integer ${readU16(b, p + 1)}`;
    case 0xce:
      return `integer ${readU32(b, p + 1)}`;
    case 0xcf:
      return `integer ${(BigInt(readU32(b, p + 1)) << 32n) | BigInt(readU32(b, p + 5))}`;
    case 0xd0:
      return `integer ${(b[p + 1] << 24) >> 24}`;
    case 0xd1:
      return `integer ${(readU16(b, p + 1) << 16) >> 16}`;
    case 0xd2:
      return `integer ${readU32(b, p + 1) | 0}`;
    case 0xd3:
      return `integer ${(BigInt(readU32(b, p + 1) | 0) << 32n) | BigInt(readU32(b, p + 5))}`;
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return `ext type ${(b[p + 1] << 24) >> 24}`;
    case 0xd9:
      return `str of ${b[p + 1]} bytes`;
    case 0xda:
      return `str of ${readU16(b, p + 1)} bytes`;
    case 0xdb:
      return `str of ${readU32(b, p + 1)} bytes`;
    case 0xdc:
      return `array of ${readU16(b, p + 1)}`;
    case 0xdd:
      return `array of ${readU32(b, p + 1)}`;
    case 0xde:
      return `map of ${readU16(b, p + 1)}`;
    default:
      return `map of ${readU32(b, p + 1)}`; // 0xdf
  }
}

/**
 * The 8-, 16- or 32-bit length or value (`size` 0, 1, 2) after the type byte at p, the position
 * moved past it; -1 (position unchanged) for any other `size`.
 */
function sized(s: DState, p: number, size: number): number {
  const b = s.buf;
  switch (size) {
    case 0:
      s.pos = p + 2;
      return b[p + 1];
    case 1:
      s.pos = p + 3;
      return readU16(b, p + 1);
    case 2:
      s.pos = p + 5;
      return readU32(b, p + 1);
  }
  return -1;
}

/** A container header: the 4-bit count of the fix form (`fix`), or the 16/32-bit count (`t16`, `t16 + 1`); -1 if neither. */
function countOf(s: DState, fix: number, t16: number): number {
  const p = s.pos;
  const t = s.buf[p];
  if ((t & 0xf0) === fix) {
    s.pos = p + 1;
    return t & 15;
  }
  const k = t - t16;
  return k === 0 || k === 1 ? sized(s, p, k + 1) : -1;
}

/** Reads an array header; -1 (position unchanged) when the value is not an array. */
function arrayLen(s: DState): number {
  return countOf(s, 0x90, 0xdc);
}

/** Reads a map header; -1 (position unchanged) when the value is not a map. */
function mapLen(s: DState): number {
  return countOf(s, 0x80, 0xde);
}

/** Reads a bin header; returns the payload length (position at the payload) or -1. */
function binLen(s: DState): number {
  return sized(s, s.pos, s.buf[s.pos] - 0xc4);
}

/** Reads a str header; returns the payload length (position at the payload) or -1. */
function strLen(s: DState): number {
  const p = s.pos;
  const t = s.buf[p];
  if ((t & 0xe0) === 0xa0) {
    s.pos = p + 1;
    return t & 31;
  }
  return sized(s, p, t - 0xd9);
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
  if (t >= 0xcc && t <= 0xce) return sized(s, p, t - 0xcc);
  if (t === 0xcf || t === 0xd3) {
    const hi = readU32(b, p + 1);
    if (t === 0xd3 && hi >= 0x80000000) fail(`expected an unsigned integer, got ${describe(b, p)}`);
    const lo = readU32(b, p + 5);
    s.pos = p + 9;
    if (hi < 0x200000) return hi * TWO32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  if (t >= 0xd0 && t <= 0xd2 && b[p + 1] < 0x80) return sized(s, p, t - 0xd0);
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

function optDecoder(of: Dec): Dec {
  return generate<Dec>(OPT_DECODER, { of });
}

function listDecoder(of: Dec): Dec {
  return generate<Dec>(LIST_DECODER, { of, arrayLen, failAt, wrap });
}

function pairDecoder(a: Dec, b: Dec): Dec {
  return generate<Dec>(PAIR_DECODER, { a, b, arrayLen, failAt, wrap });
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
  if ((t & 0xf0) === 0x90 || t === 0xdc || t === 0xdd) return decGenericList(s);
  return fail(`unknown service event body: ${describe(b, s.pos)} is not allowed (SPEC 9.6)`);
}

const decGenericList = listDecoder(decGeneric);

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

function checkFail(field: string, cause: string): never {
  const e = new DecodeError(cause);
  e.path.push(field);
  throw e;
}

function recDecoder(kind: RecKind): Dec {
  const decs = kind.fields.map((f) => compileDecoder(f[1]));
  const names = kind.fields.map((f) => f[0]);
  const free = { ...numbered('d', decs), arrayLen, arity, wrap, checkRecord, checkFail, kind, names };
  return generate<Dec>(recordDecoderTemplate(kind, hasRecordChecks(kind)), free);
}

function mapDecoder(kind: MapKind): Dec {
  const index = new Map<string, number>();
  kind.fields.forEach((f, i) => {
    index.set(f[0], i);
  });
  const decs = kind.fields.map((f) => compileDecoder(f[1]));
  const optional = new Set(kind.optionalKeys ?? []);
  return (s) => {
    const n = mapLen(s);
    if (n < 0) return failAt(s, `${kind.name} (map)`);
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

/** The (cached) decoder function of a schema node. */
const compileDecoder = schemaCompiler<Dec>({
  u64: decU64,
  uint: uintDecoder,
  id: decId,
  bytes: decBytes,
  str: decStr,
  bool: decBool,
  event: decEvent,
  generic: decGeneric,
  opt: optDecoder,
  list: listDecoder,
  pair: pairDecoder,
  rec: recDecoder,
  map: mapDecoder,
});

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
