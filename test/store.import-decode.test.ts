// Large imports decode the records' heads in a worker thread (store/record-heads.ts): the store
// they build is the one the single-thread import builds, record for record and index for index,
// with the same counts, also for an archive cut short and for records that do not decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockStore, DB_NAMES } from '../src/store/store.js';
import { importArchive, type ImportStats } from '../src/store/import.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';
import { baseOf } from './fuzz/harness.js';

function contents(store: BlockStore): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of DB_NAMES) {
    if (name === 'meta') continue;
    const db = (store as unknown as Record<string, { getRange(o: object): Iterable<{ key: unknown; value: unknown }> }>)[name];
    out[name] = [];
    for (const { key, value } of db.getRange({}))
      out[name].push(`${Buffer.from(key as Buffer).toString('hex')}=${Buffer.isBuffer(value) ? value.toString('hex') : JSON.stringify(value)}`);
  }
  return out;
}

async function imported(dir: string, archive: string, parallelDecode: boolean): Promise<{ stats: ImportStats | string; db: Record<string, string[]> }> {
  const store = BlockStore.open(dir);
  try {
    let stats: ImportStats | string;
    try {
      stats = await importArchive(store, archive, { parallelDecode, batchRecords: 7 });
    } catch (e) {
      stats = (e as Error).message;
    }
    return { stats, db: contents(store) };
  } finally {
    await store.close();
  }
}

/**
 * Imports `archive` in one thread and with the heads decoded and the batches committed in
 * threads of their own: the same stats (or error) and the same store. Returns the stats or error.
 */
async function sameInThreads(dir: string, name: string, archive: string): Promise<ImportStats | string> {
  const one = await imported(join(dir, `${name}-1`), archive, false);
  const two = await imported(join(dir, `${name}-2`), archive, true);
  assert.deepEqual(two.stats, one.stats, name);
  assert.deepEqual(two.db, one.db, name);
  return one.stats;
}

test('issue 12: an import decoding in a worker thread builds the same store (incident, fault verdicts, an archive cut short)', async () => {
  const t = tempDir('spork-import-decode-');
  try {
    const incident = new URL('../../data/incident.spork', import.meta.url).pathname;
    const faults = vectorPath('scenarios/fault-verdicts.spork');
    const bytes = readFileSync(incident);
    const cut = join(t.dir, 'cut.spork');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    assert.ok(((await sameInThreads(t.dir, 'incident', incident)) as ImportStats).stored > 2000);
    assert.ok(((await sameInThreads(t.dir, 'faults', faults)) as ImportStats).decodeErrors > 0, 'the fault vector has records that do not decode');
    assert.match(String(await sameInThreads(t.dir, 'cut', cut)), /records before it are imported/);
  } finally {
    t.cleanup();
  }
});

test('issue 12: with the writer thread, a record repeated a few batches later is a duplicate and a changed one a conflict, as in one thread', async () => {
  const t = tempDir('spork-import-decode-');
  try {
    const b = baseOf(readFileSync(new URL('../../data/incident.spork', import.meta.url).pathname));
    const rec = (i: number) => b.bytes.subarray(b.values[i][0], b.values[i][1]);
    // record i again right after record i + 10: 1-2 batches of 7 later, while its batch may still be on the writer thread
    const parts: Uint8Array[] = [rec(0)];
    for (let i = 1; i < b.values.length; i++) {
      parts.push(rec(i));
      if (i > 10 && i % 5 === 0) parts.push(rec(i - 10));
    }
    const dup = join(t.dir, 'dup.spork');
    writeFileSync(dup, Buffer.concat(parts));
    const changed = Buffer.from(rec(300));
    changed[changed.length - 3] ^= 1;
    const conflict = join(t.dir, 'conflict.spork');
    writeFileSync(conflict, Buffer.concat([...b.values.slice(0, 310).map((_, i) => rec(i)), changed, ...b.values.slice(310).map((_, i) => rec(310 + i))]));
    const dupStats = (await sameInThreads(t.dir, 'dup', dup)) as ImportStats;
    assert.ok(dupStats.duplicates > 400, JSON.stringify(dupStats));
    assert.match(String(await sameInThreads(t.dir, 'conflict', conflict)), /record 310 at byte offset \d+: another, different record with block id/);
  } finally {
    t.cleanup();
  }
});
