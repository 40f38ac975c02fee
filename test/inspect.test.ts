// The query module behind `inspect` and the HTTP server (src/server/query.ts), on scenario
// stores: height vs id, every block at a height, state diffs, decode errors, the root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot } from '../src/replay/pipeline.js';
import { diffJson, NotFoundError, parseBlockSpec, QueryInputError, StoreQuery } from '../src/query/query.js';
import { formatInspection } from '../src/cli/inspect.js';
import { formatInvalid, listInvalid } from '../src/cli/inspect-invalid.js';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const stores: BlockStore[] = [];
const t = tempDir();

async function replayed(name: string): Promise<StoreQuery> {
  const store = BlockStore.open(join(t.dir, name));
  stores.push(store);
  await importArchive(store, vectorPath(`scenarios/${name}.spork`));
  await evaluateStore(store, loadRoot(store), { threads: 0, full: false });
  return new StoreQuery(store);
}

let forks: StoreQuery;
let faults: StoreQuery;
before(async () => {
  forks = await replayed('upgrade-forks');
  faults = await replayed('fault-verdicts');
});
after(async () => {
  for (const s of stores) await s.close();
  t.cleanup();
});

// upgrade-forks: the upgrade to v3 at view 1500 is sealed at 503 (view 1010, finalized); 503 has
// a sibling at view 1006 (not finalized); 506 (view 1500) activates v3.
const FORK_503 = 'ce54286add4d0ad6422e19b0e0f740086ac4b057d9c5b564381e1985b54a9d9e';
const MAIN_503 = '2afedbc80d489e2633ec7ee9dbe2ccbe26a364067a1f7dbd165ab7158617bf02';

test('inspect: a height names the finalized block there; the id gives the same view', () => {
  const [id] = forks.resolve(parseBlockSpec('503'));
  assert.equal(id, MAIN_503);
  const byHeight = forks.inspect(id!);
  const [same] = forks.resolve(parseBlockSpec(MAIN_503.toUpperCase()));
  assert.deepEqual(forks.inspect(same!), byHeight);
  assert.equal(byHeight.height, 503);
  assert.equal(byHeight.verdict, 'ok');
  assert.equal(byHeight.onFinalizedChain, true);
  assert.equal(byHeight.versions.requiredVersionSource, 'unknown'); // no beacon in this spork
  assert.equal((byHeight.header as any).view, 1010);
  assert.deepEqual(byHeight.versions.pendingUpgrade, { version: 3, activationView: 1500 });
  assert.ok(byHeight.children.length >= 1);
});

test('inspect --all: every block at a height, forks included, in report order', () => {
  const ids = forks.resolve(parseBlockSpec('503'), true);
  assert.deepEqual(ids, [FORK_503, MAIN_503]);
  const fork = forks.inspect(FORK_503);
  assert.equal(fork.finalized, false);
  assert.equal(fork.onFinalizedChain, false);
  assert.equal(fork.versions.requiredVersion, null);
  assert.equal(fork.versions.requiredVersionSource, null);
  assert.equal(forks.resolve(parseBlockSpec('504'), true).length, 2);
  assert.throws(() => forks.resolve(parseBlockSpec('600'), true), NotFoundError);
  assert.throws(() => forks.resolve(parseBlockSpec('600')), NotFoundError);
});

test('inspect: the diff shows the version upgrade being scheduled, then activated', () => {
  const scheduled = forks.inspect(MAIN_503);
  assert.equal(scheduled.events.length, 1);
  const ev = scheduled.events[0]!;
  assert.equal(ev.type, 'protocol-state-version-upgrade');
  assert.equal(ev.outcome, 'applied');
  assert.deepEqual(ev.event, { type: 'protocol-state-version-upgrade', event: { newProtocolStateVersion: 3, activeView: 1500 } });
  const up = scheduled.stateDiff.find((d) => d.path === 'kv.versionUpgrade');
  assert.ok(up, JSON.stringify(scheduled.stateDiff));
  assert.equal(up.before, null);
  assert.deepEqual(up.after, { data: 3, activationView: 1500 });
  assert.equal(up.text, 'kv.versionUpgrade: null -> {"data":3,"activationView":1500}');
  assert.notEqual(scheduled.stateBefore!.id, scheduled.stateAfter!.id);
  assert.equal(scheduled.stateAfter!.id, scheduled.computedStateId);

  const activated = forks.inspect(forks.resolve(parseBlockSpec('506'))[0]!);
  assert.equal(activated.versions.protocolStateVersion, 3);
  assert.equal(activated.versions.executionComponentVersion, '0.0');
  const texts = activated.stateDiff.map((d) => d.text);
  assert.ok(texts.includes('kv.version: 2 -> 3'), texts.join('\n'));
  assert.ok(activated.stateDiff.some((d) => d.path === 'kv.executionComponentVersion' && d.change === 'added'));
  const human = formatInspection(activated);
  assert.match(human, /state change \(\d+ fields\)/);
  assert.match(human, /kv\.version: 2 -> 3/);

  // a block whose state did not change: same id before and after, empty diff
  const quiet = forks.inspect(forks.resolve(parseBlockSpec('504'))[0]!);
  assert.equal(quiet.stateBefore!.id, quiet.stateAfter!.id);
  assert.deepEqual(quiet.stateDiff, []);
});

test('inspect: the root block and its state', () => {
  const c = forks.chain();
  const [id] = forks.resolve({ kind: 'height', height: c.rootHeight });
  assert.equal(id, c.rootId);
  const root = forks.inspect(id!);
  assert.equal(root.root, true);
  assert.equal(root.verdict, null);
  assert.equal(root.onFinalizedChain, true);
  assert.equal(root.stateBefore, null);
  assert.equal(root.stateAfter!.id, root.computedStateId);
  assert.equal(root.versions.protocolStateVersion, 2);
});

test('inspect: every fault shows its failed checks with reasons; a decode-error block shows what is known', () => {
  const ids = faults.resolve(parseBlockSpec('506'), true);
  const verdicts = ids.map((id) => faults.inspect(id).verdict);
  assert.deepEqual(verdicts, ['decode-error', 'id-mismatch', 'payload-mismatch', 'unknown-parent', 'bad-linkage', 'bad-seal', 'state-mismatch', 'ok']);
  for (const id of ids) {
    const x = faults.inspect(id);
    if (x.verdict === 'ok') continue;
    assert.equal(x.failed[0]!.check, x.verdict);
    assert.ok(x.failed[0]!.reason.length > 0);
  }
  const bad = faults.inspect(ids[0]!);
  assert.equal(bad.verdict, 'decode-error');
  assert.match(bad.decodeError!, /protocolStateId/);
  assert.equal(bad.height, 506);
  assert.notEqual(bad.header, null); // the header decoded: height, view, parent are known
  assert.equal(bad.payload, null);
  assert.equal(bad.computedStateId, null);
  assert.equal(bad.stateAfter, null);
  assert.notEqual(bad.stateBefore, null); // the parent's state is known
  assert.deepEqual(bad.stateDiff, []);
  assert.deepEqual(bad.events, []);
  assert.match(formatInspection(bad), /decode error/);
  // a state-mismatch block still has its computed state
  const sm = faults.inspect(ids[6]!);
  assert.notEqual(sm.computedStateId, null);
  assert.notEqual(sm.computedStateId, sm.committedStateId);
  // descends-from-invalid children
  const child = faults.inspect(bad.children[0]!);
  assert.equal(child.verdict, 'descends-from-invalid');
  assert.equal(child.stateBefore, null);
});

test('inspect --invalid: every invalid block with rule ids, both states and the diff; bounded by --limit', () => {
  const store = stores[1]!;
  const all = listInvalid(store, faults, 1000);
  assert.equal(all.shown, all.invalid);
  assert.ok(all.invalid >= 7, `${all.invalid}`);
  assert.ok(all.blocks.every((b) => b.verdict !== 'ok' && b.failed.length > 0));
  for (const b of all.blocks) for (const f of b.failed) assert.ok(f.rules.length > 0, `${b.verdict} has no rule id`);
  const byVerdict = new Map(all.blocks.map((b) => [b.verdict, b]));
  assert.deepEqual(
    byVerdict.get('state-mismatch')!.failed.flatMap((f) => f.rules),
    ['6.state-mismatch'],
  );
  assert.deepEqual(
    byVerdict.get('descends-from-invalid')!.failed.flatMap((f) => f.rules),
    ['6.descends-from-invalid'],
  );
  const sm = byVerdict.get('state-mismatch')!;
  assert.notEqual(sm.committedStateId, sm.computedStateId);
  // the reason gives both sides, and the listing says the committed state is no computed one
  assert.ok(sm.failed[0]!.reason.includes(sm.committedStateId!) && sm.failed[0]!.reason.includes(sm.computedStateId!));
  assert.equal(sm.committedStateComputed, false);
  const pm = byVerdict.get('payload-mismatch')!;
  assert.match(pm.headerPayloadHash ?? '', /^[0-9a-f]{64}$/);
  assert.ok(!pm.failed[0]!.reason.includes(pm.headerPayloadHash!));
  const text = formatInvalid(all);
  assert.ok(text.includes('[6.state-mismatch]'));
  assert.ok(text.includes(`${sm.committedStateId} (no state the replay computed)`));
  assert.ok(text.includes(`the header says payload hash ${pm.headerPayloadHash}`));
  // bounded: the first N in report order, the total still given
  const two = listInvalid(store, faults, 2);
  assert.equal(two.invalid, all.invalid);
  assert.equal(two.shown, 2);
  assert.deepEqual(two.blocks, all.blocks.slice(0, 2));
  assert.match(formatInvalid(two), new RegExp(`^${all.invalid} invalid blocks \\(the first 2 in report order; --limit N for more\\)`));
  // a valid spork has none
  assert.deepEqual(listInvalid(stores[0]!, forks, 5), { invalid: 0, shown: 0, limit: 5, blocks: [] });
});

test('inspect: bad and unknown BLOCK arguments', () => {
  assert.throws(() => parseBlockSpec('zz'), QueryInputError);
  assert.throws(() => parseBlockSpec('-1'), QueryInputError);
  assert.throws(() => parseBlockSpec('abc1234'), QueryInputError); // an id prefix needs 8 hex characters
  assert.deepEqual(parseBlockSpec('ab'.repeat(31)), { kind: 'prefix', prefix: 'ab'.repeat(31) });
  assert.deepEqual(parseBlockSpec('3F2A9C01'), { kind: 'prefix', prefix: '3f2a9c01' });
  assert.deepEqual(parseBlockSpec('latest'), { kind: 'alias', alias: 'latest' });
  assert.throws(() => parseBlockSpec('18446744073709551616'), QueryInputError);
  assert.deepEqual(parseBlockSpec('18446744073709551615'), { kind: 'height', height: 18446744073709551615n, text: '18446744073709551615' });
  assert.throws(() => faults.resolve(parseBlockSpec('00'.repeat(32))), NotFoundError);
  assert.throws(() => faults.inspect('00'.repeat(32)), NotFoundError);
});

test('diffJson: objects by key, arrays by index, kind changes as one entry', () => {
  const d = diffJson(
    { kv: { a: 1, u: null, gone: 2 }, epoch: { ext: [{ f: 1 }] } },
    { kv: { a: 2, u: { x: 1 }, new: 3 }, epoch: { ext: [{ f: 1 }, { f: 2 }] } },
  );
  assert.deepEqual(
    d.map((x) => x.text),
    ['kv.a: 1 -> 2', 'kv.u: null -> {"x":1}', 'kv.gone: removed 2', 'kv.new: added 3', 'epoch.ext[1]: added {"f":2}'],
  );
});

test('CLI inspect: --json by height, --all, unknown block exits 2', () => {
  const archive = vectorPath('scenarios/upgrade-forks.spork');
  let r = cli(['inspect', archive, '503', '--json', '--threads', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).id, MAIN_503);
  r = cli(['inspect', archive, '503', '--all', '--json', '--threads', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).map((x: any) => x.id),
    [FORK_503, MAIN_503],
  );
  r = cli(['inspect', archive, '506', '--threads', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kv\.version: 2 -> 3/);
  r = cli(['inspect', archive, '999', '--threads', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no block of the finalized chain at height 999/);
});

test('CLI inspect --invalid: text and --json, --limit, bad usage exits 2', () => {
  const archive = vectorPath('scenarios/fault-verdicts.spork');
  let r = cli(['inspect', '--invalid', archive, '--json', '--limit', '3', '--threads', '0']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.shown, 3);
  assert.ok(j.invalid > 3);
  assert.ok(j.blocks.every((b: any) => b.failed.every((f: any) => f.rules.length > 0)));
  r = cli(['inspect', '--invalid', archive, '--threads', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[6\.state-mismatch\]/);
  assert.equal(cli(['inspect', '--invalid', archive, '--limit', '0']).code, 2);
  assert.equal(cli(['inspect', '--invalid', archive, '506']).code, 2);
});
