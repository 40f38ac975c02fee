// The ordered stage (SPEC 6): linkage, seals and state evolution, parents before children.
// Blocks arrive in report order; one whose stored parent has not been evaluated yet waits for
// it. The checks run stage by stage (verdicts.ts names each row's stage); a row that stops
// ends the block, and the verdict is the first failing row of the table (result.ts `close`).
import { toHex } from '../model/bytes.js';
import type { Id } from '../model/types.js';
import type { ProtocolSnapshot } from '../protocol/evolve.js';
import { evolveBlock } from './evolution.js';
import type { BlockFacts } from './facts.js';
import { Fork, type ForkStore, type Node, type RootContext } from './fork.js';
import { checkLinkage } from './linkage.js';
import { close, fail, newResult, stopped, type BlockResult } from './result.js';
import { checkSeals } from './seals.js';

export { VERDICTS, type Verdict } from './verdicts.js';
export type { BlockResult, ReportedEvent, SealedBeacon } from './result.js';
export type { RootContext } from './fork.js';

export interface EvaluatorHooks extends ForkStore {
  /** Whether a block with this id is stored (so a child waits for it rather than failing unknown-parent). */
  isStored(id: Id): boolean;
  /** Receives each block's result, in evaluation order (parents before children). */
  onResult(r: BlockResult, facts: BlockFacts): void;
  /** Receives each protocol state the first time a block evolves into it (root excluded). */
  onState?(s: ProtocolSnapshot): void;
}

/** SPEC 6 integrity rows, from the facts the integrity stage computed. */
function checkIntegrity(f: BlockFacts, r: BlockResult): void {
  if (f.decodeError !== null) fail(r, '6.decode-error', f.decodeError);
  if (f.idMismatch !== null) fail(r, '6.id-mismatch', `the record claims id ${r.id}, recomputed ${f.idMismatch}`);
  if (f.payloadMismatch !== null) fail(r, '6.payload-mismatch', f.payloadMismatch);
}

export class Evaluator {
  private readonly fork: Fork;
  private readonly waiting = new Map<string, BlockFacts[]>();
  private readonly chainId: string;
  private readonly onState: ((s: ProtocolSnapshot) => void) | undefined;

  constructor(
    root: RootContext,
    private readonly hooks: EvaluatorHooks,
  ) {
    this.fork = new Fork(root, hooks);
    this.chainId = root.header.chainId;
    this.onState = hooks.onState?.bind(hooks);
  }

  /** Hex ids of blocks evaluated in this run, kept in incremental runs (their stored children are re-evaluated). */
  readonly evaluatedNow = new Set<string>();
  /** Set when the store holds results of an earlier run. */
  trackEvaluated = false;

  /** Feeds one block; it is evaluated now, or once its stored parent has been. */
  push(f: BlockFacts): void {
    if (f.header !== null && f.decodeError === null) {
      const parentHex = toHex(f.header.parentId);
      if (this.fork.get(parentHex) === undefined && this.hooks.isStored(f.header.parentId)) {
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
    const node = this.fork.addStored(r);
    if (node === null) return false;
    this.release(node.hex);
    return true;
  }

  /**
   * Frees what blocks far below the evaluation front hold (memory stays bounded on long
   * sporks); they are rebuilt from the store if a late block needs them. Call only when every
   * result handed to onResult is stored.
   */
  prune(window: number): void {
    this.fork.prune(window, (hex) => this.waiting.has(hex));
  }

  /** Blocks still waiting can never reach the root (SPEC 9.10). */
  finish(): void {
    const stuck = new Map<string, BlockFacts>();
    for (const list of this.waiting.values()) for (const f of list) stuck.set(toHex(f.id!), f);
    this.waiting.clear();
    for (const f of [...stuck.values()].sort((a, b) => a.record - b.record)) {
      const parent = stuck.get(toHex(f.header!.parentId));
      const r = newResult(f);
      checkIntegrity(f, r);
      if (parent?.header) checkLinkage(f.header!, parent.header, this.chainId, r);
      fail(r, '9.10.parent-cycle', 'ancestry never reaches the root (parent cycle)');
      r.retry = true;
      this.hooks.onResult(close(r), f);
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
    const r = newResult(f);
    const node: Node | null =
      r.id === null
        ? null
        : {
            hex: r.id,
            parentHex: r.parentId,
            header: f.header,
            verdict: 'ok',
            snapshot: null,
            lastSealed: 0,
          };
    this.runChecks(f, r, node);
    close(r);
    if (node) {
      node.verdict = r.verdict;
      if (r.verdict !== 'ok') node.snapshot = null;
      this.fork.add(node, f.results);
      if (this.trackEvaluated) this.evaluatedNow.add(node.hex);
    }
    r.lastSealed = node?.lastSealed ?? null;
    r.included = f.results;
    this.hooks.onResult(r, f);
    return node?.hex ?? null;
  }

  /** The stages in table order; each returns early once a stopping row failed (SPEC 9.8). */
  private runChecks(f: BlockFacts, r: BlockResult, node: Node | null): void {
    checkIntegrity(f, r);
    if (stopped(r)) return;
    const parent = this.linkage(f, r);
    if (parent === null || stopped(r)) return;
    const sealed = checkSeals(f, parent, this.fork, r);
    if (sealed === null) return;
    r.sealsPassed = true;
    node!.lastSealed = sealed.lastSealed;
    node!.snapshot = evolveBlock(parent.snapshot!, f.header!.view, sealed.events, f.protocolStateId!, r, this.onState);
  }

  /** SPEC 6 linkage rows; returns the parent, or null when it is unknown. */
  private linkage(f: BlockFacts, r: BlockResult): Node | null {
    const parent = this.fork.get(r.parentId!);
    if (parent === undefined) {
      fail(r, '6.unknown-parent', `parent ${r.parentId} is neither the root nor a stored block`);
      r.retry = true;
      return null;
    }
    if (parent.header !== null) checkLinkage(f.header!, parent.header, this.chainId, r);
    if (parent.verdict !== 'ok') fail(r, '6.descends-from-invalid', `parent verdict ${parent.verdict}`);
    return parent;
  }
}
