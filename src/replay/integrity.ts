// The integrity stage as a pipeline: the store's report order cut into batches, each batch
// read, decoded and hashed by a piscina worker (or in this thread with threads = 0), results
// yielded in order. Several batches are in flight so workers never wait on the main thread.
// Blocks whose result an earlier run stored are passed through with it, unhashed.
import { Piscina } from 'piscina';
import type { BlockStore } from '../store/store.js';
import type { BlockResult } from './evaluate.js';
import type { BlockFacts } from './facts.js';
import { factsOfBatch, packSlots, SLOT, type IntegrityTask } from './integrity-work.js';
import { readU64 } from '../store/keys.js';
import { EnvironmentError } from '../util/errors.js';
import { ESM_WORKER } from '../util/workers.js';
import { decodeFacts } from './facts-codec.js';

/**
 * A worker's young generation: its garbage is short-lived (one batch), and V8's default size let
 * each worker's heap grow ~50 MiB for nothing (2 workers, 200k blocks: anonymous RSS max
 * 424-439 -> 327-332 MiB, no slower).
 */
const WORKER_YOUNG_MB = 8;

/**
 * Blocks per task: piscina costs ~50 us per task, a block ~35 us of integrity work; with 3 tasks in
 * flight per worker, larger tasks only hold more memory (2048: anonymous RSS max 328-345 MiB at 2
 * workers, 512: 275-283, the same speed).
 */
const BATCH = 512;

export interface StageOptions {
  /** The worker file (tests substitute one that fails); default util/esm-worker.cjs running worker.js. */
  workerFile?: string;
}

/** An integrity batch failed on two workers in a row. */
export class WorkerFailure extends EnvironmentError {
  constructor(task: IntegrityTask, cause: unknown) {
    const n = task.slots.length / SLOT;
    const first = readU64(task.slots, 1);
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(`an integrity worker failed twice on a batch of ${n} blocks (from record ${first}): ${reason}`, {
      hint: 'the stored results before it are kept; run the replay again, or with --threads 0 to check in the main thread',
      cause,
    });
    this.name = 'WorkerFailure';
  }
}

/** One block in report order: its facts, or the result an earlier run stored. */
export interface StageItem {
  /** Order db key (the report order; the block's result is stored under it). */
  key: Buffer;
  /** Order db value: record number (8) | claimed id (32, absent for orphans). */
  entry: Uint8Array;
  facts?: BlockFacts;
  stored?: BlockResult;
}

export class IntegrityStage {
  private readonly pool: Piscina | null;

  constructor(
    private readonly store: BlockStore,
    readonly threads: number,
    private readonly storedResult: ((orderKey: Buffer) => BlockResult | undefined) | null,
    opts: StageOptions = {},
  ) {
    this.pool =
      threads > 0
        ? new Piscina({
            filename: opts.workerFile ?? ESM_WORKER,
            workerData: { module: new URL('./worker.js', import.meta.url).href },
            minThreads: threads,
            maxThreads: threads,
            idleTimeout: 60_000,
            resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
          })
        : null;
  }

  /** Facts of one block computed in this thread (a stored result that cannot be reused). */
  factsNow(item: StageItem): BlockFacts {
    const f = factsOfBatch({ dir: this.store.dir, slots: packSlots([item.entry]) }, this.store)[0];
    f.orderKey = item.key;
    return f;
  }

  private *batches(): Generator<StageItem[]> {
    let items: StageItem[] = [];
    for (const { key, value } of this.store.order.getRange({})) {
      const item: StageItem = { key, entry: value.length >= 40 ? value.subarray(0, 40) : value.subarray(0, 8) };
      if (this.storedResult !== null) {
        const r = this.storedResult(key);
        if (r !== undefined && !r.retry) item.stored = r;
      }
      items.push(item);
      if (items.length >= BATCH) {
        yield items;
        items = [];
      }
    }
    if (items.length > 0) yield items;
  }

  private task(items: StageItem[]): IntegrityTask | null {
    const entries = items.filter((i) => i.stored === undefined).map((i) => i.entry);
    return entries.length === 0 ? null : { dir: this.store.dir, slots: packSlots(entries) };
  }

  private static merge(items: StageItem[], facts: BlockFacts[]): StageItem[] {
    let j = 0;
    for (const item of items) {
      if (item.stored !== undefined) continue;
      const f = facts[j++];
      f.orderKey = item.key;
      item.facts = f;
    }
    return items;
  }

  async *run(): AsyncGenerator<StageItem[]> {
    if (this.pool === null) {
      for (const items of this.batches()) {
        const task = this.task(items);
        yield IntegrityStage.merge(items, task === null ? [] : factsOfBatch(task, this.store));
      }
      return;
    }
    const pool = this.pool;
    const inFlight: Promise<StageItem[]>[] = [];
    const depth = this.threads * 3;
    for (const items of this.batches()) {
      const task = this.task(items);
      const facts: Promise<BlockFacts[]> = task === null ? Promise.resolve([]) : this.runTask(pool, task).then(decodeFacts);
      const merged = facts.then((f) => IntegrityStage.merge(items, f));
      // awaited in order below; a batch that fails while an earlier one is awaited is not "unhandled"
      merged.catch(() => {});
      inFlight.push(merged);
      if (inFlight.length >= depth) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  }

  /**
   * One batch on the pool. A worker that dies or fails mid-batch (killed, out of memory) gets
   * the batch retried once on a fresh worker; a second failure is an error naming the batch.
   */
  private async runTask(pool: Piscina, task: IntegrityTask): Promise<ArrayBuffer> {
    try {
      return await pool.run(task);
    } catch {
      try {
        return await pool.run(task);
      } catch (second) {
        throw new WorkerFailure(task, second);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
