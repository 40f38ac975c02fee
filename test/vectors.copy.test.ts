// The project carries copies of ../shared/vectors and ../shared/fixtures so it tests on its own;
// when the shared folder is beside the checkout, each copy must be identical to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : [p];
    });
}

for (const [what, ourDir] of [
  ['vectors', 'test/vectors'],
  ['fixtures', 'test/fixtures'],
] as const) {
  const ours = new URL(`../../${ourDir}/`, import.meta.url).pathname;
  const shared = new URL(`../../../shared/${what}/`, import.meta.url).pathname;
  test(`8: ${ourDir} is an identical copy of ../shared/${what}`, { skip: !existsSync(shared) && `no ../shared/${what} beside this checkout` }, () => {
    const theirs = files(shared).map((f) => relative(shared, f));
    assert.deepEqual(
      files(ours).map((f) => relative(ours, f)),
      theirs,
    );
    for (const f of theirs) assert.ok(readFileSync(join(ours, f)).equals(readFileSync(join(shared, f))), `${f} differs`);
    console.log(`${what} copy: ${theirs.length} files identical to ../shared/${what}`);
  });
}
