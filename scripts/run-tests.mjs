// Node 20's `node --test` does not expand globs: list the compiled test files and pass them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// What `npm run prerequisites` provides; without it the tests that need it skip (or fail under CI=true).
function onPath(bin) {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, bin)));
}
const missing = [];
if (!process.env.CHROMIUM_BIN && !onPath('chromium') && !onPath('chromium-browser')) missing.push('headless Chromium (the HTML report browser test)');
if (!existsSync('native-bench/build/integrity')) missing.push('the native baseline (the native cross-check tests)');
for (const m of missing)
  console.error(`npm test: ${m} is missing: ${process.env.CI === 'true' ? 'those tests will fail' : 'skipping those tests'}; run npm run prerequisites`);

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = find('dist/test').filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no compiled test files under dist/test');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
