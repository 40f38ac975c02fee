// Writes docs/rules.md from the rule registry (src/protocol/rules.ts) and the SPEC 6 verdict
// table (src/replay/verdicts.ts). test/rules.doc.test.ts fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { rulesMarkdown } from '../dist/src/replay/rules-doc.js';

writeFileSync('docs/rules.md', rulesMarkdown());
console.log('wrote docs/rules.md');
