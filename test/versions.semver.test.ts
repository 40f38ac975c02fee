import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  compareSemver,
  compareVersionStrings,
  goParseInt64,
  normalizeBinaryVersion,
  parseBinaryVersion,
  parseSemver,
} from '../src/protocol/versions/semver.js';

interface SemverVectors {
  compare: [string, string, number][];
  invalid: string[];
  binary: [string, string | null][];
}

const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/semver.json', import.meta.url), 'utf8')) as SemverVectors;

function parsed(s: string) {
  const v = parseSemver(s);
  assert.ok(v, `${JSON.stringify(s)} should parse`);
  return v;
}

test('8 semver vectors: every compare, invalid and binary entry', () => {
  for (const [a, b, expected] of vectors.compare) {
    assert.equal(compareSemver(parsed(a), parsed(b)), expected, `compare(${a}, ${b})`);
    assert.equal(compareSemver(parsed(b), parsed(a)), -expected || 0, `compare(${b}, ${a})`);
  }
  for (const s of vectors.invalid) assert.equal(parseSemver(s), null, `${JSON.stringify(s)} must not parse`);
  for (const [input, expected] of vectors.binary) {
    const { normalized, version } = parseBinaryVersion(input);
    if (expected === null) assert.equal(version, null, `${input} -> ${normalized} must not parse`);
    else {
      assert.equal(normalized, expected, `normalize(${input})`);
      assert.ok(version, `${normalized} parses`);
    }
  }
  console.log(`semver vectors: ${vectors.compare.length} compare, ${vectors.invalid.length} invalid, ${vectors.binary.length} binary`);
});

test('5.3 parse: three base-10 int64 parts, leading zeros accepted', () => {
  assert.deepEqual(parseSemver('01.002.0003'), { major: 1n, minor: 2n, patch: 3n, preRelease: '', metadata: '' });
  assert.equal(parsed('9223372036854775807.9223372036854775807.9223372036854775807').patch, (1n << 63n) - 1n);
  for (const s of ['9223372036854775808.0.0', '0.9223372036854775808.0', '0.0.9223372036854775808', '0.0.99999999999999999999']) {
    assert.equal(parseSemver(s), null, s);
  }
  for (const s of ['1.2', '1.2.3.4', 'v1.2.3', '1.2.x', '1..2', '1.2.3.', '', '.', '..', '1.2.+3', '1.2.0b1']) {
    assert.equal(parseSemver(s), null, s);
  }
});

test('5.3 parse: split at the first + (metadata), then at the first - (pre-release)', () => {
  assert.deepEqual(parseSemver('1.2.3-a-b+c-d'), { major: 1n, minor: 2n, patch: 3n, preRelease: 'a-b', metadata: 'c-d' });
  assert.deepEqual(parseSemver('1.2.3+m-1'), { major: 1n, minor: 2n, patch: 3n, preRelease: '', metadata: 'm-1' });
  assert.equal(parseSemver('1.2.3+a+b'), null);
  assert.equal(parseSemver('1.2.3-rc.01.-1')?.preRelease, 'rc.01.-1');
  assert.equal(parseSemver('1.2.3-rc..1'), null);
  assert.equal(parseSemver('1.2.3-rc.'), null);
  assert.equal(parseSemver('1.2.3-rc_1'), null);
});

test('9.15 an empty pre-release or metadata parses and counts as absent', () => {
  assert.deepEqual(parseSemver('1.2.3-'), parseSemver('1.2.3'));
  assert.deepEqual(parseSemver('1.2.3+'), parseSemver('1.2.3'));
  assert.deepEqual(parseSemver('1.2.3-+'), parseSemver('1.2.3'));
  assert.equal(compareVersionStrings('1.2.3-', '1.2.3'), 0);
  assert.equal(compareVersionStrings('1.2.3-', '1.2.3-0'), 1);
});

test('9.15 numeric identifiers per Go strconv.Atoi: optional sign, int64 range', () => {
  assert.equal(goParseInt64('-1'), -1n);
  assert.equal(goParseInt64('+1'), 1n);
  assert.equal(goParseInt64('007'), 7n);
  assert.equal(goParseInt64('-9223372036854775808'), -(1n << 63n));
  assert.equal(goParseInt64('9223372036854775807'), (1n << 63n) - 1n);
  for (const s of ['', '-', '+', '9223372036854775808', '-9223372036854775809', '1_0', '0x1', ' 1', '1a', '--1', '+-1']) {
    assert.equal(goParseInt64(s), null, JSON.stringify(s));
  }
  // numeric < non-numeric, so an overflowing identifier sorts above every int64 one
  assert.equal(compareVersionStrings('1.0.0-9223372036854775808', '1.0.0-9223372036854775807'), 1);
  assert.equal(compareVersionStrings('1.0.0-9223372036854775808', '1.0.0-a'), -1);
  assert.equal(compareVersionStrings('1.0.0--1', '1.0.0-0'), -1);
  assert.equal(compareVersionStrings('1.0.0-+1', '1.0.0'), 0);
});

test('5.3 order: equal numbers then compare as strings, prefix lists are smaller', () => {
  assert.equal(compareVersionStrings('1.0.0-01', '1.0.0-1'), -1);
  assert.equal(compareVersionStrings('1.0.0-+1', '1.0.0-1'), 1);
  assert.equal(compareVersionStrings('1.0.0-a.1', '1.0.0-a.1.0'), -1);
  assert.equal(compareVersionStrings('1.0.0-rc.1+x', '1.0.0-rc.1+y'), 0);
  assert.equal(compareVersionStrings('0.38.1-rc.1', '0.38.1'), -1);
  assert.equal(compareVersionStrings('0.38.1-rc.2', '0.38.1-rc.10'), -1);
  assert.throws(() => compareVersionStrings('1.0', '1.0.0'), RangeError);
});

test('5.3 binary normalisation: one leading v, .0 appended to a two-part base', () => {
  assert.equal(normalizeBinaryVersion('v1.0-rc1'), '1.0.0-rc1');
  assert.equal(normalizeBinaryVersion('v1.0+meta'), '1.0+meta.0');
  assert.equal(normalizeBinaryVersion('1.0-rc-1'), '1.0.0-rc-1');
  assert.equal(normalizeBinaryVersion('vv1.2'), 'v1.2.0');
  assert.equal(normalizeBinaryVersion('1.2.3'), '1.2.3');
  assert.equal(normalizeBinaryVersion('1'), '1');
  assert.equal(normalizeBinaryVersion(''), '');
  assert.equal(parseBinaryVersion('v0.38').version?.minor, 38n);
});
