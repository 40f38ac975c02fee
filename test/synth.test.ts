// src/synth: determinism, self-consistency of every generated block (recomputed with the library
// functions and an independent mini replay of SPEC 6), the fault manifest, and the storyline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { BlockRecord, Header, Result, RootSnapshot, ServiceEvent } from '../src/model/types.js';
import { toHex } from '../src/model/bytes.js';
import { headerId, resultId } from '../src/model/ids.js';
import { payloadHash } from '../src/model/payload.js';
import { encodeArchiveHeader, encodeBlockRecord, parseArchiveBytes } from '../src/model/archive.js';
import { evolve, makeSnapshot } from '../src/protocol/evolve.js';
import type { EventOutcome, ProtocolSnapshot } from '../src/protocol/evolve.js';
import { phase } from '../src/protocol/epoch.js';
import { synthesize, writeSporkArchive, parseFaults, FAULT_KINDS } from '../src/synth/index.js';
import type { SynthBlockInfo, SynthOptions, SynthSummary } from '../src/synth/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'spork-synth-test-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

interface Collected {
  root: RootSnapshot;
  records: BlockRecord[];
  infos: SynthBlockInfo[];
  bytes: Uint8Array;
  summary: SynthSummary;
}

async function collect(opts: SynthOptions): Promise<Collected> {
  let root: RootSnapshot | null = null;
  const records: BlockRecord[] = [];
  const infos: SynthBlockInfo[] = [];
  const parts: Uint8Array[] = [];
  const summary = await synthesize(opts, {
    root(r) {
      root = r;
      parts.push(encodeArchiveHeader(r));
    },
    block(rec, info) {
      records.push(rec);
      infos.push(info);
      parts.push(info.raw ?? encodeBlockRecord(rec));
    },
  });
  return { root: root!, records, infos, bytes: new Uint8Array(Buffer.concat(parts)), summary };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ------------------------------------------------------------------ an independent mini replay (SPEC 6)

interface Evaluated {
  id: string;
  header: Header | null;
  verdict: string;
  failed: string[];
  snap: ProtocolSnapshot | null;
  lastSealed: number;
  finalized: boolean;
  outcomes: EventOutcome[];
  events: ServiceEvent[];
  resultIds: Set<string>;
}

const ORDER = ['decode-error', 'id-mismatch', 'payload-mismatch', 'unknown-parent', 'bad-linkage', 'descends-from-invalid', 'bad-seal', 'unsupported-version', 'state-mismatch'];

function miniReplay(bytes: Uint8Array): { root: RootSnapshot; blocks: Evaluated[] } {
  const { header: root, blocks, framingError } = parseArchiveBytes(bytes);
  assert.equal(framingError, null);
  const rh = root.rootBlock.header;
  const byId = new Map<string, Evaluated>();
  const results = new Map<string, Result>();
  const rootRes = new Set<string>([toHex(resultId(root.rootResult))]);
  results.set(toHex(resultId(root.rootResult)), root.rootResult);
  for (const r of root.rootBlock.payload.results) {
    results.set(toHex(resultId(r)), r);
    rootRes.add(toHex(resultId(r)));
  }
  const rootEval: Evaluated = {
    id: toHex(headerId(rh)), header: rh, verdict: 'ok', failed: [], finalized: true, outcomes: [], events: [],
    snap: makeSnapshot(root.kvStore, root.epochState, root.epochEvents), lastSealed: Number(rh.height), resultIds: rootRes,
  };
  byId.set(rootEval.id, rootEval);
  const out: Evaluated[] = [];
  const ancestors = function* (e: Evaluated): Generator<Evaluated> {
    let cur: Evaluated | undefined = e;
    while (cur !== undefined) {
      yield cur;
      if (cur === rootEval || cur.header === null) return;
      cur = byId.get(toHex(cur.header.parentId));
    }
  };
  for (const entry of blocks) {
    const claimed = entry.claimedId === null ? `record-${entry.record}` : toHex(entry.claimedId);
    if (entry.error !== undefined || entry.value === undefined) {
      const e: Evaluated = { id: claimed, header: null, verdict: 'decode-error', failed: ['decode-error'], snap: null, lastSealed: 0, finalized: false, outcomes: [], events: [], resultIds: new Set() };
      byId.set(claimed, e);
      out.push(e);
      continue;
    }
    const { header: h, payload: p, finalized } = entry.value;
    const failed: string[] = [];
    const own = new Set(p.results.map((r) => toHex(resultId(r))));
    p.results.forEach((r) => results.set(toHex(resultId(r)), r));
    const e: Evaluated = { id: claimed, header: h, verdict: 'ok', failed, snap: null, lastSealed: 0, finalized, outcomes: [], events: [], resultIds: own };
    byId.set(claimed, e);
    out.push(e);
    if (toHex(headerId(h)) !== claimed) failed.push('id-mismatch');
    if (toHex(payloadHash(p)) !== toHex(h.payloadHash)) failed.push('payload-mismatch');
    const parent = byId.get(toHex(h.parentId));
    const finish = () => {
      e.verdict = ORDER.find((v) => failed.includes(v)) ?? 'ok';
    };
    if (parent === undefined) {
      failed.push('unknown-parent');
      finish();
      continue;
    }
    const ph = parent.header;
    const view = Number(h.view);
    const linkOk =
      ph === null ||
      (h.chainId === rh.chainId &&
      Number(h.height) === Number(ph.height) + 1 &&
      view > Number(ph.view) &&
      Number(h.parentView) === Number(ph.view) &&
      Number(h.timestamp) >= Number(ph.timestamp) &&
      (view === Number(h.parentView) + 1
        ? h.lastViewTC === null
        : h.lastViewTC !== null && Number(h.lastViewTC.view) === view - 1 && Number(h.lastViewTC.newestQC.view) <= Number(h.parentView)));
    if (!linkOk) failed.push('bad-linkage');
    if (parent.verdict !== 'ok') {
      failed.push('descends-from-invalid');
      finish();
      continue;
    }
    // seals (SPEC 6, 9.9)
    let sealOk = true;
    const sealed: { height: number; result: Result }[] = [];
    const seen = new Set<string>();
    for (const s of p.seals) {
      const rid = toHex(s.resultId);
      let holder: Evaluated | undefined;
      for (const a of ancestors(e)) if (a.resultIds.has(rid)) { holder = a; break; }
      const r = holder === undefined ? undefined : results.get(rid);
      if (r === undefined || toHex(r.blockId) !== toHex(s.blockId)) {
        sealOk = false;
        break;
      }
      let sb: Evaluated | undefined;
      for (const a of ancestors(parent)) {
        if (a.id === toHex(s.blockId)) { sb = a; break; }
        if (a.header === null || Number(a.header.height) <= parent.lastSealed) break;
      }
      if (sb === undefined || seen.has(sb.id)) {
        sealOk = false;
        break;
      }
      seen.add(sb.id);
      sealed.push({ height: Number(sb.header!.height), result: r });
    }
    sealed.sort((a, b) => a.height - b.height);
    if (sealOk) sealed.forEach((s, i) => { if (s.height !== parent.lastSealed + 1 + i) sealOk = false; });
    if (!sealOk) {
      failed.push('bad-seal');
      finish();
      continue;
    }
    e.lastSealed = sealed.length > 0 ? sealed[sealed.length - 1].height : parent.lastSealed;
    const ev = sealed.flatMap((s) => s.result.serviceEvents);
    e.events = ev;
    const r = evolve(parent.snap!, view, ev);
    if (!r.ok) {
      failed.push('unsupported-version');
      finish();
      continue;
    }
    e.snap = r.snapshot;
    e.outcomes = r.outcomes;
    if (toHex(r.snapshot.kvId) !== toHex(p.protocolStateId)) failed.push('state-mismatch');
    finish();
  }
  return { root, blocks: out };
}

// ------------------------------------------------------------------ tests

test('parseFaults', () => {
  const got = parseFaults('bad-seal:2,decode-error').sort((a, b) => a.kind.localeCompare(b.kind));
  assert.deepEqual(got, [{ kind: 'bad-seal', count: 2 }, { kind: 'decode-error', count: 1 }]);
  assert.equal(parseFaults('all').length, FAULT_KINDS.length);
  assert.throws(() => parseFaults('nonsense'));
  assert.throws(() => parseFaults('bad-seal:x'));
});

test('same options and seed give a byte-identical archive (file writer = in-memory encoding)', async () => {
  const opts: SynthOptions = { blocks: 500, seed: 'determinism', faults: 'all', forkEvery: 40 };
  const a = join(TMP, 'a.spork');
  const b = join(TMP, 'b.spork');
  const ra = await writeSporkArchive(a, opts);
  const rb = await writeSporkArchive(b, opts);
  const fa = readFileSync(a);
  const fb = readFileSync(b);
  assert.equal(sha(fa), sha(fb));
  assert.equal(readFileSync(`${a}.faults.json`, 'utf8').replace('a.spork', 'b.spork'), readFileSync(`${b}.faults.json`, 'utf8'));
  assert.equal(ra.bytes, fa.length);
  assert.equal(rb.records, ra.records);
  const mem = await collect(opts);
  assert.equal(sha(mem.bytes), sha(fa));
  const other = await collect({ ...opts, seed: 'other' });
  assert.notEqual(sha(other.bytes), sha(fa));
});

test('a spork with every feature and every fault: each block is what it claims to be', async () => {
  const c = await collect({ blocks: 2400, seed: 42, faults: 'all', forkEvery: 60 });
  const { blocks } = miniReplay(c.bytes);
  assert.equal(blocks.length, c.records.length);

  // every block gets exactly the verdict the generator announced
  const mismatches: string[] = [];
  blocks.forEach((b, i) => {
    const want = c.infos[i].expectedVerdict;
    if (b.verdict !== want) mismatches.push(`#${i + 1} ${c.infos[i].branch}${c.infos[i].fault ? `/${c.infos[i].fault}` : ''} h=${b.header?.height}: got ${b.verdict} [${b.failed}], want ${want}`);
  });
  assert.deepEqual(mismatches, []);

  // main and fork blocks (verdict ok above: id, payload hash, linkage, seals, state all recomputed)
  for (let i = 0; i < c.records.length; i++) {
    const info = c.infos[i];
    if (info.branch === 'fault') continue;
    const rec = c.records[i];
    assert.equal(rec.finalized, info.branch === 'main');
    assert.equal(toHex(blocks[i].snap!.kvId), toHex(rec.payload.protocolStateId));
    assert.deepEqual(blocks[i].outcomes.map((o) => o.outcome), (info.outcomes ?? []).map((o) => o.outcome));
  }
  // finalized blocks: one chain from the root
  const main = c.records.filter((r) => r.finalized);
  assert.equal(main.length, 2400);
  main.forEach((r, i) => {
    assert.equal(Number(r.header.height), c.summary.rootHeight + i + 1);
    assert.equal(toHex(r.header.parentId), i === 0 ? c.summary.rootId : toHex(main[i - 1].blockId));
  });
  // counts
  const counts: Record<string, number> = {};
  for (const b of blocks) counts[b.verdict] = (counts[b.verdict] ?? 0) + 1;
  assert.deepEqual(counts, c.summary.expectedVerdicts);

  // ---- the fault manifest: one entry per kind with the right verdicts
  const faults = c.summary.faults;
  assert.deepEqual(c.summary.skippedFaults, []);
  assert.deepEqual(faults.map((f) => f.kind).sort(), [...FAULT_KINDS].sort());
  const verdictOf = new Map<string, string>();
  blocks.forEach((b) => verdictOf.set(b.id, b.verdict));
  for (const f of faults) {
    assert.equal(f.expectedVerdict, f.kind);
    assert.ok(f.id !== null);
    assert.equal(verdictOf.get(f.id!), f.kind, `${f.kind}: ${f.variant}`);
    assert.ok(f.children.length >= 1);
    for (const ch of f.children) {
      assert.equal(ch.expectedVerdict, 'descends-from-invalid');
      assert.equal(verdictOf.get(ch.id!), 'descends-from-invalid');
    }
    for (const ok of [...f.okBlocks, ...f.siblings]) assert.equal(verdictOf.get(ok.id!), 'ok');
    const rec = c.records.find((r) => toHex(r.blockId) === f.id);
    assert.ok(rec !== undefined && !rec.finalized);
  }

  // ---- the storyline, seen through the evolve outcomes of the finalized chain
  const fin = blocks.filter((b) => b.finalized);
  const outcomes = fin.flatMap((b) => b.outcomes);
  let prev = miniReplayRootSnap(c.root);
  let transitions = 0;
  let v3Height = 0;
  let componentActivated = false;
  let fallback = false;
  let extension = false;
  for (const b of fin) {
    const s = b.snap!;
    if (Number(s.events.currentSetup.counter) > Number(prev.events.currentSetup.counter)) transitions++;
    if (s.kv.version === 3 && v3Height === 0) v3Height = Number(b.header!.height);
    const ecv = s.kv.executionComponentVersion?.current;
    if (ecv !== undefined && (Number(ecv.major) !== 0 || Number(ecv.minor) !== 0)) componentActivated = true;
    if (phase(s.epoch) === 'fallback') fallback = true;
    if (s.epoch.current.extensions.length > 0) extension = true;
    prev = s;
  }
  const has = (type: string, outcome: string) => outcomes.some((o) => o.type === type && o.outcome === outcome);
  assert.ok(transitions >= 2, `epoch transitions: ${transitions}`);
  assert.ok(has('setup', 'applied') && has('commit', 'applied'));
  assert.ok(v3Height > 0, 'upgrade to v3');
  assert.ok(has('protocol-state-version-upgrade', 'applied') && has('protocol-state-version-upgrade', 'rejected'));
  assert.ok(componentActivated, 'component version activation');
  assert.ok(has('set-execution-metering-parameters', 'applied'));
  assert.ok(has('set-epoch-extension-view-count', 'applied'));
  assert.ok(has('eject-node', 'applied'));
  assert.ok(has('version-beacon', 'ignored'), 'a valid beacon on the finalized chain');
  assert.ok(has('version-beacon', 'rejected'), 'an invalid beacon');
  assert.ok(fallback && extension && has('recover', 'applied'), 'EFM episode with extension and recover');
  assert.ok(has('setup', 'ignored'), 'a late setup ignored in fallback');
  assert.ok(outcomes.filter((o) => o.outcome === 'rejected').length >= 5, 'rejected service events');
  // beacons: increasing sequences among the valid ones
  const seqs = fin.flatMap((b) => b.events.filter((e, i) => e.type === 'version-beacon' && b.outcomes[i].outcome === 'ignored').map((e) => Number((e.event as { sequence: number }).sequence)));
  assert.ok(seqs.length >= 3);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1);
  // forks: abandoned, ok, and one of them upgraded to v3 below the main chain's activation height
  const forks = blocks.filter((b, i) => c.infos[i].branch === 'fork');
  assert.ok(forks.length >= 5);
  assert.ok(forks.every((b) => b.verdict === 'ok' && !b.finalized));
  assert.ok(forks.some((b) => b.snap!.kv.version === 3 && Number(b.header!.height) < v3Height), 'a fork activates v3 on its own');
  // realistic sizes
  const perBlock = c.bytes.length / c.records.length;
  assert.ok(perBlock > 2500 && perBlock < 6000, `bytes/block ${perBlock}`);
});

function miniReplayRootSnap(root: RootSnapshot): ProtocolSnapshot {
  return makeSnapshot(root.kvStore, root.epochState, root.epochEvents);
}

test('bounded pipeline: sealing keeps up and nothing grows with the chain', async () => {
  let maxSeals = 0;
  let maxResults = 0;
  let lastSealedGap = 0;
  const sealedBy = new Map<string, number>();
  const heights = new Map<string, number>();
  await synthesize({ blocks: 1500, seed: 3, storyline: false, forkEvery: 0 }, {
    root() {},
    block(rec) {
      heights.set(toHex(rec.blockId), Number(rec.header.height));
      maxSeals = Math.max(maxSeals, rec.payload.seals.length);
      maxResults = Math.max(maxResults, rec.payload.results.length);
      for (const s of rec.payload.seals) {
        const sh = heights.get(toHex(s.blockId))!;
        sealedBy.set(toHex(s.blockId), Number(rec.header.height));
        lastSealedGap = Math.max(lastSealedGap, Number(rec.header.height) - sh);
      }
    },
  });
  assert.ok(maxSeals <= 3 && maxResults <= 2);
  assert.ok(lastSealedGap <= 8, `seal lag ${lastSealedGap}`);
  assert.ok(sealedBy.size > 1450);
});

test('every variant of every fault kind gets its verdict', async () => {
  const faults = 'decode-error:3,id-mismatch:1,payload-mismatch:3,unknown-parent:1,bad-linkage:6,bad-seal:4,state-mismatch:2,unsupported-version:2';
  const c = await collect({ blocks: 900, seed: 'variants', faults, forkEvery: 0 });
  const { blocks } = miniReplay(c.bytes);
  const got = blocks.map((b) => b.verdict);
  assert.deepEqual(got, c.infos.map((i) => i.expectedVerdict));
  assert.equal(c.summary.faults.length, 22);
  assert.deepEqual(c.summary.skippedFaults, []);
  const variants = new Set(c.summary.faults.map((f) => `${f.kind}: ${f.variant}`));
  // state-mismatch's second variant needs a block that changes the state (else a random id)
  assert.ok(variants.size >= 3 + 1 + 3 + 1 + 6 + 4 + 1 + 2, [...variants].join('\n'));
});

test('a tiny spork still carries every fault (the unsupported-version fork upgrades itself to v3 first)', async () => {
  const c = await collect({ blocks: 40, seed: 5, faults: 'all' });
  const { blocks } = miniReplay(c.bytes);
  assert.deepEqual(blocks.map((b) => b.verdict), c.infos.map((i) => i.expectedVerdict));
  assert.deepEqual(c.summary.faults.map((f) => f.kind).sort(), [...FAULT_KINDS].sort());
  assert.equal(c.records.filter((r) => r.finalized).length, 40);
});
