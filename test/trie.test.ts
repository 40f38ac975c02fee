import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/model/bytes.js';
import { EMPTY_ROOT, fullHash, idsRoot, leafHash, shortHash, trieRoot } from '../src/model/trie.js';
import { blake2bKeyed, blake2bKeyedReference } from '../src/model/hash.js';
import { blake2bBackend, blake2bTagJs } from '../src/model/blake2b.js';
import { randomBytes } from 'node:crypto';

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

interface NodeVector {
  kind: string;
  value?: string;
  count?: number;
  path?: string;
  child?: NodeVector;
  left?: NodeVector;
  right?: NodeVector;
}
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

test('2.2 hash backend: the one-block keyed BLAKE2b (WebAssembly and JS) equals @noble/hashes', () => {
  for (let len = 0; len <= 300; len += len < 140 ? 1 : 37) {
    const d = randomBytes(len);
    for (const tag of [0, 1, 2] as const) {
      const want = toHex(blake2bKeyedReference(tag, d));
      assert.equal(toHex(blake2bKeyed(tag, d)), want, `len ${len} tag ${tag}`);
      if (len >= 1 && len <= 128) assert.equal(toHex(blake2bTagJs(tag, d, len)), want, `js len ${len}`);
    }
  }
  console.log(`blake2b backend: ${blake2bBackend}`);
});

test('2.2 root(ids) fast path equals the general trie over (id, position) entries', () => {
  for (let n = 0; n < 40; n++) {
    const ids = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
    if (n > 4) {
      ids.push(ids[1]);
      ids[2] = Uint8Array.from(ids[3]);
      ids[2][31] ^= 1;
      ids[0] = Uint8Array.from(ids[3]);
      ids[0][9] ^= 0x10;
    }
    const entries = ids.map((id, i) => {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setUint32(4, i);
      return [id, v] as const;
    });
    assert.equal(toHex(idsRoot(ids)), toHex(trieRoot(entries)), `n=${n}`);
  }
});
