// The replay of a store: store -> integrity (workers) -> ordered evaluation -> results in the
// store -> report. One place that knows the order of the stages.
import { existsSync } from 'node:fs';
import { decodeArchiveHeaderBytes } from '../model/archive.js';
import { toHex } from '../model/bytes.js';
import { headerId, resultId } from '../model/ids.js';
import type { RootSnapshot } from '../model/types.js';
import { makeSnapshot, snapshotReport, type ProtocolSnapshot } from '../protocol/evolve.js';
import { concatKey, orderKey } from '../store/keys.js';
import { decodeStoredRecord } from '../model/record.js';
import { validateRoot } from '../store/root.js';
import { RESULTS_START, type BlockStore, type WriteActivity } from '../store/store.js';
import { InputError } from '../util/errors.js';
import { AtomicFile, type FileLabel } from '../util/atomic-file.js';
import { Evaluator, type BlockResult, type RootContext } from './evaluate.js';
import { linkHeader, type BlockFacts } from './facts.js';
import { ChainSummarizer, stringify, summarize, writeBlockLines, type ReportContext, type ReportSummary } from './report.js';
import { IntegrityStage } from './integrity.js';
import { RESULT_FORMAT, decodeResult } from './result-codec.js';
import { ResultBatch } from './result-batch.js';
import { BatchWriter } from '../store/batch-writer.js';

export interface ReplayOptions {
  threads: number;
  /** Discard stored results and evaluate every block again. */
  full: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayOutcome {
  summary: ReportSummary;
  exitCode: 0 | 1;
}

export function loadRoot(store: BlockStore): RootSnapshot {
  const bytes = store.rootHeaderBytes();
  if (bytes === undefined) throw new InputError(`${store.dir}: the store holds no spork (import an archive first)`);
  const root = decodeArchiveHeaderBytes(bytes);
  const problem = validateRoot(root);
  if (problem !== null) throw new InputError(`invalid root snapshot: ${problem}`);
  return root;
}

export function rootContext(root: RootSnapshot): RootContext {
  return {
    id: headerId(root.rootBlock.header),
    header: linkHeader(root.rootBlock.header),
    snapshot: makeSnapshot(root.kvStore, root.epochState, root.epochEvents),
    rootResultId: resultId(root.rootResult),
    rootResultBlockId: root.rootResult.blockId,
  };
}

export function reportContext(root: RootSnapshot, rc: RootContext): ReportContext {
  const rep = snapshotReport(rc.snapshot, root.rootBlock.header.view);
  return {
    rootHeight: root.rootBlock.header.height,
    rootId: toHex(rc.id),
    rootBeacon: root.versionBeacon,
    rootVersions: {
      protocolStateVersion: rep.protocolStateVersion,
      executionComponentVersion: rep.executionComponentVersion,
      cadenceComponentVersion: rep.cadenceComponentVersion,
    },
  };
}

export function resultKey(r: BlockResult): Buffer {
  return orderKey(r.height, r.view, r.id === null ? null : Buffer.from(r.id, 'hex'), r.record);
}

/** Blocks far below the evaluation front are dropped from memory (rebuilt from the store if needed). */
const PRUNE_WINDOW = 2048;
const FLUSH_EVERY = 1024;

/**
 * Evaluates the stored blocks and stores their results. Blocks with a stored result from an
 * earlier (possibly interrupted) run are taken as they are, unless their inputs may have
 * changed: unknown-parent and cycle verdicts, and descendants of anything evaluated again.
 */
/** What a replay run did: blocks evaluated now, and blocks whose stored result was still right (incremental runs). */
export interface ReplayWork {
  evaluated: number;
  reused: number;
  /** The report's pass 1, when every result came out in report order (then reportFromStore need not read them for it). */
  pass1: Pass1 | null;
}

/** The report's pass 1: the summary and the complete version index. */
export type Pass1 = ReturnType<typeof summarize>;

/**
 * Feeds the report's pass 1 with results as the evaluation emits them. Blocks come out in
 * report order (parents sort before children) unless one had to wait for a later one; then
 * the feed gives up and the report reads the stored results instead.
 */
class OrderedSummary {
  private readonly pass: ChainSummarizer;
  private group: BlockResult[] = [];
  private last: Buffer | null = null;
  private fed = 0;
  private inOrder = true;

  constructor(ctx: ReportContext) {
    this.pass = new ChainSummarizer(ctx);
  }

  add(r: BlockResult, key: Buffer): void {
    if (!this.inOrder) return;
    if (this.last !== null && Buffer.compare(key, this.last) <= 0) {
      this.inOrder = false;
      this.group = [];
      return;
    }
    this.last = key;
    this.fed++;
    const g = this.group;
    if (g.length > 0 && (r.height === null || r.height !== g[0].height)) {
      this.pass.addGroup(g);
      this.group = [r];
    } else g.push(r);
  }

  /** Pass 1, if every one of `stored` results was fed in order. */
  result(stored: number): Pass1 | null {
    if (!this.inOrder || this.fed !== stored) return null;
    if (this.group.length > 0) this.pass.addGroup(this.group);
    this.group = [];
    return { summary: this.pass.summary(), index: this.pass.index };
  }
}

export async function evaluateStore(store: BlockStore, root: RootSnapshot, opts: ReplayOptions): Promise<ReplayWork> {
  store.activity = replayActivity(store);
  if (opts.full || !resultsReadable(store)) {
    dropResults(store);
    store.meta.putSync('resultFormat', RESULT_FORMAT);
  }
  const total = store.order.getCount();
  // every record has a result and none was imported since the last complete replay: nothing to do
  if (!opts.full && store.meta.get('replayedRecords') === total && resultsComplete(store)) return { evaluated: 0, reused: total, pass1: null };
  const incremental = hasAnyResult(store);
  const rc = rootContext(root);
  const ordered = new OrderedSummary(reportContext(root, rc));
  let done = 0;
  let reused = 0;
  const batch = new ResultBatch();
  let sinceFlush = 0;
  // Results are committed in write transactions of a batch each, in evaluation order (so stored
  // results stay a prefix of it, which resuming relies on): by the store's writer thread when
  // the replay has workers, else here. A failed commit throws here at the next batch (or at the
  // drain), and the store writes nothing more.
  const writer = new BatchWriter(store, opts.threads > 0);
  const flush = () => (batch.count === 0 ? Promise.resolve() : writer.write(batch.take(writer.threaded)));
  const saveState = (st: ProtocolSnapshot) => {
    const key = Buffer.from(st.kvId);
    if (!store.states.doesExist(key)) store.states.putSync(key, { kv: st.kv, epoch: st.epoch, events: st.events });
  };
  saveState(rc.snapshot);
  const evaluator = new Evaluator(rc, {
    onState: saveState,
    isStored: (id) => store.blocks.doesExist(Buffer.from(id)),
    onResult: (r: BlockResult, f: BlockFacts) => {
      const key = f.orderKey ?? resultKey(r);
      batch.add(key, r, r.id === null ? null : (f.id ?? Buffer.from(r.id, 'hex')));
      ordered.add(r, key);
    },
    loadResult: (hex) => loadResultById(store, hex),
    loadState: (hex) => loadState(store, Buffer.from(hex, 'hex')),
    loadIncluders: (hex) => includersOf(store, hex),
  });
  evaluator.trackEvaluated = incremental;
  // the layout was checked above (results of another one were dropped)
  const stage = new IntegrityStage(store, opts.threads, incremental ? (key) => resultUnder(store, key) : null);
  try {
    for await (const items of stage.run()) {
      for (const item of items) {
        if (item.stored !== undefined && evaluator.pushStored(item.stored)) {
          reused++;
          ordered.add(item.stored, item.key);
          continue;
        }
        evaluator.push(item.facts ?? stage.factsNow(item));
      }
      done += items.length;
      sinceFlush += items.length;
      if (batch.count >= FLUSH_EVERY) await flush();
      if (sinceFlush >= 4 * PRUNE_WINDOW) {
        // pruned blocks are rebuilt from stored results: those are committed first
        await flush();
        await writer.drain();
        evaluator.prune(PRUNE_WINDOW);
        sinceFlush = 0;
      }
      opts.onProgress?.(done, total);
    }
    evaluator.finish();
    await flush();
    await writer.drain();
  } finally {
    await stage.close();
    await writer.close();
  }
  store.env.transactionSync(() => {
    store.meta.putSync('replayGeneration', (store.meta.get('replayGeneration') ?? 0) + 1);
    store.meta.putSync('replayedRecords', total);
  });
  await store.sync();
  return { evaluated: done - reused, reused, pass1: ordered.result(resultCount(store)) };
}

/** What a failed write during the replay says it was writing and what it kept. */
function replayActivity(store: BlockStore): WriteActivity {
  return {
    what: `replay results into the store ${store.dir}`,
    kept: () =>
      store.temporary
        ? 'nothing (the replay ran in a temporary store, which is removed; import into --db DIR on a disk with space, then replay --db DIR)'
        : `the ${store.recordCount()} imported records and the results of the ${store.results.getCount({ start: RESULTS_START })} blocks replayed before it (the store is consistent; \`replay --db ${store.dir}\` resumes there when there is space)`,
  };
}

/** `--full`: removes the stored results, states and inclusions (results keep msgpackr's shared structures under a key of their own: removed by range). */
function dropResults(store: BlockStore): void {
  let keys: Buffer[] = [];
  const drop = () =>
    store.env.transactionSync(() => {
      for (const k of keys) store.results.removeSync(k);
    });
  for (const k of store.results.getKeys({ start: RESULTS_START })) {
    keys.push(k);
    if (keys.length >= 65536) {
      drop();
      keys = [];
    }
  }
  drop();
  store.env.transactionSync(() => {
    store.states.clearSync();
    store.includes.clearSync();
  });
}

function hasAnyResult(store: BlockStore): boolean {
  for (const _k of store.results.getKeys({ start: RESULTS_START, limit: 1 })) return true;
  return false;
}

/** Whether the stored results are in this version's layout (others are not read; the replay redoes them). */
export function resultsReadable(store: BlockStore): boolean {
  return store.meta.get('resultFormat') === RESULT_FORMAT;
}

/** Stored results this version can read. */
export function resultCount(store: BlockStore): number {
  return resultsReadable(store) ? store.results.getCount({ start: RESULTS_START }) : 0;
}

/** Whether every stored record has a readable result. */
export function resultsComplete(store: BlockStore): boolean {
  const n = store.order.getCount();
  return n > 0 && resultCount(store) === n;
}

/** The stored result under this order key, if any. */
export function readResult(store: BlockStore, key: Uint8Array): BlockResult | undefined {
  return resultsReadable(store) ? resultUnder(store, key) : undefined;
}

/** The stored result under this key, the layout known to be this version's. */
function resultUnder(store: BlockStore, key: Uint8Array): BlockResult | undefined {
  const bytes = store.results.getBinary(Buffer.from(key.buffer, key.byteOffset, key.length));
  return bytes === undefined ? undefined : decodeResult(bytes);
}

/** The stored result of the block with this id, if it was evaluated. */
export function loadResultById(store: BlockStore, hex: string): BlockResult | undefined {
  const id = Buffer.from(hex, 'hex');
  let key = store.headless.get(id);
  if (key === undefined) {
    const raw = store.blocks.getBinary(id);
    if (raw === undefined) return undefined;
    const h = decodeStoredRecord(raw).header;
    if (h === null) return undefined;
    key = orderKey(h.height, h.view, id, 0);
  }
  return readResult(store, key);
}

/** Hex ids of the blocks whose payload includes this result (the replay's index). */
export function includersOf(store: BlockStore, resultHex: string): string[] {
  const id = Buffer.from(resultHex, 'hex');
  const out: string[] = [];
  const start = concatKey(id, Buffer.alloc(32, 0));
  const end = concatKey(id, Buffer.alloc(32, 0xff));
  for (const key of store.includes.getKeys({ start, end, inclusiveEnd: true } as any)) out.push(Buffer.from(key).subarray(32).toString('hex'));
  return out;
}

/** The stored protocol state with this id (the state after some block), or undefined. */
export function loadState(store: BlockStore, kvId: Uint8Array): ProtocolSnapshot | undefined {
  const v = store.states.get(Buffer.from(kvId));
  return v === undefined ? undefined : { kv: v.kv, epoch: v.epoch, events: v.events, kvId: Buffer.from(kvId) };
}

/** Every stored result in report order; `lines`: without what only the replay needs (see decodeResult). */
export function* storedResults(store: BlockStore, lines = false): Generator<BlockResult> {
  if (!resultsReadable(store)) return;
  for (const { value } of store.results.getRange({ start: RESULTS_START })) yield decodeResult(value as Buffer, lines);
}

/** Writes the report from the stored results (complete under its name, or not at all); returns the summary. */
export async function reportFromStore(
  store: BlockStore,
  root: RootSnapshot,
  reportPath?: string,
  decorate: (s: ReportSummary) => void = () => {},
  pass1: Pass1 | null = null,
): Promise<ReportSummary> {
  const ctx = reportContext(root, rootContext(root));
  const { summary, index } = pass1 ?? summarize(ctx, storedResults(store, true));
  if (reportPath === undefined) {
    decorate(summary);
    return summary;
  }
  const out = AtomicFile.create(reportPath, reportLabel(store, reportPath));
  try {
    let buffered: string[] = [];
    writeBlockLines(ctx, storedResults(store, true), index, summary.finalizedHeight, (line) => {
      buffered.push(line);
      if (buffered.length >= 2048) {
        out.write(buffered.join('\n') + '\n');
        buffered = [];
      }
    });
    decorate(summary);
    buffered.push(stringify(summary));
    out.write(buffered.join('\n') + '\n');
    out.commit();
  } finally {
    out.abort();
  }
  return summary;
}

function reportLabel(store: BlockStore, path: string): FileLabel {
  const before = existsSync(path) ? `${path} is unchanged` : `${path} was not created`;
  const kept = store.temporary
    ? 'nothing of the replay (it ran in a temporary store, which is removed)'
    : `the replayed store (every block's result is stored: \`replay --db ${store.dir} --report FILE\` writes the report without replaying again)`;
  return { what: `the report ${path}`, kept: `${kept}; ${before}` };
}

export function exitCodeOf(summary: ReportSummary): 0 | 1 {
  const bad = Object.entries(summary.verdicts).some(([v, n]) => v !== 'ok' && (n ?? 0) > 0);
  return bad || summary.finalityConflicts.length > 0 ? 1 : 0;
}
