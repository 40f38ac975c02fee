// Issue 4: resume after an interrupted replay and incremental replays after more imports must
// produce exactly the report of a full replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockStore, RESULTS_START } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot, reportFromStore } from '../src/replay/pipeline.js';
import { scanValue } from '../src/model/msgpack.js';
import { vectorPath } from './helpers/vectors.js';
import { tempDir } from './helpers/tmp.js';

function records(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < bytes.length; ) {
    const e = scanValue(bytes, p, bytes.length);
    out.push(bytes.subarray(p, e));
    p = e;
  }
  return out;
}

async function report(store: BlockStore, dir: string, full: boolean, threads = 0): Promise<string> {
  const root = loadRoot(store);
  await evaluateStore(store, root, { threads, full });
  const path = join(dir, `r-${Math.random()}.jsonl`);
  await reportFromStore(store, root, path);
  return readFileSync(path, 'utf8');
}

for (const name of ['beacons-index', 'upgrade-forks', 'fault-verdicts', 'recover-strict-bound']) {
  test(`issue 4 (${name}): a replay resumed after losing part of its results equals a full replay`, async () => {
    const t = tempDir();
    try {
      const store = BlockStore.open(join(t.dir, 'db'));
      await importArchive(store, vectorPath(`scenarios/${name}.spork`));
      const want = await report(store, t.dir, true);
      // an interrupted run has stored a prefix of the results (in evaluation order): drop a suffix
      const keys = [...store.results.getKeys({ start: RESULTS_START })];
      for (const cut of [1, Math.floor(keys.length / 2), keys.length - 1]) {
        await report(store, t.dir, true);
        await store.env.transaction(() => {
          for (const k of keys.slice(cut)) store.results.removeSync(k);
        });
        assert.equal(await report(store, t.dir, false), want, `resumed after ${cut} of ${keys.length} results`);
      }
      // and a replay with every result stored is a no-op that still reports the same
      assert.equal(await report(store, t.dir, false, 2), want);
      await store.close();
    } finally {
      t.cleanup();
    }
  });

  test(`issue 4 (${name}): replays after each of several imports equal a full replay`, async () => {
    const t = tempDir();
    try {
      const all = records(readFileSync(vectorPath(`scenarios/${name}.spork`)));
      const [header, ...blocks] = all;
      // deterministic shuffle so children often arrive before their parents (unknown-parent first)
      const order = blocks.map((_, i) => i).sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13) || a - b);
      const parts = [
        order.slice(0, Math.ceil(order.length / 3)),
        order.slice(Math.ceil(order.length / 3), Math.ceil((2 * order.length) / 3)),
        order.slice(Math.ceil((2 * order.length) / 3)),
      ];
      const store = BlockStore.open(join(t.dir, 'db'));
      let last = '';
      for (let k = 0; k < parts.length; k++) {
        const path = join(t.dir, `part${k}.spork`);
        writeFileSync(path, Buffer.concat([header, ...parts[k].map((i) => blocks[i])]));
        await importArchive(store, path);
        last = await report(store, t.dir, false);
      }
      const full = await report(store, t.dir, true);
      assert.equal(last, full);
      await store.close();
    } finally {
      t.cleanup();
    }
  });
}

test('issue 12: a replay of a store whose every record has a current result writes nothing (also read-only); a new record is evaluated', async () => {
  const t = tempDir();
  try {
    const dir = join(t.dir, 'db');
    const all = records(readFileSync(vectorPath('scenarios/upgrade-forks.spork')));
    const partial = join(t.dir, 'partial.spork');
    writeFileSync(partial, Buffer.concat(all.slice(0, -1)));
    let store = BlockStore.open(dir);
    await importArchive(store, partial);
    const root = loadRoot(store);
    const first = await evaluateStore(store, root, { threads: 0, full: false });
    const generation = store.meta.get('replayGeneration');
    const again = await evaluateStore(store, root, { threads: 0, full: false });
    assert.deepEqual({ evaluated: again.evaluated, reused: again.reused }, { evaluated: 0, reused: first.evaluated });
    assert.equal(store.meta.get('replayGeneration'), generation, 'nothing written');
    await store.close();
    store = BlockStore.open(dir, { readOnly: true });
    assert.equal((await evaluateStore(store, root, { threads: 0, full: false })).evaluated, 0);
    await store.close();
    store = BlockStore.open(dir);
    const whole = join(t.dir, 'whole.spork');
    writeFileSync(whole, Buffer.concat(all));
    await importArchive(store, whole);
    const more = await evaluateStore(store, root, { threads: 0, full: false });
    assert.ok(more.evaluated >= 1, `evaluated ${more.evaluated} after a new record`);
    await store.close();
  } finally {
    t.cleanup();
  }
});
