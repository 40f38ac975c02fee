// One integrity task: read each record of a batch from the store, decode it, hash it.
import { readU64 } from '../store/keys.js';
import type { BlockStore } from '../store/store.js';
import { decodeStoredRecord } from '../model/record.js';
import { blockFacts, type BlockFacts } from './facts.js';
import { transcodeFacts } from './transcode.js';

/** Bytes per entry of a task: orphan flag (1) | global record number (8) | claimed id (32). */
export const SLOT = 41;

export interface IntegrityTask {
  dir: string;
  /** `n` slots of SLOT bytes, in report order (one buffer: cheap to send to a worker). */
  slots: Uint8Array;
}

/** Packs order-db values (record (8) | id (32), or record alone for an orphan) into task slots. */
export function packSlots(entries: readonly Uint8Array[]): Uint8Array {
  const slots = new Uint8Array(entries.length * SLOT);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    slots[i * SLOT] = e.length >= 40 ? 0 : 1;
    slots.set(e.subarray(0, 40), i * SLOT + 1);
  }
  return slots;
}

export function factsOfBatch(task: IntegrityTask, store: BlockStore): BlockFacts[] {
  const n = task.slots.length / SLOT;
  const out: BlockFacts[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * SLOT;
    const orphan = task.slots[at] === 1;
    const record = readU64(task.slots, at + 1) as number;
    const key = Buffer.from(task.slots.buffer, task.slots.byteOffset + (orphan ? at + 1 : at + 9), orphan ? 8 : 32);
    // lmdb-js's read buffer (its length is the value's, the memory under it is larger), valid
    // until the next read: the transcoder copies what it keeps
    const bytes = orphan ? store.orphans.getBinaryFast(key) : store.blocks.getBinaryFast(key);
    if (bytes === undefined) throw new Error(`store inconsistent: record ${record} is indexed but not stored`);
    // canonical records are hashed straight from their bytes; anything else takes the model path
    // (on a copy: decoded models keep views of their bytes)
    out[i] = transcodeFacts(record, bytes) ?? blockFacts(record, decodeStoredRecord(Uint8Array.prototype.slice.call(bytes, 0, bytes.length)));
  }
  return out;
}
