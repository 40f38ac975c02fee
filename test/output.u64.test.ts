// docs/output.md: one JSON type per 64-bit field in every output (model/json-u64.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonText, outputJson } from '../src/model/json-u64.js';
import * as S from '../src/model/schema.js';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { openReadOnly, startServer } from '../src/server/server.js';

const SAMPLE = new URL('../../data/sample.spork', import.meta.url).pathname;

test('json-u64: amounts and limits are decimal strings whatever their value', () => {
  for (const memoryLimit of [0, 8589934592, 18446744073709551615n]) {
    const j = outputJson({ effortWeights: [[1, 5]], memoryWeights: [[2, 2n ** 60n]], memoryLimit }, S.MeteringParams);
    assert.deepEqual(j, { effortWeights: [[1, '5']], memoryWeights: [[2, '1152921504606846976']], memoryLimit: String(memoryLimit) });
  }
});

test('json-u64: counters are numbers, exact above 2^53 (digits, not a string)', () => {
  assert.equal(jsonText({ height: 2n ** 60n + 1n, view: 7 }), '{"height":1152921504606846977,"view":7}');
  assert.equal(jsonText({ a: [1n << 63n] }, 2), '{\n  "a": [\n    9223372036854775808\n  ]\n}');
});

test('json-u64: the same field has the same type in inspect --json and HTTP (the same view); heights are numbers in --json outputs', async () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    assert.equal(cli(['replay', SAMPLE, '--db', db, '--quiet', '--threads', '1']).code, 0);
    const cliBlock = JSON.parse(cli(['inspect', '--db', db, '90001500', '--json']).stdout);
    const store = openReadOnly(db);
    const srv = await startServer(store, { port: 0 });
    try {
      const http = (await (await fetch(`${srv.url}/blocks/90001500/state`)).json()) as any;
      const metering = http.state.kv.executionMeteringParameters.current;
      assert.equal(typeof metering.memoryLimit, 'string');
      for (const [k, v] of metering.effortWeights) assert.deepEqual([typeof k, typeof v], ['number', 'string']);
      assert.equal(typeof http.height, 'number');
      const httpBlock = (await (await fetch(`${srv.url}/blocks/90001500`)).json()) as any;
      assert.deepEqual(httpBlock, cliBlock, 'inspect --json is the HTTP block view');
    } finally {
      await srv.close();
      await store.close();
    }
    const stats = JSON.parse(cli(['stats', '--db', db, '--json']).stdout);
    assert.equal(typeof stats.root.height, 'number');
    assert.equal(typeof stats.finalizedHeight, 'number');
    const summary = JSON.parse(cli(['replay', '--db', db, '--json']).stdout);
    assert.equal(typeof summary.finalizedHeight, 'number');
    const html = join(t.dir, 'r.html');
    assert.equal(cli(['report', '--db', db, '--html', html, '--quiet']).code, 0);
    const page = readFileSync(html, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(page)![1]!);
    assert.equal(typeof data.low, 'number');
    const details = Object.values(data.details) as any[];
    assert.ok(details.length > 0);
    for (const d of details)
      for (const k of ['height', 'view', 'epochCounter', 'epochFinalView']) assert.ok(d[k] === null || typeof d[k] === 'number', `${k}: ${typeof d[k]}`);
  } finally {
    t.cleanup();
  }
});
