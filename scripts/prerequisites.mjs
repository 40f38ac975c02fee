// `npm run prerequisites` (and .ci/run): what some tests need besides node_modules. Headless Chromium (the HTML
// report test) and the native baseline (its cross-check against the TypeScript ids). In CI
// (CI=true) a failure fails the run; elsewhere those tests are skipped instead.
import { spawnSync } from 'node:child_process';

const steps = [
  ['Chromium', 'scripts/install-chromium.sh', 'npm run browser:install (as root)'],
  ['native baseline', 'native-bench/build.sh', 'npm run native:build'],
];
for (const [what, script, fix] of steps) {
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  if (r.status === 0) continue;
  if (process.env.CI === 'true') process.exit(r.status ?? 1);
  console.error(`prerequisites: ${what} is not available; its tests will be skipped (${fix})`);
}
