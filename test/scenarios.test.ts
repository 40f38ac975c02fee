// SPEC 8 scenario vectors: each archive replayed end to end (import -> replay -> report) must
// reproduce the reference report. Normative fields are compared strictly; the whole line too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, exitCodeOf, loadRoot, reportFromStore } from '../src/replay/pipeline.js';
import { loadVectors, vectorPath } from './helpers/vectors.js';
import { tempDir } from './helpers/tmp.js';

const index = loadVectors('scenarios/index.json');
const NORMATIVE = ['verdict', 'computedStateId', 'protocolStateVersion', 'executionComponentVersion', 'cadenceComponentVersion', 'requiredVersion'];
const SUMMARY = ['verdicts', 'finalizedHeight', 'firstInvalidFinalized', 'versionMap'];

export async function replayArchive(archive: string, threads: number): Promise<{ lines: any[]; exitCode: number }> {
  const t = tempDir();
  const store = BlockStore.open(join(t.dir, 'db'));
  try {
    await importArchive(store, archive);
    const root = loadRoot(store);
    await evaluateStore(store, root, { threads, full: false });
    const reportPath = join(t.dir, 'report.jsonl');
    const summary = await reportFromStore(store, root, reportPath);
    const lines = readFileSync(reportPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    return { lines, exitCode: exitCodeOf(summary) };
  } finally {
    await store.close();
    t.cleanup();
  }
}

for (const threads of [0, 2]) {
  test(`8 scenarios (threads ${threads}): every archive reproduces its expected report`, async () => {
    let blocks = 0;
    for (const sc of index.scenarios) {
      const expected = readFileSync(vectorPath(`scenarios/${sc.name}.expected.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const { lines, exitCode } = await replayArchive(vectorPath(`scenarios/${sc.name}.spork`), threads);
      assert.equal(lines.length, expected.length, `${sc.name}: number of lines`);
      for (let i = 0; i < expected.length - 1; i++) {
        const e = expected[i];
        const g = lines[i];
        assert.equal(g.id, e.id, `${sc.name} line ${i + 1}: id (order)`);
        for (const f of NORMATIVE) assert.deepEqual(g[f], e[f], `${sc.name} block ${e.id} (height ${e.height}): ${f}`);
        // Reason texts are free text (SPEC 7.2): compare which checks have one, not the wording.
        assert.deepEqual(Object.keys(g.reasons), Object.keys(e.reasons), `${sc.name} block ${e.id}: reasons`);
        assert.deepEqual({ ...g, reasons: null }, { ...e, reasons: null }, `${sc.name} block ${e.id} (height ${e.height}): whole line`);
      }
      const es = expected[expected.length - 1];
      const gs = lines[lines.length - 1];
      for (const f of SUMMARY) assert.deepEqual(gs[f], es[f], `${sc.name}: summary ${f}`);
      // run fields and the extra fields SPEC 9.22 allows are not in the reference
      const { threads: _t, seconds: _s, blocksPerSecond: _b, invalidBlocks: _i, ...rest } = gs;
      assert.deepEqual(rest, es, `${sc.name}: whole summary`);
      assert.equal(exitCode, sc.exitCode, `${sc.name}: exit code`);
      blocks += expected.length - 1;
    }
    console.log(`scenario vectors: ${index.scenarios.length} scenarios, ${blocks} block lines reproduced (threads ${threads})`);
  });
}
