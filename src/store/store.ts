// The LMDB block store. Raw canonical archive bytes are the source of truth (so workers read
// them with getBinaryFast and a C program can read the same environment); everything else is
// an index over them or a replay result. Layout: README "Store layout".
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';

export const STORE_FORMAT = 1;
/**
 * Key (in the results db) under which msgpackr keeps the shared record structures: one byte,
 * so it sorts before every 48-byte order key; iterate results from RESULTS_START.
 */
const RESULT_STRUCTURES = Buffer.from([0]);
export const RESULTS_START = Buffer.alloc(48);

export interface StoreDbs {
  /** claimed block id (32) -> raw block record bytes */
  blocks: Database<Buffer, Buffer>;
  /** global record number (8) -> raw bytes of a record without a usable id (SPEC 9.4) */
  orphans: Database<Buffer, Buffer>;
  /** global record number (8) -> claimed id (32), or empty for an orphan: archive order, for export */
  records: Database<Buffer, Buffer>;
  /** report order key (48, see keys.ts) -> record number (8) | claimed id (32; absent for an orphan): the replay walks this */
  order: Database<Buffer, Buffer>;
  /** parent id (32) | child id (32) -> empty */
  children: Database<Buffer, Buffer>;
  /** height (8) | id (32) -> empty, for records marked finalized whose header decoded */
  finalized: Database<Buffer, Buffer>;
  /** claimed id (32) -> order key (48), only for records whose header does not decode */
  headless: Database<Buffer, Buffer>;
  /** replay: order key (48) -> msgpack BlockResult */
  results: Database<any, Buffer>;
  /** replay: result id (32) | including block id (32) -> empty */
  includes: Database<Buffer, Buffer>;
  /** replay: protocol state id (32) -> msgpack ProtocolSnapshot (content-addressed) */
  states: Database<any, Buffer>;
  /** string -> msgpack value: root header bytes, import progress, replay progress */
  meta: Database<any, string>;
}

export class BlockStore implements StoreDbs {
  readonly env: RootDatabase;
  readonly blocks!: Database<Buffer, Buffer>;
  readonly orphans!: Database<Buffer, Buffer>;
  readonly records!: Database<Buffer, Buffer>;
  readonly order!: Database<Buffer, Buffer>;
  readonly children!: Database<Buffer, Buffer>;
  readonly finalized!: Database<Buffer, Buffer>;
  readonly headless!: Database<Buffer, Buffer>;
  readonly results!: Database<any, Buffer>;
  readonly includes!: Database<Buffer, Buffer>;
  readonly states!: Database<any, Buffer>;
  readonly meta!: Database<any, string>;

  private constructor(readonly dir: string, readonly readOnly: boolean) {
    if (!readOnly) mkdirSync(dir, { recursive: true });
    this.env = open({
      path: dir,
      maxDbs: 16,
      readOnly,
      // Durability comes from committed transactions; the OS flushes. A crash loses at most
      // the last batch, which import and replay redo from their stored progress.
      noSync: true,
      overlappingSync: false,
      // Blocks are read in report order, not key order: kernel read-ahead would only pull
      // unrelated pages into memory.
      noReadAhead: true,
      mapSize: 64 * 1024 ** 3,
    } as Parameters<typeof open>[0] & { noReadAhead: boolean });
    const bin = { encoding: 'binary' as const, keyEncoding: 'binary' as const };
    const packed = { encoding: 'msgpack' as const, keyEncoding: 'binary' as const, useRecords: false };
    const self = this as any;
    for (const name of ['blocks', 'orphans', 'records', 'order', 'children', 'finalized', 'headless', 'includes']) {
      self[name] = this.env.openDB({ name, ...bin });
    }
    // msgpackr records (shared structures): every result has the same shape, so its keys are
    // stored once instead of in each of millions of values (smaller, faster both ways).
    self.results = this.env.openDB({
      name: 'results', encoding: 'msgpack', keyEncoding: 'binary', sharedStructuresKey: RESULT_STRUCTURES,
    } as any);
    self.states = this.env.openDB({ name: 'states', ...packed });
    self.meta = this.env.openDB({ name: 'meta', encoding: 'msgpack', useRecords: false } as any);
  }

  static open(dir: string, opts: { readOnly?: boolean } = {}): BlockStore {
    return new BlockStore(dir, opts.readOnly ?? false);
  }

  /** Raw bytes of the archive header (root snapshot) this store was created from. */
  rootHeaderBytes(): Buffer | undefined {
    const v = this.meta.get('root');
    return v === undefined ? undefined : Buffer.from(v);
  }

  recordCount(): number {
    return this.meta.get('recordCount') ?? 0;
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
