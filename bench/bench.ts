// spork-replay benchmark: TypeScript replay and integrity stage against the native C baseline.
//
//   npm run bench -- --blocks N --threads LIST --seed S [options]
//
// 1. Generates (or reuses) a synthetic spork archive (src/synth) and imports it into a store,
//    both cached under bench/cache/ by size, seed and faults.
// 2. Measures, each run in its own child process so that peak RSS is per run:
//      - TS full replay (evaluateStore + reportFromStore) at each thread count, on a fresh copy
//        of the cached store each time;
//      - the TS integrity stage alone (IntegrityStage) at each thread count;
//      - a phase breakdown on a sample, in one thread (read, decode, hash and its parts,
//        structured clone and the facts codec, evaluate; report from the replay run);
//      - the native baseline (native-bench/build/integrity) at each thread count.
// 3. Cross-checks the native sample ids against the TS computation, and the mismatch counts.
// 4. Prints a table and writes bench/results.json.
//
// Options:
//   --blocks N          main-chain blocks of the synthetic spork (default 20000)
//   --threads LIST      comma-separated thread counts (default 1,2; 0 = in the main thread)
//   --seed S            synth seed (default 1)
//   --faults SPEC       synth faults (default "id-mismatch:2,payload-mismatch:2,decode-error:1"; "none")
//   --phase-sample M    blocks in the phase breakdown (default min(records, 5000))
//   --repeat R          runs per measurement, the fastest kept (default 1)
//   --no-replay         skip the full replay runs
//   --no-native         skip the native baseline
//   --no-fetch          skip the fetch figure (blocks/s from a loopback Access node, bench/fetch.ts)
//   --fetch-blocks N    blocks of the fetch figure (default 100000; a flow-profile spork of its own)
//   --profile           also CPU-profile the integrity stage and the replay in one thread
//                       (node --cpu-prof) and print the hottest functions
//   --rebuild           regenerate the archive and re-import the store
//   --prepare-only      only generate and import (fill the cache), measure nothing
//   --label TEXT        a note kept in the results (e.g. which code was measured)
//   --out FILE          results file (default bench/results.json)
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { toHex } from '../src/model/bytes.js';
import { headerId } from '../src/model/ids.js';
import { payloadElementIds, payloadHash, payloadHashFromRoots, payloadRoots } from '../src/model/payload.js';
import type { Header, Payload } from '../src/model/types.js';
import { readU64 } from '../src/store/keys.js';
import { BlockStore, STORE_FORMAT } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { decodeStoredRecord } from '../src/model/record.js';
import { blockFacts, type BlockFacts } from '../src/replay/facts.js';
import { IntegrityStage } from '../src/replay/integrity.js';
import { Evaluator } from '../src/replay/evaluate.js';
import { evaluateStore, loadRoot, reportFromStore, rootContext } from '../src/replay/pipeline.js';
import { writeSporkArchive } from '../src/synth/index.js';
import { benchFetch } from './fetch.js';
import { startRssAnonSampler } from './rss.js';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const CACHE = join(ROOT, 'bench', 'cache');
const NATIVE = join(ROOT, 'native-bench', 'build', 'integrity');
const SELF = fileURLToPath(import.meta.url);
const RESULT_MARK = '@@bench-result ';
const CHILD_TIMEOUT_MS = 2 * 60 * 60 * 1000;
const SAMPLE = 16;
/** Passes per phase measurement; the fastest counts. */
const ROUNDS = 3;

// ------------------------------------------------------------------ arguments

interface Options {
  blocks: number;
  threads: number[];
  seed: string;
  faults: string;
  phaseSample: number | null;
  repeat: number;
  replay: boolean;
  native: boolean;
  fetch: boolean;
  fetchBlocks: number;
  profile: boolean;
  rebuild: boolean;
  prepareOnly: boolean;
  label: string | null;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    blocks: 20_000,
    threads: [1, 2],
    seed: '1',
    faults: 'id-mismatch:2,payload-mismatch:2,decode-error:1',
    phaseSample: null,
    repeat: 1,
    replay: true,
    native: true,
    fetch: true,
    fetchBlocks: 100_000,
    profile: false,
    rebuild: false,
    prepareOnly: false,
    label: null,
    out: join(ROOT, 'bench', 'results.json'),
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min) throw new Error(`${name} needs an integer >= ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    switch (a) {
      case '--blocks':
        o.blocks = int(a, next(), 1);
        break;
      case '--threads':
        o.threads = String(next() ?? '')
          .split(',')
          .filter((s) => s !== '')
          .map((s) => int(a, s, 0));
        if (o.threads.length === 0) throw new Error('--threads needs a list such as 1,2');
        break;
      case '--seed':
        o.seed = String(next());
        break;
      case '--faults':
        o.faults = String(next());
        break;
      case '--phase-sample':
        o.phaseSample = int(a, next(), 1);
        break;
      case '--repeat':
        o.repeat = int(a, next(), 1);
        break;
      case '--no-replay':
        o.replay = false;
        break;
      case '--no-native':
        o.native = false;
        break;
      case '--no-fetch':
        o.fetch = false;
        break;
      case '--fetch-blocks':
        o.fetchBlocks = int(a, next(), 1);
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--rebuild':
        o.rebuild = true;
        break;
      case '--prepare-only':
        o.prepareOnly = true;
        break;
      case '--label':
        o.label = String(next());
        break;
      case '--out':
        o.out = resolve(String(next()));
        break;
      case '--help':
      case '-h':
        {
          const lines = readFileSync(SELF, 'utf8').split('\n');
          const end = lines.findIndex((l) => !l.startsWith('//'));
          console.log(
            lines
              .slice(0, end < 0 ? lines.length : end)
              .map((l) => l.slice(3))
              .join('\n'),
          );
        }
        process.exit(0);
      default:
        throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  o.threads = [...new Set(o.threads)].sort((a, b) => a - b);
  return o;
}

// ------------------------------------------------------------------ cache: archive and store

interface Prepared {
  archive: string;
  store: string;
  records: number;
  archiveBytes: number;
  storeBytes: number;
  synthSeconds: number | null;
  importSeconds: number | null;
  expectedVerdicts: Record<string, number> | null;
}

function cacheName(o: Options): string {
  const f = o.faults === '' || o.faults === 'none' ? 'nofaults' : o.faults.replace(/[^a-z0-9]+/gi, '_');
  return `b${o.blocks}-s${o.seed.replace(/[^a-z0-9]+/gi, '_')}-${f}`;
}

async function prepare(o: Options): Promise<Prepared> {
  mkdirSync(CACHE, { recursive: true });
  const name = cacheName(o);
  const archive = join(CACHE, `${name}.spork`);
  const archiveMeta = `${archive}.json`;
  const store = join(CACHE, `${name}-store`); // no dot: lmdb-js takes a path with an extension for a file
  const storeMeta = join(store, 'bench-import.json');
  let synthSeconds: number | null = null;
  let importSeconds: number | null = null;
  let expectedVerdicts: Record<string, number> | null = null;
  if (o.rebuild) {
    rmSync(archive, { force: true });
    rmSync(store, { recursive: true, force: true });
  }
  if (!existsSync(archive) || !existsSync(archiveMeta)) {
    console.error(`bench: generating ${o.blocks} blocks (seed ${o.seed}) -> ${archive}`);
    const tmp = `${archive}.tmp-${process.pid}`;
    const faults = o.faults === '' || o.faults === 'none' ? undefined : o.faults;
    const r = await writeSporkArchive(tmp, { blocks: o.blocks, seed: o.seed, faults });
    renameSync(tmp, archive);
    if (r.manifestPath !== null) rmSync(r.manifestPath, { force: true });
    writeFileSync(archiveMeta, JSON.stringify({ records: r.records, bytes: r.bytes, seconds: r.seconds, expectedVerdicts: r.expectedVerdicts }, null, 1));
    rmSync(store, { recursive: true, force: true });
    synthSeconds = r.seconds;
  }
  const am = JSON.parse(readFileSync(archiveMeta, 'utf8'));
  expectedVerdicts = am.expectedVerdicts ?? null;
  let meta: any = existsSync(storeMeta) ? JSON.parse(readFileSync(storeMeta, 'utf8')) : null;
  if (meta === null || meta.storeFormat !== STORE_FORMAT || meta.archiveBytes !== statSync(archive).size) {
    console.error(`bench: importing ${archive} -> ${store}`);
    rmSync(store, { recursive: true, force: true });
    const t0 = performance.now();
    const s = BlockStore.open(store);
    try {
      const stats = await importArchive(s, archive);
      meta = { storeFormat: STORE_FORMAT, archiveBytes: statSync(archive).size, stored: stats.stored, records: s.order.getCount() };
    } finally {
      await s.close();
    }
    importSeconds = (performance.now() - t0) / 1000;
    meta.importSeconds = importSeconds;
    writeFileSync(storeMeta, JSON.stringify(meta, null, 1));
  }
  return {
    archive,
    store,
    records: meta.records,
    archiveBytes: statSync(archive).size,
    storeBytes: statSync(join(store, 'data.mdb')).size,
    synthSeconds,
    importSeconds,
    expectedVerdicts,
  };
}

/** Reads the data file once so that every measurement starts with it in the page cache. */
function warmPageCache(storeDir: string): void {
  const fd = openSync(join(storeDir, 'data.mdb'), 'r');
  const buf = Buffer.allocUnsafe(1 << 22);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0) {
      /* read through */
    }
  } finally {
    closeSync(fd);
  }
}

// ------------------------------------------------------------------ child processes

interface ChildResult {
  [k: string]: any;
  maxRssKiB: number;
}

function runChild(args: string[], execArgv: string[] = []): ChildResult {
  const r = spawnSync(process.execPath, [...execArgv, SELF, '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: CHILD_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.error) throw r.error;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (r.status !== 0 || line === undefined) throw new Error(`bench child ${args.join(' ')} failed (exit ${r.status}, signal ${r.signal})`);
  return JSON.parse(line.slice(RESULT_MARK.length));
}

function emitResult(v: unknown): void {
  process.stdout.write(RESULT_MARK + JSON.stringify(v) + '\n');
}

function rssKiB(): number {
  return process.resourceUsage().maxRSS;
}

/** User + system CPU seconds of this process so far, worker threads included. */
function cpuSeconds(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
}

type Stage = { run(): AsyncIterable<unknown[]>; close(): Promise<void> };
/** The stage's constructor across its versions: (store, threads[, storedResult]). */
const StageCtor = IntegrityStage as unknown as new (store: BlockStore, threads: number, storedResult: null) => Stage;

/** A stage item is BlockFacts, or {entry, facts?, stored?} in the incremental pipeline. */
function factsOf(item: unknown): BlockFacts {
  const x = item as { facts?: BlockFacts };
  return (x.facts ?? item) as BlockFacts;
}

async function childIntegrity(store: string, threads: number): Promise<void> {
  const s = BlockStore.open(store, { readOnly: true });
  const rss = startRssAnonSampler();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const stage = new StageCtor(s, threads, null);
  let records = 0;
  let idMismatches = 0;
  let payloadMismatches = 0;
  let decodeErrors = 0;
  let t1: number;
  try {
    for await (const batch of stage.run()) {
      for (const item of batch) {
        const f = factsOf(item);
        records++;
        if (f.decodeError !== null) decodeErrors++;
        if (f.idMismatch !== null) idMismatches++;
        if (f.payloadMismatch !== null) payloadMismatches++;
      }
    }
    t1 = performance.now();
  } finally {
    await stage.close();
    await s.close();
  }
  const mainSeconds = performance.eventLoopUtilization(elu0).active / 1000;
  const seconds = (t1 - t0) / 1000;
  emitResult({
    records,
    threads,
    seconds,
    mainThreadSeconds: mainSeconds,
    rssAnonKiB: await rss.stop(),
    blocksPerSecond: records / seconds,
    idMismatches,
    payloadMismatches,
    decodeErrors,
    maxRssKiB: rssKiB(),
    cpuSeconds: cpuSeconds(),
  });
}

async function childReplay(store: string, threads: number): Promise<void> {
  const s = BlockStore.open(store);
  let evaluateSeconds: number;
  let reportSeconds: number;
  let summary: any;
  let mainEvaluate: number;
  let mainReport: number;
  const rss = startRssAnonSampler();
  try {
    const root = loadRoot(s);
    // main-thread busy time: event-loop utilisation (Node 20 has no per-thread CPU clock);
    // waiting for workers is idle time of the loop, synchronous work is not
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    const work = await evaluateStore(s, root, { threads, full: true });
    const t1 = performance.now();
    const elu1 = performance.eventLoopUtilization();
    summary = await reportFromStore(s, root, join(store, 'report.jsonl'), undefined, work.pass1);
    const t2 = performance.now();
    evaluateSeconds = (t1 - t0) / 1000;
    reportSeconds = (t2 - t1) / 1000;
    mainEvaluate = performance.eventLoopUtilization(elu1, elu0).active / 1000;
    mainReport = performance.eventLoopUtilization(elu1).active / 1000;
  } finally {
    await s.close();
  }
  const records = summary.blocks as number;
  const seconds = evaluateSeconds + reportSeconds;
  emitResult({
    records,
    threads,
    seconds,
    evaluateSeconds,
    reportSeconds,
    mainThreadSeconds: mainEvaluate + mainReport,
    mainThreadEvaluateSeconds: mainEvaluate,
    mainThreadReportSeconds: mainReport,
    rssAnonKiB: await rss.stop(),
    blocksPerSecond: records / seconds,
    verdicts: summary.verdicts,
    finalizedHeight: summary.finalizedHeight,
    maxRssKiB: rssKiB(),
    cpuSeconds: cpuSeconds(),
  });
}

/** Per-phase costs on the first `sample` blocks in report order, in this thread. */
async function childPhases(store: string, sample: number): Promise<void> {
  const s = BlockStore.open(store, { readOnly: true });
  const out: Record<string, any> = {};
  try {
    const entries: Buffer[] = [];
    for (const { value } of s.order.getRange({ limit: sample })) entries.push(Buffer.from(value));
    const n = entries.length;
    const read = (e: Buffer): Buffer | undefined => (e.length >= 40 ? s.blocks.getBinary(e.subarray(8, 40)) : s.orphans.getBinary(e.subarray(0, 8)));
    const warm = Math.min(n, 2000);
    // JIT warm-up on a prefix, then the fastest of ROUNDS full passes (the machine may be shared)
    const time = (name: string, fn: (lo: number, hi: number) => void): void => {
      fn(0, warm);
      let sec = Infinity;
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        fn(0, n);
        sec = Math.min(sec, (performance.now() - t0) / 1000);
      }
      out[name] = { seconds: sec, usPerBlock: (sec * 1e6) / n };
    };
    let sink = 0;
    time('read', (lo, hi) => {
      for (let i = lo; i < hi; i++) sink += read(entries[i])!.length;
    });
    time('readDecode', (lo, hi) => {
      for (let i = lo; i < hi; i++) if (decodeStoredRecord(read(entries[i])!).decodeError === null) sink++;
    });
    let facts: BlockFacts[] = [];
    time('readDecodeHash', (lo, hi) => {
      facts = [];
      for (let i = lo; i < hi; i++) facts.push(blockFacts(readU64(entries[i], 0) as number, decodeStoredRecord(read(entries[i])!)));
    });
    // the hashing part split up, on records decoded beforehand
    const decoded: { h: Header; p: Payload }[] = [];
    for (const e of entries) {
      const d = decodeStoredRecord(read(e)!);
      if (d.decodeError === null && d.header !== null && d.payload !== null) decoded.push({ h: d.header, p: d.payload });
    }
    const m = decoded.length;
    const timeHash = (name: string, fn: (x: { h: Header; p: Payload }) => void): void => {
      for (let i = 0; i < Math.min(m, 2000); i++) fn(decoded[i]);
      let sec = Infinity;
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        for (let i = 0; i < m; i++) fn(decoded[i]);
        sec = Math.min(sec, (performance.now() - t0) / 1000);
      }
      out[name] = { seconds: sec, usPerBlock: (sec * 1e6) / m };
    };
    timeHash('hashHeaderId', (x) => {
      sink += headerId(x.h)[0];
    });
    timeHash('hashElementIds', (x) => {
      sink += payloadElementIds(x.p).guaranteeIds.length;
    });
    const ids = decoded.map((x) => payloadElementIds(x.p));
    let k = 0;
    timeHash('hashTrieRootsAndPayloadHash', (x) => {
      const el = ids[k++ % m];
      sink += payloadHashFromRoots(payloadRoots(el), x.p.protocolStateId)[0];
    });
    // what a worker's result costs to send: structured clone of BlockFacts batches of 2048
    const batches: BlockFacts[][] = [];
    for (let i = 0; i < facts.length; i += 2048) batches.push(facts.slice(i, i + 2048));
    {
      structuredClone(batches[0]);
      let sec = Infinity;
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        for (const b of batches) sink += (structuredClone(b) as unknown[]).length;
        sec = Math.min(sec, (performance.now() - t0) / 1000);
      }
      out.structuredCloneFacts = { seconds: sec, usPerBlock: (sec * 1e6) / facts.length };
    }
    // the same through the facts codec of the pipeline (one transferred buffer per batch),
    // where the tree has one: encode in the worker + decode in the main thread
    {
      const codecPath = '../src/replay/facts-codec.js';
      const codec = (await import(codecPath).catch(() => null)) as {
        encodeFacts(b: BlockFacts[]): ArrayBuffer;
        decodeFacts(b: ArrayBuffer): BlockFacts[];
      } | null;
      if (codec !== null) {
        codec.decodeFacts(codec.encodeFacts(batches[0]));
        let enc = Infinity;
        let dec = Infinity;
        for (let r = 0; r < ROUNDS; r++) {
          const t0 = performance.now();
          const bufs = batches.map((b) => codec.encodeFacts(b));
          const t1 = performance.now();
          for (const b of bufs) sink += codec.decodeFacts(b).length;
          const t2 = performance.now();
          enc = Math.min(enc, (t1 - t0) / 1000);
          dec = Math.min(dec, (t2 - t1) / 1000);
        }
        out.factsCodec = { encodeUsPerBlock: (enc * 1e6) / facts.length, decodeUsPerBlock: (dec * 1e6) / facts.length };
      }
    }
    // the ordered stage alone, fed the precomputed facts (no store writes); a fresh
    // Evaluator per round (the first round is also the JIT warm-up)
    {
      const root = loadRoot(s);
      const rc = rootContext(root);
      const E = Evaluator as unknown as new (rc: unknown, hooks: unknown) => { push(f: BlockFacts): void; finish(): void };
      let results = 0;
      let sec = Infinity;
      for (let r = 0; r < ROUNDS + 1; r++) {
        results = 0;
        const ev = new E(rc, {
          isStored: (id: Uint8Array) => s.blocks.doesExist(Buffer.from(id)),
          onResult: () => {
            results++;
          },
          onState: () => {},
        });
        const t0 = performance.now();
        for (const f of facts) ev.push(f);
        ev.finish();
        sec = Math.min(sec, (performance.now() - t0) / 1000);
      }
      out.evaluate = { seconds: sec, usPerBlock: (sec * 1e6) / facts.length, results };
    }
    out.blocks = n;
    out.hashedBlocks = m;
    out.sink = sink & 1;
    out.decode = { usPerBlock: out.readDecode.usPerBlock - out.read.usPerBlock };
    out.hash = { usPerBlock: out.readDecodeHash.usPerBlock - out.readDecode.usPerBlock };
  } finally {
    await s.close();
  }
  emitResult({ ...out, maxRssKiB: rssKiB() });
}

async function childMain(argv: string[]): Promise<void> {
  const kind = argv[0];
  const get = (name: string): string => {
    const i = argv.indexOf(name);
    if (i < 0 || i + 1 >= argv.length) throw new Error(`child: ${name} missing`);
    return argv[i + 1];
  };
  switch (kind) {
    case 'integrity':
      return childIntegrity(get('--store'), Number(get('--threads')));
    case 'replay':
      return childReplay(get('--store'), Number(get('--threads')));
    case 'phases':
      return childPhases(get('--store'), Number(get('--sample')));
    default:
      throw new Error(`child: unknown kind ${kind}`);
  }
}

// ------------------------------------------------------------------ native baseline

function runNative(store: string, threads: number, blake2: 'openssl' | 'builtin'): ChildResult {
  const r = spawnSync(NATIVE, [store, '--threads', String(threads), '--walk', 'order', '--blake2', blake2, '--sample', String(SAMPLE)], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    timeout: CHILD_TIMEOUT_MS,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`native baseline failed (exit ${r.status}): ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { ...j, maxRssKiB: j.maxRssKiB };
}

/** The first SAMPLE records in report order, computed by the TS model code. */
async function tsSample(store: string): Promise<{ id: string | null; computedId: string | null; payloadHash: string | null }[]> {
  const s = BlockStore.open(store, { readOnly: true });
  try {
    const out = [];
    for (const { value } of s.order.getRange({ limit: SAMPLE })) {
      const e = Buffer.from(value);
      if (e.length < 40) {
        out.push({ id: null, computedId: null, payloadHash: null });
        continue;
      }
      const d = decodeStoredRecord(s.blocks.getBinary(e.subarray(8, 40))!);
      const ok = d.decodeError === null && d.header !== null && d.payload !== null;
      out.push({
        id: toHex(e.subarray(8, 40)),
        computedId: ok ? toHex(headerId(d.header!)) : null,
        payloadHash: ok ? toHex(payloadHash(d.payload!)) : null,
      });
    }
    return out;
  } finally {
    await s.close();
  }
}

// ------------------------------------------------------------------ profiles

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time by function of a .cpuprofile, hottest first. */
function summarizeProfile(path: string, top = 20): { total: number; functions: { fn: string; selfPct: number }[]; files: { file: string; selfPct: number }[] } {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[] };
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const file = url === '' ? `(${n.callFrame.functionName || 'native'})` : url;
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${file}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
  }
  const pct = (x: number) => Math.round((1000 * x) / Math.max(1, total)) / 10;
  return {
    total,
    functions: [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, h]) => ({ fn, selfPct: pct(h) })),
    files: [...byFile]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([file, h]) => ({ file, selfPct: pct(h) })),
  };
}

function profileChild(kind: 'integrity' | 'replay', store: string): ReturnType<typeof summarizeProfile> {
  const dir = join(CACHE, `prof-${kind}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  runChild([kind, '--store', store, '--threads', '0'], ['--cpu-prof', '--cpu-prof-dir', dir]);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no profile written in ${dir}`);
  const summary = summarizeProfile(join(dir, files[0]));
  const keep = join(CACHE, `profile-${kind}.cpuprofile`);
  copyFileSync(join(dir, files[0]), keep);
  rmSync(dir, { recursive: true, force: true });
  return summary;
}

// ------------------------------------------------------------------ main

/** The commit measured and whether the work tree differed from it (null outside a git checkout). */
function gitState(): { commit: string; dirtyFiles: number } | null {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const st = spawnSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: ROOT, encoding: 'utf8' });
  return { commit: head.stdout.trim(), dirtyFiles: st.stdout.split('\n').filter((l) => l !== '').length };
}

function best(runs: ChildResult[]): ChildResult {
  return runs.reduce((a, b) => (b.blocksPerSecond > a.blocksPerSecond ? b : a));
}

function freshCopy(store: string): string {
  const dir = join(CACHE, `work-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(store, 'data.mdb'), join(dir, 'data.mdb'));
  return dir;
}

const fmt = (x: number | null | undefined, d = 0): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const mib = (kib: number | undefined): string => (kib === undefined ? '-' : (kib / 1024).toFixed(0));

function table(headers: string[], rows: string[][]): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const prep = await prepare(o);
  console.error(`bench: store ${prep.store}: ${prep.records} records, ${(prep.storeBytes / 2 ** 20).toFixed(0)} MiB`);
  if (o.prepareOnly) return;
  warmPageCache(prep.store);
  const nativeAvailable = o.native && existsSync(NATIVE);
  if (o.native && !nativeAvailable) console.log('native baseline not built: run npm run native:build');

  const results: any = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: loadavg(),
    },
    options: { blocks: o.blocks, threads: o.threads, seed: o.seed, faults: o.faults, repeat: o.repeat, label: o.label },
    code: gitState(),
    dataset: { ...prep, storeMiB: Math.round(prep.storeBytes / 2 ** 20) },
    tsIntegrity: {} as Record<number, ChildResult>,
    tsReplay: {} as Record<number, ChildResult>,
    native: {} as Record<number, ChildResult>,
    nativeBuiltinBlake2: {} as Record<number, ChildResult>,
  };

  const repeat = <T extends ChildResult>(label: string, fn: () => T): T => {
    const runs: T[] = [];
    for (let r = 0; r < o.repeat; r++) {
      runs.push(fn());
      console.error(`bench: ${label}: ${fmt(runs[runs.length - 1].blocksPerSecond)} blocks/s`);
    }
    return best(runs) as T;
  };

  for (const n of o.threads) {
    results.tsIntegrity[n] = repeat(`TS integrity, ${n} thread(s)`, () => runChild(['integrity', '--store', prep.store, '--threads', String(n)]));
  }
  if (nativeAvailable) {
    for (const n of o.threads) {
      const t = Math.max(1, n);
      results.native[n] = repeat(`native, ${t} thread(s)`, () => runNative(prep.store, t, 'openssl'));
      results.nativeBuiltinBlake2[n] = repeat(`native (builtin BLAKE2b), ${t} thread(s)`, () => runNative(prep.store, t, 'builtin'));
    }
  }
  if (o.replay) {
    for (const n of o.threads) {
      results.tsReplay[n] = repeat(`TS replay, ${n} thread(s)`, () => {
        const dir = freshCopy(prep.store);
        try {
          return runChild(['replay', '--store', dir, '--threads', String(n)]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }
  const sample = Math.min(o.phaseSample ?? 5_000, prep.records);
  console.error(`bench: phase breakdown on ${sample} blocks`);
  results.phases = runChild(['phases', '--store', prep.store, '--sample', String(sample)]);

  // cross-checks
  const ts = await tsSample(prep.store);
  const checks: any = { sample: ts.length };
  if (nativeAvailable) {
    const nat = results.native[o.threads[o.threads.length - 1]];
    const mismatches: any[] = [];
    for (let i = 0; i < ts.length; i++) {
      const a = ts[i];
      const b = nat.sample[i];
      if (b === undefined || a.id !== b.id || a.computedId !== b.computedId || a.payloadHash !== b.payloadHash)
        mismatches.push({ i, ts: a, native: b ?? null });
    }
    checks.sampleMatches = ts.length - mismatches.length;
    checks.sampleMismatches = mismatches;
    const counts = (r: ChildResult) => `${r.idMismatches}/${r.payloadMismatches}/${r.decodeErrors}`;
    const tsCounts = Object.values(results.tsIntegrity as Record<number, ChildResult>).map(counts);
    const natCounts = [
      ...Object.values(results.native as Record<number, ChildResult>),
      ...Object.values(results.nativeBuiltinBlake2 as Record<number, ChildResult>),
    ].map(counts);
    checks.counts = { ts: tsCounts[0], native: natCounts[0] };
    checks.countsAgree = new Set([...tsCounts, ...natCounts]).size === 1;
    const natRecords = (r: ChildResult) => r.blocks + r.orphans;
    checks.recordsAgree = Object.values(results.native as Record<number, ChildResult>).every((r) => natRecords(r) === prep.records);
    checks.ok = mismatches.length === 0 && checks.countsAgree && checks.recordsAgree;
  }
  results.crossCheck = checks;

  if (o.profile) {
    console.error('bench: CPU profiles (one thread)');
    results.profiles = { integrity: profileChild('integrity', prep.store) };
    if (o.replay) {
      const dir = freshCopy(prep.store);
      try {
        results.profiles.replay = profileChild('replay', dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  results.benchSeconds = (performance.now() - started) / 1000;
  results.machine.loadAverageAtEnd = loadavg();

  // ---- report
  const first = o.threads[0];
  const cpuUs = (r: ChildResult | undefined): string =>
    r?.cpuSeconds === undefined ? '-' : fmt((r.cpuSeconds * 1e6) / (r.records ?? r.blocks + r.orphans), 1);
  const rows = o.threads.map((n) => {
    const ti = results.tsIntegrity[n];
    const tr = results.tsReplay[n];
    const na = results.native[n];
    const nb = results.nativeBuiltinBlake2[n];
    return [
      String(n),
      fmt(ti?.blocksPerSecond),
      fmt(tr?.blocksPerSecond),
      fmt(na?.blocksPerSecond),
      fmt(nb?.blocksPerSecond),
      na ? fmt(ti.blocksPerSecond / na.blocksPerSecond, 3) : '-',
      na && tr ? fmt(tr.blocksPerSecond / na.blocksPerSecond, 3) : '-',
      cpuUs(ti),
      cpuUs(tr),
      cpuUs(na),
      mib(ti?.maxRssKiB),
      mib(tr?.maxRssKiB),
      mib(na?.maxRssKiB),
    ];
  });
  if (o.label !== null) console.log(`\n${o.label}`);
  console.log(
    `\nspork-replay bench: ${prep.records} records (${o.blocks} main blocks, seed ${o.seed}), store ${results.dataset.storeMiB} MiB, ${results.machine.cpus} CPUs (${results.machine.cpuModel}), node ${process.version}`,
  );
  console.log('blocks/s = records per second (wall clock); TS threads = piscina workers (0 = main thread);');
  console.log('CPU us/blk = user + system CPU time of the run (all threads, start-up included) per record; RSS = peak of the run');
  const la = (x: number[]) => x.map((v) => v.toFixed(1)).join(' ');
  console.log(
    `load average at start ${la(results.machine.loadAverageAtStart)}, at end ${la(results.machine.loadAverageAtEnd)} (a shared machine makes the numbers noisy)\n`,
  );
  console.log(
    table(
      [
        'threads',
        'TS integrity',
        'TS replay',
        'native',
        'native b2-builtin',
        'TSint/native',
        'TSreplay/native',
        'CPU us/blk TSint',
        'TSreplay',
        'native',
        'RSS MiB TSint',
        'TSreplay',
        'native',
      ],
      rows,
    ),
  );
  const scaling = (m: Record<number, ChildResult>) =>
    o.threads.length > 1 && m[first] && m[o.threads[o.threads.length - 1]]
      ? fmt(m[o.threads[o.threads.length - 1]].blocksPerSecond / m[first].blocksPerSecond, 2) + 'x'
      : '-';
  const last = o.threads[o.threads.length - 1];
  console.log(
    `\nscaling ${first} -> ${last} threads: TS integrity ${scaling(results.tsIntegrity)}, TS replay ${scaling(results.tsReplay)}, native ${scaling(results.native)}, native b2-builtin ${scaling(results.nativeBuiltinBlake2)}`,
  );
  if (o.replay) {
    for (const n of o.threads) {
      const r = results.tsReplay[n];
      console.log(
        `TS replay ${n} thread(s): evaluate ${fmt(r.evaluateSeconds, 2)} s + report ${fmt(r.reportSeconds, 2)} s; verdicts ${JSON.stringify(r.verdicts)}`,
      );
    }
  }
  const perBlock = (sec: number | undefined, r: ChildResult | undefined) => (sec === undefined || r === undefined ? '-' : fmt((sec * 1e6) / r.records, 1));
  const anon = (r: ChildResult | undefined) =>
    r?.rssAnonKiB === undefined ? '-' : `${mib(r.rssAnonKiB.at10)} / ${mib(r.rssAnonKiB.at50)} / ${mib(r.rssAnonKiB.at90)} (max ${mib(r.rssAnonKiB.max)})`;
  console.log('\nmain thread (the serial work: event-loop busy time per record) and process memory (RssAnon, without the LMDB map):');
  console.log(
    table(
      ['threads', 'main us/blk TSint', 'TS replay', '= evaluate', '+ report', 'RssAnon MiB TS replay at 10/50/90%'],
      o.threads.map((n) => {
        const ti = results.tsIntegrity[n];
        const tr = results.tsReplay[n];
        return [
          String(n),
          perBlock(ti?.mainThreadSeconds, ti),
          perBlock(tr?.mainThreadSeconds, tr),
          perBlock(tr?.mainThreadEvaluateSeconds, tr),
          perBlock(tr?.mainThreadReportSeconds, tr),
          anon(tr),
        ];
      }),
    ),
  );
  const p = results.phases;
  console.log(`\nphase breakdown, one thread, first ${p.blocks} blocks in report order (us/block):`);
  const reportUs = o.replay ? (results.tsReplay[first].reportSeconds * 1e6) / results.tsReplay[first].records : null;
  console.log(
    table(
      ['phase', 'us/block'],
      [
        ['read (LMDB getBinary)', fmt(p.read.usPerBlock, 1)],
        ['decode (MessagePack -> model)', fmt(p.decode.usPerBlock, 1)],
        ['hash (ids, roots, payload hash, facts)', fmt(p.hash.usPerBlock, 1)],
        ['  header id', fmt(p.hashHeaderId.usPerBlock, 1)],
        ['  element ids (RLP + SHA3)', fmt(p.hashElementIds.usPerBlock, 1)],
        ['  4 trie roots + payload hash (BLAKE2b)', fmt(p.hashTrieRootsAndPayloadHash.usPerBlock, 1)],
        ['structured clone of BlockFacts', fmt(p.structuredCloneFacts.usPerBlock, 1)],
        ...(p.factsCodec
          ? [
              ['facts codec: encode (worker)', fmt(p.factsCodec.encodeUsPerBlock, 1)],
              ['facts codec: decode (main thread)', fmt(p.factsCodec.decodeUsPerBlock, 1)],
            ]
          : []),
        ['evaluate (Evaluator, precomputed facts)', fmt(p.evaluate.usPerBlock, 1)],
        [`report (reportFromStore, full run, ${first} thr)`, fmt(reportUs, 1)],
      ],
    ),
  );
  if (nativeAvailable) {
    const na = results.native[first];
    console.log(`native, ${Math.max(1, first)} thread: ${fmt(1e6 / na.blocksPerSecond, 1)} us/block (read + decode + hash)`);
    console.log(
      `\ncross-check: sample ${checks.sampleMatches}/${checks.sample} ids match; id/payload mismatches/decode errors TS ${checks.counts.ts}, native ${checks.counts.native}: ${checks.ok ? 'OK' : 'DIFFERENT'}`,
    );
    for (const m of checks.sampleMismatches) console.log(`  differs at ${m.i}: TS ${JSON.stringify(m.ts)} native ${JSON.stringify(m.native)}`);
  }
  if (results.profiles) {
    for (const [k, prof] of Object.entries(results.profiles as Record<string, ReturnType<typeof summarizeProfile>>)) {
      console.log(`\nCPU profile, ${k} in one thread (self time, ${prof.total} samples; full profile in bench/cache/profile-${k}.cpuprofile):`);
      for (const f of prof.functions) console.log(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.fn}`);
      console.log('  by file: ' + prof.files.map((f) => `${f.file} ${f.selfPct}%`).join(', '));
    }
  }
  if (o.fetch) {
    const f = await benchFetch({ blocks: o.fetchBlocks, concurrency: 16, seed: o.seed, out: null });
    results.fetch = f;
    console.log(
      `\nfetch over loopback (node in its own process, ${f.transport === 'stream' ? 'one block subscription' : '16 calls in flight'}): ${fmt(f.blocks)} blocks in ${fmt(f.seconds, 1)} s = ${fmt(f.blocksPerSecond)} blocks/s; ` +
        `client CPU ${fmt(f.clientCpuMicrosPerBlock)} us/block, node CPU ${fmt(f.serverCpuMicrosPerBlock)} us/block (the two share the cores); RssAnon ${f.rssAnonMiB.at10} / ${f.rssAnonMiB.at50} / ${f.rssAnonMiB.at90} MiB at 10/50/90% (max ${f.rssAnonMiB.max}); retries ${f.retries}`,
    );
  }
  mkdirSync(resolve(o.out, '..'), { recursive: true });
  writeFileSync(o.out, JSON.stringify(results, null, 1) + '\n');
  console.log(`\nresults: ${o.out} (${fmt(results.benchSeconds, 0)} s)`);
  if (nativeAvailable && !checks.ok) process.exitCode = 1;
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  childMain(argv.slice(1)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  });
}
