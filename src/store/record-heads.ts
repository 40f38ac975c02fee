// What the store's indexes need of a record (its header's height, view and parent, whether it
// is finalized, whether it decodes), decoded in a worker thread for large imports so that the
// importing thread only frames records and writes them.
import { Piscina } from 'piscina';
import { decodeStoredRecord } from '../model/record.js';
import type { Id, U64 } from '../model/types.js';
import { ESM_WORKER } from '../util/workers.js';

export interface RecordHead {
  header: { height: U64; view: U64; parentId: Id } | null;
  finalized: boolean;
  decodeError: string | null;
}

export function recordHead(bytes: Uint8Array): RecordHead {
  const d = decodeStoredRecord(bytes);
  const h = d.header;
  return { header: h === null ? null : { height: h.height, view: h.view, parentId: h.parentId.slice() }, finalized: d.finalized, decodeError: d.decodeError };
}

/** A batch of records for the worker: their bytes back to back, and where each ends. */
export interface HeadsTask {
  bytes: Uint8Array;
  ends: Uint32Array;
}

export function headsOf(task: HeadsTask): RecordHead[] {
  const out: RecordHead[] = new Array(task.ends.length);
  let at = 0;
  for (let i = 0; i < task.ends.length; i++) {
    out[i] = recordHead(task.bytes.subarray(at, task.ends[i]));
    at = task.ends[i];
  }
  return out;
}

/** One worker thread decoding batches in order; `close` when done. */
export class HeadDecoder {
  private readonly pool = new Piscina({
    filename: ESM_WORKER,
    workerData: { module: new URL('./record-heads-worker.js', import.meta.url).href },
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: 60_000,
  });

  decode(records: readonly Uint8Array[]): Promise<RecordHead[]> {
    let n = 0;
    for (const r of records) n += r.length;
    const bytes = new Uint8Array(n);
    const ends = new Uint32Array(records.length);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
      bytes.set(records[i], at);
      at += records[i].length;
      ends[i] = at;
    }
    const task: HeadsTask = { bytes, ends };
    return this.pool.run(task, { transferList: [bytes.buffer, ends.buffer] });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
