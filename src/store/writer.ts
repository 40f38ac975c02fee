// The one write path for block records, whatever their source (an archive being imported, an
// Access node being fetched): records are staged in memory and committed in one LMDB write
// transaction together with the source's progress, so a crash at any point leaves the store at
// the last commit and the source resumes from the progress stored with it.
import { bytesEqual } from '../model/bytes.js';
import { encodeToBytes } from '../model/codec.js';
import { headerId } from '../model/ids.js';
import * as S from '../model/schema.js';
import type { RootSnapshot } from '../model/types.js';
import { decodeStoredRecord } from '../model/record.js';
import { concatKey, orderKey, u64Key } from './keys.js';
import { recordHead, type RecordHead } from './record-heads.js';
import type { BlockStore } from './store.js';

const EMPTY = Buffer.alloc(0);

/** A record that cannot be stored beside what the store holds (SPEC 9.5): an input error. */
export class RecordConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordConflict';
  }
}

export type PutOutcome = 'stored' | 'duplicate' | 'root';

export class RecordWriter {
  private ops: (() => void)[] = [];
  private pending = new Map<string, Uint8Array>();
  private readonly rootId: Buffer;
  private readonly rootBlockBytes: Uint8Array;
  /** Records staged or committed by this writer that do not decode into the model. */
  decodeErrors = 0;

  constructor(
    private readonly store: BlockStore,
    root: RootSnapshot,
  ) {
    this.rootId = Buffer.from(headerId(root.rootBlock.header));
    this.rootBlockBytes = encodeToBytes(root.rootBlock, S.Block);
  }

  get staged(): number {
    return this.ops.length;
  }

  /**
   * Stages one record under global record number `global`. `where` names it in errors
   * ("record 7 at byte offset 1234", "height 137390147"). `head`: the record's decoded head if
   * the caller has it (decoded in a worker, or already for its own checks).
   */
  put(global: number, bytes: Uint8Array, claimedId: Uint8Array | null, where: string, head?: RecordHead): PutOutcome {
    const store = this.store;
    const recKey = u64Key(global);
    if (claimedId === null) {
      this.decodeErrors++;
      const copy = Buffer.from(bytes);
      this.ops.push(() => {
        store.orphans.putSync(recKey, copy);
        store.records.putSync(recKey, EMPTY);
        store.order.putSync(orderKey(null, null, null, global), recKey);
      });
      return 'stored';
    }
    const idKey = Buffer.from(claimedId);
    const hex = idKey.toString('hex');
    if (idKey.equals(this.rootId)) {
      if (this.isRootBlock(bytes)) return 'root';
      throw new RecordConflict(`${where}: a record claiming the root block's id ${hex} differs from the root block`);
    }
    const existing = this.pending.get(hex) ?? store.blocks.getBinary(idKey);
    if (existing !== undefined) {
      if (bytesEqual(existing, bytes)) return 'duplicate';
      throw new RecordConflict(`${where}: another, different record with block id ${hex} is already stored`);
    }
    this.pending.set(hex, bytes);
    const d = head ?? recordHead(bytes);
    if (d.decodeError !== null) this.decodeErrors++;
    const h = d.header;
    const oKey = orderKey(h?.height ?? null, h?.view ?? null, idKey, global);
    const oVal = concatKey(recKey, idKey);
    const finalized = d.finalized && h !== null;
    const copy = Buffer.from(bytes);
    this.ops.push(() => {
      store.blocks.putSync(idKey, copy);
      store.records.putSync(recKey, idKey);
      store.order.putSync(oKey, oVal);
      if (h !== null) store.children.putSync(concatKey(h.parentId, idKey), EMPTY);
      else store.headless.putSync(idKey, oKey);
      if (finalized) store.finalized.putSync(concatKey(u64Key(h!.height), idKey), EMPTY);
    });
    return 'stored';
  }

  /** Commits the staged records and the given meta entries (the source's progress) atomically. */
  commit(meta: readonly (readonly [string, unknown])[]): void {
    const work = this.ops;
    this.ops = [];
    this.pending = new Map();
    const store = this.store;
    store.env.transactionSync(() => {
      for (const op of work) op();
      for (const [k, v] of meta) store.meta.putSync(k, v);
    });
  }

  /** SPEC 9.5: a record identical to the root block (same header and payload) is skipped. */
  private isRootBlock(bytes: Uint8Array): boolean {
    const d = decodeStoredRecord(bytes);
    if (d.decodeError !== null || d.header === null || d.payload === null) return false;
    return bytesEqual(encodeToBytes({ header: d.header, payload: d.payload }, S.Block), this.rootBlockBytes);
  }
}
