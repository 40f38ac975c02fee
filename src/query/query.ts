// Read-side queries over a replayed store: what `inspect`, `bootstrap-check` and the HTTP
// server show. One module assembles the JSON so the CLI and the server return the same thing.
//
// Everything here is synchronous: LMDB reads of one call see one snapshot (lmdb-js renews its
// read transaction per event-loop turn), so a concurrent import or replay in another process
// never shows a half-written view within one answer.
import { toHex } from '../model/bytes.js';
import { toJson } from '../model/codec.js';
import { resultId } from '../model/ids.js';
import * as S from '../model/schema.js';
import type { Header, Payload, Result, RootSnapshot, ServiceEvent, U64 } from '../model/types.js';
import { u64, U64_MAX } from '../model/u64.js';
import { snapshotReport, type ProtocolSnapshot } from '../protocol/evolve.js';
import { checkBootstrap, BootstrapInputError, type BootstrapAnswer } from '../protocol/versions/bootstrap.js';
import type { RequiredVersion, VersionIndex } from '../protocol/versions/beacons.js';
import { decodeStoredRecord } from '../model/record.js';
import type { BlockResult, Verdict } from '../replay/evaluate.js';
import { loadResultById, loadRoot, loadState, reportContext, rootContext, storedResults } from '../replay/pipeline.js';
import { requiredFields, summarize, versionFields, versionFindings, type ReportContext, type ReportSummary } from '../replay/report.js';
import type { RootContext } from '../replay/evaluate.js';
import { orderKey, u64Key } from '../store/keys.js';
import type { BlockStore } from '../store/store.js';

// ---------------------------------------------------------------- errors

/** Bad query input: HTTP 400, CLI exit 2. */
export class QueryInputError extends Error {
  readonly status = 400;
  override name = 'QueryInputError';
}

/** No such block / height / state: HTTP 404, CLI exit 2. */
export class NotFoundError extends Error {
  readonly status = 404;
  override name = 'NotFoundError';
}

// ---------------------------------------------------------------- parsing

export type BlockSpec = { kind: 'id'; id: string } | { kind: 'height'; height: U64 };

const HEX64 = /^[0-9a-fA-F]{64}$/;
const DECIMAL = /^[0-9]+$/;

/** A height: base-10 digits, at most 2^64-1. */
export function parseHeight(s: string, what = 'height'): U64 {
  if (!DECIMAL.test(s)) throw new QueryInputError(`${what} ${quote(s)} is not a whole number`);
  if (s.length > 20) throw new QueryInputError(`${what} ${quote(s)} is above 2^64-1`);
  const v = BigInt(s);
  if (v > U64_MAX) throw new QueryInputError(`${what} ${quote(s)} is above 2^64-1`);
  return u64(v);
}

/** BLOCK: a 64-hex block id, or a height (the finalized block there). */
export function parseBlockSpec(s: string): BlockSpec {
  if (HEX64.test(s)) return { kind: 'id', id: s.toLowerCase() };
  if (DECIMAL.test(s)) return { kind: 'height', height: parseHeight(s) };
  throw new QueryInputError(`block ${quote(s)} is neither a 64-hex block id nor a height`);
}

/** A comma-separated list; empty items are dropped (so "" is the empty list). */
export function parseList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

function quote(s: string): string {
  const q = JSON.stringify(s.length > 80 ? s.slice(0, 77) + '...' : s);
  return q;
}

// ---------------------------------------------------------------- JSON text

const BIG = '\u0000big:';

/** JSON text with bigints (u64 above 2^53-1) as plain JSON numbers with exact digits. */
export function jsonText(v: unknown, indent?: number): string {
  // Fast path: no replacer (a replacer makes JSON.stringify several times slower); it throws a
  // TypeError on the first bigint, and then the replacer path writes them.
  try {
    return JSON.stringify(v, null, indent);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  let sawBig = false;
  const s = JSON.stringify(
    v,
    (_k, x) => {
      if (typeof x === 'bigint') {
        sawBig = true;
        return BIG + x.toString();
      }
      return x;
    },
    indent,
  );
  return sawBig ? s.replace(/"\\u0000big:(\d+)"/g, '$1') : s;
}

// ---------------------------------------------------------------- structural diff

export interface DiffEntry {
  /** e.g. `kv.versionUpgrade.activationView`, `epoch.current.extensions[1]` */
  path: string;
  change: 'changed' | 'added' | 'removed';
  before?: unknown;
  after?: unknown;
  /** e.g. `kv.versionUpgrade.activationView: 1200 -> 1500` */
  text: string;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function short(v: unknown, max = 160): string {
  const s = v === undefined ? 'undefined' : jsonText(v);
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return jsonText(a) === jsonText(b);
}

/**
 * Field-by-field differences between two JSON values (objects by key, arrays by index);
 * a value that changes kind (null <-> object, object <-> scalar) is one `changed` entry.
 */
export function diffJson(before: unknown, after: unknown, path = ''): DiffEntry[] {
  const out: DiffEntry[] = [];
  walk(before, after, path, out);
  return out;
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function walk(a: unknown, b: unknown, path: string, out: DiffEntry[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) walk(a[i], b[i], child(path, i), out);
    for (let i = n; i < b.length; i++) {
      const p = child(path, i);
      out.push({ path: p, change: 'added', after: b[i], text: `${p}: added ${short(b[i])}` });
    }
    for (let i = n; i < a.length; i++) {
      const p = child(path, i);
      out.push({ path: p, change: 'removed', before: a[i], text: `${p}: removed ${short(a[i])}` });
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      const p = child(path, k);
      if (!(k in b) || b[k] === undefined) {
        if (a[k] !== undefined) out.push({ path: p, change: 'removed', before: a[k], text: `${p}: removed ${short(a[k])}` });
      } else walk(a[k], b[k], p, out);
    }
    for (const k of Object.keys(b)) {
      if ((k in a && a[k] !== undefined) || b[k] === undefined) continue;
      const p = child(path, k);
      out.push({ path: p, change: 'added', after: b[k], text: `${p}: added ${short(b[k])}` });
    }
    return;
  }
  if (!sameJson(a, b)) out.push({ path, change: 'changed', before: a, after: b, text: `${path}: ${short(a)} -> ${short(b)}` });
}

// ---------------------------------------------------------------- views

export interface StateView {
  /** The protocol state ID (the KV store's ID). */
  id: string;
  kv: unknown;
  epoch: unknown;
}

export interface FullStateView extends StateView {
  epochEvents: unknown;
}

export interface EventView {
  type: string;
  outcome: string;
  reason: string;
  /** The event as sealed (`{type, event}` JSON form), when it could be located. */
  event?: unknown;
}

export interface VersionsView {
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: unknown;
  epochCounter: U64 | null;
  epochPhase: string | null;
  epochFinalView: U64 | null;
  /** R(height) for blocks of the consistent finalized chain, else null (SPEC 5.2, 7.2). */
  requiredVersion: string | null;
  requiredVersionSource: string | null;
  nextRequiredVersion: { height: U64; version: string } | null;
}

export interface PayloadView {
  guarantees: number;
  seals: { blockId: string; resultId: string }[];
  receipts: number;
  results: { id: string; blockId: string; serviceEvents: string[] }[];
  protocolStateId: string;
}

export interface BlockInspection {
  id: string | null;
  /** Global record number (import order); null for the root block. */
  record: number | null;
  root: boolean;
  /** False when the store holds no replay result for the block (not replayed yet). */
  evaluated: boolean;
  height: U64 | null;
  view: U64 | null;
  parentId: string | null;
  /** The record's finalized flag. */
  finalized: boolean;
  /** Part of the consistent finalized chain from the root (SPEC 9.11). */
  onFinalizedChain: boolean;
  header: unknown;
  payload: PayloadView | null;
  decodeError: string | null;
  recordBytes: number | null;
  /** null for the root block (trusted, checked against the root snapshot) and unevaluated blocks. */
  verdict: Verdict | null;
  failed: { check: string; reason: string }[];
  committedStateId: string | null;
  computedStateId: string | null;
  parentStateId: string | null;
  versions: VersionsView;
  events: EventView[];
  stateBefore: StateView | null;
  stateAfter: StateView | null;
  stateDiff: DiffEntry[];
  children: string[];
}

// ---------------------------------------------------------------- chain index (cached)

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

interface StoredBlock {
  id: string;
  bytes: Buffer;
  header: Header | null;
  payload: Payload | null;
  decodeError: string | null;
  finalized: boolean;
}

const EMPTY_VERSIONS: VersionsView = {
  protocolStateVersion: null,
  executionComponentVersion: null,
  cadenceComponentVersion: null,
  pendingUpgrade: null,
  epochCounter: null,
  epochPhase: null,
  epochFinalView: null,
  requiredVersion: null,
  requiredVersionSource: null,
  nextRequiredVersion: null,
};

/** How far below a block the sealed results are looked for (event bodies only). */
const MAX_ANCESTOR_WALK = 4096;

export interface BootstrapParams {
  binary: string;
  supports?: readonly string[] | null;
  overrides?: readonly string[] | null;
  from?: U64 | null;
  to?: U64 | null;
}

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
    const { index, summary } = summarize(reportCtx, storedResults(this.store));
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
      results: this.store.results.getCount(),
    };
    return this.cached;
  }

  /** The report summary (SPEC 7.2) without the run fields. */
  summary(): ReportSummary {
    const c = this.chain();
    if (this.cachedSummary !== null && this.cachedSummary.generation === c.generation) return this.cachedSummary.summary;
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

  /** Ids a BLOCK argument names: the id itself, the finalized block at a height, or (all) every block there. */
  resolve(spec: BlockSpec, all = false): string[] {
    if (spec.kind === 'id') {
      if (!this.exists(spec.id)) throw new NotFoundError(`no block ${spec.id} in the store`);
      return [spec.id];
    }
    if (all) {
      const ids = this.idsAtHeight(spec.height);
      if (ids.length === 0) throw new NotFoundError(`no block at height ${spec.height} in the store`);
      return ids;
    }
    const id = this.finalizedAt(spec.height);
    if (id === null) {
      const c = this.chain();
      throw new NotFoundError(
        `no block of the finalized chain at height ${spec.height} (finalized heights ${c.rootHeight}..${c.finalizedHeight}; use --all or /heights/:h for every block at a height)`,
      );
    }
    return [id];
  }

  exists(id: string): boolean {
    return id === this.chain().rootId || this.store.blocks.doesExist(Buffer.from(id, 'hex'));
  }

  private readBlock(id: string): StoredBlock | null {
    const bytes = this.store.blocks.get(Buffer.from(id, 'hex'));
    if (bytes === undefined) return null;
    const d = decodeStoredRecord(bytes);
    return { id, bytes, header: d.header, payload: d.payload, decodeError: d.decodeError, finalized: d.finalized };
  }

  /** The stored replay result of a block, or null. */
  private resultOf(id: string, header: Header | null): BlockResult | null {
    if (header !== null) {
      const r = this.store.results.get(orderKey(header.height, header.view, Buffer.from(id, 'hex'), 0));
      return (r as BlockResult | undefined) ?? null;
    }
    // A record whose header does not decode sorts by record number (SPEC 9.4).
    return loadResultById(this.store, id) ?? null;
  }

  /** Result of a block known by id and height (parents): looks through that height's order keys. */
  private resultAtHeight(id: string, height: U64): BlockResult | null {
    const prefix = u64Key(height);
    const idBuf = Buffer.from(id, 'hex');
    for (const { key, value } of this.store.order.getRange({ start: prefix, end: Buffer.concat([prefix, FF41]) })) {
      if (value.length === 40 && idBuf.equals(value.subarray(8))) return (this.store.results.get(key) as BlockResult | undefined) ?? null;
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
    const v: CachedState = { view: { id: kvId, kv: toJson(snap.kv, S.KVStore), epoch: toJson(snap.epoch, S.EpochState) }, snap };
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
    const h = b.header;
    const r = this.resultOf(id, h);
    const chained = r !== null && r.finalized && this.onChain(id, h?.height ?? null, c);
    const required: RequiredVersion | null = chained && h !== null ? c.index.required(h.height) : null;

    // the parent's state
    let parentStateId: string | null = null;
    if (h !== null) {
      const parentHex = toHex(h.parentId);
      if (parentHex === c.rootId) parentStateId = toHex(c.rootCtx.snapshot.kvId);
      else if (h.height > 0) {
        const pr = this.resultAtHeight(parentHex, typeof h.height === 'number' ? h.height - 1 : u64(BigInt(h.height) - 1n));
        parentStateId = pr?.computedStateId ?? null;
      }
    }
    const before = this.stateView(parentStateId, c);
    const after = this.stateView(r?.computedStateId ?? null, c);

    return {
      id,
      record: r?.record ?? null,
      root: false,
      evaluated: r !== null,
      height: h?.height ?? null,
      view: h?.view ?? null,
      parentId: h === null ? null : toHex(h.parentId),
      finalized: b.finalized,
      onFinalizedChain: chained,
      header: h === null ? null : toJson(h, S.Header),
      payload: b.payload === null ? null : payloadView(b.payload),
      decodeError: b.decodeError,
      recordBytes: b.bytes.length,
      verdict: r?.verdict ?? null,
      failed: r === null ? [] : r.failed.map((check) => ({ check, reason: r.reasons[check] ?? '' })),
      committedStateId: b.payload !== null ? toHex(b.payload.protocolStateId) : (r?.committedStateId ?? null),
      computedStateId: r?.computedStateId ?? null,
      parentStateId,
      versions: r === null ? { ...EMPTY_VERSIONS } : versionsOf(r, chained, required),
      events: r === null ? [] : this.eventViews(r, b, c),
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
      header: toJson(h, S.Header),
      payload: payloadView(root.rootBlock.payload),
      decodeError: null,
      recordBytes: null,
      verdict: null,
      failed: [],
      committedStateId: toHex(root.rootBlock.payload.protocolStateId),
      computedStateId: kvId,
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
      stateAfter: { id: kvId, kv: toJson(snap.kv, S.KVStore), epoch: toJson(snap.epoch, S.EpochState) },
      stateDiff: [],
      children: this.children(c.rootId),
    };
  }

  /**
   * Outcomes of the block's service events, with the events themselves when the sealed
   * results can be found (in this block's payload or an ancestor's, SPEC 4.2 order).
   */
  private eventViews(r: BlockResult, b: StoredBlock, c: ChainIndex): EventView[] {
    const views: EventView[] = r.events.map((e) => ({ type: e.type, outcome: e.outcome, reason: e.reason }));
    if (views.length === 0 || b.payload === null || b.header === null) return views;
    try {
      const events = this.sealedEvents(b.header, b.payload, c);
      if (events !== null && events.length === views.length) {
        for (let i = 0; i < views.length; i++) if (events[i]!.type === views[i]!.type) views[i]!.event = toJson(events[i], S.event);
      }
    } catch {
      // bodies are a convenience: the outcomes stand on their own
    }
    return views;
  }

  private sealedEvents(header: Header, payload: Payload, c: ChainIndex): ServiceEvent[] | null {
    const rootResultId = toHex(c.rootCtx.rootResultId);
    const wanted = new Map<string, Result | null>();
    for (const s of payload.seals) wanted.set(toHex(s.resultId), null);
    const take = (results: Result[]) => {
      for (const res of results) {
        const k = toHex(resultId(res));
        if (wanted.has(k) && wanted.get(k) === null) wanted.set(k, res);
      }
    };
    take(payload.results);
    // the replay's index: result id -> blocks including it (any includer holds the same result)
    for (const [k, v] of wanted) {
      if (v !== null || k === rootResultId) continue;
      const prefix = Buffer.from(k, 'hex');
      for (const key of this.store.includes.getKeys({ start: prefix, end: Buffer.concat([prefix, FF33]), limit: 4 })) {
        const ib = key.length === 64 ? this.readBlock(toHex(key.subarray(32))) : null;
        if (ib?.payload) take(ib.payload.results);
        if (wanted.get(k) !== null) break;
      }
    }
    let parent = toHex(header.parentId);
    for (let steps = 0; steps < MAX_ANCESTOR_WALK && [...wanted].some(([k, v]) => v === null && k !== rootResultId); steps++) {
      if (parent === c.rootId) {
        take(c.root.rootBlock.payload.results);
        break;
      }
      const pb = this.readBlock(parent);
      if (pb === null || pb.header === null || pb.payload === null) break;
      take(pb.payload.results);
      parent = toHex(pb.header.parentId);
    }
    const sealed: { height: U64; events: ServiceEvent[] }[] = [];
    for (const s of payload.seals) {
      const k = toHex(s.resultId);
      const blockHex = toHex(s.blockId);
      let height: U64;
      if (blockHex === c.rootId) height = c.rootHeight;
      else {
        const sb = this.readBlock(blockHex);
        if (sb === null || sb.header === null) return null;
        height = sb.header.height;
      }
      if (k === rootResultId) sealed.push({ height, events: [] });
      else {
        const res = wanted.get(k);
        if (res === null || res === undefined) return null;
        sealed.push({ height, events: res.serviceEvents });
      }
    }
    sealed.sort((a, b) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0));
    return sealed.flatMap((s) => s.events);
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
      const r = this.resultOf(id, b.header);
      kvId = r?.computedStateId ?? null;
      height = b.header?.height ?? null;
      if (r === null) throw new NotFoundError(`block ${id} has not been replayed yet: no state`);
      if (kvId === null) throw new NotFoundError(`block ${id} has no computed state (verdict ${r.verdict})`);
    }
    const v = this.stateView(kvId, c);
    if (v === null) throw new NotFoundError(`state ${kvId} of block ${id} is not in the store`);
    return { id, height, state: { ...v.view, epochEvents: toJson(v.snap.events, S.EpochEvents) } };
  }

  // ---- versions and bootstrap ----

  /** `spork-replay versions --json`, or the versions in force at one finalized height. */
  versions(height?: U64): unknown {
    const c = this.chain();
    if (height === undefined) {
      return versionFindings(this.summary());
    }
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

interface CachedState {
  view: StateView;
  snap: ProtocolSnapshot;
}

/** A small least-recently-used map. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

const FF33 = Buffer.alloc(33, 0xff);
const FF41 = Buffer.alloc(41, 0xff);

function payloadView(p: Payload): PayloadView {
  return {
    guarantees: p.guarantees.length,
    seals: p.seals.map((s) => ({ blockId: toHex(s.blockId), resultId: toHex(s.resultId) })),
    receipts: p.receipts.length,
    results: p.results.map((res) => ({ id: toHex(resultId(res)), blockId: toHex(res.blockId), serviceEvents: res.serviceEvents.map((e) => e.type) })),
    protocolStateId: toHex(p.protocolStateId),
  };
}

function versionsOf(r: BlockResult, chained: boolean, req: RequiredVersion | null): VersionsView {
  return versionFields(r, chained, req);
}
