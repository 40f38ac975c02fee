// The output contracts: every --json output, the JSONL report lines and the HTTP answers are
// validated against docs/schemas/*.json and docs/openapi.json (real outputs of the built CLI on a
// synthesized archive and on data/sample.spork; a real server on 127.0.0.1 port 0). A renamed or
// retyped field fails here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { BlockStore } from '../src/store/store.js';
import { openReadOnly, ROUTES, startServer, type RunningServer } from '../src/server/server.js';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SCHEMAS = join(ROOT, 'docs/schemas');
const SAMPLE = join(ROOT, 'data/sample.spork');

// ajv ships CommonJS: the class is the default export's default under NodeNext.
const Ajv2020 = ((Ajv2020Module as any).default ?? Ajv2020Module) as typeof Ajv2020Module;
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (a: any) => void;
const ajv = new (Ajv2020 as any)({ strict: false, allErrors: true });
addFormats(ajv);
for (const f of readdirSync(SCHEMAS).filter((x) => x.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')), f);
const openapi = JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8'));
ajv.addSchema(openapi, 'openapi');

function check(schema: string, value: unknown): void {
  const v = ajv.getSchema(schema);
  assert.ok(v, `no schema ${schema}`);
  assert.ok(v(value), `${schema}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 400)}`);
}
function rejects(schema: string, value: unknown): void {
  const v = ajv.getSchema(schema)!;
  assert.equal(v(value), false, `${schema} accepted a changed document`);
}
function json(args: string[]): any {
  const r = cli([...args, '--json']);
  assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}
function renamed(o: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  const c: Record<string, unknown> = { ...o };
  c[to] = c[from];
  delete c[from];
  return c;
}

const t = tempDir();
const archive = join(t.dir, 'small.spork');
const db = join(t.dir, 'db');
const reportFile = join(t.dir, 'r.jsonl');

before(() => {
  check('synth.schema.json', json(['synth', '--out', archive, '--blocks', '300', '--seed', 'contracts', '--faults', 'all']));
});
after(() => t.cleanup());

test('import, replay, versions, inspect, bootstrap-check, export, report, stats match their schemas', () => {
  const imp = json(['import', archive, '--db', db]);
  check('import.schema.json', imp);
  rejects('import.schema.json', renamed(imp, 'stored', 'storedRecords'));
  const rep = json(['replay', '--db', db, '--report', reportFile]);
  check('replay.schema.json', rep);
  rejects('replay.schema.json', renamed(rep, 'finalizedHeight', 'finalHeight'));
  rejects('replay.schema.json', { ...rep, blocks: String(rep.blocks) });
  rejects('replay.schema.json', { ...rep, verdicts: { ...rep.verdicts, fine: 1 } });
  check('versions.schema.json', json(['versions', '--db', db]));
  const block = json(['inspect', '--db', db, 'finalized']);
  check('inspect.schema.json', block);
  rejects('inspect.schema.json', { ...block, verdict: 'good' });
  // the 64-bit rule (docs/output.md): a metering limit written as a number is rejected
  const text = JSON.stringify(block);
  assert.match(text, /"memoryLimit":"\d+"/, 'the block state carries metering parameters');
  rejects('inspect.schema.json', JSON.parse(text.replace(/"memoryLimit":"(\d+)"/, '"memoryLimit":$1')));
  check('bootstrap-check.schema.json', json(['bootstrap-check', '--db', db, '--binary', '0.40.0']));
  check('export.schema.json', json(['export', '--db', db, '--out', join(t.dir, 'x.spork')]));
  check('report.schema.json', json(['report', '--db', db, '--html', join(t.dir, 'r.html')]));
  check('stats.schema.json', json(['stats', '--db', db]));
  const invalid = json(['inspect', '--db', db, '--invalid', '--limit', '3']);
  assert.ok(invalid.invalid > 0 && invalid.blocks.length === Math.min(3, invalid.invalid));
  check('inspect-invalid.schema.json', invalid);
  rejects('inspect-invalid.schema.json', { ...invalid, blocks: [{ ...invalid.blocks[0], failed: [{ check: 'bad', rules: [], reason: '' }] }] });
  const rootDb = join(t.dir, 'root-db');
  const root = json(['import-root', join(ROOT, 'test/fixtures/flow-go/snapshot-fixture1-sec0.json'), '--db', rootDb]);
  check('import-root.schema.json', root);
  rejects('import-root.schema.json', { ...root, height: String(root.height) });
  const err = cli(['inspect', '--db', join(t.dir, 'none'), '5', '--json']);
  assert.equal(err.code, 2);
  const e = JSON.parse(err.stdout);
  check('error.schema.json', e);
  rejects('error.schema.json', { error: renamed(e.error, 'exitCode', 'code') });
});

test('JSONL report lines match report-line.schema.json (block lines, one summary last)', () => {
  const lines = readFileSync(reportFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(lines.length > 300);
  for (const l of lines) check('report-line.schema.json', l);
  assert.equal(lines.at(-1).type, 'summary');
  const b = lines.find((l) => l.type === 'block');
  rejects('report-line.schema.json', renamed(b, 'parentId', 'parent'));
  rejects('report-line.schema.json', { ...b, height: String(b.height) });
  assert.ok(
    lines.some((l) => l.type === 'block' && l.verdict !== 'ok'),
    'the synthesized archive has faults',
  );
});

test('replay --json on data/sample.spork matches replay.schema.json', () => {
  const rep = json(['replay', SAMPLE]);
  check('replay.schema.json', rep);
  assert.deepEqual(Object.keys(rep.verdicts), ['ok']);
});

test('docs/openapi.json is OpenAPI 3.1 and its paths are the server routes', () => {
  assert.equal(openapi.openapi, '3.1.0');
  assert.equal(typeof openapi.info?.title, 'string');
  const routes = ['/', ...ROUTES.map((r) => r.replace(/[[?].*$/, '').replace(/:(\w+)/g, '{$1}'))].sort();
  assert.deepEqual(Object.keys(openapi.paths).sort(), routes);
  for (const [p, item] of Object.entries<any>(openapi.paths)) {
    assert.deepEqual(Object.keys(item), ['get'], p);
    assert.ok(item.get.responses['200'], p);
    for (const name of p.match(/\{(\w+)\}/g) ?? [])
      assert.ok(
        item.get.parameters.some((x: any) => `{${x.name}}` === name && x.in === 'path' && x.required),
        `${p} ${name}`,
      );
  }
});

test('HTTP answers match docs/openapi.json', async () => {
  const store: BlockStore = openReadOnly(db);
  const srv: RunningServer = await startServer(store, { port: 0, host: '127.0.0.1' } as any);
  try {
    const get = async (path: string) => {
      const res = await fetch(srv.url + path, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, body: JSON.parse(await res.text()) };
    };
    const s = (n: string) => `openapi#/components/schemas/${n}`;
    const cases: [string, string][] = [
      ['/', 'Routes'],
      ['/healthz', 'Health'],
      ['/summary', 'Summary'],
      ['/blocks/finalized', 'Block'],
      ['/blocks/root/state', 'BlockState'],
      ['/versions', 'Versions'],
      ['/bootstrap-check?binary=0.40.0', 'BootstrapCheck'],
    ];
    const fin = (await get('/healthz')).body.finalizedHeight;
    cases.push([`/heights/${fin}`, 'Height'], [`/versions?height=${fin}`, 'Versions']);
    for (const [path, schema] of cases) {
      const r = await get(path);
      assert.equal(r.status, 200, path);
      check(s(schema), r.body);
    }
    const doc = await get('/openapi.json');
    assert.deepEqual(doc.body, openapi);
    for (const path of ['/nope', '/versions?x=1', '/blocks/zz']) {
      const r = await get(path);
      assert.ok(r.status === 400 || r.status === 404, path);
      check(s('Error'), r.body);
    }
    const h = (await get('/healthz')).body;
    rejects(s('Health'), renamed(h, 'generation', 'gen'));
  } finally {
    await srv.close();
    await store.close();
  }
});
