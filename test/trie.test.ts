import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/model/bytes.js';
import { EMPTY_ROOT, fullHash, idsRoot, leafHash, shortHash, trieRoot } from '../src/model/trie.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/trie.json', import.meta.url), 'utf8'));

test('2.2 root(ids): every trie vector', () => {
  let ids = 0;
  let raw = 0;
  for (const v of vectors.vectors) {
    let root: Uint8Array;
    if (v.ids) {
      root = idsRoot(v.ids.map(fromHex));
      ids++;
    } else {
      root = trieRoot(v.entries.map(([k, val]: [string, string]) => [fromHex(k), fromHex(val)] as const));
      raw++;
    }
    assert.equal(toHex(root), v.root, v.name);
  }
  console.log(`trie.json: ${ids} id-list vectors, ${raw} raw key/value vectors passed`);
  assert.equal(ids + raw, vectors.vectors.length);
});

interface NodeVector { kind: string; value?: string; count?: number; path?: string; child?: NodeVector; left?: NodeVector; right?: NodeVector }
function nodeHash(n: NodeVector): Uint8Array {
  if (n.kind === 'leaf') return leafHash(fromHex(n.value!));
  if (n.kind === 'full') return fullHash(nodeHash(n.left!), nodeHash(n.right!));
  return shortHash(n.count!, fromHex(n.path!), nodeHash(n.child!));
}

test('2.2 node hashes: every node vector', () => {
  for (const v of vectors.nodeVectors) {
    assert.equal(toHex(nodeHash(v.node)), v.hash, v.name);
  }
  console.log(`trie.json: ${vectors.nodeVectors.length} node vectors passed`);
});

test('2.2 empty root is unkeyed BLAKE2b-256 of nothing', () => {
  assert.equal(toHex(EMPTY_ROOT), '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8');
});
