// `npm run fuzz -- --cases N [--seed S] [--replay-every K]`: the archive fuzzer of issue 13
// (test/fuzz/harness.ts, built into dist/) for longer than CI runs it, in processes of at most
// 2000 cases each. Prints each failing case and a summary; exit 1 when a case failed, the
// harness died (the case that killed it is named), or it hung.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const harness = new URL('../dist/test/fuzz/harness.js', import.meta.url).pathname;
if (!existsSync(harness)) {
  console.error('fuzz: dist/test/fuzz/harness.js is missing: run `npm run build` first');
  process.exit(2);
}

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`fuzz: ${name} expects a whole number`);
    process.exit(2);
  }
  return v;
}

const cases = option('--cases', 2000);
const seed = option('--seed', 13);
const replayEvery = option('--replay-every', 1);
const PER_PROCESS = 2000;
const HANG_MS = 60_000;

/** Runs cases [first, first + n) in one harness process; resolves with its summary, or null when it died. */
function chunk(first, n, totals) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [harness, '--cases', String(n), '--first', String(first), '--seed', String(seed), '--replay-every', String(replayEvery)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let last = null;
    let summary = null;
    let watchdog;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        console.error(`fuzz: no progress for ${HANG_MS / 1000} s after case ${last?.i ?? first - 1}: the harness hangs; killing it`);
        child.kill('SIGKILL');
      }, HANG_MS);
    };
    arm();
    createInterface({ input: child.stdout }).on('line', (line) => {
      arm();
      const x = JSON.parse(line);
      if (x.type === 'summary') summary = x;
      if (x.type !== 'case') return;
      last = x;
      totals.cases++;
      if (x.problems.length > 0) {
        totals.failed++;
        console.log(`case ${x.i} (${x.kind}, ${x.bytes} bytes, exit ${x.code}): ${x.problems.join('; ')}\n  ${x.stderr.trim()}`);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (signal !== null || summary === null) {
        const next = last === null ? first : last.i + 1;
        console.error(`fuzz: the harness ended by ${signal ?? `exit ${code}`} during case ${next} (reproduce: --seed ${seed} and cases from ${next})`);
        totals.failed++;
        resolve(null);
        return;
      }
      resolve(summary);
    });
  });
}

const totals = { cases: 0, failed: 0 };
const started = Date.now();
let maxRssMB = 0;
let maxUsPerByte = 0;
const byCode = {};
for (let first = 0; first < cases; first += PER_PROCESS) {
  const s = await chunk(first, Math.min(PER_PROCESS, cases - first), totals);
  if (s === null) break;
  maxRssMB = Math.max(maxRssMB, s.maxRssMB);
  maxUsPerByte = Math.max(maxUsPerByte, s.maxUsPerByte);
  for (const [k, v] of Object.entries(s.byCode)) byCode[k] = (byCode[k] ?? 0) + v;
  console.error(`fuzz: ${totals.cases}/${cases} cases, ${totals.failed} failed`);
}
console.log(
  JSON.stringify({
    type: 'summary',
    cases: totals.cases,
    failed: totals.failed,
    seed,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    byCode,
    maxUsPerByte,
    maxRssMB,
  }),
);
process.exit(totals.failed === 0 && totals.cases === cases ? 0 : 1);
