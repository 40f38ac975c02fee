// Archive fuzzer (issue 13): seeded mutations of small synthetic sporks, each read by the
// archive reader (streaming and in memory, compared with an independent framer written here)
// and replayed by the CLI in this process (`run`, as `spork-replay replay FILE`). Runs as its
// own process so that a signal or a hang shows as the case that caused it:
//
//   node dist/test/fuzz/harness.js --cases N [--first I] [--seed S] [--replay-every K]
//
// stdout: one JSON line per case ({"type":"case", ...}, written before the next case starts),
// then {"type":"summary", ...}. Exit 0 when every case held, 1 when some did not.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ArchiveFramingError,
  ArchiveHeaderError,
  ArchiveReader,
  MAX_SHORT_RECORDS,
  MIN_BLOCK_RECORD_BYTES,
  parseArchiveBytes,
} from '../../src/model/archive.js';
import { run } from '../../src/cli/main.js';
import { writeSporkArchive } from '../../src/synth/index.js';
import { Rng } from '../helpers/random.js';

export interface Expectation {
  /** Where the archive stops (framing error or the short-record cap), or null when it frames to the end. */
  stop: { record: number; offset: number } | null;
  /** Start offsets of the framed block records (record 1 first). */
  offsets: number[];
}

// ---------------------------------------------------------------- independent framer

/** End of the MessagePack value at `pos`, or -1 when it cannot be completed (truncated, 0xc1, a length past the end). */
export function frameValue(b: Uint8Array, pos: number): number {
  const len = b.length;
  let pending = 1;
  const need = (n: number) => pos + n <= len;
  const lenAt = (at: number, width: number) => {
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + b[at + i];
    return v;
  };
  while (pending > 0) {
    if (!need(1)) return -1;
    const t = b[pos];
    pending--;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      pos += 1;
      continue;
    }
    if (t === 0xc1) return -1;
    if ((t & 0xf0) === 0x80) {
      pending += 2 * (t & 0x0f);
      pos += 1;
      continue;
    }
    if ((t & 0xf0) === 0x90) {
      pending += t & 0x0f;
      pos += 1;
      continue;
    }
    if ((t & 0xe0) === 0xa0) {
      const n = t & 0x1f;
      if (!need(1 + n)) return -1;
      pos += 1 + n;
      continue;
    }
    const fixed: Record<number, number> = {
      0xcc: 1,
      0xcd: 2,
      0xce: 4,
      0xcf: 8,
      0xd0: 1,
      0xd1: 2,
      0xd2: 4,
      0xd3: 8,
      0xca: 4,
      0xcb: 8,
      0xd4: 2,
      0xd5: 3,
      0xd6: 5,
      0xd7: 9,
      0xd8: 17,
    };
    if (t in fixed) {
      if (!need(1 + fixed[t])) return -1;
      pos += 1 + fixed[t];
      continue;
    }
    const sized: Record<number, [number, number]> = {
      0xc4: [1, 0],
      0xc5: [2, 0],
      0xc6: [4, 0],
      0xd9: [1, 0],
      0xda: [2, 0],
      0xdb: [4, 0],
      0xc7: [1, 1],
      0xc8: [2, 1],
      0xc9: [4, 1],
    };
    if (t in sized) {
      const [w, extra] = sized[t];
      if (!need(1 + w)) return -1;
      const n = lenAt(pos + 1, w);
      if (!need(1 + w + extra + n)) return -1;
      pos += 1 + w + extra + n;
      continue;
    }
    const counted: Record<number, [number, number]> = { 0xdc: [2, 1], 0xdd: [4, 1], 0xde: [2, 2], 0xdf: [4, 2] };
    const [w, per] = counted[t];
    if (!need(1 + w)) return -1;
    pending += per * lenAt(pos + 1, w);
    pos += 1 + w;
  }
  return pos;
}

/** What SPEC 9.2 and the short-record cap say about an archive's framing. */
export function expectFraming(b: Uint8Array): Expectation {
  const header = frameValue(b, 0);
  if (header < 0) return { stop: { record: 0, offset: 0 }, offsets: [] };
  const offsets: number[] = [];
  let pos = header;
  let short = 0;
  for (let record = 1; pos < b.length; record++) {
    const end = frameValue(b, pos);
    if (end < 0 || (end - pos < MIN_BLOCK_RECORD_BYTES && ++short > MAX_SHORT_RECORDS)) return { stop: { record, offset: pos }, offsets };
    offsets.push(pos);
    pos = end;
  }
  return { stop: null, offsets };
}

// ---------------------------------------------------------------- mutations

export interface Base {
  bytes: Buffer;
  /** [start, end) of each value: the header first, then the block records. */
  values: [number, number][];
}

export function baseOf(bytes: Buffer): Base {
  const values: [number, number][] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const end = frameValue(bytes, pos);
    if (end < 0) throw new Error('fuzz base archive does not frame');
    values.push([pos, end]);
    pos = end;
  }
  return { bytes, values };
}

type Mutation = (b: Base, r: Rng) => Buffer;

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);
const pickRecord = (b: Base, r: Rng) => b.values[1 + r.int(b.values.length - 1)];
const anyPos = (b: Base, r: Rng) => r.int(b.bytes.length);

export const MUTATIONS: Record<string, Mutation> = {
  'flip-bits': (b, r) => {
    const x = Buffer.from(b.bytes);
    for (let k = 1 + r.int(4); k > 0; k--) {
      const p = anyPos(b, r);
      x[p] ^= 1 << r.int(8);
    }
    return x;
  },
  'set-byte': (b, r) => {
    const x = Buffer.from(b.bytes);
    x[anyPos(b, r)] = r.int(256);
    return x;
  },
  'reserved-c1': (b, r) => {
    const x = Buffer.from(b.bytes);
    x[anyPos(b, r)] = 0xc1;
    return x;
  },
  truncate: (b, r) => b.bytes.subarray(0, anyPos(b, r)),
  'truncate-at-boundary': (b, r) => {
    const [, end] = b.values[r.int(b.values.length)];
    return b.bytes.subarray(0, Math.max(0, Math.min(b.bytes.length, end + r.int(3) - 1)));
  },
  'insert-random': (b, r) => {
    const p = anyPos(b, r);
    return cat(b.bytes.subarray(0, p), r.bytes(1 + r.int(64)), b.bytes.subarray(p));
  },
  'delete-range': (b, r) => {
    const p = anyPos(b, r);
    return cat(b.bytes.subarray(0, p), b.bytes.subarray(Math.min(b.bytes.length, p + 1 + r.int(256))));
  },
  'duplicate-record': (b, r) => {
    const [s, e] = pickRecord(b, r);
    return cat(b.bytes, b.bytes.subarray(s, e));
  },
  'conflicting-record': (b, r) => {
    const [s, e] = pickRecord(b, r);
    const copy = Buffer.from(b.bytes.subarray(s, e));
    copy[e - s - 1 - r.int(Math.min(64, e - s - 40))] ^= 0x01; // same claimed id (bytes 2..34), other content
    return cat(b.bytes, copy);
  },
  'swap-records': (b, r) => {
    const [s1, e1] = pickRecord(b, r);
    const [s2, e2] = pickRecord(b, r);
    if (s1 >= s2) return Buffer.from(b.bytes);
    return cat(b.bytes.subarray(0, s1), b.bytes.subarray(s2, e2), b.bytes.subarray(e1, s2), b.bytes.subarray(s1, e1), b.bytes.subarray(e2));
  },
  'huge-length': (b, r) => {
    const p = anyPos(b, r);
    const head = r.pick([0xc6, 0xdb, 0xc9, 0xdd, 0xdf]);
    return cat(b.bytes.subarray(0, p), Buffer.from([head, 0xff, 0xff, 0xff, 0xf0 | r.int(16)]), b.bytes.subarray(p + 5));
  },
  'tiny-records': (b, r) => {
    // mostly a few, sometimes around the cap (each stored record costs the same whatever its size)
    const n = r.chance(0.75) ? 1 + r.int(256) : MAX_SHORT_RECORDS - 2 + r.int(8);
    return cat(b.bytes, Buffer.alloc(n, r.pick([0x00, 0x90, 0xc0, 0xc3, 0xa0, 0x80])));
  },
  'deep-nesting': (b, r) => {
    const depth = 1 + r.int(100_000);
    return cat(b.bytes, Buffer.alloc(depth, r.pick([0x91, 0x81])), Buffer.from([0x00, 0x00]).subarray(0, 1 + r.int(2)));
  },
  'corrupt-header': (b, r) => {
    const x = Buffer.from(b.bytes);
    const [, end] = b.values[0];
    x[r.int(end)] = r.int(256);
    return x;
  },
  'append-garbage': (b, r) => cat(b.bytes, r.bytes(1 + r.int(2048))),
  'header-only': (b, r) => b.bytes.subarray(0, b.values[0][1] - (r.chance(0.3) ? 1 : 0)),
};

export const KINDS = Object.keys(MUTATIONS);

// ---------------------------------------------------------------- checks

const FRAMING_LINE = /malformed archive at record (\d+) \(byte offset (\d+)\)/;
const HEADER_LINE = /record 0 \(the archive header\) at byte offset 0/;
const CONFLICT_LINE = /record (\d+) at byte offset (\d+): (a record claiming the root|another, different record)/;

export interface CaseResult {
  type: 'case';
  i: number;
  kind: string;
  bytes: number;
  code: number | null;
  ms: number;
  stop: Expectation['stop'];
  stderr: string;
  problems: string[];
}

/** The reader, streaming (small chunks) and in memory, agrees with the independent framer. */
async function checkReader(file: string, bytes: Buffer, want: Expectation, problems: string[]): Promise<void> {
  const mem = (() => {
    try {
      const p = parseArchiveBytes(bytes, { decode: false });
      return {
        offsets: p.blocks.map((x) => x.offset),
        stop: p.framingError === null ? null : { record: p.framingError.record, offset: p.framingError.offset },
      };
    } catch (e) {
      if (e instanceof ArchiveFramingError) return { offsets: [], stop: { record: e.record, offset: e.offset } };
      if (e instanceof ArchiveHeaderError) return null;
      throw e;
    }
  })();
  const reader = new ArchiveReader(file, { chunkSize: 4096, decode: true });
  const offsets: number[] = [];
  let stop: Expectation['stop'] = null;
  let headerBad = false;
  try {
    await reader.readHeaderEntry();
    for await (const batch of reader.batches()) for (const e of batch) offsets.push(e.offset);
  } catch (e) {
    if (e instanceof ArchiveFramingError) stop = { record: e.record, offset: e.offset };
    else if (e instanceof ArchiveHeaderError) headerBad = true;
    else throw e;
  } finally {
    await reader.close();
  }
  if (headerBad || mem === null) {
    if (!(headerBad && mem === null)) problems.push(`reader: header accepted by one reader only (streaming ${!headerBad}, in memory ${mem !== null})`);
    return;
  }
  const same = (a: Expectation['stop'], b: Expectation['stop']) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(stop, want.stop)) problems.push(`reader: stops at ${JSON.stringify(stop)}, the framer says ${JSON.stringify(want.stop)}`);
  if (!same(mem.stop, want.stop)) problems.push(`parseArchiveBytes: stops at ${JSON.stringify(mem.stop)}, the framer says ${JSON.stringify(want.stop)}`);
  if (want.stop?.record !== 0 && offsets.join() !== want.offsets.join())
    problems.push(`reader: ${offsets.length} records framed, the framer ${want.offsets.length}`);
  if (want.stop?.record !== 0 && mem.offsets.join() !== want.offsets.join())
    problems.push(`parseArchiveBytes: ${mem.offsets.length} records framed, the framer ${want.offsets.length}`);
}

/** Runs the CLI in this process; captures what it writes. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await run(['node', 'spork-replay', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = undefined;
  }
}

/** Exit code, message and what the message names, against the framer's expectation. */
function checkCli(r: { code: number; stderr: string }, want: Expectation, problems: string[]): void {
  if (![0, 1, 2].includes(r.code)) problems.push(`exit code ${r.code}`);
  if (/internal error|^\s+at /m.test(r.stderr)) problems.push('a stack trace or internal error on stderr');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length > 1) problems.push(`${lines.length} lines on stderr`);
  if (r.code !== 2) {
    if (want.stop !== null) problems.push(`exit ${r.code}, but the archive stops at record ${want.stop.record}`);
    return;
  }
  if (want.stop?.record === 0 && !HEADER_LINE.test(r.stderr))
    problems.push('the header does not frame, but the message does not name record 0 at byte offset 0');
  const framing = FRAMING_LINE.exec(r.stderr);
  const conflict = CONFLICT_LINE.exec(r.stderr);
  if (framing !== null) {
    const at = { record: Number(framing[1]), offset: Number(framing[2]) };
    if (JSON.stringify(at) !== JSON.stringify(want.stop))
      problems.push(`framing error named ${JSON.stringify(at)}, the framer says ${JSON.stringify(want.stop)}`);
  } else if (conflict !== null) {
    const record = Number(conflict[1]);
    if (want.stop !== null && record >= want.stop.record) problems.push(`conflict at record ${record}, past the framing error at ${want.stop.record}`);
    if (want.offsets[record - 1] !== Number(conflict[2]))
      problems.push(`conflict at record ${record} names offset ${conflict[2]}, the framer ${want.offsets[record - 1]}`);
  } else if (HEADER_LINE.test(r.stderr)) {
    // the header is checked first: a bad root snapshot stops the import whatever follows it
  } else {
    problems.push('exit 2 without a record and offset named');
  }
}

// ---------------------------------------------------------------- driver

export interface FuzzOptions {
  cases: number;
  /** Number of the first case (a long run is split over several processes). */
  first: number;
  seed: number;
  /** Replay every K-th case through the CLI (1 = all); the reader checks run on every case. */
  replayEvery: number;
  /** Limit per case: ms = base + perByte * bytes. */
  msBase: number;
  msPerByte: number;
  emit: (line: object) => void;
}

/** A directory for the temporary stores: memory-backed when there is one (the replay's fsyncs cost nothing there). */
function scratchRoot(): string {
  try {
    return mkdtempSync(join('/dev/shm', 'spork-fuzz-'));
  } catch {
    return mkdtempSync(join(tmpdir(), 'spork-fuzz-'));
  }
}

async function makeBases(dir: string): Promise<Base[]> {
  const a = join(dir, 'a.spork');
  const b = join(dir, 'b.spork');
  await writeSporkArchive(a, { blocks: 12, seed: 'fuzz-a', storyline: false });
  await writeSporkArchive(b, { blocks: 12, seed: 'fuzz-b', faults: 'all:1', storyline: false });
  return [baseOf(readFileSync(a)), baseOf(readFileSync(b))];
}

export async function fuzz(opts: FuzzOptions): Promise<{ failed: number; cases: number }> {
  const dir = scratchRoot();
  const tmpBefore = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    const bases = await makeBases(dir);
    // each process of a long run gets a seed of its own (lmdb-js keeps some memory per opened store)
    const r = new Rng(opts.seed * 1_000_003 + opts.first);
    const byKind: Record<string, number> = {};
    const byCode: Record<string, number> = {};
    let failed = 0;
    let maxUsPerByte = 0;
    const started = performance.now();
    for (let i = opts.first; i < opts.first + opts.cases; i++) {
      const kind = KINDS[i % KINDS.length];
      const bytes = MUTATIONS[kind](bases[r.int(bases.length)], r);
      const file = join(dir, `case-${i}.spork`);
      writeFileSync(file, bytes);
      const want = expectFraming(bytes);
      const problems: string[] = [];
      const t0 = performance.now();
      await checkReader(file, bytes, want, problems);
      let code: number | null = null;
      let stderr = '';
      if (i % opts.replayEvery === 0) {
        const res = await runCli(['replay', file, '--threads', '0', '--quiet', '--json']);
        code = res.code;
        stderr = res.stderr;
        checkCli(res, want, problems);
        byCode[code] = (byCode[code] ?? 0) + 1;
      }
      const ms = performance.now() - t0;
      const limit = opts.msBase + opts.msPerByte * bytes.length;
      if (ms > limit) problems.push(`took ${ms.toFixed(0)} ms for ${bytes.length} bytes (limit ${limit.toFixed(0)})`);
      maxUsPerByte = Math.max(maxUsPerByte, (1000 * ms) / Math.max(bytes.length, 1));
      rmSync(file, { force: true });
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      if (problems.length > 0) failed++;
      opts.emit({
        type: 'case',
        i,
        kind,
        bytes: bytes.length,
        code,
        ms: Math.round(ms),
        stop: want.stop,
        stderr: stderr.slice(0, 400),
        problems,
      } satisfies CaseResult);
    }
    const seconds = (performance.now() - started) / 1000;
    opts.emit({
      type: 'summary',
      cases: opts.cases,
      failed,
      seed: opts.seed,
      seconds: Math.round(seconds * 10) / 10,
      byKind,
      byCode,
      maxUsPerByte: Math.round(maxUsPerByte * 10) / 10,
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    });
    return { failed, cases: opts.cases };
  } finally {
    if (tmpBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpBefore;
    rmSync(dir, { recursive: true, force: true });
  }
}

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: expected a number, got ${args[i + 1]}`);
  return v;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const result = await fuzz({
    cases: argValue(args, '--cases', 2000),
    first: argValue(args, '--first', 0),
    seed: argValue(args, '--seed', 13),
    replayEvery: Math.max(1, argValue(args, '--replay-every', 1)),
    msBase: argValue(args, '--ms-base', 3000),
    msPerByte: argValue(args, '--ms-per-byte', 0.02),
    emit: (line) => writeSync(1, JSON.stringify(line) + '\n'),
  });
  process.exitCode = result.failed === 0 ? 0 : 1;
}
