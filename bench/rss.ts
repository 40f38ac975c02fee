// Anonymous RSS (a process's own memory, not the LMDB map's file pages) from /proc, and its
// levels over a run: the one reader behind every memory figure of the bench.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** RssAnon of a process in KiB (NaN when /proc does not say). */
export function rssAnonKiB(pid: number | 'self' = 'self'): number {
  return Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** KiB at 10%, 50% and 90% of a run, and the maximum. */
export interface RssAnonLevels {
  at10: number;
  at50: number;
  at90: number;
  max: number;
}

/** Levels of samples taken at even intervals over a run. */
export function rssLevels(samples: readonly number[]): RssAnonLevels {
  const s = samples.filter((x) => Number.isFinite(x));
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { at10: at(0.1), at50: at(0.5), at90: at(0.9), max: s.length === 0 ? NaN : Math.max(...s) };
}

/** Samples this process from a worker thread, so that samples keep coming while the main thread runs synchronous work. */
export function startRssAnonSampler(everyMs = 100): { stop(): Promise<RssAnonLevels> } {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./rss-worker.js', import.meta.url), { workerData: { flag, everyMs } });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      const f = new Int32Array(flag);
      Atomics.store(f, 0, 1);
      Atomics.notify(f, 0);
      const samples = await done;
      await worker.terminate();
      return rssLevels(samples);
    },
  };
}
