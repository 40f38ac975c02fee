import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter, scanValue, scanInfo, SCAN_TRUNCATED, SCAN_RESERVED_C1, SCAN_LENGTH_PAST_END, utf8Length } from '../src/model/msgpack.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function written(f: (w: ByteWriter) => void): string {
  const w = new ByteWriter(16);
  f(w);
  return hex(w.toBytes());
}

test('writer: unsigned integers in the shortest unsigned form (number and bigint)', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [2 ** 32 - 1, 'ceffffffff'],
    [2 ** 32, 'cf0000000100000000'],
    [2 ** 32 + 1, 'cf0000000100000001'],
    [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
    [2n ** 53n, 'cf0020000000000000'],
    [2n ** 53n + 1n, 'cf0020000000000001'],
    [2n ** 63n, 'cf8000000000000000'],
    [2n ** 64n - 1n, 'cfffffffffffffffff'],
    [5n, '05'],
    [300n, 'cd012c'],
    [2n ** 32n - 1n, 'ceffffffff'],
  ];
  for (const [v, want] of cases)
    assert.equal(
      written((w) => w.uint(v)),
      want,
      `uint(${v})`,
    );
  assert.throws(() => written((w) => w.uint(-1)));
  assert.throws(() => written((w) => w.uint(1.5)));
  assert.throws(() => written((w) => w.uint(2 ** 53)));
  assert.throws(() => written((w) => w.uint(2n ** 64n)));
  assert.throws(() => written((w) => w.uint(-1n)));
});

test('writer: shortest str, bin, array and map headers; nil and bools', () => {
  const s = (n: number) => 'a'.repeat(n);
  assert.equal(
    written((w) => w.str('')),
    'a0',
  );
  assert.equal(written((w) => w.str(s(31))).slice(0, 2), 'bf');
  assert.equal(written((w) => w.str(s(32))).slice(0, 4), 'd920');
  assert.equal(written((w) => w.str(s(255))).slice(0, 4), 'd9ff');
  assert.equal(written((w) => w.str(s(256))).slice(0, 6), 'da0100');
  assert.equal(written((w) => w.str(s(65535))).slice(0, 6), 'daffff');
  assert.equal(written((w) => w.str(s(65536))).slice(0, 10), 'db00010000');
  // non-ASCII: header from the UTF-8 byte length
  assert.equal(
    written((w) => w.str('é')),
    'a2c3a9',
  );
  assert.equal(
    written((w) => w.str('😀')),
    'a4f09f9880',
  );
  assert.equal(written((w) => w.str('中'.repeat(11))).slice(0, 4), 'd921'); // 33 bytes
  assert.equal(
    written((w) => w.str('\ufeffx')),
    'a4efbbbf78',
  );
  assert.equal(
    written((w) => w.bin(new Uint8Array(0))),
    'c400',
  );
  assert.equal(written((w) => w.bin(new Uint8Array(255))).slice(0, 4), 'c4ff');
  assert.equal(written((w) => w.bin(new Uint8Array(256))).slice(0, 6), 'c50100');
  assert.equal(written((w) => w.bin(new Uint8Array(65536))).slice(0, 10), 'c600010000');
  assert.equal(
    written((w) => w.arrayHeader(0)),
    '90',
  );
  assert.equal(
    written((w) => w.arrayHeader(15)),
    '9f',
  );
  assert.equal(
    written((w) => w.arrayHeader(16)),
    'dc0010',
  );
  assert.equal(
    written((w) => w.arrayHeader(65536)),
    'dd00010000',
  );
  assert.equal(
    written((w) => w.mapHeader(15)),
    '8f',
  );
  assert.equal(
    written((w) => w.mapHeader(16)),
    'de0010',
  );
  assert.equal(
    written((w) => w.mapHeader(65536)),
    'df00010000',
  );
  assert.equal(
    written((w) => (w.nil(), w.bool(false), w.bool(true))),
    'c0c2c3',
  );
});

test('writer: grows from a tiny buffer and keeps earlier bytes', () => {
  const w = new ByteWriter(1);
  for (let i = 0; i < 1000; i++) w.uint(i * 1000);
  w.bin(new Uint8Array(5000).fill(7));
  const b = w.toBytes();
  let pos = 0;
  let n = 0;
  while (pos < b.length) {
    pos = scanValue(b, pos, b.length);
    assert.ok(pos > 0);
    n++;
  }
  assert.equal(n, 1001);
});

test('utf8Length matches TextEncoder (including lone surrogates)', () => {
  const enc = new TextEncoder();
  for (const s of ['', 'abc', 'é', '中文', '😀x', '\ud800', 'a\udc00b', '\ud83d', '\ufeff'])
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
});

test('scanner: finds the end of every kind of value', () => {
  const vals = [
    '00',
    '7f',
    'e0',
    'ff',
    'c0',
    'c2',
    'c3',
    'cc01',
    'cd0102',
    'ce01020304',
    'cf0102030405060708',
    'd0ff',
    'd1ffff',
    'd2ffffffff',
    'd3ffffffffffffffff',
    'ca00000000',
    'cb0000000000000000',
    'a0',
    'a3616263',
    'd903616263',
    'da0003616263',
    'db00000003616263',
    'c40101',
    'c5000101',
    'c60000000101',
    'd40101',
    'd5010102',
    'd60101020304',
    'd7010102030405060708',
    'd801' + '00'.repeat(16),
    'c70201aabb',
    'c8000201aabb',
    'c900000002' + '01aabb',
    '90',
    '9201c0',
    'dc000201c0',
    'dd0000000201c0',
    '80',
    '81a16101',
    'de0001a16101',
    'df00000001a16101',
    '92 92 01 02 81 a1 61 93 c0 c2 c3', // nested
  ];
  for (const v of vals) {
    const b = unhex(v + 'aa'); // a trailing byte that must not be consumed
    assert.equal(scanValue(b, 0, b.length), b.length - 1, v);
    // every proper prefix is incomplete (truncated or a length past the end), never a value
    for (let cut = 0; cut < b.length - 1; cut++) {
      const r = scanValue(b, 0, cut);
      assert.ok(r === SCAN_TRUNCATED || r === SCAN_LENGTH_PAST_END, `${v} cut at ${cut}: ${r}`);
      assert.ok(scanInfo.need > cut, `${v} cut at ${cut}: need ${scanInfo.need}`);
    }
  }
});

test('scanner: 0xc1 as a type byte is a framing error, inside a payload it is data', () => {
  let b = unhex('93 01 c1 02');
  assert.equal(scanValue(b, 0, b.length), SCAN_RESERVED_C1);
  assert.equal(scanInfo.at, 2);
  b = unhex('c1');
  assert.equal(scanValue(b, 0, 1), SCAN_RESERVED_C1);
  b = unhex('92 a1 c1 c4 01 c1');
  assert.equal(scanValue(b, 0, b.length), b.length);
});

test('scanner: a declared length past the end, a header cut short, need hints', () => {
  let b = unhex('92 01 c4 20 00 00'); // bin 32 with 2 bytes present
  assert.equal(scanValue(b, 0, b.length), SCAN_LENGTH_PAST_END);
  assert.equal(scanInfo.at, 2);
  assert.equal(scanInfo.itemNeed, 4 + 32);
  b = unhex('92 01 cd 01'); // uint16 cut
  assert.equal(scanValue(b, 0, b.length), SCAN_TRUNCATED);
  assert.equal(scanInfo.itemNeed, 5);
  b = unhex('dd ff ff ff ff 01'); // an array claiming 2^32-1 elements
  assert.equal(scanValue(b, 0, b.length), SCAN_TRUNCATED);
  assert.ok(scanInfo.need >= 5 + 0xffffffff);
  b = unhex('db ff ff ff ff');
  assert.equal(scanValue(b, 0, b.length), SCAN_LENGTH_PAST_END);
  assert.equal(scanInfo.itemNeed, 5 + 0xffffffff);
  // scanning from an offset
  b = unhex('ff ff 92 01 02 ff');
  assert.equal(scanValue(b, 2, b.length), 5);
});
