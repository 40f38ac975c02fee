// Fetch benchmark: blocks/s of `spork-replay fetch` from a loopback Access node (the test node of
// test/helpers/access-node.ts, serving a flow-profile synth spork from an LMDB store), with 16
// calls in flight, and the fetching process's memory over the run.
//
//   node dist/bench/fetch.js [--blocks N] [--transport stream|unary] [--concurrency C] [--seed S] [--out FILE]
//
// --transport: the fetch's bulk path (default stream: one SubscribeBlocksFromStartHeight; unary:
// GetBlockByHeight with C calls in flight).
//
// The node runs in its own process and the fetch in another (the CLI, as a user runs it), so the
// figure is the client's. Both share this machine's cores. Memory: the fetch process's anonymous
// RSS (RssAnon, the process's own memory, not the LMDB map) sampled every 200 ms.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeRecord } from '../src/model/codec.js';
import * as S from '../src/model/schema.js';
import type { BlockRecord } from '../src/model/types.js';
import { u64Key } from '../src/store/keys.js';
import { importArchive } from '../src/store/import.js';
import { BlockStore } from '../src/store/store.js';
import { writeSporkArchive } from '../src/synth/index.js';
import { encodeBlock, startAccessNode } from '../test/helpers/access-node.js';
import { open, type RootDatabase } from 'lmdb';
import { loadRoot } from '../src/replay/pipeline.js';
import { rssAnonKiB, rssLevels } from './rss.js';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const CACHE = join(ROOT, 'bench', 'cache');
const SELF = fileURLToPath(import.meta.url);
const BIN = join(ROOT, 'bin', 'spork-replay.js');

interface Options {
  blocks: number;
  /** Default 'stream' (the fetch's default). */
  transport?: 'stream' | 'unary';
  concurrency: number;
  seed: string;
  out: string | null;
}

function parseArgs(argv: string[]): Options & { serve?: string } {
  const o: Options & { serve?: string } = { blocks: 100_000, concurrency: 16, seed: '1', out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (a === '--blocks') o.blocks = Number(v);
    else if (a === '--concurrency') o.concurrency = Number(v);
    else if (a === '--transport') {
      if (v !== 'stream' && v !== 'unary') throw new Error('--transport is stream or unary');
      o.transport = v;
    } else if (a === '--seed') o.seed = String(v);
    else if (a === '--out') o.out = resolve(String(v));
    else if (a === '--serve') o.serve = String(v);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isSafeInteger(o.blocks) || o.blocks < 1) throw new Error('--blocks needs a whole number >= 1');
  return o;
}

/** The flow-profile archive and a store of it, cached by size and seed. */
async function prepare(o: Options): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const name = `flow-b${o.blocks}-s${o.seed.replace(/[^a-z0-9]+/gi, '_')}`;
  const archive = join(CACHE, `${name}.spork`);
  const store = join(CACHE, `${name}-store`);
  if (!existsSync(archive)) {
    console.error(`bench fetch: generating ${o.blocks} blocks (flow profile) -> ${archive}`);
    const tmp = `${archive}.tmp-${process.pid}`;
    await writeSporkArchive(tmp, { blocks: o.blocks, seed: o.seed, profile: 'flow' });
    renameSync(tmp, archive);
    rmSync(store, { recursive: true, force: true });
  }
  if (!existsSync(join(store, 'fetch-bench.json'))) {
    rmSync(store, { recursive: true, force: true });
    const s = BlockStore.open(store);
    await importArchive(s, archive);
    await s.close();
    writeFileSync(join(store, 'fetch-bench.json'), '{}');
  }
  return store;
}

/** The store's finalized records by height, and its highest finalized height. */
function chainOfStore(store: BlockStore): { head: bigint; blocks: (h: bigint) => BlockRecord | undefined } {
  let head = 0n;
  for (const { key } of store.finalized.getRange({ reverse: true, limit: 1 })) head = key.readBigUInt64BE(0);
  const blocks = (h: bigint): BlockRecord | undefined => {
    for (const { key } of store.finalized.getRange({ start: u64Key(h), end: u64Key(h + 1n), limit: 1 })) {
      const bytes = store.blocks.getBinary(key.subarray(8));
      return bytes === undefined ? undefined : decodeRecord<BlockRecord>(bytes, 0, bytes.length, S.BlockRecord);
    }
    return undefined;
  };
  return { head, blocks };
}

/**
 * The protobuf `flow.entities.Block` of every finalized block, encoded once into an LMDB file
 * beside the store (height -> bytes): the node answers from these bytes, so that encoding, the
 * node's own cost, does not compete with the client for the two cores during the run.
 */
async function encodedBlocks(storeDir: string): Promise<RootDatabase> {
  const path = `${storeDir}-proto`;
  if (!existsSync(join(path, 'complete'))) {
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { recursive: true });
    console.error(`bench fetch: encoding every block as protobuf once -> ${path}`);
    const store = BlockStore.open(storeDir, { readOnly: true });
    const { blocks } = chainOfStore(store);
    const db = open({ path: join(path, 'db'), encoding: 'binary', keyEncoding: 'binary' });
    const rootHeight = BigInt(loadRoot(store).rootBlock.header.height);
    for (let h = rootHeight + 1n; ; h++) {
      const rec = blocks(h);
      if (rec === undefined) break;
      db.put(u64Key(h), encodeBlock(rec));
      if (h % 1000n === 0n) await db.flushed;
    }
    await db.close();
    await store.close();
    writeFileSync(join(path, 'complete'), '');
  }
  return open({ path: join(path, 'db'), encoding: 'binary', keyEncoding: 'binary', readOnly: true });
}

/** Child: serve the store's finalized chain on 127.0.0.1 until stdin closes. */
async function serve(storeDir: string): Promise<void> {
  const proto = await encodedBlocks(storeDir);
  const store = BlockStore.open(storeDir, { readOnly: true });
  const root = loadRoot(store);
  const { head, blocks } = chainOfStore(store);
  const encoded = (h: bigint): Uint8Array | undefined => proto.getBinary(u64Key(h));
  const node = await startAccessNode({ root, blocks, head, encoded: process.env.BENCH_FETCH_ENCODE_PER_CALL ? undefined : encoded });
  process.stdout.write(`ADDRESS ${node.address} HEAD ${head}\n`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  await node.stop();
  await store.close();
  await proto.close();
}

function procStatus(pid: number): { rssAnonKiB: number; cpuSeconds: number } | null {
  try {
    const anon = rssAnonKiB(pid);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime + stime
    return { rssAnonKiB: anon, cpuSeconds: ticks / 100 };
  } catch {
    return null;
  }
}

export interface FetchBenchResult {
  blocks: number;
  transport: 'stream' | 'unary';
  concurrency: number;
  seconds: number;
  blocksPerSecond: number;
  clientCpuMicrosPerBlock: number;
  /** The serving node's CPU per block (it shares the machine's cores with the client). */
  serverCpuMicrosPerBlock: number;
  rssAnonMiB: { at10: number; at50: number; at90: number; max: number };
  retries: number;
}

export async function benchFetch(o: Options): Promise<FetchBenchResult> {
  const storeDir = await prepare(o);
  const transport = o.transport ?? 'stream';
  const server = spawn(process.execPath, [SELF, '--serve', storeDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const address = await new Promise<string>((res, rej) => {
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += d;
      const m = /ADDRESS (\S+)/.exec(buf);
      if (m) res(m[1]);
    });
    server.on('exit', (c) => rej(new Error(`bench node exited (${c})`)));
  });
  const db = join(CACHE, `fetch-target-${process.pid}`);
  rmSync(db, { recursive: true, force: true });
  try {
    const serverCpuBefore = procStatus(server.pid!)?.cpuSeconds ?? 0;
    const started = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      [BIN, 'fetch', '--access', address, '--insecure', '--db', db, '--transport', transport, '--concurrency', String(o.concurrency), '--json', '--quiet'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const samples: number[] = [];
    let cpu = 0;
    const timer = setInterval(() => {
      const s = procStatus(child.pid!);
      if (s === null) return;
      samples.push(s.rssAnonKiB);
      cpu = s.cpuSeconds;
    }, 200);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    clearInterval(timer);
    if (code !== 0) throw new Error(`fetch exited ${code}`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const serverCpu = (procStatus(server.pid!)?.cpuSeconds ?? 0) - serverCpuBefore;
    const stats = JSON.parse(out);
    const levels = rssLevels(samples);
    const mib = (kib: number) => Math.round(kib / 1024);
    return {
      blocks: stats.written,
      transport,
      concurrency: o.concurrency,
      seconds: Math.round(seconds * 100) / 100,
      blocksPerSecond: Math.round(stats.written / seconds),
      clientCpuMicrosPerBlock: Math.round((cpu * 1e6) / Math.max(1, stats.written)),
      serverCpuMicrosPerBlock: Math.round((serverCpu * 1e6) / Math.max(1, stats.written)),
      rssAnonMiB: { at10: mib(levels.at10), at50: mib(levels.at50), at90: mib(levels.at90), max: mib(levels.max) },
      retries: stats.retries,
    };
  } finally {
    server.stdin.end();
    rmSync(db, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.serve !== undefined) return serve(o.serve);
  const r = await benchFetch(o);
  console.log(
    `fetch over loopback (${r.transport === 'stream' ? 'one block subscription' : `GetBlockByHeight, ${r.concurrency} calls in flight`}): ${r.blocks} blocks in ${r.seconds} s = ${r.blocksPerSecond} blocks/s; ` +
      `client CPU ${r.clientCpuMicrosPerBlock} µs/block, node CPU ${r.serverCpuMicrosPerBlock} µs/block; RssAnon ${r.rssAnonMiB.at10} / ${r.rssAnonMiB.at50} / ${r.rssAnonMiB.at90} MiB at 10/50/90% (max ${r.rssAnonMiB.max}); retries ${r.retries}`,
  );
  if (o.out !== null) {
    const prev = existsSync(o.out) ? JSON.parse(readFileSync(o.out, 'utf8')) : {};
    writeFileSync(o.out, JSON.stringify({ ...prev, fetch: r }, null, 1) + '\n');
  }
}

if (process.argv[1] === SELF) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
