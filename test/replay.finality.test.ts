// SPEC 6 "Finality" and 9.11: each conflict kind at its boundary, and finalizedHeight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FinalityWalker } from '../src/replay/finality.js';

const R = 100;
const walk = (heights: [number, string, string][][]) => {
  const w = new FinalityWalker(R, 'r');
  const chain = heights.map((group) =>
    w.addHeight(
      group[0][0],
      group.map(([, id, parentId]) => ({ id, parentId })),
    ),
  );
  return { w, chain };
};

test('9.11 a consistent chain from the root: every height extends it, no conflict', () => {
  const { w, chain } = walk([[[101, 'a', 'r']], [[102, 'b', 'a']], [[103, 'c', 'b']]]);
  assert.deepEqual(chain, ['a', 'b', 'c']);
  assert.equal(w.finalizedHeight, 103);
  assert.deepEqual(w.conflicts, []);
});

test('9.11 gap: the chain ends below the first missing height', () => {
  const { w, chain } = walk([[[101, 'a', 'r']], [[103, 'c', 'b']]]);
  assert.deepEqual(chain, ['a', null]);
  assert.equal(w.finalizedHeight, 101);
  assert.deepEqual(w.conflicts, [{ height: 102, kind: 'gap', ids: [] }]);
});

test('9.11 two-finalized: ids sorted, the chain ends below, and stays ended', () => {
  const { w, chain } = walk([
    [[101, 'a', 'r']],
    [
      [102, 'y', 'a'],
      [102, 'x', 'a'],
    ],
    [[103, 'z', 'y']],
  ]);
  assert.deepEqual(chain, ['a', null, null]);
  assert.equal(w.finalizedHeight, 101);
  assert.deepEqual(w.conflicts, [{ height: 102, kind: 'two-finalized', ids: ['x', 'y'] }]);
});

test('9.11 parent-not-finalized: the one finalized block does not extend the one below', () => {
  const { w, chain } = walk([[[101, 'a', 'r']], [[102, 'b', 'other']], [[103, 'c', 'b']]]);
  assert.deepEqual(chain, ['a', null, null]);
  assert.equal(w.finalizedHeight, 101);
  assert.deepEqual(w.conflicts, [{ height: 102, kind: 'parent-not-finalized', ids: ['b'] }]);
});

test('9.11 at-or-below-root: finalized records at the root height or below do not break the chain', () => {
  const { w, chain } = walk([[[99, 'old', 'x']], [[100, 'dup', 'x']], [[101, 'a', 'r']]]);
  assert.deepEqual(chain, [null, null, 'a']);
  assert.equal(w.finalizedHeight, 101);
  assert.deepEqual(
    w.conflicts.map((c) => [c.height, c.kind]),
    [
      [99, 'at-or-below-root'],
      [100, 'at-or-below-root'],
    ],
  );
});

test('9.11 the first finalized height above the root must be root + 1', () => {
  const { w } = walk([[[102, 'b', 'a']]]);
  assert.equal(w.finalizedHeight, R);
  assert.deepEqual(w.conflicts, [{ height: 101, kind: 'gap', ids: [] }]);
});
