// Issue 13.5: work and memory bounded per input byte. A 1 MB archive of 1,000,000 one-byte
// records took ~0.93 GB and 22.6 s: the reader now frames in bounded steps, and an archive stops
// (a framing error naming the record and offset) after MAX_SHORT_RECORDS records too short to
// be blocks, so such a file costs what a few thousand records cost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveFramingError, ArchiveReader, MAX_SHORT_RECORDS, MIN_BLOCK_RECORD_BYTES, parseArchiveBytes } from '../src/model/archive.js';
import { scanValue } from '../src/model/msgpack.js';
import { oneLineFailure, runCli } from './fuzz/cli-process.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const t = tempDir('spork-bounded-');
const oneByte = join(t.dir, 'one-byte.spork');
let headerLength = 0;

before(() => {
  const src = readFileSync(vectorPath('scenarios/upgrade-forks.spork'));
  headerLength = scanValue(src, 0, src.length);
  writeFileSync(oneByte, Buffer.concat([src.subarray(0, headerLength), Buffer.alloc(1_000_000, 0x00)]));
});

after(() => t.cleanup());

test('SPEC 9.2 / issue 13.5: replay of 1 MB of one-byte records: exit 2 at the record past the cap, in bounded time and memory', () => {
  const r = runCli(['replay', oneByte, '--threads', '0', '--quiet', '--json'], { measure: true, timeout: 60_000 });
  assert.deepEqual(oneLineFailure(r), []);
  const at = headerLength + MAX_SHORT_RECORDS;
  assert.equal(
    r.stderr,
    `spork-replay: ${oneByte}: malformed archive at record ${MAX_SHORT_RECORDS + 1} (byte offset ${at}): more than ${MAX_SHORT_RECORDS} records too short to be blocks (at byte ${at}); the ${MAX_SHORT_RECORDS} records before it are imported\n`,
  );
  // the records before it are replayed (SPEC 9.2): each a decode-error
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.blocks, MAX_SHORT_RECORDS);
  assert.equal(summary.verdicts['decode-error'], MAX_SHORT_RECORDS);
  assert.ok(r.ms < 15_000, `${r.ms} ms`);
  assert.ok(r.maxRssKB! < 400 * 1024, `max RSS ${Math.round(r.maxRssKB! / 1024)} MB`);
});

test('SPEC 9.2 / issue 13.5: the reader frames a chunk in bounded steps (memory per step does not grow with the records in a chunk)', async () => {
  const reader = new ArchiveReader(oneByte, { decode: false, maxShortRecords: Infinity });
  await reader.readHeaderEntry();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = 0;
  let records = 0;
  for await (const batch of reader.batches()) {
    records += batch.length;
    if ((records & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - heap0);
  }
  assert.equal(records, 1_000_000);
  assert.ok(peak < 96 << 20, `heap grew by ${Math.round(peak / 2 ** 20)} MB while reading`);
});

test('SPEC 9.2 / issue 13.5: the cap counts records shorter than MIN_BLOCK_RECORD_BYTES only, the same way streaming and in memory', async () => {
  const bytes = readFileSync(oneByte);
  const p = parseArchiveBytes(bytes, { decode: false });
  assert.equal(p.blocks.length, MAX_SHORT_RECORDS);
  assert.ok(p.framingError instanceof ArchiveFramingError);
  assert.equal(p.framingError.record, MAX_SHORT_RECORDS + 1);
  assert.equal(p.framingError.offset, headerLength + MAX_SHORT_RECORDS);
  const reader = new ArchiveReader(oneByte, { chunkSize: 4096 });
  let n = 0;
  await assert.rejects(
    (async () => {
      for await (const b of reader.batches()) n += b.length;
    })(),
    { name: 'ArchiveFramingError', record: MAX_SHORT_RECORDS + 1, offset: headerLength + MAX_SHORT_RECORDS },
  );
  assert.equal(n, MAX_SHORT_RECORDS);
  // a real archive is untouched by the cap: every block record is longer than the bound
  const real = parseArchiveBytes(readFileSync(vectorPath('scenarios/upgrade-forks.spork')), { decode: false, maxShortRecords: 0 });
  assert.equal(real.framingError, null);
  assert.ok(real.blocks.every((b) => b.bytes.length >= MIN_BLOCK_RECORD_BYTES));
});
