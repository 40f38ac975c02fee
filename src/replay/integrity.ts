// The integrity stage as a pipeline: the store's report order cut into batches, each batch
// read, decoded and hashed by a piscina worker (or in this thread with threads = 0), results
// yielded in order. Several batches are in flight so workers never wait on the main thread.
import { Piscina } from 'piscina';
import type { BlockStore } from '../store/store.js';
import type { BlockFacts } from './facts.js';
import { factsOfBatch, type IntegrityTask } from './integrity-work.js';

/** Blocks per task: piscina costs ~50 us per task, a block ~50-100 us of hashing. */
const BATCH = 2048;

export class IntegrityStage {
  private readonly pool: Piscina | null;

  constructor(private readonly store: BlockStore, readonly threads: number) {
    this.pool = threads > 0
      ? new Piscina({
          filename: new URL('./worker-entry.cjs', import.meta.url).href,
          minThreads: threads,
          maxThreads: threads,
          idleTimeout: 60_000,
        })
      : null;
  }

  /** Entry batches in report order: record number (8) | claimed id (32, absent for orphans). */
  private *batches(): Generator<IntegrityTask> {
    let entries: Buffer[] = [];
    for (const { value } of this.store.order.getRange({})) {
      entries.push(Buffer.from(value));
      if (entries.length >= BATCH) {
        yield { dir: this.store.dir, entries };
        entries = [];
      }
    }
    if (entries.length > 0) yield { dir: this.store.dir, entries };
  }

  async *run(): AsyncGenerator<BlockFacts[]> {
    if (this.pool === null) {
      for (const task of this.batches()) yield factsOfBatch(task, this.store);
      return;
    }
    const inFlight: Promise<BlockFacts[]>[] = [];
    const depth = this.threads * 3;
    for (const task of this.batches()) {
      inFlight.push(this.pool.run(task));
      if (inFlight.length >= depth) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
