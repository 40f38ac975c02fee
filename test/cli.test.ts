// The command line contract: exit 0 all good, 1 findings, 2 bad usage or input (SPEC 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { vectorPath } from './helpers/vectors.js';
import { tempDir } from './helpers/tmp.js';

test('CLI: usage errors exit 2 (commander would exit 1)', () => {
  for (const args of [['no-such-command'], ['replay', '--threads', 'x', 'a.spork'], ['replay', '--bogus'], ['import'], ['export', '--db', '/tmp/none']]) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.equal(cli(['--help']).code, 0);
  assert.equal(cli(['--version']).code, 0);
});

test('CLI: missing or malformed input exits 2 with a clear message', () => {
  const t = tempDir();
  try {
    let r = cli(['replay', join(t.dir, 'missing.spork')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no such archive/);
    r = cli(['replay', '--db', join(t.dir, 'nodb')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no store/);
    const bad = join(t.dir, 'bad.spork');
    writeFileSync(bad, Buffer.from([0x93, 0x01]));
    r = cli(['replay', bad, '--quiet']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.spork: record 0 \(the archive header\) at byte offset 0: not a spork archive: truncated \(at byte 2\)\n$/);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  } finally {
    t.cleanup();
  }
});

test('CLI: replay exits 0 on a clean spork and 1 on findings; --json prints the summary; --report writes lines', () => {
  const t = tempDir();
  try {
    let r = cli(['replay', vectorPath('scenarios/beacons-index.spork'), '--json', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.type, 'summary');
    assert.equal(s.blocks, 50);
    assert.equal(s.threads, 1);
    const report = join(t.dir, 'r.jsonl');
    r = cli(['replay', vectorPath('scenarios/fault-verdicts.spork'), '--report', report, '--quiet', '--threads', '0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /first invalid finalized/);
    const lines = readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 21);
    assert.equal(lines[20].type, 'summary');
  } finally {
    t.cleanup();
  }
});

test('CLI: import, export and replay --db; a second import of the same archive changes nothing', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    const src = vectorPath('scenarios/upgrade-forks.spork');
    let r = cli(['import', src, '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).stored, 11);
    r = cli(['import', src, '--db', db, '--json']);
    assert.equal(JSON.parse(r.stdout).alreadyImported, true);
    r = cli(['export', '--db', db, '--out', join(t.dir, 'out.spork'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(t.dir, 'out.spork')).equals(readFileSync(src)));
    r = cli(['replay', '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    r = cli(['versions', '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout).versionMap));
    r = cli(['import', vectorPath('scenarios/beacons-index.spork'), '--db', db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /root snapshot differs/);
  } finally {
    t.cleanup();
  }
});

test('9.2 CLI: a truncated archive is replayed up to the framing error, then exit 2 naming record and offset', () => {
  const t = tempDir();
  try {
    const bytes = readFileSync(vectorPath('scenarios/beacons-index.spork'));
    const cut = join(t.dir, 'cut.spork');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = cli(['replay', cut, '--json', '--threads', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /record \d+ \(byte offset \d+\)/);
    const s = JSON.parse(r.stdout);
    assert.ok(s.blocks > 10 && s.blocks < 50, `replayed ${s.blocks} blocks`);
  } finally {
    t.cleanup();
  }
});
