import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rulesMarkdown } from '../src/replay/rules-doc.js';
import { RULES, type CheckRuleId } from '../src/protocol/rules.js';
import { VERDICT_TABLE, verdictOf } from '../src/replay/verdicts.js';

test('docs/rules.md is the registry as generated (node scripts/rules-doc.mjs)', () => {
  assert.equal(readFileSync('docs/rules.md', 'utf8'), rulesMarkdown());
});

test('SPEC 6: every check rule belongs to exactly one verdict row', () => {
  const seen = new Map<string, number>();
  for (const row of VERDICT_TABLE) for (const r of row.rules) seen.set(r, (seen.get(r) ?? 0) + 1);
  for (const [id, rule] of Object.entries(RULES)) {
    if (rule.kind !== 'check') continue;
    assert.equal(seen.get(id), 1, id);
    assert.ok(verdictOf(id as CheckRuleId));
  }
  for (const id of seen.keys()) assert.equal(RULES[id as CheckRuleId].kind, 'check', id);
});
