// `fetch` (a store from a Flow Access node) and `import-root` (a store from a root snapshot alone).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { fetchChain, type FetchProgress, type FetchStats } from '../access/fetch.js';
import { AccessClient } from '../access/grpc.js';
import { DEFAULT_RETRY } from '../access/retry.js';
import { MappingError } from '../access/errors.js';
import { mapRootSnapshot } from '../access/snapshot.js';
import { encodeArchiveHeader } from '../model/archive.js';
import { toHex } from '../model/bytes.js';
import { epochStateId } from '../model/ids.js';
import type { Id } from '../model/types.js';
import { exportArchive } from '../store/export.js';
import { validateRoot } from '../store/root.js';
import { BlockStore } from '../store/store.js';
import { checkOutputPath, produceFileAtomic } from '../util/atomic-file.js';
import { EnvironmentError, InputError, osErrorLine } from '../util/errors.js';
import { parseCount, printJson } from './common.js';
import { formatRate, formatSeconds, logEveryMs } from './progress.js';

function parseHeight(s: string): bigint {
  if (!/^[0-9]{1,20}$/.test(s) || BigInt(s) > 0xffffffffffffffffn) throw new InvalidArgumentError('expected a block height (a whole number)');
  return BigInt(s);
}

function parseAddress(s: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/.test(s) || Number(s.slice(s.lastIndexOf(':') + 1)) > 65535) {
    throw new InvalidArgumentError('expected HOST:PORT, e.g. access.mainnet.nodes.onflow.org:9000');
  }
  return s;
}

function parseHexId(s: string): Id {
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new InvalidArgumentError('expected 64 hex digits');
  return Buffer.from(s, 'hex');
}

function parsePositive(s: string): number {
  const n = parseCount(s);
  if (n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

function readSnapshotFile(path: string): Buffer {
  if (!existsSync(path)) throw new InputError(`${path}: no such file (a root snapshot JSON file)`);
  if (statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, not a root snapshot JSON file`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EnvironmentError(`cannot read ${path}: ${osErrorLine(e) ?? String(e)}`, { cause: e });
  }
}

interface FetchFlags {
  access: string;
  db: string;
  rootSnapshot?: string;
  to?: bigint;
  follow?: boolean;
  transport: 'stream' | 'unary';
  concurrency: number;
  rate?: number;
  tls?: boolean;
  insecure?: boolean;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  strict?: boolean;
  rootParentId?: Id;
  rootStateCommitment?: Id;
  backoffMs: number;
  attempts: number;
  deadline: number;
  maxMessageMb: number;
  logEvery?: number;
  verbose?: boolean;
  pollMs: number;
  commitEvery: number;
}

/** Terminal: one rewritten line. Elsewhere: a log line every `everySeconds`. */
function progressPrinter(flags: FetchFlags): (p: FetchProgress) => void {
  if (flags.quiet || flags.json) return () => {};
  const tty = process.stderr.isTTY === true;
  const every = flags.logEvery !== undefined ? flags.logEvery * 1000 : logEveryMs();
  const started = Date.now();
  let first: bigint | null = null;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < (tty ? 200 : every)) return;
    last = now;
    if (first === null) first = p.height;
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? Number(p.height - first) / secs : 0;
    const total = Number(p.head - p.rootHeight);
    const done = Number(p.height - p.rootHeight);
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '100.0';
    const left = Number(p.head - p.height);
    const eta = p.following && left <= 0 ? 'at the head, following' : rate > 0 ? `ETA ${formatSeconds(left / rate)}` : '';
    const line = `fetch height ${p.height}/${p.head} ${pct}% ${formatRate(rate, 'blocks')} ${eta} retries ${p.retries} elapsed ${formatSeconds(secs)}`;
    if (tty) process.stderr.write(`\r${line.padEnd(110)}`);
    else process.stderr.write(`${new Date(now).toISOString()} ${line}\n`);
  };
}

function printFetch(s: FetchStats, out: string | undefined): void {
  const rows: [string, unknown][] = [
    ['root', `${s.rootId} at height ${s.rootHeight} (${s.chainId}), from ${s.rootSource}`],
    ['node', `flow-go ${s.node.semver}, spork root ${s.node.sporkRootHeight}, node root ${s.node.nodeRootHeight}`],
    ['heights', `${s.fromHeight}..${s.height} of head ${s.head}${s.resumed ? ' (resumed)' : ''}`],
    ['blocks written', s.written],
    ['already stored', s.duplicates],
    [
      'retries',
      s.retries === 0
        ? 0
        : `${s.retries} (${Object.entries(s.retriesByCode)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`,
    ],
  ];
  const m = s.recordedMismatches;
  if (m.idMismatch + m.payloadMismatch + m.parentLink + m.decodeError > 0) {
    rows.push([
      'written as received',
      `${m.idMismatch} id, ${m.payloadMismatch} payload-hash, ${m.parentLink} parent-link mismatches, ${m.decodeError} blocks that do not fit the model (the replay reports them)`,
    ]);
  }
  if (out) rows.push(['archive', out]);
  const lines = ['spork-replay fetch', ...rows.map(([k, v]) => `  ${k.padEnd(20)} ${v}`), ...s.warnings.map((w) => `  warning: ${w}`)];
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerFetch(program: Command): void {
  program
    .command('fetch')
    .description('build a store from a Flow Access node (flow-go >= v0.43): the spork root, then every finalized block from root+1; resumable')
    .requiredOption('--access <host:port>', 'the Access node (gRPC)', parseAddress)
    .requiredOption('--db <dir>', 'the LMDB store (created if missing; an interrupted fetch continues)')
    .option('--root-snapshot <file>', "the spork's published root-protocol-state-snapshot.json (default: ask the node at the spork root height)")
    .option('--to <height>', 'last height to fetch (default: the finalized head)', parseHeight)
    .option('--follow', 'after the head, keep importing newly finalized blocks until SIGINT/SIGTERM')
    .addOption(
      new Option('--transport <kind>', 'stream: one block subscription, reconnected after errors; unary: GetBlockByHeight calls, --concurrency in flight')
        .choices(['stream', 'unary'])
        .default('stream'),
    )
    .option('--concurrency <n>', 'calls in flight (--transport unary)', parsePositive, 16)
    .option('--rate <per-second>', 'calls (unary) or blocks (stream) per second at most (default: no limit)', parsePositive)
    .option('--tls', 'TLS (the default)')
    .option('--insecure', 'plaintext gRPC (loopback, or nodes that serve no TLS)')
    .option('--out <file>', 'also write the canonical archive of the store (the bytes `export` writes)')
    .option('--strict', 'stop at a block whose id, payload hash or parent link does not recompute (default: written as received, the replay reports it)')
    .option('--root-parent-id <hex>', "optional cross-check: the root block's parent id (sporks.json rootParentId)", parseHexId)
    .option('--root-state-commitment <hex>', "optional cross-check: the root seal's final state (sporks.json rootStateCommitment)", parseHexId)
    .option('--backoff-ms <ms>', 'first retry delay; doubles per failure up to 30 s, full jitter', parsePositive, DEFAULT_RETRY.baseMs)
    .option('--attempts <n>', 'a call failing this many times in a row stops the fetch', parsePositive, DEFAULT_RETRY.attempts)
    .option('--deadline <seconds>', 'deadline of one call', parsePositive, DEFAULT_RETRY.deadlineMs / 1000)
    .option('--max-message-mb <n>', 'receive limit for one response', parsePositive, 256)
    .option('--commit-every <n>', 'blocks per write transaction (a commit also happens every second)', parsePositive, 512)
    .option('--poll-ms <ms>', 'with --follow: how soon to ask again for a height not finalized yet', parsePositive, 1000)
    .option('--log-every <seconds>', 'progress log line interval when stderr is not a terminal (default: 10, or SPORK_REPLAY_LOG_EVERY_MS)', parsePositive)
    .option('--verbose', 'log every retry (otherwise counted in the progress line and the summary)')
    .option('--json', 'print the fetch statistics as JSON')
    .option('--quiet', 'no progress output')
    .action(async (flags: FetchFlags) => {
      if (flags.tls && flags.insecure) throw new InputError('--tls and --insecure exclude each other');
      if (flags.to !== undefined && flags.follow) throw new InputError('--to and --follow exclude each other');
      if (flags.out !== undefined) checkOutputPath(flags.out, '--out');
      const rootSnapshot = flags.rootSnapshot === undefined ? undefined : { text: readSnapshotFile(flags.rootSnapshot), source: flags.rootSnapshot };
      const store = BlockStore.open(flags.db);
      const client = new AccessClient({
        address: flags.access,
        tls: !flags.insecure,
        maxReceiveBytes: flags.maxMessageMb * 1024 * 1024,
        deadlineMs: flags.deadline * 1000,
      });
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const printer = progressPrinter(flags);
      try {
        const stats = await fetchChain(store, {
          client,
          rootSnapshot,
          expected: { rootParentId: flags.rootParentId, rootStateCommitment: flags.rootStateCommitment },
          to: flags.to,
          follow: flags.follow,
          transport: flags.transport,
          concurrency: flags.concurrency,
          rate: flags.rate,
          retry: { ...DEFAULT_RETRY, baseMs: flags.backoffMs, attempts: flags.attempts, deadlineMs: flags.deadline * 1000 },
          strict: flags.strict,
          pollMs: flags.pollMs,
          batchRecords: flags.commitEvery,
          signal: abort.signal,
          onProgress: printer,
          log:
            flags.quiet || flags.json
              ? undefined
              : (line) => {
                  if (flags.verbose || !line.startsWith('retry: ')) process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}fetch: ${line}\n`);
                },
        });
        if (process.stderr.isTTY && !flags.quiet && !flags.json) process.stderr.write('\n');
        if (flags.out) {
          const out = flags.out;
          await produceFileAtomic(out, { what: `the archive ${out}`, kept: 'the fetched store; the archive is unchanged' }, (temp) =>
            exportArchive(store, temp),
          );
        }
        if (flags.json) printJson(stats);
        else printFetch(stats, flags.out);
        process.exitCode = stats.stoppedBy === 'signal' && !flags.follow ? 130 : 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        client.close();
        await store.close();
      }
    });
}

export function registerImportRoot(program: Command): void {
  program
    .command('import-root')
    .description("make a store from a spork's root snapshot JSON alone (root-protocol-state-snapshot.json): every mapping rule and root check runs")
    .argument('<snapshot>', 'root-protocol-state-snapshot.json')
    .requiredOption('--db <dir>', 'the LMDB store (created if missing)')
    .option('--root-parent-id <hex>', "optional cross-check: the root block's parent id", parseHexId)
    .option('--root-state-commitment <hex>', "optional cross-check: the root seal's final state", parseHexId)
    .option('--json', 'print the root as JSON')
    .action(async (file: string, flags: { db: string; json?: boolean; rootParentId?: Id; rootStateCommitment?: Id }) => {
      const text = readSnapshotFile(file);
      let mapped;
      try {
        mapped = mapRootSnapshot(text, { rootParentId: flags.rootParentId, rootStateCommitment: flags.rootStateCommitment });
      } catch (e) {
        if (e instanceof MappingError) throw new InputError(`${file}: root snapshot refused: ${e.message}`);
        throw e;
      }
      const root = mapped.root;
      const problem = validateRoot(root);
      if (problem !== null) throw new InputError(`${file}: root snapshot refused: ${problem}`);
      const header = Buffer.from(encodeArchiveHeader(root));
      const store = BlockStore.open(flags.db);
      try {
        const stored = store.rootHeaderBytes();
        if (stored !== undefined && !stored.equals(header)) throw new InputError(`--db ${flags.db}: the store holds another root; a store holds one spork`);
        if (stored === undefined) {
          store.env.transactionSync(() => {
            store.meta.putSync('root', header);
            store.meta.putSync('recordCount', store.recordCount());
          });
          await store.sync();
        }
        const h = root.rootBlock.header;
        const info = {
          rootId: toHex(root.rootSeal.blockId),
          height: h.height,
          view: h.view,
          chainId: h.chainId,
          protocolStateId: toHex(root.rootBlock.payload.protocolStateId),
          kvStoreVersion: root.kvStore.version,
          epochStateId: toHex(epochStateId(root.epochState)),
          epochCounter: root.epochEvents.currentSetup.counter,
          shape: mapped.shape,
          alreadyStored: stored !== undefined,
          warnings: mapped.warnings,
        };
        if (flags.json) printJson(info);
        else {
          const lines = [
            `${file}: spork root ${info.rootId}`,
            `  height ${info.height}, view ${info.view}, chain ${info.chainId}, KV store v${info.kvStoreVersion}, epoch ${info.epochCounter}`,
            `  ${info.alreadyStored ? 'already the root of' : 'stored in'} ${flags.db}`,
            ...mapped.warnings.map((w) => `  warning: ${w}`),
          ];
          process.stdout.write(lines.join('\n') + '\n');
        }
      } finally {
        await store.close();
      }
    });
}
