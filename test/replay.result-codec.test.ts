// The stored result record (replay/result-codec.ts): every result the evaluator produces on the
// scenario vectors and the incident spork comes back equal from its bytes, and so do random
// results with every optional part, integers above 2^53 and edge lengths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { VERDICTS, type BlockResult } from '../src/replay/evaluate.js';
import { decodeResult, encodeResult } from '../src/replay/result-codec.js';
import { Rng, U64_EDGES } from './helpers/random.js';
import { evaluatedResults, withImported } from './helpers/store.js';
import { vectorPath } from './helpers/vectors.js';

/** Bytes as hex, so that Buffer, Uint8Array and views compare by content. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function roundTrip(r: BlockResult): void {
  const bytes = Buffer.from(encodeResult(r)); // a copy: the encoder reuses its buffer
  assert.deepEqual(plain(decodeResult(bytes)), plain(r));
  const lines = decodeResult(bytes, true);
  assert.deepEqual(plain(lines), plain({ ...r, link: null, included: [] }));
  assert.deepEqual(Object.keys(decodeResult(bytes)), Object.keys(r), 'fields in the order the evaluator makes them');
}

function evaluatorResults(archive: string): Promise<BlockResult[]> {
  return withImported(archive, evaluatedResults);
}

test('result codec: every result of the scenario vectors and the incident spork round-trips', async () => {
  const archives = readdirSync(vectorPath('scenarios'))
    .filter((f) => f.endsWith('.spork'))
    .map((f) => vectorPath(`scenarios/${f}`));
  archives.push(new URL('../../data/incident.spork', import.meta.url).pathname);
  const seen = { events: 0, failed: 0, beacons: 0, includedEvents: 0, pending: 0, results: 0 };
  for (const a of archives) {
    for (const r of await evaluatorResults(a)) {
      roundTrip(r);
      seen.results++;
      if (r.events.length > 0) seen.events++;
      if (r.failed.length > 0) seen.failed++;
      if (r.beacons.length > 0) seen.beacons++;
      if (r.pendingUpgrade !== null) seen.pending++;
      if (r.included.some((i) => i.events.length > 0)) seen.includedEvents++;
    }
  }
  // the corpus exercises every optional part of the layout
  for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, `no result with ${k}`);
});

test('result codec: random results (u64 edges, nulls, TC, tails, long texts) round-trip', () => {
  const rng = new Rng(20261204);
  const u64 = () => (rng.chance(0.2) ? null : rng.pick(U64_EDGES));
  const num = () => rng.pick(U64_EDGES.filter((x): x is number => typeof x === 'number'));
  const hex = () => Buffer.from(rng.bytes(32)).toString('hex');
  const text = () => (rng.chance(0.3) ? null : 'v'.repeat(rng.int(3)) + (rng.chance(0.1) ? 'é'.repeat(300) : '1.2.3'));
  for (let i = 0; i < 2000; i++) {
    const failed = rng.chance(0.3) ? [rng.pick(VERDICTS.filter((v) => v !== 'ok'))] : [];
    const included = Array.from({ length: rng.int(3) }, () => ({
      id: rng.bytes(32),
      blockId: rng.bytes(32),
      events: rng.chance(0.2) ? [{ type: 'EpochSetup', counter: u64(), data: rng.bytes(5) } as any] : [],
    }));
    const r: BlockResult = {
      record: num(),
      id: rng.chance(0.1) ? null : hex(),
      height: u64(),
      view: u64(),
      parentId: rng.chance(0.1) ? null : hex(),
      finalized: rng.chance(0.5),
      verdict: failed[0] ?? 'ok',
      failed,
      failedRules: failed.length > 0 ? ['6.state-mismatch'] : [],
      reasons: failed.length > 0 ? { [failed[0]]: `because ${i}` } : {},
      committedStateId: rng.chance(0.2) ? null : hex(),
      computedStateId: rng.chance(0.2) ? null : hex(),
      protocolStateVersion: rng.chance(0.2) ? null : rng.int(5),
      executionComponentVersion: text(),
      cadenceComponentVersion: text(),
      pendingUpgrade: rng.chance(0.2) ? { version: u64() ?? 3, activationView: u64() ?? 7 } : null,
      epochCounter: u64(),
      epochPhase: rng.chance(0.5) ? null : 'staking',
      epochFinalView: u64(),
      events: rng.chance(0.2) ? [{ type: 'ProtocolStateVersionUpgrade', outcome: 'applied', reason: '' }] : [],
      eventRules: [],
      sealsPassed: rng.chance(0.5),
      beacons: rng.chance(0.1) ? [{ beacon: { sequence: u64() ?? 0, versionBoundaries: [] } as any, emittedAtHeight: u64() ?? 1 }] : [],
      unknownEvents: rng.int(3),
      link: rng.chance(0.2)
        ? null
        : {
            chainId: rng.pick(['flow-mainnet', 'x', 'é'.repeat(40)]),
            parentId: rng.bytes(32),
            height: u64() ?? 1,
            view: u64() ?? 2,
            parentView: u64() ?? 1,
            timestamp: u64() ?? 0,
            tc: rng.chance(0.3) ? { view: u64() ?? 4, newestQCView: u64() ?? 3 } : null,
          },
      lastSealed: u64(),
      included,
      retry: rng.chance(0.1),
    };
    roundTrip(r);
  }
});
