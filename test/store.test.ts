// Issue 3: import/export round trip, idempotence, resume after a crash, framing errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { exportArchive } from '../src/store/export.js';
import { InputError } from '../src/util/errors.js';
import { loadVectors, vectorPath } from './helpers/vectors.js';
import { tempDir } from './helpers/tmp.js';
import { readU64, writeU64 } from '../src/store/keys.js';
import { Rng, U64_EDGES } from './helpers/random.js';
import { storeDigest } from './helpers/store.js';
import { scanValue } from '../src/model/msgpack.js';
import { writeSporkArchive } from '../src/synth/index.js';
import { evaluateStore, loadRoot } from '../src/replay/pipeline.js';

const scenarios: string[] = loadVectors('scenarios/index.json').scenarios.map((s: any) => s.name);

/** Byte offsets of the header and every record of an archive. */
function recordOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p < bytes.length; p = scanValue(bytes, p, bytes.length)) out.push(p);
  return out;
}

test('7.1 import then export of every canonical scenario archive is byte-identical', async () => {
  for (const name of scenarios) {
    const t = tempDir();
    try {
      const src = vectorPath(`scenarios/${name}.spork`);
      const store = BlockStore.open(join(t.dir, 'db'));
      await importArchive(store, src);
      await exportArchive(store, join(t.dir, 'out.spork'));
      await store.close();
      assert.ok(readFileSync(join(t.dir, 'out.spork')).equals(readFileSync(src)), `${name}: export differs from the imported archive`);
      // ... and importing the export into a fresh store gives the same store.
      const a = BlockStore.open(join(t.dir, 'db'), { readOnly: true });
      const b = BlockStore.open(join(t.dir, 'db2'));
      await importArchive(b, join(t.dir, 'out.spork'));
      assert.equal(storeDigest(b), storeDigest(a), `${name}: re-importing the export gives another store`);
      await a.close();
      await b.close();
    } finally {
      t.cleanup();
    }
  }
});

test('issue 3: importing the same archive twice changes nothing', async () => {
  const t = tempDir();
  try {
    const store = BlockStore.open(join(t.dir, 'db'));
    const src = vectorPath('scenarios/fault-verdicts.spork');
    const first = await importArchive(store, src);
    assert.ok(first.stored > 0);
    const before = storeDigest(store);
    const second = await importArchive(store, src);
    assert.equal(second.alreadyImported, true);
    assert.equal(storeDigest(store), before);
    // a copy under another name is recognised by content
    const copy = join(t.dir, 'copy.spork');
    writeFileSync(copy, readFileSync(src));
    assert.equal((await importArchive(store, copy)).alreadyImported, true);
    assert.equal(storeDigest(store), before);
    await store.close();
  } finally {
    t.cleanup();
  }
});

test('issue 3: an import interrupted between batches resumes to the same store', async () => {
  const t = tempDir();
  try {
    const src = vectorPath('scenarios/beacons-index.spork');
    const ref = BlockStore.open(join(t.dir, 'ref'));
    await importArchive(ref, src, { batchRecords: 7 });
    const want = storeDigest(ref);
    await ref.close();
    for (const crashAfter of [7, 21, 49]) {
      const store = BlockStore.open(join(t.dir, `db-${crashAfter}`));
      await assert.rejects(
        importArchive(store, src, {
          batchRecords: 7,
          afterCommit: (n) => {
            if (n >= crashAfter) throw new Error('simulated crash');
          },
        }),
        /simulated crash/,
      );
      const resumed = await importArchive(store, src, { batchRecords: 7 });
      assert.equal(resumed.resumedFrom, crashAfter + 1);
      assert.equal(storeDigest(store), want, `crash after ${crashAfter} records`);
      await store.close();
    }
  } finally {
    t.cleanup();
  }
});

test('9.2 a truncated archive stops with record and offset; the records before it are stored', async () => {
  const t = tempDir();
  try {
    const bytes = readFileSync(vectorPath('scenarios/beacons-index.spork'));
    const offsets = recordOffsets(bytes);
    const cutRecord = 20;
    const cutAt = offsets[cutRecord] + 10;
    const path = join(t.dir, 'cut.spork');
    writeFileSync(path, bytes.subarray(0, cutAt));
    const store = BlockStore.open(join(t.dir, 'db'));
    await assert.rejects(importArchive(store, path), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, new RegExp(`record ${cutRecord}\\b`));
      assert.match(e.message, new RegExp(`offset ${offsets[cutRecord]}\\b`));
      assert.match(e.message, /truncated|length past end/);
      return true;
    });
    assert.equal(store.blocks.getCount(), cutRecord - 1);
    await store.close();
  } finally {
    t.cleanup();
  }
});

test('9.2 garbage spliced into an archive (0xc1) stops there; earlier blocks stay imported', async () => {
  const t = tempDir();
  try {
    const bytes = readFileSync(vectorPath('scenarios/beacons-index.spork'));
    const offsets = recordOffsets(bytes);
    const at = offsets[30];
    const spliced = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc1, 0x00, 0xff, 0x13]), bytes.subarray(at)]);
    const path = join(t.dir, 'garbage.spork');
    writeFileSync(path, spliced);
    const store = BlockStore.open(join(t.dir, 'db'));
    await assert.rejects(importArchive(store, path), (e: unknown) => e instanceof InputError && /record 30\b/.test(e.message) && /0xc1/.test(e.message));
    assert.equal(store.blocks.getCount(), 29);
    await store.close();
  } finally {
    t.cleanup();
  }
});

test('9.5 a second archive with a different root is refused; a different record under a stored id too', async () => {
  const t = tempDir();
  try {
    const store = BlockStore.open(join(t.dir, 'db'));
    await importArchive(store, vectorPath('scenarios/fault-verdicts.spork'));
    const before = storeDigest(store);
    await assert.rejects(
      importArchive(store, vectorPath('scenarios/beacons-index.spork')),
      (e: unknown) => e instanceof InputError && /root snapshot differs/.test(e.message),
    );
    assert.equal(storeDigest(store), before);
    await store.close();
  } finally {
    t.cleanup();
  }
});

/** A copy of `bytes` with one byte changed inside the record in the middle (same size, same first and last MiB). */
function mutateMiddle(bytes: Buffer): { mutated: Buffer; record: number; offset: number } {
  const offsets = recordOffsets(bytes);
  const record = offsets.findIndex((o) => o > bytes.length / 2);
  const offset = offsets[record];
  const mutated = Buffer.from(bytes);
  const end = offsets[record + 1] ?? bytes.length;
  mutated[end - 2] ^= 0x01; // inside the payload's protocolStateId, just before the finalized flag
  return { mutated, record, offset };
}

test('issue 13.2: an archive that differs in the middle but has the same size, first and last MiB is imported, not skipped', async () => {
  const t = tempDir();
  try {
    const src = join(t.dir, 'a.spork');
    await writeSporkArchive(src, { blocks: 1500, seed: 3 });
    const bytes = readFileSync(src);
    assert.ok(bytes.length > 3 << 20, 'the archive must be larger than its first and last MiB');
    const { mutated, record, offset } = mutateMiddle(bytes);
    assert.ok(offset > 1 << 20 && offset < bytes.length - (1 << 20));
    const other = join(t.dir, 'b.spork');
    writeFileSync(other, mutated);
    const store = BlockStore.open(join(t.dir, 'db'));
    await importArchive(store, src);
    await assert.rejects(importArchive(store, other), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(
        e.message,
        new RegExp(`b\\.spork: record ${record} at byte offset ${offset}: another, different record with block id [0-9a-f]{64} is already stored`),
      );
      return true;
    });
    // the same content under another name is still recognised
    const copy = join(t.dir, 'c.spork');
    writeFileSync(copy, bytes);
    assert.equal((await importArchive(store, copy)).alreadyImported, true);
    await store.close();
  } finally {
    t.cleanup();
  }
});

test('issue 13.2: an interrupted import is not resumed from another archive with the same size, first and last MiB', async () => {
  const t = tempDir();
  try {
    const src = join(t.dir, 'a.spork');
    await writeSporkArchive(src, { blocks: 1500, seed: 3 });
    const bytes = readFileSync(src);
    const { mutated, record } = mutateMiddle(bytes);
    const other = join(t.dir, 'b.spork');
    writeFileSync(other, mutated);
    // import the changed archive, interrupted after the batch holding the changed record
    const store = BlockStore.open(join(t.dir, 'db'));
    await assert.rejects(
      importArchive(store, other, {
        batchRecords: 64,
        afterCommit: (n) => {
          if (n > record + 64) throw new Error('crash');
        },
      }),
      /crash/,
    );
    // the original must not resume at the other archive's offset: its record differs from the stored one
    await assert.rejects(importArchive(store, src), new RegExp(`a\\.spork: record ${record} at byte offset \\d+: another, different record`));
    await store.close();
  } finally {
    t.cleanup();
  }
});

test('issue 13.4: import and replay sync the store at their checkpoints (the end of the work)', async () => {
  const t = tempDir();
  try {
    const store = BlockStore.open(join(t.dir, 'db'));
    let syncs = 0;
    const raw = store.sync.bind(store);
    store.sync = () => {
      syncs++;
      return raw();
    };
    await importArchive(store, vectorPath('scenarios/fault-verdicts.spork'));
    assert.equal(syncs, 1, 'the import syncs once at its end');
    const root = loadRoot(store);
    await evaluateStore(store, root, { threads: 0, full: false });
    assert.equal(syncs, 2, 'the replay syncs once at its end');
    await store.close();
  } finally {
    t.cleanup();
  }
});

test('SPEC 7.1 store keys: u64 big-endian round trip at the edges and at random (numbers below 2^53, bigints above)', () => {
  const rng = new Rng(7);
  const values: (number | bigint)[] = [...U64_EDGES];
  for (let i = 0; i < 2000; i++) values.push(rng.chance(0.5) ? rng.int(2 ** 53) : (BigInt(rng.next()) << 32n) | BigInt(rng.next()));
  for (const v of values) {
    const b = Buffer.alloc(11, 0xee);
    writeU64(b, 2, v);
    const want = Buffer.alloc(8);
    want.writeBigUInt64BE(BigInt(v));
    assert.deepEqual(b.subarray(2, 10), want, `write ${v}`);
    assert.equal(b[0], 0xee);
    assert.equal(b[10], 0xee);
    const big = BigInt(v);
    assert.equal(readU64(b, 2), big < 2n ** 53n ? Number(big) : big, `read ${v}`);
  }
});
