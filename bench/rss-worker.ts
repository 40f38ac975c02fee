// The sampling thread of startRssAnonSampler: samples until the flag is set, then posts them.
import { parentPort, workerData } from 'node:worker_threads';
import { rssAnonKiB } from './rss.js';

const { flag, everyMs } = workerData as { flag: SharedArrayBuffer; everyMs: number };
const stop = new Int32Array(flag);
const samples: number[] = [];
while (Atomics.load(stop, 0) === 0) {
  samples.push(rssAnonKiB());
  Atomics.wait(stop, 0, 0, everyMs);
}
parentPort!.postMessage(samples);
