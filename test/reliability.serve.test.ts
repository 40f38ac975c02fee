// Issue 13.7: `serve` under idle and header-less connections: a cap on open connections (the
// oldest idle one makes room), idle and header-less sockets closed quickly, so another client is
// still answered at once; every answer says `X-Content-Type-Options: nosniff`, and CORS is off
// unless asked for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot } from '../src/replay/pipeline.js';
import { openReadOnly, SERVER_DEFAULTS, startServer, type RunningServer } from '../src/server/server.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const t = tempDir('spork-serve-');
const dir = join(t.dir, 'db');
let store: BlockStore;
const running: RunningServer[] = [];

before(async () => {
  const w = BlockStore.open(dir);
  await importArchive(w, vectorPath('scenarios/upgrade-forks.spork'));
  await evaluateStore(w, loadRoot(w), { threads: 0, full: false });
  await w.close();
  store = openReadOnly(dir);
});

after(async () => {
  for (const s of running) await s.close();
  await store.close();
  t.cleanup();
});

async function serve(opts: Parameters<typeof startServer>[1]): Promise<RunningServer> {
  const s = await startServer(store, { port: 0, ...opts });
  running.push(s);
  return s;
}

/** Opens `n` TCP connections that send `send` (nothing by default) and then wait. */
async function openSockets(port: number, n: number, send = ''): Promise<{ sockets: Socket[]; closed: () => number }> {
  let closed = 0;
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            if (send !== '') s.write(send);
            resolve(s);
          });
          s.on('error', () => {});
          s.on('close', () => closed++);
          s.resume(); // reads (and drops) what the server sends, so it sees the server close
        }),
    ),
  );
  return { sockets, closed: () => closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connections(s: RunningServer): Promise<number> {
  return new Promise((resolve, reject) => s.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

test('issue 13.7 (serve): every answer says nosniff; no CORS header unless an origin is given', async () => {
  const plain = await serve({});
  for (const path of ['/healthz', '/blocks/nope', '/versions?height=x']) {
    const res = await fetch(plain.url + path);
    await res.arrayBuffer();
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(res.headers.get('access-control-allow-origin'), null, path);
  }
  const cors = await serve({ corsOrigin: 'https://example.org' });
  const res = await fetch(cors.url + '/summary');
  await res.arrayBuffer();
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://example.org');
  assert.equal(res.headers.get('vary'), 'Origin');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(SERVER_DEFAULTS.maxConnections, 1000);
});

test('issue 13.7 (serve): 400 idle sockets over a cap of 50: the server keeps at most 50, another client is answered at once, the idle ones are closed', async () => {
  const s = await serve({ maxConnections: 50, idleTimeoutMs: 1000, headersTimeoutMs: 500 });
  const idle = await openSockets(s.port, 400);
  await sleep(100);
  assert.ok((await connections(s)) <= 51, `${await connections(s)} connections kept`);
  const started = Date.now();
  const res = await fetch(s.url + '/healthz');
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'ok');
  assert.ok(Date.now() - started < 1000, `answered after ${Date.now() - started} ms`);
  await sleep(2500);
  assert.equal(await connections(s), 0, 'the server closed every idle socket');
  assert.equal(idle.closed(), 400);
  for (const x of idle.sockets) x.destroy();
});

test('issue 13.7 (serve): a request whose headers never end is closed within the headers timeout', async () => {
  const s = await serve({ headersTimeoutMs: 500, idleTimeoutMs: 10_000 });
  const slow = await openSockets(s.port, 5, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
  let answer = '';
  slow.sockets[0].on('data', (d) => (answer += String(d)));
  await sleep(100);
  assert.equal(await connections(s), 5);
  await sleep(2500);
  assert.equal(await connections(s), 0);
  assert.equal(slow.closed(), 5);
  assert.match(answer, /^HTTP\/1\.1 408 /);
});
