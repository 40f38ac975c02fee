// docs/rules.md as text: every rule id with its SPEC section, its effect and its meaning.
import { ruleRows, VERDICT_TABLE } from './verdicts.js';

export function rulesMarkdown(): string {
  const lines = [
    '# Rule ids',
    '',
    'Every check the replay makes and every outcome a service event can have carries a stable id,',
    'named after the section of the specification it implements. `inspect --json`, `inspect --invalid',
    '--json` and the HTTP block view carry them: `failed[].rules` (the rules of each failed row) and',
    '`events[].rule`; the text of `inspect` and `inspect --invalid` shows them in brackets beside the',
    'reasons, and the HTML report in its not-ok table and details panel (page data `rules`: check to ids); the',
    '`reason` texts beside them are for people and may change between versions. The JSON Lines report',
    'keeps the line format of the report contract (verdicts and reasons, no ids). An id never changes',
    'meaning: a new rule gets a new id.',
    '',
    'Generated from `src/protocol/rules.ts` by `node scripts/rules-doc.mjs`; a test fails when it is stale.',
    '',
    '## Verdict precedence',
    '',
    "A block's verdict is the first failing row of this table; a row marked *stops* ends the block's",
    'evaluation (later rows are not checked).',
    '',
    '| # | verdict | stage | stops | rules |',
    '|---|---|---|---|---|',
  ];
  VERDICT_TABLE.forEach((row, i) => {
    lines.push(`| ${i + 1} | \`${row.verdict}\` | ${row.stage} | ${row.stops ? 'yes' : 'no'} | ${row.rules.map((r) => `\`${r}\``).join(', ')} |`);
  });
  lines.push('', '## Rules', '', '| id | section | effect | meaning |', '|---|---|---|---|');
  for (const r of ruleRows()) lines.push(`| \`${r.id}\` | ${r.section} | ${r.effect} | ${r.description.replace(/\|/g, '\\|')} |`);
  lines.push('');
  return lines.join('\n');
}
