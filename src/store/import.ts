// `spork-replay import`: streams an archive into the store through the record writer, in
// batched write transactions. Idempotent (records already stored byte-identically are skipped)
// and resumable: the read position is committed in the same transaction as the records before
// it, so after a crash the import continues from the last committed batch and ends with the
// same store.
//
// Identity of an archive is its full content: a SHA-256 over every byte read is kept with the
// progress. A candidate key (size and the first and last MiB) finds earlier progress quickly;
// before anything is skipped on its account, the bytes it covers are hashed again and compared,
// so an archive that differs anywhere is imported (every record checked) rather than skipped.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open as openFile, stat } from 'node:fs/promises';
import { ArchiveFramingError, ArchiveHeaderError, ArchiveReader, type ArchiveBlockEntry } from '../model/archive.js';
import { toHex } from '../model/bytes.js';
import { sha3 } from '../model/hash.js';
import { InputError, PartialImportError } from '../util/errors.js';
import type { BlockStore } from './store.js';
import { validateRoot } from './root.js';
import { HeadDecoder, type RecordHead } from './record-heads.js';
import { RecordConflict, RecordWriter } from './writer.js';

export interface ImportProgress {
  /** Byte offset of the next record to read. */
  offset: number;
  /** Archive record number of the next record (1-based). */
  record: number;
  /** Global record number of this archive's record 0 (records of earlier imports come first). */
  base: number;
  done: boolean;
  /** SHA-256 (hex) of the archive's bytes [0, offset). */
  digest?: string;
}

export interface ImportStats {
  archiveRecords: number;
  stored: number;
  duplicates: number;
  decodeErrors: number;
  resumedFrom: number | null;
  alreadyImported: boolean;
  /** SHA-256 of the whole archive (hex), when it was read to the end. */
  sha256: string | null;
}

/** Archives from this size on have their records' heads decoded in a worker thread. */
const PARALLEL_DECODE_BYTES = 32 << 20;
/** Records per decode task, and tasks decoded ahead of the writes. */
const DECODE_BATCH = 1024;
const DECODE_AHEAD = 3;

export interface ImportOptions {
  /** Decode the records' heads in a worker thread (default: for archives of 32 MiB and more). */
  parallelDecode?: boolean;
  /** Records per write transaction. */
  batchRecords?: number;
  onProgress?: (bytesDone: number, bytesTotal: number, records: number) => void;
  /** Called after each committed batch (tests use it to simulate a crash between batches). */
  afterCommit?: (recordsCommitted: number) => void;
}

/** An archive this store has imported (or begun to), from its progress record in `meta`. */
export interface ImportedArchive {
  /** Archive size in bytes. */
  bytes: number;
  /** Records read (the header included). */
  records: number;
  complete: boolean;
  /** SHA-256 of the whole archive, once it was read to the end. */
  sha256: string | null;
}

/** Every archive imported into the store (one progress record each). */
export function importedArchives(store: BlockStore): ImportedArchive[] {
  const out: ImportedArchive[] = [];
  for (const { key, value } of store.meta.getRange({})) {
    if (typeof key !== 'string' || !key.startsWith('import:')) continue;
    const p = value as ImportProgress;
    out.push({ bytes: Number(key.split(':')[1]), records: p.record, complete: p.done, sha256: p.done ? (p.digest ?? null) : null });
  }
  return out;
}

/** Finds earlier progress of the same archive cheaply: its size and the hashes of its first and last MiB. */
async function candidateKey(path: string): Promise<string> {
  const { size } = await stat(path);
  const fh = await openFile(path, 'r');
  try {
    const n = Math.min(size, 1 << 20);
    const head = Buffer.alloc(n);
    const tail = Buffer.alloc(n);
    await fh.read(head, 0, n, 0);
    await fh.read(tail, 0, n, size - n);
    return `import:${size}:${toHex(sha3(head)).slice(0, 32)}:${toHex(sha3(tail)).slice(0, 32)}`;
  } finally {
    await fh.close();
  }
}

/** SHA-256 state over the file's bytes [0, end). */
async function hashPrefix(path: string, end: number): Promise<Hash> {
  const h = createHash('sha256');
  if (end === 0) return h;
  for await (const chunk of createReadStream(path, { start: 0, end: end - 1, highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h;
}

const AT_HEADER = 'record 0 (the archive header) at byte offset 0';

export async function importArchive(store: BlockStore, path: string, opts: ImportOptions = {}): Promise<ImportStats> {
  // 1024 records a transaction: with the writer thread, smaller batches keep both threads busy
  // (2*10^5 records: 4.6-4.9 s with 4096, 4.3-4.5 s with 1024; the same in one thread)
  const batchRecords = opts.batchRecords ?? 1024;
  const reader = new ArchiveReader(path, { decode: false, copy: false });
  const stats: ImportStats = { archiveRecords: 0, stored: 0, duplicates: 0, decodeErrors: 0, resumedFrom: null, alreadyImported: false, sha256: null };
  try {
    let header;
    try {
      header = await reader.readHeaderEntry();
    } catch (e) {
      if (e instanceof ArchiveFramingError) throw new InputError(`${path}: ${AT_HEADER}: not a spork archive: ${e.cause} (at byte ${e.at})`);
      if (e instanceof ArchiveHeaderError) throw new InputError(`${path}: ${AT_HEADER}: not a spork archive: ${e.field ? `${e.field}: ` : ''}${e.cause}`);
      throw e;
    }
    const rootProblem = validateRoot(header.value);
    if (rootProblem !== null) throw new InputError(`${path}: ${AT_HEADER}: invalid root snapshot: ${rootProblem}`);
    const headerBytes = Buffer.from(header.bytes);
    const stored = store.rootHeaderBytes();
    if (stored !== undefined && !stored.equals(headerBytes)) {
      throw new InputError(`${path}: its root snapshot differs from the one this store was created from (a store holds one spork)`);
    }
    // Progress entries of archives sharing the candidate key: `${candidate}`, `${candidate}:1`, ...
    const candidate = await candidateKey(path);
    let key = candidate;
    let progress: ImportProgress | undefined;
    let hash: Hash | undefined;
    for (let k = 0; ; k++) {
      key = k === 0 ? candidate : `${candidate}:${k}`;
      const found: ImportProgress | undefined = store.meta.get(key);
      if (found === undefined) break;
      const h = await hashPrefix(path, found.offset);
      if (found.digest === h.copy().digest('hex')) {
        progress = found;
        hash = h;
        break;
      }
    }
    if (progress?.done) {
      stats.alreadyImported = true;
      stats.sha256 = progress.digest ?? null;
      return stats;
    }
    if (progress === undefined) {
      hash = createHash('sha256').update(headerBytes);
      progress = { offset: reader.position, record: 1, base: store.recordCount(), done: false, digest: hash.copy().digest('hex') };
      if (reader.position !== headerBytes.length) throw new Error('archive reader: header length and position disagree');
      const p0 = progress;
      store.env.transactionSync(() => {
        if (stored === undefined) store.meta.putSync('root', headerBytes);
        store.meta.putSync(key, p0);
        store.meta.putSync('recordCount', p0.base);
      });
    } else {
      stats.resumedFrom = progress.record;
      reader.resumeAt(progress.offset, progress.record);
    }
    // Large archives: the records' heads are decoded in a worker thread, a few batches ahead
    // of the writes in this one (a worker that fails leaves its batch to be decoded here), and
    // the batches are committed by the store's writer thread.
    const parallel = opts.parallelDecode ?? reader.fileSize - reader.position >= PARALLEL_DECODE_BYTES;
    const writer = new RecordWriter(store, header.value, { thread: parallel });
    const p = progress;
    const content = hash!;
    let lastOffset = p.offset;
    let lastRecord = p.record;

    const commit = (done = false) => {
      const next: ImportProgress = { ...p, offset: lastOffset, record: lastRecord, digest: content.copy().digest('hex'), done };
      const records = next.record - 1;
      writer.commit(
        [
          [key, next],
          ['recordCount', p.base + lastRecord - 1],
        ],
        () => opts.afterCommit?.(records),
      );
      Object.assign(p, next);
    };

    const put = (batch: readonly ArchiveBlockEntry[], heads: RecordHead[] | null) => {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        stats.archiveRecords++;
        const where = `${path}: record ${e.record} at byte offset ${e.offset}`;
        let outcome;
        try {
          outcome = writer.put(p.base + e.record, e.bytes, e.claimedId, where, heads?.[i]);
        } catch (err) {
          if (!(err instanceof RecordConflict)) throw err;
          commit();
          throw new PartialImportError(err.message);
        }
        content.update(e.bytes);
        lastOffset = e.offset + e.bytes.length;
        lastRecord = e.record + 1;
        if (outcome === 'stored') stats.stored++;
        else stats.duplicates++;
        if (writer.staged >= batchRecords) commit();
      }
      opts.onProgress?.(lastOffset, reader.fileSize, stats.archiveRecords);
    };
    const decoder = parallel ? new HeadDecoder() : null;
    const ahead: { batch: ArchiveBlockEntry[]; heads: Promise<RecordHead[] | null> | null }[] = [];
    const drain = async (keep: number) => {
      while (ahead.length > keep) {
        const next = ahead.shift()!;
        put(next.batch, next.heads === null ? null : await next.heads);
        await writer.ready();
      }
    };
    try {
      for await (const batch of reader.batches(decoder === null ? undefined : DECODE_BATCH)) {
        ahead.push({ batch, heads: decoder === null ? null : decoder.decode(batch.map((e) => e.bytes)).catch(() => null) });
        await drain(decoder === null ? 0 : DECODE_AHEAD);
      }
      await drain(0);
      commit(true);
      await writer.drain();
    } catch (e) {
      if (e instanceof ArchiveFramingError) {
        // every record framed before the error is imported
        await drain(0);
        commit();
        await writer.drain();
        await store.sync();
        throw new PartialImportError(`${e.message}; the ${p.record - 1} records before it are imported`);
      }
      // a conflicting record: what was staged before it is committed first (a failed commit is the error then)
      if (e instanceof PartialImportError) await writer.drain();
      throw e;
    } finally {
      await decoder?.close();
      await writer.close();
    }
    await store.sync();
    stats.decodeErrors = writer.decodeErrors;
    stats.sha256 = p.digest ?? null;
    return stats;
  } finally {
    await reader.close();
  }
}
