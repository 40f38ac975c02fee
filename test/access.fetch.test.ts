// Issue 10 acceptance on loopback: a generated spork in the shapes a Mainnet28 Access node
// serves, behind a gRPC server made from the protos (test/helpers/access-node.ts) with faults
// injected on the server side. `fetch` then `replay` must give the same report block lines as
// replaying the archive; kill -9 during a fetch, then fetch again: the same store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArchiveBytes } from '../src/model/archive.js';
import type { BlockRecord, RootSnapshot } from '../src/model/types.js';
import { rootSnapshotToFlowJson } from '../src/access/snapshot.js';
import Ajv2020Module from 'ajv/dist/2020.js';

/** fetch --json against docs/schemas/fetch.schema.json (the other outputs: test/contracts.test.ts). */
function checkFetchSchema(stats: unknown): void {
  const Ajv2020 = ((Ajv2020Module as any).default ?? Ajv2020Module) as any;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(new URL('../../docs/schemas/fetch.schema.json', import.meta.url), 'utf8')));
  assert.ok(validate(stats), ajv.errorsText(validate.errors));
}
import { BlockStore } from '../src/store/store.js';
import { writeSporkArchive } from '../src/synth/index.js';
import { startAccessNode, type AccessNodeOptions } from './helpers/access-node.js';
import { storeDigest } from './helpers/store.js';
import { tempDir } from './helpers/tmp.js';

const BIN = new URL('../../bin/spork-replay.js', import.meta.url).pathname;
const t = tempDir('spork-fetch-');
process.on('exit', () => t.cleanup());

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process, asynchronously (the node under test runs in this process). */
function run(
  args: string[],
  opts: { killAfterMs?: number; signalAfterMs?: number; until?: () => boolean; killWhen?: () => boolean; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timers: NodeJS.Timeout[] = [];
    if (opts.killAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs));
    if (opts.signalAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGINT'), opts.signalAfterMs));
    if (opts.killWhen !== undefined) {
      const poll = setInterval(() => {
        if (opts.killWhen!()) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 10);
      timers.push(poll);
    }
    if (opts.until !== undefined) {
      const poll = setInterval(() => {
        if (opts.until!()) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 50);
      timers.push(poll);
    }
    timers.push(setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000));
    child.on('exit', (code, signal) => {
      for (const x of timers) clearTimeout(x);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last height a fetch committed into the store at `db`, read as another process sees it. */
function progressHeight(db: string, root: RootSnapshot): bigint | null {
  if (!existsSync(join(db, 'data.mdb'))) return null;
  const s = BlockStore.open(db, { readOnly: true });
  try {
    const p = s.meta?.get(`fetch:${Buffer.from(root.rootSeal.blockId).toString('hex')}`); // no meta db until the first commit
    return p === undefined ? null : BigInt(p.height);
  } finally {
    void s.close();
  }
}

function blockLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{"type":"block"'));
}

// one flow-profile spork for every test: 1,200 finalized blocks with epochs, beacons, an EFM episode
const archive = join(t.dir, 'flow.spork');
const synthesized = writeSporkArchive(archive, { blocks: 1200, seed: 'fetch', profile: 'flow' });
let chain: { root: RootSnapshot; byHeight: Map<bigint, BlockRecord>; head: bigint; reference: string[] } | null = null;

async function spork() {
  if (chain !== null) return chain;
  await synthesized;
  const parsed = parseArchiveBytes(readFileSync(archive));
  assert.equal(parsed.framingError, null);
  const byHeight = new Map<bigint, BlockRecord>();
  for (const b of parsed.blocks) {
    assert.ok(b.value !== undefined && b.value.finalized, 'a flow-profile spork holds only finalized blocks');
    byHeight.set(BigInt(b.value.header.height), b.value);
  }
  const head = [...byHeight.keys()].reduce((a, b) => (a > b ? a : b));
  const report = join(t.dir, 'reference.jsonl');
  const r = await run(['replay', archive, '--report', report, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  chain = { root: parsed.header, byHeight, head, reference: blockLines(report) };
  return chain;
}

async function node(opts: Partial<AccessNodeOptions> = {}) {
  const c = await spork();
  return startAccessNode({ root: c.root, blocks: (h) => c.byHeight.get(h), head: c.head, ...opts });
}

const fastAll = ['--insecure', '--backoff-ms', '2', '--quiet'];
const fast = fastAll;

async function replayLines(db: string): Promise<string[]> {
  const report = join(db, '..', `${db.split('/').pop()}.jsonl`);
  const r = await run(['replay', '--db', db, '--report', report, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  return blockLines(report);
}

const transports = ['stream', 'unary'] as const;
/** The bulk call of each transport, and the call the other one makes (none while catching up). */
const bulkCall = { stream: 'SubscribeBlocksFromStartHeight', unary: 'GetBlockByHeight' } as const;
const otherCall = { stream: 'GetBlockByHeight', unary: 'SubscribeBlocksFromStartHeight' } as const;

for (const transport of transports) {
  test(`issue 10 (--transport ${transport}): fetch through UNAVAILABLE bursts, rate limits, slow answers, INTERNAL and a lagging node; replay equals the archive`, async (tt) => {
    const c = await spork();
    const n = await node({
      faults: {
        seed: 1,
        unavailableEvery: 37,
        unavailableBurst: 2,
        resourceExhaustedEvery: 53,
        internalEvery: 71,
        slowEvery: 29,
        slowMs: 30,
        laggingNotFoundEvery: 101,
        laggingStreamEvery: 9,
      },
    });
    tt.after(() => n.stop());
    const db = join(t.dir, `faults-${transport}.db`);
    const out = join(t.dir, `fetched-${transport}.spork`);
    const r = await run(['fetch', '--access', n.address, '--db', db, '--out', out, '--transport', transport, '--json', ...fast]);
    assert.equal(r.code, 0, r.stderr);
    const stats = JSON.parse(r.stdout);
    assert.equal(stats.height, Number(c.head));
    assert.equal(stats.written, c.byHeight.size);
    checkFetchSchema(stats);
    assert.ok(stats.retries > 0, 'faults were injected');
    for (const code of ['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'INTERNAL', 'NOT_FOUND'])
      assert.ok(stats.retriesByCode[code] > 0, `retried ${code}: ${JSON.stringify(stats.retriesByCode)}`);
    assert.ok(n.stats.calls[bulkCall[transport]]! > 0 && n.stats.calls[otherCall[transport]] === undefined, JSON.stringify(n.stats.calls));
    assert.deepEqual(stats.recordedMismatches, { idMismatch: 0, payloadMismatch: 0, parentLink: 0, decodeError: 0 });
    assert.deepEqual(await replayLines(db), c.reference);
    // what was fetched, as an archive, is the generated archive byte for byte
    assert.ok(readFileSync(out).equals(readFileSync(archive)), '--out differs from the archive the node serves');
  });
}

test('issue 10: answers later than the call deadline are DEADLINE_EXCEEDED, retried (a stalled stream is cancelled and reopened)', async (tt) => {
  const c = await spork();
  const to = BigInt(c.root.rootBlock.header.height) + 400n;
  for (const transport of transports) {
    const n = await node({ faults: { seed: 5, slowEvery: 150, slowMs: 1400 } });
    tt.after(() => n.stop());
    const db = join(t.dir, `deadline-${transport}.db`);
    const r = await run(['fetch', '--access', n.address, '--db', db, '--to', String(to), '--deadline', '1', '--transport', transport, '--json', ...fast]);
    assert.equal(r.code, 0, r.stderr);
    const stats = JSON.parse(r.stdout);
    assert.equal(stats.height, Number(to));
    assert.ok(stats.retriesByCode.DEADLINE_EXCEEDED > 0, `${transport}: ${JSON.stringify(stats.retriesByCode)}`);
    assert.ok(n.stats.faults.slow > 0);
    const a = BlockStore.open(db, { readOnly: true });
    assert.equal(a.recordCount(), Number(to) - Number(c.root.rootBlock.header.height));
    await a.close();
  }
});

test('issue 10: --rate holds either transport to that many blocks per second', async (tt) => {
  const c = await spork();
  const n = await node();
  tt.after(() => n.stop());
  const to = BigInt(c.root.rootBlock.header.height) + 300n;
  for (const transport of transports) {
    const db = join(t.dir, `rate-${transport}.db`);
    const started = Date.now();
    const r = await run(['fetch', '--access', n.address, '--db', db, '--to', String(to), '--rate', '150', '--transport', transport, '--json', ...fast]);
    const ms = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).height, Number(to));
    // 300 blocks at 150 per second: at least 1.8 s (unlimited, the whole run takes well under 1 s)
    assert.ok(ms >= 1800, `${transport}: 300 blocks at --rate 150 took ${ms} ms`);
  }
});

test('issue 10: a node without subscriptions (UNIMPLEMENTED) is fetched with GetBlockByHeight', async (tt) => {
  const c = await spork();
  const n = await node({ noSubscriptions: true });
  tt.after(() => n.stop());
  const db = join(t.dir, 'nostreams.db');
  const r = await run(['fetch', '--access', n.address, '--db', db, '--json', ...fast]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).height, Number(c.head));
  assert.equal(n.stats.calls.SubscribeBlocksFromStartHeight, 1);
  assert.ok(n.stats.calls.GetBlockByHeight! >= c.byHeight.size);
  assert.deepEqual(await replayLines(db), c.reference);
});

test('issue 10: the root from the node (GetProtocolStateSnapshotByHeight) or from the published file gives the same store', async (tt) => {
  const c = await spork();
  const n = await node();
  tt.after(() => n.stop());
  const file = join(t.dir, 'root-protocol-state-snapshot.json');
  writeFileSync(file, rootSnapshotToFlowJson(c.root));
  const a = join(t.dir, 'root-node.db');
  const b = join(t.dir, 'root-file.db');
  let r = await run(['fetch', '--access', n.address, '--db', a, '--to', String(c.head - 200n), ...fast]);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['fetch', '--access', n.address, '--db', b, '--root-snapshot', file, '--to', String(c.head - 200n), ...fast]);
  assert.equal(r.code, 0, r.stderr);
  const sa = BlockStore.open(a, { readOnly: true });
  const sb = BlockStore.open(b, { readOnly: true });
  assert.equal(storeDigest(sa), storeDigest(sb));
  await sa.close();
  await sb.close();
  // import-root alone makes the same root; a fetch into it continues from root+1
  const c2 = join(t.dir, 'import-root.db');
  r = await run(['import-root', file, '--db', c2]);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['fetch', '--access', n.address, '--db', c2, '--to', String(c.head - 200n), ...fast]);
  assert.equal(r.code, 0, r.stderr);
  const sc = BlockStore.open(c2, { readOnly: true });
  const sa2 = BlockStore.open(a, { readOnly: true });
  assert.equal(storeDigest(sc), storeDigest(sa2));
  await sc.close();
  await sa2.close();
});

for (const transport of transports) {
  test(`issue 10 (--transport ${transport}): kill -9 during fetch at several points, then fetch again: the same store as one uninterrupted fetch`, async (tt) => {
    const c = await spork();
    const n = await node({ faults: { seed: 2, slowEvery: 1, slowMs: 2 } });
    tt.after(() => n.stop());
    const fast = ['--transport', transport, ...fastAll];
    const whole = join(t.dir, `whole-${transport}.db`);
    let r = await run(['fetch', '--access', n.address, '--db', whole, '--concurrency', '4', ...fast]);
    assert.equal(r.code, 0, r.stderr);
    const killed = join(t.dir, `killed-${transport}.db`);
    // kill -9 once the fetch has committed past 20%, 45%, 70% and 90% of the chain: each run resumes the last
    const rootHeight = BigInt(c.root.rootBlock.header.height);
    const span = c.head - rootHeight;
    for (const pct of [20n, 45n, 70n, 90n]) {
      const at = rootHeight + (span * pct) / 100n;
      r = await run(['fetch', '--access', n.address, '--db', killed, '--concurrency', '4', '--commit-every', '25', ...fast], {
        killWhen: () => (progressHeight(killed, c.root) ?? 0n) >= at,
      });
      assert.equal(r.signal, 'SIGKILL', `killed past ${pct}%: ${r.stderr}`);
      const h = progressHeight(killed, c.root)!;
      assert.ok(h >= at && h < c.head, `stopped at ${h}, between ${at} and the head`);
    }
    r = await run(['fetch', '--access', n.address, '--db', killed, '--json', ...fast]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).resumed, true);
    const a = BlockStore.open(whole, { readOnly: true });
    const b = BlockStore.open(killed, { readOnly: true });
    assert.equal(storeDigest(b), storeDigest(a));
    await a.close();
    await b.close();
    assert.deepEqual(await replayLines(killed), c.reference);
  });
}

test('issue 10: --follow imports new heads through a dropped stream until SIGINT, with replay and bootstrap-check beside it', async (tt) => {
  const c = await spork();
  const start = c.head - 300n;
  const n = await node({ head: start, faults: { seed: 3, dropStreamAfter: 40 } });
  tt.after(() => n.stop());
  const db = join(t.dir, 'follow.db');
  let height = start;
  // the head moves 4 blocks every 40 ms: the subscription, not the first catch-up, brings most blocks
  const grow = setInterval(() => {
    if (height < c.head) n.setHead((height = height + 4n > c.head ? c.head : height + 4n));
  }, 40);
  tt.after(() => clearInterval(grow));
  let done = false;
  const following = run(['fetch', '--access', n.address, '--db', db, '--follow', '--poll-ms', '100', '--json', ...fast], {
    until: () => done,
    timeoutMs: 60_000,
  });
  // readers beside the writer while it follows (once the fetch has stored the root and a first batch)
  while (progressHeight(db, c.root) === null) await new Promise((r) => setTimeout(r, 50));
  const side = await run(['replay', '--db', db, '--quiet', '--json']);
  assert.ok(side.code === 0, side.stderr);
  const boot = await run(['bootstrap-check', '--db', db, '--binary', '0.43.0', '--json']);
  assert.ok(boot.code === 0 || boot.code === 1, boot.stderr);
  const poll = setInterval(() => {
    if (progressHeight(db, c.root) === c.head) done = true;
  }, 100);
  tt.after(() => clearInterval(poll));
  const r = await following;
  clearInterval(poll);
  assert.equal(r.code, 0, `${r.signal} ${r.stderr} ${r.stdout}`);
  const stats = JSON.parse(r.stdout);
  assert.equal(stats.height, Number(c.head));
  assert.equal(stats.stoppedBy, 'signal');
  assert.ok(stats.retries > 0, 'the dropped stream was reconnected');
  assert.deepEqual(await replayLines(db), c.reference);
});

test('ACCESS 6.3/6.6: a node whose own root is above the spork root, another spork, or an unmappable block stops with one line, exit 2, nothing before it lost', async (tt) => {
  const c = await spork();
  const root = c.root.rootBlock.header.height as number;
  let n = await node({ nodeRootHeight: BigInt(root) + 5n });
  let r = await run(['fetch', '--access', n.address, '--db', join(t.dir, 'noderoot.db'), ...fast]);
  await n.stop();
  assert.equal(r.code, 2);
  assert.match(r.stderr, /node's own root height \d+ is above the spork root/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

  const bad = BigInt(root) + 400n;
  n = await node({ faults: { seed: 4, shortFieldAtHeight: bad } });
  tt.after(() => n.stop());
  for (const transport of transports) {
    const db = join(t.dir, `short-${transport}.db`);
    r = await run(['fetch', '--access', n.address, '--db', db, '--transport', transport, '--json', ...fast]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`height ${bad}: block\\.[a-z_.\\[\\]0-9]+: 31 bytes, expected 32`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const s = BlockStore.open(db, { readOnly: true });
    const p = s.meta.get(`fetch:${Buffer.from(c.root.rootSeal.blockId).toString('hex')}`);
    await s.close();
    assert.equal(p.height, String(bad - 1n), `${transport}: every block below the bad one is kept`);
  }
});
