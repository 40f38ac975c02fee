// `spork-replay import`: streams an archive into the store in batched write transactions.
// Idempotent (records already stored byte-identically are skipped) and resumable: the read
// position is committed in the same transaction as the records before it, so after a crash
// the import continues from the last committed batch and ends with the same store.
import { open as openFile, stat } from 'node:fs/promises';
import { ArchiveFramingError, ArchiveHeaderError, ArchiveReader } from '../model/archive.js';
import { bytesEqual, toHex } from '../model/bytes.js';
import { sha3 } from '../model/hash.js';
import { encodeToBytes } from '../model/codec.js';
import { headerId } from '../model/ids.js';
import * as S from '../model/schema.js';
import { decodeStoredRecord } from '../replay/decode.js';
import { InputError, PartialImportError } from '../util/errors.js';
import { concatKey, orderKey, u64Key } from './keys.js';
import type { BlockStore } from './store.js';
import { validateRoot } from './root.js';

export interface ImportProgress {
  /** Byte offset of the next record to read. */
  offset: number;
  /** Archive record number of the next record (1-based). */
  record: number;
  /** Global record number of this archive's record 0 (records of earlier imports come first). */
  base: number;
  done: boolean;
}

export interface ImportStats {
  archiveRecords: number;
  stored: number;
  duplicates: number;
  decodeErrors: number;
  resumedFrom: number | null;
  alreadyImported: boolean;
}

export interface ImportOptions {
  /** Records per write transaction. */
  batchRecords?: number;
  onProgress?: (bytesDone: number, bytesTotal: number, records: number) => void;
  /** Called after each committed batch (tests use it to simulate a crash between batches). */
  afterCommit?: (recordsCommitted: number) => void;
}

const EMPTY = Buffer.alloc(0);

/** Identifies an archive by content, not path: its size and the hashes of its first and last MiB. */
async function fingerprint(path: string): Promise<string> {
  const { size } = await stat(path);
  const fh = await openFile(path, 'r');
  try {
    const n = Math.min(size, 1 << 20);
    const head = Buffer.alloc(n);
    const tail = Buffer.alloc(n);
    await fh.read(head, 0, n, 0);
    await fh.read(tail, 0, n, size - n);
    return `${size}:${toHex(sha3(head)).slice(0, 32)}:${toHex(sha3(tail)).slice(0, 32)}`;
  } finally {
    await fh.close();
  }
}

/** SPEC 9.5: a record identical to the root block (same header and payload) is skipped. */
function isRootBlock(recordBytes: Uint8Array, rootBlockBytes: Uint8Array): boolean {
  const d = decodeStoredRecord(recordBytes);
  if (d.decodeError !== null || d.header === null || d.payload === null) return false;
  return bytesEqual(encodeToBytes({ header: d.header, payload: d.payload }, S.Block), rootBlockBytes);
}

export async function importArchive(store: BlockStore, path: string, opts: ImportOptions = {}): Promise<ImportStats> {
  const batchRecords = opts.batchRecords ?? 4096;
  const reader = new ArchiveReader(path, { decode: false, copy: false });
  const stats: ImportStats = { archiveRecords: 0, stored: 0, duplicates: 0, decodeErrors: 0, resumedFrom: null, alreadyImported: false };
  try {
    let header;
    try {
      header = await reader.readHeaderEntry();
    } catch (e) {
      if (e instanceof ArchiveHeaderError || e instanceof ArchiveFramingError) throw new InputError(`${path}: invalid archive header: ${e.message}`);
      throw e;
    }
    const rootProblem = validateRoot(header.value);
    if (rootProblem !== null) throw new InputError(`${path}: invalid root snapshot: ${rootProblem}`);
    const headerBytes = Buffer.from(header.bytes);
    const stored = store.rootHeaderBytes();
    if (stored !== undefined && !stored.equals(headerBytes)) {
      throw new InputError(`${path}: its root snapshot differs from the one this store was created from (a store holds one spork)`);
    }
    const rootRecordId = Buffer.from(headerId(header.value.rootBlock.header));
    const rootBlockBytes = encodeToBytes(header.value.rootBlock, S.Block);
    const fpKey = `import:${await fingerprint(path)}`;
    let progress: ImportProgress | undefined = store.meta.get(fpKey);
    if (progress?.done) {
      stats.alreadyImported = true;
      return stats;
    }
    if (progress === undefined) {
      progress = { offset: reader.position, record: 1, base: store.recordCount(), done: false };
      store.env.transactionSync(() => {
        if (stored === undefined) store.meta.putSync('root', headerBytes);
        store.meta.putSync(fpKey, progress);
        store.meta.putSync('recordCount', progress!.base);
      });
    } else {
      stats.resumedFrom = progress.record;
      reader.resumeAt(progress.offset, progress.record);
    }
    const p = progress;
    let pending = new Map<string, Uint8Array>();
    let ops: (() => void)[] = [];
    let lastOffset = p.offset;
    let lastRecord = p.record;

    const commit = () => {
      const work = ops;
      ops = [];
      pending = new Map();
      const next: ImportProgress = { ...p, offset: lastOffset, record: lastRecord };
      store.env.transactionSync(() => {
        for (const op of work) op();
        store.meta.putSync(fpKey, next);
        store.meta.putSync('recordCount', p.base + lastRecord - 1);
      });
      p.offset = next.offset;
      p.record = next.record;
      opts.afterCommit?.(p.record - 1);
    };

    try {
      for await (const batch of reader.batches()) {
        for (const e of batch) {
          stats.archiveRecords++;
          const global = p.base + e.record;
          const recKey = u64Key(global);
          const bytes = e.bytes;
          const id = e.claimedId;
          lastOffset = e.offset + bytes.length;
          lastRecord = e.record + 1;
          if (id === null) {
            stats.stored++;
            stats.decodeErrors++;
            ops.push(() => {
              store.orphans.putSync(recKey, Buffer.from(bytes));
              store.records.putSync(recKey, EMPTY);
              store.order.putSync(orderKey(null, null, null, global), recKey);
            });
            if (ops.length >= batchRecords) commit();
            continue;
          }
          const idKey = Buffer.from(id);
          const hex = idKey.toString('hex');
          if (bytesEqual(idKey, rootRecordId)) {
            if (isRootBlock(bytes, rootBlockBytes)) { stats.duplicates++; continue; }
            commit();
            throw new PartialImportError(`${path}: record ${e.record} at byte offset ${e.offset}: a record claiming the root block's id ${hex} differs from the root block`);
          }
          const existing = pending.get(hex) ?? store.blocks.getBinary(idKey);
          if (existing !== undefined) {
            if (bytesEqual(existing, bytes)) { stats.duplicates++; continue; }
            commit();
            throw new PartialImportError(`${path}: record ${e.record} at byte offset ${e.offset}: another, different record with block id ${hex} is already stored`);
          }
          pending.set(hex, bytes);
          stats.stored++;
          const d = decodeStoredRecord(bytes);
          if (d.decodeError !== null) stats.decodeErrors++;
          const h = d.header;
          const oKey = orderKey(h?.height ?? null, h?.view ?? null, idKey, global);
          const oVal = concatKey(recKey, idKey);
          const finalized = d.finalized && h !== null;
          ops.push(() => {
            store.blocks.putSync(idKey, Buffer.from(bytes));
            store.records.putSync(recKey, idKey);
            store.order.putSync(oKey, oVal);
            if (h !== null) store.children.putSync(concatKey(h.parentId, idKey), EMPTY);
            else store.headless.putSync(idKey, oKey);
            if (finalized) store.finalized.putSync(concatKey(u64Key(h!.height), idKey), EMPTY);
          });
          if (ops.length >= batchRecords) commit();
        }
        opts.onProgress?.(lastOffset, reader.fileSize, stats.archiveRecords);
      }
    } catch (e) {
      if (e instanceof ArchiveFramingError) {
        commit();
        throw new PartialImportError(`${e.message}; the ${p.record - 1} records before it are imported`);
      }
      throw e;
    }
    commit();
    store.meta.putSync(fpKey, { ...p, done: true });
    return stats;
  } finally {
    await reader.close();
  }
}
