// src/synth: determinism, self-consistency of every generated block (recomputed with the library
// functions and an independent mini replay of SPEC 6), the fault manifest, and the storyline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { BlockRecord, EpochCommit, EpochRecover, EpochSetup, Header, Result, RootSnapshot, ServiceEvent } from '../src/model/types.js';
import { toHex } from '../src/model/bytes.js';
import { headerId, resultId } from '../src/model/ids.js';
import { payloadHash } from '../src/model/payload.js';
import { encodeArchiveHeader, encodeBlockRecord, parseArchiveBytes } from '../src/model/archive.js';
import { evolve, makeSnapshot } from '../src/protocol/evolve.js';
import type { EventOutcome, ProtocolSnapshot } from '../src/protocol/evolve.js';
import { phase } from '../src/protocol/epoch.js';
import { synthesize, writeSporkArchive, parseFaults, resolveOptions, FAULT_KINDS, FLOW_FAULT_KINDS } from '../src/synth/index.js';
import { validateRoot } from '../src/store/root.js';
import { cli } from './helpers/cli.js';
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

const ORDER = [
  'decode-error',
  'id-mismatch',
  'payload-mismatch',
  'unknown-parent',
  'bad-linkage',
  'descends-from-invalid',
  'bad-seal',
  'unsupported-version',
  'state-mismatch',
];

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
    id: toHex(headerId(rh)),
    header: rh,
    verdict: 'ok',
    failed: [],
    finalized: true,
    outcomes: [],
    events: [],
    snap: makeSnapshot(root.kvStore, root.epochState, root.epochEvents),
    lastSealed: Number(rh.height),
    resultIds: rootRes,
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
      const e: Evaluated = {
        id: claimed,
        header: null,
        verdict: 'decode-error',
        failed: ['decode-error'],
        snap: null,
        lastSealed: 0,
        finalized: false,
        outcomes: [],
        events: [],
        resultIds: new Set(),
      };
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
      for (const a of ancestors(e))
        if (a.resultIds.has(rid)) {
          holder = a;
          break;
        }
      const r = holder === undefined ? undefined : results.get(rid);
      if (r === undefined || toHex(r.blockId) !== toHex(s.blockId)) {
        sealOk = false;
        break;
      }
      let sb: Evaluated | undefined;
      for (const a of ancestors(parent)) {
        if (a.id === toHex(s.blockId)) {
          sb = a;
          break;
        }
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
    if (sealOk)
      sealed.forEach((s, i) => {
        if (s.height !== parent.lastSealed + 1 + i) sealOk = false;
      });
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
  assert.deepEqual(got, [
    { kind: 'bad-seal', count: 2 },
    { kind: 'decode-error', count: 1 },
  ]);
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
    if (b.verdict !== want)
      mismatches.push(
        `#${i + 1} ${c.infos[i].branch}${c.infos[i].fault ? `/${c.infos[i].fault}` : ''} h=${b.header?.height}: got ${b.verdict} [${b.failed}], want ${want}`,
      );
  });
  assert.deepEqual(mismatches, []);

  // main and fork blocks (verdict ok above: id, payload hash, linkage, seals, state all recomputed)
  for (let i = 0; i < c.records.length; i++) {
    const info = c.infos[i];
    if (info.branch === 'fault') continue;
    const rec = c.records[i];
    assert.equal(rec.finalized, info.branch === 'main');
    assert.equal(toHex(blocks[i].snap!.kvId), toHex(rec.payload.protocolStateId));
    assert.deepEqual(
      blocks[i].outcomes.map((o) => o.outcome),
      (info.outcomes ?? []).map((o) => o.outcome),
    );
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
  const seqs = fin.flatMap((b) =>
    b.events
      .filter((e, i) => e.type === 'version-beacon' && b.outcomes[i].outcome === 'ignored')
      .map((e) => Number((e.event as { sequence: number }).sequence)),
  );
  assert.ok(seqs.length >= 3);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1);
  // forks: abandoned, ok, and one of them upgraded to v3 below the main chain's activation height
  const forks = blocks.filter((_b, i) => c.infos[i].branch === 'fork');
  assert.ok(forks.length >= 5);
  assert.ok(forks.every((b) => b.verdict === 'ok' && !b.finalized));
  assert.ok(
    forks.some((b) => b.snap!.kv.version === 3 && Number(b.header!.height) < v3Height),
    'a fork activates v3 on its own',
  );
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
  await synthesize(
    { blocks: 1500, seed: 3, storyline: false, forkEvery: 0 },
    {
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
    },
  );
  assert.ok(maxSeals <= 3 && maxResults <= 2);
  assert.ok(lastSealedGap <= 8, `seal lag ${lastSealedGap}`);
  assert.ok(sealedBy.size > 1450);
});

test('every variant of every fault kind gets its verdict', async () => {
  const faults = 'decode-error:3,id-mismatch:1,payload-mismatch:3,unknown-parent:1,bad-linkage:6,bad-seal:4,state-mismatch:2,unsupported-version:2';
  const c = await collect({ blocks: 900, seed: 'variants', faults, forkEvery: 0 });
  const { blocks } = miniReplay(c.bytes);
  const got = blocks.map((b) => b.verdict);
  assert.deepEqual(
    got,
    c.infos.map((i) => i.expectedVerdict),
  );
  assert.equal(c.summary.faults.length, 22);
  assert.deepEqual(c.summary.skippedFaults, []);
  const variants = new Set(c.summary.faults.map((f) => `${f.kind}: ${f.variant}`));
  // state-mismatch's second variant needs a block that changes the state (else a random id)
  assert.ok(variants.size >= 3 + 1 + 3 + 1 + 6 + 4 + 1 + 2, [...variants].join('\n'));
});

test('a tiny spork still carries every fault (the unsupported-version fork upgrades itself to v3 first)', async () => {
  const c = await collect({ blocks: 40, seed: 5, faults: 'all' });
  const { blocks } = miniReplay(c.bytes);
  assert.deepEqual(
    blocks.map((b) => b.verdict),
    c.infos.map((i) => i.expectedVerdict),
  );
  assert.deepEqual(c.summary.faults.map((f) => f.kind).sort(), [...FAULT_KINDS].sort());
  assert.equal(c.records.filter((r) => r.finalized).length, 40);
});

// ------------------------------------------------------------------ profile flow (what a Mainnet28 Access node could serve)

const FLOW_GO_TYPES = ['setup', 'commit', 'recover', 'version-beacon', 'protocol-state-version-upgrade', 'set-epoch-extension-view-count', 'eject-node'];

interface ReportLine {
  type: string;
  id: string;
  height: number;
  finalized: boolean;
  verdict: string;
  protocolStateVersion: number | null;
  epochCounter: number | null;
  epochPhase: string | null;
  events: { type: string; outcome: string; reason: string }[];
}

/** Replays an archive with the CLI (as a user would): exit code, block lines and summary. */
function replayCli(archive: string): { code: number; stderr: string; blocks: ReportLine[]; summary: any } {
  const report = `${archive}.jsonl`;
  const r = cli(['replay', archive, '--report', report, '--quiet']);
  const lines = readFileSync(report, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { code: r.code, stderr: r.stderr, blocks: lines.slice(0, -1), summary: lines[lines.length - 1] };
}

function allEvents(c: Collected): ServiceEvent[] {
  return [...c.root.rootResult.serviceEvents, ...c.records.flatMap((r) => r.payload.results.flatMap((x) => x.serviceEvents))];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const flowSpork = (async () => {
  const path = join(TMP, 'flow.spork');
  const opts: SynthOptions = { blocks: 3000, seed: 'flow', profile: 'flow' };
  await writeSporkArchive(path, opts);
  return { path, opts, c: await collect(opts) };
})();

test('ACCESS 6.1, SPEC 6: a 3,000-block flow-profile spork replays with exit 0: every block ok, finalized, KV v2, flow-mainnet', async () => {
  const { path, c } = await flowSpork;
  assert.equal(c.records.length, 3000);
  const r = replayCli(path);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.summary.verdicts, { ok: 3000 });
  assert.deepEqual(r.summary.finalityConflicts, []);
  assert.equal(r.summary.firstInvalidFinalized, null);
  assert.equal(r.summary.finalizedHeight, c.summary.rootHeight + 3000);
  assert.equal(r.summary.unknownServiceEvents, 0);
  assert.equal(r.blocks.length, 3000);
  for (const b of r.blocks) {
    assert.equal(b.verdict, 'ok', `height ${b.height}`);
    assert.equal(b.finalized, true, `height ${b.height}`);
    assert.equal(b.protocolStateVersion, 2, `height ${b.height}`);
  }
  assert.deepEqual([...new Set(r.summary.versionMap.map((row: any) => row.protocolStateVersion))], [2]);
  // no forks: one finalized record per height, each the child of the one below
  c.records.forEach((rec, i) => {
    assert.equal(rec.finalized, true);
    assert.equal(c.infos[i].branch, 'main');
    assert.equal(rec.header.chainId, 'flow-mainnet');
    assert.equal(Number(rec.header.height), c.summary.rootHeight + i + 1);
    assert.equal(toHex(rec.header.parentId), i === 0 ? c.summary.rootId : toHex(c.records[i - 1].blockId));
  });
  assert.equal(c.summary.forks + c.summary.forkBlocks + c.summary.faultBlocks, 0);
  // only flow-go service event types, KV store v2 everywhere (the root included)
  const types = new Set(allEvents(c).map((e) => e.type));
  assert.deepEqual(
    [...types].filter((t) => !FLOW_GO_TYPES.includes(t)),
    [],
  );
  assert.ok(allEvents(c).every((e) => e.unknown !== true));
  assert.equal(c.root.kvStore.version, 2);
  assert.equal(c.root.kvStore.versionUpgrade, null);
  // still interesting: transitions, beacons with boundaries, EFM with a recover, ejections, TCs
  const outcomes = r.blocks.flatMap((b) => b.events);
  const has = (type: string, outcome: string) => outcomes.some((o) => o.type === type && o.outcome === outcome);
  assert.ok(has('setup', 'applied') && has('commit', 'applied'));
  assert.ok(has('version-beacon', 'ignored'), 'valid beacons indexed');
  assert.ok(r.summary.beacons.length >= 3 && r.summary.beacons.every((b: any) => b.boundaries.length >= 1));
  assert.deepEqual(r.summary.beaconIssues, []);
  assert.ok(r.summary.versionMap.length >= 3, 'required version changes at beacon boundaries');
  assert.ok(has('eject-node', 'applied') && has('eject-node', 'rejected'));
  assert.ok(has('set-epoch-extension-view-count', 'applied'));
  assert.ok(
    r.blocks.some((b) => b.epochPhase === 'fallback'),
    'an epoch-fallback episode',
  );
  assert.ok(has('setup', 'ignored') && has('recover', 'applied'), 'late setup ignored, recover applied');
  const upgrades = outcomes.filter((o) => o.type === 'protocol-state-version-upgrade');
  assert.ok(upgrades.length >= 1 && upgrades.every((o) => o.outcome === 'rejected' && o.reason.startsWith('rule 1')));
  const transitions = r.blocks.filter((b, i) => i > 0 && b.epochCounter !== r.blocks[i - 1].epochCounter).length;
  assert.ok(transitions >= 3, `epoch transitions: ${transitions}`);
  const tcs = c.records.filter((rec) => rec.header.lastViewTC !== null);
  assert.ok(tcs.length > 30, `view skips with TCs: ${tcs.length}`);
  assert.ok(tcs.every((rec) => Number(rec.header.lastViewTC!.view) === Number(rec.header.view) - 1));
});

test('ACCESS 5.2: the flow-profile root is a bootstrapped spork root', async () => {
  const { c } = await flowSpork;
  const root = c.root;
  assert.equal(validateRoot(root), null);
  const rootId = toHex(headerId(root.rootBlock.header));
  assert.equal(root.rootBlock.header.chainId, 'flow-mainnet');
  assert.equal(root.params.chainId, 'flow-mainnet');
  assert.equal(toHex(root.params.sporkId), rootId, 'SporkID = root block id');
  assert.equal(Number(root.params.sporkRootHeight), Number(root.rootBlock.header.height));
  assert.equal(Number(root.params.sporkRootView), Number(root.rootBlock.header.view));
  assert.equal(root.versionBeacon, null);
  assert.equal(root.epochState.previous, null);
  assert.equal(root.epochState.next, null);
  assert.equal(root.epochState.fallbackTriggered, false);
  assert.equal(root.epochEvents.previousSetup, null);
  assert.equal(root.epochEvents.nextSetup, null);
  assert.deepEqual(
    root.rootResult.serviceEvents.map((e) => e.type),
    ['setup', 'commit'],
  );
  assert.equal(root.rootResult.serviceEvents[0].event, root.epochEvents.currentSetup);
  assert.equal(root.rootResult.serviceEvents[1].event, root.epochEvents.currentCommit);
  const p = root.rootBlock.payload;
  assert.equal(p.guarantees.length + p.seals.length + p.receipts.length + p.results.length, 0);
  assert.equal(root.rootBlock.header.proposerSigData.length, 0);
  assert.equal(toHex(root.rootSeal.resultId), toHex(resultId(root.rootResult)));
  // one chunk holding only the final state, as flow-go's bootstrap writes it (ACCESS 7.2)
  assert.equal(root.rootResult.chunks.length, 1);
  const ch = root.rootResult.chunks[0];
  assert.equal(toHex(ch.endState), toHex(root.rootSeal.finalState));
  assert.equal(Number(ch.serviceEventCount), 0);
  assert.equal(toHex(root.rootResult.previousResultId), '00'.repeat(32));
  // the first block links to it
  assert.equal(toHex(c.records[0].header.parentId), rootId);
});

test('ACCESS 3.1, 3.2, 4.2: every value of a flow-profile spork has a flow-go v0.43+ wire form', async () => {
  const { c } = await flowSpork;
  const id32 = (b: Uint8Array, what: string) => assert.equal(b.length, 32, what);
  for (const rec of c.records) {
    const h = rec.header;
    const at = `height ${h.height}`;
    assert.ok(Number.isSafeInteger(h.timestamp) && Number(h.timestamp) > 1.7e12, `${at}: timestamp in whole ms`);
    assert.equal(h.proposerSigData.length, 0, `${at}: proposer_sig_data is not served from v0.43`);
    [rec.blockId, h.parentId, h.proposerId, h.payloadHash, rec.payload.protocolStateId].forEach((b) => id32(b, at));
    for (const g of rec.payload.guarantees) {
      id32(g.collectionId, at);
      id32(g.referenceBlockId, at);
      assert.equal(utf8.decode(new TextEncoder().encode(g.clusterChainId)), g.clusterChainId);
      assert.match(g.clusterChainId, /^cluster-\d+-[0-9a-f]+$/);
    }
    for (const s of rec.payload.seals) [s.blockId, s.resultId, s.finalState, ...s.approvalSigs.flatMap((a) => a.signerIds)].forEach((b) => id32(b, at));
    for (const r of rec.payload.results) {
      [r.previousResultId, r.blockId, r.executionDataId].forEach((b) => id32(b, at));
      let count = 0;
      r.chunks.forEach((ch, i) => {
        [ch.startState, ch.endState, ch.eventCollection, ch.blockId].forEach((b) => id32(b, at));
        assert.ok(Number(ch.serviceEventCount) <= 65535);
        // the service events sit in the system chunk, the last one
        assert.equal(Number(ch.serviceEventCount), i === r.chunks.length - 1 ? r.serviceEvents.length : 0, at);
        count += Number(ch.serviceEventCount);
      });
      assert.equal(count, r.serviceEvents.length);
    }
  }
  let commits = 0;
  let setups = 0;
  for (const e of allEvents(c)) {
    assert.ok(FLOW_GO_TYPES.includes(e.type), e.type);
    const setupsOf = e.type === 'setup' ? [e.event as EpochSetup] : e.type === 'recover' ? [(e.event as EpochRecover).setup] : [];
    const commitsOf = e.type === 'commit' ? [e.event as EpochCommit] : e.type === 'recover' ? [(e.event as EpochRecover).commit] : [];
    for (const s of setupsOf) {
      setups++;
      assert.equal(s.randomSource.length, 16);
      for (const p of s.participants) {
        assert.ok(p.role >= 1 && p.role <= 5, `role ${p.role}`);
        assert.ok(p.address.length > 0 && p.stakingKey.length === 96 && p.networkKey.length === 64);
      }
    }
    for (const cm of commitsOf) {
      commits++;
      // a permutation of 0..n-1, n = number of DKG keys, written in index order (ACCESS 4.2)
      assert.deepEqual(
        cm.dkgIndexMap.map(([, i]) => Number(i)),
        cm.dkgParticipantKeys.map((_, i) => i),
      );
      assert.equal(cm.dkgGroupKey.length, 96);
    }
  }
  assert.ok(setups >= 4 && commits >= 4, `setups ${setups}, commits ${commits}`);
});

test('ACCESS 6.1: profile flow is deterministic, differs from spec, and spec stays the default', async () => {
  const { path, opts, c } = await flowSpork;
  const again = await collect(opts);
  assert.equal(sha(again.bytes), sha(c.bytes));
  assert.equal(sha(readFileSync(path)), sha(c.bytes));
  assert.notEqual(sha((await collect({ ...opts, seed: 'flow-2' })).bytes), sha(c.bytes));
  const small: SynthOptions = { blocks: 450, seed: 'default' };
  const dflt = await collect(small);
  assert.equal(sha((await collect({ ...small, profile: 'spec' })).bytes), sha(dflt.bytes));
  assert.equal(dflt.root.rootBlock.header.chainId, 'flow-localnet');
  assert.notEqual(sha((await collect({ ...small, profile: 'flow' })).bytes), sha(dflt.bytes));
  assert.equal((await collect({ ...small, profile: 'flow', chainId: 'flow-testnet' })).root.params.chainId, 'flow-testnet');
});

test('ACCESS 6.1: profile flow refuses forks, an unfinalized tail and faults no flow-go node could produce', () => {
  assert.throws(() => resolveOptions({ profile: 'flow', forkEvery: 10 }), /profile flow: forkEvery .*must be 0.*ACCESS 6\.1/);
  assert.throws(() => resolveOptions({ profile: 'flow', unfinalizedTail: 3 }), /profile flow: unfinalizedTail .*must be 0/);
  assert.throws(() => resolveOptions({ profile: 'flow', faults: 'unsupported-version' }), /fault kind unsupported-version cannot come from a flow-go node/);
  assert.throws(() => resolveOptions({ profile: 'flow', faults: 'all' }), /unsupported-version/);
  assert.throws(() => resolveOptions({ profile: 'mainnet' as never }), /profile must be one of spec, flow/);
  assert.equal(resolveOptions({ profile: 'flow', forkEvery: 0 }).forkEvery, 0);
  assert.deepEqual([...FLOW_FAULT_KINDS].sort(), FAULT_KINDS.filter((k) => k !== 'unsupported-version').sort());
  const r = cli(['synth', '--out', join(TMP, 'refused.spork'), '--profile', 'flow', '--fork-every', '5', '--blocks', '10']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^spork-replay: profile flow: forkEvery \(--fork-every\) must be 0, got 5/);
  assert.equal(cli(['synth', '--out', join(TMP, 'refused.spork'), '--profile', 'nope']).code, 2);
});

test('ACCESS 3.4, 6.6: flow-profile faults replace main-chain blocks; the replay gives every announced verdict', async () => {
  const faults = 'state-mismatch,bad-seal,decode-error,id-mismatch,payload-mismatch,unknown-parent,bad-linkage:5';
  const path = join(TMP, 'flow-faults.spork');
  const opts: SynthOptions = { blocks: 1200, seed: 'flow-faults', profile: 'flow', faults };
  const w = await writeSporkArchive(path, opts);
  const c = await collect(opts);
  assert.equal(sha(readFileSync(path)), sha(c.bytes));
  // still one finalized record per height
  assert.equal(c.records.length, 1200);
  c.records.forEach((rec, i) => {
    assert.equal(rec.finalized, true);
    assert.equal(Number(rec.header.height), c.summary.rootHeight + i + 1);
  });
  assert.equal(c.summary.forks, 0);
  assert.equal(c.summary.faultBlocks, 11);
  assert.equal(c.summary.mainBlocks, 1189);
  // the independent mini replay and the CLI replay both give the verdicts announced per block
  const mini = miniReplay(c.bytes).blocks;
  assert.deepEqual(
    mini.map((b) => b.verdict),
    c.infos.map((i) => i.expectedVerdict),
  );
  const r = replayCli(path);
  assert.equal(r.code, 1);
  assert.deepEqual(r.summary.verdicts, c.summary.expectedVerdicts);
  const byId = new Map(r.blocks.map((b) => [b.id, b]));
  const manifest = JSON.parse(readFileSync(w.manifestPath!, 'utf8'));
  assert.equal(manifest.profile, 'flow');
  assert.equal(manifest.faults.length, 11);
  // the first fault is seen as what it is; later ones only if checked before the ancestry
  assert.equal(manifest.faults[0].kind, 'state-mismatch');
  assert.equal(manifest.faults[0].expectedVerdict, 'state-mismatch');
  assert.equal(r.summary.firstInvalidFinalized.verdict, 'state-mismatch');
  for (const f of manifest.faults) {
    assert.equal(byId.get(f.id)?.verdict, f.expectedVerdict, `${f.kind} (${f.variant})`);
    assert.equal(byId.get(f.id)?.finalized, true);
    assert.equal(f.expectedVerdict, ['state-mismatch', 'bad-seal'].includes(f.kind) && f !== manifest.faults[0] ? 'descends-from-invalid' : f.kind);
    assert.equal(f.children.length, 1);
    assert.equal(byId.get(f.children[0].id)?.verdict, f.children[0].expectedVerdict);
  }
  const variants = new Set(manifest.faults.map((f: any) => f.variant));
  assert.ok(variants.has('a commit whose DKG index map is one entry short of its participant keys (not a permutation)'));
  assert.ok(!variants.has('height is parent height + 2'), 'no variant that changes the height');
  // unknown-parent breaks the finalized chain there (SPEC 6 finality)
  const up = manifest.faults.find((f: any) => f.kind === 'unknown-parent');
  assert.deepEqual(
    r.summary.finalityConflicts.map((x: any) => [x.height, x.kind]),
    [[up.height, 'parent-not-finalized']],
  );
  // blocks before the first fault are ok, every main block after it descends from it
  const first = manifest.faults[0].height;
  for (const b of r.blocks) {
    if (b.height < first) assert.equal(b.verdict, 'ok');
    else if (!manifest.faults.some((f: any) => f.id === b.id)) assert.equal(b.verdict, 'descends-from-invalid');
  }
});
