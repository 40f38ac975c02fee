// Semantic versions exactly as coreos/go-semver v0.3.0 parses and orders them (SPEC 5.3, 9.15),
// plus flow-go's normalisation of a binary's own version string.

export interface SemVer {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  /** '' when absent (an empty pre-release after `-` counts as absent). */
  readonly preRelease: string;
  /** Ignored by comparisons. */
  readonly metadata: string;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const GO_INTEGER = /^[+-]?[0-9]+$/;
const IDENTIFIERS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;

/**
 * Go's strconv.ParseInt(s, 10, 64), which is also what strconv.Atoi accepts on 64-bit
 * platforms: an optional sign, decimal digits, the int64 range. Null where Go errors.
 */
export function goParseInt64(s: string): bigint | null {
  if (!GO_INTEGER.test(s)) return null;
  const value = BigInt(s);
  return value < INT64_MIN || value > INT64_MAX ? null : value;
}

/** go-semver's splitOff: the part after the first `delim` (or ''), and what precedes it. */
function splitOff(input: string, delim: string): [rest: string, tail: string] {
  const at = input.indexOf(delim);
  return at < 0 ? [input, ''] : [input.slice(0, at), input.slice(at + 1)];
}

function validIdentifiers(s: string): boolean {
  return s === '' || IDENTIFIERS.test(s);
}

/** go-semver's NewVersion; null where it returns an error. */
export function parseSemver(s: string): SemVer | null {
  const [withoutMetadata, metadata] = splitOff(s, '+');
  const [base, preRelease] = splitOff(withoutMetadata, '-');
  const parts = splitN(base, '.', 3);
  if (parts.length !== 3) return null;
  if (!validIdentifiers(preRelease) || !validIdentifiers(metadata)) return null;
  const [major, minor, patch] = parts.map(goParseInt64);
  if (major === null || minor === null || patch === null) return null;
  return { major, minor, patch, preRelease, metadata };
}

/** Go's strings.SplitN for n > 0: at most n parts, the last one keeps further separators. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts: string[] = [];
  let rest = s;
  while (parts.length < n - 1) {
    const at = rest.indexOf(sep);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  parts.push(rest);
  return parts;
}

function sign<T extends number | bigint | string>(a: T, b: T): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** go-semver's Version.Compare: -1, 0 or 1. Metadata is ignored. */
export function compareSemver(a: SemVer, b: SemVer): -1 | 0 | 1 {
  return sign(a.major, b.major) || sign(a.minor, b.minor) || sign(a.patch, b.patch) || comparePreRelease(a.preRelease, b.preRelease);
}

function comparePreRelease(a: string, b: string): -1 | 0 | 1 {
  if (a === '' && b !== '') return 1;
  if (b === '' && a !== '') return -1;
  return compareIdentifierLists(a.split('.'), b.split('.'));
}

function compareIdentifierLists(a: readonly string[], b: readonly string[]): -1 | 0 | 1 {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) {
    const c = compareIdentifiers(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return sign(a.length, b.length);
}

/** Numeric (per Atoi) < non-numeric; numbers by value, then, when equal, as strings (`01` < `1`). */
function compareIdentifiers(a: string, b: string): -1 | 0 | 1 {
  const an = goParseInt64(a);
  const bn = goParseInt64(b);
  if (an !== null && bn === null) return -1;
  if (an === null && bn !== null) return 1;
  return (an !== null && bn !== null && sign(an, bn)) || sign(a, b);
}

/** Compares two version strings; throws when either does not parse. */
export function compareVersionStrings(a: string, b: string): -1 | 0 | 1 {
  return compareSemver(mustParse(a), mustParse(b));
}

function mustParse(s: string): SemVer {
  const v = parseSemver(s);
  if (v === null) throw new RangeError(`not a semantic version: ${JSON.stringify(s)}`);
  return v;
}

/**
 * flow-go's normalisation of a binary's own version (SPEC 5.3 last bullet): drop one leading
 * `v`; if the part before the first `-` has exactly one `.`, append `.0` to it.
 */
export function normalizeBinaryVersion(s: string): string {
  const unprefixed = s.startsWith('v') ? s.slice(1) : s;
  const dash = unprefixed.indexOf('-');
  const head = dash < 0 ? unprefixed : unprefixed.slice(0, dash);
  const tail = dash < 0 ? '' : unprefixed.slice(dash);
  return (head.split('.').length === 2 ? `${head}.0` : head) + tail;
}

/** A binary's version string, normalised, and its parse (null = does not parse). */
export function parseBinaryVersion(s: string): { normalized: string; version: SemVer | null } {
  const normalized = normalizeBinaryVersion(s);
  return { normalized, version: parseSemver(normalized) };
}
