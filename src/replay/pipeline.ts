// The replay of a store: store -> integrity (workers) -> ordered evaluation -> results in the
// store -> report. One place that knows the order of the stages.
import { createWriteStream, type WriteStream } from 'node:fs';
import { decodeArchiveHeaderBytes } from '../model/archive.js';
import { toHex } from '../model/bytes.js';
import { headerId, resultId } from '../model/ids.js';
import type { RootSnapshot } from '../model/types.js';
import { makeSnapshot, snapshotReport, type ProtocolSnapshot } from '../protocol/evolve.js';
import { orderKey } from '../store/keys.js';
import { validateRoot } from '../store/root.js';
import type { BlockStore } from '../store/store.js';
import { InputError } from '../util/errors.js';
import { Evaluator, type BlockResult, type RootContext } from './evaluate.js';
import { linkHeader, type BlockFacts } from './facts.js';
import { indexChain, stringify, writeReport, type ReportContext, type ReportSummary } from './report.js';
import { IntegrityStage } from './integrity.js';

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

/** Evaluates every stored block and stores its result. */
export async function evaluateStore(store: BlockStore, root: RootSnapshot, opts: ReplayOptions): Promise<void> {
  const rc = rootContext(root);
  const total = store.order.getCount();
  let done = 0;
  let batch: [Buffer, BlockResult][] = [];
  const flush = () => {
    const work = batch;
    batch = [];
    store.env.transactionSync(() => {
      for (const [k, v] of work) store.results.putSync(k, v);
    });
  };
  const saveState = (st: ProtocolSnapshot) => {
    const key = Buffer.from(st.kvId);
    if (!store.states.doesExist(key)) store.states.putSync(key, { kv: st.kv, epoch: st.epoch, events: st.events });
  };
  saveState(rc.snapshot);
  const evaluator = new Evaluator(rc, {
    onState: saveState,
    isStored: (id) => store.blocks.doesExist(Buffer.from(id)),
    onResult: (r: BlockResult, _f: BlockFacts) => {
      batch.push([resultKey(r), r]);
      if (batch.length >= 4096) flush();
    },
  });
  const stage = new IntegrityStage(store, opts.threads);
  try {
    for await (const facts of stage.run()) {
      for (const f of facts) evaluator.push(f);
      done += facts.length;
      opts.onProgress?.(done, total);
    }
  } finally {
    await stage.close();
  }
  evaluator.finish();
  flush();
}

/** The stored protocol state with this id (the state after some block), or undefined. */
export function loadState(store: BlockStore, kvId: Uint8Array): ProtocolSnapshot | undefined {
  const v = store.states.get(Buffer.from(kvId));
  return v === undefined ? undefined : { kv: v.kv, epoch: v.epoch, events: v.events, kvId: Buffer.from(kvId) };
}

export function* storedResults(store: BlockStore): Generator<BlockResult> {
  for (const { value } of store.results.getRange({})) yield value as BlockResult;
}

/** Writes the report from the stored results; returns the summary. */
export async function reportFromStore(
  store: BlockStore,
  root: RootSnapshot,
  reportPath?: string,
  decorate: (s: ReportSummary) => void = () => {},
): Promise<ReportSummary> {
  const ctx = reportContext(root, rootContext(root));
  const { index } = indexChain(ctx, storedResults(store));
  let out: WriteStream | null = null;
  let buffered: string[] = [];
  if (reportPath !== undefined) out = createWriteStream(reportPath);
  const emit = (line: string) => {
    if (out === null) return;
    buffered.push(line);
    if (buffered.length >= 2048) {
      out.write(buffered.join('\n') + '\n');
      buffered = [];
    }
  };
  const summary = writeReport(ctx, storedResults(store), index, emit);
  decorate(summary);
  if (out !== null) {
    buffered.push(stringify(summary));
    out.write(buffered.join('\n') + '\n');
    await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  return summary;
}

export function exitCodeOf(summary: ReportSummary): 0 | 1 {
  const bad = Object.entries(summary.verdicts).some(([v, n]) => v !== 'ok' && (n ?? 0) > 0);
  return bad || summary.finalityConflicts.length > 0 ? 1 : 0;
}
