// The block tree the ordered stage has seen: per evaluated block what its children need
// (header, verdict, state, last sealed height) and the results included on each fork. Blocks
// far below the evaluation front are dropped and rebuilt from the store when a late block
// needs them.
import { bytesEqual, toHex } from '../model/bytes.js';
import type { Id, ServiceEvent, U64 } from '../model/types.js';
import type { ProtocolSnapshot } from '../protocol/evolve.js';
import type { BlockFacts, LinkHeader, ResultFact } from './facts.js';
import type { BlockResult } from './result.js';
import type { Verdict } from './verdicts.js';

export interface RootContext {
  id: Id;
  header: LinkHeader;
  snapshot: ProtocolSnapshot;
  rootResultId: Id;
  rootResultBlockId: Id;
}

/** What the ordered stage keeps per evaluated block. */
export interface Node {
  hex: string;
  parentHex: string | null;
  header: LinkHeader | null;
  verdict: Verdict;
  /** Present when the verdict is ok (children evolve from it). */
  snapshot: ProtocolSnapshot | null;
  lastSealed: U64;
}

/** A result a seal can name: its executed block and service events. */
export interface SealableResult {
  blockId: Id;
  events: ServiceEvent[];
}

interface IncludedResult extends SealableResult {
  /** Hex ids of the blocks whose payload includes this result. */
  includers: string[];
  /** Evaluation front when first seen (for pruning). */
  height: U64;
}

/** Where the fork finds what is no longer (or not yet) in memory. */
export interface ForkStore {
  /** The stored result of an already evaluated block that is no longer in memory. */
  loadResult?(hex: string): BlockResult | undefined;
  /** The stored protocol state with this id. */
  loadState?(kvIdHex: string): ProtocolSnapshot | undefined;
  /** Hex ids of the blocks that include this result, from earlier runs or pruned blocks. */
  loadIncluders?(resultHex: string): string[];
}

const ROOT_RESULT_EVENTS: ServiceEvent[] = [];

export class Fork {
  private readonly nodes = new Map<string, Node>();
  private readonly results = new Map<string, IncludedResult>();
  private readonly snapshotCache = new Map<string, ProtocolSnapshot>();
  private readonly rootResult: SealableResult;
  readonly rootNode: Node;
  /** Highest height evaluated so far (the evaluation front). */
  highest: U64 = 0;

  constructor(
    private readonly root: RootContext,
    private readonly store: ForkStore,
  ) {
    this.rootNode = {
      hex: toHex(root.id),
      parentHex: null,
      header: root.header,
      verdict: 'ok',
      snapshot: root.snapshot,
      lastSealed: root.header.height,
    };
    this.nodes.set(this.rootNode.hex, this.rootNode);
    this.rootResult = { blockId: root.rootResultBlockId, events: ROOT_RESULT_EVENTS };
  }

  /** In memory, or rebuilt from its stored result. */
  get(hex: string): Node | undefined {
    const n = this.nodes.get(hex);
    if (n !== undefined || this.store.loadResult === undefined) return n;
    const r = this.store.loadResult(hex);
    if (r === undefined) return undefined;
    return this.nodeFromResult(r) ?? undefined;
  }

  /** Records an evaluated block and the results its payload includes. */
  add(node: Node, included: readonly ResultFact[]): void {
    this.nodes.set(node.hex, node);
    this.registerIncluded(node.hex, included);
    const h = node.header;
    if (h !== null && h.height > this.highest) this.highest = h.height;
  }

  /** A block taken from a stored result (null when its state is not stored: evaluate it). */
  addStored(r: BlockResult): Node | null {
    const node = this.nodeFromResult(r);
    if (node === null) return null;
    this.nodes.set(node.hex, node);
    this.registerIncluded(node.hex, r.included);
    return node;
  }

  /** Drops what lies more than `window` below the front, except blocks `keep` names. */
  prune(window: number, keep: (hex: string) => boolean): void {
    const below = typeof this.highest === 'number' ? this.highest - window : Number.NEGATIVE_INFINITY;
    for (const [hex, n] of this.nodes) {
      if (n !== this.rootNode && n.header !== null && n.header.height < below && !keep(hex)) this.nodes.delete(hex);
    }
    for (const [hex, inc] of this.results) if (inc.height < below) this.results.delete(hex);
  }

  /** True when `x` is `from` or one of its ancestors. */
  isAncestor(x: Node, from: Node): boolean {
    if (x === this.rootNode) return true;
    const h = x.header!.height;
    let cur: Node | undefined = from;
    while (cur !== undefined && cur.header !== null && cur.header.height > h) {
      cur = cur.parentHex === null ? undefined : this.get(cur.parentHex);
    }
    return cur !== undefined && cur.hex === x.hex;
  }

  /** The result with this id if the root, block `f` or an ancestor of it (from `parent` down) includes it. */
  findResult(id: Id, f: BlockFacts, parent: Node): SealableResult | null {
    if (bytesEqual(id, this.root.rootResultId)) return this.rootResult;
    for (const own of f.results) if (bytesEqual(own.id, id)) return own;
    const hex = toHex(id);
    const inc = this.results.get(hex) ?? this.loadIncluded(hex);
    if (inc === undefined) return null;
    for (const includer of inc.includers) {
      const node = this.get(includer);
      if (node && this.isAncestor(node, parent)) return inc;
    }
    return null;
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

  private loadSnapshot(hex: string): ProtocolSnapshot | null {
    let s = this.snapshotCache.get(hex);
    if (s === undefined) {
      s = this.store.loadState?.(hex);
      if (s === undefined) return null;
      if (this.snapshotCache.size > 64) this.snapshotCache.clear();
      this.snapshotCache.set(hex, s);
    }
    return s;
  }

  /** A result included by blocks no longer in memory: rebuilt from their stored results. */
  private loadIncluded(hex: string): IncludedResult | undefined {
    const includers = this.store.loadIncluders?.(hex) ?? [];
    for (const b of includers) {
      const r = this.store.loadResult!(b);
      const fact = r?.included.find((x) => toHex(x.id) === hex);
      if (fact) return { blockId: fact.blockId, events: fact.events, includers, height: r!.height ?? 0 };
    }
    return undefined;
  }

  private registerIncluded(blockHex: string, results: readonly ResultFact[]): void {
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
}
