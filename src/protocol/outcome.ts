// What the state machines share: an event's outcome (SPEC 9.14) and the machine loop. Below
// every machine and evolve.ts, so no machine imports the module that runs it.
import type { KVStore, ServiceEvent } from '../model/types.js';
import { outcomeOf, type EventRuleId, type Outcome, type Problem } from './rules.js';

export type { Outcome };

/** One service event's fate in a block (SPEC 9.14), in the block's event order. */
export interface EventOutcome {
  type: string;
  outcome: Outcome;
  /** For humans; tests and tools use `rule`. */
  reason: string;
  rule: EventRuleId;
}

/** A machine's outcomes aligned with the block's events; `undefined` where it does not handle the type. */
export type MachineOutcomes = (EventOutcome | undefined)[];

/** The outcome is the rule's (rules.ts): a rule never gives two different outcomes. */
export function eventOutcome(type: string, rule: EventRuleId, reason: string): EventOutcome {
  return { type, outcome: outcomeOf(rule), reason, rule };
}

export function rejectedBy(type: string, p: Problem): EventOutcome {
  return eventOutcome(type, p.rule, p.reason);
}

/** One event applied to the KV store: the new store (or the input itself) and the event's outcome. */
export interface KvStep {
  kv: KVStore;
  outcome: EventOutcome;
}

/**
 * Runs a KV store machine over the block's events in order. `apply` returns null for the types
 * the machine does not handle (they get no outcome from it).
 */
export function runKvMachine(
  m: KVStore,
  ev: readonly ServiceEvent[],
  apply: (kv: KVStore, e: ServiceEvent) => KvStep | null,
): { kv: KVStore; outcomes: MachineOutcomes } {
  const outcomes: MachineOutcomes = [];
  let kv = m;
  for (let i = 0; i < ev.length; i++) {
    const r = apply(kv, ev[i]);
    if (r === null) continue;
    kv = r.kv;
    outcomes[i] = r.outcome;
  }
  return { kv, outcomes };
}
