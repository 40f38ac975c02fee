// Where the replay's result batches are committed, in the order they are given: in this thread
// (--threads 0), or in a writer thread of their own, so that the store's B-tree work and commits
// run beside the evaluation instead of in it. Batches wait in a bounded queue; the first failed
// commit fails every later call with the same error (the store's write guard, as in this thread).
import { Worker } from 'node:worker_threads';
import type { BlockStore } from '../store/store.js';
import { commitResultBatch } from './result-batch.js';

/** What the writer thread gives back for a batch: null when committed, else its write error. */
export type CommitOutcome = null | { message: string; code?: unknown };

/** To the writer thread: a batch to commit, or `close` (after the batches sent before it). */
export type WriterMessage = { bytes: Uint8Array } | { close: true };

/** Batches queued for the writer thread before `write` waits for the oldest. */
const QUEUED = 4;

interface Pending {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class ResultWriter {
  /** A worker thread (not a pool: a port delivers batches in the order sent, which commits keep). */
  private readonly worker: Worker | null;
  private readonly pending: Pending[] = [];
  private readonly queued: Promise<void>[] = [];
  private failure: unknown = null;
  private exited: Promise<void> = Promise.resolve();

  /** `thread`: commit in a writer thread (else in this one, at once). */
  constructor(
    private readonly store: BlockStore,
    thread: boolean,
  ) {
    this.worker = thread
      ? new Worker(new URL('./result-writer-worker.js', import.meta.url), {
          workerData: { dir: store.dir },
          resourceLimits: { maxYoungGenerationSizeMb: 4 },
        })
      : null;
    if (this.worker === null) return;
    const w = this.worker;
    this.exited = new Promise((resolve) =>
      w.once('exit', () => {
        for (const p of this.pending.splice(0)) p.reject(new Error('the result writer thread ended before committing every batch'));
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

  private settle(outcome: CommitOutcome): void {
    const p = this.pending.shift();
    if (outcome !== null && this.failure === null) {
      this.seeCommitted();
      this.failure = this.store.failedElsewhere(Object.assign(new Error(outcome.message), { code: outcome.code }));
    }
    p?.resolve();
  }

  /** Commits a batch (ResultBatch.take()) after every batch given before it. */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.worker === null) return commitResultBatch(this.store, bytes);
    const done = new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
    done.catch(() => {});
    this.worker.postMessage({ bytes } satisfies WriterMessage, [bytes.buffer as ArrayBuffer]);
    this.queued.push(done);
    if (this.queued.length > QUEUED) await this.queued.shift();
    if (this.failure !== null) throw this.failure;
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
    this.worker.postMessage({ close: true } satisfies WriterMessage);
    await this.exited;
    this.seeCommitted();
  }
}
