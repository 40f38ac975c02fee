// The `.spork` archive (SPEC 7.1): a header value then one value per block, plain canonical
// MessagePack written back to back.
//
// Record numbering: the header is record 0, blocks are numbered 1, 2, ... in file order (the
// `record` field of the scenario report lines uses the same numbers). `offset` is the byte
// offset of the record's first byte in the file.
//
// Reading is streaming and bounded: the file is read in chunks (default 2 MiB) into fresh
// buffers; each record's `bytes` (and the ids/bytes of its decoded value) are views into the
// chunk it was cut from, so a chunk is freed once nothing refers to its records any more
// (pass `copy: true` to give every record its own buffer instead). A framing error
// (truncation, byte 0xc1, a length past the end) stops the iteration with an
// ArchiveFramingError after every record before it has been yielded (SPEC 9.2); content
// errors are per record (`error`), and never stop the iteration. Work and memory are bounded
// per input byte: records are framed in steps of at most FRAMES_PER_STEP, and an archive
// stops at the first record past MAX_SHORT_RECORDS that are too short to be blocks.
import { open, type FileHandle } from 'node:fs/promises';
import type { BlockRecord, RootSnapshot } from './types.js';
import { ArchiveHeader, BlockRecord as BlockRecordKind, RootSnapshot as RootSnapshotKind } from './schema.js';
import { ByteWriter, scanValue, scanInfo, framingCause, SCAN_RESERVED_C1, type FramingCause } from './msgpack.js';
import { DecodeError, decodeFramed, encodeRecord, peekClaimedId } from './codec.js';

export const ARCHIVE_FORMAT = 'spork-archive';
export const ARCHIVE_VERSION = 1;

/** A content error of one record: the dotted field path and what was wrong. */
export interface RecordError {
  field: string;
  cause: string;
}

export interface ArchiveHeaderEntry {
  type: 'header';
  record: 0;
  offset: 0;
  bytes: Uint8Array;
  value: RootSnapshot;
}

export interface ArchiveBlockEntry {
  type: 'block';
  /** 1-based block record number (the header is record 0). */
  record: number;
  /** Byte offset of the record in the file. */
  offset: number;
  /** The exact raw bytes of the record. */
  bytes: Uint8Array;
  /** The decoded record (absent when `error` is set, or when decoding was turned off). */
  value?: BlockRecord;
  /** Why the record does not fit the model (SPEC 9.2 `decode-error`). */
  error?: RecordError;
  /** The claimed block id: element 0 when it is a 32-byte bin, else null (SPEC 9.4). */
  claimedId: Uint8Array | null;
}

export type ArchiveEntry = ArchiveHeaderEntry | ArchiveBlockEntry;

/**
 * A record shorter than this cannot decode: a block record holds at least four 32-byte ids
 * (its blockId, the header's parentId, proposerId and payloadHash) and the payload's
 * protocolStateId, 170 bytes with their `bin` headers. Such records only cost: see
 * MAX_SHORT_RECORDS.
 */
export const MIN_BLOCK_RECORD_BYTES = 128;
/**
 * Records shorter than MIN_BLOCK_RECORD_BYTES an archive may hold before it stops as
 * malformed. Each record costs the store and the report a few hundred bytes whatever its own
 * size: without a cap, a 1 MB file of one-byte records would cost gigabytes; with it, the work
 * per input byte is bounded (every other record is at least MIN_BLOCK_RECORD_BYTES long).
 */
export const MAX_SHORT_RECORDS = 4096;

/** Why an archive stops: a framing error (SPEC 9.2), or too many records too short to be blocks. */
export type ArchiveStopCause = FramingCause | `more than ${number} records too short to be blocks`;

/**
 * Truncation, byte 0xc1 or a length running past the end: the archive stops here (SPEC 9.2).
 * Also thrown at the first record past MAX_SHORT_RECORDS short ones.
 */
export class ArchiveFramingError extends Error {
  /** Record number (0 = header) and the byte offset of that record's first byte. */
  readonly record: number;
  readonly offset: number;
  /** Byte offset where the problem was found (the 0xc1 byte, the cut header, ...). */
  readonly at: number;
  override readonly cause: ArchiveStopCause;

  constructor(record: number, offset: number, at: number, cause: ArchiveStopCause, path?: string) {
    super(`${path ? path + ': ' : ''}malformed archive at record ${record} (byte offset ${offset}): ${cause} (at byte ${at})`);
    this.name = 'ArchiveFramingError';
    this.record = record;
    this.offset = offset;
    this.at = at;
    this.cause = cause;
  }
}

/** The first value is not a valid archive header: a fatal input error. */
export class ArchiveHeaderError extends Error {
  readonly field: string;
  override readonly cause: string;
  constructor(field: string, cause: string, path?: string) {
    super(`${path ? path + ': ' : ''}invalid archive header${field ? ` at ${field}` : ''}: ${cause}`);
    this.name = 'ArchiveHeaderError';
    this.field = field;
    this.cause = cause;
  }
}

export interface ArchiveReaderOptions {
  /** Read size in bytes (default 2 MiB). A record larger than this gets a buffer of its own size. */
  chunkSize?: number;
  /** Decode every block record (default true). When false, only `bytes` and `claimedId` are given. */
  decode?: boolean;
  /** Give each record (and its decoded value) its own copy of the bytes (default false: views into the chunk). */
  copy?: boolean;
  /** Records shorter than MIN_BLOCK_RECORD_BYTES allowed before the archive stops (default MAX_SHORT_RECORDS). */
  maxShortRecords?: number;
}

/** Records framed per step of the reader: bounds the memory of one step, whatever the record sizes. */
const FRAMES_PER_STEP = 4096;

function tooManyShort(max: number): ArchiveStopCause {
  return `more than ${max} records too short to be blocks`;
}

/** The header value (`{format, version, root}`) decoded, checked; throws ArchiveHeaderError. */
export function decodeArchiveHeaderBytes(buf: Uint8Array, start = 0, end = buf.length): RootSnapshot {
  let h: { format: string; version: unknown; root: RootSnapshot };
  const e = scanValue(buf, start, end);
  if (e < 0) throw new ArchiveHeaderError('', `not one complete MessagePack value: ${framingCause(e)}`);
  if (e !== end) throw new ArchiveHeaderError('', `${end - e} trailing bytes after the header`);
  try {
    h = decodeFramed(buf, start, end, ArchiveHeader);
  } catch (e) {
    if (e instanceof DecodeError) throw new ArchiveHeaderError(e.field, e.cause);
    throw e;
  }
  if (h.format !== ARCHIVE_FORMAT) throw new ArchiveHeaderError('format', `expected "${ARCHIVE_FORMAT}", got ${JSON.stringify(h.format)}`);
  if (h.version !== ARCHIVE_VERSION) throw new ArchiveHeaderError('version', `unsupported archive version ${String(h.version)} (expected ${ARCHIVE_VERSION})`);
  return h.root;
}

/** Decodes one block record from raw bytes; usable by worker threads on stored bytes. */
export function decodeBlockRecordBytes(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): { value?: BlockRecord; error?: RecordError; claimedId: Uint8Array | null } {
  const e = scanValue(bytes, start, end);
  if (e < 0) return { error: { field: '', cause: `not one complete MessagePack value: ${framingCause(e)}` }, claimedId: null };
  if (e !== end) return { error: { field: '', cause: `${end - e} trailing bytes after the record` }, claimedId: peekClaimedId(bytes, start, e) };
  return decodeFramedBlock(bytes, start, end);
}

function decodeFramedBlock(buf: Uint8Array, start: number, end: number): { value?: BlockRecord; error?: RecordError; claimedId: Uint8Array | null } {
  const claimedId = peekClaimedId(buf, start, end);
  try {
    return { value: decodeFramed<BlockRecord>(buf, start, end, BlockRecordKind), claimedId };
  } catch (e) {
    if (e instanceof DecodeError) return { error: { field: e.field, cause: e.cause }, claimedId };
    throw e;
  }
}

function blockEntry(record: number, offset: number, bytes: Uint8Array, decode: boolean): ArchiveBlockEntry {
  if (!decode) return { type: 'block', record, offset, bytes, claimedId: peekClaimedId(bytes, 0, bytes.length) };
  const r = decodeFramedBlock(bytes, 0, bytes.length);
  const entry: ArchiveBlockEntry = { type: 'block', record, offset, bytes, claimedId: r.claimedId };
  if (r.error) entry.error = r.error;
  else entry.value = r.value;
  return entry;
}

function viewOf(buf: Uint8Array, start: number, end: number, copy: boolean): Uint8Array {
  if (copy) return buf.slice(start, end);
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

/**
 * Streams an archive file: `for await (const e of new ArchiveReader(path))` yields the header
 * entry first, then one entry per block record; or call `readHeader()` then iterate
 * `blocks()` (or `batches()`, arrays of records, cheaper for millions of records).
 * Throws ArchiveHeaderError for a bad header and ArchiveFramingError at a framing error.
 */
export class ArchiveReader implements AsyncIterable<ArchiveEntry> {
  readonly path: string;
  private readonly chunkSize: number;
  private readonly decode: boolean;
  private readonly copy: boolean;
  private fh: FileHandle | null = null;
  private size = 0;
  // buffered window of the file: buf[0] is at file offset bufOff; valid data is buf[0, len)
  private buf: Uint8Array = new Uint8Array(0);
  private bufOff = 0;
  private pos = 0;
  private len = 0;
  private nextRecord = 0;
  private headerEntry: ArchiveHeaderEntry | null = null;
  private started = false;
  private readonly maxShort: number;
  private shortRecords = 0;
  /** Block records framed so far. */
  blocksRead = 0;

  constructor(path: string, opts: ArchiveReaderOptions = {}) {
    this.path = path;
    this.chunkSize = Math.max(4096, opts.chunkSize ?? 2 * 1024 * 1024);
    this.decode = opts.decode ?? true;
    this.copy = opts.copy ?? false;
    this.maxShort = opts.maxShortRecords ?? MAX_SHORT_RECORDS;
  }

  /** File size in bytes (known after the header was read). */
  get fileSize(): number {
    return this.size;
  }

  /** File offset of the next unread record (after the header once it was read). */
  get position(): number {
    return this.bufOff + this.pos;
  }

  /**
   * Continues at a record boundary found earlier (an interrupted import): the next record is
   * read at byte `offset` and numbered `record`. Call after `readHeaderEntry`, before iterating.
   */
  resumeAt(offset: number, record: number): void {
    if (!this.headerEntry || this.started) throw new Error('ArchiveReader.resumeAt: call after the header, before the records');
    if (offset < this.position || offset > this.size) throw new RangeError(`ArchiveReader.resumeAt: offset ${offset} outside the file`);
    this.buf = new Uint8Array(0);
    this.bufOff = offset;
    this.pos = 0;
    this.len = 0;
    this.nextRecord = record;
  }

  /** Reads, decodes and checks the header (once). */
  async readHeader(): Promise<RootSnapshot> {
    return (await this.readHeaderEntry()).value;
  }

  async readHeaderEntry(): Promise<ArchiveHeaderEntry> {
    if (this.headerEntry) return this.headerEntry;
    if (!this.fh) {
      this.fh = await open(this.path, 'r');
      this.size = (await this.fh.stat()).size;
    }
    let end = this.frame();
    while (end === NEED_MORE) {
      await this.fill();
      end = this.frame();
    }
    if (end === DONE) {
      await this.close();
      throw new ArchiveFramingError(0, 0, 0, 'truncated', this.path);
    }
    const start = this.pos;
    const bytes = viewOf(this.buf, start, end, true); // the header is kept for the whole run: own copy
    this.pos = end;
    this.nextRecord = 1;
    let value: RootSnapshot;
    try {
      value = decodeArchiveHeaderBytes(bytes);
    } catch (e) {
      await this.close();
      if (e instanceof ArchiveHeaderError) throw new ArchiveHeaderError(e.field, e.cause, this.path);
      throw e;
    }
    this.headerEntry = { type: 'header', record: 0, offset: 0, bytes, value };
    return this.headerEntry;
  }

  /**
   * Block records in arrays of at most `maxBatch` (default 256), in file order; cheaper than
   * blocks() for millions of records. Ends normally at the end of the file; at a framing error
   * yields the records before it, then throws ArchiveFramingError.
   */
  async *batches(maxBatch = 256): AsyncGenerator<ArchiveBlockEntry[], void, undefined> {
    for await (const frames of this.frames()) {
      // decode a few at a time: a whole chunk of decoded records alive at once costs a lot of GC
      for (let i = 0; i < frames.length; i += maxBatch) {
        const n = Math.min(maxBatch, frames.length - i);
        const batch: ArchiveBlockEntry[] = new Array(n);
        for (let j = 0; j < n; j++) {
          const f = frames[i + j];
          batch[j] = blockEntry(f.record, f.offset, f.bytes, this.decode);
          frames[i + j] = EMPTY_FRAME;
        }
        yield batch;
      }
    }
  }

  /** Block records one by one (decoded when yielded). */
  async *blocks(): AsyncGenerator<ArchiveBlockEntry, void, undefined> {
    for await (const frames of this.frames()) {
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i];
        frames[i] = EMPTY_FRAME;
        yield blockEntry(f.record, f.offset, f.bytes, this.decode);
      }
    }
  }

  /** The framed (not yet decoded) records of each chunk read. */
  private async *frames(): AsyncGenerator<RawFrame[], void, undefined> {
    if (this.started) throw new Error('ArchiveReader: the block records can be iterated only once');
    this.started = true;
    try {
      await this.readHeaderEntry();
      for (;;) {
        const frames: RawFrame[] = [];
        let end = NEED_MORE;
        let framingError: unknown = null;
        while (frames.length < FRAMES_PER_STEP) {
          try {
            end = this.frame();
            if (end >= 0) this.countShort(end - this.pos);
          } catch (e) {
            framingError = e; // yield the records before it first
            end = DONE;
          }
          if (end < 0) break;
          const start = this.pos;
          frames.push({ record: this.nextRecord++, offset: this.bufOff + start, bytes: viewOf(this.buf, start, end, this.copy) });
          this.pos = end;
        }
        this.blocksRead += frames.length;
        if (frames.length) yield frames;
        if (framingError) throw framingError;
        if (end === DONE) return;
        if (end === NEED_MORE) await this.fill(); // throws at a framing error
      }
    } finally {
      await this.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ArchiveEntry, void, undefined> {
    try {
      yield await this.readHeaderEntry();
    } catch (e) {
      await this.close();
      throw e;
    }
    yield* this.blocks();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }

  /**
   * Frames the value at `pos`: its end (buffer offset), DONE at the clean end of the file,
   * NEED_MORE when more of the file must be read. Throws ArchiveFramingError when the value
   * can never be completed.
   */
  private frame(): number {
    const fileEnd = this.bufOff + this.len === this.size;
    if (this.pos >= this.len && fileEnd) return DONE;
    const r = scanValue(this.buf, this.pos, this.len);
    if (r >= 0) return r;
    const record = this.nextRecord;
    const offset = this.bufOff + this.pos;
    if (r === SCAN_RESERVED_C1) throw new ArchiveFramingError(record, offset, this.bufOff + scanInfo.at, framingCause(r), this.path);
    // the item itself runs past the end of the file: final, whatever comes after it
    if (fileEnd || this.bufOff + scanInfo.itemNeed > this.size)
      throw new ArchiveFramingError(record, offset, this.bufOff + scanInfo.at, framingCause(r), this.path);
    // the value still needs more elements than the file has bytes: it is cut short
    if (this.bufOff + scanInfo.need > this.size) throw new ArchiveFramingError(record, offset, this.size, 'truncated', this.path);
    this.wantEnd = this.bufOff + scanInfo.need;
    return NEED_MORE;
  }

  private wantEnd = 0;

  /** Counts a record of `length` bytes at `pos`; throws past the cap of short records. */
  private countShort(length: number): void {
    if (length >= MIN_BLOCK_RECORD_BYTES || ++this.shortRecords <= this.maxShort) return;
    const offset = this.bufOff + this.pos;
    throw new ArchiveFramingError(this.nextRecord, offset, offset, tooManyShort(this.maxShort), this.path);
  }

  /** Reads the next chunk into a fresh buffer, keeping the unconsumed tail of the current one. */
  private async fill(): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error('ArchiveReader: closed');
    const keepFrom = this.bufOff + this.pos;
    const keep = this.len - this.pos;
    const readFrom = this.bufOff + this.len;
    // at least one more chunk, and doubling for a record much larger than a chunk (amortised copies)
    const want = Math.max(this.wantEnd - keepFrom, keep + this.chunkSize, 2 * keep);
    const total = Math.min(want, this.size - keepFrom);
    const nb = new Uint8Array(total);
    if (keep > 0) nb.set(this.buf.subarray(this.pos, this.len));
    let filled = keep;
    while (filled < total) {
      const { bytesRead } = await fh.read(nb, filled, total - filled, readFrom + (filled - keep));
      if (bytesRead === 0) {
        // the file shrank while being read: treat what we have as the end
        this.size = keepFrom + filled;
        break;
      }
      filled += bytesRead;
    }
    this.buf = nb;
    this.bufOff = keepFrom;
    this.pos = 0;
    this.len = filled;
  }
}

interface RawFrame {
  record: number;
  offset: number;
  bytes: Uint8Array;
}
const EMPTY_FRAME: RawFrame = { record: 0, offset: 0, bytes: new Uint8Array(0) };

const DONE = -100;
const NEED_MORE = -101;

/**
 * Splits an in-memory archive (tests, small tools): the header, the block entries, and the
 * framing error that stopped it, if any (entries before it are complete). A bad header throws.
 */
export function parseArchiveBytes(
  bytes: Uint8Array,
  opts: { decode?: boolean; maxShortRecords?: number } = {},
): { header: RootSnapshot; blocks: ArchiveBlockEntry[]; framingError: ArchiveFramingError | null } {
  const decode = opts.decode ?? true;
  const maxShort = opts.maxShortRecords ?? MAX_SHORT_RECORDS;
  let short = 0;
  let end = scanValue(bytes, 0, bytes.length);
  if (end < 0) throw new ArchiveFramingError(0, 0, scanInfo.at, framingCause(end));
  const header = decodeArchiveHeaderBytes(bytes, 0, end);
  const blocks: ArchiveBlockEntry[] = [];
  let pos = end;
  let record = 1;
  while (pos < bytes.length) {
    end = scanValue(bytes, pos, bytes.length);
    if (end < 0) return { header, blocks, framingError: new ArchiveFramingError(record, pos, scanInfo.at, framingCause(end)) };
    if (end - pos < MIN_BLOCK_RECORD_BYTES && ++short > maxShort) {
      return { header, blocks, framingError: new ArchiveFramingError(record, pos, pos, tooManyShort(maxShort)) };
    }
    blocks.push(blockEntry(record++, pos, viewOf(bytes, pos, end, false), decode));
    pos = end;
  }
  return { header, blocks, framingError: null };
}

// ---------------------------------------------------------------- writing

/** The `root` map of the header (SPEC 7.1 item 1, 9.1), canonical. */
export function encodeRootSnapshot(root: RootSnapshot): Uint8Array {
  const w = new ByteWriter(64 * 1024);
  encodeRecord(w, root, RootSnapshotKind);
  return w.toBytes();
}

/** The whole first value `{format, version, root}`, canonical. */
export function encodeArchiveHeader(root: RootSnapshot): Uint8Array {
  const w = new ByteWriter(64 * 1024);
  encodeRecord(w, { format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, root }, ArchiveHeader);
  return w.toBytes();
}

const blockWriter = new ByteWriter(16 * 1024);

/** `[blockId, header, payload, finalized]`, canonical (a fresh copy). */
export function encodeBlockRecord(rec: BlockRecord): Uint8Array {
  const w = blockWriter.reset();
  try {
    encodeRecord(w, rec, BlockRecordKind);
    return w.toBytes();
  } finally {
    w.reset();
  }
}

/**
 * Writes an archive: the header, then block records, buffered (flushes every ~1 MiB). Writes
 * are serialised internally, so calls need not be awaited one by one; `close()` waits for all.
 */
export class ArchiveWriter {
  private w = new ByteWriter(1024 * 1024 + 64 * 1024);
  private readonly flushAt: number;
  private fh: FileHandle | null;
  private pending: Promise<void> = Promise.resolve();
  /** Block records written. */
  records = 0;
  /** Bytes written or buffered. */
  bytes = 0;

  private constructor(fh: FileHandle, flushAt: number) {
    this.fh = fh;
    this.flushAt = flushAt;
  }

  /** Creates (truncates) `path` and writes the header. */
  static async create(path: string, root: RootSnapshot, opts: { flushBytes?: number } = {}): Promise<ArchiveWriter> {
    const header = encodeArchiveHeader(root); // throws before the file is touched on a bad root
    const fh = await open(path, 'w');
    const aw = new ArchiveWriter(fh, Math.max(4096, opts.flushBytes ?? 1024 * 1024));
    aw.w.raw(header);
    aw.bytes += header.length;
    return aw;
  }

  /** Appends one block record (canonical encoding); throws EncodeError (nothing written) on a bad value. */
  writeBlock(rec: BlockRecord): Promise<void> {
    const before = this.w.pos;
    try {
      encodeRecord(this.w, rec, BlockRecordKind);
    } catch (e) {
      this.w.pos = before; // drop the partial record
      return Promise.reject(e);
    }
    this.records++;
    this.bytes += this.w.pos - before;
    return this.w.pos >= this.flushAt ? this.flush() : this.pending;
  }

  /** Appends an already-encoded record verbatim (copying archives, crafting test inputs). */
  writeRaw(bytes: Uint8Array): Promise<void> {
    this.w.raw(bytes);
    this.records++;
    this.bytes += bytes.length;
    return this.w.pos >= this.flushAt ? this.flush() : this.pending;
  }

  /** Writes out everything buffered so far. */
  flush(): Promise<void> {
    const fh = this.fh;
    if (!fh) return Promise.reject(new Error('ArchiveWriter: closed'));
    if (this.w.pos > 0) {
      const data = this.w.toBytes();
      this.w.reset();
      this.pending = this.pending.then(async () => {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off);
          off += bytesWritten;
        }
      });
    }
    return this.pending;
  }

  async close(): Promise<void> {
    if (!this.fh) return;
    try {
      await this.flush();
    } finally {
      const fh = this.fh;
      this.fh = null;
      await fh?.close();
    }
  }
}
