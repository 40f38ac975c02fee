// SPEC 6 linkage and seal rules at their boundaries, on the ordered evaluator with hand-made
// facts (the integrity stage is covered by the vectors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseArchiveBytes } from '../src/model/archive.js';
import { Evaluator, type BlockResult } from '../src/replay/evaluate.js';
import type { BlockFacts, LinkHeader } from '../src/replay/facts.js';
import { rootContext } from '../src/replay/pipeline.js';
import type { Id } from '../src/model/types.js';
import { vectorPath } from './helpers/vectors.js';

const root = parseArchiveBytes(readFileSync(vectorPath('scenarios/upgrade-forks.spork'))).header;
const rc = rootContext(root);
const R = rc.header;

function id(n: number): Id {
  const b = new Uint8Array(32);
  b[0] = 0xab;
  b[31] = n;
  return b;
}

let record = 0;
function block(n: number, parent: Id, h: Partial<LinkHeader> & { height: number; view: number }, extra: Partial<BlockFacts> = {}): BlockFacts {
  const link: LinkHeader = {
    chainId: R.chainId,
    parentId: parent,
    parentView: h.view - 1,
    timestamp: (R.timestamp as number) + h.view,
    tc: null,
    ...h,
  };
  return {
    record: ++record,
    id: id(n),
    finalized: false,
    decodeError: null,
    header: link,
    idMismatch: null,
    payloadMismatch: null,
    protocolStateId: rc.snapshot.kvId,
    seals: [],
    results: [],
    ...extra,
  };
}

function run(blocks: BlockFacts[]): Map<number, BlockResult> {
  const out = new Map<number, BlockResult>();
  const ev = new Evaluator(rc, { isStored: () => false, onResult: (r, f) => out.set(f.id![31], r) });
  for (const b of blocks) ev.push(b);
  ev.finish();
  return out;
}

const H = R.height as number;
const V = R.view as number;
const child = (n: number, over: Partial<LinkHeader> = {}) =>
  block(n, rc.id, { height: H + 1, view: V + 1, parentView: V, ...(over as { height?: number; view?: number }) });

test('6 bad-linkage: each rule at its boundary', () => {
  const cases: [string, Partial<LinkHeader>, boolean][] = [
    ['height parent+1', {}, true],
    ['height parent+2', { height: H + 2 }, false],
    ['view == parent view', { view: V, parentView: V }, false],
    ['parentView != parent view', { parentView: V - 1, view: V + 1 }, false],
    ['timestamp == parent timestamp', { timestamp: R.timestamp as number }, true],
    ['timestamp < parent timestamp', { timestamp: (R.timestamp as number) - 1 }, false],
    ['chainId differs', { chainId: 'flow-testnet' }, false],
    ['view gap without TC', { view: V + 3 }, false],
    ['view gap, TC view = view-1, newestQC = parentView', { view: V + 3, tc: { view: V + 2, newestQCView: V } }, true],
    ['view gap, TC view = view-2', { view: V + 3, tc: { view: V + 1, newestQCView: V } }, false],
    ['view gap, newestQC.view = parentView+1', { view: V + 3, tc: { view: V + 2, newestQCView: V + 1 } }, false],
    ['no gap but a TC', { tc: { view: V, newestQCView: V } }, false],
  ];
  const results = run(cases.map(([, over], i) => child(i + 1, over)));
  cases.forEach(([name, , ok], i) => {
    const r = results.get(i + 1)!;
    assert.equal(r.failed.includes('bad-linkage'), !ok, `${name}: ${JSON.stringify(r.reasons)}`);
    if (!ok) assert.equal(r.verdict, 'bad-linkage', name);
    // linkage does not stop evaluation (9.8): the state is still computed
    assert.notEqual(r.computedStateId, null, name);
  });
});

test('6 unknown-parent and descends-from-invalid stop evaluation', () => {
  const bad = child(1, { height: H + 2 });
  const results = run([bad, block(2, id(1), { height: H + 3, view: V + 2, parentView: V + 1 }), block(3, id(99), { height: H + 1, view: V + 1 })]);
  assert.equal(results.get(2)!.verdict, 'descends-from-invalid');
  assert.equal(results.get(2)!.computedStateId, null);
  assert.equal(results.get(3)!.verdict, 'unknown-parent');
  assert.equal(results.get(3)!.computedStateId, null);
});

test('6 bad-seal: consecutive heights from lastSealed+1, one seal per block, results and blocks on the fork', () => {
  const resultOf = (n: number, blockN: number) => ({ id: id(100 + n), blockId: id(blockN), events: [] });
  const b1 = child(1);
  b1.results = [resultOf(1, 1)];
  const b2 = block(2, id(1), { height: H + 2, view: V + 2 });
  b2.results = [resultOf(2, 2)];
  const seal = (blockN: number, resultN: number) => ({ blockId: id(blockN), resultId: id(100 + resultN) });
  const cases: [string, BlockFacts['seals'], boolean][] = [
    ['seals H+1, H+2 in any order', [seal(2, 2), seal(1, 1)], true],
    ['seals H+1 only', [seal(1, 1)], true],
    ['skips H+1', [seal(2, 2)], false],
    ['two seals for one block', [seal(1, 1), seal(1, 1)], false],
    ['unknown result', [{ blockId: id(1), resultId: id(77) }], false],
    ["blockId differs from the result's", [{ blockId: id(2), resultId: id(101) }], false],
    ['the root again', [{ blockId: rc.id, resultId: rc.rootResultId }], false],
  ];
  const blocks = [
    b1,
    b2,
    ...cases.map(([, seals], i) => {
      const b = block(10 + i, id(2), { height: H + 3, view: V + 3 + i, parentView: V + 2 });
      b.header!.tc = i === 0 ? null : { view: V + 2 + i, newestQCView: V + 2 };
      b.seals = seals;
      return b;
    }),
  ];
  const results = run(blocks);
  cases.forEach(([name, , ok], i) => {
    const r = results.get(10 + i)!;
    assert.equal(r.verdict === 'bad-seal', !ok, `${name}: ${r.verdict} ${JSON.stringify(r.reasons)}`);
    if (ok) assert.equal(r.verdict, 'ok', name);
  });
  // a result included only on a sibling fork cannot be sealed
  const sib = block(30, rc.id, { height: H + 1, view: V + 40, parentView: V, tc: { view: V + 39, newestQCView: V } });
  sib.seals = [seal(1, 1)];
  assert.equal(run([b1, sib]).get(30)!.verdict, 'bad-seal');
});
