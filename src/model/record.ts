// Decoding a stored block record (import, integrity stage, queries): the whole record when it fits the
// model; otherwise the header alone when that decodes (SPEC 9.4: a line reports height, view
// and parentId whenever the header decoded).
import { decodeFramed, decodeRecord, DecodeError, peekClaimedId } from './codec.js';
import { scanValue } from './msgpack.js';
import * as S from './schema.js';
import type { BlockRecord, Header, Id, Payload } from './types.js';

/** A stored record as far as it decodes. */
export interface DecodedRecord {
  claimedId: Id | null;
  finalized: boolean;
  header: Header | null;
  payload: Payload | null;
  decodeError: string | null;
}

/** Offsets of the elements of the top-level array at `start`, or null when it is not a 4-array. */
function recordElements(buf: Uint8Array, start: number, end: number): number[] | null {
  const b = buf[start];
  if (b !== 0x94) return null;
  const offsets = [start + 1];
  for (let i = 0; i < 4; i++) {
    const next = scanValue(buf, offsets[i], end);
    if (next < 0) return null;
    offsets.push(next);
  }
  return offsets;
}

export function decodeStoredRecord(buf: Uint8Array, start = 0, end = buf.length): DecodedRecord {
  const claimedId = peekClaimedId(buf, start, end);
  try {
    const r = decodeRecord<BlockRecord>(buf, start, end, S.BlockRecord);
    return { claimedId: r.blockId, finalized: r.finalized, header: r.header, payload: r.payload, decodeError: null };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { claimedId, finalized: finalizedFlag(buf, start, end), header: headerAlone(buf, start, end), payload: null, decodeError: e.message };
  }
}

function headerAlone(buf: Uint8Array, start: number, end: number): Header | null {
  const el = recordElements(buf, start, end);
  if (el === null) return null;
  try {
    return decodeFramed<Header>(buf, el[1], el[2], S.Header);
  } catch {
    return null;
  }
}

/** The record's finalized flag when it is a plain bool, else false (a record that does not decode). */
function finalizedFlag(buf: Uint8Array, start: number, end: number): boolean {
  const el = recordElements(buf, start, end);
  return el !== null && buf[el[3]] === 0xc3;
}
