// The one rule for 64-bit integers in JSON output: every --json output, the JSONL report, the
// HTTP API and the HTML report's embedded data (docs/output.md states it for users).
//
//  - A uint64 that counts chain progress (heights, views, epoch counters, beacon sequence
//    numbers, timestamps, durations, versions, indices, counts) is a JSON number, always. Flow
//    keeps these far below 2^53 (a height or view grows by one per block or round: centuries of
//    blocks per second stay below 2^53); on a non-conformant archive a value above 2^53-1 is
//    written with its exact decimal digits, still a number (readers with 64-bit integers get
//    it exactly; JavaScript's JSON.parse rounds it).
//  - A uint64 that is an amount or a limit (the execution metering parameters, a participant's
//    weight, a chunk's computation) is a decimal string, always, whatever its value: Flow sets
//    the memory limit to 2^64-1 and nothing bounds the others.
//
// The JSON form of the conformance vectors (model/codec-json.ts, SPEC 8) is a different,
// input-side contract: numbers below 2^53, strings above; readers here accept both.
import { toJson } from './codec-json.js';
import type { Kind } from './schema.js';
import type { U64 } from './types.js';

/** The uint64 fields written as decimal strings (`Record.field` of model/schema.ts); every other uint64 is a number. */
export const U64_STRING_FIELDS: ReadonlySet<string> = new Set([
  'MeteringParams.memoryLimit',
  'MeteringParams.effortWeights',
  'MeteringParams.memoryWeights',
  'Participant.initialWeight',
  'Chunk.totalComputationUsed',
]);

/** A uint64 as output JSON holds it: a decimal string for the fields above, else the value (a bigint prints as exact digits). */
export function outputU64(x: U64, field: string | null): U64 | string {
  return field !== null && U64_STRING_FIELDS.has(field) ? x.toString() : x;
}

/** The output JSON form of a model value (ids and bytes hex, uint64 by the rule above). */
export function outputJson(value: unknown, kind: Kind): any {
  return toJson(value, kind, outputU64);
}

const BIG = '\u0000big:';

/** JSON text with bigints (number-class uint64 above 2^53-1) as plain JSON numbers with exact digits. */
export function jsonText(v: unknown, indent?: number): string {
  // Fast path: no replacer (a replacer makes JSON.stringify several times slower); it throws a
  // TypeError on the first bigint, and then the replacer path writes them.
  try {
    return JSON.stringify(v, null, indent);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  let sawBig = false;
  const s = JSON.stringify(
    v,
    (_k, x) => {
      if (typeof x === 'bigint') {
        sawBig = true;
        return BIG + x.toString();
      }
      return x;
    },
    indent,
  );
  return sawBig ? s.replace(/"\\u0000big:(\d+)"/g, '$1') : s;
}
