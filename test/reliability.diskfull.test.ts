// Issue 13.1: a full disk during import, replay, the JSON Lines report, the HTML report and
// export ends in one line (`no space left on device while writing X; kept: ...`), exit 2, no
// signal, no hang, no partial file under the final name; and the store, moved to a disk with
// space, resumes to the report of an uninterrupted run. The full disks are small tmpfs (and one
// loop-mounted ext4) mounts: the tests need root and are skipped, saying why, without it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, comparableReport, mountExt4, mountTmpfs, oneLineFailure, runCli, unmount, type ProcessResult } from './fuzz/cli-process.js';
import { tempDir } from './helpers/tmp.js';
import { vectorPath } from './helpers/vectors.js';

const t = tempDir('spork-diskfull-');
const archive = join(t.dir, 'a.spork');
const imported = join(t.dir, 'imported');
const replayed = join(t.dir, 'replayed');
let reference = '';
let importBytes = 0;
let replayBytes = 0;
const mounts: string[] = [];
const skip = cannotMount();

function ok(r: ProcessResult, what: string): void {
  assert.equal(r.signal, null, `${what}: ${r.signal}`);
  assert.ok(r.code === 0 || r.code === 1, `${what}: exit ${r.code}: ${r.stderr}`);
}

function storeBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** A fresh mount point with a tmpfs of `bytes` (unmounted after the file's tests). */
function fullDisk(name: string, bytes: number): string {
  const dir = join(t.dir, name);
  mkdirSync(dir);
  const why = mountTmpfs(dir, bytes);
  assert.equal(why, null);
  mounts.push(dir);
  return dir;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.tmp-'));
}

function reportOf(db: string): string {
  const out = join(t.dir, `report-${Math.random().toString(36).slice(2)}.jsonl`);
  ok(runCli(['replay', '--db', db, '--threads', '0', '--quiet', '--report', out]), `replay --db ${db}`);
  return comparableReport(readFileSync(out, 'utf8'));
}

before(() => {
  if (skip) return;
  ok(runCli(['synth', '--out', archive, '--blocks', '400', '--seed', '13']), 'synth');
  ok(runCli(['import', archive, '--db', imported, '--quiet']), 'import');
  importBytes = storeBytes(imported);
  cpSync(imported, replayed, { recursive: true });
  reference = reportOf(replayed);
  replayBytes = storeBytes(replayed);
});

after(() => {
  for (const m of mounts) unmount(m);
  t.cleanup();
});

test('SPEC 6 / issue 13.1: import onto a full disk: one line, exit 2, the store consistent and resumable elsewhere', { skip }, () => {
  const disk = fullDisk('import', Math.floor(importBytes / 2));
  const db = join(disk, 'st');
  const r = runCli(['import', archive, '--db', db, '--quiet'], { timeout: 60_000 });
  assert.deepEqual(oneLineFailure(r), []);
  assert.match(
    r.stderr,
    /^spork-replay: no space left on device while writing the records of \S+a\.spork into the store \S+st; kept: the \d+ records committed before it \(the store is consistent; `import` resumes there when there is space\)\n$/,
  );
  const moved = join(t.dir, 'import-moved');
  cpSync(db, moved, { recursive: true });
  ok(runCli(['import', archive, '--db', moved, '--quiet']), 'import again, with space');
  assert.equal(reportOf(moved), reference);
});

test('SPEC 6 / issue 13.1: a large import (committed by the store writer thread) onto a full disk: the same one line, exit 2, resumable elsewhere', {
  skip,
}, () => {
  // 10,000 blocks are ~41 MB: above the size from which imports decode and commit in threads of their own
  const big = join(t.dir, 'big.spork');
  ok(runCli(['synth', '--out', big, '--blocks', '10000', '--seed', '13']), 'synth');
  assert.ok(statSync(big).size >= 32 << 20);
  const whole = join(t.dir, 'big-whole');
  ok(runCli(['import', big, '--db', whole, '--quiet']), 'import');
  const disk = fullDisk('import-big', Math.floor(storeBytes(whole) / 2));
  const db = join(disk, 'st');
  const r = runCli(['import', big, '--db', db, '--quiet'], { timeout: 60_000 });
  assert.deepEqual(oneLineFailure(r), []);
  assert.match(
    r.stderr,
    /^spork-replay: no space left on device while writing the records of \S+big\.spork into the store \S+st; kept: the [1-9]\d* records committed before it \(the store is consistent; `import` resumes there when there is space\)\n$/,
  );
  const moved = join(t.dir, 'import-big-moved');
  cpSync(db, moved, { recursive: true });
  ok(runCli(['import', big, '--db', moved, '--quiet']), 'import again, with space');
  assert.equal(reportOf(moved), reportOf(whole));
});

for (const threads of ['0', '2']) {
  test(`SPEC 6 / issue 13.1: replay (--threads ${threads}) onto a full disk: one line, exit 2, no hang; resumes to the same report`, { skip }, () => {
    const disk = fullDisk(`replay-${threads}`, importBytes + Math.floor((replayBytes - importBytes) / 3));
    const db = join(disk, 'st');
    cpSync(imported, db, { recursive: true });
    const r = runCli(['replay', '--db', db, '--quiet', '--threads', threads], { timeout: 60_000 });
    assert.deepEqual(oneLineFailure(r), []);
    assert.match(
      r.stderr,
      /^spork-replay: no space left on device while writing replay results into the store \S+st; kept: the \d+ imported records and the results of the \d+ blocks replayed before it \(the store is consistent; `replay --db \S+` resumes there when there is space\)\n$/,
    );
    // a second attempt on the still-full disk fails the same way (no crash after a failed commit)
    const again = runCli(['replay', '--db', db, '--quiet', '--threads', threads], { timeout: 60_000 });
    assert.deepEqual(oneLineFailure(again), []);
    const moved = join(t.dir, `replay-moved-${threads}`);
    cpSync(db, moved, { recursive: true });
    assert.equal(reportOf(moved), reference);
  });
}

test('SPEC 6 / issue 13.1: replay on a full loop-mounted ext4: one line, exit 2; resumes to the same report', { skip }, (tc) => {
  const disk = join(t.dir, 'ext4');
  mkdirSync(disk);
  const why = mountExt4(join(t.dir, 'ext4.img'), disk, 4 << 20);
  if (why !== null) {
    tc.skip(why);
    return;
  }
  mounts.push(disk);
  const db = join(disk, 'st');
  cpSync(imported, db, { recursive: true });
  // fill what is left but for a little less than the replay needs
  const free = Number(statfsFree(disk));
  writeFileSync(join(disk, 'filler'), Buffer.alloc(Math.max(0, free - Math.floor((replayBytes - importBytes) / 3))));
  const r = runCli(['replay', '--db', db, '--quiet', '--threads', '2'], { timeout: 60_000 });
  assert.deepEqual(oneLineFailure(r), []);
  assert.match(r.stderr, /^spork-replay: no space left on device while writing replay results into the store /);
  const moved = join(t.dir, 'ext4-moved');
  cpSync(db, moved, { recursive: true });
  assert.equal(reportOf(moved), reference);
});

function statfsFree(dir: string): bigint {
  const s = statfsSync(dir, { bigint: true });
  return s.bavail * s.bsize;
}

test('SPEC 6 / issue 13.1: replay --report onto a full disk: exit 2, one line; the old report stays, no partial file', { skip }, () => {
  const disk = fullDisk('report', 64 * 1024);
  const out = join(disk, 'r.jsonl');
  writeFileSync(out, 'the previous report\n');
  const r = runCli(['replay', '--db', replayed, '--quiet', '--threads', '0', '--report', out], { timeout: 60_000 });
  assert.deepEqual(oneLineFailure(r), []);
  assert.match(
    r.stderr,
    /^spork-replay: no space left on device while writing the report \S+r\.jsonl; kept: the replayed store \(every block's result is stored: `replay --db \S+ --report FILE` writes the report without replaying again\); \S+r\.jsonl is unchanged\n$/,
  );
  assert.equal(readFileSync(out, 'utf8'), 'the previous report\n');
  assert.deepEqual(leftovers(disk), []);
  // without an earlier file, nothing is left under the final name
  const fresh = join(disk, 'new.jsonl');
  const r2 = runCli(['replay', '--db', replayed, '--quiet', '--threads', '0', '--report', fresh]);
  assert.deepEqual(oneLineFailure(r2), []);
  assert.match(r2.stderr, /new\.jsonl was not created\n$/);
  assert.deepEqual(readdirSync(disk).sort(), ['r.jsonl']);
});

test('SPEC 6 / issue 13.1: report --html and export onto a full disk: exit 2, one line, no partial file', { skip }, () => {
  const disk = fullDisk('outputs', 16 * 1024);
  const html = runCli(['report', '--db', replayed, '--quiet', '--threads', '0', '--html', join(disk, 'r.html')], { timeout: 60_000 });
  assert.deepEqual(oneLineFailure(html), []);
  assert.match(
    html.stderr,
    /^spork-replay: no space left on device while writing the HTML report \S+r\.html; kept: the replayed store \S+; \S+r\.html was not created\n$/,
  );
  const exp = runCli(['export', '--db', replayed, '--quiet', '--out', join(disk, 'x.spork')], { timeout: 60_000 });
  assert.deepEqual(oneLineFailure(exp), []);
  assert.match(
    exp.stderr,
    /^spork-replay: no space left on device while writing the archive \S+x\.spork; kept: the store \(export only reads it\); \S+x\.spork was not created\n$/,
  );
  assert.deepEqual(readdirSync(disk), []);
});

test('SPEC 6 / issue 13.1: replay ARCHIVE with a full temporary directory: exit 2, one line, the temporary store removed', { skip }, () => {
  const disk = fullDisk('tmp', Math.floor(importBytes / 2));
  const r = runCli(['replay', archive, '--quiet', '--threads', '0'], { timeout: 60_000, env: { TMPDIR: disk } });
  assert.deepEqual(oneLineFailure(r), []);
  assert.match(
    r.stderr,
    /^spork-replay: no space left on device while writing the records of \S+ into a temporary store in \S+; kept: nothing \(the temporary store is removed; import into --db DIR on a disk with space, then replay --db DIR\)\n$/,
  );
  assert.deepEqual(readdirSync(disk), []);
});

test('SPEC 6 / issue 13.1: export under a file size limit (ulimit -f, no root needed): exit 2, one line, no partial file', () => {
  const src = join(t.dir, 'ulimit-src');
  ok(runCli(['import', vectorPath('scenarios/upgrade-forks.spork'), '--db', src, '--quiet']), 'import');
  const out = join(t.dir, 'ulimit-out');
  mkdirSync(out);
  const r = runCli(['export', '--db', src, '--quiet', '--out', join(out, 'x.spork')], { fileSizeLimitKB: 16 });
  assert.deepEqual(oneLineFailure(r), []);
  assert.match(
    r.stderr,
    /^spork-replay: the file size limit was reached \(EFBIG\) while writing the archive \S+x\.spork; kept: the store \(export only reads it\); \S+x\.spork was not created\n$/,
  );
  assert.deepEqual(readdirSync(out), []);
});
