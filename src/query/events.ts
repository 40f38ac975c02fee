// The service events a stored block applied, with their bodies: SPEC 4.2 through the replay's
// own implementation (replay/seals.ts `sealedEvents`) over a fork rebuilt from the store, so
// inspect and HTTP show exactly the events the replay evaluated, however deep the sealed block.
import { outputJson } from '../model/json-u64.js';
import type { DecodedRecord } from '../model/record.js';
import * as S from '../model/schema.js';
import type { BlockResult, RootContext } from '../replay/evaluate.js';
import { blockFacts } from '../replay/facts.js';
import { Fork } from '../replay/fork.js';
import { includersOf, loadResultById, loadState } from '../replay/pipeline.js';
import { isSealFailure, sealedEvents } from '../replay/seals.js';
import type { BlockStore } from '../store/store.js';
import { DamagedStoreError } from '../util/errors.js';
import type { EventView } from './views.js';

/** A fork over the stored results: what the replay rebuilds when a block is no longer in memory. */
export function storedFork(store: BlockStore, rc: RootContext): Fork {
  return new Fork(rc, {
    loadResult: (hex) => loadResultById(store, hex),
    loadState: (hex) => loadState(store, Buffer.from(hex, 'hex')),
    loadIncluders: (hex) => includersOf(store, hex),
  });
}

/**
 * The outcomes of a block's service events (from its stored result) with each event's body.
 * The store must agree with itself: a block whose stored outcomes list events it no longer
 * applies (its parent, a sealed block or result gone) is a damaged store, said so.
 */
export function eventViews(store: BlockStore, rc: RootContext, r: BlockResult, d: DecodedRecord): EventView[] {
  const views: EventView[] = r.events.map((e, i) => ({ type: e.type, outcome: e.outcome, rule: r.eventRules?.[i] ?? null, reason: e.reason }));
  if (views.length === 0) return views;
  const damaged = (detail: string) => new DamagedStoreError(store.dir, `block ${r.id}: ${detail}`);
  if (d.header === null || d.payload === null) throw damaged(`its stored result lists ${views.length} service events but its record does not decode`);
  const fork = storedFork(store, rc);
  const parentHex = r.parentId!;
  const parent = fork.get(parentHex);
  if (parent === undefined) throw damaged(`its parent ${parentHex} has no stored result or state`);
  const applied = sealedEvents(blockFacts(r.record, d), parent, fork);
  if (isSealFailure(applied)) throw damaged(`its stored result lists ${views.length} service events but its seals fail now: ${applied.reason}`);
  const events = applied.events;
  if (events.length !== views.length || events.some((e, i) => e.type !== views[i]!.type)) {
    throw damaged(`its stored result lists the events [${views.map((v) => v.type).join(', ')}], its seals apply [${events.map((e) => e.type).join(', ')}]`);
  }
  for (let i = 0; i < views.length; i++) views[i]!.event = outputJson(events[i], S.event);
  return views;
}
