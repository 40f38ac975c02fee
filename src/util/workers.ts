/** The CommonJS file piscina pools load (esm-worker.cts); the pool's module goes in workerData.module. */
export const ESM_WORKER = new URL('./esm-worker.cjs', import.meta.url).href;
