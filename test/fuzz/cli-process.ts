// The built CLI in a child process, as the reliability tests need it: the signal that ended it
// (if any), how long it took, and optionally its peak memory (max RSS, from the child itself).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../../bin/spork-replay.js', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.js', import.meta.url).href;

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident memory of the child in KiB (with `measure`). */
  maxRssKB?: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeout?: number;
  env?: Record<string, string>;
  /** Also report the child's peak memory (runs the CLI through a small wrapper). */
  measure?: boolean;
  /** Run under `ulimit -f` (KiB): writes past it fail with EFBIG. */
  fileSizeLimitKB?: number;
}

/** Runs `spork-replay ARGS`; never throws. */
export function runCli(args: string[], opts: RunOptions = {}): ProcessResult {
  const usageFile = join(tmpdir(), `spork-rusage-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const argv = opts.measure ? ['--input-type=module', '-e', wrapper(usageFile), '--', ...args] : [BIN, ...args];
  const started = Date.now();
  const [cmd, cmdArgs] =
    opts.fileSizeLimitKB === undefined
      ? [process.execPath, argv]
      : ['sh', ['-c', `ulimit -f ${opts.fileSizeLimitKB} && exec "$0" "$@"`, process.execPath, ...argv]];
  const r = spawnSync(cmd, cmdArgs, {
    encoding: 'utf8',
    timeout: opts.timeout ?? 120_000,
    killSignal: 'SIGKILL',
    maxBuffer: 256 << 20,
    env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
  });
  const out: ProcessResult = {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    ms: Date.now() - started,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
  };
  if (opts.measure && existsSync(usageFile)) {
    out.maxRssKB = JSON.parse(readFileSync(usageFile, 'utf8')).maxRSS;
    rmSync(usageFile, { force: true });
  }
  return out;
}

function wrapper(usageFile: string): string {
  return [
    `const { writeFileSync } = await import('node:fs');`,
    `const m = await import(${JSON.stringify(MAIN)});`,
    `process.on('exit', () => writeFileSync(${JSON.stringify(usageFile)}, JSON.stringify(process.resourceUsage())));`,
    `process.exitCode = await m.run(['node', 'spork-replay', ...process.argv.slice(1)]);`,
  ].join('\n');
}

/** Starts `spork-replay ARGS` and SIGKILLs it after `afterMs`; resolves with how it ended. */
export function runAndKill(args: string[], afterMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** The problems of a command that must fail with one clear line and exit 2. */
export function oneLineFailure(r: ProcessResult): string[] {
  const problems: string[] = [];
  if (r.signal !== null) problems.push(`ended by ${r.signal}`);
  if (r.timedOut) problems.push(`hung (killed after ${r.ms} ms)`);
  if (r.code !== 2) problems.push(`exit ${r.code}, not 2`);
  if (/internal error|^\s+at |Error: /m.test(r.stderr)) problems.push('a stack trace or raw error on stderr');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) problems.push(`${lines.length} lines on stderr`);
  return problems;
}

/** Why this process cannot mount a small filesystem for disk-full tests, or false when it can (tries one). */
export function cannotMount(): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    return 'needs root on Linux to mount a small filesystem (run the suite as root to cover disk-full)';
  const dir = mkdtempSync(join(tmpdir(), 'spork-mount-probe-'));
  try {
    const why = mountTmpfs(dir, 64 * 1024);
    if (why !== null) return why;
    unmount(dir);
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `bytes` on `dir`; the reason when it cannot. */
export function mountTmpfs(dir: string, bytes: number): string | null {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil(bytes / 4096) * 4}k`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
}

/** Makes a small ext4 in the file `image` and loop-mounts it on `dir`; the reason when it cannot. */
export function mountExt4(image: string, dir: string, bytes: number): string | null {
  const mk = spawnSync('sh', ['-c', `truncate -s ${bytes} "$0" && mkfs.ext4 -q -F -m 0 "$0"`, image], { encoding: 'utf8' });
  if (mk.status !== 0) return `mkfs.ext4 failed: ${(mk.stderr || mk.error?.message || '').trim()}`;
  const r = spawnSync('mount', ['-o', 'loop', image, dir], { encoding: 'utf8' });
  return r.status === 0 ? null : `mount -o loop failed: ${(r.stderr || r.error?.message || '').trim()}`;
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
  if (spawnSync('mountpoint', ['-q', dir]).status === 0) spawnSync('umount', ['-l', dir]);
}

/** The JSON Lines report without the run fields (SPEC 7.2: threads, seconds, blocksPerSecond). */
export function comparableReport(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const x = JSON.parse(l);
      if (x.type === 'summary') {
        delete x.threads;
        delete x.seconds;
        delete x.blocksPerSecond;
        // run fields (docs/output.md): what this run evaluated, reused and imported
        delete x.evaluated;
        delete x.reused;
        delete x.import;
      }
      return JSON.stringify(x);
    })
    .join('\n');
}
