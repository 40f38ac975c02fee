// ACCESS.md 5 (root snapshot JSON → SPEC root), 5.5 (KV store msgpack) and the conformance
// fixtures of 7.3-7.5; the inverse writer round-trips synth roots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MappingError } from '../src/access/errors.js';
import { decodeKVStoreData, encodeKVStoreData } from '../src/access/kvstore-msgpack.js';
import { legacyResultIdWithoutServiceEventCount, mapRootSnapshot, RootRefused, rootSnapshotToFlowJson } from '../src/access/snapshot.js';
import { compareBytes, fromHex, toHex, ZERO } from '../src/model/bytes.js';
import { commitId, epochStateId, headerId, kvStoreId, preimage, resultId, sealId, setupId, writeHeader, writeKVStore } from '../src/model/ids.js';
import { payloadHash } from '../src/model/payload.js';
import { U64_MAX } from '../src/model/u64.js';
import type { BlockRecord, KVStore, RootSnapshot } from '../src/model/types.js';
import { validateRoot } from '../src/store/root.js';
import { synthesize } from '../src/synth/index.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');
const FIXTURE1 = fixture('flow-go/snapshot-fixture1.json');
const FIXTURE1_SEC0 = fixture('flow-go/snapshot-fixture1-sec0.json');
const WIRE_ROOT = fixture('access/root-snapshot.json');

/** Edits a copy of a snapshot JSON (every number in these fixtures is below 2^53). */
function edited(text: string, edit: (o: any) => void): string {
  const o = JSON.parse(text);
  edit(o);
  return JSON.stringify(o);
}

function refuses(text: string, path: string | null, reason: RegExp, cls: typeof MappingError = MappingError): void {
  assert.throws(
    () => mapRootSnapshot(text),
    (e: unknown) => {
      assert.ok(e instanceof cls, `expected a ${cls.name}, got ${String(e)}`);
      if (path !== null) assert.equal(e.path, path);
      assert.match(e.reason, reason);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

const psEntry = (o: any) => Object.values(o.SealingSegment.ProtocolStateEntries)[0] as any;

// ---------------------------------------------------------------- 7.3

test('ACCESS 7.3: every id of the fixture recomputes from the mapped root', () => {
  const m = mapRootSnapshot(FIXTURE1);
  const r = m.root;
  assert.equal(m.shape, 'B');
  const rootId = '4bb784dbbb4428d1e21482f2cb14f4d3c0262b29976317f3c90a68e5c1e25013';
  assert.equal(toHex(headerId(r.rootBlock.header)), rootId);
  assert.equal(toHex(m.rootId), rootId);
  assert.equal(toHex(r.params.sporkId), rootId);
  assert.equal(toHex(r.rootSeal.blockId), rootId);
  assert.equal(toHex(payloadHash(r.rootBlock.payload)), '4d0bdbeabeca734b7abc7908770d582fa48c5f443452ae0629d5fc4e2fa9886c');
  assert.equal(toHex(r.rootBlock.header.payloadHash), '4d0bdbeabeca734b7abc7908770d582fa48c5f443452ae0629d5fc4e2fa9886c');
  assert.equal(toHex(kvStoreId(r.kvStore)), '873d2f32be044056768e94962f8a2ec07f60f40ae22d4396b3baf29ddffae820');
  assert.equal(toHex(r.rootBlock.payload.protocolStateId), '873d2f32be044056768e94962f8a2ec07f60f40ae22d4396b3baf29ddffae820');
  assert.equal(toHex(epochStateId(r.epochState)), '36874ba6473f1f5366c9c601f78b821aff791b6403b0e0c39e52fee1b4eef3a7');
  assert.equal(toHex(r.kvStore.epochStateId), '36874ba6473f1f5366c9c601f78b821aff791b6403b0e0c39e52fee1b4eef3a7');
  assert.equal(toHex(setupId(r.epochEvents.currentSetup)), '78cdf4cde701bfbffb61017537f324600ff3eaa0a568b8afbb02ae03c65a8ac9');
  assert.equal(toHex(commitId(r.epochEvents.currentCommit!)), '6b3aa1496465ec8fd3c028c7462fe16763804e708d69a3d9b1530f574c4b410f');
  assert.equal(toHex(sealId(m.firstSeal)), '4a910e144f5ed588152e477550d96829bec2bac8f5d072956d7d8d1d41884f2f');
  assert.equal(m.firstSeal.approvalSigs[0].verifierSignatures.length, 7);
  assert.equal(r.rootResult.chunks[0].serviceEventCount, 0);
  assert.equal(toHex(resultId(r.rootResult)), 'b8da2633323ff263cc0bcf3c4224fc29054bc1226d86ac3c3ae4a7c6ca90d6e0');
  assert.equal(toHex(legacyResultIdWithoutServiceEventCount(r.rootResult)), '77da394347683bc3c80a2abde5f1a3c405d8f6d1ba66b5fa301aade4fc6c0b95');
  assert.equal(toHex(r.rootSeal.resultId), '77da394347683bc3c80a2abde5f1a3c405d8f6d1ba66b5fa301aade4fc6c0b95');
});

test('ACCESS 7.3: the header RLP and the KV store RLP are the bytes of the table', () => {
  const r = mapRootSnapshot(FIXTURE1).root;
  const h = r.rootBlock.header;
  assert.equal(h.timestamp, 1545258750000);
  assert.deepEqual([h.chainId, h.height, h.view, h.parentView, h.lastViewTC], ['flow-emulator', 0, 0, 0, null]);
  assert.equal(h.proposerSigData.length, 0);
  assert.equal(
    toHex(preimage((w, x: typeof h) => writeHeader(w, x, ZERO), h)),
    'f89e8d666c6f772d656d756c61746f72a0000000000000000000000000000000000000000000000000000000000000000080a04d0bdbeabeca' +
      '734b7abc7908770d582fa48c5f443452ae0629d5fc4e2fa9886c860167c899503080808080a00000000000000000000000000000000000000000' +
      '000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000',
  );
  assert.equal(toHex(preimage(writeKVStore, r.kvStore)), 'ea01e8e7c1c0a036874ba6473f1f5366c9c601f78b821aff791b6403b0e0c39e52fee1b4eef3a782025864');
});

test('ACCESS 5.5: the fixture v1 Data (134 bytes) decodes, and the encoder writes the same bytes', () => {
  const data = Buffer.from(psEntry(JSON.parse(FIXTURE1)).KVStore.Data, 'base64');
  assert.equal(data.length, 134);
  const kv = decodeKVStoreData(1, data, '$.Data');
  assert.deepEqual(kv, {
    version: 1,
    versionUpgrade: null,
    epochStateId: fromHex('36874ba6473f1f5366c9c601f78b821aff791b6403b0e0c39e52fee1b4eef3a7'),
    epochExtensionViewCount: 600,
    finalizationSafetyThreshold: 100,
  });
  const out = encodeKVStoreData(kv);
  assert.deepEqual(Buffer.from(out), data);
  const hex = toHex(out);
  assert.ok(hex.startsWith('84ae' + Buffer.from('VersionUpgrade').toString('hex') + 'c0ac' + Buffer.from('EpochStateID').toString('hex') + 'c420'));
  assert.ok(
    hex.endsWith(
      'b7' +
        Buffer.from('EpochExtensionViewCount').toString('hex') +
        'cf0000000000000258bb' +
        Buffer.from('FinalizationSafetyThreshold').toString('hex') +
        'cf0000000000000064',
    ),
  );
});

/** A v3 KV store with Go maps written out of key order and a 2^64-1 memory limit. */
function kvV3(epochStateIdValue: Uint8Array): KVStore {
  return {
    version: 3,
    versionUpgrade: { data: 4, activationView: 9007199254740993n },
    epochStateId: epochStateIdValue,
    epochExtensionViewCount: 600,
    finalizationSafetyThreshold: 100,
    executionMeteringParameters: {
      current: {
        effortWeights: [
          [1, 5],
          [7, 9007199254740992n],
        ],
        memoryWeights: [],
        memoryLimit: U64_MAX,
      },
      update: {
        data: {
          effortWeights: [[2, 3]],
          memoryWeights: [
            [0, 1],
            [4294967295, 2],
          ],
          memoryLimit: 10,
        },
        activationView: 77,
      },
    },
    executionComponentVersion: { current: { major: 0, minor: 0 }, update: { data: { major: 1, minor: 2 }, activationView: 5 } },
    cadenceComponentVersion: { current: { major: 3, minor: 4 }, update: null },
  };
}

test('ACCESS 5.5: v3 round-trips with uint64 exact; Go maps in any order come back sorted; wrong key sets are refused', () => {
  const kv = kvV3(new Uint8Array(32).fill(9));
  const bytes = encodeKVStoreData(kv);
  assert.deepEqual(decodeKVStoreData(3, bytes, '$.D'), kv);
  // the effort weights map in reverse order, with compact integers (any valid msgpack is accepted)
  const hex = Buffer.from(bytes).toString('hex');
  const effort = '82' + 'ce00000001' + 'cf0000000000000005' + 'ce00000007' + 'cf0020000000000000';
  assert.ok(hex.includes(effort));
  const swapped = Buffer.from(hex.replace(effort, '82' + '07' + 'cf0020000000000000' + '01' + 'cd0005'), 'hex');
  assert.deepEqual(decodeKVStoreData(3, swapped, '$.D').executionMeteringParameters!.current.effortWeights, [
    [1, 5],
    [7, 9007199254740992n],
  ]);
  const refusal = (v: number, b: Uint8Array, reason: RegExp) =>
    assert.throws(
      () => decodeKVStoreData(v, b, '$.KVStore.Data'),
      (e: unknown) => e instanceof MappingError && e.path === '$.KVStore.Data' && reason.test(e.reason),
    );
  refusal(2, bytes, /KV store v2 Data: unexpected key "ExecutionMeteringParameters"/);
  const v2 = encodeKVStoreData({ ...kv, version: 2 });
  refusal(3, v2, /missing key "ExecutionMeteringParameters"/);
  refusal(4, v2, /Version 4 is not supported/);
  refusal(2, Uint8Array.from([...v2, 0xc0]), /1 trailing byte/);
  refusal(2, v2.subarray(0, 50), /msgpack truncated/);
  const dupKey = Buffer.from(Buffer.from(v2).toString('hex').replace(/^84/, '85') + 'ae' + Buffer.from('VersionUpgrade').toString('hex') + 'c0', 'hex');
  refusal(2, dupKey, /duplicate map key "VersionUpgrade"/);
  const dupWeight = Buffer.from(hex.replace(effort, '82' + '01' + 'cf0000000000000005' + '01' + 'cf0000000000000006'), 'hex');
  refusal(3, dupWeight, /duplicate map key "1"/);
  const shortId = Buffer.from(
    Buffer.from(v2)
      .toString('hex')
      .replace('c420' + '09'.repeat(32), 'c41f' + '09'.repeat(31)),
    'hex',
  );
  refusal(2, shortId, /EpochStateID: expected a 32-byte bin, got bin 31/);
});

// ---------------------------------------------------------------- 7.4, 7.5

test('ACCESS 7.4: the fixture maps with a result-id warning, and validateRoot refuses it on check 4 naming both ids', () => {
  const m = mapRootSnapshot(FIXTURE1);
  assert.ok(
    m.warnings.some((w) => /JSON ID 77da3943\w+ differs from ID\(rootResult\) b8da2633\w+/.test(w)),
    m.warnings.join('\n'),
  );
  assert.ok(m.warnings.some((w) => /Chunks\[0\]\.ServiceEventCount is null/.test(w)));
  assert.equal(m.root.params.sporkRootView, 0); // SporkRootBlockView missing → R.View
  assert.equal(m.root.versionBeacon, null);
  const problem = validateRoot(m.root);
  assert.match(
    problem ?? '',
    /^check 4: rootSeal\.resultId 77da394347683bc3c80a2abde5f1a3c405d8f6d1ba66b5fa301aade4fc6c0b95 != ID\(rootResult\) b8da2633323ff263cc0bcf3c4224fc29054bc1226d86ac3c3ae4a7c6ca90d6e0$/,
  );
});

test('ACCESS 7.4: the -sec0 variant maps without warnings and validateRoot accepts it', () => {
  const m = mapRootSnapshot(FIXTURE1_SEC0);
  assert.deepEqual(m.warnings, []);
  assert.equal(validateRoot(m.root), null);
  assert.equal(toHex(sealId(m.firstSeal)).slice(0, 8), 'ab555c0c');
  assert.equal(toHex(m.root.rootSeal.resultId), 'b8da2633323ff263cc0bcf3c4224fc29054bc1226d86ac3c3ae4a7c6ca90d6e0');
});

/** Field `n` (length-delimited) of a protobuf message: the first occurrence. */
function pbField(msg: Uint8Array, n: number): Uint8Array | null {
  let p = 0;
  const varint = () => {
    let x = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = msg[p++];
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return x;
    }
  };
  while (p < msg.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = Number(varint());
      if (key >> 3 === n) return msg.subarray(p, p + len);
      p += len;
    } else throw new Error(`wire type ${wire}`);
  }
  return null;
}

test('ACCESS 7.5: the shape-C wire root maps, passes validateRoot, and is the parent of the first block', () => {
  const m = mapRootSnapshot(WIRE_ROOT);
  assert.equal(m.shape, 'C');
  assert.deepEqual(m.warnings, []);
  assert.equal(validateRoot(m.root), null);
  assert.equal(m.root.kvStore.version, 2);
  assert.equal(m.root.params.sporkRootView, 3489270);
  assert.deepEqual(m.root.versionBeacon, { beacon: { boundaries: [{ blockHeight: 3487284, version: '0.38.0' }], sequence: 57 }, sealHeight: 3488091 });
  const index = JSON.parse(fixture('access/index.json'));
  assert.equal(toHex(m.rootId), index.root.id);
  assert.equal(toHex(payloadHash(m.root.rootBlock.payload)), index.root.payloadHash);
  assert.equal(toHex(sealId(m.firstSeal)), index.root['sealId (with approvals)']);
  const first = index.blocks[0];
  assert.equal(BigInt(first.height), BigInt(index.rootHeight) + 1n);
  const block = pbField(readFileSync(new URL(`../../test/fixtures/access/${first.file}`, import.meta.url)), 1)!;
  const header = pbField(block, 10)!;
  assert.equal(toHex(pbField(header, 2)!), toHex(m.rootId));
  assert.equal(toHex(pbField(block, 2)!), toHex(m.rootId));
});

test('ACCESS 7.5: rootSnapshotToFlowJson writes the wire root byte for byte', () => {
  assert.equal(rootSnapshotToFlowJson(mapRootSnapshot(WIRE_ROOT).root), WIRE_ROOT);
});

test('ACCESS 6.6: the optional expected rootParentId and rootStateCommitment are checked', () => {
  const r = mapRootSnapshot(WIRE_ROOT).root;
  assert.doesNotThrow(() => mapRootSnapshot(WIRE_ROOT, { rootParentId: r.rootBlock.header.parentId, rootStateCommitment: r.rootSeal.finalState }));
  assert.throws(
    () => mapRootSnapshot(WIRE_ROOT, { rootParentId: ZERO }),
    (e: unknown) => e instanceof RootRefused && e.path === '$.SealingSegment.Blocks[0].Block.ParentID' && /46c1d7ec\w{56} != expected 0{64}/.test(e.reason),
  );
  assert.throws(
    () => mapRootSnapshot(WIRE_ROOT, { rootStateCommitment: ZERO }),
    (e: unknown) =>
      e instanceof RootRefused && e.path === '$.SealingSegment.FirstSeal.FinalState' && /rootStateCommitment: 3ec69a30\w+ != expected 0{64}/.test(e.reason),
  );
});

// ---------------------------------------------------------------- refusals

test('ACCESS 5.3: a shape-A snapshot is refused as pre-v0.43', () => {
  const unwrapped = edited(FIXTURE1_SEC0, (o) => {
    const b = o.SealingSegment.Blocks[0].Block;
    o.SealingSegment.Blocks[0] = { Header: { ...b.Header, ProposerSigData: null }, Payload: b.Payload };
  });
  refuses(unwrapped, '$.SealingSegment.Blocks[0]', /^pre-v0\.43 snapshot: not supported \(the block has no "Block" key/, RootRefused);
  const olderTop = edited(unwrapped, (o) => (o.LatestSeal = null));
  refuses(olderTop, '$.SealingSegment.Blocks[0]', /^pre-v0\.43 snapshot: not supported/, RootRefused);
  const rfc3339 = edited(WIRE_ROOT, (o) => (o.SealingSegment.Blocks[0].Block.Timestamp = '2024-03-01T20:51:02.924Z'));
  refuses(rfc3339, '$.SealingSegment.Blocks[0]', /^pre-v0\.43 snapshot: not supported \(the header Timestamp is an RFC 3339 string/, RootRefused);
});

test('ACCESS 5.7: snapshots that are not a spork root are refused with the reason', () => {
  const two = edited(WIRE_ROOT, (o) => o.SealingSegment.Blocks.push(o.SealingSegment.Blocks[0]));
  refuses(
    two,
    '$.SealingSegment.Blocks',
    /not a spork-root snapshot: 2 blocks .*exactly 1\). A mid-spork snapshot cannot be a SPEC root: .*bad-seal/,
    RootRefused,
  );
  const mid = edited(WIRE_ROOT, (o) => (o.Params.SporkRootBlockHeight = 3488000));
  refuses(
    mid,
    '$.SealingSegment.Blocks[0]',
    /not a spork-root snapshot: its block is at height 3488091, but Params\.SporkRootBlockHeight is 3488000 .*mid-spork/,
    RootRefused,
  );
  const noSeal = edited(WIRE_ROOT, (o) => (o.SealingSegment.FirstSeal = null));
  refuses(noSeal, '$.SealingSegment.FirstSeal', /not a spork-root snapshot: FirstSeal is null/, RootRefused);
  const empty = edited(WIRE_ROOT, (o) => (o.SealingSegment.Blocks = []));
  refuses(empty, '$.SealingSegment.Blocks', /no blocks/, RootRefused);
});

test('ACCESS 5.7: missing items are refused', () => {
  refuses(
    edited(WIRE_ROOT, (o) => (psEntry(o).EpochEntry.CurrentEpoch = null)),
    null,
    /missing item: null, but a spork root needs it/,
    RootRefused,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.ProtocolStateEntries = {})),
    '$.SealingSegment.ProtocolStateEntries',
    /missing item: no entry for the root block's ProtocolStateID a546f76e/,
    RootRefused,
  );
  const otherResult = edited(WIRE_ROOT, (o) => {
    o.SealingSegment.ExecutionResults[0].ID = toHex(ZERO);
    o.SealingSegment.ExecutionResults[0].Chunks[0].Index = 1;
  });
  refuses(otherResult, '$.SealingSegment.ExecutionResults', /missing item: no result with the ID of FirstSeal\.ResultID bd3b29fa/, RootRefused);
});

test('ACCESS 6.6: unknown keys in id-feeding objects are refused; informational keys are ignored', () => {
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.Blocks[0].Block.Extra = 1)),
    '$.SealingSegment.Blocks[0].Block.Extra',
    /unknown key "Extra"/,
  );
  refuses(
    edited(FIXTURE1_SEC0, (o) => (o.SealingSegment.Blocks[0].Block.Header.Extra = 1)),
    '$.SealingSegment.Blocks[0].Block.Header.Extra',
    /unknown key "Extra"/,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (o.Params.ProtocolVersion = 1)),
    '$.Params.ProtocolVersion',
    /unknown key "ProtocolVersion"/,
  );
  refuses(
    edited(WIRE_ROOT, (o) => delete o.SealingSegment.Blocks[0].Block.View),
    '$.SealingSegment.Blocks[0].Block.View',
    /missing key/,
  );
  const informational = edited(WIRE_ROOT, (o) => {
    o.QuorumCertificate = { anything: true };
    o.SealingSegment.ExtraBlocks = [{ junk: 1 }];
    o.SealingSegment.SporkRootBlock = 'ignored';
    psEntry(o).EpochEntry.CurrentEpochIdentityTable = [{ ParticipationStatus: 'whatever' }];
  });
  assert.equal(toHex(mapRootSnapshot(informational).rootId), toHex(mapRootSnapshot(WIRE_ROOT).rootId));
});

test('ACCESS 5.5, 6.6: a KV Version 4 and a KV Data with an extra key are refused', () => {
  const psPath = '$.SealingSegment.ProtocolStateEntries["a546f76ec15e8a4b8c3a92f8ce66f9f6ac1663b23e8b7becc5f3b807913dc9a1"].KVStore';
  refuses(
    edited(WIRE_ROOT, (o) => (psEntry(o).KVStore.Version = 4)),
    `${psPath}.Version`,
    /KV store Version 4 is not supported/,
    RootRefused,
  );
  const extra = edited(WIRE_ROOT, (o) => {
    const data = Buffer.from(psEntry(o).KVStore.Data, 'base64');
    const more = Buffer.concat([Uint8Array.of(0x85), data.subarray(1), Uint8Array.of(0xa5), Buffer.from('Extra'), Uint8Array.of(0xc0)]);
    psEntry(o).KVStore.Data = more.toString('base64');
  });
  refuses(extra, `${psPath}.Data`, /KV store v2 Data: unexpected key "Extra"/);
});

test('ACCESS 5.7: failed cross-checks name the check and both values', () => {
  const rootHex = mapRootSnapshot(WIRE_ROOT).rootId;
  refuses(
    edited(WIRE_ROOT, (o) => (o.Params.SporkID = 'ab'.repeat(32))),
    '$.Params.SporkID',
    new RegExp(`cross-check failed: Params\\.SporkID equals the root block ID: ${'ab'.repeat(32)} != root block ID ${toHex(rootHex)}`),
    RootRefused,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.Blocks[0].Block.ID = 'cd'.repeat(32))),
    '$.SealingSegment.Blocks[0].Block.ID',
    new RegExp(`JSON ID of the root block equals its recomputed header ID: ${'cd'.repeat(32)} != recomputed ${toHex(rootHex)}`),
    RootRefused,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (o.Params.ChainID = 'flow-testnet')),
    '$.Params.ChainID',
    /"flow-testnet" != "flow-mainnet"/,
    RootRefused,
  );
  const latestPath = `$.SealingSegment.LatestSeals["${toHex(rootHex)}"]`;
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.LatestSeals[toHex(rootHex)] = 'ef'.repeat(32))),
    latestPath,
    new RegExp(`LatestSeals\\[rootId\\] equals ID\\(FirstSeal\\) \\(with its approval signatures\\): ${'ef'.repeat(32)} != ID\\(FirstSeal\\) 5f00dd42`),
    RootRefused,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.LatestSeals = {})),
    '$.SealingSegment.LatestSeals',
    /LatestSeals has no entry for the root block ID/,
    RootRefused,
  );
  // the seal id covers the approval signatures: adding one breaks the LatestSeals check
  refuses(
    edited(WIRE_ROOT, (o) => o.SealingSegment.FirstSeal.AggregatedApprovalSigs.push({ VerifierSignatures: ['AA=='], SignerIDs: [] })),
    latestPath,
    /LatestSeals\[rootId\]/,
    RootRefused,
  );
});

test('ACCESS 4.4, 6.6: out-of-range integers, bad base64, an unknown role, bad event types and duplicate keys are refused', () => {
  const r0 = '$.SealingSegment.ExecutionResults[0]';
  refuses(WIRE_ROOT.replace('"Height":3488091', '"Height":18446744073709551616'), '$.SealingSegment.Blocks[0].Block.Height', /above the uint64 range/);
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.ExecutionResults[0].Chunks[0].ServiceEventCount = 65536)),
    `${r0}.Chunks[0].ServiceEventCount`,
    /above the uint16 range/,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (o.SealingSegment.Blocks[0].ProposerSigData = 'abc')),
    '$.SealingSegment.Blocks[0].ProposerSigData',
    /not standard padded base64/,
  );
  refuses(
    edited(WIRE_ROOT, (o) => (psEntry(o).EpochEntry.CurrentEpochSetup.Participants[2].Role = 'observer')),
    '$.SealingSegment.ProtocolStateEntries["a546f76ec15e8a4b8c3a92f8ce66f9f6ac1663b23e8b7becc5f3b807913dc9a1"].EpochEntry.CurrentEpochSetup.Participants[2].Role',
    /unknown role "observer"/,
  );
  for (const type of ['flow.Unknown', 'set-execution-component-version', 'set-cadence-component-version', 'set-execution-metering-parameters']) {
    refuses(
      edited(WIRE_ROOT, (o) => (o.SealingSegment.ExecutionResults[0].ServiceEvents[1].Type = type)),
      `${r0}.ServiceEvents[1].Event`,
      new RegExp(`"${type}"`),
    );
  }
  refuses(WIRE_ROOT.replace('"Params":{', '"Params":{"ChainID":"x",'), '$', /JSON syntax error at byte \d+: duplicate key "ChainID"/);
  refuses(WIRE_ROOT.slice(0, 1000), '$', /JSON syntax error at byte 952: unterminated string/);
  refuses(WIRE_ROOT.slice(0, 952), '$', /JSON syntax error at byte 952: unexpected end of input/);
});

test('ACCESS 6.6: a root commit whose index map is not a permutation refuses the root (it has no id) instead of crashing', () => {
  const entryPath = '$.SealingSegment.ProtocolStateEntries["a546f76ec15e8a4b8c3a92f8ce66f9f6ac1663b23e8b7becc5f3b807913dc9a1"].EpochEntry';
  const bump = (m: Record<string, number>) => {
    const k = Object.keys(m).find((x) => m[x] === 0)!;
    m[k] = 99;
  };
  refuses(
    edited(WIRE_ROOT, (o) => bump(psEntry(o).EpochEntry.CurrentEpochCommit.DKGIndexMap)),
    `${entryPath}.CurrentEpochCommit.DKGIndexMap`,
    /not a permutation of 0\.\.\d+/,
    RootRefused,
  );
  refuses(
    edited(WIRE_ROOT, (o) => bump(o.SealingSegment.ExecutionResults[0].ServiceEvents[1].Event.DKGIndexMap)),
    '$.SealingSegment.ExecutionResults',
    /ID\(rootResult\) cannot be computed/,
    RootRefused,
  );
});

// ---------------------------------------------------------------- property: synth roots round-trip

/**
 * The value as the mapping gives it: DKG index maps in (index, node id) order, and bytes as
 * plain Uint8Arrays (the model code also hands out Buffers, which deepStrictEqual tells apart).
 */
function canonical<T>(x: T): T {
  if (Array.isArray(x)) return x.map(canonical) as T;
  if (x instanceof Uint8Array) return new Uint8Array(x) as T;
  if (x === null || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    out[k] =
      k === 'dkgIndexMap'
        ? canonical([...(v as [Uint8Array, number][])].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : compareBytes(a[0], b[0]))))
        : canonical(v);
  }
  return out as T;
}

/** Synth roots carry a random params.sporkId; a node always writes the root id there (5.2). */
function roundTrip(root: RootSnapshot): void {
  const m = mapRootSnapshot(rootSnapshotToFlowJson(root));
  assert.equal(m.shape, 'C');
  assert.deepEqual(m.warnings, []);
  const want = canonical({ ...root, params: { ...root.params, sporkId: headerId(root.rootBlock.header) } });
  assert.deepEqual(m.root, want);
  assert.equal(validateRoot(m.root), validateRoot(root));
  assert.equal(rootSnapshotToFlowJson(m.root), rootSnapshotToFlowJson(root), 'stable text');
}

async function synthRoot(seed: number, blocks = 50): Promise<{ root: RootSnapshot; records: BlockRecord[] }> {
  let root: RootSnapshot | null = null;
  const records: BlockRecord[] = [];
  await synthesize({ blocks, seed }, { root: (r) => void (root = r), block: (rec) => void records.push(rec) });
  return { root: root!, records };
}

test('ACCESS 5: synth roots (KV v2) round-trip through rootSnapshotToFlowJson / mapRootSnapshot', async () => {
  for (const seed of [1, 2, 3]) {
    const { root } = await synthRoot(seed);
    assert.equal(validateRoot(root), null);
    assert.equal(root.kvStore.version, 2);
    roundTrip(root);
    roundTrip({
      ...root,
      versionBeacon: { beacon: { boundaries: [{ blockHeight: 2n ** 63n, version: '1.2.3' }], sequence: 9007199254740993n }, sealHeight: 5 },
    });
  }
});

test('ACCESS 5: a KV v3 root and a root with a full payload and a TC round-trip', async () => {
  const { root, records } = await synthRoot(1, 400);
  const v3: RootSnapshot = { ...root, kvStore: kvV3(root.kvStore.epochStateId) };
  v3.rootBlock = { header: { ...root.rootBlock.header }, payload: { ...root.rootBlock.payload, protocolStateId: kvStoreId(v3.kvStore) } };
  v3.rootBlock.header.payloadHash = payloadHash(v3.rootBlock.payload);
  const v3Id = headerId(v3.rootBlock.header);
  v3.rootResult = { ...root.rootResult, blockId: v3Id };
  v3.rootSeal = { ...root.rootSeal, blockId: v3Id, resultId: resultId(v3.rootResult) };
  assert.equal(validateRoot(v3), null);
  roundTrip(v3);

  const flowGoOnly = (rec: BlockRecord) =>
    rec.payload.results.every((r) => r.serviceEvents.every((e) => !e.unknown && !e.type.startsWith('set-execution') && !e.type.startsWith('set-cadence')));
  const full = records.find(
    (rec) =>
      rec.header.lastViewTC !== null &&
      rec.payload.guarantees.length > 0 &&
      rec.payload.seals.length > 0 &&
      rec.payload.receipts.length > 0 &&
      rec.payload.results.length > 0 &&
      flowGoOnly(rec),
  );
  assert.ok(full, 'a synth block with a TC and all four payload lists');
  const other: RootSnapshot = { ...root, rootBlock: { header: { ...full.header, proposerSigData: Uint8Array.of(1, 2, 3) }, payload: full.payload } };
  other.params = { ...root.params, sporkRootHeight: full.header.height, sporkRootView: full.header.view };
  roundTrip(other);
});
