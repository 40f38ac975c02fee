// Writes of one write transaction as one buffer: (database, key, value) entries, then the meta
// entries (a source's progress) committed with them. Built where the records or results are
// made, committed in that thread or by the store's writer thread (batch-writer.ts), which then
// does the B-tree work and the commit beside the producer.
import { GrowableBytes } from '../model/bytes.js';
import type { BlockStore } from './store.js';

/** The binary-valued databases a batch writes into (codes are indexes). */
export const BATCH_DBS = ['blocks', 'orphans', 'records', 'order', 'children', 'finalized', 'headless', 'results', 'includes'] as const;
export type BatchDb = (typeof BATCH_DBS)[number];

const CODE: Readonly<Record<BatchDb, number>> = Object.fromEntries(BATCH_DBS.map((n, i) => [n, i])) as Record<BatchDb, number>;

/** What meta entries a batch commits (values as the meta database stores them). */
export type MetaEntries = readonly (readonly [string, unknown])[];

/** Entry layout: u8 database code, u8 key length, key, u32 value length, value. */
export class StoreBatch {
  private readonly out = new GrowableBytes(1 << 16);
  /** Entries added since the last take. */
  count = 0;

  put(db: BatchDb, key: Uint8Array, value: Uint8Array): void {
    const o = this.out;
    o.ensure(6 + key.length + value.length);
    const b = o.buf;
    let p = o.pos;
    b[p++] = CODE[db];
    b[p++] = key.length;
    b.set(key, p);
    p += key.length;
    const n = value.length;
    b[p++] = n >>> 24;
    b[p++] = (n >>> 16) & 0xff;
    b[p++] = (n >>> 8) & 0xff;
    b[p++] = n & 0xff;
    b.set(value, p);
    o.pos = p + n;
    this.count++;
  }

  /**
   * The batch's bytes; the batch is empty again. `own`: a copy that owns its memory (to transfer
   * to the writer thread), else a view valid until the next put (committed in this thread at once).
   */
  take(own: boolean): Uint8Array {
    const bytes = own ? this.out.toBytes() : this.out.view();
    this.out.reset();
    this.count = 0;
    return bytes;
  }
}

/** Commits a batch and its meta entries in one write transaction (a failed commit throws: the store's write guard). */
export function commitStoreBatch(store: Pick<BlockStore, 'env' | 'meta' | BatchDb>, bytes: Uint8Array, meta: MetaEntries): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const dbs = BATCH_DBS.map((n) => store[n]);
  store.env.transactionSync(() => {
    let p = 0;
    while (p < buf.length) {
      const db = dbs[buf[p]];
      const k = buf[p + 1];
      const key = buf.subarray(p + 2, p + 2 + k);
      p += 2 + k;
      const n = buf.readUInt32BE(p);
      db.putSync(key, buf.subarray(p + 4, p + 4 + n));
      p += 4 + n;
    }
    for (const [k, v] of meta) store.meta.putSync(k, v);
  });
}
