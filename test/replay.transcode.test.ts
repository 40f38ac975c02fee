// The transcoding integrity kernel (src/replay/transcode.ts) against the model path: for every
// record, transcodeFacts is either null (the caller falls back) or deep-equal to
// blockFacts(decodeStoredRecord(bytes)), and it is null exactly where it must not guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { encodeBlockRecord, parseArchiveBytes } from '../src/model/archive.js';
import { encodeToBytes } from '../src/model/codec.js';
import { ByteWriter, scanValue } from '../src/model/msgpack.js';
import { decodeStoredRecord } from '../src/model/record.js';
import * as S from '../src/model/schema.js';
import type { BlockFacts } from '../src/replay/facts.js';
import { blockFacts } from '../src/replay/facts.js';
import { transcodeFacts } from '../src/replay/transcode.js';
import { utf8Valid } from '../src/replay/transcode-core.js';
import { synthesize } from '../src/synth/index.js';
import { Rng } from './helpers/random.js';
import { vectorPath } from './helpers/vectors.js';

/** Byte arrays as plain Uint8Array (the model's ids over 1 KiB of preimage come back as Buffers). */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = norm((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

interface Outcome {
  model: BlockFacts;
  fast: BlockFacts | null;
}

/** Both paths on one record; asserts the transcoded facts equal the model's whenever present. */
function compare(bytes: Uint8Array, record: number, what: string): Outcome {
  const model = blockFacts(record, decodeStoredRecord(bytes));
  const fast = transcodeFacts(record, bytes);
  if (fast !== null) assert.deepStrictEqual(norm(fast), norm(model), `${what}: transcoded facts differ from the model path`);
  return { model, fast };
}

interface Tally {
  valid: number;
  transcoded: number;
  idMismatches: number;
  payloadMismatches: number;
  withEvents: number;
  withTC: number;
}

function tally(records: readonly Uint8Array[], what: string): Tally {
  const t: Tally = { valid: 0, transcoded: 0, idMismatches: 0, payloadMismatches: 0, withEvents: 0, withTC: 0 };
  records.forEach((bytes, i) => {
    const { model, fast } = compare(bytes, i + 1, `${what} record ${i + 1}`);
    if (model.decodeError === null) t.valid++;
    if (fast === null) return;
    t.transcoded++;
    if (fast.idMismatch !== null) t.idMismatches++;
    if (fast.payloadMismatch !== null) t.payloadMismatches++;
    if (fast.results.some((r) => r.events.length > 0)) t.withEvents++;
    if (fast.header?.tc) t.withTC++;
  });
  return t;
}

let synthRecords: Promise<Uint8Array[]> | null = null;

/** The synth spork with every fault kind, as stored bytes (raw bytes where the fault has them). */
function faultySpork(): Promise<Uint8Array[]> {
  synthRecords ??= (async () => {
    const out: Uint8Array[] = [];
    await synthesize(
      { blocks: 3000, seed: 7, faults: 'all' },
      {
        root: () => undefined,
        block: (rec, info) => {
          out.push(info.raw ?? encodeBlockRecord(rec));
        },
      },
    );
    return out;
  })();
  return synthRecords;
}

test('SPEC 8: every record of every scenario archive transcodes to the model facts', () => {
  const dir = vectorPath('scenarios');
  const archives = readdirSync(dir).filter((f) => f.endsWith('.spork'));
  assert.ok(archives.length >= 10, `scenario archives found: ${archives.length}`);
  let records = 0;
  let events = 0;
  for (const name of archives) {
    const { blocks } = parseArchiveBytes(readFileSync(`${dir}/${name}`), { decode: false });
    const t = tally(
      blocks.map((b) => b.bytes),
      name,
    );
    assert.equal(t.transcoded, t.valid, `${name}: every record the model decodes is transcoded`);
    records += blocks.length;
    events += t.withEvents;
  }
  assert.ok(events > 0, 'the scenarios carry service events');
  console.log(`scenario archives: ${archives.length}, ${records} records, ${events} with service events`);
});

test('SPEC 6, 2.2: synth spork with every fault kind: null or the model facts, >= 99% of valid blocks transcoded', async () => {
  const records = await faultySpork();
  const t = tally(records, 'synth');
  assert.ok(records.length > 3000, `records: ${records.length}`);
  assert.ok(t.valid < records.length, 'the decode-error fault is present');
  assert.ok(t.transcoded >= 0.99 * t.valid, `transcoded ${t.transcoded} of ${t.valid} valid records`);
  assert.ok(t.idMismatches >= 1, 'an id-mismatch fault is transcoded (same reason text)');
  assert.ok(t.payloadMismatches >= 1, 'a payload-mismatch fault is transcoded (same reason text)');
  assert.ok(t.withEvents >= 5 && t.withTC >= 5, `records with events ${t.withEvents}, with a TC ${t.withTC}`);
  console.log(`synth: ${records.length} records, ${t.valid} valid, ${t.transcoded} transcoded`);
});

// ---------------------------------------------------------------- hand-mutated records

/** A MessagePack value as a tree: arrays are node lists, everything else its raw bytes. */
type Node = Node[] | Uint8Array;

function parse(b: Uint8Array, p: number): [Node, number] {
  const x = b[p];
  let n = -1;
  let h = 0;
  if ((x & 0xf0) === 0x90) [n, h] = [x & 15, 1];
  else if (x === 0xdc) [n, h] = [(b[p + 1] << 8) | b[p + 2], 3];
  if (n < 0) {
    const e = scanValue(b, p, b.length);
    assert.ok(e > p);
    return [b.slice(p, e), e];
  }
  const items: Node[] = [];
  let q = p + h;
  for (let i = 0; i < n; i++) {
    const [item, next] = parse(b, q);
    items.push(item);
    q = next;
  }
  return [items, q];
}

function write(n: Node, w: ByteWriter): void {
  if (n instanceof Uint8Array) return w.raw(n);
  w.arrayHeader(n.length);
  for (const item of n) write(item, w);
}

function serialize(n: Node): Uint8Array {
  const w = new ByteWriter();
  write(n, w);
  return w.toBytes();
}

function clone(n: Node): Node {
  return n instanceof Uint8Array ? n : n.map(clone);
}

function at(n: Node, path: readonly number[]): Node {
  for (const i of path) n = (n as Node[])[i];
  return n;
}

/** A copy of `tree` with the node at `path` replaced by `f(old)`. */
function edit(tree: Node, path: readonly number[], f: (old: Node) => Node): Node {
  const copy = clone(tree);
  const parent = at(copy, path.slice(0, -1)) as Node[];
  parent[path[path.length - 1]] = f(parent[path[path.length - 1]]);
  return copy;
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

function leaf(writeTo: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  writeTo(w);
  return w.toBytes();
}

const uint = (v: number | bigint) => leaf((w) => w.uint(v));
const bin = (b: Uint8Array) => leaf((w) => w.bin(b));
const str = (s: string) => leaf((w) => w.str(s));
const id32 = (fill: number) => bin(new Uint8Array(32).fill(fill));

function flipLast(n: Node): Node {
  const b = (n as Uint8Array).slice();
  b[b.length - 1] ^= 1;
  return b;
}

type Expect = 'null' | 'facts';

interface Mutation {
  name: string;
  path: number[];
  to: (old: Node) => Node;
  /** Does the model decode the mutated record? */
  model: 'ok' | 'error';
  expect: Expect;
}

// record = [blockId, header, payload, finalized]; header fields 0..11 (SPEC 7.1 order);
// payload = [guarantees, seals, receipts, results, protocolStateId].
const H = (i: number) => [1, i];
const G0 = (i: number) => [2, 0, 0, i];
const CHUNK0 = (i: number) => [2, 3, 0, 2, 0, i];
const EVENTS0 = [2, 3, 0, 3];

function commitEvent(indices: number[]): Uint8Array {
  const keys = indices.map((_, i) => new Uint8Array(48).fill(i + 1));
  return encodeToBytes(
    {
      type: 'commit',
      event: {
        counter: 121,
        clusterQCs: [{ sigData: new Uint8Array(48).fill(9), voterIds: [new Uint8Array(32).fill(3)] }],
        dkgGroupKey: new Uint8Array(96).fill(7),
        dkgParticipantKeys: keys,
        dkgIndexMap: indices.map((ix, i) => [new Uint8Array(32).fill(0x40 + i), ix]),
      },
    },
    S.event,
  );
}

const MUTATIONS: Mutation[] = [
  {
    name: 'height as uint 64 holding a 32-bit value (non-canonical)',
    path: H(2),
    to: (o) => cat(bytes(0xcf, 0, 0, 0, 0), (o as Uint8Array).subarray(1)),
    model: 'ok',
    expect: 'null',
  },
  { name: 'collectionIndex as int 8 (signed form)', path: CHUNK0(0), to: () => bytes(0xd0, 3), model: 'ok', expect: 'null' },
  { name: 'serviceEventCount 0 as uint 8 (non-canonical)', path: CHUNK0(3), to: () => bytes(0xcc, 0), model: 'ok', expect: 'null' },
  { name: 'timestamp as float 64', path: H(3), to: () => bytes(0xcb, 0x42, 0x79, 0, 0, 0, 0, 0, 0), model: 'error', expect: 'null' },
  { name: 'view as a negative fixint', path: H(4), to: () => bytes(0xff), model: 'error', expect: 'null' },
  { name: 'parentId of 31 bytes', path: H(1), to: () => bin(new Uint8Array(31).fill(5)), model: 'error', expect: 'null' },
  { name: 'seal blockId of 33 bytes', path: [2, 1, 0, 0], to: () => bin(new Uint8Array(33).fill(5)), model: 'error', expect: 'null' },
  {
    name: 'parentId in a bin 16 header (non-canonical)',
    path: H(1),
    to: (o) => cat(bytes(0xc5, 0, 32), (o as Uint8Array).subarray(2)),
    model: 'ok',
    expect: 'null',
  },
  { name: 'short chainId in a str 8 header (non-canonical)', path: H(0), to: () => cat(bytes(0xd9, 4), str('flow').subarray(1)), model: 'ok', expect: 'null' },
  {
    name: 'payload in an array 16 header (non-canonical)',
    path: [2],
    to: (o) => cat(bytes(0xdc, 0, 5), serialize(o).subarray(1)),
    model: 'ok',
    expect: 'null',
  },
  { name: 'header of 11 fields', path: [1], to: (o) => (o as Node[]).slice(0, 11), model: 'error', expect: 'null' },
  { name: 'header of 13 fields', path: [1], to: (o) => [...(o as Node[]), bin(bytes(1))], model: 'error', expect: 'null' },
  { name: 'chunk of 8 fields', path: [2, 3, 0, 2, 0], to: (o) => (o as Node[]).slice(0, 8), model: 'error', expect: 'null' },
  { name: 'guarantee as a map', path: [2, 0, 0], to: () => bytes(0x80), model: 'error', expect: 'null' },
  { name: 'signerIndices as an ext', path: G0(3), to: () => bytes(0xd4, 1, 0), model: 'error', expect: 'null' },
  { name: 'finalized as nil', path: [3], to: () => bytes(0xc0), model: 'error', expect: 'null' },
  { name: 'invalid UTF-8 in chainId', path: H(0), to: () => bytes(0xa2, 0xc3, 0x28), model: 'error', expect: 'null' },
  { name: 'overlong UTF-8 in clusterChainId', path: G0(2), to: () => bytes(0xa2, 0xc0, 0x80), model: 'error', expect: 'null' },
  { name: 'UTF-8 surrogate in chainId', path: H(0), to: () => bytes(0xa3, 0xed, 0xa0, 0x80), model: 'error', expect: 'null' },
  { name: 'serviceEventCount 65536', path: CHUNK0(3), to: () => uint(65536), model: 'error', expect: 'null' },
  { name: 'protocolStateId ZERO', path: [2, 4], to: () => id32(0), model: 'error', expect: 'null' },
  { name: 'a commit whose DKG index map is not a permutation', path: EVENTS0, to: () => cat(bytes(0x91), commitEvent([0, 0])), model: 'error', expect: 'null' },
  {
    name: 'an unknown event body holding a map',
    path: EVENTS0,
    to: () => cat(bytes(0x91), bytes(0x92), str('x-new'), bytes(0x80)),
    model: 'error',
    expect: 'null',
  },
  // canonical records the kernel must transcode exactly
  { name: 'non-ASCII chainId', path: H(0), to: () => str('flow-\u00f6\u2713\u{1f642}'), model: 'ok', expect: 'facts' },
  { name: 'serviceEventCount 65535', path: CHUNK0(3), to: () => uint(65535), model: 'ok', expect: 'facts' },
  { name: 'parentId with a flipped byte (id-mismatch)', path: H(1), to: flipLast, model: 'ok', expect: 'facts' },
  { name: 'guarantee signature with a flipped byte (payload-mismatch)', path: G0(4), to: flipLast, model: 'ok', expect: 'facts' },
  { name: 'height 2^53 - 1', path: H(2), to: () => uint(2 ** 53 - 1), model: 'ok', expect: 'facts' },
  { name: 'height 2^53 (a bigint)', path: H(2), to: () => uint(2n ** 53n), model: 'ok', expect: 'facts' },
  { name: 'timestamp 2^64 - 1', path: H(3), to: () => uint(2n ** 64n - 1n), model: 'ok', expect: 'facts' },
  { name: 'collectionIndex 2^32 (uint 64 with leading zero bytes)', path: CHUNK0(0), to: () => uint(2 ** 32), model: 'ok', expect: 'facts' },
  { name: 'chunk index 65536 (uint 32 with a leading zero byte)', path: CHUNK0(7), to: () => uint(65536), model: 'ok', expect: 'facts' },
  { name: 'numberOfTransactions 128 (uint 8)', path: CHUNK0(6), to: () => uint(128), model: 'ok', expect: 'facts' },
  { name: 'numberOfTransactions 256 (uint 16)', path: CHUNK0(6), to: () => uint(256), model: 'ok', expect: 'facts' },
  { name: 'totalComputationUsed 0', path: CHUNK0(5), to: () => uint(0), model: 'ok', expect: 'facts' },
  { name: 'one-byte signerIndices below 0x80 (RLP single byte)', path: G0(3), to: () => bin(bytes(0x7f)), model: 'ok', expect: 'facts' },
  {
    name: 'empty clusterChainId and signature',
    path: [2, 0, 0],
    to: (o) => [...(o as Node[]).slice(0, 2), str(''), (o as Node[])[3], bin(bytes())],
    model: 'ok',
    expect: 'facts',
  },
  { name: 'guarantee signature of 300 bytes (bin 16)', path: G0(4), to: () => bin(new Uint8Array(300).fill(0xab)), model: 'ok', expect: 'facts' },
  { name: 'guarantee signature of 70000 bytes (bin 32)', path: G0(4), to: () => bin(new Uint8Array(70000).fill(0xcd)), model: 'ok', expect: 'facts' },
  { name: 'proposerSigData of 70000 bytes (not hashed)', path: H(11), to: () => bin(new Uint8Array(70000).fill(1)), model: 'ok', expect: 'facts' },
  { name: 'chainId of 40 bytes (str 8)', path: H(0), to: () => str('flow-'.padEnd(40, 'x')), model: 'ok', expect: 'facts' },
  {
    name: '20 chunks (array 16 header)',
    path: [2, 3, 0, 2],
    to: (o) => Array.from({ length: 20 }, (_, i) => (o as Node[])[i % (o as Node[]).length]),
    model: 'ok',
    expect: 'facts',
  },
  { name: 'a well-formed commit event', path: EVENTS0, to: () => cat(bytes(0x91), commitEvent([1, 0, 2])), model: 'ok', expect: 'facts' },
  {
    name: 'an unknown event type with a generic body',
    path: EVENTS0,
    to: () => cat(bytes(0x91, 0x92), str('x-new'), bytes(0x95, 0x07), str('a'), bin(bytes(1, 2)), bytes(0xc3, 0xc0)),
    model: 'ok',
    expect: 'facts',
  },
  {
    name: 'a TC with views 2^40 and newestQCViews [0, 1, 2^33]',
    path: H(9),
    to: () => [
      uint(2 ** 40),
      [uint(0), uint(1), uint(2 ** 33)],
      [uint(2 ** 40 - 1), id32(8), bin(bytes(1, 2, 3)), bin(new Uint8Array(96).fill(4))],
      bin(bytes(9)),
      bin(new Uint8Array(96).fill(6)),
    ],
    model: 'ok',
    expect: 'facts',
  },
  {
    name: 'a TC whose view is a float',
    path: H(9),
    to: () => [bytes(0xca, 0, 0, 0, 0), [], [uint(1), id32(8), bin(bytes(1)), bin(bytes(2))], bin(bytes(9)), bin(bytes(6))],
    model: 'error',
    expect: 'null',
  },
  {
    name: 'a TC of 4 fields',
    path: H(9),
    to: () => [uint(1), [], [uint(1), id32(8), bin(bytes(1)), bin(bytes(2))], bin(bytes(9))],
    model: 'error',
    expect: 'null',
  },
];

async function baseRecord(): Promise<{ tree: Node; bytes: Uint8Array }> {
  for (const b of await faultySpork()) {
    const d = decodeStoredRecord(b);
    const p = d.payload;
    if (d.decodeError !== null || p === null || d.header?.lastViewTC !== null) continue;
    if (p.guarantees.length > 0 && p.seals.length > 0 && p.results.length > 0 && p.results[0].chunks.length > 1) {
      const [tree, end] = parse(b, 0);
      assert.equal(end, b.length);
      assert.deepEqual(serialize(tree), b, 'the mutation tree round-trips');
      return { tree, bytes: b };
    }
  }
  throw new Error('no base record with guarantees, seals and results');
}

test('SPEC 7.1, 9.2: hand-mutated records: null where not plain canonical or not decodable, else the model facts', async () => {
  const base = await baseRecord();
  assert.notEqual(compare(base.bytes, 1, 'base record').fast, null);
  for (const m of MUTATIONS) {
    const b = serialize(edit(base.tree, m.path, m.to));
    const { model, fast } = compare(b, 1, m.name);
    assert.equal(model.decodeError === null ? 'ok' : 'error', m.model, `${m.name}: model verdict (${model.decodeError})`);
    assert.equal(fast === null ? 'null' : 'facts', m.expect, `${m.name}: transcoded`);
  }
  const flipped = compare(serialize(edit(base.tree, H(1), flipLast)), 1, 'flipped parentId').fast;
  assert.match(flipped?.idMismatch ?? '', /^ID\(header\) = [0-9a-f]{64}$/);
  const bigHeight = compare(serialize(edit(base.tree, H(2), () => uint(2n ** 53n))), 1, 'height 2^53').fast;
  assert.equal(bigHeight?.header?.height, 2n ** 53n);
});

test('SPEC 2.1, 2.2: a record in a Buffer or at an offset of a larger buffer gives the same facts', async () => {
  const { bytes: b } = await baseRecord();
  const want = norm(transcodeFacts(5, b));
  assert.notEqual(want, null);
  const big = new Uint8Array(b.length + 13).fill(0xc1);
  big.set(b, 7);
  assert.deepStrictEqual(norm(transcodeFacts(5, big.subarray(7, 7 + b.length))), want);
  assert.deepStrictEqual(norm(transcodeFacts(5, Buffer.from(b))), want);
  const pooled = Buffer.concat([Buffer.alloc(3), b]).subarray(3);
  assert.deepStrictEqual(norm(transcodeFacts(5, pooled)), want);
});

test('SPEC 9.2: trailing bytes, truncation and a fifth record field are never transcoded', async () => {
  const { bytes: b, tree } = await baseRecord();
  const cases: [string, Uint8Array][] = [
    ['trailing nil', cat(b, bytes(0xc0))],
    ['last byte cut', b.subarray(0, b.length - 1)],
    ['half the record', b.subarray(0, b.length >> 1)],
    ['record of 5 fields', serialize([...(tree as Node[]), bytes(0xc3)])],
    ['empty', bytes()],
  ];
  for (const [name, x] of cases) {
    const { model, fast } = compare(x, 1, name);
    assert.notEqual(model.decodeError, null, `${name}: the model rejects it`);
    assert.equal(fast, null, `${name}: not transcoded`);
  }
});

/** Offsets of the first byte of every value in the record (type bytes and headers). */
function valueStarts(b: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (n: Node, p: number): number => {
    out.push(p);
    if (n instanceof Uint8Array) return p + n.length;
    let q = p + (n.length < 16 ? 1 : 3);
    for (const item of n) q = walk(item, q);
    return q;
  };
  walk(parse(b, 0)[0], 0);
  return out;
}

test('SPEC 9.2: random byte changes: transcoding is null or the model facts', async () => {
  const records = await faultySpork();
  const rng = new Rng(20240607);
  let transcoded = 0;
  let rejected = 0;
  for (let k = 0; k < 3000; k++) {
    const src = records[1 + rng.int(records.length - 1)];
    const b = src.slice();
    const starts = valueStarts(src);
    const changes = 1 + rng.int(3);
    for (let j = 0; j < changes; j++) {
      const pos = rng.chance(0.5) ? rng.pick(starts) : rng.int(b.length);
      b[pos] = rng.chance(0.5) ? rng.int(256) : b[pos] ^ (1 << rng.int(8));
    }
    const { model, fast } = compare(b, k, `random change ${k}`);
    if (fast !== null) transcoded++;
    if (model.decodeError !== null) rejected++;
  }
  assert.ok(transcoded > 500 && rejected > 1000, `transcoded ${transcoded}, rejected by the model ${rejected}`);
});

test('SPEC 9.2: utf8Valid agrees with a fatal UTF-8 decoder', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const rng = new Rng(11);
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90];
  let valid = 0;
  for (let k = 0; k < 50000; k++) {
    const n = 1 + rng.int(6);
    const s = new Uint8Array(n);
    for (let i = 0; i < n; i++) s[i] = rng.chance(0.7) ? rng.pick(interesting) : rng.int(256);
    let want = true;
    try {
      fatal.decode(s);
    } catch {
      want = false;
    }
    if (want) valid++;
    assert.equal(utf8Valid(s, 0, n), want, `bytes ${Buffer.from(s).toString('hex')}`);
  }
  assert.ok(valid > 1000, `valid samples ${valid}`);
});
