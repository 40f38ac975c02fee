// SPEC 6 bad-seal and 4.2: a block's seals against its fork, in sealed-height order (9.9), and
// the service events they apply.
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
}

interface SealedBlock {
  height: U64;
  hex: string;
  result: SealableResult;
}

const NOTHING_SEALED: ServiceEvent[] = [];

function badSeal(r: BlockResult, rule: CheckRuleId, reason: string): null {
  r.beacons = [];
  fail(r, rule, reason);
  return null;
}

const byHeight = (a: SealedBlock, b: SealedBlock) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0);

/**
 * Validates the block's seals and returns the events they apply, collecting the version
 * beacons among them on `r`; null after failing the block (the row stops evaluation).
 */
export function checkSeals(f: BlockFacts, parent: Node, fork: Fork, r: BlockResult): Sealed | null {
  if (f.seals.length === 0) return { events: NOTHING_SEALED, lastSealed: parent.lastSealed };
  const sealed: SealedBlock[] = [];
  for (let i = 0; i < f.seals.length; i++) {
    const s = f.seals[i];
    const result = fork.findResult(s.resultId, f, parent);
    if (result === null)
      return badSeal(r, '6.seal.result', `seal ${i}: result ${toHex(s.resultId)} is not the root result nor included in this block or an ancestor`);
    if (!bytesEqual(s.blockId, result.blockId))
      return badSeal(r, '6.seal.block-id', `seal ${i}: blockId ${toHex(s.blockId)} differs from its result's blockId ${toHex(result.blockId)}`);
    const hex = toHex(s.blockId);
    const target = fork.get(hex);
    if (target === undefined || target.header === null || !fork.isAncestor(target, parent))
      return badSeal(r, '6.seal.ancestor', `seal ${i}: sealed block ${hex} is not an ancestor of this block`);
    sealed.push({ height: target.header.height, hex, result });
  }
  sealed.sort(byHeight);
  for (let i = 1; i < sealed.length; i++) {
    if (sealed[i].hex === sealed[i - 1].hex) return badSeal(r, '6.seal.duplicate', `two seals for block ${sealed[i].hex}`);
  }
  let expect = add(parent.lastSealed, 1);
  for (const s of sealed) {
    if (s.height !== expect) {
      const heights = sealed.map((x) => x.height).join(', ');
      return badSeal(r, '6.seal.order', `sealed heights [${heights}] are not ${expect}, ${add(expect, 1)}, ...`);
    }
    expect = add(expect, 1);
  }
  return { events: appliedEvents(sealed, r), lastSealed: sealed[sealed.length - 1].height };
}

/** SPEC 4.2 `EV`, and the version beacons among it with the height of the block that emitted them. */
function appliedEvents(sealed: readonly SealedBlock[], r: BlockResult): ServiceEvent[] {
  const events: ServiceEvent[] = [];
  for (const s of sealed) {
    for (const e of s.result.events) {
      events.push(e);
      if (!e.unknown && e.type === 'version-beacon') r.beacons.push({ beacon: e.event, emittedAtHeight: s.height });
    }
  }
  return events;
}
