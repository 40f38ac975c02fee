// The ordered stage (SPEC 6): linkage, seals and state evolution, parents before children.
// Blocks arrive in report order; one whose stored parent has not been evaluated yet waits for
// it. Each block gets exactly one verdict, the first failing row of SPEC 6's tables.
import { bytesEqual, toHex } from '../model/bytes.js';
import { add, sub } from '../model/u64.js';
import type { Id, ServiceEvent, U64, VersionBeacon } from '../model/types.js';
import { evolve, snapshotReport, type EventOutcome, type ProtocolSnapshot } from '../protocol/evolve.js';
import type { BlockFacts, LinkHeader, ResultFact } from './facts.js';

export const VERDICTS = [
  'decode-error', 'id-mismatch', 'payload-mismatch', 'unknown-parent', 'bad-linkage', 'descends-from-invalid',
  'bad-seal', 'unsupported-version', 'state-mismatch', 'ok',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A version beacon sealed by a block, with the height of the block whose result emitted it. */
export interface SealedBeacon {
  beacon: VersionBeacon;
  emittedAtHeight: U64;
}

/** Everything a block line of the report says, except what needs the whole chain (versions by height). */
export interface BlockResult {
  record: number;
  id: string | null;
  height: U64 | null;
  view: U64 | null;
  parentId: string | null;
  finalized: boolean;
  verdict: Verdict;
  failed: Verdict[];
  reasons: Record<string, string>;
  committedStateId: string | null;
  computedStateId: string | null;
  protocolStateVersion: number | null;
  executionComponentVersion: string | null;
  cadenceComponentVersion: string | null;
  pendingUpgrade: { version: U64; activationView: U64 } | null;
  epochCounter: U64 | null;
  epochPhase: string | null;
  epochFinalView: U64 | null;
  events: EventOutcome[];
  /** True when the block's seals were checked and passed (it may contribute beacons, SPEC 9.20). */
  sealsPassed: boolean;
  beacons: SealedBeacon[];
  unknownEvents: number;
  /** What children need of this block when it is no longer in memory (resume, pruning). */
  link: LinkHeader | null;
  lastSealed: U64 | null;
  /** Results this block's payload includes (ids, executed block, events): seals of descendants use them. */
  included: ResultFact[];
  /** Re-evaluate on the next replay even if stored (its inputs may appear later: unknown parent, cycles). */
  retry: boolean;
}

export interface RootContext {
  id: Id;
  header: LinkHeader;
  snapshot: ProtocolSnapshot;
  rootResultId: Id;
  rootResultBlockId: Id;
}

/** What the ordered stage keeps per evaluated block. */
interface Node {
  hex: string;
  parentHex: string | null;
  header: LinkHeader | null;
  verdict: Verdict;
  /** Present when the verdict is ok (children evolve from it). */
  snapshot: ProtocolSnapshot | null;
  lastSealed: U64;
}

interface IncludedResult {
  blockId: Id;
  events: ServiceEvent[];
  /** Hex ids of the blocks whose payload includes this result. */
  includers: string[];
  /** Evaluation front when first seen (for pruning). */
  height: U64;
}

export interface EvaluatorHooks {
  /** Whether a block with this id is stored (so a child waits for it rather than failing unknown-parent). */
  isStored(id: Id): boolean;
  /** The stored result of an already evaluated block that is no longer in memory. */
  loadResult?(hex: string): BlockResult | undefined;
  /** The stored protocol state with this id. */
  loadState?(kvIdHex: string): ProtocolSnapshot | undefined;
  /** Hex ids of the blocks that include this result, from earlier runs or pruned blocks. */
  loadIncluders?(resultHex: string): string[];
  /** Receives each block's result, in evaluation order (parents before children). */
  onResult(r: BlockResult, facts: BlockFacts): void;
  /** Receives each protocol state the first time a block evolves into it (root excluded). */
  onState?(s: ProtocolSnapshot): void;
}

export class Evaluator {
  private readonly nodes = new Map<string, Node>();
  private readonly results = new Map<string, IncludedResult>();
  private readonly waiting = new Map<string, BlockFacts[]>();
  private readonly rootHex: string;
  private readonly rootNode: Node;
  private readonly chainId: string;

  constructor(private readonly root: RootContext, private readonly hooks: EvaluatorHooks) {
    this.rootHex = toHex(root.id);
    this.chainId = root.header.chainId;
    this.rootNode = {
      hex: this.rootHex,
      parentHex: null,
      header: root.header,
      verdict: 'ok',
      snapshot: root.snapshot,
      lastSealed: root.header.height,
    };
    this.nodes.set(this.rootHex, this.rootNode);
  }

  /** Hex ids of blocks evaluated in this run, kept in incremental runs (their stored children are re-evaluated). */
  readonly evaluatedNow = new Set<string>();
  /** Set when the store holds results of an earlier run. */
  trackEvaluated = false;
  private highest: U64 = 0;

  /** Feeds one block; it is evaluated now, or once its stored parent has been. */
  push(f: BlockFacts): void {
    if (f.header !== null && f.decodeError === null) {
      const parentHex = toHex(f.header.parentId);
      if (this.getNode(parentHex) === undefined && this.hooks.isStored(f.header.parentId)) {
        const list = this.waiting.get(parentHex);
        if (list) list.push(f);
        else this.waiting.set(parentHex, [f]);
        return;
      }
    }
    this.evaluateAndRelease(f);
  }

  /**
   * Takes a block's stored result from an earlier run instead of evaluating it. Returns false
   * when that is not allowed (its parent was evaluated again in this run): evaluate it instead.
   */
  pushStored(r: BlockResult): boolean {
    if (r.retry || (r.parentId !== null && this.evaluatedNow.has(r.parentId))) return false;
    const node = this.nodeFromResult(r);
    if (node === null) return false;
    this.nodes.set(node.hex, node);
    this.registerIncludedResults(node.hex, r.included);
    this.release(node.hex);
    return true;
  }

  private nodeFromResult(r: BlockResult): Node | null {
    if (r.id === null) return null;
    let snapshot: ProtocolSnapshot | null = null;
    if (r.verdict === 'ok') {
      snapshot = this.loadSnapshot(r.computedStateId!);
      if (snapshot === null) return null;
    }
    return { hex: r.id, parentHex: r.parentId, header: r.link, verdict: r.verdict, snapshot, lastSealed: r.lastSealed ?? 0 };
  }

  private readonly snapshotCache = new Map<string, ProtocolSnapshot>();

  private loadSnapshot(hex: string): ProtocolSnapshot | null {
    let s = this.snapshotCache.get(hex);
    if (s === undefined) {
      s = this.hooks.loadState?.(hex);
      if (s === undefined) return null;
      if (this.snapshotCache.size > 64) this.snapshotCache.clear();
      this.snapshotCache.set(hex, s);
    }
    return s;
  }

  /** In memory, or rebuilt from its stored result. */
  private getNode(hex: string): Node | undefined {
    const n = this.nodes.get(hex);
    if (n !== undefined || this.hooks.loadResult === undefined) return n;
    const r = this.hooks.loadResult(hex);
    if (r === undefined) return undefined;
    return this.nodeFromResult(r) ?? undefined;
  }

  /**
   * Frees what blocks far below the evaluation front hold (memory stays bounded on long
   * sporks); they are rebuilt from the store if a late block needs them. Call only when every
   * result handed to onResult is stored.
   */
  prune(window: number): void {
    const below = typeof this.highest === 'number' ? this.highest - window : Number.NEGATIVE_INFINITY;
    for (const [hex, n] of this.nodes) {
      if (n !== this.rootNode && n.header !== null && n.header.height < below && !this.waiting.has(hex)) this.nodes.delete(hex);
    }
    for (const [hex, inc] of this.results) if (inc.height < below) this.results.delete(hex);
  }

  /** Blocks still waiting can never reach the root (SPEC 9.10). */
  finish(): void {
    const stuck = new Map<string, BlockFacts>();
    for (const list of this.waiting.values()) for (const f of list) stuck.set(toHex(f.id!), f);
    this.waiting.clear();
    for (const f of [...stuck.values()].sort((a, b) => a.record - b.record)) {
      const parent = stuck.get(toHex(f.header!.parentId));
      const r = this.baseResult(f);
      this.integrity(f, r);
      if (parent?.header) this.linkage(f.header!, parent.header, r);
      this.fail(r, 'descends-from-invalid', 'ancestry never reaches the root (parent cycle)');
      r.retry = true;
      this.hooks.onResult(this.close(r), f);
    }
  }

  private evaluateAndRelease(first: BlockFacts): void {
    const stack = [first];
    while (stack.length > 0) {
      const f = stack.pop()!;
      const hex = this.evaluate(f);
      if (hex !== null) this.release(hex, stack);
    }
  }

  /** Children waiting for `hex` become evaluable. */
  private release(hex: string, stack?: BlockFacts[]): void {
    const children = this.waiting.get(hex);
    if (children === undefined) return;
    this.waiting.delete(hex);
    if (stack === undefined) {
      for (const c of children) this.evaluateAndRelease(c);
      return;
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }

  /** Evaluates one block whose parent is evaluated, unknown or irrelevant; returns its hex id. */
  private evaluate(f: BlockFacts): string | null {
    const r = this.baseResult(f);
    const h = f.header;
    const node: Node | null = r.id === null ? null : {
      hex: r.id, parentHex: r.parentId, header: h, verdict: 'ok', snapshot: null, lastSealed: 0,
    };
    this.evaluateChecks(f, r, node);
    const closed = this.close(r);
    if (node) {
      node.verdict = closed.verdict;
      if (closed.verdict !== 'ok') node.snapshot = null;
      this.nodes.set(node.hex, node);
      if (this.trackEvaluated) this.evaluatedNow.add(node.hex);
      this.registerIncludedResults(node.hex, f.results);
      if (h !== null && h.height > this.highest) this.highest = h.height;
    }
    closed.link = h;
    closed.lastSealed = node?.lastSealed ?? null;
    closed.included = f.results;
    this.hooks.onResult(closed, f);
    return node?.hex ?? null;
  }

  private evaluateChecks(f: BlockFacts, r: BlockResult, node: Node | null): void {
    if (f.decodeError !== null) {
      this.fail(r, 'decode-error', f.decodeError);
      return;
    }
    this.integrity(f, r);
    const h = f.header!;
    const parent = this.getNode(r.parentId!);
    if (parent === undefined) {
      this.fail(r, 'unknown-parent', `parent ${r.parentId} is neither the root nor a stored block`);
      r.retry = true;
      return;
    }
    if (parent.header !== null) this.linkage(h, parent.header, r);
    if (parent.verdict !== 'ok') {
      this.fail(r, 'descends-from-invalid', `parent verdict ${parent.verdict}`);
      return;
    }
    const sealed = this.checkSeals(f, parent, r);
    if (sealed === null) return;
    r.sealsPassed = true;
    node!.lastSealed = sealed.lastSealed;
    const ev = sealed.events;
    const evolved = evolve(parent.snapshot!, h.view, ev);
    if (!evolved.ok) {
      this.fail(r, 'unsupported-version', evolved.reason);
      return;
    }
    const s = evolved.snapshot;
    node!.snapshot = s;
    if (evolved.changed) this.hooks.onState?.(s);
    r.computedStateId = toHex(s.kvId);
    r.events = evolved.outcomes;
    for (const e of ev) if (e.unknown) r.unknownEvents++;
    const rep = snapshotReport(s, h.view);
    r.protocolStateVersion = rep.protocolStateVersion;
    r.executionComponentVersion = rep.executionComponentVersion;
    r.cadenceComponentVersion = rep.cadenceComponentVersion;
    r.pendingUpgrade = rep.pendingUpgrade;
    r.epochCounter = rep.epochCounter;
    r.epochPhase = rep.epochPhase;
    r.epochFinalView = rep.epochFinalView;
    if (!bytesEqual(s.kvId, f.protocolStateId!)) this.fail(r, 'state-mismatch', `computed ${r.computedStateId}`);
  }

  private integrity(f: BlockFacts, r: BlockResult): void {
    if (f.idMismatch !== null) this.fail(r, 'id-mismatch', f.idMismatch);
    if (f.payloadMismatch !== null) this.fail(r, 'payload-mismatch', f.payloadMismatch);
  }

  /** SPEC 6 bad-linkage: every rule that fails, in one reason. */
  private linkage(h: LinkHeader, p: LinkHeader, r: BlockResult): void {
    const problems: string[] = [];
    if (h.chainId !== this.chainId) problems.push(`chainId ${h.chainId} differs from the root's ${this.chainId}`);
    if (h.height !== add(p.height, 1)) problems.push(`height ${h.height} != parent height ${p.height} + 1`);
    if (h.view <= p.view) problems.push(`view ${h.view} <= parent view ${p.view}`);
    if (h.parentView !== p.view) problems.push(`parentView ${h.parentView} != parent view ${p.view}`);
    if (h.timestamp < p.timestamp) problems.push(`timestamp ${h.timestamp} < parent timestamp ${p.timestamp}`);
    const tc = h.tc;
    if (h.view !== add(h.parentView, 1)) {
      if (tc === null) problems.push(`view ${h.view} != parentView + 1 and lastViewTC is absent`);
      else {
        if (tc.view !== sub(h.view, 1)) problems.push(`lastViewTC.view ${tc.view} != view - 1 = ${sub(h.view, 1)}`);
        if (tc.newestQCView > h.parentView) problems.push(`lastViewTC.newestQC.view ${tc.newestQCView} > parentView ${h.parentView}`);
      }
    } else if (tc !== null) {
      problems.push(`view ${h.view} == parentView + 1 but lastViewTC is present`);
    }
    if (problems.length > 0) this.fail(r, 'bad-linkage', problems.join('; '));
  }

  /**
   * SPEC 6 bad-seal and 4.2: validates the block's seals against its fork and returns the
   * service events they apply (results in sealed-height order), or null after failing the block.
   */
  private checkSeals(f: BlockFacts, parent: Node, r: BlockResult): { events: ServiceEvent[]; lastSealed: U64 } | null {
    if (f.seals.length === 0) return { events: [], lastSealed: parent.lastSealed };
    const sealed: { height: U64; hex: string; result: { blockId: Id; events: ServiceEvent[] } }[] = [];
    for (let i = 0; i < f.seals.length; i++) {
      const s = f.seals[i];
      const result = this.findResult(s.resultId, f, parent);
      if (result === null) return this.badSeal(r, `seal ${i}: result ${toHex(s.resultId)} is not the root result nor included in this block or an ancestor`);
      if (!bytesEqual(s.blockId, result.blockId)) {
        return this.badSeal(r, `seal ${i}: blockId ${toHex(s.blockId)} differs from its result's blockId ${toHex(result.blockId)}`);
      }
      const hex = toHex(s.blockId);
      const target = this.getNode(hex);
      if (target === undefined || target.header === null || !this.isAncestor(target, parent)) {
        return this.badSeal(r, `seal ${i}: sealed block ${hex} is not an ancestor of this block`);
      }
      sealed.push({ height: target.header.height, hex, result });
    }
    sealed.sort((a, b) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0));
    for (let i = 1; i < sealed.length; i++) {
      if (sealed[i].hex === sealed[i - 1].hex) return this.badSeal(r, `two seals for block ${sealed[i].hex}`);
    }
    let expect = add(parent.lastSealed, 1);
    for (const s of sealed) {
      if (s.height !== expect) {
        const heights = sealed.map((x) => x.height).join(', ');
        return this.badSeal(r, `sealed heights [${heights}] are not ${expect}, ${add(expect, 1)}, ...`);
      }
      expect = add(expect, 1);
    }
    const events: ServiceEvent[] = [];
    for (const s of sealed) {
      for (const e of s.result.events) {
        events.push(e);
        if (!e.unknown && e.type === 'version-beacon') {
          r.beacons.push({ beacon: e.event, emittedAtHeight: s.height });
        }
      }
    }
    return { events, lastSealed: sealed[sealed.length - 1].height };
  }

  private badSeal(r: BlockResult, reason: string): null {
    r.beacons = [];
    this.fail(r, 'bad-seal', reason);
    return null;
  }

  private findResult(id: Id, f: BlockFacts, parent: Node): { blockId: Id; events: ServiceEvent[] } | null {
    if (bytesEqual(id, this.root.rootResultId)) return { blockId: this.root.rootResultBlockId, events: [] };
    for (const own of f.results) if (bytesEqual(own.id, id)) return own;
    const hex = toHex(id);
    let inc = this.results.get(hex);
    if (inc === undefined) inc = this.loadIncluded(hex);
    if (inc === undefined) return null;
    for (const includer of inc.includers) {
      const node = this.getNode(includer);
      if (node && this.isAncestor(node, parent)) return inc;
    }
    return null;
  }

  /** A result included by blocks no longer in memory: rebuilt from their stored results. */
  private loadIncluded(hex: string): IncludedResult | undefined {
    const includers = this.hooks.loadIncluders?.(hex) ?? [];
    for (const b of includers) {
      const r = this.hooks.loadResult!(b);
      const fact = r?.included.find((x) => toHex(x.id) === hex);
      if (fact) return { blockId: fact.blockId, events: fact.events, includers, height: r!.height ?? 0 };
    }
    return undefined;
  }

  /** True when `x` is `from` or one of its ancestors. */
  private isAncestor(x: Node, from: Node): boolean {
    if (x === this.rootNode) return true;
    const h = x.header!.height;
    let cur: Node | undefined = from;
    while (cur !== undefined && cur.header !== null && cur.header.height > h) {
      cur = cur.parentHex === null ? undefined : this.getNode(cur.parentHex);
    }
    return cur !== undefined && cur.hex === x.hex;
  }

  private registerIncludedResults(blockHex: string, results: ResultFact[]): void {
    for (const res of results) {
      const key = toHex(res.id);
      const inc = this.results.get(key);
      if (inc) {
        if (!inc.includers.includes(blockHex)) inc.includers.push(blockHex);
      } else {
        this.results.set(key, { blockId: res.blockId, events: res.events, includers: [blockHex], height: this.highest });
      }
    }
  }

  private baseResult(f: BlockFacts): BlockResult {
    const h = f.header;
    return {
      record: f.record,
      id: f.id === null ? null : toHex(f.id),
      height: h ? h.height : null,
      view: h ? h.view : null,
      parentId: h ? toHex(h.parentId) : null,
      finalized: f.finalized,
      verdict: 'ok',
      failed: [],
      reasons: {},
      committedStateId: f.protocolStateId === null ? null : toHex(f.protocolStateId),
      computedStateId: null,
      protocolStateVersion: null,
      executionComponentVersion: null,
      cadenceComponentVersion: null,
      pendingUpgrade: null,
      epochCounter: null,
      epochPhase: null,
      epochFinalView: null,
      events: [],
      sealsPassed: false,
      beacons: [],
      unknownEvents: 0,
      link: h,
      lastSealed: null,
      included: [],
      retry: false,
    };
  }

  private fail(r: BlockResult, v: Verdict, reason: string): void {
    r.failed.push(v);
    r.reasons[v] = reason;
  }

  private close(r: BlockResult): BlockResult {
    r.verdict = r.failed.length > 0 ? r.failed[0] : 'ok';
    return r;
  }
}
