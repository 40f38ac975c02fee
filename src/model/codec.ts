// Schema-directed codec (SPEC 7.1, 9.2): MessagePack <-> model and JSON <-> model. One import
// for the callers; the parts live by concern: codec-json.ts (JSON form), codec-decode.ts and
// codec-encode.ts (MessagePack), codec-checks.ts (SPEC 9.2 content rules), codec-gen.ts (the
// generated decoder and encoder code), codec-errors.ts (their errors).
export { DecodeError, EncodeError, JsonShapeError } from './codec-errors.js';
export { fromJson, toJson } from './codec-json.js';
export { decodeFramed, decodeRecord, describe, peekClaimedId } from './codec-decode.js';
export { encodeRecord, encodeToBytes } from './codec-encode.js';
