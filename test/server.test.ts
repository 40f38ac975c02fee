// The HTTP API (src/server/server.ts) on a replayed scenario store opened read-only: every
// route, 400/404/405, the generation-keyed cache, and malformed requests never answered 5xx.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot, reportFromStore } from '../src/replay/pipeline.js';
import { openReadOnly, startServer, type RunningServer } from '../src/server/server.js';
import { fuzzRequests, runFuzz, sendRaw } from '../bench/http-fuzz.js';
import { StoreQuery, jsonText } from '../src/query/query.js';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';
import { SPEC_5_4_KEYS } from './helpers/bootstrap.js';

const t = tempDir();
const dir = join(t.dir, 'db');
let store: BlockStore;
let srv: RunningServer;
const internalErrors: string[] = [];

before(async () => {
  const w = BlockStore.open(dir);
  await importArchive(w, vectorPath('scenarios/upgrade-forks.spork'));
  await evaluateStore(w, loadRoot(w), { threads: 0, full: false });
  await w.close();
  store = openReadOnly(dir);
  srv = await startServer(store, { port: 0, onError: (e, url) => internalErrors.push(`${url}: ${e}`) });
});

after(async () => {
  await srv.close();
  await store.close();
  t.cleanup();
});

async function get(path: string, method = 'GET'): Promise<{ status: number; body: any; type: string | null }> {
  const res = await fetch(srv.url + path, { method });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), type: res.headers.get('content-type') };
}

const MAIN_503 = '2afedbc80d489e2633ec7ee9dbe2ccbe26a364067a1f7dbd165ab7158617bf02';

test('server: listens on 127.0.0.1 with a port of its own', () => {
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(srv.port > 0);
});

test('server: /healthz, /summary, / list', async () => {
  const h = await get('/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.type, 'application/json; charset=utf-8');
  assert.equal(h.body.status, 'ok');
  assert.equal(h.body.finalizedHeight, 506);
  const s = await get('/summary');
  assert.equal(s.status, 200);
  const expected = await reportFromStore(store, loadRoot(store)); // the report, the CLI's way
  assert.deepEqual(s.body, JSON.parse(jsonText(expected)));
  const index = await get('/');
  assert.ok(index.body.routes.includes('/summary'));
});

test('server: /blocks/:height and /blocks/:id give what inspect --json gives', async () => {
  const byHeight = await get('/blocks/503');
  assert.equal(byHeight.status, 200);
  assert.equal(byHeight.body.id, MAIN_503);
  const byId = await get(`/blocks/${MAIN_503}`);
  assert.deepEqual(byId.body, byHeight.body);
  assert.deepEqual(byId.body, JSON.parse(jsonText(new StoreQuery(store).inspect(MAIN_503))));
  assert.ok(byId.body.stateDiff.some((d: any) => d.path === 'kv.versionUpgrade'));
  const root = await get('/blocks/500');
  assert.equal(root.body.root, true);
  const state = await get(`/blocks/${MAIN_503}/state`);
  assert.equal(state.status, 200);
  assert.equal(state.body.state.id, byId.body.computedStateId);
  assert.ok('epochEvents' in state.body.state);
  assert.equal((await get('/blocks/506/state')).body.state.kv.version, 3);
  const head = await fetch(srv.url + '/blocks/503', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('server: /heights/:h lists forks; /versions with and without height; /bootstrap-check', async () => {
  const h = await get('/heights/503');
  assert.equal(h.status, 200);
  assert.equal(h.body.blocks.length, 2);
  assert.deepEqual(
    h.body.blocks.map((b: any) => b.onFinalizedChain),
    [false, true],
  );
  const v = await get('/versions');
  assert.equal(v.status, 200);
  assert.equal(v.body.finalizedHeight, 506);
  assert.equal(v.body.versionMap.length, 2);
  const v506 = await get('/versions?height=506');
  assert.deepEqual({ p: v506.body.protocolStateVersion, e: v506.body.executionComponentVersion, r: v506.body.requiredVersion }, { p: 3, e: '0.0', r: null });
  const b = await get('/bootstrap-check?binary=v1.0&supports=0.0,1.0&from=500&to=506');
  assert.equal(b.status, 200);
  assert.deepEqual(Object.keys(b.body), SPEC_5_4_KEYS);
  assert.equal(b.body.normalized, '1.0.0');
  assert.deepEqual(b.body.unknown, [{ fromHeight: 500, toHeight: 506 }]);
  const mismatch = await get('/bootstrap-check?binary=1.0.0&supports=1.0');
  assert.deepEqual(mismatch.body.componentMismatch, [{ fromHeight: 506, toHeight: 506 }]);
});

test('server: bad parameters 400, unknown things 404, other methods 405', async () => {
  const cases: [string, number][] = [
    ['/blocks/zz', 400],
    ['/blocks/-1', 400],
    ['/blocks/%zz', 400],
    ['/blocks/18446744073709551616', 400],
    ['/blocks/18446744073709551615', 404],
    ['/blocks/507', 404],
    ['/blocks/' + '00'.repeat(32), 404],
    ['/blocks/' + '00'.repeat(32) + '/state', 404],
    ['/blocks/503/nope', 404],
    ['/heights/abc', 400],
    ['/heights/9999', 404],
    ['/versions?height=x', 400],
    ['/versions?height=9999', 404],
    ['/versions?bogus=1', 400],
    ['/versions?height=1&height=2', 400],
    ['/bootstrap-check', 400],
    ['/bootstrap-check?binary=v1.0%2Bmeta', 400],
    ['/bootstrap-check?binary=1.0.0&supports=1', 400],
    ['/bootstrap-check?binary=1.0.0&from=-5', 400],
    ['/bootstrap-check?binary=1.0.0&x=%', 400],
    ['/summary?x=1', 400],
    ['/nope', 404],
    ['/blocks', 404],
  ];
  for (const [path, status] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.error, 'string', path);
  }
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await get('/summary', method);
    assert.equal(r.status, 405);
  }
  assert.equal(await sendRaw('127.0.0.1', srv.port, { method: 'GET', target: '/blocks/%E0%A4%A' }), 400);
  assert.equal(await sendRaw('127.0.0.1', srv.port, { method: 'FOO', target: '/summary' }), 400);
});

test('server: 200 malformed requests, zero 5xx', async () => {
  const requests = fuzzRequests(200, 42, { ids: [MAIN_503], heights: [500, 506] });
  const out = await runFuzz('127.0.0.1', srv.port, requests, 16);
  assert.equal(out.serverErrors, 0, out.serverErrorExamples.join('\n'));
  assert.equal(out.noResponse, 0, JSON.stringify(out.byStatus));
  assert.deepEqual(internalErrors, []);
  // the server still answers afterwards
  assert.equal((await get('/healthz')).status, 200);
});

test('server: answers follow the replay generation of another process (cache invalidated)', async () => {
  const gen = (await get('/healthz')).body.generation;
  assert.equal((await get('/blocks/503')).status, 200); // cached now
  // a replay in another process that rewrites the results bumps meta.replayGeneration (one that
  // finds every result current writes nothing)
  const r = cli(['replay', '--db', dir, '--quiet', '--threads', '0', '--full']);
  assert.equal(r.code, 0, r.stderr);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal((await get('/healthz')).body.generation, gen + 1);
  assert.equal((await get('/blocks/503')).body.id, MAIN_503);
});
