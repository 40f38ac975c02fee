// `npm run bench:http`: throughput of the HTTP API's point queries against the ceiling of a bare
// node:http server answering a fixed small JSON, measured in the same run with autocannon; then
// 1000 malformed requests, counting 5xx answers (must be 0). Loopback only, bounded in time.
//
//   node dist/bench/http.js [--seconds S] [--connections C] [--synth BLOCKS] [--fuzz N]
//
// The store is beacons-index.spork (or a synthetic spork of BLOCKS blocks with --synth),
// imported into a temporary directory and replayed. Each server runs in a worker thread of its
// own (its own event loop, like a separate process); autocannon drives them from the main thread.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
const HOST = '127.0.0.1';
const HARD_LIMIT_MS = 180_000;

interface Role {
  role: 'app' | 'ceiling';
  dir?: string;
  cacheEntries?: number;
}

// ---------------------------------------------------------------- worker side

async function workerMain(data: Role): Promise<void> {
  if (data.role === 'ceiling') {
    const body = JSON.stringify({ id: 'ab'.repeat(32), height: 1000, verdict: 'ok' });
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
    });
    server.listen(0, HOST, () => parentPort!.postMessage({ port: (server.address() as AddressInfo).port }));
    parentPort!.on('message', (m) => {
      if (m === 'stop') {
        server.closeAllConnections();
        server.close(() => process.exit(0));
      }
    });
    return;
  }
  const { openReadOnly, startServer } = await import('../src/server/server.js');
  const store = openReadOnly(data.dir!);
  const srv = await startServer(store, { port: 0, host: HOST, cacheEntries: data.cacheEntries });
  const c = srv.query.chain();
  parentPort!.postMessage({ port: srv.port, rootHeight: Number(c.rootHeight), finalizedHeight: Number(c.finalizedHeight) });
  parentPort!.on('message', async (m) => {
    if (m === 'stop') {
      await srv.close();
      await store.close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------- main side

interface Started {
  worker: Worker;
  port: number;
  rootHeight?: number;
  finalizedHeight?: number;
}

function startWorker(data: Role): Promise<Started> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    worker.once('message', (m) => resolve({ worker, ...m }));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${data.role} worker exited with ${code} before listening`)));
  });
}

async function stopWorker(s: Started): Promise<void> {
  const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
  s.worker.removeAllListeners('message');
  s.worker.postMessage('stop');
  const timer = setTimeout(() => void s.worker.terminate(), 3000);
  await exited;
  clearTimeout(timer);
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function cannon(port: number, paths: string[], seconds: number, connections: number, amount?: number): Promise<Measured> {
  const autocannon = require('autocannon');
  const r = await autocannon({
    url: `http://${HOST}:${port}`,
    connections,
    pipelining: 1,
    duration: seconds,
    ...(amount === undefined ? {} : { amount }),
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    total: r.requests.total,
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: expected a number`);
  return v;
}

async function buildStore(dir: string, synthBlocks: number): Promise<string> {
  const { BlockStore } = await import('../src/store/store.js');
  const { importArchive } = await import('../src/store/import.js');
  const { evaluateStore, loadRoot } = await import('../src/replay/pipeline.js');
  let archive = new URL('../../test/vectors/scenarios/beacons-index.spork', import.meta.url).pathname;
  let label = 'beacons-index.spork';
  if (synthBlocks > 0) {
    const { writeSporkArchive } = await import('../src/synth/index.js');
    archive = join(dir, 'synth.spork');
    await writeSporkArchive(archive, { blocks: synthBlocks, seed: 1 });
    label = `synthetic spork of ${synthBlocks} blocks`;
  }
  const store = BlockStore.open(join(dir, 'db'));
  try {
    await importArchive(store, archive);
    await evaluateStore(store, loadRoot(store), { threads: 0, full: false });
  } finally {
    await store.close();
  }
  return label;
}

async function main(): Promise<number> {
  const seconds = arg('--seconds', 6);
  const connections = arg('--connections', 10);
  const synth = arg('--synth', 0);
  const fuzzCount = arg('--fuzz', 1000);
  const dir = mkdtempSync(join(tmpdir(), 'spork-bench-http-'));
  const started: Started[] = [];
  const hard = setTimeout(() => {
    process.stderr.write(`bench:http: still running after ${HARD_LIMIT_MS / 1000} s, stopping\n`);
    for (const s of started) void s.worker.terminate();
    rmSync(dir, { recursive: true, force: true });
    process.exit(2);
  }, HARD_LIMIT_MS);
  hard.unref();
  try {
    const label = await buildStore(dir, synth);
    const app = await startWorker({ role: 'app', dir: join(dir, 'db') });
    started.push(app);
    const ceiling = await startWorker({ role: 'ceiling' });
    started.push(ceiling);
    const uncached = await startWorker({ role: 'app', dir: join(dir, 'db'), cacheEntries: 0 });
    started.push(uncached);

    const heights: string[] = [];
    for (let h = app.rootHeight!; h <= app.finalizedHeight!; h++) heights.push(`/blocks/${h}`);
    // spread the point queries over the chain (at most 2000 distinct heights)
    const step = Math.max(1, Math.ceil(heights.length / 2000));
    const paths = heights.filter((_, i) => i % step === 0);
    const out = (s: string) => process.stdout.write(s + '\n');
    out(
      `bench:http: ${label}, ${paths.length} finalized heights queried as /blocks/<height>, ${connections} connections, ${seconds} s per side in 4 interleaved rounds (median), loopback ${HOST}`,
    );

    // warm-up (JIT; every path once per connection, so the answer cache holds them all), then
    // interleaved rounds so drift hits both sides alike
    await cannon(ceiling.port, ['/'], 1, connections);
    await cannon(app.port, paths, 60, connections, connections * paths.length);
    const rounds = 4;
    const ceil: Measured[] = [];
    const pts: Measured[] = [];
    for (let i = 0; i < rounds; i++) {
      ceil.push(await cannon(ceiling.port, ['/'], seconds / rounds, connections));
      pts.push(await cannon(app.port, paths, seconds / rounds, connections));
    }
    await cannon(uncached.port, paths, 0.5, connections);
    const cold = await cannon(uncached.port, paths, seconds / rounds, connections);
    const mean = (xs: Measured[], f: (m: Measured) => number) => xs.reduce((a, m) => a + f(m), 0) / xs.length;
    // median of the rounds: a shared machine's noise hits single rounds
    const median = (xs: Measured[]) => {
      const v = xs.map((m) => m.rps).sort((a, b) => a - b);
      return v.length % 2 === 1 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
    };
    const ceilRps = median(ceil);
    const ptRps = median(pts);
    const ratio = ptRps / ceilRps;
    const row = (name: string, rps: number, ms: Measured[]) =>
      out(
        `  ${name.padEnd(44)} ${Math.round(rps).toString().padStart(7)} req/s   p50 ${mean(ms, (m) => m.p50).toFixed(1)} ms   p99 ${mean(ms, (m) => m.p99).toFixed(1)} ms   non-2xx ${ms.reduce((a, m) => a + m.non2xx, 0)}   errors ${ms.reduce((a, m) => a + m.errors, 0)}`,
      );
    row('ceiling: bare node:http, fixed small JSON', ceilRps, ceil);
    row('spork-replay serve: GET /blocks/<height>', ptRps, pts);
    row('  (same, answer cache disabled)', cold.rps, [cold]);
    out(
      `  ratio ${(ratio * 100).toFixed(1)}% of the ceiling (target >= 80%): ${ratio >= 0.8 ? 'met' : 'NOT met'}; without the answer cache ${((cold.rps / ceilRps) * 100).toFixed(1)}%`,
    );

    const { fuzzRequests, runFuzz } = await import('./http-fuzz.js');
    const fuzz = await runFuzz(HOST, app.port, fuzzRequests(fuzzCount, 7, { heights: [app.rootHeight!, app.finalizedHeight!] }), 16);
    const statuses = Object.entries(fuzz.byStatus)
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    out(`  fuzz: ${fuzz.total} malformed requests -> ${fuzz.serverErrors} 5xx, ${fuzz.noResponse} without an answer (${statuses})`);
    for (const e of fuzz.serverErrorExamples) out(`    5xx: ${e}`);
    const bad = pts.some((m) => m.non2xx > 0 || m.errors > 0) || fuzz.serverErrors > 0 || fuzz.noResponse > 0;
    return bad ? 1 : 0;
  } finally {
    for (const s of started) await stopWorker(s);
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(hard);
  }
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`bench:http: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(2);
    },
  );
} else {
  void workerMain(workerData as Role);
}
