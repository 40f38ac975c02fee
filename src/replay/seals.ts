// SPEC 6 bad-seal and 4.2: a block's seals against its fork, in sealed-height order (9.9), and
// the service events they apply. `sealedEvents` is the one implementation of SPEC 4.2 ("the
// events a block applies"): the replay calls it through `checkSeals`, and the query layer
// (inspect, HTTP) calls it over a fork rebuilt from the store to show the events' bodies.
import { bytesEqual, toHex } from '../model/bytes.js';
import type { ServiceEvent, U64 } from '../model/types.js';
import { add } from '../model/u64.js';
import type { BlockFacts } from './facts.js';
import type { Fork, Node, SealableResult } from './fork.js';
import { fail, type BlockResult } from './result.js';
import type { CheckRuleId } from '../protocol/rules.js';

export interface Sealed {
  /** `EV` of SPEC 4.2: the sealed results' events, results in sealed-height order. */
  events: ServiceEvent[];
  lastSealed: U64;
  /** The sealed blocks in sealed-height order, each with the result its seal names. */
  sealed: readonly SealedBlock[];
}

export interface SealedBlock {
  height: U64;
  hex: string;
  result: SealableResult;
}

/** A seal row of SPEC 6 that failed: the block is bad-seal and applies nothing. */
export interface SealFailure {
  rule: CheckRuleId;
  reason: string;
}

const NOTHING_SEALED: ServiceEvent[] = [];
const NO_BLOCKS: readonly SealedBlock[] = [];

const byHeight = (a: SealedBlock, b: SealedBlock) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0);

const failure = (rule: CheckRuleId, reason: string): SealFailure => ({ rule, reason });

export function isSealFailure(x: Sealed | SealFailure): x is SealFailure {
  return (x as SealFailure).rule !== undefined;
}

/**
 * SPEC 4.2 with the seal rows of SPEC 6: validates the block's seals against its fork (every
 * seal's result included by the root, the block or an ancestor; its block an ancestor; no two
 * seals for one block; sealed heights continuing the parent's) and returns `EV`, or the first
 * failing rule.
 */
export function sealedEvents(f: BlockFacts, parent: Node, fork: Fork): Sealed | SealFailure {
  if (f.seals.length === 0) return { events: NOTHING_SEALED, lastSealed: parent.lastSealed, sealed: NO_BLOCKS };
  const sealed: SealedBlock[] = [];
  for (let i = 0; i < f.seals.length; i++) {
    const s = f.seals[i];
    const result = fork.findResult(s.resultId, f, parent);
    if (result === null)
      return failure('6.seal.result', `seal ${i}: result ${toHex(s.resultId)} is not the root result nor included in this block or an ancestor`);
    if (!bytesEqual(s.blockId, result.blockId))
      return failure('6.seal.block-id', `seal ${i}: blockId ${toHex(s.blockId)} differs from its result's blockId ${toHex(result.blockId)}`);
    const hex = toHex(s.blockId);
    const target = fork.get(hex);
    if (target === undefined || target.header === null || !fork.isAncestor(target, parent))
      return failure('6.seal.ancestor', `seal ${i}: sealed block ${hex} is not an ancestor of this block`);
    sealed.push({ height: target.header.height, hex, result });
  }
  sealed.sort(byHeight);
  for (let i = 1; i < sealed.length; i++) {
    if (sealed[i].hex === sealed[i - 1].hex) return failure('6.seal.duplicate', `two seals for block ${sealed[i].hex}`);
  }
  let expect = add(parent.lastSealed, 1);
  for (const s of sealed) {
    if (s.height !== expect) {
      const heights = sealed.map((x) => x.height).join(', ');
      return failure('6.seal.order', `sealed heights [${heights}] are not ${expect}, ${add(expect, 1)}, ...`);
    }
    expect = add(expect, 1);
  }
  const events: ServiceEvent[] = [];
  for (const s of sealed) for (const e of s.result.events) events.push(e);
  return { events, lastSealed: sealed[sealed.length - 1].height, sealed };
}

/**
 * Validates the block's seals and returns the events they apply, collecting the version
 * beacons among them on `r`; null after failing the block (the row stops evaluation).
 */
export function checkSeals(f: BlockFacts, parent: Node, fork: Fork, r: BlockResult): Sealed | null {
  const s = sealedEvents(f, parent, fork);
  if (isSealFailure(s)) {
    r.beacons = [];
    fail(r, s.rule, s.reason);
    return null;
  }
  collectBeacons(s.sealed, r);
  return s;
}

/** The version beacons among `EV`, with the height of the block that emitted them. */
function collectBeacons(sealed: readonly SealedBlock[], r: BlockResult): void {
  for (const s of sealed) {
    for (const e of s.result.events) {
      if (!e.unknown && e.type === 'version-beacon') r.beacons.push({ beacon: e.event, emittedAtHeight: s.height });
    }
  }
}
