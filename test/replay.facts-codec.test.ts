// The facts that cross from the integrity workers (replay/facts-codec.ts): every block's facts
// of the scenario vectors and the incident spork come back equal from one transferred buffer,
// and so do headers with integers above 2^53 (they travel in the side list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { BlockFacts } from '../src/replay/facts.js';
import { decodeFacts, encodeFacts } from '../src/replay/facts-codec.js';
import { IntegrityStage } from '../src/replay/integrity.js';
import { withImported } from './helpers/store.js';
import { vectorPath } from './helpers/vectors.js';

/** Bytes as hex, so that views and copies compare by content; the store's order key is not sent. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'orderKey')
        .map(([k, x]) => [k, plain(x)]),
    );
  return v;
}

function factsOf(archive: string): Promise<BlockFacts[]> {
  return withImported(archive, async (store) => {
    const out: BlockFacts[] = [];
    const stage = new IntegrityStage(store, 0, null);
    for await (const items of stage.run()) for (const item of items) out.push(item.facts!);
    return out;
  });
}

test('facts codec: the facts of every scenario and the incident spork round-trip, in batches', async () => {
  const archives = readdirSync(vectorPath('scenarios'))
    .filter((f) => f.endsWith('.spork'))
    .map((f) => vectorPath(`scenarios/${f}`));
  archives.push(new URL('../../data/incident.spork', import.meta.url).pathname);
  const seen = { decodeError: 0, idMismatch: 0, payloadMismatch: 0, events: 0, tc: 0 };
  for (const a of archives) {
    const facts = await factsOf(a);
    for (let i = 0; i < facts.length; i += 97) {
      const batch = facts.slice(i, i + 97);
      assert.deepEqual(plain(decodeFacts(encodeFacts(batch))), plain(batch), a);
    }
    for (const f of facts) {
      if (f.decodeError !== null) seen.decodeError++;
      if (f.idMismatch !== null) seen.idMismatch++;
      if (f.payloadMismatch !== null) seen.payloadMismatch++;
      if (f.results.some((r) => r.events.length > 0)) seen.events++;
      if (f.header?.tc) seen.tc++;
    }
  }
  for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, `no facts with ${k}`);
});

test('facts codec: headers with integers above 2^53 and an empty batch round-trip', () => {
  const big: BlockFacts = {
    record: 7,
    id: new Uint8Array(32).fill(1),
    finalized: true,
    decodeError: null,
    header: {
      chainId: 'flow-mainnet',
      parentId: new Uint8Array(32).fill(2),
      height: 2n ** 60n,
      view: 2n ** 64n - 1n,
      parentView: 5,
      timestamp: 6,
      tc: { view: 2n ** 55n, newestQCView: 3 },
    },
    idMismatch: null,
    payloadMismatch: null,
    protocolStateId: new Uint8Array(32).fill(3),
    seals: [{ blockId: new Uint8Array(32).fill(4), resultId: new Uint8Array(32).fill(5) }],
    results: [],
  };
  assert.deepEqual(plain(decodeFacts(encodeFacts([big]))), plain([big]));
  assert.deepEqual(decodeFacts(encodeFacts([])), []);
});
