// Block references, one parser for the CLI (inspect) and the HTTP routes (/blocks/:ref):
//   a 64-hex block id; a unique id prefix of at least 8 hex characters (the HTML report's
//   16-hex short ids); a height (decimal: the finalized block there, every block there with
//   --all or /heights/:h); and the aliases `latest` (the highest stored block), `finalized`
//   (the highest block of the finalized chain) and `root` (the spork's root block).
// A string of decimal digits is a height; when no stored block has that height and it has at
// least 8 digits it is tried as an id prefix too (a short id may be all digits).
import { toHex } from '../model/bytes.js';
import type { U64 } from '../model/types.js';
import { u64, U64_MAX } from '../model/u64.js';
import type { BlockStore } from '../store/store.js';
import { QueryInputError, quote } from './errors.js';

export type BlockAlias = 'latest' | 'finalized' | 'root';

export type BlockSpec =
  | { kind: 'id'; id: string }
  | { kind: 'prefix'; prefix: string }
  /** `text`: the digits as given (tried as an id prefix when no block has that height). */
  | { kind: 'height'; height: U64; text?: string }
  | { kind: 'alias'; alias: BlockAlias };

export const ALIASES: readonly BlockAlias[] = ['latest', 'finalized', 'root'];
/** The shortest id prefix accepted. */
export const MIN_PREFIX = 8;

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX = /^[0-9a-fA-F]+$/;
const DECIMAL = /^[0-9]+$/;

/** A height: base-10 digits, at most 2^64-1. */
export function parseHeight(s: string, what = 'height'): U64 {
  if (!DECIMAL.test(s)) throw new QueryInputError(`${what} ${quote(s)} is not a whole number`);
  if (s.length > 20) throw new QueryInputError(`${what} ${quote(s)} is above 2^64-1`);
  const v = BigInt(s);
  if (v > U64_MAX) throw new QueryInputError(`${what} ${quote(s)} is above 2^64-1`);
  return u64(v);
}

/** The forms a block reference takes, for messages and help texts. */
export const BLOCK_FORMS = `a block id (64 hex), a unique id prefix (at least ${MIN_PREFIX} hex), a height, or ${ALIASES.join(', ')}`;

/** BLOCK: see the head of this file. */
export function parseBlockSpec(s: string): BlockSpec {
  const lower = s.toLowerCase();
  if ((ALIASES as readonly string[]).includes(lower)) return { kind: 'alias', alias: lower as BlockAlias };
  if (HEX64.test(s)) return { kind: 'id', id: lower };
  if (DECIMAL.test(s) && s.length <= 20) return { kind: 'height', height: parseHeight(s), text: s };
  if (HEX.test(s) && s.length < 64) {
    if (s.length < MIN_PREFIX) throw new QueryInputError(`block ${quote(s)}: an id prefix needs at least ${MIN_PREFIX} hex characters`);
    return { kind: 'prefix', prefix: lower };
  }
  throw new QueryInputError(`block ${quote(s)} is not ${BLOCK_FORMS}`);
}

/** True when the block a reference names stays the same until the next replay (answers may be cached). */
export function stableRef(spec: BlockSpec): boolean {
  return spec.kind === 'id' || spec.kind === 'height' || (spec.kind === 'alias' && spec.alias !== 'latest');
}

/** A comma-separated list; empty items are dropped (so "" is the empty list). */
export function parseList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/** How many matches of a prefix are counted before the count says "at least". */
const COUNT_LIMIT = 10000;

/** Ids of the stored blocks (and the root) that start with `prefix` (lowercase hex), at most COUNT_LIMIT. */
export function idsWithPrefix(store: BlockStore, rootId: string, prefix: string): string[] {
  const out: string[] = [];
  if (rootId.startsWith(prefix)) out.push(rootId);
  const start = Buffer.from(prefix.padEnd(64, '0'), 'hex');
  const end = Buffer.from(prefix.padEnd(64, 'f'), 'hex');
  for (const key of store.blocks.getKeys({ start, end, inclusiveEnd: true, limit: COUNT_LIMIT } as never)) {
    const hex = toHex(key as Buffer);
    if (hex !== rootId && hex.startsWith(prefix)) out.push(hex);
  }
  return out;
}

/** The one id a prefix names; an ambiguous prefix is bad input naming the count, none is null. */
export function uniquePrefix(store: BlockStore, rootId: string, prefix: string): string | null {
  const ids = idsWithPrefix(store, rootId, prefix);
  if (ids.length === 0) return null;
  if (ids.length > 1) {
    const n = ids.length >= COUNT_LIMIT ? `at least ${COUNT_LIMIT}` : String(ids.length);
    throw new QueryInputError(`block prefix ${quote(prefix)} is ambiguous: it matches ${n} blocks (give more hex characters)`);
  }
  return ids[0]!;
}

/** Order keys of records whose header does not decode start with 16 bytes 0xff (store/keys.ts). */
const HEADLESS = Buffer.alloc(16, 0xff);

/** The highest stored block in report order (height, view, id), records whose header does not decode aside. */
export function latestStored(store: BlockStore): string | null {
  for (const { value } of store.order.getRange({ start: HEADLESS, reverse: true })) {
    if (value.length === 40) return toHex(value.subarray(8));
  }
  return null;
}
