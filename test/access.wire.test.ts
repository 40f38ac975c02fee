// src/access/wire.ts, the fetch's decoder of a Block straight from the wire, against the general
// path (proto-loader's decoder, then blockRecordFromMessage): for the regular shape it must give
// the same record and take the fast way; for anything else (every 6.6 stop, malformed bytes,
// duplicates, unknown fields, random mutations) the outcome, record or error text, is the general
// path's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { blockMessageFromRecord, blockRecordFromMessage, recordOfWireResponse, recordOfWireStreamMessage } from '../src/access/block.js';
import {
  decodeBlockResponse,
  encodeBlockResponse,
  wireBlockResponse,
  type BlockMsg,
  type BlockResponseMsg,
  type MetadataMsg,
  type WireSubscribeBlocksResponse,
} from '../src/access/grpc.js';
import { fastBlockResponse, fastSubscribeBlocksResponse } from '../src/access/wire.js';
import { encodeBlockRecord } from '../src/model/archive.js';
import type { BlockRecord } from '../src/model/types.js';
import { synthesize } from '../src/synth/index.js';
import { Rng } from '../src/synth/rng.js';

const FIXTURES = new URL('../../test/fixtures/access/', import.meta.url);
const index: { blocks: { height: string; file: string; lastViewTC: boolean; counts: { seals: number; results: number; guarantees: number } }[] } = JSON.parse(
  readFileSync(new URL('index.json', FIXTURES), 'utf8'),
);

type Outcome = { ok: string; rec: BlockRecord; latest: string | null } | { error: string };

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${String(e)}`;
}

/** The general path alone (what the fetch did before wire.ts). */
function general(bytes: Buffer, h: bigint): Outcome {
  let msg: BlockResponseMsg;
  try {
    msg = decodeBlockResponse(bytes);
  } catch (e) {
    return { error: `parse: ${describe(e)}` };
  }
  try {
    const rec = blockRecordFromMessage(msg.block, h);
    const latest = msg.metadata?.latest_finalized_height;
    return { ok: Buffer.from(encodeBlockRecord(rec)).toString('hex'), rec, latest: latest === undefined || latest === '' ? null : BigInt(latest).toString() };
  } catch (e) {
    return { error: describe(e) };
  }
}

/** What the fetch does now: wireBlockResponse (the grpc deserializer), then recordOfWireResponse. */
function viaWire(bytes: Buffer, h: bigint): Outcome & { fast?: boolean } {
  let w;
  try {
    w = wireBlockResponse(bytes);
  } catch (e) {
    return { error: `parse: ${describe(e)}` };
  }
  try {
    const rec = recordOfWireResponse(w, h);
    const latest = 'fast' in w ? w.fast.latestFinalizedHeight : w.message.metadata?.latest_finalized_height;
    return {
      ok: Buffer.from(encodeBlockRecord(rec)).toString('hex'),
      rec,
      latest: latest === undefined || latest === null || latest === '' ? null : BigInt(latest).toString(),
      fast: 'fast' in w,
    };
  } catch (e) {
    return { error: describe(e), fast: 'fast' in w };
  }
}

function same(bytes: Buffer, h: bigint, what: string): boolean {
  const a = general(bytes, h);
  const { fast, ...b } = viaWire(bytes, h);
  assert.deepEqual(b, a, what);
  return fast === true;
}

const META: MetadataMsg = {
  latest_finalized_block_id: Buffer.alloc(32, 7),
  latest_finalized_height: '9007199254740993',
  node_id: Buffer.alloc(32, 0xa5),
  highest_indexed_height: '12',
  executor_metadata: { execution_result_id: Buffer.alloc(32, 1), executor_ids: [Buffer.alloc(32, 2)] },
};

function response(b: BlockMsg | null, metadata: MetadataMsg | null = META): Buffer {
  return encodeBlockResponse({ block: b, block_status: 'BLOCK_FINALIZED', metadata });
}

function fixtureMsg(pick: (e: (typeof index.blocks)[number]) => boolean): { b: BlockMsg; h: bigint } {
  const e = index.blocks.find(pick)!;
  return { b: decodeBlockResponse(readFileSync(new URL(e.file, FIXTURES))).block!, h: BigInt(e.height) };
}

let spork: BlockRecord[] | null = null;
async function generated(): Promise<BlockRecord[]> {
  if (spork !== null) return spork;
  const recs: BlockRecord[] = [];
  // the storyline spork: every event type a flow-go node serves, TCs, seals, receipts, results
  await synthesize({ blocks: 400, seed: 'wire', profile: 'flow' }, { root: () => {}, block: (r) => void recs.push(r) });
  spork = recs.filter((r) => r.finalized);
  return spork;
}

test('wire: every fixture BlockResponse (ACCESS 7.5) takes the fast way to the same record', () => {
  for (const e of index.blocks) {
    const bytes = readFileSync(new URL(e.file, FIXTURES));
    assert.ok(same(bytes, BigInt(e.height), e.file), `${e.file}: fast`);
    assert.ok(same(bytes, BigInt(e.height) + 1n, `${e.file} for another height`), 'a HeightMismatch, the fast way');
  }
});

test('wire: every block of a flow-profile spork, as a v0.43+ node sends it, takes the fast way to the same record; the stream form too', async () => {
  const recs = await generated();
  let withEvents = 0;
  for (const rec of recs) {
    const h = BigInt(rec.header.height);
    const msg = blockMessageFromRecord(rec);
    assert.ok(same(response(msg), h, `height ${h}`), `height ${h}: fast`);
    // SubscribeBlocksResponse = field 1 of a BlockResponse
    const sub = response(msg, null).subarray(0, -2); // without block_status (0x10 0x01)
    const fast = fastSubscribeBlocksResponse(sub);
    assert.ok(fast !== null);
    const w: WireSubscribeBlocksResponse = { record: fast };
    const m = recordOfWireStreamMessage(w);
    assert.equal(m.height, h);
    assert.deepEqual(m.map(), blockRecordFromMessage(msg, h));
    if (rec.payload.results.some((r) => r.serviceEvents.length > 0)) withEvents++;
  }
  assert.ok(withEvents > 0, 'service events went through the fast way');
});

test('wire: uint64 above 2^53 (up to 2^64-1), packed high_qc_views, no metadata', () => {
  const { b, h } = fixtureMsg((e) => e.lastViewTC);
  const max = (2n ** 64n - 1n).toString();
  const big = (2n ** 53n + 1n).toString();
  b.block_header!.view = max;
  b.block_header!.parent_view = big;
  b.block_header!.last_view_tc!.view = big;
  b.block_header!.last_view_tc!.high_qc_views = [max, big, '0', '5'];
  b.block_header!.last_view_tc!.highest_qc!.view = max;
  assert.ok(same(response(b), h, 'big values'));
  assert.ok(same(response(b, null), h, 'no metadata'));
  const rec = viaWire(response(b), h);
  assert.ok('rec' in rec);
  assert.equal(rec.rec.header.view, 2n ** 64n - 1n);
  assert.deepEqual(rec.rec.header.lastViewTC?.newestQCViews, [2n ** 64n - 1n, 2n ** 53n + 1n, 0, 5]);
  const packed = response(b); // protobufjs writes repeated uint64 packed
  const tcRec = fastBlockResponse(packed)!.record.header.lastViewTC!;
  assert.deepEqual(tcRec.newestQCViews, [2n ** 64n - 1n, 2n ** 53n + 1n, 0, 5]);
});

test("wire: every 6.6 stop of the mapping is the general path's error, word for word", () => {
  const cases: [string, (e: (typeof index.blocks)[number]) => boolean, (b: BlockMsg) => void][] = [
    ['short final_state', (e) => e.counts.seals > 0, (b) => void (b.block_seals[0]!.final_state = b.block_seals[0]!.final_state.subarray(0, 31))],
    ['empty id', () => true, (b) => void (b.id = Buffer.alloc(0))],
    ['33-byte signer id', (e) => e.counts.seals > 0, (b) => void (b.block_seals[0]!.aggregated_approval_sigs[0]!.signer_ids[0] = Buffer.alloc(33))],
    ['short end_state', (e) => e.counts.results > 0, (b) => void (b.execution_result_list[0]!.chunks[0]!.end_state = Buffer.alloc(31))],
    ['no protocol_state_id', () => true, (b) => void (b.protocol_state_id = Buffer.alloc(0))],
    ['nanos 10^9', () => true, (b) => void (b.block_header!.timestamp!.nanos = 1_000_000_000)],
    ['nanos -1', () => true, (b) => void (b.block_header!.timestamp!.nanos = -1)],
    ['nanos not whole ms', () => true, (b) => void (b.block_header!.timestamp!.nanos += 1)],
    ['seconds -1', () => true, (b) => void (b.block_header!.timestamp!.seconds = '-1')],
    ['no timestamp', () => true, (b) => void (b.block_header!.timestamp = null)],
    ['no header', () => true, (b) => void (b.block_header = null)],
    ['no highest_qc', (e) => e.lastViewTC, (b) => void (b.block_header!.last_view_tc!.highest_qc = null)],
    ['count sentinel', (e) => e.counts.results > 0, (b) => void (b.execution_result_list[0]!.chunks[0]!.service_event_count = 0xffff0000)],
    ['count 65536', (e) => e.counts.results > 0, (b) => void (b.execution_result_list[0]!.chunks[0]!.service_event_count = 65536)],
    ['count 65535', (e) => e.counts.results > 0, (b) => void (b.execution_result_list[0]!.chunks[0]!.service_event_count = 65535)],
    ['cluster chain not UTF-8', (e) => e.counts.guarantees > 0, (b) => void (b.collection_guarantees[0]!.cluster_chain_id = Buffer.from([0x63, 0xff]))],
    ['cluster chain with a BOM', (e) => e.counts.guarantees > 0, (b) => void (b.collection_guarantees[0]!.cluster_chain_id = Buffer.from('\ufeffc-é', 'utf8'))],
    ['chain id not UTF-8', () => true, (b) => void (b.block_header!.chain_id = '\ud800x')],
    ['collection index 2^32-1', (e) => e.counts.results > 0, (b) => void (b.execution_result_list[0]!.chunks[0]!.CollectionIndex = 2 ** 32 - 1)],
    ['seconds beyond ms range', () => true, (b) => void (b.block_header!.timestamp!.seconds = '9223372036854775')],
  ];
  for (const [what, pick, mutate] of cases) {
    const { b, h } = fixtureMsg(pick);
    mutate(b);
    same(response(b), h, what);
  }
  // no block at all
  same(response(null), 5n, 'no block');
});

/** Appends raw bytes (extra fields) to the Block message inside a BlockResponse. */
function withBlockSuffix(b: BlockMsg, suffix: number[]): Buffer {
  const inner = encodeBlockResponse({ block: b, block_status: 'BLOCK_UNKNOWN', metadata: null });
  // inner = 0x0a len Block [0x10 0x00]; rebuild with the suffix inside the Block
  let i = 1;
  let len = 0;
  for (let s = 0; ; s += 7) {
    const x = inner[i++]!;
    len += (x & 0x7f) * 2 ** s;
    if (!(x & 0x80)) break;
  }
  const body = Buffer.concat([inner.subarray(i, i + len), Buffer.from(suffix)]);
  const lenBytes: number[] = [];
  for (let n = body.length; ; ) {
    if (n < 0x80) {
      lenBytes.push(n);
      break;
    }
    lenBytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  return Buffer.concat([Buffer.from([0x0a, ...lenBytes]), body]);
}

test('wire: unknown fields are skipped as protobuf says; a mapped field sent twice, a wrong wire type or a group go the general way', () => {
  const { b, h } = fixtureMsg(() => true);
  // unknown field 99 (varint), 100 (bytes), 101 (fixed32), 102 (fixed64): skipped, still fast
  const unknown = withBlockSuffix(b, [0x98, 0x06, 0x05, 0xa2, 0x06, 0x02, 0x01, 0x02, 0xad, 0x06, 1, 2, 3, 4, 0xb1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(same(unknown, h, 'unknown fields'), 'fast');
  // protocol_state_id (11) again: last one wins in protobuf; the fast way leaves it to the general one
  const twice = withBlockSuffix(b, [0x5a, 0x20, ...new Array(32).fill(9)]);
  assert.equal(same(twice, h, 'a field twice'), false);
  // id (1) as a varint: a wrong wire type
  assert.equal(same(withBlockSuffix(b, [0x08, 0x01]), h, 'wrong wire type'), false);
  // a group (wire type 3)
  same(withBlockSuffix(b, [0xbb, 0x06, 0xbc, 0x06]), h, 'group');
  // a length running past the message
  same(withBlockSuffix(b, [0xa2, 0x06, 0x7f]), h, 'length past the end');
});

test("wire: random mutations of real responses: the outcome (record or error) is always the general path's", async () => {
  const recs = await generated();
  const rng = new Rng('wire-fuzz', 'mutations');
  const bases = [
    ...index.blocks.map((e) => ({ bytes: readFileSync(new URL(e.file, FIXTURES)), h: BigInt(e.height) })),
    ...recs.filter((_, i) => i % 20 === 0).map((r) => ({ bytes: response(blockMessageFromRecord(r)), h: BigInt(r.header.height) })),
  ];
  let fastOk = 0;
  let differs = 0;
  for (let i = 0; i < 3000; i++) {
    const base = bases[rng.int(bases.length)]!;
    const m = Buffer.from(base.bytes);
    const kind = rng.int(4);
    let bytes: Buffer = m;
    if (kind === 0) m[rng.int(m.length)] = rng.int(256);
    else if (kind === 1) m[rng.int(m.length)] ^= 1 << rng.int(8);
    else if (kind === 2) bytes = m.subarray(0, rng.int(m.length));
    else {
      const at = rng.int(m.length);
      bytes = Buffer.concat([m.subarray(0, at), Buffer.from([rng.int(256)]), m.subarray(at)]);
    }
    const fast = same(bytes, base.h, `mutation ${i} (kind ${kind})`);
    if (fast && 'ok' in general(bytes, base.h)) fastOk++;
    if (!bytes.equals(base.bytes)) differs++;
  }
  assert.ok(differs > 2500);
  assert.ok(fastOk > 100, `some mutations still decode the fast way (${fastOk})`);
});
