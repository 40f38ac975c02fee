// What storing a block's result writes: its record under its order key, and an inclusion-index
// entry (result id, block id) for each result its payload includes. Batched for one write
// transaction (store/batch.ts), committed by the store's writer thread or in the replay's own.
import { concatKey } from '../store/keys.js';
import { StoreBatch } from '../store/batch.js';
import type { BlockResult } from './result.js';
import { encodeResult } from './result-codec.js';

const EMPTY = new Uint8Array(0);

export class ResultBatch {
  private readonly batch = new StoreBatch();
  /** Results added since the last take. */
  count = 0;

  add(key: Uint8Array, r: BlockResult, id: Uint8Array | null): void {
    this.batch.put('results', key, encodeResult(r));
    if (id !== null) for (const inc of r.included) this.batch.put('includes', concatKey(inc.id, id), EMPTY);
    this.count++;
  }

  /** The batch's bytes (StoreBatch.take: `own` for the writer thread); the batch is empty again. */
  take(own: boolean): Uint8Array {
    this.count = 0;
    return this.batch.take(own);
  }
}
