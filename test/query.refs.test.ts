// Block references (one parser for the CLI and HTTP): ids, unique id prefixes (the HTML's 16-hex
// short ids), heights and the aliases latest / finalized / root; and the events inspect shows are
// the replay's own (SPEC 4.2 has one implementation).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockStore } from '../src/store/store.js';
import { openReadOnly, startServer, type RunningServer } from '../src/server/server.js';
import { QueryInputError, StoreQuery } from '../src/query/query.js';
import { uniquePrefix } from '../src/query/refs.js';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const SAMPLE = new URL('../../data/sample.spork', import.meta.url).pathname;
const t = tempDir();
const db = join(t.dir, 'db');
const report = join(t.dir, 'r.jsonl');
let lines: any[];
let store: BlockStore;
let srv: RunningServer;

before(async () => {
  const r = cli(['replay', SAMPLE, '--db', db, '--report', report, '--quiet', '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  lines = readFileSync(report, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  store = openReadOnly(db);
  srv = await startServer(store, { port: 0 });
});

after(async () => {
  await srv.close();
  await store.close();
  t.cleanup();
});

const blocks = () => lines.filter((l) => l.type === 'block');

test('CLI: a 16-hex short id, an 8-hex prefix in capitals, latest, finalized and root name the same blocks as full ids', () => {
  const b = blocks()[1000]!;
  for (const ref of [b.id.slice(0, 16), b.id.slice(0, 8).toUpperCase()]) {
    const r = cli(['inspect', '--db', db, ref, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).id, b.id, ref);
  }
  const top = blocks().reduce((a, x) => (x.height > a.height ? x : a));
  const summary = lines[lines.length - 1];
  const latest = JSON.parse(cli(['inspect', '--db', db, 'latest', '--json']).stdout);
  assert.equal(latest.height, top.height);
  const finalized = JSON.parse(cli(['inspect', '--db', db, 'finalized', '--json']).stdout);
  assert.equal(finalized.height, summary.finalizedHeight);
  const root = JSON.parse(cli(['inspect', '--db', db, 'root', '--json']).stdout);
  assert.equal(root.root, true);
  const short = cli(['inspect', '--db', db, 'abc1234']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /an id prefix needs at least 8 hex characters/);
  const none = cli(['inspect', '--db', db, 'ffffffffffffffffff']);
  assert.equal(none.code, 2);
  assert.doesNotMatch(none.stderr, /\n\s+at /);
});

test('HTTP: /blocks/:ref takes the same references; a bad one is 400, an unknown one 404', async () => {
  const b = blocks()[2000]!;
  const get = async (p: string) => {
    const res = await fetch(srv.url + p);
    return { status: res.status, body: (await res.json()) as any };
  };
  let r = await get(`/blocks/${b.id.slice(0, 16)}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.id, b.id);
  r = await get('/blocks/finalized');
  assert.equal(r.status, 200);
  assert.equal(r.body.height, lines[lines.length - 1].finalizedHeight);
  r = await get('/blocks/root');
  assert.equal(r.body.root, true);
  r = await get('/blocks/abc');
  assert.equal(r.status, 400);
  assert.match(r.body.error, /at least 8 hex/);
  r = await get('/blocks/ffffffffffffffffff');
  assert.equal(r.status, 404);
});

test('an ambiguous prefix is bad input naming how many blocks it matches', () => {
  const ids = ['ab01020300', 'ab01020311', 'ab01029900'].map((p) => Buffer.from(p.padEnd(64, '0'), 'hex'));
  const fake = { blocks: { getKeys: () => ids } } as unknown as BlockStore;
  assert.throws(
    () => uniquePrefix(fake, 'ff'.repeat(32), 'ab010203'),
    (e: unknown) => e instanceof QueryInputError && /matches 2 blocks/.test(e.message),
  );
  assert.equal(uniquePrefix(fake, 'ff'.repeat(32), 'ab010299'), ids[2]!.toString('hex'));
  assert.equal(uniquePrefix(fake, 'ff'.repeat(32), 'cd000000'), null);
});

test('SPEC 4.2 once: the events inspect shows for a block are the ones its report line lists, for every block', () => {
  const q = new StoreQuery(store);
  let withEvents = 0;
  for (const b of blocks()) {
    if (b.id === null || b.events.length === 0) continue;
    withEvents++;
    const view = q.inspect(b.id);
    assert.deepEqual(
      view.events.map((e) => [e.type, e.outcome]),
      b.events.map((e: any) => [e.type, e.outcome]),
      b.id,
    );
    for (const e of view.events) assert.notEqual(e.event, undefined, 'with its body');
  }
  assert.ok(withEvents > 5, `${withEvents} blocks with events`);
});

test('rule ids: inspect --json names the rules of each failed row and of each event outcome (docs/rules.md)', () => {
  const t2 = tempDir();
  try {
    const idb = join(t2.dir, 'db');
    const INCIDENT = new URL('../../data/incident.spork', import.meta.url).pathname;
    assert.equal(cli(['replay', INCIDENT, '--db', idb, '--quiet', '--threads', '1']).code, 1);
    const blocks = JSON.parse(cli(['inspect', '--db', idb, '90001766', '--all', '--json']).stdout) as any[];
    const bad = blocks.find((b) => b.verdict === 'state-mismatch');
    assert.deepEqual(
      bad.failed.map((f: any) => [f.check, f.rules]),
      [['state-mismatch', ['6.state-mismatch']]],
    );
    assert.match(bad.failed[0].reason, /^payload commits [0-9a-f]{64}, computed [0-9a-f]{64}$/, 'both sides');
    assert.equal(bad.committedStateComputed, false, 'the committed state is no state the replay computed');
    assert.equal(blocks.find((b) => b.verdict === 'ok')?.committedStateComputed ?? true, true);
    const seal = JSON.parse(cli(['inspect', '--db', idb, '90001409', '--all', '--json']).stdout).find((b: any) => b.verdict === 'bad-seal');
    assert.deepEqual(seal.failed[0].rules, ['6.seal.order']);
    const withEvents = lines.find((l) => l.type === 'block' && l.events.length > 0);
    const view = JSON.parse(cli(['inspect', '--db', db, withEvents.id, '--json']).stdout);
    for (const e of view.events) assert.match(e.rule, /^[0-9][0-9.]*\.[a-z]/, `${e.type}: ${e.rule}`);
  } finally {
    t2.cleanup();
  }
});
