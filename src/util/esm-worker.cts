// The file every piscina pool loads. Piscina loads task files with require() first; on Node
// 20.19+ require() of our ES module graph trips a Node assertion, so pools load this CommonJS
// file, which imports the pool's real module (workerData.module, an ES module whose default
// export runs one task) once per thread.
import { workerData } from 'node:worker_threads';

type Run = (task: any) => unknown;
let run: Promise<Run> | undefined;

module.exports = function runTask(task: unknown): Promise<unknown> {
  run ??= import((workerData as { module: string }).module).then((m) => m.default as Run);
  return run.then((r) => r(task));
};
