// Anonymous RSS (the process's own memory, not the LMDB map's file pages) sampled from a
// worker thread, so that samples keep coming while the main thread runs synchronous work.
import { Worker } from 'node:worker_threads';

const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const flag = new Int32Array(workerData.flag);
const sample = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const samples = [];
while (Atomics.load(flag, 0) === 0) {
  samples.push(sample());
  Atomics.wait(flag, 0, 0, workerData.everyMs);
}
parentPort.postMessage(samples);
`;

export interface RssAnonSamples {
  /** KiB at 10%, 50% and 90% of the run, and the maximum. */
  at10: number;
  at50: number;
  at90: number;
  max: number;
}

export function startRssAnonSampler(everyMs = 100): { stop(): Promise<RssAnonSamples> } {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(SAMPLER, { eval: true, workerData: { flag, everyMs } });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      const f = new Int32Array(flag);
      Atomics.store(f, 0, 1);
      Atomics.notify(f, 0);
      const s = (await done).filter((x) => Number.isFinite(x));
      await worker.terminate();
      const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
      return { at10: at(0.1), at50: at(0.5), at90: at(0.9), max: Math.max(...s) };
    },
  };
}
