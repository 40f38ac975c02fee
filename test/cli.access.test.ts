// import-root and fetch at the command line: the flow-go fixture (ACCESS.md 7.4) and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const fixture = (name: string) => new URL(`../../test/fixtures/${name}`, import.meta.url).pathname;

test("ACCESS 7.4: import-root refuses flow-go's fixture on root check 4 naming both result ids, exit 2; the -sec0 variant is accepted, exit 0", () => {
  const t = tempDir();
  try {
    let r = cli(['import-root', fixture('flow-go/snapshot-fixture1.json'), '--db', join(t.dir, 'a')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /root snapshot refused: check 4: rootSeal\.resultId 77da394347683bc3c80a2abde5f1a3c405d8f6d1ba66b5fa301aade4fc6c0b95 != ID\(rootResult\) b8da2633323ff263cc0bcf3c4224fc29054bc1226d86ac3c3ae4a7c6ca90d6e0/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    r = cli(['import-root', fixture('flow-go/snapshot-fixture1-sec0.json'), '--db', join(t.dir, 'b'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.rootId, '4bb784dbbb4428d1e21482f2cb14f4d3c0262b29976317f3c90a68e5c1e25013');
    assert.equal(info.protocolStateId, '873d2f32be044056768e94962f8a2ec07f60f40ae22d4396b3baf29ddffae820');
    assert.equal(info.kvStoreVersion, 1);
    // the root-only store replays: 0 blocks, exit 0, version map 0..0 at protocol version 1
    r = cli(['replay', '--db', join(t.dir, 'b'), '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.blocks, 0);
    assert.deepEqual(
      s.versionMap.map((v: any) => [v.fromHeight, v.toHeight, v.protocolStateVersion]),
      [[0, 0, 1]],
    );
    // a second, different root into the same store is refused
    r = cli(['import-root', fixture('access/root-snapshot.json'), '--db', join(t.dir, 'b')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the store holds another root/);
    // the shape-C fixture (KV v2) is a valid root too
    r = cli(['import-root', fixture('access/root-snapshot.json'), '--db', join(t.dir, 'c')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /KV store v2/);
  } finally {
    t.cleanup();
  }
});

test('fetch and import-root: usage errors are one line, exit 2', () => {
  const t = tempDir();
  try {
    const cases: [string[], RegExp][] = [
      [['fetch', '--access', 'nohostport', '--db', join(t.dir, 'x')], /expected HOST:PORT/],
      [['fetch', '--access', '127.0.0.1:1', '--db', join(t.dir, 'x'), '--to', '5', '--follow'], /--to and --follow exclude each other/],
      [['fetch', '--access', '127.0.0.1:1', '--db', join(t.dir, 'x'), '--tls', '--insecure'], /--tls and --insecure exclude each other/],
      [['fetch', '--access', '127.0.0.1:1', '--db', join(t.dir, 'x'), '--concurrency', '0'], /expected a whole number >= 1/],
      [['fetch', '--access', '127.0.0.1:1', '--db', join(t.dir, 'x'), '--root-snapshot', join(t.dir, 'missing.json')], /missing\.json: no such file/],
      [['fetch', '--access', '127.0.0.1:1', '--db', fixture('access/index.json')], /is a file, not a store directory/],
      [['import-root', t.dir, '--db', join(t.dir, 'y')], /is a directory, not a root snapshot JSON file/],
      [['import-root', fixture('access/index.json'), '--db', join(t.dir, 'y')], /root snapshot refused: \$\.SealingSegment: /],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  } finally {
    t.cleanup();
  }
});
