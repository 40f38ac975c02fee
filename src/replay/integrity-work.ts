// One integrity task: read each record of a batch from the store, decode it, hash it.
import { readU64 } from '../store/keys.js';
import type { BlockStore } from '../store/store.js';
import { decodeStoredRecord } from './decode.js';
import { blockFacts, type BlockFacts } from './facts.js';

export interface IntegrityTask {
  dir: string;
  /** Each: global record number (8) | claimed id (32), or the record number alone for an orphan. */
  entries: Uint8Array[];
}

export function factsOfBatch(task: IntegrityTask, store: BlockStore): BlockFacts[] {
  const out: BlockFacts[] = new Array(task.entries.length);
  for (let i = 0; i < task.entries.length; i++) {
    const e = task.entries[i];
    const record = readU64(e, 0) as number;
    const key = e.subarray(0, 8);
    const bytes = e.length >= 40 ? store.blocks.getBinary(Buffer.from(e.subarray(8, 40))) : store.orphans.getBinary(Buffer.from(key));
    if (bytes === undefined) throw new Error(`store inconsistent: record ${record} is indexed but not stored`);
    out[i] = blockFacts(record, decodeStoredRecord(bytes));
  }
  return out;
}
