import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as S from '../src/model/schema.js';
import type { Kind, RecKind } from '../src/model/schema.js';
import type { BlockRecord, RootSnapshot } from '../src/model/types.js';
import { ByteWriter } from '../src/model/msgpack.js';
import { DecodeError, decodeRecord, encodeRecord, encodeToBytes, fromJson, toJson } from '../src/model/codec.js';
import {
  ArchiveFramingError,
  ArchiveHeaderError,
  ArchiveReader,
  ArchiveWriter,
  decodeArchiveHeaderBytes,
  decodeBlockRecordBytes,
  encodeArchiveHeader,
  encodeBlockRecord,
  encodeRootSnapshot,
  parseArchiveBytes,
  type ArchiveBlockEntry,
  type ArchiveReaderOptions,
} from '../src/model/archive.js';
import { Rng, randomValue, U64_EDGES } from './helpers/random.js';

const SCEN = fileURLToPath(new URL('../../test/vectors/scenarios/', import.meta.url));
const VEC = fileURLToPath(new URL('../../test/vectors/', import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), 'spork-archive-test-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

const scenarioNames = readdirSync(SCEN)
  .filter((f) => f.endsWith('.spork'))
  .map((f) => f.slice(0, -'.spork'.length))
  .sort();
const scenarioIndex: { scenarios: { name: string; blocks: number }[] } = JSON.parse(readFileSync(join(SCEN, 'index.json'), 'utf8'));
const scenarioBytes = (name: string) => new Uint8Array(readFileSync(join(SCEN, `${name}.spork`)));

interface ReadResult {
  header: RootSnapshot | null;
  blocks: ArchiveBlockEntry[];
  error: unknown;
}

async function readAll(path: string, opts?: ArchiveReaderOptions): Promise<ReadResult> {
  const out: ReadResult = { header: null, blocks: [], error: null };
  try {
    for await (const e of new ArchiveReader(path, opts)) {
      if (e.type === 'header') out.header = e.value;
      else out.blocks.push(e);
    }
  } catch (e) {
    out.error = e;
  }
  return out;
}

let tmpCount = 0;
function tmpFile(bytes: Uint8Array): string {
  const p = join(TMP, `a${tmpCount++}.spork`);
  writeFileSync(p, bytes);
  return p;
}

/** Block records of an archive file as [offset, end) ranges (via the in-memory parser). */
function recordRanges(bytes: Uint8Array): { offset: number; end: number }[] {
  return parseArchiveBytes(bytes, { decode: false }).blocks.map((b) => ({ offset: b.offset, end: b.offset + b.bytes.length }));
}

function replaceOnce(bytes: Uint8Array, find: Uint8Array, repl: Uint8Array, first = false): Uint8Array {
  const buf = Buffer.from(bytes);
  const i = buf.indexOf(Buffer.from(find));
  assert.ok(i >= 0, `marker ${hex(find)} not found`);
  if (!first) assert.equal(buf.indexOf(Buffer.from(find), i + 1), -1, `marker ${hex(find)} not unique`);
  return concat(bytes.subarray(0, i), repl, bytes.subarray(i + find.length));
}

/** A copy of a record kind with the field at `path` (through opt/list) replaced by `repl`. */
function withField(kind: Kind, path: string[], repl: Kind): Kind {
  if (path.length === 0) return repl;
  switch (kind.k) {
    case 'opt':
      return { k: 'opt', of: withField(kind.of, path, repl) };
    case 'list':
      return { k: 'list', of: withField(kind.of, path, repl) };
    case 'rec': {
      const [head, ...rest] = path;
      assert.ok(
        kind.fields.some((f) => f[0] === head),
        `no field ${head} in ${kind.name}`,
      );
      return { ...kind, fields: kind.fields.map(([n, k]) => [n, n === head ? withField(k, rest, repl) : k] as const) } as RecKind;
    }
    default:
      throw new Error(`cannot descend into ${kind.k}`);
  }
}

/** Fresh decoded copy of block record `record` (1-based) of a scenario. */
function scenarioRecord(name: string, record: number): BlockRecord {
  const b = parseArchiveBytes(scenarioBytes(name)).blocks[record - 1];
  assert.ok(b.value, `${name} record ${record} decodes`);
  return decodeRecord<BlockRecord>(b.bytes.slice(), 0, b.bytes.length, S.BlockRecord);
}

/** First record (and result/event index) of a scenario carrying an event of `type`. */
function findEvent(name: string, type: string): { rec: BlockRecord; r: number; e: number } {
  const blocks = parseArchiveBytes(scenarioBytes(name)).blocks;
  for (const b of blocks) {
    const results = b.value?.payload.results ?? [];
    for (let r = 0; r < results.length; r++) {
      const e = results[r].serviceEvents.findIndex((x) => x.type === type);
      if (e >= 0) return { rec: scenarioRecord(name, b.record), r, e };
    }
  }
  throw new Error(`no ${type} event in ${name}`);
}

function decodeErr(bytes: Uint8Array): { field: string; cause: string; claimedId: Uint8Array | null } {
  const r = decodeBlockRecordBytes(bytes);
  assert.ok(r.error, 'expected a decode error');
  assert.equal(r.value, undefined);
  return { ...r.error, claimedId: r.claimedId };
}

// ---------------------------------------------------------------------------------------------

test('7.1: every scenario archive decodes (record numbers and claimed ids match the expected reports)', async () => {
  let total = 0;
  let errors = 0;
  for (const name of scenarioNames) {
    const file = join(SCEN, `${name}.spork`);
    for (const chunkSize of [4096, 2 * 1024 * 1024]) {
      const r = await readAll(file, { chunkSize });
      assert.equal(r.error, null, `${name}: ${r.error}`);
      assert.ok(r.header);
      const idx = scenarioIndex.scenarios.find((s) => s.name === name);
      assert.ok(idx, `${name} in index.json`);
      assert.equal(r.blocks.length, idx.blocks, `${name}: block count`);
      const expected = readFileSync(join(SCEN, `${name}.expected.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((o) => o.type === 'block');
      for (const line of expected) {
        const b = r.blocks[line.record - 1];
        assert.equal(b.record, line.record);
        assert.equal(b.claimedId ? hex(b.claimedId) : null, line.id, `${name} record ${line.record}: claimed id`);
        if (line.verdict === 'decode-error') {
          assert.ok(b.error, `${name} record ${line.record}: decode error expected`);
          const want = String(line.reasons?.['decode-error'] ?? '');
          assert.ok(want.startsWith(`${b.error.field}:`), `${name} record ${line.record}: field ${b.error.field} vs reference "${want}"`);
        } else {
          assert.ok(b.value, `${name} record ${line.record}: ${b.error?.field}: ${b.error?.cause}`);
          assert.equal(b.value.header.height, line.height);
          assert.equal(b.value.finalized, line.finalized);
        }
      }
      if (chunkSize === 4096) {
        const errs = r.blocks.filter((b) => b.error);
        total += r.blocks.length;
        errors += errs.length;
        console.log(
          `${name}: ${r.blocks.length} blocks, ${errs.length} decode errors${errs.map((b) => ` [record ${b.record} @${b.offset}: ${b.error!.field}: ${b.error!.cause}]`).join('')}`,
        );
      }
    }
  }
  console.log(`scenarios: ${scenarioNames.length} archives, ${total} block records, ${errors} decode errors`);
  assert.equal(errors, 1); // fault-verdicts record 6 (protocolStateId as a str)
});

test('7.1: canonical re-encoding of every reference record and header is byte-identical', () => {
  let n = 0;
  for (const name of scenarioNames) {
    const bytes = scenarioBytes(name);
    const p = parseArchiveBytes(bytes);
    const headerEnd = p.blocks.length ? p.blocks[0].offset : bytes.length;
    assert.equal(hex(encodeArchiveHeader(p.header)), hex(bytes.subarray(0, headerEnd)), `${name}: header`);
    const rootOnly = encodeRootSnapshot(p.header);
    assert.ok(Buffer.from(bytes.subarray(0, headerEnd)).indexOf(Buffer.from(rootOnly)) > 0, `${name}: root map inside the header`);
    for (const b of p.blocks) {
      if (!b.value) continue;
      assert.equal(hex(encodeBlockRecord(b.value)), hex(b.bytes), `${name} record ${b.record}`);
      n++;
    }
  }
  console.log(`${n} records re-encoded byte for byte`);
});

test('ArchiveWriter reproduces every scenario archive byte for byte', async () => {
  for (const name of scenarioNames) {
    const bytes = scenarioBytes(name);
    const p = parseArchiveBytes(bytes);
    const out = join(TMP, `${name}.copy.spork`);
    const w = await ArchiveWriter.create(out, p.header, { flushBytes: 4096 });
    for (const b of p.blocks) {
      if (b.value) await w.writeBlock(b.value);
      else await w.writeRaw(b.bytes);
    }
    await w.close();
    assert.equal(w.records, p.blocks.length);
    assert.equal(w.bytes, bytes.length);
    assert.equal(hex(new Uint8Array(readFileSync(out))), hex(bytes), name);
  }
  // calls need not be awaited one by one
  const p = parseArchiveBytes(scenarioBytes('beacons-index'));
  const out = join(TMP, 'unawaited.spork');
  const w = await ArchiveWriter.create(out, p.header, { flushBytes: 4096 });
  const writes = p.blocks.map((b) => w.writeBlock(b.value!));
  await w.close();
  await Promise.all(writes);
  assert.equal(hex(new Uint8Array(readFileSync(out))), hex(scenarioBytes('beacons-index')));
  // a bad record is refused and leaves nothing behind
  const w2 = await ArchiveWriter.create(join(TMP, 'refused.spork'), p.header);
  await assert.rejects(w2.writeBlock({ ...p.blocks[0].value!, blockId: new Uint8Array(31) }), /32-byte id/);
  await w2.writeBlock(p.blocks[0].value!);
  await w2.close();
  assert.equal(parseArchiveBytes(new Uint8Array(readFileSync(join(TMP, 'refused.spork')))).blocks.length, 1);
});

test('9.2: a truncated archive is a framing error naming record and offset; every record before it is yielded', async () => {
  const bytes = scenarioBytes('beacons-index');
  const ranges = recordRanges(bytes);
  const cuts: { cut: number; record: number; offset: number }[] = [
    { cut: 1, record: 0, offset: 0 },
    { cut: 100, record: 0, offset: 0 },
    { cut: ranges[0].offset - 1, record: 0, offset: 0 },
  ];
  for (const k of [0, 1, 7, 25, ranges.length - 1]) {
    const { offset, end } = ranges[k];
    for (const cut of [offset + 1, offset + 2, offset + 40, Math.floor((offset + end) / 2), end - 1]) cuts.push({ cut, record: k + 1, offset });
  }
  for (const { cut, record, offset } of cuts) {
    const path = tmpFile(bytes.subarray(0, cut));
    for (const chunkSize of [4096, 1 << 20]) {
      const r = await readAll(path, { chunkSize });
      assert.ok(r.error instanceof ArchiveFramingError, `cut ${cut}: ${r.error}`);
      assert.equal(r.error.record, record, `cut ${cut}`);
      assert.equal(r.error.offset, offset, `cut ${cut}`);
      assert.ok(r.error.cause === 'truncated' || r.error.cause === 'length past end', r.error.cause);
      assert.ok(r.error.message.includes(`record ${record}`) && r.error.message.includes(`offset ${offset}`), r.error.message);
      assert.equal(r.blocks.length, Math.max(0, record - 1), `cut ${cut}: records before the error`);
      r.blocks.forEach((b, i) => {
        assert.equal(b.record, i + 1);
        assert.equal(b.offset, ranges[i].offset);
        assert.ok(b.value);
      });
      if (record > 0) assert.ok(r.header);
    }
    const p = parseArchiveBytes(bytes.subarray(0, Math.max(cut, ranges[0].offset)));
    if (record > 0) {
      assert.equal(p.framingError?.record, record);
      assert.equal(p.blocks.length, record - 1);
    }
  }
  // a cut exactly between records is a clean (shorter) archive
  const r = await readAll(tmpFile(bytes.subarray(0, ranges[9].end)), { chunkSize: 4096 });
  assert.equal(r.error, null);
  assert.equal(r.blocks.length, 10);
  // an empty file has no header
  const e = await readAll(tmpFile(new Uint8Array(0)));
  assert.ok(e.error instanceof ArchiveFramingError && e.error.record === 0);
});

test('9.2: byte 0xc1 is a framing error (between records and inside a record)', async () => {
  const bytes = scenarioBytes('upgrade-forks');
  const ranges = recordRanges(bytes);
  // spliced between records 3 and 4: the stray byte is record 4
  let spliced = concat(bytes.subarray(0, ranges[3].offset), unhex('c1'), bytes.subarray(ranges[3].offset));
  let r = await readAll(tmpFile(spliced), { chunkSize: 4096 });
  assert.ok(r.error instanceof ArchiveFramingError, String(r.error));
  assert.equal(r.error.cause, 'reserved byte 0xc1');
  assert.equal(r.error.record, 4);
  assert.equal(r.error.offset, ranges[3].offset);
  assert.equal(r.blocks.length, 3);
  // the `finalized` bool (last byte of record 6) replaced by 0xc1
  const last = ranges[5].end - 1;
  assert.ok(bytes[last] === 0xc2 || bytes[last] === 0xc3);
  spliced = bytes.slice();
  spliced[last] = 0xc1;
  r = await readAll(tmpFile(spliced));
  assert.ok(r.error instanceof ArchiveFramingError);
  assert.equal(r.error.record, 6);
  assert.equal(r.error.offset, ranges[5].offset);
  assert.equal(r.error.at, last);
  assert.equal(r.blocks.length, 5);
  // inside the header
  spliced = bytes.slice();
  spliced[0] = 0xc1;
  r = await readAll(tmpFile(spliced));
  assert.ok(r.error instanceof ArchiveFramingError && r.error.record === 0);
});

test('9.2: a declared length past the end of the file is a framing error (without reading it)', async () => {
  const bytes = scenarioBytes('upgrade-forks');
  const n = recordRanges(bytes).length;
  // a record [bin32 of ~4 GiB ...] at the end
  const r = await readAll(tmpFile(concat(bytes, unhex('94 c6 f0 00 00 00 01 02'))), { chunkSize: 4096 });
  assert.ok(r.error instanceof ArchiveFramingError, String(r.error));
  assert.equal(r.error.cause, 'length past end');
  assert.equal(r.error.record, n + 1);
  assert.equal(r.error.offset, bytes.length);
  assert.equal(r.error.at, bytes.length + 1);
  assert.equal(r.blocks.length, n);
  // an array claiming 2^32-1 elements cannot fit either: truncated
  const t = await readAll(tmpFile(concat(bytes, unhex('dd ff ff ff ff 01'))));
  assert.ok(t.error instanceof ArchiveFramingError);
  assert.equal(t.error.cause, 'truncated');
  assert.equal(t.blocks.length, n);
});

test('9.2 / 9.4: content errors are per record and name the field; the archive continues', async () => {
  const name = 'upgrade-forks';
  const base = scenarioRecord(name, 2);
  const good = encodeBlockRecord(base);
  const w = new ByteWriter();
  const enc = (v: unknown, kind: Kind) => (encodeRecord(w.reset(), v, kind), w.toBytes());

  // 33-byte id in the header (the claimed id is still known)
  const v33 = scenarioRecord(name, 2);
  (v33.header as any).parentId = new Uint8Array(33).fill(7);
  let e = decodeErr(enc(v33, withField(S.BlockRecord, ['header', 'parentId'], S.bytes)));
  assert.equal(e.field, 'header.parentId');
  assert.equal(e.cause, 'expected a 32-byte id (bin), got bin of 33 bytes');
  assert.equal(hex(e.claimedId!), hex(base.blockId));

  // nested: header.lastViewTC.newestQC.blockId
  const vtc = scenarioRecord(name, 2);
  vtc.header.lastViewTC = {
    view: 9,
    newestQCViews: [7, 8],
    newestQC: { view: 8, blockId: new Uint8Array(31), signerIndices: new Uint8Array(1), sigData: new Uint8Array(2) },
    signerIndices: new Uint8Array(0),
    sigData: new Uint8Array(3),
  };
  e = decodeErr(enc(vtc, withField(S.BlockRecord, ['header', 'lastViewTC', 'newestQC', 'blockId'], S.bytes)));
  assert.equal(e.field, 'header.lastViewTC.newestQC.blockId');
  assert.match(e.cause, /got bin of 31 bytes/);

  // claimed id not a 32-byte bin, record not an array: claimedId null (SPEC 9.4)
  const vid = scenarioRecord(name, 2);
  (vid as any).blockId = new Uint8Array(33);
  e = decodeErr(enc(vid, withField(S.BlockRecord, ['blockId'], S.bytes)));
  assert.equal(e.field, 'blockId');
  assert.equal(e.claimedId, null);
  (vid as any).blockId = 'not an id';
  e = decodeErr(enc(vid, withField(S.BlockRecord, ['blockId'], S.str)));
  assert.equal(e.field, 'blockId');
  assert.match(e.cause, /got str of 9 bytes/);
  assert.equal(e.claimedId, null);
  for (const notArray of ['05', '81 a1 61 01', 'c0', 'a3 616263', '90']) {
    e = decodeErr(unhex(notArray));
    assert.equal(e.claimedId, null, notArray);
    assert.equal(e.field, '');
  }

  // ZERO protocolStateId
  const vz = scenarioRecord(name, 2);
  vz.payload.protocolStateId = new Uint8Array(32);
  const zero = encodeBlockRecord(vz);
  e = decodeErr(zero);
  assert.equal(e.field, 'payload.protocolStateId');
  assert.match(e.cause, /ZERO/);

  // a float, a negative integer, an ext type, a wrong type where a u64 is expected
  const vm = scenarioRecord(name, 2);
  vm.header.height = 0xdeadbeef12;
  vm.header.view = 0xabcdef;
  const marked = encodeBlockRecord(vm);
  const heightBytes = unhex('cf 00 00 00 de ad be ef 12');
  const f64 = new Uint8Array(9);
  f64[0] = 0xcb;
  new DataView(f64.buffer).setFloat64(1, 12.5);
  e = decodeErr(replaceOnce(marked, heightBytes, f64));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got float64']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('ca 41480000')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got float32']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('d0 ff')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got integer -1']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('f0')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got negative integer -16']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('d3 ff ff ff ff ff ff ff fe')));
  assert.equal(e.field, 'header.height');
  assert.match(e.cause, /integer -2/);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('d6 05 00000000')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got ext type 5']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('c7 03 ff 010203')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got ext type -1']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('c3')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got true']);
  e = decodeErr(replaceOnce(marked, heightBytes, unhex('a1 35')));
  assert.deepEqual([e.field, e.cause], ['header.height', 'expected an unsigned integer, got str of 1 bytes']);
  // non-minimal and signed non-negative encodings are accepted (SPEC 9.2)
  for (const alt of [
    'cf 00 00 00 00 00 00 00 05',
    'ce 00 00 00 05',
    'cd 00 05',
    'cc 05',
    'd0 05',
    'd1 00 05',
    'd2 00 00 00 05',
    'd3 00 00 00 00 00 00 00 05',
  ]) {
    const r = decodeBlockRecordBytes(replaceOnce(marked, heightBytes, unhex(alt)));
    assert.ok(r.value, alt);
    assert.equal(r.value.header.height, 5, alt);
  }
  const big = decodeBlockRecordBytes(replaceOnce(marked, heightBytes, unhex('d3 7f ff ff ff ff ff ff ff')));
  assert.equal(big.value?.header.height, 2n ** 63n - 1n);
  // a non-minimal bin header for an id is accepted too
  const nonMinId = replaceOnce(good, concat(unhex('c4 20'), base.header.parentId), concat(unhex('c5 00 20'), base.header.parentId), true);
  assert.ok(decodeBlockRecordBytes(nonMinId).value);

  // invalid UTF-8 (bad continuation, overlong, surrogate, truncated sequence)
  const chain = new TextEncoder().encode(base.header.chainId);
  const chainStr = concat(new Uint8Array([0xa0 | chain.length]), chain);
  for (const bad of ['a2 c3 28', 'a2 c0 af', 'a3 ed a0 80', 'a1 e2', 'a4 f8 88 80 80', 'a1 ff']) {
    e = decodeErr(replaceOnce(good, chainStr, unhex(bad), true));
    assert.equal(e.field, 'header.chainId', bad);
    assert.match(e.cause, /invalid UTF-8/, bad);
  }
  // valid multi-byte UTF-8 and a leading BOM are kept exactly
  for (const s of ['flow-é-中-😀', '\ufeffflow']) {
    const v = scenarioRecord(name, 2);
    v.header.chainId = s;
    const r = decodeBlockRecordBytes(encodeBlockRecord(v));
    assert.equal(r.value?.header.chainId, s);
  }

  // wrong types and wrong arity
  const vb = scenarioRecord(name, 2);
  (vb as any).finalized = 1;
  e = decodeErr(enc(vb, withField(S.BlockRecord, ['finalized'], S.u64)));
  assert.deepEqual([e.field, e.cause], ['finalized', 'expected bool, got integer 1']);
  const extra: RecKind = { ...S.Header, fields: [...S.Header.fields, ['extra', S.u64]] };
  const va = scenarioRecord(name, 2);
  (va.header as any).extra = 1;
  e = decodeErr(enc(va, withField(S.BlockRecord, ['header'], extra)));
  assert.equal(e.field, 'header');
  assert.equal(e.cause, 'wrong arity: Header has 12 fields, got array of 13');
  e = decodeErr(unhex('93 c4 20' + '11'.repeat(32) + '90 90'));
  assert.equal(e.field, '');
  assert.match(e.cause, /wrong arity: BlockRecord has 4 fields, got array of 3/);

  // uint16 out of range for serviceEventCount
  const vc = scenarioRecord(name, 2);
  const withChunk = vc.payload.results.findIndex((r) => r.chunks.length > 0);
  assert.ok(withChunk >= 0);
  (vc.payload.results[withChunk].chunks[0] as any).serviceEventCount = 70000;
  const wideChunk = withField(S.BlockRecord, ['payload', 'results', 'chunks', 'serviceEventCount'], S.u64);
  e = decodeErr(enc(vc, wideChunk));
  assert.equal(e.field, `payload.results[${withChunk}].chunks[0].serviceEventCount`);
  assert.equal(e.cause, 'value 70000 out of range for uint16 (0..65535)');
  vc.payload.results[withChunk].chunks[0].serviceEventCount = 65535;
  assert.equal(decodeBlockRecordBytes(enc(vc, wideChunk)).value?.payload.results[withChunk].chunks[0].serviceEventCount, 65535);
  (vc.payload.results[withChunk].chunks[0] as any).serviceEventCount = 2n ** 64n - 1n;
  e = decodeErr(enc(vc, wideChunk));
  assert.match(e.cause, /18446744073709551615 out of range for uint16/);

  // all of them in one archive: each record reports its own error, the others decode
  const bads = [zero, replaceOnce(marked, heightBytes, f64), replaceOnce(good, chainStr, unhex('a2 c3 28'), true)];
  const root = parseArchiveBytes(scenarioBytes(name)).header;
  const path = join(TMP, 'mixed.spork');
  const aw = await ArchiveWriter.create(path, root);
  await aw.writeRaw(good);
  for (const b of bads) await aw.writeRaw(b);
  await aw.writeRaw(good);
  await aw.close();
  const rr = await readAll(path, { chunkSize: 4096 });
  assert.equal(rr.error, null);
  assert.deepEqual(
    rr.blocks.map((b) => b.error?.field ?? 'ok'),
    ['ok', 'payload.protocolStateId', 'header.height', 'header.chainId', 'ok'],
  );
  assert.ok(rr.blocks.every((b) => b.claimedId && hex(b.claimedId) === hex(base.blockId)));
  assert.deepEqual(
    rr.blocks.map((b) => b.record),
    [1, 2, 3, 4, 5],
  );
});

test('2.3 / 9.2: DKG index maps must be permutations (also inside a recover); node ids distinct', () => {
  const { rec, r, e } = findEvent('epoch-lifecycle-same-block', 'commit');
  const at = `payload.results[${r}].serviceEvents[${e}].event`;
  const commit = rec.payload.results[r].serviceEvents[e].event as any;
  const n = commit.dkgParticipantKeys.length;
  assert.ok(n >= 2, 'a commit with at least two DKG participants');
  assert.ok(decodeBlockRecordBytes(encodeBlockRecord(rec)).value);
  const orig = commit.dkgIndexMap.map((p: any) => [p[0], p[1]]);
  const check = (mutate: (m: any[]) => any[], field: string, cause: RegExp) => {
    commit.dkgIndexMap = mutate(orig.map((p: any) => [p[0], p[1]]));
    const err = decodeErr(encodeBlockRecord(rec));
    assert.equal(err.field, `${at}.${field}`);
    assert.match(err.cause, cause);
  };
  check((m) => ((m[0][1] = m[1][1]), m), 'dkgIndexMap[1]', /repeated/);
  check((m) => ((m[0][1] = n), m), 'dkgIndexMap[0]', /out of range/);
  check((m) => m.slice(1), 'dkgIndexMap', /not a permutation/);
  check((m) => [...m, [new Uint8Array(32).fill(9), n]], 'dkgIndexMap', /not a permutation/);
  check((m) => ((m[1][0] = m[0][0]), m), 'dkgIndexMap[1]', /node id .* repeated/);
  check((m) => ((m[0][1] = 2 ** 40), m), 'dkgIndexMap[0]', /out of range/);
  // any order of a permutation is fine
  commit.dkgIndexMap = orig.slice().reverse();
  assert.ok(decodeBlockRecordBytes(encodeBlockRecord(rec)).value);

  const rv = findEvent('recover-on-happy-path', 'recover');
  const recover = rv.rec.payload.results[rv.r].serviceEvents[rv.e].event as any;
  assert.ok(decodeBlockRecordBytes(encodeBlockRecord(rv.rec)).value);
  recover.commit.dkgIndexMap = recover.commit.dkgIndexMap.slice(1);
  const err = decodeErr(encodeBlockRecord(rv.rec));
  assert.equal(err.field, `payload.results[${rv.r}].serviceEvents[${rv.e}].event.commit.dkgIndexMap`);
});

test('9.2: repeated metering keys, uint32 keys, uint8 role; 9.3 role 9 and a short randomSource decode', () => {
  const { rec, r, e } = findEvent('v3-component-versions', 'set-execution-metering-parameters');
  const at = `payload.results[${r}].serviceEvents[${e}].event.params`;
  const ev = rec.payload.results[r].serviceEvents[e].event as any;
  ev.params.effortWeights = [
    [1, 2],
    [3, 4],
    [1, 5],
  ];
  let err = decodeErr(encodeBlockRecord(rec));
  assert.deepEqual([err.field, err.cause], [`${at}.effortWeights[2]`, 'repeated weight key 1']);
  ev.params.effortWeights = [[1, 2]];
  ev.params.memoryWeights = [
    [0, 0],
    [0, 0],
  ];
  err = decodeErr(encodeBlockRecord(rec));
  assert.equal(err.field, `${at}.memoryWeights[1]`);
  ev.params.memoryWeights = [[0xffffffff, 2n ** 64n - 1n]];
  const ok = decodeBlockRecordBytes(encodeBlockRecord(rec));
  assert.deepEqual((ok.value!.payload.results[r].serviceEvents[e].event as any).params.memoryWeights, [[0xffffffff, 2n ** 64n - 1n]]);
  ev.params.memoryWeights = [[2 ** 32, 1]];
  const wide = withField(S.SetMeteringParameters, ['params', 'memoryWeights'], S.list(S.pair(S.u64, S.u64)));
  const w = new ByteWriter();
  encodeRecord(w, ev, wide);
  assert.throws(
    () => decodeRecord(w.toBytes(), 0, w.pos, S.SetMeteringParameters),
    (x: unknown) => x instanceof DecodeError && x.field === 'params.memoryWeights[0][0]' && /out of range for uint32/.test(x.cause),
  );

  const s = findEvent('epoch-lifecycle-same-block', 'setup');
  const setup = s.rec.payload.results[s.r].serviceEvents[s.e].event as any;
  setup.participants[0].role = 9;
  setup.randomSource = new Uint8Array(5);
  const dec = decodeBlockRecordBytes(encodeBlockRecord(s.rec));
  assert.ok(dec.value, 'not well-formed but decodable (SPEC 9.3)');
  (setup.participants[0] as any).role = 256;
  assert.throws(() => encodeBlockRecord(s.rec), /uint8/); // the encoder refuses out-of-range values
  const w2 = new ByteWriter();
  encodeRecord(w2, setup.participants[0], withField(S.Participant, ['role'], S.u64));
  assert.throws(
    () => decodeRecord(w2.toBytes(), 0, w2.pos, S.Participant),
    (x: unknown) => x instanceof DecodeError && x.field === 'role' && x.cause === 'value 256 out of range for uint8 (0..255)',
  );
});

test('9.6: unknown service events get a generic body; maps, floats and negative integers in it are errors', () => {
  const base = scenarioRecord('upgrade-forks', 2);
  const ri = base.payload.results.findIndex(() => true);
  assert.ok(ri >= 0);
  const body = [1, 'two', new Uint8Array([3]), true, false, null, [2n ** 64n - 1n, [[]]], 2 ** 40];
  base.payload.results[ri].serviceEvents = [{ type: 'future-thing', event: body as any, unknown: true }];
  const bytes = encodeBlockRecord(base);
  const r = decodeBlockRecordBytes(bytes);
  assert.ok(r.value);
  assert.deepEqual(r.value.payload.results[ri].serviceEvents[0], { type: 'future-thing', event: body, unknown: true });
  assert.equal(hex(encodeBlockRecord(r.value)), hex(bytes));
  // generic bodies: a map, a float, a negative integer, an ext (spliced in for the `true`)
  const at = `payload.results[${ri}].serviceEvents[0].event`;
  for (const [bad, field] of [
    ['81 a1 61 01', `${at}[3]`],
    ['cb 3ff0000000000000', `${at}[3]`],
    ['ff', `${at}[3]`],
    ['d4 01 00', `${at}[3]`],
  ] as const) {
    const mutated = replaceOnce(bytes, unhex('a3 74776f c4 01 03 c3 c2'), concat(unhex('a3 74776f c4 01 03'), unhex(bad), unhex('c2')));
    const e = decodeErr(mutated);
    assert.equal(e.field, field, bad);
    assert.match(e.cause, /not allowed \(SPEC 9\.6\)/);
  }
  // the body as a whole may be a scalar too; the type must be a str
  base.payload.results[ri].serviceEvents = [{ type: 'x', event: 5 as any, unknown: true }];
  assert.equal(decodeBlockRecordBytes(encodeBlockRecord(base)).value?.payload.results[ri].serviceEvents[0].event, 5);
  const typeless = replaceOnce(encodeBlockRecord(base), unhex('92 a1 78 05'), unhex('92 01 05'));
  assert.equal(decodeErr(typeless).field, `payload.results[${ri}].serviceEvents[0].type`);
  // a known type with a malformed body names the body field
  base.payload.results[ri].serviceEvents = [{ type: 'set-epoch-extension-view-count', event: { value: 0xfedcba } }];
  const known = replaceOnce(encodeBlockRecord(base), unhex('91 ce 00 fe dc ba'), unhex('91 c2'));
  assert.equal(decodeErr(known).field, `payload.results[${ri}].serviceEvents[0].event.value`);
});

test('9.2: duplicate and unknown map keys; the archive header checks (a bad header is fatal)', async () => {
  const root = parseArchiveBytes(scenarioBytes('upgrade-forks')).header;
  const w = new ByteWriter();
  // params map with a duplicate key
  const params = root.params;
  w.mapHeader(5);
  for (const [k, kind] of S.SporkParams.fields) {
    w.str(k);
    encodeRecord(w, (params as any)[k], kind);
  }
  w.str('chainId');
  w.str('other');
  assert.throws(
    () => decodeRecord(w.toBytes(), 0, w.pos, S.SporkParams),
    (x: unknown) => x instanceof DecodeError && /duplicate map key "chainId"/.test(x.cause),
  );
  // unknown key, missing key, non-str key
  const mapOf = (entries: [string | number, (w: ByteWriter) => void][]) => {
    w.reset();
    w.mapHeader(entries.length);
    for (const [k, f] of entries) {
      if (typeof k === 'number') w.uint(k);
      else w.str(k);
      f(w);
    }
    return w.toBytes();
  };
  const hdr = (format: string, version: number, extra?: [string | number, (w: ByteWriter) => void]) => {
    const entries: [string | number, (w: ByteWriter) => void][] = [
      ['format', (x) => x.str(format)],
      ['version', (x) => x.uint(version)],
      ['root', (x) => encodeRecord(x, root, S.RootSnapshot)],
    ];
    if (extra) entries.push(extra);
    return mapOf(entries);
  };
  assert.deepEqual(decodeArchiveHeaderBytes(hdr('spork-archive', 1)).params, root.params);
  const headerErr = (b: Uint8Array, re: RegExp) =>
    assert.throws(
      () => decodeArchiveHeaderBytes(b),
      (x: unknown) => x instanceof ArchiveHeaderError && re.test(x.message),
    );
  headerErr(hdr('spork-archive', 2), /unsupported archive version 2/);
  headerErr(hdr('spork-archiv', 1), /format/);
  headerErr(hdr('spork-archive', 1, ['version', (x) => x.uint(1)]), /duplicate map key "version"/);
  headerErr(hdr('spork-archive', 1, ['comment', (x) => x.str('hi')]), /unknown key "comment"/);
  headerErr(hdr('spork-archive', 1, [7, (x) => x.nil()]), /map key/);
  headerErr(
    mapOf([
      ['format', (x) => x.str('spork-archive')],
      ['version', (x) => x.uint(1)],
    ]),
    /missing key "root"/,
  );
  headerErr(unhex('93 01 02 03'), /ArchiveHeader \(map\)/);
  headerErr(concat(hdr('spork-archive', 1), unhex('00')), /trailing/);
  // the reader: a bad header throws before any block
  const file = tmpFile(concat(hdr('spork-archive', 2), encodeBlockRecord(scenarioRecord('upgrade-forks', 1))));
  const r = await readAll(file);
  assert.ok(r.error instanceof ArchiveHeaderError);
  assert.equal(r.header, null);
  assert.equal(r.blocks.length, 0);
  await assert.rejects(new ArchiveReader(file).readHeader(), ArchiveHeaderError);
  // optional epochEvents keys may be absent (read as null) and are written back as nil
  const ee: any = { ...root.epochEvents };
  const entries = S.EpochEvents.fields
    .filter(([k]) => ee[k] !== null)
    .map(([k, kind]) => [k, (x: ByteWriter) => encodeRecord(x, ee[k], kind)] as [string, (w: ByteWriter) => void]);
  const sparse = mapOf(entries);
  const dec = decodeRecord(sparse, 0, sparse.length, S.EpochEvents);
  assert.deepEqual(dec, root.epochEvents);
  assert.equal(hex(encodeToBytes(dec, S.EpochEvents)), hex(encodeToBytes(root.epochEvents, S.EpochEvents)));
});

test('reader API: header then blocks; blocks() and batches(); decode off; copies; decodeBlockRecordBytes on stored bytes', async () => {
  const file = join(SCEN, 'beacons-index.spork');
  const reader = new ArchiveReader(file, { chunkSize: 8192 });
  const root = await reader.readHeader();
  assert.equal(root.rootBlock.header.chainId, root.params.chainId);
  let n = 0;
  let batches = 0;
  for await (const batch of reader.batches()) {
    batches++;
    for (const b of batch) {
      n++;
      assert.equal(b.record, n);
      // stored bytes decode the same way off the main path
      const again = decodeBlockRecordBytes(b.bytes.slice());
      assert.deepEqual(again.value, b.value);
    }
  }
  assert.equal(n, 50);
  assert.ok(batches > 1);
  await assert.rejects(async () => {
    for await (const _ of reader.blocks()) void _;
  }, /only once/);
  const raw = await readAll(file, { decode: false, copy: true });
  assert.equal(raw.blocks.length, 50);
  assert.ok(raw.blocks.every((b) => b.value === undefined && b.error === undefined && b.claimedId?.length === 32));
  assert.ok(raw.blocks.every((b) => b.bytes.byteOffset === 0 && b.bytes.buffer.byteLength === b.bytes.length));
  // decoded values are plain Uint8Array views, never Buffers
  const first = (await readAll(file)).blocks[0].value!;
  assert.equal(Object.getPrototypeOf(first.blockId), Uint8Array.prototype);
  // early exit closes the file
  const r2 = new ArchiveReader(file);
  for await (const e of r2) if (e.type === 'block') break;
  // trailing garbage after one record in stored bytes
  const one = encodeBlockRecord(first);
  const bad = decodeBlockRecordBytes(concat(one, unhex('00')));
  assert.equal(bad.error?.cause, '1 trailing bytes after the record');
  assert.equal(hex(bad.claimedId!), hex(first.blockId));
  assert.match(decodeBlockRecordBytes(one.subarray(0, 50)).error!.cause, /not one complete MessagePack value/);
});

test('reader resume: position after the header, resumeAt a record boundary continues numbering and offsets', async () => {
  const file = join(SCEN, 'beacons-index.spork');
  const all = (await readAll(file)).blocks;
  const r = new ArchiveReader(file, { chunkSize: 4096 });
  await r.readHeaderEntry();
  assert.equal(r.position, all[0].offset);
  const k = 17;
  r.resumeAt(all[k - 1].offset + all[k - 1].bytes.length, k + 1);
  const rest: ArchiveBlockEntry[] = [];
  for await (const b of r.blocks()) rest.push(b);
  assert.equal(rest.length, all.length - k);
  rest.forEach((b, i) => {
    const want = all[k + i];
    assert.equal(b.record, want.record);
    assert.equal(b.offset, want.offset);
    assert.equal(hex(b.bytes), hex(want.bytes));
    assert.deepEqual(b.value, want.value);
  });
  const late = new ArchiveReader(file);
  await late.readHeaderEntry();
  assert.throws(() => late.resumeAt(5, 1), RangeError);
  await late.close();
});

// ---------------------------------------------------------------------------------------------
// JSON vectors through the archive codec

const JSON_KINDS: Record<string, Kind> = {
  qc: S.QC,
  tc: S.TimeoutCertificate,
  header: S.Header,
  guarantee: S.Guarantee,
  seal: S.Seal,
  receiptStub: S.ReceiptStub,
  chunk: S.Chunk,
  result: S.Result,
  serviceEvent: S.event,
  setup: S.EpochSetup,
  commit: S.EpochCommit,
  recover: S.EpochRecover,
  kvStore: S.KVStore,
  epochState: S.EpochState,
};

test('vectors: every ids.json / blocks.json value survives JSON -> model -> archive bytes -> model -> JSON', () => {
  const ids = JSON.parse(readFileSync(join(VEC, 'ids.json'), 'utf8'));
  for (const v of ids.vectors) {
    const kind = JSON_KINDS[v.type];
    assert.ok(kind, v.type);
    const m = fromJson(v.value, kind);
    const bytes = encodeToBytes(m, kind);
    const back = decodeRecord(bytes, 0, bytes.length, kind);
    assert.deepEqual(back, m, v.name);
    assert.deepEqual(toJson(back, kind), v.value, v.name);
  }
  const blocks = JSON.parse(readFileSync(join(VEC, 'blocks.json'), 'utf8'));
  for (const v of blocks.vectors) {
    const rec = fromJson({ blockId: v.blockId, header: v.header, payload: v.payload, finalized: true }, S.BlockRecord);
    const bytes = encodeBlockRecord(rec);
    const r = decodeBlockRecordBytes(bytes);
    assert.ok(r.value, `${v.name}: ${r.error?.field}: ${r.error?.cause}`);
    assert.deepEqual(r.value, rec);
    assert.equal(hex(r.claimedId!), v.blockId);
  }
});

// ---------------------------------------------------------------------------------------------
// property test

const ALL_KINDS: [string, Kind][] = [
  ...(Object.entries(S).filter(([, v]) => v && typeof v === 'object' && 'k' in v && (v.k === 'rec' || v.k === 'map')) as [string, Kind][]),
  ['event', S.event],
  ['generic', S.generic],
  ['list(event)', S.list(S.event)],
  ['opt(TimeoutCertificate)', S.opt(S.TimeoutCertificate)],
];

test('property: seeded random values of every schema kind round-trip exactly with stable canonical bytes', () => {
  const seed = Number(process.env.SPORK_SEED ?? 20240607);
  const rng = new Rng(seed);
  let total = 0;
  let bytes = 0;
  for (const [name, kind] of ALL_KINDS) {
    const iterations = ['ArchiveHeader', 'RootSnapshot', 'Block', 'BlockRecord', 'Payload', 'Result'].includes(name) ? 30 : 120;
    for (let i = 0; i < iterations; i++) {
      const v = randomValue(kind, rng);
      const enc = encodeToBytes(v, kind);
      let dec: unknown;
      try {
        dec = decodeRecord(Buffer.from(enc), 0, enc.length, kind);
      } catch (e) {
        assert.fail(`${name} #${i} (seed ${seed}): ${(e as Error).message}`);
      }
      assert.deepStrictEqual(dec, v, `${name} #${i} (seed ${seed})`);
      const again = encodeToBytes(dec, kind);
      assert.equal(hex(again), hex(enc), `${name} #${i}: canonical bytes stable`);
      // and through JSON
      const json = JSON.parse(JSON.stringify(toJson(v, kind)));
      assert.deepStrictEqual(fromJson(json, kind), jsonView(v, kind), `${name} #${i}: JSON`);
      total++;
      bytes += enc.length;
    }
  }
  console.log(`property: ${total} random values of ${ALL_KINDS.length} kinds, ${bytes} bytes, seed ${seed}`);
});

/** What a JSON round trip gives: JSON cannot tell a generic bin from a str (a bin comes back as its hex). */
function jsonView(v: any, kind: Kind): any {
  switch (kind.k) {
    case 'opt':
      return v === null ? null : jsonView(v, kind.of);
    case 'list':
      return v.map((x: any) => jsonView(x, kind.of));
    case 'pair':
      return [jsonView(v[0], kind.a), jsonView(v[1], kind.b)];
    case 'rec':
    case 'map': {
      const o: any = {};
      for (const [n, k] of kind.fields) if (v[n] !== undefined) o[n] = jsonView(v[n], k);
      return o;
    }
    case 'event':
      return v.unknown ? { ...v, event: genericView(v.event) } : { type: v.type, event: jsonView(v.event, S.EVENT_BODIES[v.type]) };
    case 'generic':
      return genericView(v);
    default:
      return v;
  }
}

function genericView(v: any): any {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === 'bigint') return v.toString(); // a decimal string, read back as a str
  if (Array.isArray(v)) return v.map(genericView);
  return v;
}

test('property: u64 boundary values (2^32, 2^53, 2^64-1) encode in the shortest form and decode normalised', () => {
  for (const v of U64_EDGES) {
    const b = encodeToBytes(v, S.u64);
    const want = v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v < 2 ** 32 ? 5 : 9;
    assert.equal(b.length, want, String(v));
    const d = decodeRecord(b, 0, b.length, S.u64);
    assert.equal(d, v);
    assert.equal(typeof d, v <= Number.MAX_SAFE_INTEGER ? 'number' : 'bigint');
  }
  assert.throws(() => encodeToBytes(2n ** 64n, S.u64));
  assert.throws(() => encodeToBytes(2 ** 53, S.u64)); // unsafe numbers must be bigints
  assert.throws(() => encodeToBytes(-1, S.u64));
  assert.throws(() => encodeToBytes(1.5, S.u64));
});
