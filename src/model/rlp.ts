// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B), written straight into
// one reusable buffer: a list's payload is written first, then moved right by the size of its
// header. Nothing is allocated per item; `finish()` returns a view that is valid until the
// next `reset()`.
import type { U64 } from './types.js';

const SHORT_STRING = 0x80;
const LONG_STRING = 0xb7;
const SHORT_LIST = 0xc0;
const LONG_LIST = 0xf7;
const EMPTY_STRING = 0x80;
const EMPTY_LIST = 0xc0;

export class RlpWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly listStarts: number[] = [];

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
  }

  reset(): this {
    this.pos = 0;
    this.listStarts.length = 0;
    return this;
  }

  /** The encoding written since reset; a view into the writer's buffer. */
  finish(): Uint8Array {
    if (this.listStarts.length !== 0) throw new Error('rlp: unclosed list');
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unsigned integer: big-endian without leading zeros; 0 is the empty string. */
  u(x: U64): this {
    if (typeof x === 'number') {
      this.ensure(9);
      if (x === 0) {
        this.buf[this.pos++] = EMPTY_STRING;
      } else if (x < 0x80) {
        this.buf[this.pos++] = x;
      } else {
        let n = 0;
        for (let v = x; v > 0; v = Math.floor(v / 256)) n++;
        this.buf[this.pos++] = SHORT_STRING + n;
        for (let i = n - 1, v = x; i >= 0; i--, v = Math.floor(v / 256)) this.buf[this.pos + i] = v % 256;
        this.pos += n;
      }
      return this;
    }
    let n = 0;
    for (let v = x; v > 0n; v >>= 8n) n++;
    this.ensure(n + 1);
    this.buf[this.pos++] = SHORT_STRING + n;
    for (let i = n - 1, v = x; i >= 0; i--, v >>= 8n) this.buf[this.pos + i] = Number(v & 0xffn);
    this.pos += n;
    return this;
  }

  /** A byte string (ids, bytes). */
  s(b: Uint8Array): this {
    const n = b.length;
    if (n === 1 && b[0] < 0x80) {
      this.ensure(1);
      this.buf[this.pos++] = b[0];
      return this;
    }
    this.header(n, SHORT_STRING, LONG_STRING);
    this.buf.set(b, this.pos);
    this.pos += n;
    return this;
  }

  /** Text as its UTF-8 bytes. */
  str(t: string): this {
    let ascii = true;
    for (let i = 0; i < t.length; i++)
      if (t.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    if (!ascii) return this.s(Buffer.from(t, 'utf8'));
    const n = t.length;
    if (n === 1) {
      this.ensure(1);
      this.buf[this.pos++] = t.charCodeAt(0);
      return this;
    }
    this.header(n, SHORT_STRING, LONG_STRING);
    for (let i = 0; i < n; i++) this.buf[this.pos + i] = t.charCodeAt(i);
    this.pos += n;
    return this;
  }

  bool(b: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = b ? 0x01 : EMPTY_STRING;
    return this;
  }

  emptyList(): this {
    this.ensure(1);
    this.buf[this.pos++] = EMPTY_LIST;
    return this;
  }

  /** Pre-encoded RLP item(s). */
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  begin(): this {
    this.listStarts.push(this.pos);
    return this;
  }

  end(): this {
    const start = this.listStarts.pop();
    if (start === undefined) throw new Error('rlp: end() without begin()');
    const len = this.pos - start;
    const h = headerSize(len);
    this.ensure(h);
    this.buf.copyWithin(start + h, start, this.pos);
    writeHeader(this.buf, start, len, SHORT_LIST, LONG_LIST);
    this.pos += h;
    return this;
  }

  private header(len: number, short: number, long: number): void {
    const h = headerSize(len);
    this.ensure(h + len);
    writeHeader(this.buf, this.pos, len, short, long);
    this.pos += h;
  }
}

function byteLength(n: number): number {
  let k = 0;
  for (; n > 0; n = Math.floor(n / 256)) k++;
  return k;
}

function headerSize(len: number): number {
  return len < 56 ? 1 : 1 + byteLength(len);
}

function writeHeader(buf: Uint8Array, at: number, len: number, short: number, long: number): void {
  if (len < 56) {
    buf[at] = short + len;
    return;
  }
  const k = byteLength(len);
  buf[at] = long + k;
  for (let i = k, v = len; i >= 1; i--, v = Math.floor(v / 256)) buf[at + i] = v % 256;
}

// ---- strict decoder (tests and diagnostics; input data never arrives as RLP) ----

export type RlpItem = Uint8Array | RlpItem[];

/** Decodes exactly one item spanning all of `data`; rejects every non-canonical form. */
export function decodeRlp(data: Uint8Array): RlpItem {
  const [item, end] = decodeAt(data, 0, data.length);
  if (end !== data.length) throw new Error(`rlp: ${data.length - end} trailing bytes`);
  return item;
}

function decodeAt(d: Uint8Array, at: number, limit: number): [RlpItem, number] {
  if (at >= limit) throw new Error(`rlp: truncated at ${at}`);
  const b = d[at];
  if (b < 0x80) return [d.subarray(at, at + 1), at + 1];
  const isList = b >= SHORT_LIST;
  const base = isList ? SHORT_LIST : SHORT_STRING;
  let len: number;
  let start: number;
  if (b - base <= 55) {
    len = b - base;
    start = at + 1;
  } else {
    const k = b - base - 55;
    if (at + 1 + k > limit) throw new Error(`rlp: truncated length at ${at}`);
    if (d[at + 1] === 0) throw new Error(`rlp: length with leading zero at ${at}`);
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + d[at + 1 + i];
    if (len < 56) throw new Error(`rlp: long form for a short payload at ${at}`);
    start = at + 1 + k;
  }
  const end = start + len;
  if (end > limit) throw new Error(`rlp: payload past the end at ${at}`);
  if (!isList) {
    if (len === 1 && d[start] < 0x80) throw new Error(`rlp: single byte < 0x80 wrapped as a string at ${at}`);
    return [d.subarray(start, end), end];
  }
  const items: RlpItem[] = [];
  for (let p = start; p < end; ) {
    const [item, next] = decodeAt(d, p, end);
    items.push(item);
    p = next;
  }
  return [items, end];
}

/** Reads an RLP string item as an unsigned integer, rejecting leading zeros. */
export function rlpUint(item: RlpItem): bigint {
  if (Array.isArray(item)) throw new Error('rlp: expected a string, got a list');
  if (item.length > 0 && item[0] === 0) throw new Error('rlp: integer with leading zero');
  let v = 0n;
  for (const b of item) v = (v << 8n) | BigInt(b);
  return v;
}
