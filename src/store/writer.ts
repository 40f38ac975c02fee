// The one write path for block records, whatever their source (an archive being imported, an
// Access node being fetched): records are staged in a batch and committed in one LMDB write
// transaction together with the source's progress (in this thread, or in the store's writer
// thread for large imports), so a crash at any point leaves the store at the last commit and the
// source resumes from the progress stored with it.
import { bytesEqual } from '../model/bytes.js';
import { encodeToBytes } from '../model/codec.js';
import { headerId } from '../model/ids.js';
import * as S from '../model/schema.js';
import type { RootSnapshot } from '../model/types.js';
import { decodeStoredRecord } from '../model/record.js';
import { concatKey, orderKey, u64Key } from './keys.js';
import { recordHead, type RecordHead } from './record-heads.js';
import { StoreBatch, type MetaEntries } from './batch.js';
import { BatchWriter } from './batch-writer.js';
import type { BlockStore } from './store.js';

const EMPTY = new Uint8Array(0);

/** A record that cannot be stored beside what the store holds (SPEC 9.5): an input error. */
export class RecordConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordConflict';
  }
}

export type PutOutcome = 'stored' | 'duplicate' | 'root';

export class RecordWriter {
  private readonly batch = new StoreBatch();
  private stagedRecords = 0;
  private pending = new Map<string, Uint8Array>();
  /** Records of batches the writer thread has not acknowledged yet: the duplicate check finds them there until then. */
  private readonly inFlight: Map<string, Uint8Array>[] = [];
  private readonly out: BatchWriter;
  private readonly rootId: Buffer;
  private readonly rootBlockBytes: Uint8Array;
  /** Records staged or committed by this writer that do not decode into the model. */
  decodeErrors = 0;

  /** `thread`: commit in the store's writer thread (then `ready` between batches, `drain` at the end, `close` always). */
  constructor(
    private readonly store: BlockStore,
    root: RootSnapshot,
    opts: { thread?: boolean } = {},
  ) {
    this.rootId = Buffer.from(headerId(root.rootBlock.header));
    this.rootBlockBytes = encodeToBytes(root.rootBlock, S.Block);
    this.out = new BatchWriter(store, opts.thread ?? false);
  }

  get staged(): number {
    return this.stagedRecords;
  }

  /**
   * Stages one record under global record number `global`. `where` names it in errors
   * ("record 7 at byte offset 1234", "height 137390147"). `head`: the record's decoded head if
   * the caller has it (decoded in a worker, or already for its own checks).
   */
  put(global: number, bytes: Uint8Array, claimedId: Uint8Array | null, where: string, head?: RecordHead): PutOutcome {
    const batch = this.batch;
    const recKey = u64Key(global);
    if (claimedId === null) {
      this.decodeErrors++;
      batch.put('orphans', recKey, bytes);
      batch.put('records', recKey, EMPTY);
      batch.put('order', orderKey(null, null, null, global), recKey);
      this.stagedRecords++;
      return 'stored';
    }
    const idKey = Buffer.from(claimedId);
    const hex = idKey.toString('hex');
    if (idKey.equals(this.rootId)) {
      if (this.isRootBlock(bytes)) return 'root';
      throw new RecordConflict(`${where}: a record claiming the root block's id ${hex} differs from the root block`);
    }
    const existing = this.pending.get(hex) ?? this.inFlightRecord(hex) ?? this.store.blocks.getBinary(idKey);
    if (existing !== undefined) {
      if (bytesEqual(existing, bytes)) return 'duplicate';
      throw new RecordConflict(`${where}: another, different record with block id ${hex} is already stored`);
    }
    this.pending.set(hex, bytes);
    const d = head ?? recordHead(bytes);
    if (d.decodeError !== null) this.decodeErrors++;
    const h = d.header;
    const oKey = orderKey(h?.height ?? null, h?.view ?? null, idKey, global);
    batch.put('blocks', idKey, bytes);
    batch.put('records', recKey, idKey);
    batch.put('order', oKey, concatKey(recKey, idKey));
    if (h !== null) batch.put('children', concatKey(h.parentId, idKey), EMPTY);
    else batch.put('headless', idKey, oKey);
    if (d.finalized && h !== null) batch.put('finalized', concatKey(u64Key(h.height), idKey), EMPTY);
    this.stagedRecords++;
    return 'stored';
  }

  private inFlightRecord(hex: string): Uint8Array | undefined {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const r = this.inFlight[i].get(hex);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /**
   * Commits the staged records and the given meta entries (the source's progress) atomically;
   * `committed` runs once they are. In this thread that is before it returns (a failed commit
   * throws here); with the writer thread, a failure is thrown by the next `ready` or `drain`.
   */
  commit(meta: MetaEntries, committed?: () => void): void {
    const seen = this.pending;
    this.pending = new Map();
    this.stagedRecords = 0;
    const bytes = this.batch.take(this.out.threaded);
    if (!this.out.threaded) return this.out.send(bytes, meta, committed);
    this.inFlight.push(seen);
    this.out.send(bytes, meta, () => {
      this.inFlight.shift();
      committed?.();
    });
  }

  /** Resolves when few enough commits wait (a writer thread's); throws the first failure. */
  ready(): Promise<void> {
    return this.out.ready();
  }

  /** Resolves when every commit is done and readable here; throws the first failure. */
  drain(): Promise<void> {
    return this.out.drain();
  }

  /** Ends the writer thread, if any, after what was given to it. */
  close(): Promise<void> {
    return this.out.close();
  }

  /** SPEC 9.5: a record identical to the root block (same header and payload) is skipped. */
  private isRootBlock(bytes: Uint8Array): boolean {
    const d = decodeStoredRecord(bytes);
    if (d.decodeError !== null || d.header === null || d.payload === null) return false;
    return bytesEqual(encodeToBytes({ header: d.header, payload: d.payload }, S.Block), this.rootBlockBytes);
  }
}
