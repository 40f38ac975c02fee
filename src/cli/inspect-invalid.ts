// `inspect --invalid`: every invalid block of a replayed store in one command, each with its
// failed checks (rule ids beside the reasons), its committed and computed states and the state
// diff from its parent's state. The list is bounded (`--limit`); the total is always given.
import { storedResults } from '../replay/pipeline.js';
import type { BlockResult } from '../replay/result.js';
import { jsonText, type BlockInspection, type FailedCheck, type StoreQuery } from '../query/query.js';
import { failedChecks } from '../query/views.js';
import type { BlockStore } from '../store/store.js';

export const DEFAULT_INVALID_LIMIT = 20;

/** One invalid block as `inspect --invalid` lists it. */
export interface InvalidBlock {
  id: string | null;
  record: number;
  height: unknown;
  view: unknown;
  verdict: string;
  failed: FailedCheck[];
  committedStateId: string | null;
  computedStateId: string | null;
  /** False when the committed state id is no state the replay computed (the diff is parent → computed). */
  committedStateComputed: boolean | null;
  stateDiff: BlockInspection['stateDiff'];
  /** The payload hash the header states (beside a payload-mismatch's recomputed one); null when unknown. */
  headerPayloadHash: string | null;
}

export interface InvalidList {
  /** Invalid blocks in the store (every verdict but ok). */
  invalid: number;
  /** How many are listed (at most `limit`, in report order). */
  shown: number;
  limit: number;
  blocks: InvalidBlock[];
}

export function listInvalid(store: BlockStore, q: StoreQuery, limit: number): InvalidList {
  const bad: BlockResult[] = [];
  let invalid = 0;
  for (const r of storedResults(store)) {
    if (r.verdict === 'ok') continue;
    invalid++;
    if (bad.length < limit) bad.push(r);
  }
  const blocks = bad.map((r): InvalidBlock => {
    const x = r.id === null ? null : q.inspect(r.id);
    const committed = x?.committedStateId ?? r.committedStateId ?? null;
    return {
      id: r.id,
      record: r.record,
      height: x?.height ?? r.height,
      view: x?.view ?? r.view,
      verdict: r.verdict,
      failed: x?.failed ?? failedChecks(r),
      committedStateId: committed,
      computedStateId: r.computedStateId,
      committedStateComputed: x?.committedStateComputed ?? (committed === null ? null : q.isComputedState(committed)),
      stateDiff: x?.stateDiff ?? [],
      headerPayloadHash: headerString(x, 'payloadHash'),
    };
  });
  return { invalid, shown: blocks.length, limit, blocks };
}

function headerString(x: BlockInspection | null, k: string): string | null {
  const v = (x?.header as Record<string, unknown> | null | undefined)?.[k];
  return typeof v === 'string' ? v : null;
}

export function formatInvalid(l: InvalidList): string {
  const out: string[] = [];
  out.push(
    l.invalid === 0
      ? 'no invalid blocks'
      : `${l.invalid} invalid block${l.invalid === 1 ? '' : 's'}${l.shown < l.invalid ? ` (the first ${l.shown} in report order; --limit N for more)` : ''}`,
  );
  for (const b of l.blocks) {
    out.push('');
    out.push(`block ${b.id ?? '(no usable id)'} record ${b.record}: height ${b.height ?? '?'}, view ${b.view ?? '?'}: ${b.verdict}`);
    for (const f of b.failed) {
      out.push(`  failed ${f.check} [${f.rules.join(', ')}]: ${f.reason}`);
      if (f.check === 'payload-mismatch' && b.headerPayloadHash !== null) out.push(`    the header says payload hash ${b.headerPayloadHash}`);
    }
    if (b.committedStateId !== null && b.computedStateId !== null && b.committedStateId !== b.computedStateId) {
      out.push(`  committed state ${b.committedStateId}${b.committedStateComputed === false ? ' (no state the replay computed)' : ''}`);
      out.push(`  computed state  ${b.computedStateId}`);
    }
    if (b.computedStateId === null) out.push('  state change: not evaluated (the block applies nothing)');
    else if (b.stateDiff.length === 0) out.push("  state change: none (the computed state is the parent's)");
    else {
      out.push(`  state change from the parent's state to the computed one (${b.stateDiff.length} field${b.stateDiff.length === 1 ? '' : 's'})`);
      for (const d of b.stateDiff) out.push(`    ${d.text}`);
    }
  }
  return out.join('\n') + '\n';
}

export function invalidText(l: InvalidList, json: boolean): string {
  return json ? jsonText(l, 2) + '\n' : formatInvalid(l);
}
