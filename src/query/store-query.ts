// Read-side queries over a replayed store: what `inspect`, `bootstrap-check` and the HTTP
// server show. One class assembles the JSON so the CLI and the server return the same thing.
//
// Everything here is synchronous: LMDB reads of one call see one snapshot (lmdb-js renews its
// read transaction per event-loop turn), so a concurrent import or replay in another process
// never shows a half-written view within one answer.
import { toHex } from '../model/bytes.js';
import { outputJson } from '../model/json-u64.js';
import { decodeStoredRecord, type DecodedRecord } from '../model/record.js';
import * as S from '../model/schema.js';
import type { Header, RootSnapshot, U64 } from '../model/types.js';
import { sub } from '../model/u64.js';
import { snapshotReport, type ProtocolSnapshot } from '../protocol/evolve.js';
import { checkBootstrap, BootstrapInputError, type BootstrapAnswer } from '../protocol/versions/bootstrap.js';
import type { RequiredVersion, VersionIndex } from '../protocol/versions/beacons.js';
import type { BlockResult, RootContext } from '../replay/evaluate.js';
import { loadResultById, loadRoot, loadState, readResult, reportContext, resultCount, rootContext, storedResults } from '../replay/pipeline.js';
import { requiredFields, summarize, versionFindings, type ReportContext, type ReportSummary } from '../replay/report.js';
import { orderKey, u64Key } from '../store/keys.js';
import type { BlockStore } from '../store/store.js';
import { diffJson, type DiffEntry } from './diff.js';
import { NotFoundError, QueryInputError } from './errors.js';
import { eventViews } from './events.js';
import { Lru } from './lru.js';
import { latestStored, MIN_PREFIX, uniquePrefix, type BlockSpec } from './refs.js';
import { EMPTY_VERSIONS, failedChecks, payloadView, versionsOf, type BlockInspection, type FullStateView, type StateView, type VersionsView } from './views.js';

export interface ChainIndex {
  generation: number;
  root: RootSnapshot;
  rootCtx: RootContext;
  reportCtx: ReportContext;
  rootId: string;
  rootHeight: U64;
  index: VersionIndex;
  finalizedHeight: U64;
  /** Number of stored replay results when the index was built. */
  results: number;
}

export interface BootstrapParams {
  binary: string;
  supports?: readonly string[] | null;
  overrides?: readonly string[] | null;
  from?: U64 | null;
  to?: U64 | null;
}

interface StoredBlock {
  id: string;
  bytes: Buffer;
  decoded: DecodedRecord;
}

interface CachedState {
  view: StateView;
  snap: ProtocolSnapshot;
}

const FF33 = Buffer.alloc(33, 0xff);
const FF41 = Buffer.alloc(41, 0xff);

/**
 * Queries over one store. The chain index (finalized chain, version index) and the report
 * summary are built once per replay generation (`meta.replayGeneration`, 0 when absent) and
 * rebuilt when it changes.
 */
export class StoreQuery {
  private cached: ChainIndex | null = null;
  private cachedSummary: { generation: number; summary: ReportSummary } | null = null;
  private root: RootSnapshot | null = null;
  private readonly states = new Lru<string, CachedState>(512);
  private readonly diffs = new Lru<string, DiffEntry[]>(512);
  /** Finalized-chain ids by height, for the current generation. */
  private readonly chainIds = new Lru<U64, string>(65536);
  private chainIdsGeneration = -1;

  constructor(readonly store: BlockStore) {}

  generation(): number {
    const g = this.store.meta.get('replayGeneration');
    return typeof g === 'number' ? g : typeof g === 'bigint' ? Number(g) : 0;
  }

  private rootSnapshot(): RootSnapshot {
    if (this.root === null) this.root = loadRoot(this.store);
    return this.root;
  }

  /** The finalized chain and version index of the current replay generation. */
  chain(): ChainIndex {
    const generation = this.generation();
    if (this.cached !== null && this.cached.generation === generation) return this.cached;
    const root = this.rootSnapshot();
    const rootCtx = rootContext(root);
    const reportCtx = reportContext(root, rootCtx);
    const { index, summary } = summarize(reportCtx, storedResults(this.store, true));
    this.cachedSummary = { generation, summary };
    this.cached = {
      generation,
      root,
      rootCtx,
      reportCtx,
      rootId: reportCtx.rootId,
      rootHeight: reportCtx.rootHeight,
      index,
      finalizedHeight: summary.finalizedHeight,
      results: resultCount(this.store),
    };
    return this.cached;
  }

  /** The report summary (SPEC 7.2) without the run fields. */
  summary(): ReportSummary {
    this.chain();
    return this.cachedSummary!.summary;
  }

  /** Drops the cached index and summary (after this process replayed the store itself). */
  invalidate(): void {
    this.cached = null;
    this.cachedSummary = null;
  }

  // ---- lookups ----

  /** Hex id of the finalized-chain block at `height`, or null. */
  finalizedAt(height: U64): string | null {
    const c = this.chain();
    if (height === c.rootHeight) return c.rootId;
    if (height < c.rootHeight || height > c.finalizedHeight) return null;
    if (this.chainIdsGeneration !== c.generation) {
      this.chainIds.clear();
      this.chainIdsGeneration = c.generation;
    }
    const hit = this.chainIds.get(height);
    if (hit !== undefined) return hit;
    const prefix = u64Key(height);
    let found: string | null = null;
    for (const key of this.store.finalized.getKeys({ start: prefix, end: Buffer.concat([prefix, FF33]) })) {
      if (key.length !== 40) continue;
      if (found !== null) return null; // two finalized at one height: not on the consistent chain
      found = toHex(key.subarray(8));
    }
    // Below the finalized height the chain is consistent: the entry stays until the next replay.
    if (found !== null) this.chainIds.set(height, found);
    return found;
  }

  /** Hex ids of every stored block whose header says `height` (forks included), in report order. */
  idsAtHeight(height: U64): string[] {
    const c = this.chain();
    const out: string[] = [];
    if (height === c.rootHeight) out.push(c.rootId);
    const prefix = u64Key(height);
    for (const { value } of this.store.order.getRange({ start: prefix, end: Buffer.concat([prefix, FF41]) })) {
      if (value.length !== 40) continue; // records without a usable id (SPEC 9.4)
      out.push(toHex(value.subarray(8)));
    }
    return out;
  }

  /**
   * Ids a BLOCK reference names (refs.ts): the id itself, the one id with that prefix, the
   * finalized block at a height (or, with `all`, every block there), or an alias's block.
   */
  resolve(spec: BlockSpec, all = false): string[] {
    const c = this.chain();
    switch (spec.kind) {
      case 'id':
        if (!this.exists(spec.id)) throw new NotFoundError(`no block ${spec.id} in the store`);
        return [spec.id];
      case 'prefix': {
        const id = uniquePrefix(this.store, c.rootId, spec.prefix);
        if (id === null) throw new NotFoundError(`no block whose id starts with ${spec.prefix} in the store`);
        return [id];
      }
      case 'alias':
        if (spec.alias === 'root') return [c.rootId];
        if (spec.alias === 'finalized') return [this.finalizedAt(c.finalizedHeight) ?? c.rootId];
        // the highest block by (height, view, id), records whose header does not decode aside
        return [latestStored(this.store) ?? c.rootId];
      case 'height':
        return this.resolveHeight(spec.height, spec.text, all, c);
    }
  }

  private resolveHeight(height: U64, text: string | undefined, all: boolean, c: ChainIndex): string[] {
    if (all) {
      const ids = this.idsAtHeight(height);
      if (ids.length > 0) return ids;
    } else {
      const id = this.finalizedAt(height);
      if (id !== null) return [id];
    }
    // digits that name no height may be a short id
    if (text !== undefined && text.length >= MIN_PREFIX && this.idsAtHeight(height).length === 0) {
      const id = uniquePrefix(this.store, c.rootId, text);
      if (id !== null) return [id];
    }
    if (all) throw new NotFoundError(`no block at height ${height} in the store`);
    throw new NotFoundError(
      `no block of the finalized chain at height ${height} (finalized heights ${c.rootHeight}..${c.finalizedHeight}; use --all or /heights/:h for every block at a height)`,
    );
  }

  exists(id: string): boolean {
    return id === this.chain().rootId || this.store.blocks.doesExist(Buffer.from(id, 'hex'));
  }

  private readBlock(id: string): StoredBlock | null {
    const bytes = this.store.blocks.get(Buffer.from(id, 'hex'));
    if (bytes === undefined) return null;
    return { id, bytes, decoded: decodeStoredRecord(bytes) };
  }

  /** The stored replay result of a block, or null. */
  private resultOf(id: string, header: Header | null): BlockResult | null {
    if (header !== null) {
      return readResult(this.store, orderKey(header.height, header.view, Buffer.from(id, 'hex'), 0)) ?? null;
    }
    // A record whose header does not decode sorts by record number (SPEC 9.4).
    return loadResultById(this.store, id) ?? null;
  }

  /** Result of a block known by id and height (parents): looks through that height's order keys. */
  private resultAtHeight(id: string, height: U64): BlockResult | null {
    const prefix = u64Key(height);
    const idBuf = Buffer.from(id, 'hex');
    for (const { key, value } of this.store.order.getRange({ start: prefix, end: Buffer.concat([prefix, FF41]) })) {
      if (value.length === 40 && idBuf.equals(value.subarray(8))) return readResult(this.store, key) ?? null;
    }
    return null;
  }

  /** A stored protocol state in JSON form. States are content-addressed (immutable), so cached. */
  private stateView(kvId: string | null, c: ChainIndex): CachedState | null {
    if (kvId === null) return null;
    const hit = this.states.get(kvId);
    if (hit !== undefined) return hit;
    let snap: ProtocolSnapshot | undefined;
    if (kvId === toHex(c.rootCtx.snapshot.kvId)) snap = c.rootCtx.snapshot;
    else snap = loadState(this.store, Buffer.from(kvId, 'hex'));
    if (snap === undefined) return null;
    const v: CachedState = { view: stateOf(kvId, snap), snap };
    this.states.set(kvId, v);
    return v;
  }

  private stateDiff(before: CachedState | null, after: CachedState | null): DiffEntry[] {
    if (before === null || after === null || before.view.id === after.view.id) return [];
    const key = `${before.view.id}:${after.view.id}`;
    let d = this.diffs.get(key);
    if (d === undefined) {
      d = diffJson({ kv: before.view.kv, epoch: before.view.epoch }, { kv: after.view.kv, epoch: after.view.epoch });
      this.diffs.set(key, d);
    }
    return d;
  }

  private onChain(id: string, height: U64 | null, c: ChainIndex): boolean {
    if (id === c.rootId) return true;
    return height !== null && height > c.rootHeight && height <= c.finalizedHeight && this.finalizedAt(height) === id;
  }

  private children(id: string): string[] {
    const prefix = Buffer.from(id, 'hex');
    const out: string[] = [];
    for (const key of this.store.children.getKeys({ start: prefix, end: Buffer.concat([prefix, FF33]) })) {
      if (key.length === 64) out.push(toHex(key.subarray(32)));
    }
    return out;
  }

  // ---- inspect ----

  /** Everything known about one block (SPEC 6, 7.2 fields plus states, diff and event bodies). */
  inspect(id: string): BlockInspection {
    const c = this.chain();
    if (id === c.rootId) return this.inspectRoot(c);
    const b = this.readBlock(id);
    if (b === null) throw new NotFoundError(`no block ${id} in the store`);
    const { header: h, payload } = b.decoded;
    const r = this.resultOf(id, h);
    const chained = r !== null && r.finalized && this.onChain(id, h?.height ?? null, c);
    const required: RequiredVersion | null = chained && h !== null ? c.index.required(h.height) : null;

    // the parent's state
    let parentStateId: string | null = null;
    if (h !== null) {
      const parentHex = toHex(h.parentId);
      if (parentHex === c.rootId) parentStateId = toHex(c.rootCtx.snapshot.kvId);
      else if (h.height > 0) {
        const pr = this.resultAtHeight(parentHex, sub(h.height, 1));
        parentStateId = pr?.computedStateId ?? null;
      }
    }
    const before = this.stateView(parentStateId, c);
    const after = this.stateView(r?.computedStateId ?? null, c);
    const committed = payload !== null ? toHex(payload.protocolStateId) : (r?.committedStateId ?? null);

    return {
      id,
      record: r?.record ?? null,
      root: false,
      evaluated: r !== null,
      height: h?.height ?? null,
      view: h?.view ?? null,
      parentId: h === null ? null : toHex(h.parentId),
      finalized: b.decoded.finalized,
      onFinalizedChain: chained,
      header: h === null ? null : outputJson(h, S.Header),
      payload: payload === null ? null : payloadView(payload),
      decodeError: b.decoded.decodeError,
      recordBytes: b.bytes.length,
      verdict: r?.verdict ?? null,
      failed: r === null ? [] : failedChecks(r),
      committedStateId: committed,
      computedStateId: r?.computedStateId ?? null,
      committedStateComputed: committed === null ? null : committed === r?.computedStateId || this.isComputedState(committed),
      parentStateId,
      versions: r === null ? { ...EMPTY_VERSIONS } : versionsOf(r, chained, required),
      events: r === null ? [] : eventViews(this.store, c.rootCtx, r, b.decoded),
      stateBefore: before?.view ?? null,
      stateAfter: after?.view ?? null,
      stateDiff: this.stateDiff(before, after),
      children: this.children(id),
    };
  }

  private inspectRoot(c: ChainIndex): BlockInspection {
    const root = c.root;
    const h = root.rootBlock.header;
    const snap = c.rootCtx.snapshot;
    const kvId = toHex(snap.kvId);
    const rv = c.reportCtx.rootVersions;
    const req = c.index.required(c.rootHeight);
    const rep = snapshotReport(snap, h.view);
    return {
      id: c.rootId,
      record: null,
      root: true,
      evaluated: true,
      height: h.height,
      view: h.view,
      parentId: toHex(h.parentId),
      finalized: true,
      onFinalizedChain: true,
      header: outputJson(h, S.Header),
      payload: payloadView(root.rootBlock.payload),
      decodeError: null,
      recordBytes: null,
      verdict: null,
      failed: [],
      committedStateId: toHex(root.rootBlock.payload.protocolStateId),
      computedStateId: kvId,
      committedStateComputed: true,
      parentStateId: null,
      versions: {
        protocolStateVersion: rv.protocolStateVersion,
        executionComponentVersion: rv.executionComponentVersion,
        cadenceComponentVersion: rv.cadenceComponentVersion,
        pendingUpgrade: rep.pendingUpgrade,
        epochCounter: rep.epochCounter,
        epochPhase: rep.epochPhase,
        epochFinalView: rep.epochFinalView,
        ...requiredFields(req, true),
      },
      events: [],
      stateBefore: null,
      stateAfter: stateOf(kvId, snap),
      stateDiff: [],
      children: this.children(c.rootId),
    };
  }

  /** Whether a protocol state id is one the replay computed (states are stored content-addressed). */
  isComputedState(hex: string): boolean {
    return this.store.states.doesExist(Buffer.from(hex, 'hex'));
  }

  /** The protocol state after a block (KV store, epoch state and the epoch events it references). */
  state(id: string): { id: string; height: U64 | null; state: FullStateView } {
    const c = this.chain();
    let kvId: string | null;
    let height: U64 | null;
    if (id === c.rootId) {
      kvId = toHex(c.rootCtx.snapshot.kvId);
      height = c.rootHeight;
    } else {
      const b = this.readBlock(id);
      if (b === null) throw new NotFoundError(`no block ${id} in the store`);
      const r = this.resultOf(id, b.decoded.header);
      kvId = r?.computedStateId ?? null;
      height = b.decoded.header?.height ?? null;
      if (r === null) throw new NotFoundError(`block ${id} has not been replayed yet: no state`);
      if (kvId === null) throw new NotFoundError(`block ${id} has no computed state (verdict ${r.verdict})`);
    }
    const v = this.stateView(kvId, c);
    if (v === null) throw new NotFoundError(`state ${kvId} of block ${id} is not in the store`);
    return { id, height, state: { ...v.view, epochEvents: outputJson(v.snap.events, S.EpochEvents) } };
  }

  // ---- versions and bootstrap ----

  /** `spork-replay versions --json`, or the versions in force at one finalized height. */
  versions(height?: U64): unknown {
    const c = this.chain();
    if (height === undefined) return versionFindings(this.summary());
    const id = this.finalizedAt(height);
    if (id === null) throw new NotFoundError(`no block of the finalized chain at height ${height} (finalized heights ${c.rootHeight}..${c.finalizedHeight})`);
    const req = c.index.required(height);
    let v: Pick<VersionsView, 'protocolStateVersion' | 'executionComponentVersion' | 'cadenceComponentVersion'>;
    if (id === c.rootId) v = c.reportCtx.rootVersions;
    else {
      const r = this.resultAtHeight(id, height);
      v = {
        protocolStateVersion: r?.protocolStateVersion ?? null,
        executionComponentVersion: r?.executionComponentVersion ?? null,
        cadenceComponentVersion: r?.cadenceComponentVersion ?? null,
      };
    }
    return {
      height,
      blockId: id,
      protocolStateVersion: v.protocolStateVersion,
      executionComponentVersion: v.executionComponentVersion,
      cadenceComponentVersion: v.cadenceComponentVersion,
      ...requiredFields(req, true),
    };
  }

  /** SPEC 5.4 over the finalized chain; bad input throws QueryInputError. */
  bootstrap(p: BootstrapParams): BootstrapAnswer {
    const c = this.chain();
    const s = this.summary();
    try {
      return checkBootstrap(c.index, s.versionMap, {
        binary: p.binary,
        supportedComponents: p.supports ?? null,
        overrides: p.overrides ?? null,
        fromHeight: p.from ?? null,
        toHeight: p.to ?? null,
      });
    } catch (e) {
      if (e instanceof BootstrapInputError) throw new QueryInputError(e.message);
      throw e;
    }
  }
}

function stateOf(kvId: string, snap: ProtocolSnapshot): StateView {
  return { id: kvId, kv: outputJson(snap.kv, S.KVStore), epoch: outputJson(snap.epoch, S.EpochState) };
}
