// The native integrity baseline (native-bench/) must compute exactly what the TypeScript
// integrity stage computes: same header ids, payload hashes, mismatch and decode-error counts.
// Skipped when the binary is not built (npm run native:build).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../src/model/bytes.js';
import { encodeToBytes } from '../src/model/codec.js';
import { headerId } from '../src/model/ids.js';
import { payloadHash } from '../src/model/payload.js';
import * as S from '../src/model/schema.js';
import { importArchive } from '../src/store/import.js';
import { BlockStore } from '../src/store/store.js';
import { decodeStoredRecord } from '../src/model/record.js';
import type { BlockFacts } from '../src/replay/facts.js';
import { IntegrityStage } from '../src/replay/integrity.js';
import { Rng, randomValue } from './helpers/random.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const NATIVE = join(ROOT, 'native-bench', 'build', 'integrity');
const skip = existsSync(NATIVE) || process.env.CI === 'true' ? false : `${NATIVE} is not built (run npm run prerequisites)`;

interface NativeOut {
  blocks: number;
  orphans: number;
  idMismatches: number;
  payloadMismatches: number;
  decodeErrors: number;
  sample: { id: string | null; computedId: string | null; payloadHash: string | null }[];
}

function native(dir: string, ...args: string[]): NativeOut {
  return JSON.parse(execFileSync(NATIVE, [dir, ...args], { encoding: 'utf8' }));
}

/** What the TS model computes for one stored record: "computedId payloadHash" or "decode-error". */
function tsLine(bytes: Uint8Array): string {
  const d = decodeStoredRecord(bytes);
  if (d.decodeError !== null || d.header === null || d.payload === null) return 'decode-error';
  return `${toHex(headerId(d.header))} ${toHex(payloadHash(d.payload))}`;
}

/** native --dump FILE: "claimedId computedId payloadHash" or "claimedId decode-error" per record. */
function nativeDump(dir: string, file: string, walk: 'order' | 'blocks'): Map<string, string> {
  execFileSync(NATIVE, [dir, '--walk', walk, '--dump', file]);
  const out = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const i = line.indexOf(' ');
    out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

type Stage = { run(): AsyncIterable<unknown[]>; close(): Promise<void> };
const StageCtor = IntegrityStage as unknown as new (store: BlockStore, threads: number, storedResult: null) => Stage;

test('native baseline reproduces the TS integrity stage on fault-verdicts.spork', { skip }, async () => {
  const t = tempDir();
  const dir = join(t.dir, 'db');
  try {
    const store = BlockStore.open(dir);
    const ts = new Map<string, string>();
    const firstInOrder: string[] = [];
    let idm = 0;
    let pm = 0;
    let de = 0;
    try {
      await importArchive(store, vectorPath('scenarios/fault-verdicts.spork'));
      const stage = new StageCtor(store, 0, null);
      try {
        for await (const batch of stage.run()) {
          for (const item of batch) {
            const f = ((item as { facts?: BlockFacts }).facts ?? item) as BlockFacts;
            if (f.decodeError !== null) de++;
            if (f.idMismatch !== null) idm++;
            if (f.payloadMismatch !== null) pm++;
          }
        }
      } finally {
        await stage.close();
      }
      for (const { key, value } of store.blocks.getRange({})) ts.set(toHex(key), tsLine(value));
      for (const { value } of store.order.getRange({ limit: 16 })) firstInOrder.push(toHex(Buffer.from(value).subarray(8, 40)));
    } finally {
      await store.close();
    }
    // the archive has one record of each: decode-error, id-mismatch, payload-mismatch
    assert.deepEqual({ idm, pm, de }, { idm: 1, pm: 1, de: 1 });

    for (const threads of ['1', '2']) {
      for (const walk of ['order', 'blocks']) {
        const n = native(dir, '--threads', threads, '--walk', walk);
        const label = `native --threads ${threads} --walk ${walk}`;
        assert.equal(n.blocks + n.orphans, ts.size, `${label}: records`);
        assert.deepEqual({ idm: n.idMismatches, pm: n.payloadMismatches, de: n.decodeErrors }, { idm, pm, de }, `${label}: mismatch and decode-error counts`);
        assert.equal(n.sample.length, 16, `${label}: sample size`);
        for (const s of n.sample) {
          const expected = ts.get(s.id!);
          const got = s.computedId === null ? 'decode-error' : `${s.computedId} ${s.payloadHash}`;
          assert.equal(got, expected, `${label}: sample ${s.id}`);
        }
        if (walk === 'order')
          assert.deepEqual(
            n.sample.map((s) => s.id),
            firstInOrder,
            `${label}: sample is the first 16 in report order`,
          );
      }
    }
    // every record, both walks
    for (const walk of ['order', 'blocks'] as const) {
      const dump = nativeDump(dir, join(t.dir, `dump-${walk}.txt`), walk);
      assert.deepEqual(dump, ts, `native --dump (${walk}) equals the TS ids of every record`);
    }
    const builtin = native(dir, '--blake2', 'builtin', '--nolock');
    assert.deepEqual([builtin.idMismatches, builtin.payloadMismatches, builtin.decodeErrors], [1, 1, 1], 'builtin BLAKE2b, no lock');
  } finally {
    t.cleanup();
  }
});

test('native baseline agrees with the TS decoder and ids on random and corrupted records', { skip }, async () => {
  const t = tempDir();
  const dir = join(t.dir, 'db');
  try {
    const store = BlockStore.open(dir);
    const ts = new Map<string, string>();
    const r = new Rng(20250101);
    let decodeErrors = 0;
    try {
      store.env.transactionSync(() => {
        for (let i = 0; i < 250; i++) {
          const rec = randomValue(S.BlockRecord, r);
          const bytes = Buffer.from(encodeToBytes(rec, S.BlockRecord));
          if (i % 3 === 0) {
            // corrupt one byte after the claimed id: some stay valid, some become decode errors
            const at = 35 + r.int(bytes.length - 35);
            bytes[at] = r.next() & 0xff;
          }
          const key = bytes.subarray(3, 35); // [0x94, 0xc4, 0x20, id...]
          const k = toHex(key);
          if (ts.has(k)) continue;
          const line = tsLine(bytes);
          if (line === 'decode-error') decodeErrors++;
          ts.set(k, line);
          store.blocks.putSync(Buffer.from(key), bytes);
        }
      });
    } finally {
      await store.close();
    }
    assert.ok(decodeErrors > 0 && decodeErrors < ts.size, `a mix of valid and invalid records (${decodeErrors} of ${ts.size} invalid)`);
    const dump = nativeDump(dir, join(t.dir, 'dump.txt'), 'blocks');
    assert.equal(dump.size, ts.size);
    for (const [k, v] of ts) assert.equal(dump.get(k), v, `record ${k}`);
  } finally {
    t.cleanup();
  }
});
