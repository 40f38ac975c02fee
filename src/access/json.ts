// Lossless JSON for Flow's Go `encoding/json` data (ACCESS.md 4.1, 5): a hand-written parser that
// keeps numbers as their decimal text and refuses duplicate keys, typed accessors that raise
// MappingError with the JSON path, and a writer that produces what Go's encoder would.
import { MappingError } from './errors.js';
import { parseHex, toHex } from '../model/bytes.js';
import { U64_MAX, u64 as normU64 } from '../model/u64.js';
import type { Bytes, Id, U64 } from '../model/types.js';

/** A JSON number, kept as the exact text it was written with. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** Objects keep their keys in document order. */
export type JsonObject = Map<string, JsonValue>;
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

export const MAX_DEPTH = 512;

// ---------------------------------------------------------------- parser

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Parser {
  pos = 0;
  depth = 0;

  constructor(
    readonly b: Uint8Array,
    readonly path: string,
  ) {}

  fail(reason: string, at = this.pos): never {
    throw new MappingError(this.path, `JSON syntax error at byte ${at}: ${reason}`);
  }

  ws(): void {
    const b = this.b;
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  value(): JsonValue {
    this.ws();
    if (this.pos >= this.b.length) this.fail('unexpected end of input');
    const c = this.b[this.pos];
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('null')) return null;
    return this.fail(`unexpected ${describeByte(c)}`);
  }

  word(w: string): boolean {
    for (let i = 0; i < w.length; i++) if (this.b[this.pos + i] !== w.charCodeAt(i)) return false;
    this.pos += w.length;
    return true;
  }

  enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
  }

  object(): JsonObject {
    this.enter();
    this.pos++;
    const out: JsonObject = new Map();
    this.ws();
    if (this.b[this.pos] === 0x7d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      const at = this.pos;
      if (this.b[this.pos] !== 0x22) this.fail('expected a string key');
      const key = this.string();
      if (out.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`, at);
      this.ws();
      if (this.b[this.pos] !== 0x3a) this.fail("expected ':'");
      this.pos++;
      out.set(key, this.value());
      this.ws();
      const c = this.b[this.pos++];
      if (c === 0x7d) break;
      if (c !== 0x2c) this.fail("expected ',' or '}'", this.pos - 1);
    }
    this.depth--;
    return out;
  }

  array(): JsonValue[] {
    this.enter();
    this.pos++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.b[this.pos] === 0x5d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.b[this.pos++];
      if (c === 0x5d) break;
      if (c !== 0x2c) this.fail("expected ',' or ']'", this.pos - 1);
    }
    this.depth--;
    return out;
  }

  string(): string {
    const b = this.b;
    const start = ++this.pos;
    let ascii = true;
    let escaped = false;
    for (;;) {
      if (this.pos >= b.length) this.fail('unterminated string', start - 1);
      const c = b[this.pos];
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in a string');
      if (c === 0x5c) {
        escaped = true;
        this.pos += 2;
        continue;
      }
      if (c >= 0x80) ascii = false;
      this.pos++;
    }
    const end = this.pos++;
    if (!escaped && ascii) return latin1(b, start, end);
    return this.decodeString(start, end);
  }

  decodeString(start: number, end: number): string {
    const b = this.b;
    let out = '';
    let run = start;
    const flush = (to: number) => {
      if (to > run) out += this.utf8(run, to);
    };
    for (let i = start; i < end; ) {
      if (b[i] !== 0x5c) {
        i++;
        continue;
      }
      flush(i);
      const e = b[i + 1];
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === 0x75) {
        const hex = latin1(b, i + 2, Math.min(i + 6, end));
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape', i);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        this.fail('bad escape', i);
      }
      run = i;
    }
    flush(end);
    return out;
  }

  utf8(from: number, to: number): string {
    try {
      return utf8.decode(this.b.subarray(from, to));
    } catch {
      return this.fail('invalid UTF-8 in a string', from);
    }
  }

  number(): JsonNumber {
    const b = this.b;
    const start = this.pos;
    if (b[this.pos] === 0x2d) this.pos++;
    if (b[this.pos] === 0x30) this.pos++;
    else if (!this.digits()) this.fail('bad number', start);
    if (b[this.pos] === 0x2e) {
      this.pos++;
      if (!this.digits()) this.fail('bad number', start);
    }
    if (b[this.pos] === 0x65 || b[this.pos] === 0x45) {
      this.pos++;
      if (b[this.pos] === 0x2b || b[this.pos] === 0x2d) this.pos++;
      if (!this.digits()) this.fail('bad number', start);
    }
    return new JsonNumber(latin1(b, start, this.pos));
  }

  digits(): boolean {
    const from = this.pos;
    while (this.b[this.pos] >= 0x30 && this.b[this.pos] <= 0x39) this.pos++;
    return this.pos > from;
  }
}

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

function latin1(b: Uint8Array, from: number, to: number): string {
  if (to - from > 24) return Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]);
  return s;
}

function describeByte(c: number): string {
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * Parses one JSON text (UTF-8 bytes, or a string taken as its UTF-8 encoding). Syntax errors,
 * duplicate keys, invalid UTF-8 and nesting beyond MAX_DEPTH throw MappingError(path, ...)
 * naming the byte offset.
 */
export function parseJson(input: string | Uint8Array, path = '$'): JsonValue {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const p = new Parser(bytes, path);
  const v = p.value();
  p.ws();
  if (p.pos !== bytes.length) p.fail('trailing data after the JSON value');
  return v;
}

// ---------------------------------------------------------------- accessors

export type Conv<T> = (v: JsonValue, path: string) => T;

function kindOf(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v instanceof JsonNumber) return `number ${v.text.length > 30 ? v.text.slice(0, 27) + '...' : v.text}`;
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  return `${v}`;
}

function expected(what: string, v: JsonValue, path: string): never {
  throw new MappingError(path, `expected ${what}, got ${kindOf(v)}`);
}

export function obj(v: JsonValue, path: string): JsonObject {
  return v instanceof Map ? v : expected('an object', v, path);
}

/** Every required key present, and no key outside required + optional (ACCESS 4.4, 6.6). */
export function exactKeys(o: JsonObject, required: readonly string[], optional: readonly string[], path: string): void {
  for (const k of required) if (!o.has(k)) throw new MappingError(`${path}.${k}`, 'missing key');
  for (const k of o.keys()) {
    if (!required.includes(k) && !optional.includes(k)) {
      throw new MappingError(`${path}.${k}`, `unknown key ${JSON.stringify(k)} (a newer flow-go struct? its id may cover it)`);
    }
  }
}

/** An object with an exact key set, read field by field with the field's path. */
export class Rec {
  constructor(
    readonly o: JsonObject,
    readonly path: string,
  ) {}

  get<T>(key: string, conv: Conv<T>): T {
    return conv(this.o.get(key) as JsonValue, `${this.path}.${key}`);
  }

  /** An optional key: `dflt` when absent. */
  opt<T>(key: string, conv: Conv<T>, dflt: T): T {
    const v = this.o.get(key);
    return v === undefined ? dflt : conv(v, `${this.path}.${key}`);
  }

  has(key: string): boolean {
    return this.o.has(key);
  }

  raw(key: string): JsonValue | undefined {
    return this.o.get(key);
  }
}

export function rec(v: JsonValue, path: string, required: readonly string[], optional: readonly string[] = []): Rec {
  const o = obj(v, path);
  exactKeys(o, required, optional, path);
  return new Rec(o, path);
}

const UINT_RE = /^(0|[1-9][0-9]*)$/;

function integerText(v: JsonValue, path: string): string {
  if (!(v instanceof JsonNumber)) return expected('a number', v, path);
  if (!UINT_RE.test(v.text)) {
    throw new MappingError(path, `expected a non-negative integer (no sign, fraction or exponent), got ${v.text}`);
  }
  return v.text;
}

/** uint64: a plain non-negative decimal integer ≤ 2^64-1, exact. */
export function u64(v: JsonValue, path: string): U64 {
  const text = integerText(v, path);
  if (text.length <= 15) return Number(text);
  const x = BigInt(text);
  if (x > U64_MAX) throw new MappingError(path, `integer ${text} is above the uint64 range (2^64-1)`);
  return normU64(x);
}

/** uint8/16/32. */
export function uint(v: JsonValue, bits: 8 | 16 | 32, path: string): number {
  const text = integerText(v, path);
  const max = 2 ** bits - 1;
  if (text.length > 10 || Number(text) > max) throw new MappingError(path, `integer ${text} is above the uint${bits} range (${max})`);
  return Number(text);
}

export function str(v: JsonValue, path: string): string {
  return typeof v === 'string' ? v : expected('a string', v, path);
}

export function bool(v: JsonValue, path: string): boolean {
  return typeof v === 'boolean' ? v : expected('true or false', v, path);
}

/** An array; `null` (a Go nil slice) is `[]`. */
export function arr(v: JsonValue, path: string): JsonValue[] {
  if (v === null) return [];
  return Array.isArray(v) ? v : expected('an array or null', v, path);
}

export function arrOf<T>(conv: Conv<T>): Conv<T[]> {
  return (v, path) => arr(v, path).map((x, i) => conv(x, `${path}[${i}]`));
}

export function nullable<T>(conv: Conv<T>): Conv<T | null> {
  return (v, path) => (v === null ? null : conv(v, path));
}

/** Hex text of any even length, either case; `null` is empty bytes (a nil key or slice). */
export function hexBytes(v: JsonValue, path: string): Bytes {
  if (v === null) return new Uint8Array(0);
  const s = str(v, path);
  const b = parseHex(s);
  if (b === null) throw new MappingError(path, `not hex: ${kindOf(s)}`);
  return b;
}

/** A flow.Identifier: exactly 64 hex digits (flow-go writes lowercase; either case is accepted, as Go's decoder does). */
export function hexId(v: JsonValue, path: string): Id {
  const s = str(v, path);
  const b = s.length === 64 ? parseHex(s) : null;
  if (b === null) throw new MappingError(path, `expected a 32-byte id (64 hex digits), got ${kindOf(s)}`);
  return b;
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding (RFC 4648 §4); `null` (a nil slice) is empty bytes. */
export function b64(v: JsonValue, path: string): Bytes {
  if (v === null) return new Uint8Array(0);
  const s = str(v, path);
  if (!B64_RE.test(s)) throw new MappingError(path, `not standard padded base64: ${kindOf(s)}`);
  return Uint8Array.from(Buffer.from(s, 'base64'));
}

// ---------------------------------------------------------------- writer (Go encoding/json style)

/** A JSON text fragment, produced by the functions below and combined with `wObj`/`wArr`. */
export type JsonText = string;

export const W_NULL: JsonText = 'null';

export function wNum(x: U64): JsonText {
  return typeof x === 'bigint' ? x.toString() : String(x);
}

export function wBool(b: boolean): JsonText {
  return b ? 'true' : 'false';
}

/** A string as Go escapes it: `<`, `>`, `&`, U+2028 and U+2029 as \u escapes. */
export function wStr(s: string): JsonText {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Bytes as base64 with padding; empty bytes as `null` (what Go writes for a nil slice). */
export function wB64(b: Bytes): JsonText {
  return b.length === 0 ? W_NULL : `"${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}"`;
}

/** Lowercase hex (an Identifier, or an encoded key); empty as `null` when `nilIfEmpty`. */
export function wHex(b: Bytes, nilIfEmpty = false): JsonText {
  if (nilIfEmpty && b.length === 0) return W_NULL;
  return `"${toHex(b)}"`;
}

/** An array; an empty one as `null` when `nilIfEmpty` (a Go nil slice). */
export function wArr(items: readonly JsonText[], nilIfEmpty = false): JsonText {
  if (nilIfEmpty && items.length === 0) return W_NULL;
  return `[${items.join(',')}]`;
}

/** An object with the keys in the order given (Go struct field order). */
export function wObj(entries: readonly (readonly [string, JsonText])[]): JsonText {
  let s = '{';
  for (let i = 0; i < entries.length; i++) s += `${i ? ',' : ''}${wStr(entries[i][0])}:${entries[i][1]}`;
  return s + '}';
}

/** A Go map: keys sorted by their text, as encoding/json writes them. */
export function wMap(entries: readonly (readonly [string, JsonText])[]): JsonText {
  return wObj([...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
