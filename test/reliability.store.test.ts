// Issue 13.3: a damaged store (data.mdb cut short, or not LMDB at all) makes every command say
// `store is damaged: ...` and exit 2, where it was killed by SIGBUS/SIGSEGV; the check reads
// LMDB's meta pages with plain reads and never flags a healthy store. Issue 13.8: usage errors
// (a --db that is a file, an archive that is a directory, output paths that are directories)
// are one line, exit 2, without a stack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockStore } from '../src/store/store.js';
import { dataFileProblem } from '../src/store/data-file.js';
import { importArchive } from '../src/store/import.js';
import { evaluateStore, loadRoot } from '../src/replay/pipeline.js';
import { oneLineFailure, runCli } from './fuzz/cli-process.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const t = tempDir('spork-damaged-');
const archive = vectorPath('scenarios/upgrade-forks.spork');
const healthy = join(t.dir, 'healthy');

before(async () => {
  const s = BlockStore.open(healthy);
  await importArchive(s, archive);
  await evaluateStore(s, loadRoot(s), { threads: 0, full: false });
  await s.close();
});

after(() => t.cleanup());

/** Every command that opens a store, on `db`. */
function commands(db: string): string[][] {
  return [
    ['replay', '--db', db, '--quiet', '--threads', '0'],
    ['replay', '--db', db, '--quiet', '--threads', '2'],
    ['import', archive, '--db', db, '--quiet'],
    ['export', '--db', db, '--out', join(t.dir, 'out.spork'), '--quiet'],
    ['versions', '--db', db, '--threads', '0'],
    ['inspect', '--db', db, '503', '--threads', '0'],
    ['report', '--db', db, '--html', join(t.dir, 'out.html'), '--quiet', '--threads', '0'],
    ['bootstrap-check', '--db', db, '--binary', '0.40.0', '--threads', '0'],
    ['serve', '--db', db, '--port', '0'],
  ];
}

test('SPEC 6 / issue 13.3: a commit that leaves pages unwritten (loose pages at the end) does not make the store look damaged', async () => {
  // LMDB never writes pages a transaction allocated and freed again: writing then deleting
  // thousands of keys in one transaction leaves the file well short of its header's size
  // (150 pages here), which the meta-page check took for a cut file while workers opened it
  const db = join(t.dir, 'loose');
  const s = BlockStore.open(db);
  s.meta.putSync('note', 'a fresh store');
  const key = (i: number) => Buffer.from(`loose-${String(i).padStart(6, '0')}`);
  s.env.transactionSync(() => {
    for (let i = 0; i < 5000; i++) s.includes.putSync(key(i), Buffer.alloc(100, 1));
    for (let i = 0; i < 5000; i++) s.includes.removeSync(key(i));
  });
  assert.equal(dataFileProblem(join(db, 'data.mdb')), null, 'while the writer still has the store open');
  await s.close();
  assert.equal(dataFileProblem(join(db, 'data.mdb')), null);
  await BlockStore.open(db, { readOnly: true }).close();
});

function damaged(name: string, damage: (file: string) => void): string {
  const db = join(t.dir, name);
  cpSync(healthy, db, { recursive: true });
  damage(join(db, 'data.mdb'));
  return db;
}

test('SPEC 6 / issue 13.3: the meta-page check passes healthy stores (imported, replayed, imported twice)', async () => {
  assert.equal(dataFileProblem(join(healthy, 'data.mdb')), null);
  const twice = join(t.dir, 'twice');
  const s = BlockStore.open(twice);
  await importArchive(s, archive);
  assert.equal(dataFileProblem(join(twice, 'data.mdb')), null);
  await importArchive(s, vectorPath('scenarios/upgrade-forks.spork'));
  await evaluateStore(s, loadRoot(s), { threads: 0, full: true });
  await s.close();
  assert.equal(dataFileProblem(join(twice, 'data.mdb')), null);
});

for (const [name, damage, why, all] of [
  [
    'half',
    (f: string) => truncateSync(f, Math.floor(statSync(f).size / 2)),
    /data\.mdb is \d+ bytes but its header says \d+ \(\d+ pages of 4096 bytes\): the file was cut short/,
    true,
  ],
  ['one-page', (f: string) => truncateSync(f, 4096), /data\.mdb is 4096 bytes but its header says \d+/, false],
  ['tiny', (f: string) => truncateSync(f, 100), /data\.mdb is 100 bytes, too short for LMDB's header pages/, true],
  ['not-lmdb', (f: string) => writeFileSync(f, Buffer.alloc(65536, 0x5a)), /data\.mdb is not an LMDB data file \(no valid meta page\)/, false],
] as const) {
  test(`SPEC 6 / issue 13.3: data.mdb damaged (${name}): ${all ? 'every command says' : 'replay, import and serve say'} "store is damaged", exit 2, no signal`, () => {
    const db = damaged(name, damage);
    for (const args of all ? commands(db) : commands(db).filter((c) => c.includes('2') || c[0] === 'import' || c[0] === 'serve')) {
      const r = runCli(args, { timeout: 30_000 });
      assert.deepEqual(oneLineFailure(r), [], `${args.join(' ')}: ${r.signal ?? r.code}: ${r.stderr}`);
      assert.match(r.stderr, /^spork-replay: store is damaged: \S+: /, args.join(' '));
      assert.match(r.stderr, why, args.join(' '));
    }
  });
}

test('SPEC 6 / issue 13.3: the API refuses a damaged store with DamagedStoreError before mapping it', () => {
  const db = damaged('api', (f) => truncateSync(f, 8192));
  assert.throws(() => BlockStore.open(db, { readOnly: true }), {
    name: 'DamagedStoreError',
    message: /^store is damaged: .*: data\.mdb is 8192 bytes but its header says/,
  });
  assert.throws(() => BlockStore.open(db), { name: 'DamagedStoreError' });
});

test('SPEC 6 / issue 13.8: usage errors are one line and exit 2: --db a file, an archive that is a directory, outputs that are directories', () => {
  const dir = join(t.dir, 'a-directory');
  mkdirSync(dir);
  const file = join(t.dir, 'a-file');
  writeFileSync(file, 'not a store');
  const cases: [string[], RegExp][] = [
    [['replay', '--db', file, '--quiet'], /--db \S+a-file: is a file, not a store directory/],
    [['import', archive, '--db', file, '--quiet'], /--db \S+a-file: is a file, not a store directory/],
    [['export', '--db', file, '--out', join(t.dir, 'x.spork')], /--db \S+a-file: is a file, not a store directory/],
    [['serve', '--db', file], /--db \S+a-file: is a file, not a store directory/],
    [['versions', '--db', file], /--db \S+a-file: is a file, not a store directory/],
    [['replay', dir, '--quiet'], /a-directory: is a directory, not an archive/],
    [['import', dir, '--db', join(t.dir, 'new-store')], /a-directory: is a directory, not an archive/],
    [['replay', '--db', healthy, '--quiet', '--report', dir], /--report \S+a-directory: is a directory \(give a file name\)/],
    [['report', '--db', healthy, '--quiet', '--html', dir], /--html \S+a-directory: is a directory \(give a file name\)/],
    [['export', '--db', healthy, '--out', dir], /--out \S+a-directory: is a directory \(give a file name\)/],
    [['replay', '--db', healthy, '--quiet', '--report', join(t.dir, 'no', 'such', 'r.jsonl')], /--report \S+r\.jsonl: no directory \S+such/],
    [['serve', '--db', healthy, '--cors', 'javascript:alert(1)'], /--cors "javascript:alert\(1\)": expected \* or an origin/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args, { timeout: 30_000 });
    assert.deepEqual(oneLineFailure(r), [], `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
