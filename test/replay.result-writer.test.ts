// Storing results (replay/result-batch.ts) through the store's batch writer (store/batch-writer.ts): a batch committed in the replay's
// thread and one committed in the writer thread store exactly the records and inclusion-index
// entries of their results, batches land in the order given, and what is given before close is
// committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BlockResult } from '../src/replay/evaluate.js';
import { resultKey } from '../src/replay/pipeline.js';
import { ResultBatch } from '../src/replay/result-batch.js';
import { encodeResult } from '../src/replay/result-codec.js';
import { BatchWriter } from '../src/store/batch-writer.js';
import { concatKey } from '../src/store/keys.js';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluatedResults } from './helpers/store.js';
import { tempDir } from './helpers/tmp.js';

const INCIDENT = new URL('../../data/incident.spork', import.meta.url).pathname;

async function incidentStore(dir: string): Promise<{ store: BlockStore; results: BlockResult[] }> {
  const store = BlockStore.open(dir);
  await importArchive(store, INCIDENT);
  return { store, results: await evaluatedResults(store) };
}

function idOf(r: BlockResult): Buffer | null {
  return r.id === null ? null : Buffer.from(r.id, 'hex');
}

/** What the store holds under results and includes, as hex pairs. */
function contents(store: BlockStore): { results: string[]; includes: string[] } {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return {
    results: [...store.results.getRange({})].map(({ key, value }) => `${hex(key)}=${hex(value)}`),
    includes: [...store.includes.getKeys({})].map((k) => hex(k)),
  };
}

async function writeAll(store: BlockStore, results: BlockResult[], thread: boolean, per: number): Promise<void> {
  const writer = new BatchWriter(store, thread);
  const batch = new ResultBatch();
  try {
    for (const r of results) {
      batch.add(resultKey(r), r, idOf(r));
      if (batch.count >= per) await writer.write(batch.take(writer.threaded));
    }
    if (batch.count > 0) await writer.write(batch.take(writer.threaded));
    await writer.drain();
  } finally {
    await writer.close();
  }
}

test('replay results: a batch stores each result record under its order key and (result id, block id) for each included result, in this thread and in the writer thread alike', async () => {
  const t = tempDir('spork-result-writer-');
  const { store, results } = await incidentStore(join(t.dir, 'a'));
  const other = BlockStore.open(join(t.dir, 'b'));
  try {
    assert.ok(results.length > 2000 && results.some((r) => r.included.length > 0));
    await writeAll(store, results, false, 300);
    await writeAll(other, results, true, 97);
    const expected = {
      results: results.map((r) => `${resultKey(r).toString('hex')}=${Buffer.from(encodeResult(r)).toString('hex')}`).sort(),
      includes: results.flatMap((r) => (r.id === null ? [] : r.included.map((inc) => concatKey(inc.id, idOf(r)!).toString('hex')))).sort(),
    };
    const here = contents(store);
    assert.deepEqual(
      { results: [...here.results].sort(), includes: [...new Set(here.includes)].sort() },
      { results: expected.results, includes: [...new Set(expected.includes)].sort() },
    );
    assert.deepEqual(contents(other), here);
  } finally {
    await store.close();
    await other.close();
    t.cleanup();
  }
});

test('replay results: the writer thread commits batches in the order given (a later result under the same key wins), all of them before drain resolves', async () => {
  const t = tempDir('spork-result-writer-');
  const { store, results } = await incidentStore(join(t.dir, 'a'));
  try {
    const writer = new BatchWriter(store, true);
    const batch = new ResultBatch();
    const key = resultKey(results[10]);
    try {
      // more batches than the writer queues, each overwriting the same key
      for (let i = 0; i < 12; i++) {
        batch.add(key, { ...results[10], record: 1000 + i }, null);
        await writer.write(batch.take(writer.threaded));
      }
      await writer.drain();
    } finally {
      await writer.close();
    }
    assert.deepEqual(store.results.getBinary(key), Buffer.from(encodeResult({ ...results[10], record: 1011 })));
    assert.equal(store.results.getCount({}), 1);
  } finally {
    await store.close();
    t.cleanup();
  }
});

test('store writer thread: when the thread ends unasked, what was given to it and what is given later fails with one error instead of waiting for ever', {
  timeout: 20_000,
}, async () => {
  const t = tempDir('spork-result-writer-');
  const { store, results } = await incidentStore(join(t.dir, 'a'));
  try {
    const writer = new BatchWriter(store, true);
    const batch = new ResultBatch();
    batch.add(resultKey(results[0]), results[0], null);
    await writer.write(batch.take(writer.threaded));
    await writer.drain();
    await (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    batch.add(resultKey(results[1]), results[1], null);
    await assert.rejects(
      (async () => {
        await writer.write(batch.take(writer.threaded));
        await writer.drain();
      })(),
      /the store writer thread ended before committing every batch/,
    );
    await writer.close();
    // what was committed before stays
    assert.equal(store.results.getCount({}), 1);
  } finally {
    await store.close();
    t.cleanup();
  }
});
