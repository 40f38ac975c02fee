// Part of `npm test`: makes sure headless Chromium is there for the HTML report test. In CI
// (CI=true) a failed install fails the run; elsewhere the browser test is skipped instead.
import { spawnSync } from 'node:child_process';

const r = spawnSync('bash', ['scripts/install-chromium.sh'], { stdio: 'inherit' });
if (r.status !== 0) {
  if (process.env.CI === 'true') process.exit(r.status ?? 1);
  console.error('browser: Chromium is not installed; the HTML report test will be skipped (run npm run browser:install as root)');
}
