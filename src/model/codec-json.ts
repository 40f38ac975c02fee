// JSON <-> model (SPEC 8, 9.2): the JSON form of model values that the conformance vectors and
// the HTTP API use, converted by the record shapes of schema.ts (not Flow's JSON: src/access).
import type { Kind, RecKind, MapKind } from './schema.js';
import { EVENT_BODIES } from './schema.js';
import * as U from './u64.js';
import type { U64 } from './types.js';
import { parseHex, toHex } from './bytes.js';
import { JsonShapeError, short } from './codec-errors.js';
import { checkRecord } from './codec-checks.js';

function bytesOfHex(s: unknown, what: string): Uint8Array {
  const b = typeof s === 'string' ? parseHex(s) : null;
  if (b === null) throw new TypeError(`${what}: expected a hex string, got ${short(s)}`);
  return b;
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
  return Object.hasOwn(EVENT_BODIES, type) ? EVENT_BODIES[type] : undefined;
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
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new JsonShapeError('', `expected uint${kind.bits}, got ${short(json)}`);
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
    if (present !== 0 && present !== tail) throw new JsonShapeError('', `${kind.name}: the last ${tail} fields must be present together or absent`);
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

/**
 * How toJson writes a u64: `field` is the `Record.field` (schema names) holding it, null in
 * generic bodies. The default is the vectors' form; outputs use model/json-u64.ts.
 */
export type U64Form = (value: U64, field: string | null) => unknown;

const vectorU64: U64Form = (x) => U.toJson(x);

/** The JSON form of a model value (inverse of fromJson; generic `bin` becomes hex, like `str` it is a string). */
export function toJson(value: any, kind: Kind, u64: U64Form = vectorU64, field: string | null = null): any {
  switch (kind.k) {
    case 'u64':
      return u64(value, field);
    case 'uint':
    case 'str':
    case 'bool':
      return value;
    case 'id':
    case 'bytes':
      return toHex(value);
    case 'opt':
      return value === null || value === undefined ? null : toJson(value, kind.of, u64, field);
    case 'list': {
      const out = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = toJson(value[i], kind.of, u64, field);
      return out;
    }
    case 'pair':
      return [toJson(value[0], kind.a, u64, field), toJson(value[1], kind.b, u64, field)];
    case 'rec': {
      const out: Record<string, unknown> = {};
      for (const [name, fk] of kind.fields) {
        const v = value[name];
        if (v === undefined) continue; // absent optional tail
        out[name] = toJson(v, fk, u64, `${kind.name}.${name}`);
      }
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [name, fk] of kind.fields) {
        const v = value[name];
        out[name] = v === undefined || v === null ? null : toJson(v, fk, u64, `${kind.name}.${name}`);
      }
      return out;
    }
    case 'event': {
      const body = value.unknown ? undefined : bodyOf(value.type);
      return { type: value.type, event: body ? toJson(value.event, body, u64) : genericToJson(value.event, u64) };
    }
    case 'generic':
      return genericToJson(value, u64);
  }
}

function genericToJson(v: any, u64: U64Form): any {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return u64(v, null);
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map((x) => genericToJson(x, u64));
  throw new TypeError(`not a generic value: ${short(v)}`);
}
