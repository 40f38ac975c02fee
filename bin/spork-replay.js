#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli by `npm install` (prepare) or `npm run build`.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('spork-replay: not built yet; run `npm run build` (or `npm install`) first');
    process.exit(2);
  }
  console.error(err);
  process.exit(2);
});
