// SPEC 8: ids.json, payloads.json and blocks.json, computed with the Flow node's own encoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, ZERO } from '../src/model/bytes.js';
import { fromJson } from '../src/model/codec.js';
import * as ids from '../src/model/ids.js';
import { payloadElementIds, payloadHash, payloadRoots } from '../src/model/payload.js';
import * as S from '../src/model/schema.js';
import type { RlpWriter } from '../src/model/rlp.js';
import { loadVectors } from './helpers/vectors.js';

type Entry = [S.Kind, (w: RlpWriter, x: any) => void, (x: any) => Uint8Array];
const BY_TYPE: Record<string, Entry> = {
  qc: [S.QC, ids.writeQC, ids.qcId],
  tc: [S.TimeoutCertificate, ids.writeTC, ids.tcId],
  header: [S.Header, (w, h) => ids.writeHeader(w, h, h.lastViewTC ? ids.tcId(h.lastViewTC) : ZERO), ids.headerId],
  guarantee: [S.Guarantee, ids.writeGuarantee, ids.guaranteeId],
  seal: [S.Seal, ids.writeSeal, ids.sealId],
  receiptStub: [S.ReceiptStub, ids.writeReceiptStub, ids.receiptStubId],
  chunk: [S.Chunk, ids.writeChunk, ids.chunkId],
  result: [S.Result, ids.writeResult, ids.resultId],
  serviceEvent: [S.event, ids.writeServiceEvent, ids.serviceEventId],
  setup: [S.EpochSetup, ids.writeSetup, ids.setupId],
  commit: [S.EpochCommit, ids.writeCommit, ids.commitId],
  recover: [S.EpochRecover, ids.writeRecover, ids.recoverId],
  kvStore: [S.KVStore, ids.writeKVStore, ids.kvStoreId],
  epochState: [S.EpochState, ids.writeEpochState, ids.epochStateId],
};

test('1.3/2: ids.json — every value has the expected RLP preimage and id', () => {
  const file = loadVectors('ids.json');
  const counts: Record<string, number> = {};
  for (const v of file.vectors) {
    const entry = BY_TYPE[v.type];
    assert.ok(entry, `no mapping for vector type ${v.type}`);
    const [kind, write, idOf] = entry;
    const value = fromJson(v.value, kind);
    assert.equal(toHex(ids.preimage(write, value)), v.rlp, `${v.name}: rlp`);
    assert.equal(toHex(idOf(value)), v.id, `${v.name}: id`);
    counts[v.type] = (counts[v.type] ?? 0) + 1;
  }
  console.log(`ids.json: ${file.vectors.length} vectors passed`, JSON.stringify(counts));
});

test('2.2: payloads.json — roots and payload hash', () => {
  const file = loadVectors('payloads.json');
  for (const v of file.vectors) {
    const p = fromJson(v.payload, S.Payload);
    const roots = payloadRoots(payloadElementIds(p)).map(toHex);
    assert.deepEqual(roots, [v.roots.guarantees, v.roots.seals, v.roots.receipts, v.roots.results], `${v.name}: roots`);
    assert.equal(toHex(payloadHash(p)), v.payloadHash, `${v.name}: payloadHash`);
  }
  console.log(`payloads.json: ${file.vectors.length} vectors passed`);
});

test('2.1: blocks.json — payload hash and block id', () => {
  const file = loadVectors('blocks.json');
  for (const v of file.vectors) {
    const header = fromJson(v.header, S.Header);
    const payload = fromJson(v.payload, S.Payload);
    assert.equal(toHex(payloadHash(payload)), v.payloadHash, `${v.name}: payloadHash`);
    assert.equal(toHex(header.payloadHash), v.payloadHash, `${v.name}: header carries the payload hash`);
    assert.equal(toHex(ids.headerId(header)), v.blockId, `${v.name}: blockId`);
  }
  console.log(`blocks.json: ${file.vectors.length} vectors passed`);
});
