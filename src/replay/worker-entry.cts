// Piscina loads task files with require() first; on Node 20.19+ require() of our ES module
// graph trips a Node assertion, so the pool loads this CommonJS file, which imports the real
// worker as an ES module once per thread.
type Run = (task: any) => unknown;
let worker: Promise<Run> | undefined;

module.exports = function runTask(task: unknown): Promise<unknown> {
  worker ??= import('./worker.js').then((m) => m.default as Run);
  return worker.then((run) => run(task));
};
