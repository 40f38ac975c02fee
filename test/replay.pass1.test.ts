// The report's pass 1 (summary and version index) taken from the evaluation when the results
// come out in report order equals pass 1 read back from the store: on every scenario vector and
// the incident spork, for a full replay and for an incremental one that reuses every result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateStore, loadRoot, reportContext, rootContext, storedResults } from '../src/replay/pipeline.js';
import { summarize } from '../src/replay/report.js';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

test('SPEC 7.2: pass 1 from the evaluation equals pass 1 from the stored results (scenarios, incident; full and incremental)', async () => {
  const archives = readdirSync(vectorPath('scenarios'))
    .filter((f) => f.endsWith('.spork'))
    .map((f) => vectorPath(`scenarios/${f}`));
  archives.push(new URL('../../data/incident.spork', import.meta.url).pathname);
  let taken = 0;
  for (const a of archives) {
    const t = tempDir('spork-pass1-');
    const store = BlockStore.open(join(t.dir, 'db'));
    try {
      await importArchive(store, a);
      const root = loadRoot(store);
      for (const full of [true, false]) {
        const work = await evaluateStore(store, root, { threads: 0, full });
        const fromStore = summarize(reportContext(root, rootContext(root)), storedResults(store, true));
        if (work.pass1 === null) continue;
        taken++;
        assert.deepEqual(work.pass1.summary, fromStore.summary, `${a} (full ${full})`);
        const top = Number(fromStore.summary.finalizedHeight);
        for (let h = Number(root.rootBlock.header.height); h <= top; h += Math.max(1, Math.floor((top - Number(root.rootBlock.header.height)) / 50))) {
          assert.deepEqual(work.pass1.index.required(h), fromStore.index.required(h), `${a}: R(${h})`);
        }
      }
    } finally {
      await store.close();
      t.cleanup();
    }
  }
  assert.ok(taken >= archives.length, `pass 1 came from the evaluation in ${taken} of ${2 * archives.length} runs`);
});
