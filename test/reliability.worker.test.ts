// Issue 13: an integrity worker thread that dies mid-batch. The batch is retried once on a
// fresh worker (the replay goes on, with the same facts as a run without the failure); a batch
// that kills its worker twice is a clear one-line error naming the batch, not a hang.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { IntegrityStage, WorkerFailure, type StageItem } from '../src/replay/integrity.js';
import { writeSporkArchive } from '../src/synth/index.js';
import { failureLine } from '../src/util/errors.js';
import { tempDir } from './helpers/tmp.js';

const t = tempDir('spork-worker-');
const db = join(t.dir, 'db');
let store: BlockStore;
const REAL_WORKER = new URL('../src/util/esm-worker.cjs', import.meta.url).pathname;

before(async () => {
  const archive = join(t.dir, 'a.spork');
  await writeSporkArchive(archive, { blocks: 5000, seed: 'worker', storyline: false });
  store = BlockStore.open(db);
  await importArchive(store, archive);
});

after(async () => {
  await store.close();
  t.cleanup();
});

/** A worker module that exits its thread in the middle of a task: on the first task only, or always. */
function dyingWorker(name: string, mode: 'once' | 'always'): { file: string; marker: string } {
  const file = join(t.dir, `${name}.cjs`);
  const marker = join(t.dir, `${name}.died`);
  writeFileSync(
    file,
    `
const fs = require('node:fs');
const real = require(${JSON.stringify(REAL_WORKER)});
module.exports = async function (task) {
  if (${JSON.stringify(mode)} === 'always' || !fs.existsSync(${JSON.stringify(marker)})) {
    fs.writeFileSync(${JSON.stringify(marker)}, String(process.pid));
    await real(task); // part of the batch is done, then the thread dies
    process.exit(7);
  }
  return real(task);
};
`,
  );
  return { file, marker };
}

async function collect(stage: IntegrityStage): Promise<StageItem[]> {
  const out: StageItem[] = [];
  try {
    for await (const items of stage.run()) out.push(...items);
  } finally {
    await stage.close();
  }
  return out;
}

/** One hash per block of its facts, as the stage delivered them. */
function digest(items: StageItem[]): string[] {
  return items.map((i) =>
    createHash('sha256')
      .update(JSON.stringify(i.facts, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)))
      .digest('hex')
      .slice(0, 16),
  );
}

test('SPEC 7.2 / issue 13: a worker that dies mid-batch: the batch is retried once and the facts are those of an undisturbed run', async () => {
  const reference = digest(await collect(new IntegrityStage(store, 2, null)));
  assert.ok(reference.length > 5000, `${reference.length} blocks`);
  const w = dyingWorker('once', 'once');
  const items = await collect(new IntegrityStage(store, 2, null, { workerFile: w.file }));
  assert.ok(existsSync(w.marker), 'the worker did die');
  const got = digest(items);
  assert.equal(got.length, reference.length);
  assert.equal(
    got.findIndex((d, i) => d !== reference[i]),
    -1,
  );
});

test('SPEC 7.2 / issue 13: a batch that kills its worker twice is a clear one-line error (exit 2), not a hang or a crash', async () => {
  const w = dyingWorker('always', 'always');
  const started = Date.now();
  let error: unknown;
  try {
    await collect(new IntegrityStage(store, 2, null, { workerFile: w.file }));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof WorkerFailure, `got ${String(error)}`);
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /^an integrity worker failed twice on a batch of 512 blocks \(from record \d+\): /);
  const line = failureLine(error);
  assert.doesNotMatch(line, /internal error|\n/);
  assert.match(line, /; the stored results before it are kept; run the replay again, or with --threads 0/);
  assert.ok(Date.now() - started < 30_000);
});
