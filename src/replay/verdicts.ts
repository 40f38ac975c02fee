// SPEC 6's verdict table, in table order, as data the evaluator follows: a block's verdict is
// the first failing row (`decode-error` first, `state-mismatch` last), each failed check rule
// belongs to exactly one row, and a row that `stops` ends the block's evaluation (SPEC 9.8).
import { RULES, type CheckRuleId, type RuleId } from '../protocol/rules.js';

export type Stage = 'integrity' | 'linkage' | 'seals' | 'state';

export const VERDICT_TABLE = [
  { verdict: 'decode-error', stage: 'integrity', stops: true, rules: ['6.decode-error'] },
  { verdict: 'id-mismatch', stage: 'integrity', stops: false, rules: ['6.id-mismatch'] },
  { verdict: 'payload-mismatch', stage: 'integrity', stops: false, rules: ['6.payload-mismatch'] },
  { verdict: 'unknown-parent', stage: 'linkage', stops: true, rules: ['6.unknown-parent'] },
  {
    verdict: 'bad-linkage',
    stage: 'linkage',
    stops: false,
    rules: [
      '6.linkage.chain-id',
      '6.linkage.height',
      '6.linkage.view',
      '6.linkage.parent-view',
      '6.linkage.timestamp',
      '6.linkage.tc-absent',
      '6.linkage.tc-view',
      '6.linkage.tc-newest-qc',
      '6.linkage.tc-present',
    ],
  },
  { verdict: 'descends-from-invalid', stage: 'linkage', stops: true, rules: ['6.descends-from-invalid', '9.10.parent-cycle'] },
  { verdict: 'bad-seal', stage: 'seals', stops: true, rules: ['6.seal.result', '6.seal.block-id', '6.seal.ancestor', '6.seal.duplicate', '6.seal.order'] },
  { verdict: 'unsupported-version', stage: 'state', stops: true, rules: ['4.1.incompatible-version-change', '4.1.unknown-version'] },
  { verdict: 'state-mismatch', stage: 'state', stops: false, rules: ['6.state-mismatch'] },
] as const satisfies readonly { verdict: string; stage: Stage; stops: boolean; rules: readonly CheckRuleId[] }[];

export type FailVerdict = (typeof VERDICT_TABLE)[number]['verdict'];
export type Verdict = FailVerdict | 'ok';

export const VERDICTS: readonly Verdict[] = [...VERDICT_TABLE.map((row) => row.verdict), 'ok'];

interface RowInfo {
  rank: number;
  stops: boolean;
}

const ROWS = new Map<string, RowInfo>(VERDICT_TABLE.map((row, rank) => [row.verdict, { rank, stops: row.stops }]));
const VERDICT_OF = new Map<CheckRuleId, FailVerdict>(VERDICT_TABLE.flatMap((row) => row.rules.map((rule) => [rule, row.verdict] as const)));

/** The row a check rule fails. */
export function verdictOf(rule: CheckRuleId): FailVerdict {
  return VERDICT_OF.get(rule)!;
}

/** Position in the table (the verdict precedence): lower wins. */
export function rankOf(v: FailVerdict): number {
  return ROWS.get(v)!.rank;
}

/** True when a failure of this row ends the block's evaluation (SPEC 9.8). */
export function stops(v: FailVerdict): boolean {
  return ROWS.get(v)!.stops;
}

/** One line of docs/rules.md: every rule with what it does to a block or an event. */
export interface RuleRow {
  id: RuleId;
  section: string;
  /** `verdict <v>` for a check, `outcome <o>` for an event rule. */
  effect: string;
  description: string;
}

/** Every rule in registry order (the table of docs/rules.md). */
export function ruleRows(): RuleRow[] {
  return (Object.keys(RULES) as RuleId[]).map((id) => {
    const r = RULES[id];
    const effect = r.kind === 'check' ? `verdict ${verdictOf(id as CheckRuleId)}` : `outcome ${r.outcome}`;
    return { id, section: r.section, effect, description: r.description };
  });
}
