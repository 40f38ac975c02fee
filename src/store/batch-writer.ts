// Where store batches (batch.ts) are committed, in the order given: in this thread, or in a
// writer thread of their own, so that the B-tree work and the commits run beside the thread that
// makes the records (import) or the results (replay). At most a few batches wait; the first
// failed commit fails every later call with the same error, as a failed write in this thread
// would (the store's write guard), and this thread's reads see each acknowledged commit.
import { Worker } from 'node:worker_threads';
import { commitStoreBatch, type MetaEntries } from './batch.js';
import type { BlockStore } from './store.js';

/** What the writer thread gives back for a batch: null when committed, else its write error. */
export type CommitOutcome = null | { message: string; code?: unknown };

/** To the writer thread: a batch to commit, or `close` (after the batches sent before it). */
export type WriterMessage = { bytes: Uint8Array; meta: MetaEntries } | { close: true };

/** Batches given to the writer thread and not yet committed before `write` waits for the oldest. */
const QUEUED = 4;

interface Pending {
  resolve: () => void;
  reject: (e: unknown) => void;
  committed?: () => void;
}

export class BatchWriter {
  /** A worker thread, not a pool: a port delivers batches in the order sent, which the commits keep. */
  private readonly worker: Worker | null;
  private readonly pending: Pending[] = [];
  private readonly queued: Promise<void>[] = [];
  private failure: unknown = null;
  private exited: Promise<void> = Promise.resolve();
  private closing = false;

  /** `thread`: commit in a writer thread (else in this one, at once). */
  constructor(
    private readonly store: BlockStore,
    thread: boolean,
  ) {
    this.worker = thread
      ? new Worker(new URL('./batch-writer-worker.js', import.meta.url), {
          workerData: { dir: store.dir },
          resourceLimits: { maxYoungGenerationSizeMb: 4 },
        })
      : null;
    const w = this.worker;
    if (w === null) return;
    this.exited = new Promise((resolve) =>
      w.once('exit', () => {
        const ended = new Error('the store writer thread ended before committing every batch');
        for (const p of this.pending.splice(0)) p.reject(ended);
        // a thread that ends unasked fails what is given to it later, instead of leaving it waiting
        if (!this.closing) this.failure ??= ended;
        resolve();
      }),
    );
    w.on('message', (outcome: CommitOutcome) => this.settle(outcome));
    w.on('error', (e) => {
      // the thread died (a bug, or out of memory): nothing it had not acknowledged is known committed
      for (const p of this.pending.splice(0)) p.reject(e);
      this.failure ??= e;
    });
  }

  get threaded(): boolean {
    return this.worker !== null;
  }

  private settle(outcome: CommitOutcome): void {
    const p = this.pending.shift();
    if (outcome !== null) {
      if (this.failure === null) {
        this.seeCommitted();
        this.failure = this.store.failedElsewhere(Object.assign(new Error(outcome.message), { code: outcome.code }));
      }
    } else if (p?.committed !== undefined) {
      this.seeCommitted();
      try {
        p.committed();
      } catch (e) {
        this.failure ??= e;
      }
    }
    p?.resolve();
  }

  /**
   * Commits a batch (StoreBatch.take(threaded)) with its meta entries after every batch given before it;
   * `committed` runs once it is. In this thread that is at once (a failure throws here); with a
   * writer thread, call `ready` before the next batch and `drain` at the end.
   */
  send(bytes: Uint8Array, meta: MetaEntries, committed?: () => void): void {
    if (this.failure !== null) throw this.failure;
    if (this.worker === null) {
      commitStoreBatch(this.store, bytes, meta);
      committed?.();
      return;
    }
    const done = new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject, committed }));
    done.catch(() => {});
    this.worker.postMessage({ bytes, meta } satisfies WriterMessage, [bytes.buffer as ArrayBuffer]);
    this.queued.push(done);
  }

  /** Resolves when few enough batches wait; throws the first failure. */
  async ready(): Promise<void> {
    while (this.queued.length > QUEUED) await this.queued.shift();
    if (this.failure !== null) throw this.failure;
  }

  /** `send`, then `ready`. */
  async write(bytes: Uint8Array, meta: MetaEntries = []): Promise<void> {
    this.send(bytes, meta);
    await this.ready();
  }

  /** Resolves when every batch given is committed (and readable here); throws the first failure. */
  async drain(): Promise<void> {
    while (this.queued.length > 0) await this.queued.shift();
    this.seeCommitted();
    if (this.failure !== null) throw this.failure;
  }

  /** This thread's reads see the writer's commits (lmdb-js renews its read snapshot only on a later turn). */
  private seeCommitted(): void {
    if (this.worker !== null) this.store.env.resetReadTxn();
  }

  /** Waits for what was given (committed or failed) and ends the thread; does not throw a commit failure. */
  async close(): Promise<void> {
    if (this.worker === null) return;
    await Promise.allSettled(this.queued.splice(0));
    this.closing = true;
    this.worker.postMessage({ close: true } satisfies WriterMessage);
    await this.exited;
    this.seeCommitted();
  }
}
