import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { blockMessageFromRecord, blockRecordFromMessage, checkRecord, HeightMismatch } from '../src/access/block.js';
import { MappingError } from '../src/access/errors.js';
import { FLOW_GO_EVENT_TYPES } from '../src/access/events.js';
import { decodeBlockResponse, encodeBlockResponse, type BlockMsg } from '../src/access/grpc.js';
import { mapRootSnapshot } from '../src/access/snapshot.js';
import { encodeBlockRecord } from '../src/model/archive.js';
import { toHex } from '../src/model/bytes.js';
import { headerId } from '../src/model/ids.js';
import { payloadHash } from '../src/model/payload.js';
import type { BlockRecord, RootSnapshot } from '../src/model/types.js';
import { asServed } from './helpers/access-node.js';
import { synthesize } from '../src/synth/index.js';

const FIXTURES = new URL('../../test/fixtures/access/', import.meta.url);

interface IndexEntry {
  height: string;
  file: string;
  id: string;
  payloadHash: string;
  lastViewTC: boolean;
  serviceEvents: string[];
  counts: { guarantees: number; seals: number; receipts: number; results: number };
}
const index: { rootHeight: number; blocks: IndexEntry[] } = JSON.parse(readFileSync(new URL('index.json', FIXTURES), 'utf8'));

function fixture(file: string) {
  return decodeBlockResponse(readFileSync(new URL(file, FIXTURES)));
}

/** A fixture block by the feature it has, decoded afresh (tests mutate it). */
function block(pick: (e: IndexEntry) => boolean): { b: BlockMsg; height: bigint } {
  const e = index.blocks.find(pick);
  assert.ok(e !== undefined, 'the fixture has such a block');
  const b = fixture(e.file).block;
  assert.ok(b !== null);
  return { b, height: BigInt(e.height) };
}

const withSeal = (e: IndexEntry) => e.counts.seals > 0;
const withResult = (e: IndexEntry) => e.counts.results > 0;

function roundTrip(rec: BlockRecord): BlockRecord {
  const bytes = encodeBlockResponse({ block: blockMessageFromRecord(rec), block_status: 'BLOCK_FINALIZED', metadata: null });
  return blockRecordFromMessage(decodeBlockResponse(bytes).block, BigInt(rec.header.height));
}

function refuses(f: () => unknown, path: string, reason: string | RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof MappingError, `a MappingError, got ${String(e)}`);
    assert.equal(e.path, path);
    if (typeof reason === 'string') assert.equal(e.reason, reason);
    else assert.match(e.reason, reason);
    assert.equal(e.message, `${e.path}: ${e.reason}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('ACCESS 7.5: every fixture BlockResponse decodes with our .proto and maps to a record that recomputes its id and payload_hash', () => {
  assert.equal(index.blocks.length, 9);
  for (const e of index.blocks) {
    const r = fixture(e.file);
    assert.ok(r.block !== null && r.block.block_header !== null, e.file);
    assert.ok(['BLOCK_FINALIZED', 'BLOCK_SEALED'].includes(r.block_status), r.block_status);
    const rec = blockRecordFromMessage(r.block, BigInt(e.height));
    assert.equal(rec.finalized, true);
    assert.equal(BigInt(rec.header.height), BigInt(e.height));
    assert.equal(toHex(rec.blockId), e.id);
    assert.equal(toHex(r.block.id), e.id);
    assert.equal(toHex(headerId(rec.header)), e.id, `${e.file}: header id`);
    assert.equal(toHex(payloadHash(rec.payload)), e.payloadHash, `${e.file}: payload hash`);
    assert.equal(toHex(r.block.block_header.payload_hash), e.payloadHash);
    assert.deepEqual(checkRecord(rec), { idMatches: true, payloadHashMatches: true });
    assert.equal(rec.header.lastViewTC !== null, e.lastViewTC, `${e.file}: lastViewTC`);
    assert.equal(rec.header.proposerSigData.length, 0);
    assert.deepEqual(
      {
        guarantees: rec.payload.guarantees.length,
        seals: rec.payload.seals.length,
        receipts: rec.payload.receipts.length,
        results: rec.payload.results.length,
      },
      e.counts,
    );
    assert.deepEqual(
      rec.payload.results.flatMap((x) => x.serviceEvents.map((s) => s.type)),
      e.serviceEvents,
      `${e.file}: service events`,
    );
  }
  const types = new Set(index.blocks.flatMap((e) => e.serviceEvents));
  for (const t of FLOW_GO_EVENT_TYPES) assert.ok(types.has(t), `the fixture has a ${t} event`);
});

test('ACCESS 7.5: the fixture root snapshot is the parent of the first block', () => {
  const mapped = mapRootSnapshot(readFileSync(new URL('root-snapshot.json', FIXTURES)));
  const root: RootSnapshot = mapped.root;
  const first = index.blocks[0];
  assert.equal(BigInt(first.height), BigInt(index.rootHeight) + 1n);
  const rec = blockRecordFromMessage(fixture(first.file).block, BigInt(first.height));
  assert.equal(toHex(rec.header.parentId), toHex(headerId(root.rootBlock.header)));
});

test('ACCESS 3 (inverse): blockMessageFromRecord gives back each fixture message field for field', () => {
  for (const e of index.blocks) {
    const r = fixture(e.file);
    const rec = blockRecordFromMessage(r.block, BigInt(e.height));
    const sent = decodeBlockResponse(encodeBlockResponse({ block: blockMessageFromRecord(rec), block_status: r.block_status, metadata: r.metadata }));
    assert.deepEqual(sent.block, r.block, e.file);
  }
});

test('ACCESS 3 (inverse): every finalized block of a generated spork survives record → message → protobuf → record byte for byte', async () => {
  let root: RootSnapshot | undefined;
  const records: BlockRecord[] = [];
  await synthesize(
    { blocks: 1500, seed: 'access-block' },
    {
      root: (r) => {
        root = r;
      },
      block: (r) => {
        if (r.finalized) records.push(r);
      },
    },
  );
  assert.ok(root !== undefined);
  const flowTypes: readonly string[] = FLOW_GO_EVENT_TYPES;
  let checked = 0;
  let skipped = 0;
  const seen = new Set<string>();
  for (const rec of records) {
    const types = rec.payload.results.flatMap((r) => r.serviceEvents.map((e) => e.type));
    if (types.some((t) => !flowTypes.includes(t))) {
      // SPEC-only or unknown event types: a flow-go node cannot serve them
      assert.throws(() => blockMessageFromRecord(rec), RangeError);
      skipped++;
      continue;
    }
    for (const t of types) seen.add(t);
    // asServed: no proposer signature, and DKG index maps come back in index order (ACCESS 4.2)
    const back = Buffer.from(encodeBlockRecord(roundTrip(rec)));
    assert.ok(back.equals(Buffer.from(encodeBlockRecord(asServed(rec)))), `height ${rec.header.height}`);
    assert.deepEqual(checkRecord(roundTrip(rec)), { idMatches: true, payloadHashMatches: true });
    checked++;
  }
  assert.ok(skipped > 0 && skipped < 20, `skipped ${skipped}`);
  assert.equal(checked + skipped, records.length);
  assert.ok(checked >= 1400, `checked ${checked}`);
  for (const t of ['setup', 'commit', 'version-beacon', 'protocol-state-version-upgrade', 'eject-node']) assert.ok(seen.has(t), `round-tripped a ${t} event`);
});

test('ACCESS 3 (inverse): a flow-profile spork (what a Mainnet28 node could serve) round-trips byte for byte, nothing skipped', async () => {
  const records: BlockRecord[] = [];
  await synthesize(
    { blocks: 600, seed: 'access-block-flow', profile: 'flow' },
    {
      root: () => {},
      block: (r) => {
        if (r.finalized) records.push(r);
      },
    },
  );
  assert.equal(records.length, 600);
  for (const rec of records) {
    const back = Buffer.from(encodeBlockRecord(roundTrip(rec)));
    assert.ok(back.equals(Buffer.from(encodeBlockRecord(rec))), `height ${rec.header.height}`);
  }
});

test('ACCESS 2.1: uint64 values above 2^53 (and 2^64-1) survive the protobuf round trip exactly', () => {
  const { b, height } = block((e) => e.lastViewTC);
  const rec = blockRecordFromMessage(b, height);
  const big = 2n ** 53n + 1n;
  const max = 2n ** 64n - 1n;
  assert.ok(rec.header.lastViewTC !== null);
  const huge: BlockRecord = {
    ...rec,
    header: {
      ...rec.header,
      height: big,
      view: max,
      parentView: big + 2n,
      lastViewTC: { ...rec.header.lastViewTC, view: max - 1n, newestQCViews: [big + 2n, max], newestQC: { ...rec.header.lastViewTC.newestQC, view: big + 3n } },
    },
  };
  const back = roundTrip(huge);
  assert.equal(back.header.height, big);
  assert.equal(back.header.view, max);
  assert.equal(back.header.parentView, big + 2n);
  assert.deepEqual(back.header.lastViewTC?.newestQCViews, [big + 2n, max]);
  assert.equal(back.header.lastViewTC?.newestQC.view, big + 3n);
  assert.equal(back.header.lastViewTC?.view, max - 1n);
  assert.ok(Buffer.from(encodeBlockRecord(back)).equals(Buffer.from(encodeBlockRecord(huge))));
});

test('ACCESS 6.6: a 32-byte field that is not 32 bytes stops, naming the field', () => {
  let { b, height } = block(withSeal);
  b.block_seals[0].final_state = b.block_seals[0].final_state.subarray(0, 31);
  refuses(() => blockRecordFromMessage(b, height), 'block.block_seals[0].final_state', '31 bytes, expected 32');
  ({ b, height } = block(withSeal));
  b.id = Buffer.alloc(0);
  refuses(() => blockRecordFromMessage(b, height), 'block.id', '0 bytes, expected 32');
  ({ b, height } = block(withSeal));
  b.block_seals[0].aggregated_approval_sigs[0].signer_ids[1] = Buffer.alloc(33);
  refuses(() => blockRecordFromMessage(b, height), 'block.block_seals[0].aggregated_approval_sigs[0].signer_ids[1]', '33 bytes, expected 32');
  ({ b, height } = block(withResult));
  b.execution_result_list[0].chunks[0].end_state = Buffer.alloc(31);
  refuses(() => blockRecordFromMessage(b, height), 'block.execution_result_list[0].chunks[0].end_state', '31 bytes, expected 32');
  ({ b, height } = block(withResult));
  b.protocol_state_id = Buffer.alloc(0);
  refuses(() => blockRecordFromMessage(b, height), 'block.protocol_state_id', '0 bytes, expected 32');
});

test('ACCESS 6.6: timestamps: seconds < 0, nanos outside 0..999999999, not whole ms (pre-v0.43), or missing', () => {
  const at = 'block.block_header.timestamp';
  let { b, height } = block(() => true);
  b.block_header!.timestamp!.nanos = 1_000_000_000;
  refuses(() => blockRecordFromMessage(b, height), `${at}.nanos`, '1000000000 is outside 0..999999999');
  ({ b, height } = block(() => true));
  b.block_header!.timestamp!.nanos = -1;
  refuses(() => blockRecordFromMessage(b, height), `${at}.nanos`, '-1 is outside 0..999999999');
  ({ b, height } = block(() => true));
  b.block_header!.timestamp!.nanos += 1;
  refuses(() => blockRecordFromMessage(b, height), `${at}.nanos`, /is not whole milliseconds \(pre-v0\.43 data/);
  ({ b, height } = block(() => true));
  b.block_header!.timestamp!.seconds = '-1';
  refuses(() => blockRecordFromMessage(b, height), `${at}.seconds`, '-1 is before 1970');
  ({ b, height } = block(() => true));
  b.block_header!.timestamp = null;
  refuses(() => blockRecordFromMessage(b, height), at, /^missing/);
  // whole ms map exactly: seconds·1000 + nanos/10^6
  ({ b, height } = block(() => true));
  b.block_header!.timestamp = { seconds: '1709326272', nanos: 49_000_000 };
  assert.equal(blockRecordFromMessage(b, height).header.timestamp, 1709326272049);
});

test('ACCESS 6.6: service_event_count 0xffff0000 (pre-v0.43 nil) or above 65535 stops', () => {
  const at = 'block.execution_result_list[0].chunks[0].service_event_count';
  let { b, height } = block(withResult);
  b.execution_result_list[0].chunks[0].service_event_count = 0xffff0000;
  refuses(() => blockRecordFromMessage(b, height), at, /0xffff0000 is the pre-v0\.43 "nil" sentinel/);
  ({ b, height } = block(withResult));
  b.execution_result_list[0].chunks[0].service_event_count = 65536;
  refuses(() => blockRecordFromMessage(b, height), at, '65536 is beyond uint16 (65535)');
  ({ b, height } = block(withResult));
  b.execution_result_list[0].chunks[0].service_event_count = 65535;
  assert.equal(blockRecordFromMessage(b, height).payload.results[0].chunks[0].serviceEventCount, 65535);
});

test('ACCESS 6.6: a null block, header, or highest_qc inside a present TC stops', () => {
  refuses(() => blockRecordFromMessage(null, 1n), 'block', /^missing/);
  let { b, height } = block(() => true);
  b.block_header = null;
  refuses(() => blockRecordFromMessage(b, height), 'block.block_header', /^missing .*full_block_response/);
  ({ b, height } = block((e) => e.lastViewTC));
  b.block_header!.last_view_tc!.highest_qc = null;
  refuses(() => blockRecordFromMessage(b, height), 'block.block_header.last_view_tc.highest_qc', /^missing/);
});

test('ACCESS 3.2/6.6: a cluster_chain_id that is not UTF-8 stops; valid UTF-8 is kept as is', () => {
  let { b, height } = block((e) => e.counts.guarantees > 1);
  b.collection_guarantees[1].cluster_chain_id = Buffer.from([0x63, 0xff, 0x6c]);
  refuses(() => blockRecordFromMessage(b, height), 'block.collection_guarantees[1].cluster_chain_id', 'not valid UTF-8');
  ({ b, height } = block((e) => e.counts.guarantees > 0));
  b.collection_guarantees[0].cluster_chain_id = Buffer.from('cluster-é', 'utf8');
  assert.equal(blockRecordFromMessage(b, height).payload.guarantees[0].clusterChainId, 'cluster-é');
});

test('ACCESS 6.6: values beyond their field range, and event types a node cannot serve, stop', () => {
  let { b, height } = block(() => true);
  b.block_header!.view = '18446744073709551616';
  refuses(() => blockRecordFromMessage(b, height), 'block.block_header.view', '18446744073709551616 is beyond uint64');
  ({ b, height } = block(withResult));
  b.execution_result_list[0].chunks[0].CollectionIndex = 2 ** 32;
  refuses(() => blockRecordFromMessage(b, height), 'block.execution_result_list[0].chunks[0].CollectionIndex', '4294967296 is not a uint32');
  ({ b, height } = block((e) => e.serviceEvents.length > 0));
  const r = b.execution_result_list.findIndex((x) => x.service_events.length > 0);
  b.execution_result_list[r].service_events[0].type = 'set-execution-component-version';
  assert.throws(
    () => blockRecordFromMessage(b, height),
    (e: unknown) => e instanceof MappingError && e.path.startsWith(`block.execution_result_list[${r}].service_events[0]`),
  );
});

test('ACCESS 3.4: a response for another height is a HeightMismatch (retried by the caller), not a MappingError', () => {
  const { b, height } = block(() => true);
  assert.throws(
    () => blockRecordFromMessage(b, height + 1n),
    (e: unknown) => {
      assert.ok(e instanceof HeightMismatch && !(e instanceof MappingError));
      assert.equal(e.requested, height + 1n);
      assert.equal(e.received, height);
      assert.match(e.message, new RegExp(`height ${height} for height ${height + 1n}`));
      return true;
    },
  );
});

test('ACCESS 3.4: checkRecord tells a header or payload that does not recompute', () => {
  const { b, height } = block(withSeal);
  const rec = blockRecordFromMessage(b, height);
  assert.deepEqual(checkRecord(rec), { idMatches: true, payloadHashMatches: true });
  assert.deepEqual(checkRecord({ ...rec, header: { ...rec.header, view: Number(rec.header.view) + 1 } }), { idMatches: false, payloadHashMatches: true });
  const seals = rec.payload.seals.map((s, i) => (i === 0 ? { ...s, finalState: new Uint8Array(32) } : s));
  assert.deepEqual(checkRecord({ ...rec, payload: { ...rec.payload, seals } }), { idMatches: true, payloadHashMatches: false });
});
