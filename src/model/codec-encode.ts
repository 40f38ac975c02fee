// model -> canonical MessagePack (SPEC 7.1): schema-directed encoders that check types and
// ranges and name the offending field. Records are generated code (codec-gen.ts).
import type { Kind, RecKind, MapKind } from './schema.js';
import { EVENT_BODIES } from './schema.js';
import * as U from './u64.js';
import { ByteWriter } from './msgpack.js';
import { EncodeError, fieldPath, short } from './codec-errors.js';
import { generate, numbered, recordEncoderTemplate, schemaCompiler } from './codec-gen.js';

type Enc = (w: ByteWriter, v: any) => void;

function encFail(reason: string): never {
  throw new EncodeError(reason);
}

function encWrap(e: unknown, seg: string | number): unknown {
  if (e instanceof EncodeError) {
    e.path.push(seg);
    e.message = `${fieldPath(e.path)}: ${e.reason}`;
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
  const encs = kind.fields.map((f) => compileEncoder(f[1]));
  const names = kind.fields.map((f) => f[0]);
  return generate<Enc>(recordEncoderTemplate(kind), { ...numbered('e', encs), encFail, encWrap, short, names });
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
        if (x === null || x === undefined)
          w.nil(); // absent optional key: written as nil (canonical)
        else encs[i](w, x);
      } catch (e) {
        throw encWrap(e, names[i]);
      }
    }
  };
}

/** The (cached) encoder function of a schema node. */
const compileEncoder = schemaCompiler<Enc>({
  u64: encU64,
  uint: uintEncoder,
  id: encId,
  bytes: encBytes,
  str: encStr,
  bool: encBool,
  event: encEvent,
  generic: encGeneric,
  opt: optEncoder,
  list: listEncoder,
  pair: pairEncoder,
  rec: recEncoder,
  map: mapEncoder,
});

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
