// Results and inclusion-index entries of a run of evaluated blocks as one buffer, committed in
// one write transaction: by the replay's thread (--threads 0) or by the result writer's thread
// (result-writer.ts), which then does the store's B-tree work instead of the evaluation.
import { FieldReader, FieldWriter } from './binary.js';
import type { BlockResult } from './result.js';
import { writeResult } from './result-codec.js';
import { concatKey } from '../store/keys.js';
import type { BlockStore } from '../store/store.js';

/** The stores a batch writes into (BlockStore has them). */
type BatchStore = Pick<BlockStore, 'env' | 'results' | 'includes'>;

const EMPTY = Buffer.alloc(0);

/**
 * Entry layout: u8 key length, the order key, u32 record length, the result record, u16 count
 * of included results, then (when the count is not 0) the block's id and each included
 * result's id: the inclusion index key is (result id, block id).
 */
export class ResultBatch {
  private readonly w = new FieldWriter(1 << 16);
  count = 0;

  add(key: Uint8Array, r: BlockResult, id: Uint8Array | null): void {
    const w = this.w;
    w.u8(key.length);
    w.bytes(key);
    const lengthAt = w.pos;
    w.u32(0);
    writeResult(w, r);
    w.patchU32(lengthAt, w.pos - lengthAt - 4);
    const included = id === null ? 0 : r.included.length;
    w.u16(included);
    if (included > 0) {
      w.id(id!);
      for (const inc of r.included) w.id(inc.id);
    }
    this.count++;
  }

  /** The batch's bytes (a copy that owns its memory: it can be transferred); the batch is empty again. */
  take(): Uint8Array {
    const bytes = this.w.toBytes();
    this.w.reset();
    this.count = 0;
    return bytes;
  }
}

/** Writes a batch in one write transaction (a failed commit throws: the store's write guard). */
export function commitResultBatch(store: BatchStore, bytes: Uint8Array): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const rd = new FieldReader(buf);
  store.env.transactionSync(() => {
    while (rd.pos < buf.length) {
      const k = rd.u8();
      const key = buf.subarray(rd.pos, rd.pos + k);
      rd.pos += k;
      const n = rd.u32();
      store.results.putSync(key, buf.subarray(rd.pos, rd.pos + n));
      rd.pos += n;
      const included = rd.u16();
      if (included === 0) continue;
      const id = buf.subarray(rd.pos, rd.pos + 32);
      rd.pos += 32;
      for (let i = 0; i < included; i++) {
        const inc = buf.subarray(rd.pos, rd.pos + 32);
        rd.pos += 32;
        store.includes.putSync(concatKey(inc, id), EMPTY);
      }
    }
  });
}
