// The project carries a copy of ../shared/vectors so it tests on its own; when the shared
// folder is beside the checkout, the copy must be identical to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { vectorPath } from './helpers/vectors.js';

const ours = vectorPath('');
const shared = new URL('../../../shared/vectors/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('8: test/vectors is an identical copy of ../shared/vectors', { skip: !existsSync(shared) && 'no ../shared/vectors beside this checkout' }, () => {
  const theirs = files(shared).map((f) => relative(shared, f));
  assert.deepEqual(files(ours).map((f) => relative(ours, f)), theirs);
  for (const f of theirs) assert.ok(readFileSync(join(ours, f)).equals(readFileSync(join(shared, f))), `${f} differs`);
  console.log(`vector copy: ${theirs.length} files identical to ../shared/vectors`);
});
