// Plain MessagePack for the archive (SPEC 7.1): a framing scanner that finds where one value
// ends without building anything, and a canonical writer. msgpackr is deliberately not used:
// its encoder defaults are not canonical and its decoder builds generic trees.
import { GrowableBytes, readU32 } from './bytes.js';

// ---------------------------------------------------------------- framing scanner

/** scanValue result: the value is incomplete in [pos, end) (a header or elements are missing). */
export const SCAN_TRUNCATED = -1;
/** scanValue result: the never-used type byte 0xc1 (offset in `scanInfo.at`). */
export const SCAN_RESERVED_C1 = -2;
/** scanValue result: a str/bin/ext length runs past `end` (header offset in `scanInfo.at`). */
export const SCAN_LENGTH_PAST_END = -3;

export type FramingCause = 'truncated' | 'reserved byte 0xc1' | 'length past end';

export function framingCause(code: number): FramingCause {
  return code === SCAN_RESERVED_C1 ? 'reserved byte 0xc1' : code === SCAN_LENGTH_PAST_END ? 'length past end' : 'truncated';
}

/**
 * Details of the last failed scanValue call (a shared object: no allocation per call).
 * `at`: offset of the byte where the problem was found; `need`: a lower bound of the end
 * offset the value needs (for SCAN_TRUNCATED / SCAN_LENGTH_PAST_END), so a streaming reader
 * can read exactly enough or tell that even the whole file is too short. `itemNeed`: the end
 * offset the failing item itself needs (its header, or its header and declared payload): when
 * that lies past the end of the file, the error is final whatever follows.
 */
export const scanInfo = { at: 0, need: 0, itemNeed: 0 };

/**
 * Finds the end of the one MessagePack value starting at `pos` in `buf[.. end)`.
 * Returns the end offset (> pos) or a negative SCAN_* code. Iterative, no stack and no
 * allocation: it only counts how many values remain (an array adds n, a map 2n).
 */
export function scanValue(buf: Uint8Array, pos: number, end: number): number {
  let remaining = 1;
  while (remaining > 0) {
    if (pos >= end) return truncated(pos, pos + remaining, pos + 1);
    const b = buf[pos];
    remaining--;
    if (b < 0xc0) {
      if (b < 0x80) {
        pos++; // positive fixint
      } else if (b < 0x90) {
        remaining += 2 * (b & 0x0f); // fixmap
        pos++;
      } else if (b < 0xa0) {
        remaining += b & 0x0f; // fixarray
        pos++;
      } else {
        const n = b & 0x1f; // fixstr
        if (pos + 1 + n > end) return pastEnd(pos, pos + 1 + n + remaining, pos + 1 + n);
        pos += 1 + n;
      }
      continue;
    }
    if (b >= 0xe0) {
      pos++; // negative fixint
      continue;
    }
    switch (b) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        pos++;
        break;
      case 0xc1:
        scanInfo.at = pos;
        scanInfo.need = pos;
        scanInfo.itemNeed = pos;
        return SCAN_RESERVED_C1;
      case 0xc4: // bin 8
      case 0xd9: // str 8
        if (pos + 2 > end) return truncated(pos, pos + 2 + remaining, pos + 2);
        {
          const n = buf[pos + 1];
          if (pos + 2 + n > end) return pastEnd(pos, pos + 2 + n + remaining, pos + 2 + n);
          pos += 2 + n;
        }
        break;
      case 0xc5: // bin 16
      case 0xda: // str 16
        if (pos + 3 > end) return truncated(pos, pos + 3 + remaining, pos + 3);
        {
          const n = (buf[pos + 1] << 8) | buf[pos + 2];
          if (pos + 3 + n > end) return pastEnd(pos, pos + 3 + n + remaining, pos + 3 + n);
          pos += 3 + n;
        }
        break;
      case 0xc6: // bin 32
      case 0xdb: // str 32
        if (pos + 5 > end) return truncated(pos, pos + 5 + remaining, pos + 5);
        {
          const n = readU32(buf, pos + 1);
          if (pos + 5 + n > end) return pastEnd(pos, pos + 5 + n + remaining, pos + 5 + n);
          pos += 5 + n;
        }
        break;
      case 0xc7: // ext 8
        if (pos + 3 > end) return truncated(pos, pos + 3 + remaining, pos + 3);
        {
          const n = buf[pos + 1];
          if (pos + 3 + n > end) return pastEnd(pos, pos + 3 + n + remaining, pos + 3 + n);
          pos += 3 + n;
        }
        break;
      case 0xc8: // ext 16
        if (pos + 4 > end) return truncated(pos, pos + 4 + remaining, pos + 4);
        {
          const n = (buf[pos + 1] << 8) | buf[pos + 2];
          if (pos + 4 + n > end) return pastEnd(pos, pos + 4 + n + remaining, pos + 4 + n);
          pos += 4 + n;
        }
        break;
      case 0xc9: // ext 32
        if (pos + 6 > end) return truncated(pos, pos + 6 + remaining, pos + 6);
        {
          const n = readU32(buf, pos + 1);
          if (pos + 6 + n > end) return pastEnd(pos, pos + 6 + n + remaining, pos + 6 + n);
          pos += 6 + n;
        }
        break;
      case 0xca: // float 32
      case 0xce: // uint 32
      case 0xd2: // int 32
        pos += 5;
        if (pos > end) return truncated(pos - 5, pos + remaining, pos);
        break;
      case 0xcb: // float 64
      case 0xcf: // uint 64
      case 0xd3: // int 64
        pos += 9;
        if (pos > end) return truncated(pos - 9, pos + remaining, pos);
        break;
      case 0xcc:
      case 0xd0:
        pos += 2;
        if (pos > end) return truncated(pos - 2, pos + remaining, pos);
        break;
      case 0xcd:
      case 0xd1:
        pos += 3;
        if (pos > end) return truncated(pos - 3, pos + remaining, pos);
        break;
      case 0xd4: // fixext 1
        pos += 3;
        if (pos > end) return truncated(pos - 3, pos + remaining, pos);
        break;
      case 0xd5: // fixext 2
        pos += 4;
        if (pos > end) return truncated(pos - 4, pos + remaining, pos);
        break;
      case 0xd6: // fixext 4
        pos += 6;
        if (pos > end) return truncated(pos - 6, pos + remaining, pos);
        break;
      case 0xd7: // fixext 8
        pos += 10;
        if (pos > end) return truncated(pos - 10, pos + remaining, pos);
        break;
      case 0xd8: // fixext 16
        pos += 18;
        if (pos > end) return truncated(pos - 18, pos + remaining, pos);
        break;
      case 0xdc: // array 16
        if (pos + 3 > end) return truncated(pos, pos + 3 + remaining, pos + 3);
        remaining += (buf[pos + 1] << 8) | buf[pos + 2];
        pos += 3;
        break;
      case 0xdd: // array 32
        if (pos + 5 > end) return truncated(pos, pos + 5 + remaining, pos + 5);
        remaining += readU32(buf, pos + 1);
        pos += 5;
        break;
      case 0xde: // map 16
        if (pos + 3 > end) return truncated(pos, pos + 3 + remaining, pos + 3);
        remaining += 2 * ((buf[pos + 1] << 8) | buf[pos + 2]);
        pos += 3;
        break;
      case 0xdf: // map 32
        if (pos + 5 > end) return truncated(pos, pos + 5 + remaining, pos + 5);
        remaining += 2 * readU32(buf, pos + 1);
        pos += 5;
        break;
    }
  }
  return pos;
}

function truncated(at: number, need: number, itemNeed: number): number {
  scanInfo.at = at;
  scanInfo.need = need;
  scanInfo.itemNeed = itemNeed;
  return SCAN_TRUNCATED;
}

function pastEnd(at: number, need: number, itemNeed: number): number {
  scanInfo.at = at;
  scanInfo.need = need;
  scanInfo.itemNeed = itemNeed;
  return SCAN_LENGTH_PAST_END;
}

// ---------------------------------------------------------------- canonical writer

const TWO32 = 0x100000000;
const BIG_U64_MAX = (1n << 64n) - 1n;
const BIG_MASK32 = 0xffffffffn;

/**
 * A growable byte buffer writing canonical MessagePack (SPEC 7.1): unsigned integers in the
 * shortest unsigned form, shortest str/bin/array/map headers, nil, true/false. It has no
 * float or signed forms. Reuse one writer with `reset()` to avoid reallocations.
 */
export class ByteWriter extends GrowableBytes {
  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 0xc3 : 0xc2;
  }

  /** A non-negative integer (number: safe integer; bigint: up to 2^64-1), shortest unsigned form. */
  uint(v: number | bigint): void {
    if (typeof v === 'number') {
      if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v)) throw new RangeError(`not an unsigned integer: ${v}`);
      this.uintNumber(v);
      return;
    }
    if (typeof v !== 'bigint' || v < 0n || v > BIG_U64_MAX) throw new RangeError(`not a u64: ${String(v)}`);
    if (v <= 0xffffffffn) {
      this.uintNumber(Number(v));
      return;
    }
    this.ensure(9);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0xcf;
    p = w32(b, p, Number((v >> 32n) & BIG_MASK32));
    this.pos = w32(b, p, Number(v & BIG_MASK32));
  }

  /** Unchecked fast path: v must be a safe non-negative integer. */
  uintNumber(v: number): void {
    this.ensure(9);
    const b = this.buf;
    let p = this.pos;
    if (v < 0x80) {
      b[p++] = v;
    } else if (v < 0x100) {
      b[p++] = 0xcc;
      b[p++] = v;
    } else if (v < 0x10000) {
      b[p++] = 0xcd;
      b[p++] = v >>> 8;
      b[p++] = v & 0xff;
    } else if (v < TWO32) {
      b[p++] = 0xce;
      p = w32(b, p, v);
    } else {
      b[p++] = 0xcf;
      p = w32(b, p, Math.floor(v / TWO32));
      p = w32(b, p, v >>> 0);
    }
    this.pos = p;
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      b[this.pos] = 0xdc;
      b[this.pos + 1] = n >>> 8;
      b[this.pos + 2] = n & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xdd;
      this.pos = w32(b, this.pos + 1, n);
    }
  }

  mapHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      b[this.pos] = 0xde;
      b[this.pos + 1] = n >>> 8;
      b[this.pos + 2] = n & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xdf;
      this.pos = w32(b, this.pos + 1, n);
    }
  }

  binHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos] = 0xc4;
      b[this.pos + 1] = n;
      this.pos += 2;
    } else if (n < 0x10000) {
      b[this.pos] = 0xc5;
      b[this.pos + 1] = n >>> 8;
      b[this.pos + 2] = n & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xc6;
      this.pos = w32(b, this.pos + 1, n);
    }
  }

  strHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 32) b[this.pos++] = 0xa0 | n;
    else if (n < 0x100) {
      b[this.pos] = 0xd9;
      b[this.pos + 1] = n;
      this.pos += 2;
    } else if (n < 0x10000) {
      b[this.pos] = 0xda;
      b[this.pos + 1] = n >>> 8;
      b[this.pos + 2] = n & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xdb;
      this.pos = w32(b, this.pos + 1, n);
    }
  }

  bin(v: Uint8Array): void {
    const n = v.length;
    this.binHeader(n);
    this.ensure(n);
    if (n <= 48) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = v[i];
      this.pos = p;
    } else {
      this.buf.set(v, this.pos);
      this.pos += n;
    }
  }

  /** Raw bytes, no header (an already-encoded value). */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  str(s: string): void {
    const len = s.length;
    // ASCII fast path: byte length == string length
    if (len < 0x100) {
      let ascii = true;
      for (let i = 0; i < len; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.strHeader(len);
        this.ensure(len);
        const b = this.buf;
        let p = this.pos;
        for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
        this.pos = p;
        return;
      }
    }
    const n = utf8Length(s);
    this.strHeader(n);
    this.ensure(n);
    const r = encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + n));
    if (r.written !== n) throw new Error('utf-8 length mismatch');
    this.pos += n;
  }
}

const encoder = new TextEncoder();

/** UTF-8 byte length, counting a lone surrogate as U+FFFD (3 bytes) like TextEncoder. */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function w32(b: Uint8Array, p: number, v: number): number {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
  return p + 4;
}
