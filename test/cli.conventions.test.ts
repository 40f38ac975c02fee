// Conventions operators know from reth, geth and flow-cli: honest work counts, log lines off a
// terminal, help with examples and exit codes, --json and --quiet everywhere (errors as JSON
// too), `stats`, and one clear line for every mistake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const BIN = new URL('../../bin/spork-replay.js', import.meta.url).pathname;
const SAMPLE = new URL('../../data/sample.spork', import.meta.url).pathname;
const INCIDENT = new URL('../../data/incident.spork', import.meta.url).pathname;
const README = new URL('../../README.md', import.meta.url).pathname;

const COMMANDS = ['synth', 'import', 'fetch', 'import-root', 'export', 'replay', 'versions', 'bootstrap-check', 'inspect', 'serve', 'report', 'stats'];

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, no stack, exit 2. */
function oneLine(r: { code: number; stderr: string }, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, what);
  assert.match(lines[0]!, pattern, what);
}

test('replay: a second replay says 0 evaluated and N reused, and no rate for work it did not do (text and --json)', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    const first = JSON.parse(run(['replay', SAMPLE, '--db', db, '--json']).stdout);
    assert.equal(first.evaluated, first.blocks);
    assert.equal(first.reused, 0);
    assert.ok(first.blocksPerSecond > 0);
    assert.equal(first.import.records, first.blocks);
    assert.ok(first.import.recordsPerSecond > 0);
    const second = JSON.parse(run(['replay', '--db', db, '--json']).stdout);
    assert.equal(second.evaluated, 0);
    assert.equal(second.reused, first.blocks);
    assert.equal(second.blocksPerSecond, undefined);
    assert.equal(second.import, undefined);
    const text = run(['replay', '--db', db]).stdout;
    assert.match(text, /evaluated\s+0 blocks, 2546 reused from the previous replay/);
    assert.match(text, /nothing to evaluate/);
    assert.doesNotMatch(text, /blocks\/s/);
  } finally {
    t.cleanup();
  }
});

test('progress: off a terminal, timestamped log lines with %, rate, ETA and elapsed; human units; none with --quiet', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    const r = run(['replay', SAMPLE, '--db', db], { SPORK_REPLAY_LOG_EVERY_MS: '1' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    const importLine = lines.find((l) => / import: \d+\.\d% /.test(l));
    assert.ok(importLine, r.stderr);
    assert.match(
      importLine!,
      /^\d{4}-\d\d-\d\dT\S+Z import: \d+\.\d% [\d.]+ (B|KB|MB)\/[\d.]+ MB, [\d.]+ (KB|MB|GB)\/s, (ETA [\d.]+s|ETA -), elapsed [\d.]+s$/,
    );
    const replayLine = lines.find((l) => / replay: \d+\.\d% /.test(l));
    assert.ok(replayLine, r.stderr);
    assert.match(replayLine!, /replay: \d+\.\d% [\d.]+k?\/2\.55k blocks, [\d.]+k? blocks\/s, (ETA [\d.]+s|ETA -), elapsed [\d.]+s$/);
    assert.ok(
      lines.some((l) => / replay: done 2\.55k blocks in [\d.]+s \([\d.]+k? blocks\/s\)$/.test(l)),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /bytes\/s/);
    const quiet = run(['replay', '--db', db, '--full', '--quiet'], { SPORK_REPLAY_LOG_EVERY_MS: '1' });
    assert.equal(quiet.stderr, '');
  } finally {
    t.cleanup();
  }
});

test('help: every command has Examples, an Exit codes footer, defaults shown; serve lists every route; no contract citations', () => {
  for (const c of COMMANDS) {
    const r = cli([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, /\nExamples:\n {2}(spork-replay|curl) /, c);
    assert.match(r.stdout, /\nExit codes:\n {2}0 {2}.+\n {2}1 {2}.+\n {2}2 {2}bad usage or input/, c);
    assert.match(r.stdout, /--json/, `${c} has --json`);
    assert.match(r.stdout, /--quiet/, `${c} has --quiet`);
    assert.doesNotMatch(r.stdout, /SPEC|ACCESS\.md/, `${c}: users have no SPEC`);
  }
  assert.match(cli(['replay', '--help']).stdout, /--threads <n>[^\n]*(\n {10,}[^\n]*)*\(default:\s+\d+\)/);
  assert.match(cli(['serve', '--help']).stdout, /--port <port>[^\n]*(\n {10,}[^\n]*)*\(default:\s+8080\)/);
  const serve = cli(['serve', '--help']).stdout;
  for (const route of ['/healthz', '/summary', '/blocks/:idOrHeight', '/blocks/:idOrHeight/state', '/heights/:height', '/versions', '/bootstrap-check']) {
    assert.ok(serve.includes(`\n  ${route}`), `serve --help lists ${route}`);
  }
  assert.match(cli(['--help']).stdout, /Exit codes: 0 all good, 1 findings, 2 bad usage or input/);
});

test('--json: an error is also one JSON object on stdout (usage, input), with the exit code', () => {
  const t = tempDir();
  try {
    let r = run(['replay', '--db', join(t.dir, 'none'), '--json']);
    assert.equal(r.code, 2);
    const e = JSON.parse(r.stdout).error;
    assert.equal(e.exitCode, 2);
    assert.equal(e.kind, 'input');
    assert.match(e.message, /no store there/);
    assert.match(r.stderr, /^spork-replay: .*no store there/);
    r = run(['stats', '--bogus', '--json']);
    assert.equal(r.code, 2);
    assert.deepEqual(JSON.parse(r.stdout), { error: { exitCode: 2, kind: 'usage', message: "unknown option '--bogus'" } });
    r = run(['replay', README, '--json']);
    assert.equal(r.code, 2);
    assert.match(JSON.parse(r.stdout).error.message, /not a spork archive/);
  } finally {
    t.cleanup();
  }
});

test('--json on export, report and stats; --quiet keeps stderr empty', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    assert.equal(run(['import', SAMPLE, '--db', db, '--quiet']).code, 0);
    const ex = run(['export', '--db', db, '--out', join(t.dir, 'x.spork'), '--json']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.deepEqual(JSON.parse(ex.stdout), { out: join(t.dir, 'x.spork'), records: 2546 });
    const rep = run(['report', '--db', db, '--html', join(t.dir, 'r.html'), '--json', '--threads', '1']);
    assert.equal(rep.code, 0, rep.stderr);
    const page = JSON.parse(rep.stdout);
    assert.equal(page.blocks, 2546);
    assert.equal(page.finalizedHeight, 90002500);
    assert.ok(existsSync(page.html));
    for (const args of [
      ['versions', '--db', db],
      ['bootstrap-check', '--db', db, '--binary', '0.42.1'],
      ['stats', '--db', db],
    ]) {
      const q = run([...args, '--quiet'], { SPORK_REPLAY_LOG_EVERY_MS: '1' });
      assert.equal(q.stderr, '', args[0]);
    }
  } finally {
    t.cleanup();
  }
});

test('stats: root, records, archives, replay state and size on disk (text and --json)', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    assert.equal(run(['import', SAMPLE, '--db', db, '--quiet']).code, 0);
    let s = JSON.parse(run(['stats', '--db', db, '--json']).stdout);
    assert.equal(s.records, 2546);
    assert.equal(s.root.height, 90000000);
    assert.equal(s.finalizedHeight, 90002500);
    assert.equal(s.archives.length, 1);
    assert.equal(s.archives[0].complete, true);
    assert.match(s.archives[0].sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual([s.replay.results, s.replay.pending, s.replay.upToDate], [0, 2546, false]);
    assert.ok(s.disk.fileBytes > 0 && s.disk.usedBytes > 0 && s.disk.usedBytes <= s.disk.fileBytes);
    assert.equal(run(['replay', '--db', db, '--quiet']).code, 0);
    s = JSON.parse(run(['stats', '--db', db, '--json', '--verdicts']).stdout);
    assert.deepEqual([s.replay.results, s.replay.pending, s.replay.upToDate], [2546, 0, true]);
    assert.deepEqual(s.replay.verdicts, { ok: 2546 });
    const text = run(['stats', '--db', db]).stdout;
    assert.match(text, /records\s+2546/);
    assert.match(text, /replay\s+generation 1: 2546 blocks replayed, up to date/);
    assert.match(text, /on disk\s+[\d.]+ MB file/);
  } finally {
    t.cleanup();
  }
});

test('a store that already holds another archive: one warning naming it; long conflict lists summarised', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    assert.equal(run(['import', SAMPLE, '--db', db, '--quiet']).code, 0);
    const r = run(['replay', INCIDENT, '--db', db]);
    assert.equal(r.code, 1);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(
      warnings[0]!,
      /^spork-replay: warning: the store .* also holds the records of 1 other archive \(sha256 [0-9a-f]{16}\): the replay covers their union/,
    );
    const conflicts = r.stdout.split('\n').find((l) => l.includes('finality conflicts'))!;
    assert.match(conflicts, /finality conflicts\s+1448 \(first two-finalized@90001053, last two-finalized@90002500; /);
    assert.ok(conflicts.length < 200, 'one short line');
    const again = run(['import', INCIDENT, '--db', db]);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /warning: the store .* also holds the records of 1 other archive/);
  } finally {
    t.cleanup();
  }
});

test('mistakes: one line naming the path and the problem, exit 2, no stack (issue rows 5-9)', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    assert.equal(run(['import', SAMPLE, '--db', db, '--quiet']).code, 0);
    oneLine(run(['export', '--db', db, '--out', '/nonexistent/dir/x.spork']), /\/nonexistent\/dir\/x\.spork/, 'export --out');
    oneLine(run(['replay', '--db', db, '--report', '/nonexistent/r.jsonl']), /\/nonexistent\/r\.jsonl/, 'replay --report');
    const dataDir = join(t.dir, 'data');
    mkdirSync(dataDir);
    oneLine(run(['replay', dataDir]), /is a directory, not an archive/, 'replay DIR');
    oneLine(run(['synth', '--out', '/nonexistent/x.spork', '--blocks', '10']), /\/nonexistent\/x\.spork/, 'synth --out');
    oneLine(run(['report', '--db', db, '--html', '/nonexistent/x.html']), /\/nonexistent\/x\.html/, 'report --html');
    oneLine(run(['import', SAMPLE, '--db', README]), /is a file, not a store directory/, 'import --db FILE');
    const zero = run(['synth', '--out', join(t.dir, 'z.spork'), '--blocks', '0']);
    assert.equal(zero.code, 2, zero.stderr);
    assert.doesNotMatch(zero.stderr, /internal error|\n\s+at /);
    const notArchive = run(['replay', README]);
    oneLine(notArchive, /not a spork archive/, 'replay README.md');
    assert.equal(notArchive.stderr.match(/not a spork archive/g)!.length, 1, 'said once');
    const file = join(t.dir, 'f.txt');
    writeFileSync(file, 'x');
    oneLine(run(['stats', '--db', file]), /is a file, not a store directory/, 'stats --db FILE');
  } finally {
    t.cleanup();
  }
});

test('a closed pipe ends the output quietly (inspect --json | head -1)', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    assert.equal(run(['replay', SAMPLE, '--db', db, '--quiet']).code, 0);
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" inspect --db "${db}" 90001000 --json | head -1`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.stdout, '{\n');
    assert.equal(r.stderr, '');
    assert.ok(r.status === 0 || r.status === 141, `exit ${r.status}`);
  } finally {
    t.cleanup();
  }
});
