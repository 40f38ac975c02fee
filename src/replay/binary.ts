// Fixed-layout binary fields for the replay's own records (facts from the workers, stored
// results): big-endian integers, 32-byte ids, length-prefixed UTF-8, and u64 values tagged as
// absent, a JS number or a bigint. One reusable buffer per writer, no per-field allocation.
import { GrowableBytes } from '../model/bytes.js';
import type { U64 } from '../model/types.js';

const NO_TEXT = 0xffff;

export class FieldWriter extends GrowableBytes {
  declare buf: Buffer;

  protected override alloc(n: number): Buffer {
    return Buffer.allocUnsafe(n);
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  override view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  u8(x: number): void {
    this.ensure(1);
    this.buf[this.pos++] = x;
  }
  u16(x: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(x, this.pos);
  }
  u32(x: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(x, this.pos);
  }
  f64(x: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(x, this.pos);
  }
  patchU32(at: number, x: number): void {
    this.buf.writeUInt32BE(x, at);
  }
  id(x: Uint8Array): void {
    this.ensure(32);
    this.buf.set(x, this.pos);
    this.pos += 32;
  }
  /** A 32-byte id given as 64 hex digits. */
  hexId(x: string): void {
    this.ensure(32);
    this.pos += this.buf.write(x, this.pos, 32, 'hex');
  }
  bytes(x: Uint8Array): void {
    this.ensure(x.length);
    this.buf.set(x, this.pos);
    this.pos += x.length;
  }
  /** UTF-8 with a u16 length; null is a length of 0xffff. */
  text(x: string | null): void {
    if (x === null) return this.u16(NO_TEXT);
    const n = Buffer.byteLength(x, 'utf8');
    this.u16(n);
    this.ensure(n);
    this.pos += this.buf.write(x, this.pos, n, 'utf8');
  }
  /** A u64: 0 = null, 1 = a JS number (f64), 2 = a bigint (8 bytes). */
  u64(x: U64 | null): void {
    if (x === null) return this.u8(0);
    if (typeof x === 'number') {
      this.u8(1);
      return this.f64(x);
    }
    this.u8(2);
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64BE(x, this.pos);
  }
}

export class FieldReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    at = 0,
  ) {
    this.pos = at;
  }

  u8(): number {
    return this.buf[this.pos++];
  }
  u16(): number {
    const x = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return x;
  }
  u32(): number {
    const x = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return x;
  }
  f64(): number {
    const x = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return x;
  }
  /** A copy of the next 32 bytes (owns its memory: the buffer read from may be reused). */
  id(): Uint8Array {
    const x = new Uint8Array(32);
    x.set(this.buf.subarray(this.pos, this.pos + 32));
    this.pos += 32;
    return x;
  }
  /** A view of the next 32 bytes (a plain Uint8Array). */
  idView(): Uint8Array {
    const x = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, 32);
    this.pos += 32;
    return x;
  }
  hexId(): string {
    const x = this.buf.toString('hex', this.pos, this.pos + 32);
    this.pos += 32;
    return x;
  }
  text(): string | null {
    const n = this.u16();
    if (n === NO_TEXT) return null;
    const x = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return x;
  }
  skipU64(): void {
    const tag = this.u8();
    if (tag !== 0) this.pos += 8;
  }
  u64(): U64 | null {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag === 1) return this.f64();
    const x = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return x;
  }
}
